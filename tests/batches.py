"""A check shared by the tests of per-lane parameters: scenarios run together in one batch
give, lane for lane, what each gives run alone."""

from __future__ import annotations

import numpy as np

from twin._backend import get_backend, to_numpy
from twin.compile import compile_plants
from twin.engine import loop
from twin.results import metrics


def assert_batch_equals_runs_alone(backend: str, scenarios: list, replications: int,
                                   seed: int) -> None:
    xp = get_backend(backend).xp

    def run(params):
        raw = loop.run(xp, params, queue_budget_bytes=1 << 26, method="event")
        return metrics.per_lane({k: to_numpy(v) for k, v in raw.items()}, params)

    R = replications
    batch = run(compile_plants(scenarios, R, seed=seed))
    for i, s in enumerate(scenarios):
        alone = run(compile_plants([s], R, seed=seed))
        for key, values in alone.items():
            np.testing.assert_allclose(batch[key][R * i: R * (i + 1)], values, rtol=1e-12,
                                       err_msg=key)
