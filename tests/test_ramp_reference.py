"""Agreement of the engine with the SimPy reference model (reference/twin_reference/simpy_model.py
and ramp.py) on ramps: values that change over time and the figures of each report period.

* A two-product line with every ramp the reference models: a source plan drawn in three steps,
  servers added then taken away, a learning curve at one station and one per product at
  another, a rework loop whose probabilities change, a pool whose units are added and a power
  cap that rises, with lognormal, exponential and uniform times.
* A line released as the exact Poisson process of a plan (``release: nhpp``), held by a full
  first station.

Each figure of each period and each of the window passes the two-sample test of
tests/test_reference.py: the difference of the means within ``z`` combined standard errors,
``z`` at least 3 and chosen so that the whole family raises a false alarm less than once in a
thousand runs. A model that ignored a schedule or the learning curves shifts the periods they
act on by many standard errors: run on the engine's side alone, a plant without either curve,
with one curve for both products, without any one of the schedules, or released as drawn
instead of as a Poisson process, fails these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

import twin
from tests import test_reference as ref
from twin_reference import simpy_model as sm


def exponential(mean_h: float) -> dict:
    return {"dist": "exponential", "mean": f"{mean_h!r}h"}


RAMP = {
    "name": "ramp-reference",
    "horizon": "170h", "warmup": "5h",
    "products": {"a": 0.6, "b": 0.4},
    # arrivals speed up twice; kit's finite buffer holds the source when it is full
    "source": {"plan": [{"from": "0h", "interarrival": exponential(1.5)},
                        {"from": "40h", "interarrival": exponential(1.0)},
                        {"from": "100h", "interarrival": exponential(0.75)}]},
    "stations": [
        # each server needs a technician: one at first, two from hour 50
        {"id": "kit", "servers": 2, "buffer": 2, "requires": {"technician": 1},
         "process": {"dist": "lognormal", "mean": "1h", "cv": 0.5},
         "learning": {"rate": 0.85, "floor": 0.5}},
        # one bay, three from hour 30, two from hour 120; each product learns on its own.
        # Bays added hold their standby at once, even above the cap (docs/ramp.md)
        {"id": "build", "buffer": 3,
         "servers": [{"from": "0h", "count": 1}, {"from": "30h", "count": 3},
                     {"from": "120h", "count": 2}],
         "process": {"by_product": {"a": exponential(1.5), "b": exponential(2.0)}},
         "learning": {"by_product": {"a": {"rate": 0.8, "floor": 0.4},
                                     "b": {"rate": 0.9, "floor": 0.6}}},
         "power": {"idle": "1kW", "busy": "10kW"}},
        # the yield improves at hour 70
        {"id": "test", "servers": 2,
         "process": {"dist": "uniform", "low": "20min", "high": "1h"},
         "power": {"idle": "0.5kW", "busy": "6kW"},
         "next": [{"to": "exit", "p": [{"from": "0h", "p": 0.6}, {"from": "70h", "p": 0.9}]},
                  {"to": "rework", "p": [{"from": "0h", "p": 0.4},
                                         {"from": "70h", "p": 0.1}]}]},
        {"id": "rework", "process": exponential(0.7), "next": "test"},
    ],
    "resources": [{"id": "technician", "count": [{"from": "0h", "count": 1},
                                                 {"from": "50h", "count": 2}]}],
    # two bays and a test at once until hour 60, then three bays and a test, or two and both
    "power": {"base_load": "3kW", "cooling": {"cop": 4},
              "cap": [{"from": "0h", "cap": "37kW"}, {"from": "60h", "cap": "48kW"}]},
    "report": {"period": "25h"},  # from hour 5: six of 25 h and the last of 15 h
}

NHPP = {
    "name": "nhpp-reference",
    "horizon": "120h", "warmup": "0h",
    # a drawn plan would wait some 4 h past hour 30 for its first fast arrival
    "source": {"plan": [{"from": "0h", "interarrival": exponential(4.0)},
                        {"from": "30h", "interarrival": exponential(0.4)},
                        {"from": "80h", "interarrival": exponential(1.0)}],
               "release": "nhpp"},
    "stations": [
        # one waiting place: the source is held until the second and third server come
        {"id": "cut", "buffer": 1, "servers": [{"from": "0h", "count": 1},
                                               {"from": "50h", "count": 3}],
         "process": {"dist": "lognormal", "mean": "45min", "cv": 0.6}},
        {"id": "weld", "servers": 3, "process": exponential(0.8)},
    ],
    "report": {"period": "20h"},
}


def engine_and_simpy(doc: dict, seed: int) -> tuple[twin.Result, list[dict], sm.RefPlant]:
    plant = twin.config.plant_from_dict(doc)
    result = twin.simulate(plant, replications=ref.ENGINE_LANES, seed=seed, backend="numpy")
    reference = sm.from_plant(plant)
    return result, sm.run(reference, ref.SIMPY_REPLICATIONS, seed=seed + 1), reference


def simpy_as_lanes(runs: list[dict], reference: sm.RefPlant) -> dict[str, np.ndarray]:
    """The SimPy model's figures per period as the engine's ``series.*`` lanes: (R, K) or
    (R, K, J)."""
    s = sm.series(runs)
    length = s["end_h"] - s["start_h"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"series.exits": s["exits"].astype(np.float64),
               "series.ct_sum": s["cycle_time_sum_h"],
               "series.wip": s["wip_h"] / length,
               "series.busy": s["busy_h"] / s["on_h"]}
    if reference.metered():
        base, factor = reference.base_load or 0.0, reference.cooling_factor
        out["series.mean_kw"] = base + factor * s["heat_kwh"].sum(axis=2) / length
        out["series.peak_kw"] = base + factor * s["heat_max_kw"]
    return out


def period_pairs(result: twin.Result, runs: list[dict], reference: sm.RefPlant) -> list:
    """(name, engine figure, SimPy figure) of every figure of every period: exits, mean cycle
    time, WIP, each station's busy share, and with power the mean and the peak kW."""
    mine, theirs = result.lanes, simpy_as_lanes(runs, reference)
    np.testing.assert_allclose(result.periods.start_h, sm.series(runs)["start_h"])
    assert {key for key in mine if key.startswith("series.")} == theirs.keys()
    with np.errstate(invalid="ignore", divide="ignore"):  # a period without exits: NaN
        mine = {**mine, "series.cycle_time": mine["series.ct_sum"] / mine["series.exits"]}
        theirs["series.cycle_time"] = theirs["series.ct_sum"] / theirs["series.exits"]
    pairs = []
    for k, start in enumerate(result.periods.start_h):
        for key in ("series.exits", "series.cycle_time", "series.wip", "series.mean_kw",
                    "series.peak_kw"):
            if key in theirs:
                pairs.append((f"{key}[{start:g}h]", ref.as_figure(mine[key][:, k]),
                              ref.as_figure(theirs[key][:, k])))
        for j, sid in enumerate(result.station_ids):
            pairs.append((f"{sid}.busy[{start:g}h]", ref.as_figure(mine["series.busy"][:, k, j]),
                          ref.as_figure(theirs["series.busy"][:, k, j])))
    return pairs


