"""Tests of the SimPy reference model (reference/twin_reference/simpy_model.py): exact
hand-computed traces, invariants, and agreement with queueing theory."""

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest

from twin_reference import simpy_model as sm


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


# --------------------------------------------------------------------------- power


def capped_pair(horizon=12.0, warmup=0.0, interval=1.0):
    """Two servers; every job takes 4 h in two steps of 2 h, drawing 8 then 10 kW. Idle draws
    1 kW, waiting 2 kW, so standby is 2 kW and the steps reserve 6 and 8 kW above it. Base load
    5 kW, cooling factor 1.25, cap 22 kW: the plant may reserve (22 - 5) / 1.25 - 2 x 2 = 9.6 kW
    above standby, room for one busy server and never two. Jobs A and B arrive at 1 and 2, the
    next at 102."""
    return sm.RefPlant(
        interarrival=cycling(1.0, 1.0, 100.0),
        stations=[
            sm.RefStation(
                servers=2,
                buffer=None,
                process=sm.deterministic(4.0),
                power_idle=1.0,
                power_waiting=2.0,
                busy_steps=[(0.5, 8.0), (0.5, 10.0)],
            )
        ],
        horizon=horizon,
        warmup=warmup,
        base_load=5.0,
        cooling_factor=1.25,
        cap=22.0,
        demand_interval=interval,
    )


def test_power_cap_trace():
    # 1: A takes server 1 and starts step 0 (reserves 6). 2: B takes server 2, 6 + 6 > 9.6:
    # B waits. 3: A asks for step 1 (+2, it would fit) but the queue holds B, so A waits at
    # standby and that frees 6: B starts step 0. 5: B asks for step 1 and queues behind A;
    # freeing B's 6 lets A (8) in. 7: A exits, B (8) starts step 1. 9: B exits.
    # Server 1: idle 1 kW [0,1], 8 [1,3], waiting 2 [3,5], 10 [5,7], idle 1 [7,12]: 46 kWh.
    # Server 2: idle [0,2], waiting [2,3], 8 [3,5], waiting [5,7], 10 [7,9], idle [9,12]: 47.
    r = sm.run_replication(capped_pair(), seed=0)
    st = r["stations"][0]
    assert st["energy_kwh"] == pytest.approx(93.0)
    assert st["power_wait"] == pytest.approx(5 / 24)  # 2 h + 3 h of 24 server-hours
    assert (st["busy"], st["idle"], st["blocked"]) == pytest.approx((8 / 24, 11 / 24, 0.0))
    assert st["mean_wait_h"] == 0.0  # both took a server at once; the wait was for power
    assert (r["exits"], r["cycle_time_h"]) == (2, pytest.approx(6.5))  # A 1 -> 7, B 2 -> 9
    # Heat by hour 2, 9, 10, 10, 10, 12, 12, 11, 11, 2, 2, 2; plant draw 5 + 1.25 x heat.
    power = r["power"]
    bins = [7.5, 16.25, 17.5, 17.5, 17.5, 20.0, 20.0, 18.75, 18.75, 7.5, 7.5, 7.5]
    assert power["bins_kw"] == pytest.approx(bins)
    assert power["energy_kwh"] == pytest.approx(5 * 12 + 1.25 * 93)
    assert power["mean_kw"] == pytest.approx(176.25 / 12)
    assert power["max_kw"] == power["peak_kw"] == pytest.approx(20.0)
    # Completion times, window closed at the horizon: A at 7, B at 9.
    for horizon, exits in [(6.99, 0), (7.0, 1), (8.99, 1), (9.0, 2)]:
        assert sm.run_replication(capped_pair(horizon), seed=0)["exits"] == exits


class ScriptedRng:
    """Stands in for the generator: ``exponential`` returns ``values`` in turn, then 100."""

    def __init__(self, *values):
        self.values = list(values)

    def exponential(self, mean):
        return self.values.pop(0) if self.values else 100.0


def test_power_cap_trace_with_a_failure():
    # The trace above, but A fails 0.5 h into step 0 (times to failure and repairs come from
    # the script: 0.5, then a 1 h repair, then 100 each). Down [1.5, 2.5], A draws 0.5 kW yet
    # keeps its step's reservation, so B still waits at 2; A resumes at 2.5 without asking and
    # ends step 0 at 4. Then as before, 1 h later: B step 0 [4, 6], A step 1 [6, 8], B step 1
    # [8, 10]. Server 1: 1 + 4 + 0.5 + 12 + 4 + 20 + 4 = 45.5 kWh; server 2: 2 + 4 + 16 + 4 +
    # 20 + 2 = 48.
    plant = capped_pair()
    st = plant.stations[0]
    st.mtbf = st.mttr = 1.0  # means unused: the script gives the times
    st.power_down = 0.5
    sm.check(plant)
    r = sm.Replication(plant, ScriptedRng(0.5, 1.0)).run()
    s0 = r["stations"][0]
    assert s0["energy_kwh"] == pytest.approx(93.5)
    assert s0["power_wait"] == pytest.approx(6 / 24)  # A [4, 6]; B [2, 4] and [6, 8]
    assert (s0["busy"], s0["down"]) == pytest.approx((8 / 24, 1 / 24))
    assert (r["exits"], r["cycle_time_h"]) == (2, pytest.approx(7.5))  # A 1 -> 8, B 2 -> 10
    # Heat by hour: [1, 2] A 8 then down 0.5 from 1.5, B idle 1; [2, 3] A down then 8 from
    # 2.5, B waiting 2; then 10, 10, 10, 12, 12, 11, 11, 2, 2.
    heat = [2, 0.5 * 9 + 0.5 * 1.5, 0.5 * 2.5 + 0.5 * 10, 10, 10, 10, 12, 12, 11, 11, 2, 2]
    assert r["power"]["bins_kw"] == pytest.approx([5 + 1.25 * h for h in heat])


