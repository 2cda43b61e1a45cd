"""Writing a tuner's result into the forms: the LR finder's learning rate into the model arguments, the batch-size
finder's size into the data settings and any ``batch_size`` argument.

The tuner views only emit the value; the main window calls these functions, so the rule for which field takes a
value lives in one place next to the forms.
"""

from __future__ import annotations

import os

from studio.qt.model_form import ArgsForm
from studio.qt.project_panel import ProjectPanel

__all__ = ["LR_ARGUMENT_NAMES", "apply_lr", "apply_batch_size", "other_script_note"]

LR_ARGUMENT_NAMES = ("lr", "learning_rate", "learningrate", "base_lr")
"""Constructor arguments taken to be the learning rate, in order of preference."""


def apply_lr(model_form: ArgsForm, lr: float) -> tuple[bool, str]:
    """Write ``lr`` (3 significant digits) into the model's learning-rate argument.

    Returns:
        (whether a field took it, one sentence saying what happened or what to do instead).
    """
    name = model_form.set_first_of(LR_ARGUMENT_NAMES, float(f"{lr:.3g}"))
    if name is not None:
        return True, f"Set the model argument {name} = {lr:.3g}; the next Fit uses it."
    return False, (f"The model's constructor has no lr or learning_rate argument, so {lr:.3g} was not applied. "
                   "Add an `lr` argument (stored with save_hyperparameters) and use it in configure_optimizers.")


def apply_batch_size(project: ProjectPanel, model_form: ArgsForm, size: int) -> tuple[str, str]:
    """Write ``size`` into the batch sizes the run's data source reads: the data file's batch size, the
    DataModule's ``batch_size`` argument, the model's ``batch_size`` argument.

    Only those of the chosen data source are named: "Set the data file's batch size" while the model's own
    dataloaders were in use read as if the next Fit would use it.

    Returns:
        (the form that took it: "model", "project" or "" for none, one sentence saying what was set or what to do).
    """
    size = int(size)
    project.batch_size.setValue(size)  # kept for when a data file is chosen later
    done, form = [], ""
    if project.data_file.isChecked():
        done.append("the data file's batch size")
        form = "project"
    if project.data_module.isChecked() and project.dm_args.set_first_of(("batch_size",), size) is not None:
        done.append("the DataModule argument batch_size")
        form = form or "project"
    if model_form.set_first_of(("batch_size",), size) is not None:
        done.append("the model argument batch_size")
        form = "model" if not form else form
    if not done:
        return "", (f"Nothing the next Fit reads takes a batch size, so {size} was not applied: give the model (or "
                    "DataModule) a batch_size argument that its dataloaders use, or choose a data file.")
    return form, f"Set {' and '.join(done)} to {size}; the next Fit uses it."


def other_script_note(run_script: str | None, open_script: str | None) -> str:
    """A warning to append when the tuned run was of another script than the one the forms hold, else "".

    A tune run reopened from the Runs tab keeps the open project: its value went into another model's form.
    """
    if not run_script or not open_script or os.path.abspath(run_script) == os.path.abspath(open_script):
        return ""
    return (f" Note: the finder ran on {os.path.basename(run_script)}, but the forms hold "
            f"{os.path.basename(open_script)}; open {os.path.basename(run_script)} first if it was meant for it.")
