"""The resources package: paths, icons, themes, the template and the examples' static shape (no torch needed)."""

from __future__ import annotations

import ast
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import resources
from resources import (
    DEFAULT_EXAMPLE,
    ICON_SIZES,
    example_config_path,
    example_paths,
    icon_path,
    new_project_template,
    resource_path,
    theme_path,
    theme_stylesheet,
)

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_EXAMPLES = ["mlp_classifier.py", "autoencoder.py", "lstm_tbptt.py", "gan.py", "cnn_images.py",
                     "datamodule_example.py"]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", data[16:24])


def test_resource_root_is_the_package_folder():
    assert resource_path() == ROOT / "resources"
    assert resource_path("icons", "app.svg").is_file()


def test_importing_resources_pulls_in_no_torch_or_qt():
    code = ("import sys, resources; resources.example_paths(); resources.theme_stylesheet('dark'); "
            "bad = [m for m in ('torch', 'trainer_core', 'PySide6') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_example_paths_lists_every_example_simplest_first():
    names = [p.name for p in example_paths()]
    assert names == EXPECTED_EXAMPLES
    assert names[0] == DEFAULT_EXAMPLE
    assert all(p.is_absolute() and p.is_file() for p in example_paths())


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_icons_exist_in_every_size(size):
    assert png_size(icon_path(size)) == (size, size)


def test_icon_sizes_match_the_render_script():
    source = (ROOT / "packaging" / "render_icons.py").read_text()
    match = re.search(r"^SIZES = \(([^)]*)\)", source, re.MULTILINE)
    assert match is not None
    assert tuple(int(v) for v in match.group(1).split(",") if v.strip()) == ICON_SIZES


def test_icon_path_rejects_a_size_that_is_not_bundled():
    with pytest.raises(ValueError, match="No 20px icon is bundled; available sizes are 16, 24"):
        icon_path(20)
    assert icon_path() == resource_path("icons", "app.svg")


def test_icon_svg_renders(tmp_path, qapp):
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import render_icons
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    written = render_icons.render(icon_path(), tmp_path, sizes=(32,))
    assert [p.name for p in written] == ["app-32.png"]
    assert png_size(written[0]) == (32, 32)


def test_themes_share_one_structure():
    light = theme_path("light").read_text()
    dark = theme_path("dark").read_text()

    def shape(text: str) -> list[str]:
        text = text.split("*/", 1)[1]  # the header comment names the theme and its palette
        text = re.sub(r"#[0-9a-fA-F]{6}", "#COLOR", text)
        text = re.sub(r"-(light|dark)\.svg", "-THEME.svg", text)
        return text.splitlines()

    assert shape(light) == shape(dark)
    assert light != dark


@pytest.mark.parametrize("name", ["light", "dark"])
def test_theme_images_resolve_to_existing_files(name):
    sheet = theme_stylesheet(name)
    assert "@THEMES@" not in sheet
    urls = re.findall(r"url\(([^)]+)\)", sheet)
    assert urls, "the themes use images for arrows and check marks"
    for url in urls:
        assert Path(url).is_file(), url


def test_theme_path_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown theme 'blue'; use 'light' or 'dark'"):
        theme_path("blue")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["light", "dark"])
def test_theme_applies_without_qt_parse_warnings(name, qapp):
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QCheckBox, QComboBox, QPushButton, QSpinBox, QVBoxLayout, QWidget

    messages: list[str] = []
    previous = qInstallMessageHandler(lambda _kind, _context, text: messages.append(text))
    w = QWidget()
    try:
        w.setStyleSheet(theme_stylesheet(name))
        layout = QVBoxLayout(w)
        for widget in (QPushButton("Fit"), QComboBox(), QCheckBox("x"), QSpinBox()):
            layout.addWidget(widget)
        w.show()
        w.grab()  # polish + paint: Qt parses the sheet and loads its images here
    finally:
        w.close()
        w.deleteLater()
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "style" in m.lower() or "image" in m.lower()], messages


def test_new_project_template_is_valid_python_with_the_chosen_class_name():
    text = new_project_template("DigitNet")
    tree = ast.parse(text)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes == ["DigitNet"]
    assert "MyModel" not in text
    assert "save_hyperparameters" in text and "example_input_array" in text


