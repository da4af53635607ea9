#!/usr/bin/env bash
# Everything a lent GPU session should run, in one device call (at most 10 minutes): install tkern,
# the GPU benchmarks, then the 'cuda' half of the test suite. Logs and results land in $OUT
# (default: ./gpu_out).
#   bash bench/gpu_session.sh
# Benchmarks go first: their numbers are what no other machine can give (poly_fit.py writes its JSON
# row by row, so a timeout keeps what it measured). The tests then run one
# process per test file, eight at a time, so that Triton's compilations (seconds per new
# specialisation on a fresh machine) share the 16 cores; each file's log survives a timeout.
# The 'cpu' half is left out: CI runs it on every submission.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c "import torch, triton, numpy; print('torch', torch.__version__, 'triton', triton.__version__, 'numpy', numpy.__version__)"
    python3 -c "import ml_dtypes" 2>&1 || echo "ml_dtypes missing: bfloat16 on the CPU will fail"
    git rev-parse --short HEAD
} > "$OUT/environment.txt" 2>&1
python3 -m pip install --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1
# the fused kernels' speed comparison first: its targets are what tkern is for (its own timeout covers
# torch.compile's first compilation)
timeout 150 python3 bench/poly_fit.py --json "$OUT/poly_fit.json" --png "$OUT/poly_fit.png" > "$OUT/poly_fit.log" 2>&1
tail -25 "$OUT/poly_fit.log"
for bench in gpu_elementwise matmul; do
    timeout 120 python3 "bench/$bench.py" --json "$OUT/${bench}.json" > "$OUT/${bench}.log" 2>&1
    tail -20 "$OUT/${bench}.log"
done
export OUT
ls tests/test_*.py | xargs -P 8 -I{} sh -c \
    'timeout 270 python3 -m pytest -q -p no:cacheprovider -rf -k cuda {} > "$OUT/pytest_$(basename {} .py).log" 2>&1; echo "$(basename {}): exit $? $(tail -1 "$OUT/pytest_$(basename {} .py).log")"' \
    | sort | tee "$OUT/pytest_summary.txt"
