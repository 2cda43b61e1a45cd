"""Benchmarks for Training Studio: `python -m benchmarks [--quick] [--gpu] [--only NAME] [--markdown FILE]`.

Every module `benchmarks/bench_*.py` exposes `run(quick: bool, gpu: bool) -> list[dict]` returning rows with the keys
`name`, `ours`, `baseline`, `unit`, `ratio`, `note`; the baseline is always measured in the same run. Benchmarks
print figures; they never pass or fail on time (see benchmarks/README.md for recorded results).
"""

# Set by `python -m benchmarks --gpu-only` (gpu_check.sh): modules skip their CPU measurements so that a short lease
# on a CUDA machine is spent on the figures only that machine can give.
GPU_ONLY_ENV = "BENCHMARKS_GPU_ONLY"
# "cpu" (default) or "wall": what `_harness.clock` reads for CPU work (set by `--clock`).
CLOCK_ENV = "BENCHMARKS_CLOCK"