def test_new_project_template_rejects_a_bad_class_name():
    with pytest.raises(ValueError, match="'2fast' cannot be a Python class name"):
        new_project_template("2fast")


def _class_defs(path: Path) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef)}


def _source_of(path: Path) -> str:
    return path.read_text()


@pytest.mark.parametrize("name", EXPECTED_EXAMPLES)
def test_example_uses_the_features_it_should_demonstrate(name):
    path = resource_path("examples", name)
    source = _source_of(path)
    tree = ast.parse(source)  # a syntax error fails here
    assert ast.get_docstring(tree), "each example starts with a docstring that explains it"
    assert "import trainer_core as pl" in source
    for needed in ("save_hyperparameters()", "prog_bar=True", "example_input_array", "batch_size", "lr"):
        assert needed in source, f"{name} does not use {needed}"
    modules = [c for c in _class_defs(path).values()
               if any(getattr(b, "attr", None) == "LightningModule" for b in c.bases)]
    assert modules, f"{name} defines no LightningModule"
    assert len(path.read_text().splitlines()) < 220, "examples stay short"


def test_special_examples_follow_the_1x_contracts():
    lstm = _source_of(resource_path("examples", "lstm_tbptt.py"))
    assert "self.truncated_bptt_steps =" in lstm
    assert "def training_step(self, batch, batch_idx, hiddens):" in lstm
    assert re.search(r'return \{"loss": loss, "hiddens": hiddens\}', lstm)
    gan = _source_of(resource_path("examples", "gan.py"))
    assert "def training_step(self, batch, batch_idx, optimizer_idx):" in gan
    assert "return [opt_g, opt_d], []" in gan
    dm = _class_defs(resource_path("examples", "datamodule_example.py"))
    assert any(getattr(b, "attr", None) == "LightningDataModule" for b in dm["CurveDataModule"].bases)


@pytest.mark.parametrize("name", EXPECTED_EXAMPLES)
def test_example_config_has_the_api_shape_and_points_at_its_script(name):
    config_path = example_config_path(name)
    assert config_path is not None, f"{name} has no recommended-flags YAML"
    config = yaml.safe_load(config_path.read_text())
    assert set(config) <= {"trainer", "model", "data", "seed_everything", "tune"}
    assert config["trainer"]["max_epochs"] >= 1
    assert (config_path.parent / config["model"]["script"]).resolve() == resource_path("examples", name)
    init_args = config["model"].get("init_args", {})
    signature_args = set()
    for cls in _class_defs(resource_path("examples", name)).values():
        for fn in cls.body:
            if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                signature_args |= {a.arg for a in fn.args.args}
    assert set(init_args) <= signature_args, f"{name}.yaml sets arguments the model does not take"


def test_examples_together_exercise_tuner_early_stopping_checkpoints_grad_norms_and_profiler():
    texts = "\n".join(p.read_text() for p in resource_path("examples").glob("*.*") if p.suffix in (".py", ".yaml"))
    for feature in ("lr_find: true", "scale_batch_size: true", "EarlyStopping", "ModelCheckpoint", "track_grad_norm",
                    "profiler: simple", "profiler: advanced", "LightningDataModule", "val_check_interval"):
        assert feature in texts, feature


def test_tabular_dataset_regenerates_byte_for_byte(tmp_path):
    sys.path.insert(0, str(resource_path("examples", "data")))
    try:
        import make_machine_health
    finally:
        sys.path.remove(str(resource_path("examples", "data")))
    out = tmp_path / "machine_health.csv"
    make_machine_health.write(out)
    assert out.read_bytes() == resource_path("examples", "data", "machine_health.csv").read_bytes()
    rows = out.read_text().splitlines()
    assert rows[0] == "temperature,pressure,vibration,load,current,rpm,state"
    assert len(rows) == 601
    assert {r.rsplit(",", 1)[1] for r in rows[1:]} == {"0", "1", "2"}


def test_engine_source_dir_is_none_outside_a_bundle():
    assert resources.engine_source_dir() is None
