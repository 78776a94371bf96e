"""Agreement of the engine with the independent SimPy reference model
(reference/twin_reference/simpy_model.py) on a plant with no closed form: failures, blocking, a
held source, a rework loop, multi-server stations, lognormal and triangular times; and on the
same plant drawing power with busy profiles under a cap that binds.

The two simulators share no code and no random numbers, so their estimates are independent:
each figure passes a two-sample test, |m_engine - m_simpy| <= z * sqrt(se_engine^2 +
se_simpy^2) + 1e-3, with standard errors from each side's 95% Student-t interval. ``z`` is at
least 3 and large enough that all the comparisons together raise a false alarm less than once
in a thousand runs (Bonferroni): a wrong rule in either model shifts some figure by far more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import twin
from twin.results.metrics import mean_ci
from twin_reference import simpy_model as sm

ENGINE_LANES = 256
SIMPY_REPLICATIONS = 64  # about 6 s of SimPy
FAMILY_FALSE_ALARM = 1e-3
ABSOLUTE_SLACK = 1e-3

PLANT = {
    "name": "reference",
    "horizon": "500h", "warmup": "100h",
    "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
    "stations": [
        # one waiting place: kit blocks on assemble, and the source is held when kit is full
        {"id": "kit", "servers": 1, "buffer": 1,
         "process": {"dist": "lognormal", "mean": "45min", "cv": 0.5}},
        {"id": "assemble", "servers": 2, "buffer": 0,
         "process": {"dist": "triangular", "low": "1h", "mode": "1.25h", "high": "2.5h"},
         "failures": {"mtbf": "15h", "mttr": "1h"}},
        # test and rework form the loop: unlimited buffers, so it cannot deadlock
        {"id": "test", "servers": 3,
         "process": {"dist": "lognormal", "mean": "1.5h", "cv": 0.4},
         "failures": {"mtbf": "25h", "mttr": "2h"},
         "next": [{"to": "pack", "p": 0.8}, {"to": "rework", "p": 0.2}]},
        {"id": "rework", "servers": 1,
         "process": {"dist": "triangular", "low": "30min", "mode": "1h", "high": "2h"},
         "next": "test"},
        # no waiting place: test's three servers block on pack
        {"id": "pack", "servers": 1, "buffer": 0,
         "process": {"dist": "lognormal", "mean": "50min", "cv": 0.3}},
    ],
}
STATION_FIGURES = ("busy", "blocked", "down", "idle", "mean_queue", "mean_wait_h",
                   "throughput_per_h")


def standard_error(figure: dict, n: int) -> float:
    """Standard error behind a {"mean", "ci95"} figure of ``n`` replications."""
    half = (figure["ci95"][1] - figure["ci95"][0]) / 2
    return half / stats.t.ppf(0.975, n - 1)


def assert_two_sample(pairs: list[tuple[str, dict, dict]]) -> None:
    """Every (name, engine figure, SimPy figure) passes the two-sample test of the module
    docstring, with ``z`` chosen for the whole family."""
    z = max(3.0, stats.norm.isf(FAMILY_FALSE_ALARM / (2 * len(pairs))))
    failures = []
    for name, mine, theirs in pairs:
        se = math.hypot(standard_error(mine, ENGINE_LANES),
                        standard_error(theirs, SIMPY_REPLICATIONS))
        gap = abs(mine["mean"] - theirs["mean"])
        if not gap <= z * se + ABSOLUTE_SLACK:
            failures.append(f"{name}: engine {mine['mean']:.5g}, SimPy {theirs['mean']:.5g}, "
                            f"gap {gap:.3g} > {z:.2f} x {se:.3g} + {ABSOLUTE_SLACK}")
    assert not failures, "\n".join(failures)


def as_figure(values) -> dict:
    return mean_ci(np.asarray(values, dtype=np.float64))


@pytest.fixture(scope="module")
def simpy_results(stat_seed):
    plant = twin.config.plant_from_dict(PLANT)
    return sm.run(sm.from_plant(plant), SIMPY_REPLICATIONS, seed=stat_seed + 1)


def test_engine_agrees_with_simpy(backend, stat_seed, simpy_results):
    plant = twin.config.plant_from_dict(PLANT)
    result = twin.simulate(plant, replications=ENGINE_LANES, seed=stat_seed, backend=backend)
    engine = result.summary()
    ref = sm.summarize(simpy_results)

    # pairs (name, engine figure, simpy figure)
    pairs = [(key, engine[key], ref[key]) for key in ("throughput_per_h", "cycle_time_h", "wip")]
    for q in ("p50", "p95"):
        pairs.append((f"cycle_time_{q}", as_figure(result.lanes[f"cycle_time_{q}"]),
                      as_figure([r[f"cycle_time_{q}"] for r in simpy_results])))
    exact_zero = []
    for j, sid in enumerate(result.station_ids):
        for f in STATION_FIGURES:
            mine, theirs = engine["stations"][sid][f], ref["stations"][j][f]
            if mine["ci95"][0] == mine["ci95"][1] == 0.0:
                exact_zero.append((f"{sid}.{f}", theirs))
            else:
                pairs.append((f"{sid}.{f}", mine, theirs))

    # figures that cannot occur (blocking with only unlimited successors, repairs without
    # failures, queues without waiting places) are exactly zero on both sides
    assert {name for name, _ in exact_zero} == {
        "kit.down", "assemble.blocked", "assemble.mean_queue", "assemble.mean_wait_h",
        "rework.blocked", "rework.down", "pack.blocked", "pack.down", "pack.mean_queue",
        "pack.mean_wait_h",
    }
    for name, theirs in exact_zero:
        assert theirs["mean"] == 0.0, f"{name}: the SimPy model says {theirs['mean']}"

    assert_two_sample(pairs)
    # the plant exercises what it is meant to
    stations = engine["stations"]
    assert stations["kit"]["blocked"]["mean"] > 0.05
    assert stations["test"]["blocked"]["mean"] > 0.05
    assert stations["assemble"]["down"]["mean"] > 0.02
    assert stations["rework"]["throughput_per_h"]["mean"] > 0.1


# The same plant drawing power, with busy profiles at assemble and test, blocked and waiting
# draws, and a cap that binds: station heat may reach (113.3 - 20) / (1 + 1/3) = 70 kW against
# 126 kW if every server were in its highest step.
POWERED = {**PLANT, "stations": [
    {**PLANT["stations"][0], "power": {"busy": "1kW"}},
    {**PLANT["stations"][1], "power": {"idle": "2kW", "busy": [
        {"share": 0.3, "power": "10kW"}, {"share": 0.7, "power": "30kW"}]}},
    {**PLANT["stations"][2], "power": {"idle": "2kW", "blocked": "5kW", "waiting": "2kW",
                                       "busy": [{"share": 0.5, "power": "12kW"},
                                                {"share": 0.5, "power": "20kW"}]}},
    {**PLANT["stations"][3], "power": {"busy": "3kW"}},
    {**PLANT["stations"][4], "power": {"idle": "0.5kW", "busy": "2kW"}},
], "power": {"base_load": "20kW", "cooling": {"cop": 3}, "cap": "113.3kW",
             "demand_interval": "1h"}}


def test_engine_agrees_with_simpy_on_power(stat_seed):
    plant = twin.config.plant_from_dict(POWERED)
    result = twin.simulate(plant, replications=ENGINE_LANES, seed=stat_seed, backend="numpy")
    runs = sm.run(sm.from_plant(plant), SIMPY_REPLICATIONS, seed=stat_seed + 2)
    lanes = result.lanes
    pairs = [(key, as_figure(lanes[key]), as_figure([r[key] for r in runs]))
             for key in ("throughput_per_h", "cycle_time_h", "wip")]
    for key in ("mean_kw", "peak_kw", "max_kw"):
        pairs.append((key, as_figure(lanes[f"power.{key}"]),
                      as_figure([r["power"][key] for r in runs])))
    pairs.append(("energy_kwh", as_figure(lanes["power.energy_mwh"] * 1000),
                  as_figure([r["power"]["energy_kwh"] for r in runs])))
    for j, sid in enumerate(result.station_ids):
        for f in ("busy", "blocked", "down", "idle", "throughput_per_h"):
            pairs.append((f"{sid}.{f}", as_figure(lanes[f"station.{f}"][:, j]),
                          as_figure([r["stations"][j][f] for r in runs])))
        pairs.append((f"{sid}.energy_kwh", as_figure(lanes["power.station.energy_mwh"][:, j]
                                                     * 1000),
                      as_figure([r["stations"][j]["energy_kwh"] for r in runs])))
        pairs.append((f"{sid}.power_wait", as_figure(lanes["power.station.power_wait"][:, j]),
                      as_figure([r["stations"][j]["power_wait"] for r in runs])))
    pairs = [(name, a, b) for name, a, b in pairs if not (a["ci95"][0] == a["ci95"][1]
                                                          == b["mean"] == 0.0)]
    assert_two_sample(pairs)
    # the cap binds, and neither model ever exceeds it
    assert (lanes["power.station.power_wait"][:, 1:3].mean(axis=0) > 0.01).all()
    assert lanes["power.max_kw"].max() <= 113.3 * (1 + 1e-9)
    assert max(r["power"]["max_kw"] for r in runs) <= 113.3 * (1 + 1e-9)


# The same plant on a floor: an AGV fleet with a home and a battery carries kit's, assemble's
# and test's finished jobs (to pack, to rework and back); technicians on two shifts a weekday
# staff assemble, where humanoids stand in at twice the time, and test needs a technician and
# a robot arm. Power draws with a cap that binds make a job wait for units, then for power.
FLOOR = {"floor": [120, 40], "aisles": [[[0, 20], [120, 20]], [[60, 0], [60, 40]]],
         "shipping": [115, 20]}
PLACES = {"kit": [10, 10], "assemble": [35, 10], "test": [50, 30], "rework": [80, 30],
          "pack": [100, 10]}
LOGISTICS = {**PLANT, "layout": FLOOR, "stations": [
    {**st, "position": PLACES[st["id"]], "footprint": [8, 6],
     **({"transport": "agv"} if st["id"] in ("kit", "assemble", "test") else {}),
     **({"requires": {"any_of": [{"technician": 1}, {"humanoid": 1, "time_factor": 2}]}}
        if st["id"] == "assemble" else {}),
     **({"requires": {"technician": 1, "arm": 1}} if st["id"] == "test" else {}),
     **({"power": {"idle": "1kW", "waiting": "1kW", "busy": "10kW"}}
        if st["id"] in ("assemble", "test") else {})}
    for st in PLANT["stations"]],
    "transport": [{"id": "agv", "kind": "agv", "count": 2, "speed": 0.05,
                   "load_time": "3min", "unload_time": "3min", "home": [60, 20],
                   "battery": {"capacity": "6h", "charge_time": "1.5h", "threshold": 0.5,
                               "chargers": [[60, 35]]}}],
    "resources": [
        {"id": "technician", "count": 3,
         "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00",
                     "end": "22:00"}]},
        {"id": "humanoid", "count": 2},
        {"id": "arm", "count": 2}],
    "power": {"base_load": "5kW", "cap": "39kW", "demand_interval": "1h"}}


def test_engine_agrees_with_simpy_on_fleets_and_pools(stat_seed):
    plant = twin.config.plant_from_dict(LOGISTICS)
    result = twin.simulate(plant, replications=ENGINE_LANES, seed=stat_seed, backend="numpy")
    runs = sm.run(sm.from_plant(plant), SIMPY_REPLICATIONS, seed=stat_seed + 3)
    lanes = result.lanes
    pairs = [(key, as_figure(lanes[key]), as_figure([r[key] for r in runs]))
             for key in ("throughput_per_h", "cycle_time_h", "wip")]
    pairs.append(("mean_kw", as_figure(lanes["power.mean_kw"]),
                  as_figure([r["power"]["mean_kw"] for r in runs])))
    for j, sid in enumerate(result.station_ids):
        for f in ("busy", "blocked", "down", "waiting", "idle", "throughput_per_h"):
            pairs.append((f"{sid}.{f}", as_figure(lanes[f"station.{f}"][:, j]),
                          as_figure([r["stations"][j][f] for r in runs])))
    for f in ("loaded", "empty", "handling", "charging", "idle", "mean_wait_h", "trips_per_h",
              "km_per_vehicle_per_h"):
        pairs.append((f"agv.{f}", as_figure(lanes[f"transport.{f}"][:, 0]),
                      as_figure([r["transport"][0][f] for r in runs])))
    for i, pool in enumerate(("technician", "humanoid", "arm")):
        for f in ("busy", "mean_wait_h"):
            pairs.append((f"{pool}.{f}", as_figure(lanes[f"resources.{f}"][:, i]),
                          as_figure([r["resources"][i][f] for r in runs])))
    pairs = [(name, a, b) for name, a, b in pairs if not (a["ci95"][0] == a["ci95"][1]
                                                          == b["mean"] == 0.0)]
    assert_two_sample(pairs)
    # the plant exercises what it is meant to: waits for vehicles, units and charging
    assert lanes["transport.charging"].mean() > 0.01
    assert lanes["resources.mean_wait_h"][:, 0].mean() > 0.05
    assert lanes["power.station.power_wait"][:, 1:3].mean() > 0.001
    assert lanes["transport.battery_low_h"].min() >= 0.0
