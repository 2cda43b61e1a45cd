"""Regenerate studio/flag_schema.json from the engine's flag table.

The GUI reads the JSON copy because it must not import trainer_core. Run after changing trainer_core/flags.py::

    python -m studio.worker.schema            # rewrite studio/flag_schema.json
    python -m studio.worker.schema --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["SCHEMA_FILE", "REGENERATE", "current_schema", "main"]

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "flag_schema.json"
REGENERATE = "python -m studio.worker.schema"


def current_schema() -> str:
    """The schema JSON text the engine exports now (with a final newline)."""
    from trainer_core.flags import export_schema

    return export_schema().rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the schema file; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    text = current_schema()
    if "--check" in args:
        stored = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if stored != text:
            print(f"{SCHEMA_FILE} is out of date; run: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
