"""``--config`` YAML and ``hparams.yaml`` files: random text, anchors that expand exponentially, tags, wrong types,
deep nesting and huge files.

Every file loads or is refused with ``ConfigError`` naming the file; no YAML tag constructs a Python object; the
command line exits 0 or 2 (never 1, which means the user's code failed) with one paragraph and no traceback.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.reliability.fuzz.fuzzing import fuzz_settings
from trainer_core import cli
from trainer_core.loading.config import SECTIONS, load_config
from trainer_core.loading.errors import ConfigError
from trainer_core.loggers.hparams_io import load_hparams_from_yaml, save_hparams_to_yaml

pytestmark = pytest.mark.fuzz

MODEL = str(Path(__file__).resolve().parents[2] / "helpers" / "boring_model.py") + ":BoringModel"

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                       max_leaves=12)
_KEYS = st.sampled_from([*SECTIONS, "script", "class", "init_args", "path", "max_epochs", "batch_size", "lr_find"])
_CONFIGS = st.recursive(_VALUES, lambda inner: st.dictionaries(st.one_of(_KEYS, st.text(max_size=8)), inner,
                                                               max_size=5), max_leaves=20)

# Hand-written YAML that stresses the parser rather than the shape check.
_NASTY = [
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, "
    "*b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "trainer: {max_epochs: *g}\n",
    "trainer: !!python/object/apply:os.system ['touch {marker}']\n",
    "!!python/object/new:os.system [touch {marker}]\n",
    "trainer: !custom {max_epochs: 1}\n",
    "trainer:\n  max_epochs: &x 3\nmodel: *x\n",
    "trainer: *undefined\n",
    "[" * 5000 + "]" * 5000 + "\n",
    "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "trainer: {max_epochs: 1}\n" + "# padding\n" * 10,
    "\ufefftrainer: {max_epochs: 1}\n",
    "trainer:\n\tmax_epochs: 1\n",
    "? [1, 2]\n: 3\n",
    "trainer: {[1, 2]: 3}\n",
    "---\ntrainer: {}\n---\nmodel: x.py\n",
    "%YAML 9.9\n---\ntrainer: {}\n",
    "trainer: {max_epochs: 1e999}\n",
    "seed_everything: 99999999999999999999999999999999999\n",
    "model: {script: [1, 2], class: {a: 1}, init_args: [1]}\n",
    "data: {path: [x], batch_size: 'many'}\n",
]


def _check_cli(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    code = cli.main(["fit", "--config", str(path), *extra, "--print_config"])
    out, err = capsys.readouterr()
    assert code in (0, 2), f"exit {code}: {err[-2000:]}"
    if code == 2:
        assert "Traceback" not in err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("trainer-core fit: error:"), err[-2000:]


def _check_load(path: Path) -> dict[str, Any] | None:
    try:
        return load_config(path)
    except ConfigError as err:
        assert str(path) in str(err) or "command line" in str(err), err
        return None


@pytest.mark.parametrize("index", range(len(_NASTY)))
def test_nasty_yaml_is_refused_quickly_and_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        index: int) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "nasty.yaml"
    path.write_text(_NASTY[index].replace("{marker}", str(marker)), encoding="utf-8")
    started = time.monotonic()
    _check_load(path)
    _check_cli(path, capsys, "--model", MODEL)
    assert time.monotonic() - started < 20, "a small file took too long: an alias bomb was expanded"
    assert not marker.exists()


def test_a_huge_config_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB of zero bytes, no disk used
    with pytest.raises(ConfigError, match="huge.yaml"):
        load_config(path)


@fuzz_settings()
@given(text=st.text(max_size=300))
def test_random_text_loads_or_names_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(text, encoding="utf-8")
    _check_load(path)


@fuzz_settings()
@given(data=st.binary(max_size=300))
def test_random_bytes_load_or_name_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.yaml"
    path.write_bytes(data)
    _check_load(path)


@fuzz_settings(scale=0.5)
@given(config=_CONFIGS)
def test_wrong_shapes_and_types_exit_2_naming_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          config: Any) -> None:
    path = tmp_path / "shaped.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    _check_load(path)
    _check_cli(path, capsys, "--model", MODEL)


@fuzz_settings()
@given(params=_VALUES)
def test_hparams_yaml_round_trips_or_refuses_with_the_file_name(tmp_path: Path, params: Any) -> None:
    path = tmp_path / "hparams.yaml"
    if isinstance(params, dict):
        save_hparams_to_yaml(str(path), params)
        loaded = load_hparams_from_yaml(str(path))
        assert list(loaded) == [str(k) for k in params]
    else:
        path.write_text(yaml.safe_dump(params), encoding="utf-8")
        try:
            assert isinstance(load_hparams_from_yaml(str(path)), dict)
        except ConfigError as err:
            assert str(path) in str(err)


@fuzz_settings()
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(_NASTY)))
def test_hparams_yaml_of_random_text_names_the_file(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "hparams.yaml"
    path.write_text(text.replace("{marker}", str(marker)), encoding="utf-8")
    try:
        assert isinstance(load_hparams_from_yaml(str(path)), dict)
    except ConfigError as err:
        assert str(path) in str(err)
    assert not marker.exists()
