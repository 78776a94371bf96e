"""An interrupted run resumes from its checkpoints and ends exactly as an uninterrupted one."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from tests.batches import assert_same_lanes
from tests.test_parts import PARTS
from twin.run import memory

PLANT = {
    "name": "resumable", "horizon": "400h", "warmup": "40h",
    "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
    "stations": [
        {"id": "build", "servers": 2, "process": {"dist": "lognormal", "mean": "1.5h", "cv": 0.5},
         "buffer": 2, "failures": {"mtbf": "50h", "mttr": "2h"}},
        {"id": "test", "servers": 1, "process": {"dist": "exponential", "mean": "0.7h"},
         "buffer": 1, "next": [{"to": "exit", "p": 0.8}, {"to": "fix", "p": 0.2}]},
        {"id": "fix", "servers": 1, "process": "1h", "next": "test"},
    ],
}


# the same plant drawing power under a cap that binds, with a busy profile
POWERED = {**PLANT, "stations": [
    {**PLANT["stations"][0], "power": {"idle": "1kW", "waiting": "1kW", "busy": [
        {"share": 0.4, "power": "20kW"}, {"share": 0.6, "power": "30kW"}]}},
    {**PLANT["stations"][1], "power": {"idle": "2kW", "busy": "15kW", "blocked": "4kW"}},
    PLANT["stations"][2],
], "power": {"base_load": "10kW", "cooling": {"cop": 4}, "cap": "70kW"}}


# the same plant on a floor: an AGV with a battery carries build's and test's jobs, and build
# needs a technician on weekday shifts or a humanoid at twice the time
PLACED = {**PLANT,
          "layout": {"floor": [60, 20], "aisles": [[[0, 10], [60, 10]]], "shipping": [55, 10]},
          "stations": [
              {**st, "position": [10 + 15 * i, 4], "footprint": [6, 4],
               **({"transport": "agv"} if st["id"] != "fix" else {}),
               **({"requires": {"any_of": [{"technician": 1},
                                           {"humanoid": 1, "time_factor": 2}]}}
                  if st["id"] == "build" else {})}
              for i, st in enumerate(PLANT["stations"])],
          "transport": [{"id": "agv", "kind": "agv", "count": 2, "speed": 0.05,
                         "load_time": "2min", "unload_time": "2min", "home": [30, 10],
                         "battery": {"capacity": "3h", "charge_time": "1h", "threshold": 0.5,
                                     "chargers": [[5, 15]]}}],
          "resources": [{"id": "technician", "count": 1, "shifts": [
              {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00",
               "end": "18:00"}]}, {"id": "humanoid", "count": 1}]}


# the placed plant ramped (docs/ramp.md): a release plan, build's servers up then down, a
# learning curve, the test's yield over time, the AGVs and technicians over time, weekly
# results
RAMPED = {**PLACED,
          "source": {"plan": [{"from": "0h", "interarrival": {"dist": "exponential",
                                                              "mean": "2h"}},
                              {"from": "100h", "interarrival": {"dist": "exponential",
                                                                "mean": "1h"}}]},
          "stations": [
              {**PLACED["stations"][0], "learning": {"rate": 0.9, "floor": 0.7},
               "servers": [{"from": "0h", "count": 1}, {"from": "100h", "count": 3},
                           {"from": "300h", "count": 2}]},
              {**PLACED["stations"][1],
               "next": [{"to": "exit", "p": [{"from": "0h", "p": 0.7}, {"from": "200h",
                                                                         "p": 0.9}]},
                        {"to": "fix", "p": [{"from": "0h", "p": 0.3}, {"from": "200h",
                                                                        "p": 0.1}]}]},
              PLACED["stations"][2]],
          "transport": [{**PLACED["transport"][0],
                         "count": [{"from": "0h", "count": 1}, {"from": "150h", "count": 3},
                                   {"from": "250h", "count": 2}]}],
          "resources": [{**PLACED["resources"][0],
                         "count": [{"from": "0h", "count": 1}, {"from": "120h", "count": 2}]},
                        PLACED["resources"][1]],
          "report": {"period": "1w"}}


class Stop(KeyboardInterrupt):
    pass


def chunks_of(lanes: int):
    """A stand-in for the memory plan that runs ``lanes`` lanes at a time."""
    return lambda plants, total, *args, **kwargs: min(lanes, total)


@pytest.mark.parametrize("data", [PLANT, POWERED, PLACED, PARTS, RAMPED],
                         ids=["flow", "power", "fleet", "parts", "ramp"])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, backend, data):
    plant = twin.config.plant_from_dict(data)
    whole = twin.simulate(plant, replications=8, seed=3, backend=backend)

    monkeypatch.setattr(memory, "lanes_at_once", chunks_of(3))  # chunks of 3, 3 and 2 lanes

    def interrupt(frac: float) -> None:
        if 1 / 3 < frac < 2 / 3:  # Ctrl-C in the middle of the second chunk
            raise Stop

    with pytest.raises(Stop):
        twin.simulate(plant, replications=8, seed=3, backend=backend,
                      checkpoint_dir=tmp_path, progress=interrupt)
    # the first chunk is done; the second was saved as it stood when Ctrl-C came
    assert [p.name for p in tmp_path.glob("*.npz")] in (
        ["chunk00000.done.npz", "chunk00001.state.npz"],
        ["chunk00001.state.npz", "chunk00000.done.npz"])

    monkeypatch.setattr(memory, "lanes_at_once", chunks_of(8))
    resumed = twin.simulate(plant, replications=8, seed=3, backend=backend,
                            checkpoint_dir=tmp_path)  # keeps the chunks it began with
    assert_same_lanes(resumed.lanes, whole.lanes)


def test_checkpoints_of_another_run_are_ignored(tmp_path, backend):
    plant = twin.config.plant_from_dict(PLANT)
    first = twin.simulate(plant, replications=4, seed=1, backend=backend,
                          checkpoint_dir=tmp_path)
    assert list(tmp_path.glob("*.done.npz"))
    other = twin.simulate(plant, replications=4, seed=2, backend=backend, checkpoint_dir=tmp_path)
    fresh = twin.simulate(plant, replications=4, seed=2, backend=backend)
    assert not np.array_equal(first.lanes["throughput_per_h"], fresh.lanes["throughput_per_h"])
    assert_same_lanes(other.lanes, fresh.lanes)


@pytest.mark.parametrize("data", [PLANT, PLACED, PARTS, RAMPED],
                         ids=["flow", "fleet", "parts", "ramp"])
def test_cores_and_chunks_do_not_change_the_result(backend, monkeypatch, data):
    plant = twin.config.plant_from_dict(data)
    alone = twin.simulate(plant, replications=6, seed=5, backend=backend, workers=1)
    shared = twin.simulate(plant, replications=6, seed=5, backend=backend, workers=2)
    assert_same_lanes(shared.lanes, alone.lanes)
    monkeypatch.setattr(memory, "lanes_at_once", chunks_of(2))
    chunked = twin.simulate(plant, replications=6, seed=5, backend=backend)
    assert_same_lanes(chunked.lanes, alone.lanes)
