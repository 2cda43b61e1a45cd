"""Importing user scripts by path and picking their classes (no engine needed: a stand-in base class)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loading import ScriptError, import_script, list_classes, pick_class, split_class_ref


class Base:
    """Stands in for LightningModule; the loader only needs a base class."""


@pytest.fixture(autouse=True)
def expose_base(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scripts import the stand-in base from this test module.
    monkeypatch.setitem(sys.modules, "fake_pl", sys.modules[__name__])


def write(tmp_path: Path, text: str, name: str = "model.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_split_class_ref() -> None:
    assert split_class_ref("a/b.py:Net") == ("a/b.py", "Net")
    assert split_class_ref("a/b.py") == ("a/b.py", None)
    assert split_class_ref(r"C:\x\b.py") == (r"C:\x\b.py", None)
    assert split_class_ref("data.csv") == ("data.csv", None)


def test_import_gives_unique_modules_and_skips_main(tmp_path: Path) -> None:
    one = write(tmp_path, "VALUE = 1\nif __name__ == '__main__':\n    raise SystemExit('ran main')\n")
    (tmp_path / "sub").mkdir()
    two = write(tmp_path / "sub", "VALUE = 2\n")
    first, second = import_script(one), import_script(two)
    assert (first.VALUE, second.VALUE) == (1, 2)
    assert first.__name__ != second.__name__
    assert sys.modules[first.__name__] is first


def test_script_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "HELPER = 'ok'\n", name="helper_mod_for_test.py")
    module = import_script(write(tmp_path, "from helper_mod_for_test import HELPER\n"))
    assert module.HELPER == "ok"


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x = 1\n\ndef broken(:\n    pass\n")
    with pytest.raises(ScriptError) as info:
        import_script(path)
    assert info.value.line == 3
    assert f"{path}, line 3: syntax error" in str(info.value)
    assert "def broken(:" in str(info.value)
    assert isinstance(info.value, MisconfigurationError)


def test_missing_module_names_the_line_and_the_package(tmp_path: Path) -> None:
    path = write(tmp_path, "import os\nimport no_such_package_xyz\n")
    with pytest.raises(ScriptError, match=r"line 2 \(`import no_such_package_xyz`\): import failed") as info:
        import_script(path)
    assert "Install `no_such_package_xyz`" in str(info.value)
    assert info.value.line == 2


def test_lightning_import_suggests_trainer_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pytorch_lightning", None)  # as if not installed (the bench extra installs it)
    path = write(tmp_path, "import pytorch_lightning as pl\n")
    with pytest.raises(ScriptError, match="import trainer_core as pl"):
        import_script(path)


def test_exception_at_import_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a = 1\nb = 1 / 0\n")
    with pytest.raises(ScriptError, match=r"line 2 \(`b = 1 / 0`\): the script raised ZeroDivisionError"):
        import_script(path)


@pytest.mark.parametrize("name,expected", [("missing.py", "does not exist"), ("data.txt", "not a .py file")])
def test_bad_paths(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(ScriptError, match=expected):
        import_script(str(tmp_path / name))


SCRIPT = """
from fake_pl import Base

class Helper:
    pass

class Shared(Base):
    pass

class Encoder(Shared):
    pass

class Classifier(Shared):
    pass
"""


def test_list_classes_in_source_order_leaves_only(tmp_path: Path) -> None:
    module = import_script(write(tmp_path, SCRIPT))
    infos = list_classes(module, Base)
    assert [(i.name, i.line) for i in infos] == [("Encoder", 10), ("Classifier", 13)]


def test_ambiguous_lists_candidates_and_hint(tmp_path: Path) -> None:
    path = write(tmp_path, SCRIPT)
    with pytest.raises(ScriptError) as info:
        pick_class(import_script(path), Base, None, path=path, option="--model")
    message = str(info.value)
    assert "defines 2 Base classes: Encoder (line 10), Classifier (line 13)" in message
    assert f"--model {path}:Classifier" in message
    assert info.value.candidates == ["Encoder", "Classifier"]


def test_named_class_and_misspelling(tmp_path: Path) -> None:
    path = write(tmp_path, SCRIPT)
    module = import_script(path)
    assert pick_class(module, Base, "Classifier", path=path, option="--model").__name__ == "Classifier"
    assert pick_class(module, Base, "Shared", path=path, option="--model").__name__ == "Shared"
    with pytest.raises(ScriptError, match="has no class `Clasifier`. Did you mean `Classifier`?"):
        pick_class(module, Base, "Clasifier", path=path, option="--model")
    with pytest.raises(ScriptError, match=r"`Helper` in .* is not a Base subclass \(it derives from object\)"):
        pick_class(module, Base, "Helper", path=path, option="--model")


def test_no_candidate(tmp_path: Path) -> None:
    path = write(tmp_path, "class Net:\n    pass\n")
    with pytest.raises(ScriptError, match="defines no Base subclass"):
        pick_class(import_script(path), Base, None, path=path, option="--model")


def test_single_candidate_is_picked(tmp_path: Path) -> None:
    path = write(tmp_path, "from fake_pl import Base\nclass Net(Base):\n    pass\n")
    assert pick_class(import_script(path), Base, None, path=path, option="--model").__name__ == "Net"
