#!/usr/bin/env bash
# The GPU check (issue 19), one command:
#   1. the tests marked `cuda` (they skip without a CUDA device);
#   2. the large-history speed benchmark on CUDA and on the CPU side by side at
#      n = 1,000, 5,000 and 10,000 -> benchmarks/results/gpu.md.
# Without a GPU it runs the CPU half and the report says so.
#   scripts/gpu_check.sh            # full check
#   scripts/gpu_check.sh --quick    # CI: n = 60 on the CPU, report to a temporary file
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
SIZES=1000,5000,10000
OUT=benchmarks/results/gpu.md
if [ "${1:-}" = "--quick" ]; then
  SIZES=60
  OUT=${GPU_CHECK_OUT:-$(mktemp /tmp/gpu_check.XXXXXX.md)}
fi
if "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "CUDA device: $("$PY" -c 'import torch; print(torch.cuda.get_device_name(0))')"
else
  echo "no CUDA device: the cuda tests skip and only the CPU half of the benchmark runs"
fi
"$PY" -m pytest -p no:cacheprovider -q -m cuda tests/engine/test_cuda.py
"$PY" -m benchmarks.bench_large_n --devices cuda,cpu --dtype float64 --sizes "$SIZES" --no-accuracy --out "$OUT"
if [ "${1:-}" != "--quick" ] && "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  # float32 on CUDA, appended: the dtype worth using on a GPU
  "$PY" -m benchmarks.bench_large_n --devices cuda --dtype float32 --sizes "$SIZES" --no-accuracy --out "$OUT.f32"
  cat "$OUT.f32" >> "$OUT" && rm -f "$OUT.f32"
fi
echo "report: $OUT"
