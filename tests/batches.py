"""Checks shared by the tests that compare runs lane for lane: two runs' per-lane figures
agree, and scenarios run together in one batch give, lane for lane, what each gives alone."""

from __future__ import annotations

import numpy as np

from twin._backend import get_backend, to_numpy
from twin.compile import compile_plants
from twin.engine import loop
from twin.results import metrics


def assert_same_lanes(got: dict[str, np.ndarray], want: dict[str, np.ndarray],
                      rtol: float = 0.0, atol: float = 0.0) -> None:
    """Every per-lane figure of ``want`` is in ``got`` and agrees within ``rtol`` and ``atol``
    (both 0: exactly; NaN equals NaN), and ``got`` has no other figure."""
    assert got.keys() == want.keys(), set(got) ^ set(want)
    for key, values in want.items():
        np.testing.assert_allclose(got[key], values, rtol=rtol, atol=atol, err_msg=key)


def assert_batch_equals_runs_alone(backend: str, scenarios: list, replications: int,
                                   seed: int, rtol: float = 1e-12) -> None:
    """``scenarios`` (plants with the same stations) compiled into one batch give, lane for
    lane, the figures each gives compiled alone, within ``rtol``."""
    xp = get_backend(backend).xp

    def run(params):
        raw = loop.run(xp, params, queue_budget_bytes=1 << 26, method="event")
        return metrics.per_lane({k: to_numpy(v) for k, v in raw.items()}, params)

    R = replications
    batch = run(compile_plants(scenarios, R, seed=seed))
    for i, s in enumerate(scenarios):
        alone = run(compile_plants([s], R, seed=seed))
        assert_same_lanes({k: v[R * i: R * (i + 1)] for k, v in batch.items()}, alone, rtol=rtol)
