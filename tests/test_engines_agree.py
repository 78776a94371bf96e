"""While both engines exist: the compiled per-lane engine gives the lock-step engine's figures,
lane for lane, on every kind of plant the test suite has (every per-lane figure to 1e-9
relative, every count exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from tests import test_reference as ref
from tests.test_invariants import small_plants
from tests.test_power import capped_pair, random_capped_plant
from tests.test_resources import WEEKDAYS
from tests.test_resources import plant as pool_plant
from tests.test_transport import agv, battery_plant, mixed_line
from twin._backend import get_backend
from twin.compile import compile_plants
from twin.compile.arrays import engine_params
from twin.compile.flow import expected_exits
from twin.engine import loop
from twin.results import metrics
from twin.run import driver
from twin.run.targets import Target

COUNTS = ("exits", "events", "jobs_entered", "jobs_exited", "jobs_inside")


def lockstep(params) -> dict[str, np.ndarray]:
    raw = {k: np.asarray(v) for k, v in
           loop.run(np, params, queue_budget_bytes=1 << 30, method="event").items()}
    raw["v_low"] = raw["v_low"][:, :-1]  # the lock-step engine's scratch vehicle
    return metrics.per_lane(raw, params)


def compiled(params, plants) -> dict[str, np.ndarray]:
    exits = max(expected_exits(p, params.horizon - params.warmup) for p in plants)
    state = driver.run(engine_params(params, exits), Target(get_backend("numpy")),
                       queue_budget_bytes=1 << 30)
    return metrics.per_lane(driver.raw_figures(state), params)


def shifts_plant():
    return pool_plant(
        [{"id": "build", "servers": 3, "process": {"dist": "exponential", "mean": "1.5h"},
          "requires": {"any_of": [{"technician": 1}, {"robot": 1, "time_factor": 1.5}]}},
         {"id": "check", "servers": 2, "buffer": 3,
          "process": {"dist": "exponential", "mean": "30min"},
          "requires": {"technician": 1}}],
        [{"id": "technician", "count": 2,
          "shifts": [{"days": WEEKDAYS, "start": "07:00", "end": "15:30"},
                     {"days": ["sat"], "start": "22:00", "end": "04:00"}]},
         {"id": "robot", "count": 1}],
        {"dist": "exponential", "mean": "40min"}, 400.0, 20.0)


def config(path: str, hours: float):
    return twin.load(path).model_copy(update={"horizon": hours, "warmup": hours / 6})


PLANTS = {
    "example-line": lambda: [twin.load("configs/example-line.yaml")],
    "failures-blocking-rework": lambda: [twin.config.plant_from_dict(ref.PLANT)],
    "power-profiles-binding-cap": lambda: [twin.config.plant_from_dict(ref.POWERED)],
    "fleet-pools-shifts-cap": lambda: [twin.config.plant_from_dict(ref.LOGISTICS)],
    "cap-trace": lambda: [capped_pair(horizon=200.0)],
    "batteries-one-charger": lambda: [battery_plant([[30, 20]], count=3)],
    "mixed-line": lambda: [mixed_line(agv(speed=0.5, load_time="2min", unload_time="2min"))
                           .model_copy(update={"horizon": 300.0})],
    "shifts-any-of": lambda: [shifts_plant()],
    "houston": lambda: [config("configs/houston.yaml", 96.0)],
    "houston-gb300": lambda: [config("configs/houston-gb300.yaml", 96.0)],
    "wistron": lambda: [config("configs/wistron.yaml", 96.0)],
    "scenarios": lambda: [battery_plant([[30, 20]], count=c) for c in (1, 2, 3)],
}


def assert_same_lanes(plants, seed):
    params = compile_plants(plants, 6, seed=seed)
    old, new = lockstep(params), compiled(params, plants)
    assert old.keys() == new.keys()
    for key in old:
        a, b = np.asarray(old[key], float), np.asarray(new[key], float)
        if key in COUNTS:
            np.testing.assert_array_equal(a, b, err_msg=key)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=key)
    return old


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_the_compiled_engine_equals_the_lockstep_engine(name):
    lanes = assert_same_lanes(PLANTS[name](), seed=11)
    assert lanes["events"].sum() > 1000


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_plants(), seed=st.integers(0, 1000))
def test_random_plants_agree(case, seed):
    assert_same_lanes([case[0]], seed)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=random_capped_plant(), seed=st.integers(0, 1000))
def test_random_capped_plants_agree(p, seed):
    assert_same_lanes([p], seed)