def window_pairs(result: twin.Result, runs: list[dict]) -> list:
    """(name, engine figure, SimPy figure) of the window's figures."""
    lanes = result.lanes
    pairs = [(key, ref.as_figure(lanes[key]), ref.as_figure([r[key] for r in runs]))
             for key in ("throughput_per_h", "cycle_time_h", "wip")]
    for j, sid in enumerate(result.station_ids):
        for f in ("busy", "waiting", "idle", "throughput_per_h", "mean_wait_h"):
            pairs.append((f"{sid}.{f}", ref.as_figure(lanes[f"station.{f}"][:, j]),
                          ref.as_figure([r["stations"][j][f] for r in runs])))
    for i, q in enumerate(result.product_ids):
        for f in ("throughput_per_h", "cycle_time_h"):
            pairs.append((f"{q}.{f}", ref.as_figure(lanes[f"product.{f}"][:, i]),
                          ref.as_figure([r["products"][q][f] for r in runs])))
    for i, pool in enumerate(result.pool_ids):
        for f in ("busy", "mean_wait_h"):
            pairs.append((f"{pool}.{f}", ref.as_figure(lanes[f"resources.{f}"][:, i]),
                          ref.as_figure([r["resources"][i][f] for r in runs])))
    if "power.mean_kw" in lanes:
        for key in ("mean_kw", "max_kw"):
            pairs.append((key, ref.as_figure(lanes[f"power.{key}"]),
                          ref.as_figure([r["power"][key] for r in runs])))
    return pairs


def assert_agree(pairs: list) -> None:
    """The two-sample test of tests/test_reference.py on every pair but those that are
    exactly 0 on both sides."""
    ref.assert_two_sample([(name, a, b) for name, a, b in pairs
                           if not (a["ci95"][0] == a["ci95"][1] == b["mean"] == 0.0)])


@pytest.fixture(scope="module")
def ramp_runs(stat_seed):
    return engine_and_simpy(RAMP, stat_seed + 11)


def test_engine_agrees_with_simpy_on_every_period_of_a_ramp(ramp_runs):
    result, runs, reference = ramp_runs
    assert_agree(period_pairs(result, runs, reference))
    # the plant exercises what it is meant to: the last period is short, output rises, every
    # station works in every period, jobs wait for technicians and for power
    assert result.periods.length_h.tolist() == [25.0] * 6 + [15.0]
    rate = result.lanes["series.exits"].mean(axis=0) / result.periods.length_h
    assert rate[-1] > 1.5 * rate[0]
    assert (result.lanes["series.busy"].mean(axis=0) > 0.01).all()
    assert result.lanes["resources.mean_wait_h"].mean() > 0.01
    assert result.lanes["power.station.power_wait"][:, 1].mean() > 0.005


def test_engine_agrees_with_simpy_on_the_window_of_a_ramp(ramp_runs):
    result, runs, _ = ramp_runs
    assert_agree(window_pairs(result, runs))
    assert result.lanes["station.throughput_per_h"][:, 3].mean() > 0.1  # the rework loop runs


def test_engine_agrees_with_simpy_on_an_exact_poisson_release(stat_seed):
    result, runs, reference = engine_and_simpy(NHPP, stat_seed + 13)
    assert reference.release == "nhpp"
    assert_agree(period_pairs(result, runs, reference) + window_pairs(result, runs))
    # the release follows the plan's rate, 0.25, 2.5 and 1 an hour, less what cut holds back
    rate = result.lanes["series.exits"].mean(axis=0) / result.periods.length_h
    assert rate[0] < 0.3 and rate[3] > 2.0
    # cut holds the source back: fewer jobs enter than the plan's 172.5 arrivals
    assert result.lanes["jobs_entered"].mean() < 172.5 - 15
