"""Tests of the SimPy reference model (benchmarks/simpy_model.py): exact hand-computed traces,
invariants, and agreement with queueing theory."""

import importlib
import itertools
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

# `benchmarks` is not an installed package: import it from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sm = importlib.import_module("benchmarks.simpy_model")


def cycling(*values):
    """A sampler that returns ``values`` in turn, ignoring the generator (for exact traces)."""
    it = itertools.cycle(values)
    return lambda rng: next(it)


def assert_agrees(values, expected, slack=0.0):
    """The mean of per-replication ``values`` lies within two 95% half-widths (about four
    standard errors) plus ``slack`` of ``expected``."""
    mean, half = sm.mean_ci(values)
    assert abs(mean - expected) <= 2 * half + slack, (mean, half, expected)


def column(results, key, station=None):
    if station is None:
        return [r[key] for r in results]
    return [r["stations"][station][key] for r in results]


# --------------------------------------------------------------------------- exact traces


def test_source_holds_job_and_restarts_interarrival_on_entry():
    # Arrivals every 2 h, one server, no buffer, service 3 h then 1 h in turn. Job 1 is served
    # [2, 5]; job 2 is ready at 4, held at the source, enters at 5 and is served [5, 6]; the
    # next interarrival starts at 5, so job 3 enters at 7 (not 6): a 5 h period of 2 jobs.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(2.0),
        stations=[sm.RefStation(servers=1, buffer=0, process=cycling(3.0, 1.0))],
        horizon=112.0,
        warmup=12.0,
    )
    r = sm.run_replication(plant, seed=0)
    assert r["exits"] == 40  # at 15, 16, 20, 21, ..., 110, 111
    assert r["throughput_per_h"] == pytest.approx(0.4)
    assert r["cycle_time_h"] == pytest.approx(2.0)
    assert r["cycle_time_p50"] == pytest.approx(2.0)
    assert r["wip"] == pytest.approx(0.8)  # busy [12, 16], [17, 21], ..., [107, 111]
    st = r["stations"][0]
    assert st["busy"] == pytest.approx(0.8)
    assert st["idle"] == pytest.approx(0.2)
    assert st["blocked"] == st["down"] == 0.0
    assert st["mean_wait_h"] == 0.0 and st["mean_queue"] == 0.0
    assert st["throughput_per_h"] == pytest.approx(0.4)


def test_window_is_closed_at_horizon():
    plant = sm.RefPlant(
        interarrival=sm.deterministic(2.0),
        stations=[sm.RefStation(servers=1, buffer=0, process=cycling(3.0, 1.0))],
        horizon=111.0,  # an exit happens at exactly 111
        warmup=12.0,
    )
    r = sm.run_replication(plant, seed=0)
    assert r["exits"] == 40
    assert r["wip"] == pytest.approx(80 / 99)


def test_blocking_after_service_trace():
    # Arrivals every 0.5 h into two single-server stations without buffers, services 1 h and
    # 2 h. In steady state each job enters station 0, is served 1 h, blocked 1 h, served 2 h at
    # station 1 and exits 4 h after entry; a job is held at the source most of the time.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(0.5),
        stations=[
            sm.RefStation(servers=1, buffer=0, process=sm.deterministic(1.0)),
            sm.RefStation(servers=1, buffer=0, process=sm.deterministic(2.0)),
        ],
        horizon=110.0,
        warmup=10.0,
    )
    r = sm.run_replication(plant, seed=0)
    assert r["exits"] == 50
    assert r["throughput_per_h"] == pytest.approx(0.5)
    assert r["cycle_time_h"] == pytest.approx(4.0)
    assert r["cycle_time_p95"] == pytest.approx(4.0)
    assert r["wip"] == pytest.approx(2.0)
    s0, s1 = r["stations"]
    assert (s0["busy"], s0["blocked"], s0["idle"]) == pytest.approx((0.5, 0.5, 0.0))
    assert (s1["busy"], s1["blocked"], s1["idle"]) == pytest.approx((1.0, 0.0, 0.0))
    assert s0["throughput_per_h"] == s1["throughput_per_h"] == pytest.approx(0.5)
    assert s0["mean_wait_h"] == s1["mean_wait_h"] == 0.0


