"""The memory plan (twin/run/memory.py) sizes a run from the plants alone, before compiling;
the engine's arrays (twin/compile/arrays.py) are sized from the compiled parameters. The two
must agree, or the plan checks the wrong bytes: every dimension, for every default plant and
a small plant of every feature, alone, traced, and as a batch of scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

import twin
from tests.gpu_plants import CASES
from twin.compile.arrays import engine_params
from twin.compile.flow import expected_exits
from twin.compile.plant import compile_plants
from twin.run import memory

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def _plants(name: str) -> list[twin.Plant]:
    if name in CASES:
        return [CASES[name]()]
    return [twin.load(next(p for p in CONFIGS if p.stem == name))]


def _engine_dims(plants, trace: bool):
    params = compile_plants(plants, 2, 1)
    window = params.horizon - params.warmup
    return engine_params(params, max(expected_exits(p, window) for p in plants), trace).dims


@pytest.mark.parametrize("trace", [False, True])
@pytest.mark.parametrize("name", [p.stem for p in CONFIGS] + list(CASES))
def test_the_plan_sizes_what_the_engine_allocates(name, trace):
    plants = _plants(name)
    p = plants[0]
    planned = memory.estimate_dims(plants, p.horizon - p.warmup, p.horizon, p.warmup, trace)
    assert planned == _engine_dims(plants, trace)


def test_a_batch_is_planned_at_its_largest_scenario():
    base = twin.load(next(p for p in CONFIGS if p.stem == "houston"))
    stations = list(base.stations)
    stations[0] = stations[0].model_copy(update={"servers": stations[0].servers + 7})
    bigger = base.model_copy(update={"stations": stations})
    planned = memory.estimate_dims([base, bigger], base.horizon - base.warmup, base.horizon,
                                   base.warmup)
    assert planned == _engine_dims([base, bigger], False)
    assert planned.M == memory.estimate_dims([bigger], bigger.horizon - bigger.warmup,
                                             bigger.horizon, bigger.warmup).M
