"""The flag reference (docs/flags.md) lists every Trainer flag with an example, and its links exist."""

from __future__ import annotations

import re
from pathlib import Path

from trainer_core.flags import FLAGS

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "flags.md"


def test_every_flag_has_a_row_with_an_example() -> None:
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \|.*\| `([^`]+)`", DOC.read_text(), re.M)}
    assert set(rows) == set(FLAGS)
    for name, example in rows.items():
        assert name in example, f"the example for {name} does not use it: {example}"


def test_example_links_exist() -> None:
    links = re.findall(r"\]\(\.\./(resources/examples/[^)]+)\)", DOC.read_text())
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link
