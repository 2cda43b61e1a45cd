#!/usr/bin/env bash
# Build the studio as a one-folder desktop app with PyInstaller, then smoke-test it offscreen.
#   packaging/build.sh            -> dist/training-studio/training-studio
# DIST_DIR / WORK_DIR move the output (default dist/) and PyInstaller's work folder (default build/pyinstaller).
# Needs the `package` extra: .venv/bin/pip install -e ".[package]". Outputs go to build/ and dist/ (git-ignored).
# The bundle holds no torch: training runs in an external Python with torch (see docs/examples-and-packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
if ! "$py" -c "import PyInstaller" 2>/dev/null; then
    echo "PyInstaller is not installed for $py; run: $py -m pip install -e '.[package]'" >&2
    exit 2
fi
dist=${DIST_DIR:-dist}
work=${WORK_DIR:-build/pyinstaller}
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath "$work" --distpath "$dist" \
    packaging/pyinstaller/training-studio.spec
# The smoke test also trains the bundled example with this interpreter (it has torch) and the bundle's engine sources.
"$py" packaging/smoke_test.py "$dist/training-studio" --python "$(cd "$(dirname "$py")" && pwd)/$(basename "$py")" "$@"
