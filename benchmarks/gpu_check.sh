#!/usr/bin/env bash
# The GPU checks in one script, for a machine with an NVIDIA GPU and CuPy installed:
# the test suite on both backends (the CuPy cases skip elsewhere), then the engine benchmark
# with --backend cupy up to a million lanes. Prints everything; writes nothing.
#   bash benchmarks/gpu_check.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -c "import cupy; print('CuPy', cupy.__version__, 'device', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())"
$PY -m pip install --quiet -e '.[dev]'
$PY -m pytest -q -x -k "cupy" tests
$PY benchmarks/bench_engine.py --backend cupy --lanes 1024 16384 131072 1048576 \
    --simpy-replications 8