def test_power_window_and_partial_demand_intervals():
    # The trace above seen over [0.5, 12] in 2.5 h intervals: [0.5, 2.5] and [10, 12] are
    # partial, averaged over the part they cover.
    r = sm.run_replication(capped_pair(warmup=0.5, interval=2.5), seed=0)
    assert r["stations"][0]["energy_kwh"] == pytest.approx(92.0)
    assert r["stations"][0]["power_wait"] == pytest.approx(5 / 23)
    power = r["power"]
    assert power["bins_kw"] == pytest.approx([28.75 / 2, 17.5, 49.375 / 2.5, 35.625 / 2.5, 7.5])
    assert power["energy_kwh"] == pytest.approx(176.25 - 0.5 * 7.5)
    assert power["mean_kw"] == pytest.approx(15.0)
    assert power["peak_kw"] == pytest.approx(19.75)
    assert power["max_kw"] == pytest.approx(20.0)


def test_mmc_mean_power_with_cooling():
    # M/M/2, rho = 0.75; busy profile 12 kW for a quarter of each job then 8 kW (9 kW on
    # average), idle 2 kW, base 10 kW, COP 3.
    lam, mu, c = 1.5, 1.0, 2
    idle, busy, base, factor = 2.0, 0.25 * 12.0 + 0.75 * 8.0, 10.0, 1 + 1 / 3
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[
            sm.RefStation(
                servers=c,
                buffer=None,
                process=sm.exponential(1 / mu),
                power_idle=idle,
                busy_steps=[(0.25, 12.0), (0.75, 8.0)],
            )
        ],
        horizon=2300.0,
        warmup=300.0,
        base_load=base,
        cooling_factor=factor,
    )
    results = sm.run(plant, replications=10, seed=6)
    rho = lam / (c * mu)
    assert_agrees(
        [r["power"]["mean_kw"] for r in results],
        base + factor * c * (rho * busy + (1 - rho) * idle),
    )
    for r in results:
        assert r["stations"][0]["power_wait"] == 0.0  # no cap, no waiting
        assert r["power"]["max_kw"] == pytest.approx(base + factor * c * 12.0)


def mmk_distribution(lam, mu, k, n_max=400):
    """Stationary distribution of the number in an M/M/k system, truncated at ``n_max``."""
    a, rho = lam / mu, lam / (k * mu)
    weights = [
        a**n / math.factorial(n) if n <= k else a**k / math.factorial(k) * rho ** (n - k)
        for n in range(n_max)
    ]
    total = sum(weights)
    return np.array(weights) / total


def test_cap_makes_mmc_an_mmk():
    # Four servers, but a cap of 25 kW with 10 kW per busy server: two process at a time, the
    # others hold jobs waiting for power. Jobs are taken FIFO by servers and then by the power
    # queue, so the number in the system is that of M/M/2 (Erlang C), with N - 2 waiting for
    # power (at most 2 of them) and N - 4 in the buffer.
    lam, mu, k = 1.2, 1.0, 2
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[
            sm.RefStation(
                servers=4, buffer=None, process=sm.exponential(1 / mu), busy_steps=[(1.0, 10.0)]
            )
        ],
        horizon=2300.0,
        warmup=300.0,
        cap=25.0,
    )
    results = sm.run(plant, replications=16, seed=7)
    p = mmk_distribution(lam, mu, k)
    n = np.arange(p.size)
    # Erlang C: P(wait) = p_k / (1 - rho), L = Lq + a.
    rho, a = lam / (k * mu), lam / mu
    erlang_c = p[k] / (1 - rho)
    assert (p * n).sum() == pytest.approx(erlang_c * rho / (1 - rho) + a)
    assert_agrees(column(results, "wip"), (p * n).sum())
    assert_agrees(column(results, "busy", 0), lam / mu / 4)
    assert_agrees(
        [4 * w for w in column(results, "power_wait", 0)], (p * np.clip(n - 2, 0, 2)).sum()
    )
    assert_agrees(column(results, "mean_queue", 0), (p * np.clip(n - 4, 0, None)).sum())
    for r in results:
        assert r["power"]["max_kw"] <= 25.0 * (1 + 1e-9)
        assert r["power"]["max_kw"] == pytest.approx(20.0)


def metered_line(**plant_power):
    """Two stations with failures and blocking: ``a`` (2 servers, constant busy draw) and ``b``
    (1 server, two-step profile). Standby is 2 kW per server at ``a`` and 0.5 at ``b``; busy,
    ``a`` reserves 4 kW above it and ``b`` 8.5 then 3.5. The default cap lets the plant reserve
    (20.4 - 3) / 1.2 - 4.5 = 10 kW above standby: both ``a`` servers, ``b``'s first step alone,
    or its second with one ``a``; so both stations wait for power at times."""
    a = sm.RefStation(
        servers=2,
        buffer=1,
        process=sm.exponential(2.0),
        mtbf=20.0,
        mttr=1.0,
        power_idle=1.0,
        busy_steps=[(1.0, 6.0)],
        power_blocked=2.0,
        power_down=0.5,
        power_waiting=1.5,
    )
    b = sm.RefStation(
        servers=1,
        buffer=0,
        process=sm.lognormal(1.0, 0.5),
        mtbf=30.0,
        mttr=0.5,
        power_idle=0.5,
        busy_steps=[(0.3, 9.0), (0.7, 4.0)],
    )
    power = {"base_load": 3.0, "cooling_factor": 1.2, "cap": 20.4, "demand_interval": 0.75}
    return sm.RefPlant(
        interarrival=sm.exponential(1.6),
        stations=[a, b],
        horizon=400.7,
        warmup=10.3,
        **{**power, **plant_power},
    )


