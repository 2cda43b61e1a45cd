"""File handling of the main window: drag and drop, recent files, New project, settings isolation."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.qt import window_files


def drop(window, path):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropping_a_script_opens_it_and_remembers_it(make_window, scripts):
    window = make_window()
    drop(window, scripts / "tiny_model.py")
    assert window.project.script_info.path == str(scripts / "tiny_model.py")
    assert window.project.class_combo.currentText() == "TinyModel"
    assert "step_sleep" in window.model_form.rows
    assert window.settings.recent_files()[0] == str(scripts / "tiny_model.py")


def test_dropping_a_data_file_selects_it_as_data(make_window, tmp_path):
    window = make_window()
    data = tmp_path / "d.csv"
    data.write_text("a,b,target\n1,2,0\n")
    drop(window, data)
    assert window.project.data_file.isChecked() and window.project.data_path.text() == str(data)


def test_dropping_an_unknown_file_explains_what_is_accepted(make_window, tmp_path):
    window = make_window()
    other = tmp_path / "notes.txt"
    other.write_text("x")
    drop(window, other)
    assert "drop a .py script" in window.problems.text()


def test_a_script_with_a_syntax_error_is_reported_before_running(make_window, tmp_path):
    window = make_window()
    bad = tmp_path / "bad.py"
    bad.write_text("import trainer_core as pl\nclass M(pl.LightningModule)\n    pass\n")
    assert window.open_script(str(bad)) is False
    assert "bad.py, line 2: syntax error" in window.problems.text()
    assert window.launch("fit") is False


def test_new_project_action_follows_the_template(make_window):
    window = make_window()
    available, why = window_files.new_project_available()
    assert window.new_project_action.isEnabled() == available
    assert window.new_project_action.toolTip() == why


def test_settings_are_isolated_per_test(make_window, studio_env):
    window = make_window()
    assert str(window.settings.runs_dir()).startswith(str(studio_env))


def test_the_menus_module_does_not_import_the_window_module_even_for_annotations():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(window_files))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "studio.qt.main_window" not in imported


def test_seed_and_tune_sections_of_a_config_are_kept_used_and_saved(make_window, tmp_path, monkeypatch):
    import yaml

    window = make_window()  # the bundled example: its YAML has seed_everything: 0 and a tune: section
    assert window.project.seed.text() == "0"
    assert "init_val 16" in window.project.tune_note.text()
    config, problems = window.current_config()
    assert problems == [] and config.seed == 0
    assert config.tune["scale_batch_size_kwargs"] == {"mode": "power", "init_val": 16, "max_trials": 3}
    saved = tmp_path / "saved.yaml"
    config.save(saved)
    raw = yaml.safe_load(saved.read_text())
    assert raw["seed_everything"] == 0 and raw["tune"]["lr_find_kwargs"] == {"num_training": 60}

    sent = {}
    monkeypatch.setattr(window.session, "launch", lambda config, mode, runs_dir, overrides=None: sent.update(
        spec=config.to_spec(mode) | (overrides or {})))
    window.launch("tune", overrides={"tune": {"lr_find": False, "scale_batch_size": True}})
    assert sent["spec"]["seed"] == 0
    assert sent["spec"]["tune"] == {"scale_batch_size": True, "lr_find": False, "lr_find_kwargs": {"num_training": 60},
                                    "scale_batch_size_kwargs": {"mode": "power", "init_val": 16, "max_trials": 3}}
