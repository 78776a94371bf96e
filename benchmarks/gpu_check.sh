#!/usr/bin/env bash
# The GPU checks in one script (at most 9 minutes), for a machine with an NVIDIA GPU, CuPy and
# numba-cuda (pip install -e '.[gpu13]', or '.[gpu]' for CUDA 12). In order:
#   1. the GPU build compiles and runs: a small plant on CuPy, the compile time said on stderr
#      (the kernels are cached on disk for the steps after);
#   2. the CuPy cases of the test suite (they skip on machines without a GPU);
#   3. Houston (make run's plant) on the GPU at 1k, 8k, 64k and 128k lanes: events/s and the
#      ratio to the SimPy model on one CPU core, the bytes of state a lane needs, and the whole
#      `twin run` command;
#   4. the blocking line, the fleet line and the line with a binding power cap at 131,072 lanes;
#   5. layout tuning: candidates per second, K x M lanes per batch;
#   6. the Houston ramp (schedules, learning, weekly results), its first 4 weeks at 8k lanes.
# Logs go to $OUT (or ./gpu-check) as well as stdout.
#   bash benchmarks/gpu_check.sh            # from the repository root
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOG=${OUT:-gpu-check}
mkdir -p "$LOG"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:$PWD/reference${PYTHONPATH:+:$PYTHONPATH}
$PY -c "import cupy, numba, numba.cuda; print('CuPy', cupy.__version__, 'numba', numba.__version__, \
'device', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())" | tee "$LOG/device.log"
echo "== 1. the GPU build compiles and runs"
timeout "${COMPILE_S:-140}" $PY -m twin.cli run configs/example-line.yaml --backend cupy \
    --replications 4096 --horizon 500h --warmup 50h --json 2>&1 | tee "$LOG/compile.log" | tail -c 600
echo
echo "== 2. the CuPy cases of the test suite"
timeout "${TEST_S:-80}" $PY -m pytest -q --maxfail=10 -p no:cacheprovider -k "cupy" tests \
    2>&1 | tee "$LOG/tests.log" | tail -15
echo "== 3. Houston on the GPU"
timeout "${HOUSTON_S:-120}" $PY benchmarks/bench_engine.py --houston --backend cupy \
    --lanes ${HOUSTON_LANES:-1024 8192 65536 131072} --simpy-replications 8 --repeat 1 2>&1 \
    | tee "$LOG/houston.log"
echo "== 4. the lines at 131,072 lanes"
for plant in "" "--fleet" "--power --cap"; do
    timeout "${LINE_S:-30}" $PY benchmarks/bench_engine.py --backend cupy $plant \
        --lanes ${LINE_LANES:-16384 131072} --simpy-replications 8 --simpy-repeat 1 --repeat 1 2>&1 \
        | tee -a "$LOG/lines.log" | grep -E "^\||^#"
done
echo "== 5. layout tuning"
timeout "${TUNE_S:-40}" $PY benchmarks/bench_tune.py --backend cupy --candidates 64 \
    --replications 16 --sizes 64 1024 8192 --simpy-candidates 2 2>&1 | tee "$LOG/tune.log"
echo "== 6. the Houston ramp"
timeout "${RAMP_S:-60}" $PY benchmarks/bench_engine.py --ramp --backend cupy --horizon 4w \
    --lanes ${RAMP_LANES:-8192} --simpy-replications 2 --repeat 1 2>&1 | tee "$LOG/ramp.log"