@pytest.fixture(scope="module")
def metered_results():
    return sm.run(metered_line(), replications=4, seed=8)


def test_energy_is_the_integral_of_demand_intervals(metered_results):
    plant = metered_line()
    warmup, horizon, d = plant.warmup, plant.horizon, plant.demand_interval
    inner = [i * d for i in range(math.floor(warmup / d) + 1, math.ceil(horizon / d))]
    lengths = np.diff([warmup, *inner, horizon])
    for r in metered_results:
        power = r["power"]
        assert len(power["bins_kw"]) == lengths.size
        assert np.dot(power["bins_kw"], lengths) == pytest.approx(power["energy_kwh"], rel=1e-10)
        assert power["mean_kw"] <= power["peak_kw"] == max(power["bins_kw"]) <= power["max_kw"]
        assert power["max_kw"] <= plant.cap * (1 + 1e-9)
        assert all(st["power_wait"] > 0 for st in r["stations"])  # the cap binds at both


def test_station_energy_is_state_time_times_draw(metered_results):
    # Station a draws a constant 6 kW when busy, so its energy is its state fractions times
    # their draws, exactly; and the fractions, waiting for power included, sum to 1.
    plant = metered_line()
    span, a = plant.horizon - plant.warmup, plant.stations[0]
    for r in metered_results:
        st = r["stations"][0]
        assert st["down"] > 0 and st["blocked"] > 0
        states = ["idle", "busy", "blocked", "down", "power_wait"]
        assert sum(st[s] for s in states) == pytest.approx(1.0, abs=1e-12)
        draws = [a.power_idle, 6.0, a.power_blocked, a.power_down, a.power_waiting]
        expected = span * a.servers * sum(st[s] * kw for s, kw in zip(states, draws, strict=True))
        assert st["energy_kwh"] == pytest.approx(expected, rel=1e-9)


def flow_figures(result):
    """A replication's figures without the power ones."""
    drop = {"power_wait", "energy_kwh"}
    stations = [{k: v for k, v in st.items() if k not in drop} for st in result["stations"]]
    return {**{k: v for k, v in result.items() if k != "power"}, "stations": stations}


def without_station_power(plant):
    for st in plant.stations:
        st.power_idle = st.power_blocked = st.power_down = st.power_waiting = 0.0
        st.busy_steps = None
    return plant


@pytest.mark.parametrize("case", ["no cap", "loose cap", "plant block only"])
def test_power_without_a_binding_cap_leaves_the_flow_alone(case):
    # With one constant busy step the powered model draws the same random numbers in the same
    # order as the plain one, so where the cap never binds every flow figure is identical.
    plant = metered_line(cap=None)  # draws, cooling and base load
    for st in plant.stations:
        st.busy_steps = [(1.0, max(kw for _, kw in st.busy_steps))]
    if case == "loose cap":  # every server busy reserves 6 + 6 + 9 kW: the gate grants all
        plant.cap = 3.0 + 1.2 * (6.0 + 6.0 + 9.0)
    elif case == "plant block only":
        without_station_power(plant)
    plain = without_station_power(metered_line(base_load=None, cooling_factor=1.0, cap=None))
    assert plant.metered() and not plain.metered()
    a, b = sm.run_replication(plain, seed=9), sm.run_replication(plant, seed=9)
    assert "power" not in a and "energy_kwh" not in a["stations"][0]
    assert flow_figures(b) == a
    assert all(st["power_wait"] == 0.0 for st in b["stations"])
    assert b["power"]["mean_kw"] > 0


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


def test_from_plant_reads_power():
    station_power = SimpleNamespace(
        idle=0.5, blocked=1.0, down=0.2, waiting=0.8, steps=lambda: [(0.4, 5.0), (0.6, 3.0)]
    )
    plant_power = SimpleNamespace(
        base_load=2.0, cap=40.0, demand_interval=0.5, cooling_factor=lambda: 1.25
    )
    stations = [
        SimpleNamespace(servers=2, buffer=None, process=1.0, failures=None, power=station_power),
        SimpleNamespace(servers=1, buffer=None, process=0.5, failures=None, power=None),
    ]
    plant = SimpleNamespace(
        horizon=100.0,
        warmup=10.0,
        source=SimpleNamespace(interarrival=SimpleNamespace(dist="exponential", mean=1.5)),
        stations=stations,
        routes=lambda j: [(j + 1, 1.0)],
        power=plant_power,
    )
    ref = sm.from_plant(plant)
    a, b = ref.stations
    assert (a.power_idle, a.power_blocked, a.power_down, a.power_waiting) == (0.5, 1.0, 0.2, 0.8)
    assert a.busy_steps == [(0.4, 5.0), (0.6, 3.0)] and a.standby() == 1.0
    assert not b.metered() and b.busy_steps is None
    assert (ref.base_load, ref.cooling_factor, ref.cap, ref.demand_interval) == (
        2.0,
        1.25,
        40.0,
        0.5,
    )
    r = sm.run_replication(ref, seed=0)
    assert len(r["power"]["bins_kw"]) == 180
    assert r["stations"][1]["energy_kwh"] == 0.0
    # No power anywhere: the plain model, without power figures.
    plant.power, stations[0].power = None, None
    ref = sm.from_plant(plant)
    assert not ref.metered() and "power" not in sm.run_replication(ref, seed=0)


