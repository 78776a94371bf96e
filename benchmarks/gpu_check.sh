#!/usr/bin/env bash
# The GPU checks in one script, for a machine with an NVIDIA GPU and CuPy installed: the CuPy
# cases of the test suite (they skip elsewhere), Houston on CuPy, then the engine benchmark with
# --backend cupy up to a million lanes. Logs go to $OUT (or ./gpu-check) as well as stdout.
#   bash benchmarks/gpu_check.sh            # from the repository root
# Where pip cannot reach an index, put wheels of the missing packages in .whl/ first.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOG=${OUT:-gpu-check}
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
$PY -c "import cupy; print('CuPy', cupy.__version__, 'device', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())"
# TESTS narrows the CuPy cases (a pytest -k expression); CuPy runs of few lanes and long
# horizons are slow (a step costs milliseconds of kernel launches whatever the lane count).
timeout "${TEST_S:-200}" $PY -m pytest -q --maxfail=10 -p no:cacheprovider \
    -k "cupy and (${TESTS:-cupy})" ${TEST_FILES:-tests} 2>&1 | tee "$LOG/tests.log"
timeout "${HOUSTON_S:-90}" $PY -m twin.cli run configs/houston.yaml --backend cupy \
    --replications "${HOUSTON_REPS:-1024}" ${HOUSTON_ARGS:-} --json 2>&1 \
    | tee "$LOG/houston.json" | head -c 1500
echo
timeout "${BENCH_S:-150}" $PY benchmarks/bench_engine.py --backend cupy \
    --lanes ${LANES:-1024 16384 131072 1048576} --simpy-replications 8 ${BENCH_ARGS:-} 2>&1 \
    | tee "$LOG/bench.log"
# Layout tuning: candidates per second, K x M lanes per batch, on the GPU.
timeout "${TUNE_S:-120}" $PY benchmarks/bench_tune.py --backend cupy --candidates 64 \
    --replications 16 --sizes 64 256 1024 --simpy-candidates 2 2>&1 | tee "$LOG/tune.log"
