"""The max-plus serial fast path against the event-stepped engine: the same figures, lane by
lane; and scenarios in one batch against their runs alone."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from tests.batches import assert_batch_equals_runs_alone, assert_same_lanes
from twin.compile import compile_plant
from twin.engine import loop

DISTS = [
    {"dist": "exponential", "mean": "1h"},
    {"dist": "lognormal", "mean": "0.9h", "cv": 0.6},
    {"dist": "gamma", "mean": "1.1h", "cv": 1.5},
    {"dist": "triangular", "low": "0.2h", "mode": "0.8h", "high": "1.9h"},
    {"dist": "uniform", "low": "0.5h", "high": "1.4h"},
    {"dist": "empirical", "values": ["0.5h", "1h", "1h", "1.6h"]},
    "1h",  # deterministic: ties everywhere
]


def serial_line(rng: np.random.Generator, stations: int) -> dict:
    chosen = []
    for i in range(stations):
        buffer = rng.choice([None, 0, 1, 3])
        chosen.append({"id": f"s{i}", "servers": 1, "process": DISTS[rng.integers(len(DISTS))],
                       "buffer": None if buffer is None else int(buffer)})
    return {"name": "serial", "horizon": "300h", "warmup": "30h",
            "source": {"interarrival": DISTS[rng.integers(len(DISTS))] if stations > 1 else "1.3h"},
            "stations": chosen}


@pytest.mark.parametrize("case", range(8))
def test_serial_fast_path_equals_event_engine(backend, case):
    rng = np.random.default_rng(case)
    data = serial_line(rng, stations=1 + case % 4)
    # keep the line stable: arrivals a little slower than the slowest station
    data["source"]["interarrival"] = {"dist": "exponential", "mean": "2h"}
    plant = twin.config.plant_from_dict(data)
    event = twin.simulate(plant, replications=16, seed=case, backend=backend, method="event")
    fast = twin.simulate(plant, replications=16, seed=case, backend=backend, method="serial")
    assert (event.method, fast.method) == ("event", "serial")
    assert_same_lanes(fast.lanes, event.lanes, rtol=1e-9, atol=1e-9)


def test_auto_takes_the_fast_path_only_where_it_applies():
    line = {"name": "l", "horizon": "50h", "source": {"interarrival": "2h"},
            "stations": [{"id": "a", "servers": 1, "process": "1h", "buffer": 1},
                         {"id": "b", "servers": 1, "process": "1h"}]}
    params = compile_plant(twin.config.plant_from_dict(line), 2, 0)
    assert loop.choose_method(params) == "serial"
    line["stations"][1]["servers"] = 2
    params = compile_plant(twin.config.plant_from_dict(line), 2, 0)
    assert loop.choose_method(params) == "event"
    with pytest.raises(ValueError, match="single servers"):
        loop.choose_method(params, "serial")
    line["stations"][1]["servers"] = 1
    line["stations"][0]["failures"] = {"mtbf": "10h", "mttr": "1h"}
    assert loop.choose_method(compile_plant(twin.config.plant_from_dict(line), 2, 0)) == "event"
    del line["stations"][0]["failures"]
    line["stations"][1]["next"] = [{"to": "exit", "p": 0.9}, {"to": "a", "p": 0.1}]
    assert loop.choose_method(compile_plant(twin.config.plant_from_dict(line), 2, 0)) == "event"


def test_ring_buffers_grow_only_as_far_as_queues_do(backend):
    """A huge finite buffer does not allocate its size up front for every lane."""
    data = {"name": "big", "horizon": "300h", "source": {"interarrival": "1h"},
            "stations": [{"id": "a", "servers": 2,
                          "process": {"dist": "exponential", "mean": "1.5h"}, "buffer": 100_000},
                         {"id": "b", "servers": 1,
                          "process": {"dist": "exponential", "mean": "0.5h"}}]}
    params = compile_plant(twin.config.plant_from_dict(data), 64, 0)
    xp = twin._backend.get_backend(backend).xp
    raw = loop.run(xp, params, queue_budget_bytes=1 << 26, method="event")
    places = raw["q_job"].shape[2]
    assert places < 1024, places
    assert int(raw["q_len"].max()) < places


def test_scenarios_in_one_batch_equal_their_runs_alone(backend):
    """Lanes of different scenarios (server counts, buffers, times) share one batch, padded to
    the largest server counts, with common random numbers: each scenario's lanes equal its own
    run alone, number for number."""

    def plant(servers: int, buffer: int, mean: str):
        return twin.config.plant_from_dict({
            "name": "scenario", "horizon": "200h", "warmup": "20h",
            "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
            "stations": [
                {"id": "a", "servers": servers, "process": {"dist": "lognormal", "mean": mean,
                                                            "cv": 0.5},
                 "buffer": buffer, "failures": {"mtbf": "40h", "mttr": "2h"}},
                {"id": "b", "servers": 2, "process": {"dist": "exponential", "mean": "1.5h"},
                 "next": [{"to": "exit", "p": 0.9}, {"to": "a", "p": 0.1}]},
            ]})

    assert_batch_equals_runs_alone(backend, [plant(1, 3, "0.8h"), plant(3, 0, "2h")], 6, seed=4,
                                   rtol=0.0)