@pytest.mark.parametrize(
    "station, plant, message",
    [
        ({"busy_steps": [(0.5, 4.0), (0.4, 2.0)]}, {}, "shares sum"),
        ({"busy_steps": [(1.0, 4.0)], "power_idle": -1.0}, {}, ">= 0"),
        # base 1 kW, standby 2 x 1 kW, a busy server 3 kW more: 6 kW, over a cap of 5.5 kW
        ({"busy_steps": [(1.0, 4.0)], "power_idle": 1.0}, {"base_load": 1.0, "cap": 5.5}, "below"),
        ({}, {"cooling_factor": 0.5}, "cooling_factor"),
    ],
)
def test_invalid_power_is_rejected(station, plant, message):
    spec = sm.RefStation(servers=2, buffer=None, process=sm.exponential(1.0), **station)
    ref = sm.RefPlant(sm.exponential(1.0), [spec], horizon=10.0, **plant)
    with pytest.raises(ValueError, match=message):
        sm.run_replication(ref, seed=0)


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


# --------------------------------------------------------------------------- transport


def line_distances(*xs):
    """Distances in metres between places on one straight aisle at positions ``xs``."""
    x = np.array(xs, dtype=float)
    return np.abs(x[:, None] - x[None, :])


# 1 km/h: a distance of 500 m takes 0.5 h.
KM_PER_H = 1 / 3.6


def vehicle_line(home=None, battery=None, interarrival=(2.8, 0.2), horizon=98.8, warmup=8.8):
    """Station A (2 servers, 1 h) hands its jobs to one vehicle that drives 500 m to station B
    (1 server, 0.5 h) in 0.5 h, loading and unloading in 0.1 h each. Places: 0 A's dock at
    0 m, 1 B's dock and 2 the shipping point at 500 m, 3 a home at A's dock, 4 a charger at
    750 m. Jobs arrive in pairs 0.2 h apart every 3 h."""
    fleet = sm.RefFleet(count=1, speed=KM_PER_H, load_time=0.1, unload_time=0.1, home=home)
    if battery is not None:
        fleet.capacity, fleet.charge_time, fleet.threshold = battery
        fleet.chargers = [4]
    return sm.RefPlant(
        interarrival=cycling(*interarrival),
        stations=[
            sm.RefStation(servers=2, buffer=None, process=sm.deterministic(1.0), fleet=0),
            sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.5)),
        ],
        horizon=horizon,
        warmup=warmup,
        fleets=[fleet],
        distance=line_distances(0, 500, 500, 0, 750),
    )


def test_vehicle_trace_without_home():
    # A pair enters A at s and s + 0.2 (s = 8.8 + 3k); the vehicle waits idle at B's dock.
    # Job 1 ends at s + 1: the vehicle drives empty [1, 1.5], loads [1.5, 1.6] (job 1 leaves
    # A), drives [1.6, 2.1] and unloads [2.1, 2.2]; B serves it [2.2, 2.7]. Job 2, done at 1.2,
    # waits for the vehicle: empty [2.2, 2.7], load [2.7, 2.8], drive [2.8, 3.3], unload
    # [3.3, 3.4], B [3.4, 3.9]. Cycle times 2.7 and 3.7; A blocked 0.6 + 1.6 of 6 server-hours;
    # waits for the vehicle 0.5 and 1.5; per 3 h the vehicle drives 1 h empty and 1 h loaded.
    r = sm.run_replication(vehicle_line(), seed=0)
    assert r["exits"] == 60
    assert r["throughput_per_h"] == pytest.approx(2 / 3)
    assert r["cycle_time_h"] == pytest.approx(3.2)
    assert r["cycle_time_p95"] == pytest.approx(3.7)
    assert r["wip"] == pytest.approx(6.4 / 3)  # jobs on the vehicle count: Little's law holds
    a, b = r["stations"]
    assert (a["busy"], a["blocked"], a["idle"]) == pytest.approx((1 / 3, 2.2 / 6, 1.8 / 6))
    assert a["throughput_per_h"] == b["throughput_per_h"] == pytest.approx(2 / 3)
    assert (b["busy"], b["blocked"]) == pytest.approx((1 / 3, 0.0))
    v = r["transport"][0]
    expected = {"loaded": 1 / 3, "empty": 1 / 3, "handling": 0.4 / 3, "charging": 0.0,
                "idle": 0.2, "mean_wait_h": 1.0, "trips_per_h": 2 / 3,
                "km_per_vehicle_per_h": 2 / 3}
    assert v == pytest.approx(expected)


def test_vehicle_trace_with_home():
    # The same line with a home at A's dock: the vehicle waits there, so job 1 is loaded at
    # once [1, 1.1], driven [1.1, 1.6] and unloaded [1.6, 1.7]. Job 2 waits from 1.2, so the
    # vehicle drives straight back to A for it [1.7, 2.2] (home is at A's dock: the same drive
    # as going home first), load [2.2, 2.3], drive [2.3, 2.8], unload [2.8, 2.9], B [2.9, 3.4];
    # with no request waiting the vehicle then drives home [2.9, 3.4].
    r = sm.run_replication(vehicle_line(home=3), seed=0)
    assert r["exits"] == 60
    assert r["cycle_time_h"] == pytest.approx(2.7)  # 2.2 and 3.2
    assert r["wip"] == pytest.approx(2 / 3 * 2.7)
    assert r["stations"][0]["blocked"] == pytest.approx((0.1 + 1.1) / 6)
    v = r["transport"][0]
    assert (v["loaded"], v["empty"], v["handling"], v["idle"]) == pytest.approx(
        (1 / 3, 1 / 3, 0.4 / 3, 0.2)
    )
    assert v["mean_wait_h"] == pytest.approx(0.5)  # 0 and 1.0