def test_buffer_wait_and_queue_trace():
    # Arrivals every 1 h, one server of 3 h, buffer 1: every job waits 3 h in the buffer.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(1.0),
        stations=[sm.RefStation(servers=1, buffer=1, process=sm.deterministic(3.0))],
        horizon=109.5,
        warmup=9.5,
    )
    r = sm.run_replication(plant, seed=0)
    st = r["stations"][0]
    assert st["mean_wait_h"] == pytest.approx(3.0)
    assert st["mean_queue"] == pytest.approx(1.0)
    assert r["cycle_time_h"] == pytest.approx(6.0)
    assert r["wip"] == pytest.approx(2.0)
    assert r["exits"] == 34  # at 10, 13, ..., 109


# --------------------------------------------------------------------------- theory


def test_mm1_cycle_time_and_utilisation():
    lam, mu = 0.8, 1.0
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[sm.RefStation(servers=1, buffer=None, process=sm.exponential(1 / mu))],
        horizon=2300.0,
        warmup=300.0,
    )
    results = sm.run(plant, replications=20, seed=1)
    assert_agrees(column(results, "cycle_time_h"), 1 / (mu - lam))
    assert_agrees(column(results, "busy", 0), lam / mu)
    assert_agrees(column(results, "throughput_per_h"), lam)
    # Mean wait in queue: rho / (mu - lam); mean queue length: rho^2 / (1 - rho).
    assert_agrees(column(results, "mean_wait_h", 0), (lam / mu) / (mu - lam))
    assert_agrees(column(results, "mean_queue", 0), (lam / mu) ** 2 / (1 - lam / mu))


def test_failures_down_fraction():
    # Lightly loaded: each hour of processing brings on average 1/mtbf failures of mttr each.
    mtbf, mttr = 10.0, 2.0
    plant = sm.RefPlant(
        interarrival=sm.exponential(5.0),
        stations=[
            sm.RefStation(servers=1, buffer=None, process=sm.exponential(1.0), mtbf=mtbf, mttr=mttr)
        ],
        horizon=2200.0,
        warmup=200.0,
    )
    results = sm.run(plant, replications=20, seed=2)
    busy = np.array(column(results, "busy", 0))
    down = np.array(column(results, "down", 0))
    assert_agrees(busy, 0.2)
    assert_agrees(down / busy, mttr / mtbf)


def test_rework_routing_flows():
    # assemble -> test; test -> exit (0.8) or rework (0.2); rework -> test. Visits to test:
    # 1 / 0.8 per job.
    lam = 0.4
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[
            sm.RefStation(servers=1, buffer=None, process=sm.exponential(1.0)),
            sm.RefStation(
                servers=2, buffer=None, process=sm.gamma(1.0, 0.5), routes=[(3, 0.8), (2, 0.2)]
            ),
            sm.RefStation(servers=1, buffer=None, process=sm.uniform(0.5, 1.5), routes=[(1, 1.0)]),
        ],
        horizon=2200.0,
        warmup=200.0,
    )
    results = sm.run(plant, replications=10, seed=3)
    assert_agrees(column(results, "throughput_per_h"), lam)
    assert_agrees(column(results, "throughput_per_h", 1), lam / 0.8)
    assert_agrees(column(results, "throughput_per_h", 2), lam * 0.25)
    assert_agrees(column(results, "busy", 1), lam / 0.8 / 2)


# --------------------------------------------------------------------------- invariants


def test_tandem_blocking_fractions_sum_to_one():
    results = sm.run(sm.blocking_line(horizon=1200.0, warmup=200.0), replications=4, seed=4)
    for r in results:
        for j, st in enumerate(r["stations"]):
            parts = [st["busy"], st["blocked"], st["down"], st["idle"]]
            assert all(p >= -1e-12 for p in parts)
            assert sum(parts) == pytest.approx(1.0, abs=1e-12)
            assert st["down"] == 0.0
            assert (st["blocked"] > 0) == (j < 2)  # the last station never blocks
    # Flow is conserved along the line, and the source is throttled below 0.8/h.
    tp = np.array([[st["throughput_per_h"] for st in r["stations"]] for r in results])
    assert np.ptp(tp, axis=1).max() < 0.01
    assert np.mean(column(results, "throughput_per_h")) < 0.75


