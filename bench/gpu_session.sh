#!/usr/bin/env bash
# Everything a lent GPU session should run, in one call: install tkern, the whole test suite on
# real CUDA, then the GPU benchmarks. Logs and results land in $OUT (default: ./gpu_out).
#   bash bench/gpu_session.sh
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
timeout 300 python3 -m pytest -q -p no:cacheprovider -rf > "$OUT/pytest_cuda.log" 2>&1
tail -5 "$OUT/pytest_cuda.log"
for bench in gpu_elementwise matmul; do
    if [ -f "bench/$bench.py" ]; then
        timeout 120 python3 "bench/$bench.py" --json "$OUT/${bench}.json" > "$OUT/${bench}.log" 2>&1
        tail -20 "$OUT/${bench}.log"
    fi
done