def test_vehicle_with_a_request_waiting_skips_home():
    # The vehicle_line with its home 250 m past B (at 750 m). A pair enters A at s and s + 0.2
    # (s = 2.8 + 3k); the vehicle waits at home. Job 1 ends at s + 1: the vehicle drives 750 m
    # empty [1, 1.75], loads [1.75, 1.85], drives [1.85, 2.35], unloads [2.35, 2.45]; B serves
    # it [2.45, 2.95]. Job 2 has waited since 1.2, so the vehicle drives from B straight to A
    # [2.45, 2.95] (not home first, which would have it back at A at 3.45), loads [2.95, 3.05],
    # drives [3.05, 3.55], unloads [3.55, 3.65]; B [3.65, 4.15]. No request waits then: it
    # drives home [3.65, 3.9] and is idle until s + 4. Per 3 h: cycle times 2.95 and 3.95, A
    # blocked 0.85 + 1.85 of 6 server-hours, waits 0.75 and 1.75, the vehicle 1 h loaded,
    # 0.75 + 0.5 + 0.25 h empty, 0.4 h handling and 0.1 h idle. The window [8.8, 98.8] holds
    # 30 periods, with 30 exits, 30 unloadings and 30 pickups of each job of a pair.
    plant = vehicle_line(home=3)
    plant.distance = line_distances(0, 500, 500, 750, 750)
    r = sm.run_replication(plant, seed=0)
    assert r["exits"] == 60
    assert r["cycle_time_h"] == pytest.approx(3.45)
    assert r["cycle_time_p95"] == pytest.approx(3.95)
    assert r["wip"] == pytest.approx(2 / 3 * 3.45)
    a, b = r["stations"]
    assert (a["busy"], a["blocked"], a["idle"]) == pytest.approx((2 / 6, 2.7 / 6, 1.3 / 6))
    assert (b["busy"], b["blocked"]) == pytest.approx((1 / 3, 0.0))
    expected = {"loaded": 1 / 3, "empty": 1.5 / 3, "handling": 0.4 / 3, "charging": 0.0,
                "idle": 0.1 / 3, "mean_wait_h": 1.25, "trips_per_h": 2 / 3,
                "km_per_vehicle_per_h": 2.5 / 3}
    assert r["transport"][0] == pytest.approx(expected)


def test_vehicle_takes_a_waiting_request_when_charging_ends():
    # Two vehicles at home (750 m), batteries of 2 h, threshold 0.5, 2 h to charge from empty,
    # one charger at 250 m. Jobs enter A at 1.0, 1.2 and 3.2 (the next at 1003.2). Vehicle 0
    # takes job 1 at 2: empty 750 m [2, 2.75], load [2.75, 2.85], drive [2.85, 3.35], unload
    # [3.35, 3.45]: level 0.55 < 1. It drives to the charger [3.45, 3.7] (level 0.3) and
    # charges 1.7 / 2 x 2 h [3.7, 5.4]. Vehicle 1 carries job 2 [2.2, 3.65] the same way and
    # waits at B for the charger [3.65, 5.4]. Job 3, done at 4.2, waits for a vehicle. At 5.4
    # the charger goes to vehicle 1 (drive [5.4, 5.65], level 0.3, charge [5.65, 7.35], then
    # home 500 m [7.35, 7.85]) and vehicle 0 takes job 3 from the charger, not from home:
    # empty 250 m [5.4, 5.65], load [5.65, 5.75], drive [5.75, 6.25], unload [6.25, 6.35],
    # level 1.05, not low, and no request waits: home [6.35, 6.6]. B serves job 1 [3.45,
    # 3.95], job 2 [3.95, 4.45] (it waits from 3.65) and job 3 [6.35, 6.85].
    plant = vehicle_line(home=3, battery=(2.0, 2.0, 0.5), interarrival=(1.0, 0.2, 2.0, 1000.0),
                         horizon=10.0, warmup=0.0)
    plant.fleets[0].count = 2
    plant.fleets[0].chargers = [4]
    plant.distance = line_distances(0, 500, 500, 750, 250)
    r = sm.run_replication(plant, seed=0)
    v = r["transport"][0]
    expected = {"loaded": 1.5 / 20, "empty": (1.5 + 1.5) / 20, "handling": 0.6 / 20,
                "charging": (1.7 + 1.75 + 1.7) / 20, "idle": 9.75 / 20,
                "mean_wait_h": (0.75 + 0.75 + 1.45) / 3, "trips_per_h": 0.3,
                "km_per_vehicle_per_h": 4.5 / 20, "min_battery": 0.3}
    assert v == pytest.approx(expected)
    assert r["exits"] == 3
    assert r["cycle_time_h"] == pytest.approx((2.95 + 3.25 + 3.65) / 3)
    assert r["stations"][0]["blocked"] == pytest.approx((0.85 + 0.85 + 1.55) / 20)


