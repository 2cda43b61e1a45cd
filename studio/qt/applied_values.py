"""Writing a tuner's result into the forms: the LR finder's learning rate into the model arguments, the batch-size
finder's size into the data settings and any ``batch_size`` argument.

The tuner views only emit the value; the main window calls these functions, so the rule for which field takes a
value lives in one place next to the forms.
"""

from __future__ import annotations

from studio.qt.model_form import ArgsForm
from studio.qt.project_panel import ProjectPanel

__all__ = ["LR_ARGUMENT_NAMES", "apply_lr", "apply_batch_size"]

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


def apply_batch_size(project: ProjectPanel, model_form: ArgsForm, size: int) -> str:
    """Write ``size`` into the data file's batch size and every ``batch_size`` argument of the model and DataModule.

    Returns:
        One sentence saying what was set.
    """
    project.batch_size.setValue(int(size))
    done = ["the data file's batch size"]
    for label, form in (("the model argument", model_form), ("the DataModule argument", project.dm_args)):
        if form.set_first_of(("batch_size",), int(size)) is not None:
            done.append(f"{label} batch_size")
    return f"Set {' and '.join(done)} to {size}."
