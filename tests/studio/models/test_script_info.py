from studio.models.script_info import MISSING, parse_script, parse_source

SOURCE = '''
from typing import Literal, Optional
import trainer_core as pl
from torch import nn


class Base(pl.LightningModule):
    pass


class Net(Base):
    """A network.

    More text.
    """

    def __init__(self, hidden: int = 32, lr=1e-3, name: str = "x", act: Literal["relu", "tanh"] = "relu",
                 sizes: list[int] = [1, 2], drop: Optional[float] = None, layer: nn.Module = nn.ReLU(),
                 width: "int | None" = None, mystery=None, *, flag: bool = True, **kwargs):
        super().__init__()


class Data(pl.LightningDataModule):
    def __init__(self, batch_size: int = 16, required_path: str = ""):
        super().__init__()


class NotAModel:
    pass
'''


def test_classes_are_found_through_aliases_and_local_bases():
    info = parse_source(SOURCE, "model.py")
    assert not info.error
    assert [c.name for c in info.modules] == ["Base", "Net"]
    assert [c.name for c in info.datamodules] == ["Data"]
    net = info.find("Net")
    assert net is not None and net.doc == "A network." and net.takes_var_kwargs


def test_constructor_arguments_become_typed_fields():
    params = {p.name: p for p in parse_source(SOURCE).find("Net").params}
    assert (params["hidden"].kind, params["hidden"].default) == ("int", 32)
    assert (params["lr"].kind, params["lr"].default) == ("float", 1e-3)
    assert params["act"].kind == "choice" and params["act"].choices == ("relu", "tanh")
    assert params["sizes"].kind == "literal" and params["sizes"].default == [1, 2]
    assert params["drop"].kind == "float" and params["drop"].optional
    assert params["width"].kind == "int" and params["width"].optional
    assert params["flag"].kind == "bool" and params["flag"].default is True
    layer = params["layer"]
    assert layer.kind == "unsupported" and layer.default is MISSING and "nn.ReLU()" in layer.message
    assert params["mystery"].kind == "literal"


def test_required_argument_without_type_is_a_literal_with_a_message():
    info = parse_source("import trainer_core as pl\nclass M(pl.LightningModule):\n    def __init__(self, k):\n"
                        "        pass\n")
    (param,) = info.modules[0].params
    assert param.required and param.kind == "literal" and "no annotation" in param.message


def test_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("class M(pl.LightningModule):\n    def __init__(self\n")
    info = parse_script(path)
    assert "broken.py, line" in info.error and "syntax error" in info.error


def test_script_without_module_says_how_to_fix(tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n")
    assert "defines no LightningModule" in parse_script(path).error


def test_missing_file_is_reported_not_raised(tmp_path):
    assert "Cannot read" in parse_script(tmp_path / "nope.py").error


def test_bundled_example_parses():
    from resources import resource_path

    info = parse_script(resource_path("examples", "mlp_classifier.py"))
    cls = info.find(None)
    assert cls is not None and cls.name == "MachineHealthClassifier"
    assert {p.name: p.default for p in cls.params}["hidden_size"] == 64