def test_battery_trace_with_a_queue_for_the_charger():
    # Two vehicles at home (A's dock), batteries of 1 h, threshold 0.5, 2 h to charge from
    # empty, one charger 250 m past B. Jobs enter A at 1.0 and 1.2 (the next at 1001). Vehicle
    # 0 loads job 1 at 2 [2, 2.1], drives [2.1, 2.6], unloads [2.6, 2.7]: 0.7 h active, level
    # 0.3 < 0.5. It drives to the charger [2.7, 2.95] (level 0.05), charges 0.95 x 2 h [2.95,
    # 4.85] and drives home 750 m [4.85, 5.6]. Vehicle 1 carries job 2 [2.2, 2.9] the same way,
    # waits at B for the charger [2.9, 4.85], then drives [4.85, 5.1], charges [5.1, 7.0] and
    # drives home [7.0, 7.75].
    plant = vehicle_line(home=3, battery=(1.0, 2.0, 0.5), interarrival=(1.0, 0.2, 1000.0),
                         horizon=10.0, warmup=0.0)
    plant.fleets[0].count = 2
    r = sm.run_replication(plant, seed=0)
    v = r["transport"][0]
    assert v["loaded"] == pytest.approx(1.0 / 20)
    assert v["empty"] == pytest.approx(2.0 / 20)
    assert v["handling"] == pytest.approx(0.4 / 20)
    assert v["charging"] == pytest.approx((1.9 + 1.95 + 1.9) / 20)
    assert v["idle"] == pytest.approx(10.85 / 20)
    assert v["min_battery"] == pytest.approx(0.05)
    assert v["mean_wait_h"] == 0.0 and v["trips_per_h"] == pytest.approx(0.2)
    assert r["cycle_time_h"] == pytest.approx((2.2 + 2.5) / 2)  # B: job 2 waits [2.9, 3.2]
    # Seen from 6 h on: vehicle 1 charges [6, 7] from level 0.05 + 0.9 / 1.9 x 0.95 = 0.5,
    # then drives home: the lowest level in the window is 0.25, at 7.75.
    plant.warmup = 6.0
    r = sm.run_replication(plant, seed=0)
    assert r["transport"][0]["min_battery"] == pytest.approx(0.25)
    assert r["transport"][0]["charging"] == pytest.approx(1.0 / 8)


def mixed_line():
    """The plant of the Little's law test: failures, blocking and rework at 2-server and
    1-server stations."""
    return sm.RefPlant(
        interarrival=sm.exponential(1.25),
        stations=[
            sm.RefStation(servers=2, buffer=3, process=sm.lognormal(1.6, 0.3), mtbf=50.0, mttr=2.0),
            sm.RefStation(
                servers=2,
                buffer=1,
                process=sm.triangular(1.0, 1.5, 2.5),
                routes=[(3, 0.9), (2, 0.1)],
            ),
            sm.RefStation(servers=1, buffer=None, process=sm.exponential(0.5), routes=[(1, 1.0)]),
        ],
        horizon=1200.0,
        warmup=200.0,
    )


def flow_only(result):
    """A replication's figures without the event count and the logistics blocks."""
    return {k: v for k, v in result.items() if k not in ("events", "transport", "resources")}


def test_instant_fleet_and_ample_pool_change_nothing():
    # Vehicles that take no time and a pool that is never short leave every job's timeline,
    # and so every random number, as it was: the flow figures are identical.
    plain = sm.run_replication(mixed_line(), seed=11)
    plant = mixed_line()
    plant.fleets = [sm.RefFleet(count=1, speed=1.0, home=4)]
    plant.distance = np.zeros((5, 5))
    plant.pools = [sm.RefPool(count=100)]
    for st in plant.stations:
        st.fleet = 0
        st.alternatives = [({0: 1}, 1.0)]
    r = sm.run_replication(plant, seed=11)
    assert flow_only(r) == flow_only(plain)
    assert r["stations"][0]["blocked"] > 0 and r["stations"][0]["down"] > 0
    assert r["transport"][0]["trips_per_h"] == pytest.approx(
        sum(st["throughput_per_h"] for st in r["stations"])
    )
    assert r["transport"][0]["idle"] == 1.0 and r["transport"][0]["mean_wait_h"] == 0.0
    assert r["resources"][0]["mean_wait_h"] == 0.0


def test_transport_bottleneck_is_an_mmc_queue():
    # Jobs end at once at a station with ample servers and leave by one of c vehicles that
    # drive no distance, load at once and unload in Exp(mu): the request queue is M/M/c.
    lam, mu, c = 1.5, 1.0, 2
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[sm.RefStation(servers=100, buffer=None, process=sm.deterministic(0.0),
                                fleet=0)],
        horizon=1800.0,
        warmup=300.0,
        fleets=[sm.RefFleet(count=c, speed=1.0, unload_time=sm.exponential(1 / mu))],
        distance=np.zeros((2, 2)),
    )
    results = sm.run(plant, replications=10, seed=12)
    p = mmk_distribution(lam, mu, c)
    rho = lam / (c * mu)
    erlang_c = p[c] / (1 - rho)
    wq = erlang_c / (c * mu - lam)
    transport = [r["transport"][0] for r in results]
    assert_agrees([t["mean_wait_h"] for t in transport], wq)
    assert_agrees([t["handling"] for t in transport], rho)
    assert_agrees([t["trips_per_h"] for t in transport], lam)
    assert_agrees(column(results, "cycle_time_h"), wq + 1 / mu)
    # Jobs waiting for a vehicle block their servers: Lq = lam Wq of them on average.
    assert_agrees([100 * b for b in column(results, "blocked", 0)], lam * wq)
    for r in results:
        assert r["wip"] == pytest.approx(r["throughput_per_h"] * r["cycle_time_h"], rel=0.03)


