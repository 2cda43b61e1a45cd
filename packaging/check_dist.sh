#!/usr/bin/env bash
# Prove the Python distributions work the way a user gets them:
#   1. export the committed tree (git archive HEAD, i.e. what a fresh clone holds),
#   2. `python -m build` (isolated) -> sdist + wheel,
#   3. a wheel rebuilt from the sdist holds the same resources (the sdist is complete),
#   4. a brand-new venv installs the wheel; from outside the checkout `trainer-core --help` works, `resources` finds
#      its files, a bundled example trains for a few steps, and `training-studio` starts offscreen.
# Usage: packaging/check_dist.sh [WORK_DIR]     (slow: installs torch into the new venv; a few minutes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
py_base=${PYTHON:-python3}
builder="$root/.venv/bin/python"
mkdir -p "$work/src" "$work/dist" "$work/run"
step() { echo "== check_dist: $*"; }

step "export HEAD to $work/src"
git -C "$root" archive HEAD | tar -x -C "$work/src"

step "python -m build"
"$builder" -m build --outdir "$work/dist" "$work/src" > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/training_studio-*.whl)
sdist=$(ls "$work"/dist/training_studio-*.tar.gz)
echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB), $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB)"

step "the sdist rebuilds into a wheel with the same files"
"$builder" -m pip wheel -q --no-deps -w "$work/from-sdist" "$sdist"
"$builder" - "$wheel" "$work"/from-sdist/training_studio-*.whl <<'PY'
import sys, zipfile
a, b = (set(zipfile.ZipFile(p).namelist()) for p in sys.argv[1:3])
res = sorted(n for n in a if n.startswith("resources/"))
assert len(res) > 30, res
assert a == b, f"wheel from sdist differs: only in wheel {sorted(a - b)}, only in sdist wheel {sorted(b - a)}"
print(f"{len(a)} files, {len(res)} under resources/")
PY

step "install the wheel into a clean venv"
"$py_base" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel" > "$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }

cd "$work/run"  # outside the checkout: nothing can come from the source tree
step "trainer-core --help"
"$work/venv/bin/trainer-core" --help | head -5
step "resources from the installed package"
example=$("$work/venv/bin/python" - <<'PY'
import resources
paths = resources.example_paths()
assert "site-packages" in str(paths[0]), paths[0]
assert resources.icon_path(256).is_file() and resources.theme_path("dark").is_file()
print(paths[0])
PY
)
echo "$example"
step "train the installed default example for a few steps"
"$work/venv/bin/trainer-core" fit --model "$example" --max_epochs 1 --limit_train_batches 3 --limit_val_batches 1 \
    --default_root_dir "$work/run" > "$work/fit.log" 2>&1 || { tail -30 "$work/fit.log"; exit 1; }
ls "$work"/run/lightning_logs/version_0/metrics.csv
step "training-studio starts offscreen"
"$builder" - "$work/venv/bin/training-studio" "$root/packaging" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from smoke_test import run_app
passed, why = run_app([sys.argv[1]], 60)
print(why)
sys.exit(0 if passed else 1)
PY
echo "check_dist: OK ($work)"
