"""Opening another script starts a fresh project; modes the model cannot run are not offered (issue 17, bug 13)."""

from __future__ import annotations

from pathlib import Path

FIT_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_fit"


def test_another_script_does_not_inherit_the_previous_projects_settings(make_window, scripts, tmp_path):
    window = make_window()  # the bundled example and its YAML: max_epochs 40, seed 0, a tune: section
    window.project.set_checkpoint(str(tmp_path / "old.ckpt"), resume=True)
    window.session.open_run(FIT_RUN)
    assert window.trainer_form.values()[0]["max_epochs"] == 40 and window.project.seed.text() == "0"
    assert window.open_script(str(scripts / "tiny_model.py"))
    flags, problems = window.trainer_form.values()
    assert problems == [] and "max_epochs" not in flags  # back to the defaults
    config, _ = window.current_config()
    assert config.seed is None and config.tune == {} and config.ckpt_path is None
    assert not window.project.resume_fit.isChecked()
    assert window.session.model.metrics.names() == [] and window.session.model.log_dir is None  # no stale plots


def test_test_is_not_offered_for_a_model_without_test_step(make_window, scripts, tmp_path):
    window = make_window(str(scripts / "tiny_model.py"))  # no test_step
    assert not window.mode_actions["test"].isEnabled()
    assert "defines no test_step" in window.mode_actions["test"].toolTip()
    assert window.launch("test") is False and "defines no test_step" in window.problems.text()
    with_test = tmp_path / "with_test.py"
    with_test.write_text((scripts / "tiny_model.py").read_text().replace(
        "    def configure_optimizers(self):",
        "    def test_step(self, batch, batch_idx):\n        return None\n\n    def configure_optimizers(self):"))
    assert window.open_script(str(with_test))
    assert window.mode_actions["test"].isEnabled()
    assert window.mode_actions["validate"].isEnabled()
