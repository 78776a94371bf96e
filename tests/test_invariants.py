"""Invariants of the engine: Little's law, conservation of jobs, fractions of server time,
where blocking can happen, and reproducibility of the random streams."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import twin
from twin.results.metrics import mean_ci

K = 2.5  # allowed half-widths of the 95% confidence interval


def hours(x: float) -> str:
    return f"{x!r}h"


# A plant with every feature at once: multi-server stations, finite buffers that block, a held
# source, failures, a rework loop (unlimited buffers inside it, so it cannot deadlock) and
# every kind of distribution.
MIXED = {
    "name": "mixed",
    "horizon": "400h", "warmup": "100h",
    "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
    "stations": [
        {"id": "kit", "servers": 1, "buffer": 2,
         "process": {"dist": "gamma", "mean": "40min", "cv": 0.5}},
        {"id": "assemble", "servers": 2, "buffer": 1,
         "process": {"dist": "lognormal", "mean": "1.4h", "cv": 0.4},
         "failures": {"mtbf": "20h", "mttr": "1h"}},
        {"id": "test", "servers": 2, "process": {"dist": "triangular", "low": "30min",
                                                  "mode": "1h", "high": "2h"},
         "failures": {"mtbf": "30h", "mttr": "30min"},
         "next": [{"to": "pack", "p": 0.85}, {"to": "rework", "p": 0.15}]},
        {"id": "rework", "servers": 1,
         "process": {"dist": "empirical", "values": ["30min", "1h", "1h", "2h"]},
         "next": "test"},
        {"id": "pack", "servers": 1, "buffer": 0,
         "process": {"dist": "uniform", "low": "20min", "high": "50min"}},
    ],
}


def mixed_plant(**changes):
    return twin.config.plant_from_dict({**MIXED, **changes})


def comparable(summary: dict) -> str:
    """The summary without its wall-clock time, as canonical text (NaN-safe, bitwise)."""
    return json.dumps({k: v for k, v in summary.items() if k != "wall_s"}, sort_keys=True)


# --------------------------------------------------------------------------- Little's law


def assert_zero_mean(values: np.ndarray, what: str) -> None:
    """Per-replication differences average to zero within K half-widths of their interval."""
    ci = mean_ci(values)
    half = (ci["ci95"][1] - ci["ci95"][0]) / 2
    assert abs(ci["mean"]) <= K * half, f"{what}: mean {ci['mean']:.4g} +/- {half:.3g}"


def test_littles_law(backend, stat_seed):
    """L = lambda W in every replication's window, for every station's buffer and for the plant.

    Over a window, area and sum of waits differ only by the parts of waits cut off at its
    two ends, which have equal expectations in steady state; the comparison is paired per
    replication (difference of the two sides), so its interval is narrow. The warm-up (100 h)
    is many times the time the plant takes to fill.
    """
    result = twin.simulate(mixed_plant(), replications=256, seed=stat_seed, backend=backend)
    lanes, ids = result.lanes, result.station_ids
    s = result.summary()
    # the plant is busy enough for the law to be tested: blocking, failures, queues
    assert s["stations"]["kit"]["blocked"]["mean"] > 0.01
    assert s["stations"]["assemble"]["down"]["mean"] > 0.01
    assert s["stations"]["test"]["mean_queue"]["mean"] > 0.05
    for j, sid in enumerate(ids):
        queue = lanes["station.mean_queue"][:, j]
        rate = lanes["station.throughput_per_h"][:, j]
        wait = lanes["station.mean_wait_h"][:, j]
        assert_zero_mean(queue - rate * wait, f"Little's law at {sid}")
    assert_zero_mean(lanes["wip"] - lanes["throughput_per_h"] * lanes["cycle_time_h"],
                     "Little's law for the plant")


# --------------------------------------------------------------------------- random plants


GRID = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # process means on a grid: deterministic ties happen
MAX_LOAD = 0.8


def time_dist(draw, mean: float) -> dict:
    kind = draw(st.sampled_from(["exponential", "deterministic", "uniform"]))
    if kind == "exponential":
        return {"dist": "exponential", "mean": hours(mean)}
    if kind == "deterministic":
        return {"dist": "deterministic", "value": hours(mean)}
    spread = draw(st.sampled_from([0.25, 0.5, 0.9]))
    return {"dist": "uniform", "low": hours(mean * (1 - spread)),
            "high": hours(mean * (1 + spread))}


@st.composite
def small_plants(draw):
    """Lines of 1-4 stations, 1-3 servers, buffers None or 0-3, exponential, deterministic or
    uniform times, an optional rework loop and optional failures; every station's offered load
    stays at most 0.8, and the stations of the loop have unlimited buffers (no deadlock).

    ``serial`` plants are lines of single servers with no loop and no failures.
    """
    J = draw(st.integers(1, 4))
    serial = draw(st.booleans())
    loop = None
    if not serial and draw(st.booleans()):
        last = draw(st.integers(0, J - 1))
        loop = (draw(st.integers(0, last)), last, draw(st.sampled_from([0.1, 0.3, 0.5])))
    stations = []
    for j in range(J):
        servers = 1 if serial else draw(st.integers(1, 3))
        in_loop = loop is not None and loop[0] <= j <= loop[1]
        buffer = None if in_loop else draw(st.one_of(st.none(), st.integers(0, 3)))
        visits = 1 / (1 - loop[2]) if in_loop else 1.0
        failures = None
        slowdown = 1.0
        if not serial and draw(st.booleans()):
            mtbf, mttr = draw(st.sampled_from([5.0, 20.0])), draw(st.sampled_from([0.5, 1.0]))
            failures = {"mtbf": hours(mtbf), "mttr": hours(mttr)}
            slowdown += mttr / mtbf
        allowed = [m for m in GRID if visits * m * slowdown / servers <= MAX_LOAD]
        station = {"id": f"s{j}", "servers": servers, "buffer": buffer,
                   "process": time_dist(draw, draw(st.sampled_from(allowed)))}
        if failures:
            station["failures"] = failures
        if loop is not None and j == loop[1]:
            forward = f"s{j + 1}" if j + 1 < J else "exit"
            station["next"] = [{"to": forward, "p": 1 - loop[2]},
                               {"to": f"s{loop[0]}", "p": loop[2]}]
        stations.append(station)
    horizon = draw(st.sampled_from([30.0, 60.0]))
    warmup = draw(st.sampled_from([0.0, 5.0, 12.5]))
    plant = twin.config.plant_from_dict({
        "name": "random", "horizon": hours(horizon), "warmup": hours(warmup),
        "source": {"interarrival": time_dist(draw, 1.0)}, "stations": stations,
    })
    return plant, serial


def never_blocks(plant, j: int) -> bool:
    """Whether every place station j can send jobs to has an unlimited buffer (or is exit)."""
    return all(k == len(plant.stations) or plant.stations[k].buffer is None
               for k, p in plant.routes(j) if p > 0)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=small_plants(), seed=st.integers(0, 2**32))
def test_conservation_and_fractions(backend, case, seed):
    plant, serial = case
    event(f"{len(plant.stations)} stations")
    event("serial" if serial else "general")
    if any(len(plant.routes(j)) > 1 for j in range(len(plant.stations))):
        event("rework loop")
    if any(st_.failures is not None for st_ in plant.stations):
        event("failures")
    if not all(never_blocks(plant, j) for j in range(len(plant.stations))):
        event("blocking possible")
    result = twin.simulate(plant, replications=4, seed=seed, backend=backend)
    lanes = result.lanes
    # every job that entered has left or is still inside, in every replication
    np.testing.assert_array_equal(lanes["jobs_entered"],
                                  lanes["jobs_exited"] + lanes["jobs_inside"])
    assert np.all(lanes["exits"] <= lanes["jobs_exited"])
    capacity = [st_.servers + st_.buffer for st_ in plant.stations if st_.buffer is not None]
    if len(capacity) == len(plant.stations):
        assert np.all(lanes["jobs_inside"] <= sum(capacity))
    fractions = [lanes[f"station.{f}"] for f in ("busy", "blocked", "down", "idle")]
    for f in fractions:
        assert np.all((f >= -1e-9) & (f <= 1 + 1e-9))
    np.testing.assert_allclose(sum(fractions), 1.0, rtol=0, atol=1e-9)
    for j, station in enumerate(plant.stations):
        if never_blocks(plant, j):
            assert np.all(lanes["station.blocked"][:, j] == 0.0), station.id
        if station.failures is None:
            assert np.all(lanes["station.down"][:, j] == 0.0), station.id
        if station.buffer is not None:
            assert np.all(lanes["station.mean_queue"][:, j] <= station.buffer + 1e-9)
            if station.buffer == 0:
                assert np.all(lanes["station.mean_queue"][:, j] == 0.0), station.id
    assert np.all(lanes["wip"] >= 0)


# --------------------------------------------------------------------------- random streams


def test_same_seed_same_summary(backend):
    plant = mixed_plant(horizon="150h", warmup="20h")
    a = twin.simulate(plant, replications=16, seed=3, backend=backend)
    b = twin.simulate(plant, replications=16, seed=3, backend=backend)
    assert comparable(a.summary()) == comparable(b.summary())
    c = twin.simulate(plant, replications=16, seed=4, backend=backend)
    assert comparable(c.summary()) != comparable(a.summary())
    assert not np.array_equal(c.lanes["throughput_per_h"], a.lanes["throughput_per_h"])


def test_common_random_numbers(backend):
    """The same plant run twice gives identical per-replication figures, and replication r
    does not depend on how many replications run with it (streams keyed by its index)."""
    plant = mixed_plant(horizon="150h", warmup="20h")
    first = twin.simulate(plant, replications=16, seed=9, backend=backend)
    again = twin.simulate(plant, replications=16, seed=9, backend=backend)
    fewer = twin.simulate(plant, replications=8, seed=9, backend=backend)
    for key, values in first.lanes.items():
        np.testing.assert_array_equal(values, again.lanes[key], err_msg=key)
        np.testing.assert_array_equal(values[:8], fewer.lanes[key], err_msg=key)
    assert np.array_equal(first.lanes["throughput_per_h"][:8], fewer.lanes["throughput_per_h"])
    # the replications differ from each other
    assert len(np.unique(first.lanes["throughput_per_h"])) > 8


def test_backends_agree():
    """NumPy and CuPy draw the same streams and apply the same events: the same figures up to
    the last bits of the transcendental functions."""
    try:
        twin._backend.get_backend("cupy")
    except twin.errors.TwinError:
        pytest.skip("no usable GPU: CuPy tests run on a machine with one")
    plant = mixed_plant(horizon="150h", warmup="20h")
    cpu = twin.simulate(plant, replications=64, seed=5, backend="numpy")
    gpu = twin.simulate(plant, replications=64, seed=5, backend="cupy")
    assert gpu.backend == "cupy"
    for key, values in cpu.lanes.items():
        np.testing.assert_allclose(gpu.lanes[key], values, rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=key)