def test_battery_charging_balances_active_time():
    # Charging is linear, from empty to full in charge_time, so over a long run the time spent
    # charging is the active time over the capacity times charge_time (two chargers for two
    # vehicles: none waits). Station 1 sends its jobs to the shipping point by the same fleet.
    capacity, charge_time = 2.0, 0.5
    fleet = sm.RefFleet(count=2, speed=1.0, load_time=0.05, unload_time=sm.uniform(0.02, 0.08),
                        home=3, capacity=capacity, charge_time=charge_time, threshold=0.3,
                        chargers=[4, 5])
    plant = sm.RefPlant(
        interarrival=sm.exponential(0.5),
        stations=[
            sm.RefStation(servers=2, buffer=2, process=sm.exponential(0.8), fleet=0),
            sm.RefStation(servers=2, buffer=None, process=sm.exponential(0.7), fleet=0),
        ],
        horizon=1200.0,
        warmup=200.0,
        fleets=[fleet],
        distance=line_distances(0, 200, 300, 100, 150, 250),
    )
    results = sm.run(plant, replications=3, seed=13)
    for r in results:
        v = r["transport"][0]
        assert 0 <= v["min_battery"] < 0.3 * capacity
        active = v["loaded"] + v["empty"] + v["handling"]
        assert v["charging"] == pytest.approx(active / capacity * charge_time, rel=0.01)
        assert v["idle"] > 0.1
        assert sum(v[s] for s in ("loaded", "empty", "handling", "charging", "idle")) == (
            pytest.approx(1.0, abs=1e-12)
        )
        assert r["wip"] == pytest.approx(r["throughput_per_h"] * r["cycle_time_h"], rel=0.03)


# --------------------------------------------------------------------------- resources

WEEKDAYS_8_TO_16 = [(24.0 * d + 8, 24.0 * d + 16) for d in range(5)]


def test_shift_trace():
    # One technician on Mon-Fri 08:00-16:00; a job arrives at 07:00 every day and needs the
    # technician for 1.5 h. Weekdays: the job waits on its server [7, 8] and is done at 9:30.
    # Saturday's job waits until Monday 08:00 (49 h), Sunday's (in the buffer until 9:30) and
    # Monday's (until 11:00) find the technician free. Over two weeks: 12 grants, waits
    # 5 x 1 + 49 + 0 + 0 + 4 x 1 h, and the second Saturday's job waits from 295 h to the end.
    plant = sm.RefPlant(
        interarrival=cycling(7.0, *[24.0] * 13, 24.0 + 1e6),
        stations=[sm.RefStation(servers=1, buffer=None, process=sm.deterministic(1.5),
                                alternatives=[({0: 1}, 1.0)])],
        horizon=336.0,
        pools=[sm.RefPool(count=1, on=WEEKDAYS_8_TO_16)],
    )
    r = sm.run_replication(plant, seed=0)
    assert r["resources"][0]["busy"] == pytest.approx(12 * 1.5 / 336)
    assert r["resources"][0]["mean_wait_h"] == pytest.approx(58 / 12)
    st = r["stations"][0]
    assert st["waiting"] == pytest.approx((5 + 49 + 4 + 41) / 336)
    assert st["busy"] == pytest.approx(18 / 336)
    assert st["idle"] == pytest.approx(1 - (99 + 18) / 336)
    assert r["exits"] == 12


def test_shifts_start_nothing_off_shift(monkeypatch):
    # Two technicians on Mon-Fri 08:00-16:00 and more jobs of Exp(0.5 h) than they can do:
    # every grant falls in a shift, and both units are busy through each shift and then, on
    # average, 0.5 h longer finishing their jobs (memoryless): 10 x 2 x 8.5 h in two weeks.
    grants = []
    take = sm.Pools.take

    def recording(self, needs, requested, now):
        grants.append(now)
        take(self, needs, requested, now)

    monkeypatch.setattr(sm.Pools, "take", recording)
    plant = sm.RefPlant(
        interarrival=sm.exponential(0.1),
        stations=[sm.RefStation(servers=3, buffer=5, process=sm.exponential(0.5),
                                alternatives=[({0: 1}, 1.0)])],
        horizon=2 * 168.0,
        pools=[sm.RefPool(count=2, on=WEEKDAYS_8_TO_16)],
    )
    r = sm.run_replication(plant, seed=14)
    hours = np.asarray(grants) % 168.0
    assert len(grants) > 250
    assert all(any(a <= h < b for a, b in WEEKDAYS_8_TO_16) for h in hours)
    assert r["resources"][0]["busy"] == pytest.approx(10 * 2 * 8.5 / (2 * 336), rel=0.08)
    assert r["stations"][0]["waiting"] > 0.5  # the servers hold jobs through the nights


def test_any_of_takes_the_second_alternative_when_the_first_is_busy():
    # Two servers, jobs always waiting; a job takes a technician (1 h) if one is free, else a
    # humanoid at twice the time. Job 1 takes the technician at 0.3, job 2 the humanoid at 0.6;
    # from then on the technician's server finishes a job every hour and the humanoid's every
    # two: 100 + 50 exits in [10, 110], and both pools always busy.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(0.3),
        stations=[sm.RefStation(servers=2, buffer=None, process=sm.deterministic(1.0),
                                alternatives=[({0: 1}, 1.0), ({1: 1}, 2.0)])],
        horizon=110.0,
        warmup=10.0,
        pools=[sm.RefPool(count=1), sm.RefPool(count=1)],
    )
    r = sm.run_replication(plant, seed=0)
    assert r["exits"] == 150
    assert r["throughput_per_h"] == pytest.approx(1.5)
    tech, humanoid = r["resources"][0], r["resources"][1]
    assert tech["busy"] == pytest.approx(1.0) and humanoid["busy"] == pytest.approx(1.0)
    assert tech["mean_wait_h"] == humanoid["mean_wait_h"] == 0.0
    assert r["stations"][0]["busy"] == pytest.approx(1.0)


