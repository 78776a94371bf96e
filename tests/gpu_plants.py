"""Small plants of every feature, run by the GPU kernels under Numba's CUDA simulator (in a
process of its own, started with NUMBA_ENABLE_CUDASIM=1) for tests/test_gpu_build.py:

    python -m tests.gpu_plants OUT_DIR     # writes OUT_DIR/<case>.npz, every per-lane figure
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import twin
from tests import test_reference as ref
from tests.test_parts import PARTS
from tests.test_power import capped_pair
from tests.test_ramp_reference import RAMP
from tests.test_trace import make_plant
from tests.test_transport import battery_plant

REPLICATIONS, SEED = 3, 5


def _short(data: dict, hours: float) -> twin.Plant:
    return twin.config.plant_from_dict(data).model_copy(
        update={"horizon": hours, "warmup": hours / 10})


CASES = {
    # flow: blocking, a held source, failures, random routing with rework, every distribution
    "flow": lambda: _short(ref.PLANT, 80.0),
    "distributions": lambda: make_plant([
        {"id": "a", "servers": 2, "process": {"dist": "gamma", "mean": "40min", "cv": 0.8}},
        {"id": "b", "servers": 1, "buffer": 1,
         "process": {"dist": "empirical", "values": ["20min", "30min", "1h"]}},
        {"id": "c", "servers": 2, "process": {"dist": "uniform", "low": "10min", "high": "1h"},
         "next": [{"to": "exit", "p": 0.7}, {"to": "c", "p": 0.3}]}],
        {"dist": "exponential", "mean": "30min"}, 60.0, 5.0),
    # power: busy profiles, blocked and waiting draws, a cap that binds
    "power-cap": lambda: _short(ref.POWERED, 60.0),
    "cap-trace": lambda: capped_pair(horizon=30.0),
    # fleets with batteries and one charger for three vehicles
    "batteries": lambda: battery_plant([[30, 20]], count=3).model_copy(
        update={"horizon": 80.0, "warmup": 8.0}),
    # a fleet, pools on shifts with any_of and an all-of set, under a cap
    "fleet-pools-shifts": lambda: _short(ref.LOGISTICS, 60.0),
    # products, a split whose parts go one by one by AGV, an assembly on places per kind,
    # per-product times, failures, power under a cap and routing
    "parts": lambda: _short(PARTS, 60.0),
    # a ramp: a source plan, servers added then taken away, learning (per product at one
    # station), routing p, a pool's units and the cap over time (every step before 130 h),
    # and results per period, which the comparison covers as every other lane
    "ramp": lambda: _short(RAMP, 130.0),
}


def run_all(backend: str) -> dict[str, dict[str, np.ndarray]]:
    """Every case's per-lane figures on ``backend``."""
    return {name: twin.simulate(case(), replications=REPLICATIONS, seed=SEED,
                                backend=backend).lanes for name, case in CASES.items()}


if __name__ == "__main__":
    warnings.simplefilter("ignore", RuntimeWarning)  # uint64 products wrap, as they must
    out = Path(sys.argv[1])
    for name, lanes in run_all("cuda-sim").items():
        np.savez(out / f"{name}.npz", **lanes)
