"""The README stays a first-day page, docs/ is current and linked, and nothing points outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "benchmarks" / "README.md"]
README_LIMIT_BYTES = 20_000

# The rule: code, comments and docs state what they rely on in place (or in docs/); they never send a reader to a
# document that is not part of the repository. Checked as: every Markdown file a tracked file names is a file of the
# repository, or one the project writes (a report, a benchmark table).
WRITTEN_MARKDOWN = {"results.md", "gpu-report.md", "gpu-bench.md", "report.md", "r.md"}
MARKDOWN_NAME = re.compile(r"[\w.-]+\.md\b")
OUTSIDE_PHRASES = re.compile(r"the reference,? (section|§)|see the reference\b|reference section \d", re.I)


def _local_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#", 1)[0] for t in targets
            if not t.startswith(("http://", "https://", "mailto:", "#")) and t.split("#", 1)[0]]


def test_readme_fits_a_first_day() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT_BYTES, f"README.md is {size} bytes; move reference material to docs/"


@pytest.mark.parametrize("page", [README, *DOC_PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_local_links_and_images_exist(page: Path) -> None:
    missing = [t for t in _local_links(page) if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_every_docs_page_is_reachable_from_the_readme() -> None:
    reachable: set[Path] = set()
    todo = [README]
    while todo:
        page = todo.pop()
        for target in _local_links(page):
            path = (page.parent / target).resolve()
            if path.suffix == ".md" and path.exists() and path not in reachable:
                reachable.add(path)
                todo.append(path)
    orphans = [p.relative_to(ROOT) for p in DOC_PAGES if p.resolve() not in reachable]
    assert not orphans, f"pages no link leads to: {orphans}"


def test_generated_flag_reference_is_current() -> None:
    result = subprocess.run([sys.executable, "docs/build_docs.py", "--check"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_points_to_documents_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    known = {Path(name).name for name in tracked} | WRITTEN_MARKDOWN
    this_file = Path(__file__).resolve()
    offenders: list[str] = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".sh", ".toml", ".yaml", ".txt", ".spec", ".cfg", ".ini"} \
                or path.resolve() == this_file:
            continue
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            outside = [doc for doc in MARKDOWN_NAME.findall(line) if doc not in known]
            if outside or OUTSIDE_PHRASES.search(line):
                offenders.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not offenders, "references to documents outside the repository:\n" + "\n".join(offenders)


def test_quick_start_commands_are_the_ones_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    assert "./dev.sh studio" in text and "./dev.sh test" in text
    assert "./dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_the_python_example_runs(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").exists()
    assert list((tmp_path / "lightning_logs" / "version_0" / "checkpoints").glob("epoch=2-step=24.ckpt"))
