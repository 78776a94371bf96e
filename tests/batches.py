"""Checks shared by the tests that compare runs lane for lane: two runs' per-lane figures
agree, and scenarios run together in one batch give, lane for lane, what each gives alone."""

from __future__ import annotations

import numpy as np

from twin._backend import get_backend
from twin.compile.arrays import engine_params
from twin.run import driver
from twin.run.simulate import simulate, simulate_batch
from twin.run.targets import Target


def assert_same_lanes(got: dict[str, np.ndarray], want: dict[str, np.ndarray],
                      rtol: float = 0.0, atol: float = 0.0) -> None:
    """Every per-lane figure of ``want`` is in ``got`` and agrees within ``rtol`` and ``atol``
    (both 0: exactly; NaN equals NaN), and ``got`` has no other figure."""
    assert got.keys() == want.keys(), set(got) ^ set(want)
    for key, values in want.items():
        np.testing.assert_allclose(got[key], values, rtol=rtol, atol=atol, err_msg=key)


def assert_batch_equals_runs_alone(backend: str, scenarios: list, replications: int,
                                   seed: int, rtol: float = 1e-12) -> None:
    """``scenarios`` (plants with the same stations) simulated together as one batch give,
    lane for lane, the figures each gives simulated alone, within ``rtol``."""
    batch = simulate_batch(scenarios, replications, seed, backend=backend)
    for scenario, together in zip(scenarios, batch, strict=True):
        alone = simulate(scenario, replications=replications, seed=seed, backend=backend)
        assert_same_lanes(together.lanes, alone.lanes, rtol=rtol)


def final_state(params, backend: str = "numpy") -> dict[str, np.ndarray]:
    """Every state field of every lane of compiled ``params`` after a run to the horizon
    (for checks of the engine's own bookkeeping)."""
    exits = int(1.2 * params.horizon * 64) + 64
    state = driver.run(engine_params(params, exits), Target(get_backend(backend)),
                       queue_budget_bytes=1 << 30)
    return driver.raw_figures(state)
