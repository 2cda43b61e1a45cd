#!/usr/bin/env bash
# One command that records every GPU figure on a fresh CUDA machine with PyTorch already installed and no package
# index: installs this project without touching torch, runs tests/gpu, then the CUDA benchmarks, and writes a
# Markdown report to $OUT/gpu-report.md (or ./gpu-report.md), all within 5 minutes.
#
#   benchmarks/gpu_check.sh            # from anywhere; PYTHON=/path/to/python to pick the interpreter
#
# The engine's other runtime needs (numpy, PyYAML, tqdm, psutil, nvidia-ml-py) and pytest are expected to be there;
# the report lists any that are missing. PySide6 is not needed: only the engine is tested here (tests/gpu never
# imports the studio). Each stage has its own time limit, so a slow stage cannot eat the others' time and the report
# is always written; the benchmark table is saved after every module, so a cut-short run keeps what it measured.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
out_dir=${OUT:-.}
mkdir -p "$out_dir"
report="$out_dir/gpu-report.md"
tests_log="$out_dir/gpu-tests.log"
bench_log="$out_dir/gpu-bench.log"
bench_md="$out_dir/gpu-bench.md"
started=$(date +%s)
export PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
# Also importable from the checkout if the editable install below is refused (old setuptools, read-only site).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

torch_version() { "$py" -c 'import torch; print(torch.__version__)' 2>&1; }
elapsed() { echo $(($(date +%s) - started)); }

torch_before=$(torch_version)
# --no-deps: never let pip resolve (and replace) torch; --no-build-isolation + --no-index: nothing to download.
install_status=ok
timeout 30 "$py" -m pip install -q --no-deps --no-build-isolation --no-index -e . >"$out_dir/gpu-install.log" 2>&1 \
    || install_status="failed (using PYTHONPATH; see gpu-install.log)"
torch_after=$(torch_version)
missing=$("$py" - <<'EOF'
import importlib.util
names = {"numpy": "numpy", "yaml": "PyYAML", "tqdm": "tqdm", "psutil": "psutil", "pynvml": "nvidia-ml-py",
         "pytest": "pytest", "lightning": "lightning (optional: Lightning columns)"}
print(", ".join(pkg for mod, pkg in names.items() if importlib.util.find_spec(mod) is None) or "none")
EOF
)

# tests/gpu: CUDA-only behaviour (AMP with GradScaler, bf16, clipping under AMP, log_gpu_memory, deterministic).
timeout 80 "$py" -m pytest -q -p no:cacheprovider -o addopts="" tests/gpu >"$tests_log" 2>&1
tests_status=$?
# Everything CUDA: overhead on GPU, bf16 transformer, parity, batch-size finder, NVML cost, sync counts. The GUI
# modules (dashboards, studio) need PySide6, which such a machine lacks.
timeout 180 "$py" -m benchmarks --gpu-only --only gpu,overhead,parity,profilers,tuner --markdown "$bench_md" \
    >"$bench_log" 2>&1
bench_status=$?

{
    echo "# GPU check — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'nvidia-smi unavailable')"
    echo "- python: $("$py" --version 2>&1); torch before/after install: $torch_before / $torch_after"
    echo "- project install: $install_status; missing packages: $missing"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- tests/gpu: exit $tests_status ($( [ $tests_status -eq 124 ] && echo 'timed out' || tail -n 1 "$tests_log"))"
    echo "- benchmarks: exit $bench_status$( [ $bench_status -eq 124 ] && echo ' (timed out: table holds the modules that finished)')"
    echo "- total: $(elapsed) s"
    echo
    echo "## Benchmarks"
    echo
    if [ -s "$bench_md" ]; then sed '1,/^$/d' "$bench_md"; else echo "(no table: see gpu-bench.log)"; fi
    echo
    echo "## tests/gpu (last lines)"
    echo
    echo '```'
    tail -n 30 "$tests_log"
    echo '```'
    echo
    echo "## Benchmark log (last lines)"
    echo
    echo '```'
    tail -n 40 "$bench_log"
    echo '```'
} >"$report"
echo "GPU report written to $report ($(elapsed) s): tests exit $tests_status, benchmarks exit $bench_status"
[ "$tests_status" -eq 0 ] || [ "$tests_status" -eq 5 ]  # 5: no tests collected (tests/gpu still empty)
