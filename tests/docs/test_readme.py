"""The README is built from docs/readme/*.md; it must be current, and its local links must resolve."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_is_current() -> None:
    result = subprocess.run([sys.executable, "docs/build_readme.py", "--check"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


def test_local_links_and_images_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)", text)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing


def test_quick_start_commands_are_the_ones_ci_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./dev.sh studio" in text and "./dev.sh test" in text
    assert "./dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_the_python_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").exists()
    assert list((tmp_path / "lightning_logs" / "version_0" / "checkpoints").glob("epoch=2-step=24.ckpt"))