def test_units_then_power_and_their_draws():
    # A server waiting for units draws `waiting`, one waiting for a vehicle `blocked`: the
    # station's energy is its state fractions times their draws, exactly.
    plant = vehicle_line(home=3, interarrival=(0.4,), horizon=200.0, warmup=20.0)
    a = plant.stations[0]
    a.process = sm.exponential(0.6)
    a.alternatives = [({0: 1}, 1.0)]
    a.power_idle, a.busy_steps, a.power_blocked, a.power_waiting = 1.0, [(1.0, 7.0)], 3.0, 2.0
    plant.pools = [sm.RefPool(count=1)]
    plant.fleets[0].count = 2
    span = plant.horizon - plant.warmup
    for r in sm.run(plant, replications=2, seed=15):
        st = r["stations"][0]
        assert st["waiting"] > 0.05 and st["blocked"] > 0.05 and st["power_wait"] == 0.0
        states = {"idle": 1.0, "busy": 7.0, "blocked": 3.0, "waiting": 2.0}
        expected = span * 2 * sum(st[s] * kw for s, kw in states.items())
        assert st["energy_kwh"] == pytest.approx(expected, rel=1e-9)


def test_from_plant_reads_fleets_pools_and_distances():
    twin_config = pytest.importorskip("twin.config")
    shift = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}
    plant = twin_config.plant_from_dict({
        "name": "logistics",
        "horizon": "300h",
        "warmup": "20h",
        "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
        "layout": {"floor": [60, 20], "aisles": [[[0, 10], [60, 10]]], "shipping": [58, 10]},
        "transport": [{
            "id": "agv", "kind": "agv", "count": 2, "speed": 1.0, "load_time": "1min",
            "unload_time": "2min", "home": [30, 10],
            "battery": {"capacity": "4h", "charge_time": "1h", "threshold": 0.3,
                        "chargers": [[31, 10], [29, 10]]},
        }],
        "resources": [{"id": "tech", "count": 2, "shifts": [shift]}, {"id": "bot", "count": 1}],
        "stations": [
            {"id": "a", "process": "30min", "position": [10, 5], "footprint": [4, 4],
             "transport": "agv",
             "requires": {"any_of": [{"tech": 1}, {"bot": 1, "time_factor": 2.5}]}},
            {"id": "b", "process": "20min", "position": [40, 15], "footprint": [4, 4],
             "transport": "agv", "requires": {"bot": 1}},
        ],
    })
    ref = sm.from_plant(plant)
    # Places: docks of a and b on the aisle at x = 10 and 40, shipping at 58, the home at 30,
    # the chargers at 31 and 29.
    assert ref.distance == pytest.approx(line_distances(10, 40, 58, 30, 31, 29))
    (fleet,) = ref.fleets
    assert (fleet.count, fleet.speed, fleet.home, fleet.chargers) == (2, 1.0, 3, [4, 5])
    assert (fleet.load_time, fleet.unload_time) == pytest.approx((1 / 60, 2 / 60))
    assert (fleet.capacity, fleet.charge_time, fleet.threshold) == (4.0, 1.0, 0.3)
    assert [p.count for p in ref.pools] == [2, 1]
    assert ref.pools[0].on == [(24.0 * d + 8, 24.0 * d + 16) for d in range(5)]
    assert ref.pools[1].on is None
    a, b = ref.stations
    assert (a.fleet, a.alternatives) == (0, [({0: 1}, 1.0), ({1: 1}, 2.5)])
    assert (b.fleet, b.alternatives) == (0, [({1: 1}, 1.0)])
    s = sm.summarize(sm.run(ref, replications=2, seed=16))
    assert set(s["transport"][0]) == {"loaded", "empty", "handling", "charging", "idle",
                                      "mean_wait_h", "trips_per_h", "km_per_vehicle_per_h",
                                      "min_battery"}
    assert set(s["resources"]) == {0, 1}
    assert set(s["resources"][1]) == {"busy", "mean_wait_h"}
    assert s["transport"][0]["trips_per_h"]["mean"] > 0
    assert s["stations"][0]["waiting"]["mean"] > 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"station": {"fleet": 1}}, "not a fleet"),
        ({"distance": None}, "needs distances"),
        ({"station": {"alternatives": [({0: 3}, 1.0)]}}, "cannot get"),
        ({"station": {"alternatives": [({0: 1}, 0.0)]}}, "time factor"),
        ({"fleet": {"capacity": 2.0}}, "battery"),
        ({"fleet": {"home": 7}}, "not in the distance"),
        ({"pool": {"on": [(40.0, 48.0), (8.0, 16.0)]}}, "sorted"),
    ],
)
def test_invalid_logistics_are_rejected(change, message):
    plant = vehicle_line(horizon=10.0, warmup=0.0)
    plant.pools = [sm.RefPool(count=2)]
    targets = {"station": plant.stations[0], "fleet": plant.fleets[0], "pool": plant.pools[0]}
    for what, fields in change.items():
        if what == "distance":
            plant.distance = fields
            continue
        for key, value in fields.items():
            setattr(targets[what], key, value)
    with pytest.raises(ValueError, match=message):
        sm.run_replication(plant, seed=0)