def test_littles_law_with_failures_blocking_and_rework():
    plant = sm.RefPlant(
        interarrival=sm.exponential(1.25),
        stations=[
            sm.RefStation(servers=2, buffer=3, process=sm.lognormal(1.6, 0.3), mtbf=50.0, mttr=2.0),
            sm.RefStation(
                servers=2,
                buffer=1,
                process=sm.triangular(1.0, 1.5, 2.5),
                routes=[(3, 0.9), (2, 0.1)],
            ),
            # Unlimited: a finite rework buffer could deadlock with a full test station.
            sm.RefStation(servers=1, buffer=None, process=sm.exponential(0.5), routes=[(1, 1.0)]),
        ],
        horizon=2200.0,
        warmup=200.0,
    )
    results = sm.run(plant, replications=6, seed=5)
    for r in results:
        assert r["wip"] == pytest.approx(r["throughput_per_h"] * r["cycle_time_h"], rel=0.03)
        assert r["cycle_time_p50"] <= r["cycle_time_p95"]
        s0 = r["stations"][0]
        assert s0["down"] > 0 and s0["blocked"] > 0
        for st in r["stations"]:
            assert st["busy"] + st["blocked"] + st["down"] + st["idle"] == pytest.approx(1.0)
        # Per station, Little's law on the buffer: queue = departures rate * wait.
        for st in r["stations"][:2]:
            assert st["mean_queue"] == pytest.approx(
                st["throughput_per_h"] * st["mean_wait_h"], rel=0.05, abs=0.01
            )


def test_same_seed_same_result_and_seeds_differ():
    plant = sm.blocking_line(horizon=300.0, warmup=50.0)
    a, b = sm.run_replication(plant, 7), sm.run_replication(plant, 7)
    assert a == b
    assert sm.run_replication(plant, 8) != a
    assert a["events"] > a["jobs"] > a["exits"] > 0


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "spec, mean, cv",
    [
        ({"dist": "exponential", "mean": 2.0}, 2.0, 1.0),
        ({"dist": "deterministic", "value": 0.75}, 0.75, 0.0),
        ({"dist": "uniform", "low": 1.0, "high": 3.0}, 2.0, (2 / math.sqrt(12)) / 2.0),
        ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 4.0}, 7 / 3, None),
        ({"dist": "lognormal", "mean": 1.6, "cv": 0.3}, 1.6, 0.3),
        ({"dist": "gamma", "mean": 0.5, "cv": 0.5}, 0.5, 0.5),
        ({"dist": "empirical", "values": [1.0, 2.0, 6.0]}, 3.0, None),
        (0.25, 0.25, 0.0),
    ],
)
def test_sampler_moments(spec, mean, cv):
    draw = sm.sampler(spec)
    rng = np.random.default_rng(0)
    x = np.array([draw(rng) for _ in range(20000)])
    assert x.mean() == pytest.approx(mean, rel=0.03)
    if cv is not None:
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.05, abs=1e-12)


def test_from_plant_duck_typed():
    stations = [
        SimpleNamespace(
            servers=2,
            buffer=4,
            process=SimpleNamespace(dist="lognormal", mean=1.6, cv=0.3),
            failures=SimpleNamespace(mtbf=200.0, mttr=2.0),
        ),
        SimpleNamespace(
            servers=3,
            buffer=None,
            process=SimpleNamespace(dist="triangular", low=1.0, mode=2.0, high=4.0),
            failures=None,
        ),
    ]
    routes = {0: [(1, 1.0)], 1: [(2, 0.95), (0, 0.05)]}
    plant = SimpleNamespace(
        horizon=300.0,
        warmup=50.0,
        source=SimpleNamespace(interarrival=SimpleNamespace(dist="exponential", mean=1.25)),
        stations=stations,
        routes=lambda j: routes[j],
    )
    ref = sm.from_plant(plant)
    assert (ref.horizon, ref.warmup) == (300.0, 50.0)
    assert [(s.servers, s.buffer, s.mtbf, s.mttr) for s in ref.stations] == [
        (2, 4, 200.0, 2.0),
        (3, None, None, None),
    ]
    assert ref.stations[1].routes == [(2, 0.95), (0, 0.05)]
    r = sm.run_replication(ref, seed=0)
    assert r["exits"] > 0 and len(r["stations"]) == 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"routes": [(1, 0.5)]}, "sum to"),
        ({"routes": [(5, 1.0)]}, "bad entry"),
        ({"servers": 0}, "servers"),
        ({"mtbf": 10.0}, "both"),
    ],
)
def test_invalid_plant_is_rejected(change, message):
    station = sm.RefStation(servers=1, buffer=None, process=sm.exponential(1.0))
    for key, value in change.items():
        setattr(station, key, value)
    plant = sm.RefPlant(sm.exponential(1.0), [station], horizon=10.0)
    with pytest.raises(ValueError, match=message):
        sm.run_replication(plant, seed=0)
