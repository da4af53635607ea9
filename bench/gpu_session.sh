#!/usr/bin/env bash
# Everything a lent GPU call should run, in at most 9 minutes (a call may take 10): record the
# environment, install tkern, run the benchmark suite first (its figures are what no other machine can
# give), then the 'cuda' half of the tests, one pytest process per file, a few at a time, each under a
# timeout. Every result lands in $OUT as soon as it exists (the bench JSON after each row, one summary
# line per test file as it finishes), so a call that is cut short keeps what finished.
#   bash bench/gpu_session.sh              # on the GPU machine
#   bash bench/gpu_session.sh --dry-run    # anywhere (or DRY_RUN=1), in well under a minute: no
#                                          # nvidia-smi, no install, the interpreter at tiny sizes, and
#                                          # two small test files, each only collected
# Settings (environment): OUT (gpu_out), PYTHON (python3), TEST_FILES (tests/test_*.py; dry run: two
# small files), JOBS (test files at once: 8; dry run: 2), FILE_TIMEOUT (240 s per test file),
# BENCH_ARGS (extra arguments for python -m bench), TRITON_CACHE_DIR (a fixed path, so that a second
# call on the same machine reuses compiled kernels and autotuning choices).
# The 'cpu' half of the tests is left out: CI runs it on every submission.
set -u
if [ "${1:-}" = "--dry-run" ]; then
    DRY_RUN=1
fi
export DRY_RUN=${DRY_RUN:-0}
SESSION_SECONDS=${SESSION_SECONDS:-540}
if [ -z "${SESSION_DEADLINE:-}" ]; then
    # the whole session under one clock: every step below is also cut to the time that is left
    export SESSION_DEADLINE=$(( $(date +%s) + SESSION_SECONDS ))
    exec timeout --kill-after=10 "$SESSION_SECONDS" bash "$0" "$@"
fi

OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
export OUT PYTHON=${PYTHON:-python3}
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-$HOME/.cache/tkern/triton}
export TRITON_CACHE_AUTOTUNING=1
mkdir -p "$TRITON_CACHE_DIR"
if [ "$DRY_RUN" = 1 ]; then
    export TRITON_INTERPRET=1
    TEST_FILES=${TEST_FILES:-tests/test_tensor.py tests/test_views.py}
    JOBS=${JOBS:-2}
else
    unset TRITON_INTERPRET
fi

seconds_left() {
    echo $(( SESSION_DEADLINE - $(date +%s) ))
}
export -f seconds_left

{
    date -u +%Y-%m-%dT%H:%M:%SZ
    if [ "$DRY_RUN" = 1 ]; then
        echo "dry run: Triton interpreter, no GPU"
    else
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
        nvidia-smi
    fi
    "$PYTHON" -c "import sys, torch, triton, numpy; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, 'numpy', numpy.__version__)"
    "$PYTHON" -c "import ml_dtypes" 2>&1 || echo "ml_dtypes missing: bfloat16 on the CPU will fail"
    echo "commit $(git rev-parse --short HEAD 2>/dev/null) ($(git status --porcelain 2>/dev/null | wc -l) changed or new files)"
    echo "TRITON_CACHE_DIR=$TRITON_CACHE_DIR ($(find "$TRITON_CACHE_DIR" -type f 2>/dev/null | wc -l) files cached)"
} > "$OUT/environment.txt" 2>&1

if [ "$DRY_RUN" = 1 ]; then
    echo "dry run: skipped $PYTHON -m pip install --no-deps --no-build-isolation -e ." > "$OUT/install.log"
else
    timeout 120 "$PYTHON" -m pip install --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1
fi

# the suite stops starting rows after its 300 s budget; the timeout bounds the row it is in then
BENCH_TIMEOUT=$(( $(seconds_left) < 360 ? $(seconds_left) : 360 ))
QUICK=""
[ "$DRY_RUN" = 1 ] && QUICK="--quick"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of arguments
timeout "$BENCH_TIMEOUT" "$PYTHON" -m bench --budget 300 $QUICK --json "$OUT/bench.json" --png "$OUT" \
    ${BENCH_ARGS:-} > "$OUT/bench.log" 2>&1
echo "bench: exit $?" | tee "$OUT/bench_status.txt"
tail -40 "$OUT/bench.log"

run_test_file() {
    local file=$1 name left limit
    name=$(basename "$file" .py)
    left=$(( $(seconds_left) - 5 ))
    if [ "$left" -le 0 ]; then
        echo "$file: not run (session time spent)" >> "$OUT/pytest_summary.txt"
        return
    fi
    limit=$(( left < FILE_TIMEOUT ? left : FILE_TIMEOUT ))
    if [ "$DRY_RUN" = 1 ]; then
        timeout "$limit" "$PYTHON" -m pytest -q -p no:cacheprovider --collect-only -k cuda "$file" \
            > "$OUT/pytest_$name.log" 2>&1
    else
        timeout "$limit" "$PYTHON" -m pytest -q -p no:cacheprovider -rf -k cuda "$file" > "$OUT/pytest_$name.log" 2>&1
    fi
    local status=$?
    # one short line, appended as soon as the file is done (timeout's 124: cut at $limit s)
    echo "$file: exit $status $(tail -1 "$OUT/pytest_$name.log")" >> "$OUT/pytest_summary.txt"
    echo "$file: exit $status"
}
export -f run_test_file
export FILE_TIMEOUT=${FILE_TIMEOUT:-240}

: > "$OUT/pytest_summary.txt"
# shellcheck disable=SC2086  # TEST_FILES is a list of paths
ls ${TEST_FILES:-tests/test_*.py} | xargs -P "${JOBS:-8}" -I{} bash -c 'run_test_file "$1"' _ {}
cat "$OUT/pytest_summary.txt"
# pytest's 5: the file has no 'cuda' tests
failed=$(grep -Evc ": exit (0|5) " "$OUT/pytest_summary.txt")
echo "session: $(cat "$OUT/bench_status.txt"), $failed of $(wc -l < "$OUT/pytest_summary.txt") test files not passed, $(( SESSION_SECONDS - $(seconds_left) )) s"
grep -q "bench: exit 0" "$OUT/bench_status.txt" && [ "$failed" = 0 ]
