"""Ramps in the SimPy reference model (reference/twin_reference/simpy_model.py and ramp.py):
values that change over time (source plans, server counts, learning curves, routing
probabilities, the power cap, pools' units) and the figures per report period.

Exact traces on deterministic lines whose completions can be counted by hand, an invariant
(the periods sum to the window's figures), and a statistical check of the Poisson release.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from twin_reference import ramp
from twin_reference import simpy_model as sm

ALWAYS = sm.deterministic(0.0)
"""An interarrival of 0: with a finite first buffer the source is always held, so the first
station is never starved."""


def fed_line(station: sm.RefStation, horizon: float, **fields) -> sm.RefPlant:
    """One always-fed station."""
    return sm.RefPlant(interarrival=ALWAYS, stations=[station], horizon=horizon, **fields)


def exits(plant: sm.RefPlant, period_h: float, seed: int = 0) -> list[int]:
    return sm.run_replication(plant, seed, period_h)["series"]["exits"].tolist()


# --------------------------------------------------------------------------- exact traces


def test_learning_curve_on_an_always_fed_server():
    # Rate 0.5, floor 0.25: the n-th job takes max(0.25, 1/n) h, so jobs end at 1, 1.5,
    # 1.83, 2.08 and then every 0.25 h: 0 exits in [0, 1), 3 in [1, 2), then 4 an hour.
    station = sm.RefStation(servers=1, buffer=0, process=sm.deterministic(1.0),
                            learning=(0.5, 0.25))
    r = sm.run_replication(fed_line(station, 5.0), 0, period_h=1.0)
    s = r["series"]
    assert s["exits"].tolist() == [0, 3, 4, 4, 4]
    # the job held at the source enters as the last one leaves: cycle time = service time
    assert s["cycle_time_sum_h"] == pytest.approx([0, 1 + 1 / 2 + 1 / 3, 1 / 4 + 3 / 4, 1, 1])
    assert s["busy_h"][:, 0] == pytest.approx([1.0] * 5)


def test_learning_by_product_counts_each_products_jobs():
    # Two products drawn at random share one always-fed server; each learns on its own, so
    # the mean cycle time of a product with N exits is (1 + 1/2 + ... + 1/N) / N hours.
    # Counted over both products together the means would be far from those.
    station = sm.RefStation(servers=1, buffer=0, process=sm.deterministic(1.0),
                            learning=[(0.5, 0.0), (0.5, 0.0)])
    plant = fed_line(station, 6.0, products={"a": 0.5, "b": 0.5})
    r = sm.run_replication(plant, 3)
    counts = []
    for figures in r["products"].values():
        n = round(figures["throughput_per_h"] * 6.0)
        counts.append(n)
        assert figures["cycle_time_h"] == pytest.approx(sum(1 / k for k in range(1, n + 1)) / n)
    assert min(counts) >= 3  # both products learn (the seed draws a mix)


def test_a_plan_halves_the_interarrival_time():
    # Arrivals every hour, then every half hour from hour 10; service takes no time, so each
    # job exits as it arrives. The interarrival drawn at hour 10 is already the new one, and
    # an exit at a period's edge counts in the later period (at the horizon: in the last).
    plant = sm.RefPlant(
        interarrival=[(0.0, sm.deterministic(1.0)), (10.0, sm.deterministic(0.5))],
        stations=[sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.0))],
        horizon=20.0,
    )
    assert exits(plant, 5.0) == [4, 5, 10, 11]  # 1-4 | 5-9 | 10, 10.5, ..., 14.5 | 15-20


def test_a_drawn_interarrival_runs_on_past_a_step():
    # Drawn at hour 9 from a 3 h step, the next job arrives at 12, not at 10.
    plant = sm.RefPlant(
        interarrival=[(0.0, sm.deterministic(3.0)), (10.0, sm.deterministic(1.0))],
        stations=[sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.0))],
        horizon=14.0,
    )
    assert exits(plant, 7.0) == [2, 4]  # 3, 6 | 9, 12, 13, 14 (the window is closed)


def test_doubled_servers_take_the_held_job_at_once():
    # One server, no buffer, 1 h jobs; a second server from hour 10. The change comes first at
    # hour 10, so the held job enters then and so does the next when the first leaves: two
    # jobs end every hour from 11.
    station = sm.RefStation(servers=[(0.0, 1), (10.0, 2)], buffer=0,
                            process=sm.deterministic(1.0))
    s = sm.run_replication(fed_line(station, 20.0), 0, period_h=5.0)["series"]
    assert s["exits"].tolist() == [4, 5, 9, 12]  # 1-4 | 5-9 | 10, 2 x 11-14 | 2 x 15-20
    assert s["on_h"][:, 0].tolist() == [5.0, 5.0, 10.0, 10.0]
    assert s["busy_h"][:, 0].tolist() == [5.0, 5.0, 10.0, 10.0]


def test_a_removed_busy_server_finishes_its_job_first():
    # Two servers, then one from hour 10.5: both are busy then, finish at 11, and only one
    # takes a job again. The server beyond the count is present until it leaves at 11.
    station = sm.RefStation(servers=[(0.0, 2), (10.5, 1)], buffer=0,
                            process=sm.deterministic(1.0))
    r = sm.run_replication(fed_line(station, 20.0, warmup=10.0), 0, period_h=5.0)
    s = r["series"]
    assert s["exits"].tolist() == [7, 6]  # 2 x 10, 2 x 11, 12-14 | 15-20
    assert s["on_h"][:, 0].tolist() == [6.0, 5.0]
    assert s["busy_h"][:, 0].tolist() == [6.0, 5.0]
    assert r["stations"][0]["busy"] == pytest.approx(1.0)
    assert r["jobs"] == 2 * 11 + 10  # entered: 2 at 0, 2 each hour to 10, 1 each to 20


def test_a_change_comes_before_a_completion_at_its_hour():
    # Two servers share one unit of a pool; 8 h jobs, and no unit from hour 8. The job that
    # ends at 8 was scheduled at 0, before the change at 8 was (at the step at 2, which
    # changes nothing), yet the change comes first: the unit it gives back is gone, and the
    # job waiting for it never starts. Were the job's end first, the unit would go to that
    # job at once and it would end at 16.
    station = sm.RefStation(servers=2, buffer=0, process=sm.deterministic(8.0),
                            alternatives=[({0: 1}, 1.0)])
    pools = [sm.RefPool(count=[(0.0, 1), (2.0, 1), (8.0, 0)])]
    r = sm.run_replication(fed_line(station, 20.0, pools=pools), 0)
    assert r["exits"] == 1
    assert r["resources"][0]["busy"] == 1.0  # 8 unit-hours of 8


def test_a_removed_idle_server_goes_at_once():
    # Jobs every 2 h take 1 h on two servers: one is always idle. Removing one at hour 4.5
    # (both idle, the next job at 6) leaves the flow as it was and halves the servers present.
    # (A job at 4.5 would keep its server: test_a_removed_busy_server_finishes_its_job_first.)
    plant = sm.RefPlant(
        interarrival=sm.deterministic(2.0),
        stations=[sm.RefStation(servers=[(0.0, 2), (4.5, 1)], buffer=0,
                                process=sm.deterministic(1.0))],
        horizon=9.0,
    )
    r = sm.run_replication(plant, 0, period_h=4.5)
    assert r["series"]["on_h"][:, 0].tolist() == [9.0, 4.5]
    assert r["series"]["exits"].tolist() == [1, 3]  # 3 | 5, 7, 9
    assert r["stations"][0]["busy"] == pytest.approx(4 / 13.5)


def test_a_probability_schedule_switches_the_route():
    # Station 0 sends its jobs to station 1 until hour 10 (p = 1) and out after (p = 0): a
    # job whose service ends at 9.5 goes to station 1, one that ends at 10.5 leaves.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(1.0),
        stations=[
            sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.5),
                          routes=[(1, [(0.0, 1.0), (10.0, 0.0)]), (2, [(0.0, 0.0), (10.0, 1.0)])]),
            sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.25)),
        ],
        horizon=20.0,
    )
    r = sm.run_replication(plant, 0, period_h=10.0)
    assert r["stations"][1]["throughput_per_h"] * 20.0 == pytest.approx(9)
    assert r["exits"] == 19  # arrivals 1-19 (the one at 20 ends at 20.5)
    s = r["series"]
    assert s["exits"].tolist() == [9, 10]  # 1.75, ..., 9.75 | 10.5, ..., 19.5
    assert s["cycle_time_sum_h"].tolist() == [9 * 0.75, 10 * 0.5]


def test_a_cap_schedule_starts_and_holds_back_work():
    # Two servers drawing 10 kW busy, an always-fed line of 1 h jobs. A 10 kW cap runs one job
    # at a time; raised to 20 kW at hour 5 it lets the job waiting for power start at once (and
    # the next one as the first leaves); lowered to 10 kW at 8.5 it stops nothing running: the
    # two jobs end at 9, then one runs at a time again.
    station = sm.RefStation(servers=2, buffer=0, process=sm.deterministic(1.0),
                            busy_steps=[(1.0, 10.0)])
    plant = fed_line(station, 10.0, cap=[(0.0, 10.0), (5.0, 20.0), (8.5, 10.0)])
    r = sm.run_replication(plant, 0, period_h=5.0)
    s = r["series"]
    assert s["exits"].tolist() == [4, 10]  # 1-4 | 5, 2 x 6-9, 10
    assert s["heat_max_kw"].tolist() == [10.0, 20.0]
    assert s["heat_kwh"][:, 0].tolist() == [50.0, 90.0]  # 10 kW; 20 kW over [5, 9]
    assert r["power"]["max_kw"] == 20.0


def test_a_pool_count_schedule_staffs_servers():
    # The same line with a pool of technicians instead of a cap: one, two from hour 5, one
    # again from 8.5 (the second keeps its unit until its job ends at 9).
    station = sm.RefStation(servers=2, buffer=0, process=sm.deterministic(1.0),
                            alternatives=[({0: 1}, 1.0)])
    pools = [sm.RefPool(count=[(0.0, 1), (5.0, 2), (8.5, 1)])]
    r = sm.run_replication(fed_line(station, 10.0, pools=pools), 0, period_h=5.0)
    assert r["series"]["exits"].tolist() == [4, 10]
    # units held: 1 over [0, 5], 2 over [5, 9], 1 over [9, 10]; the count's integral is 13.5
    assert r["resources"][0]["busy"] == pytest.approx(14 / 13.5)


def test_added_servers_draw_idle():
    # A second 1 kW-idle server from hour 2 that never gets a job (jobs every 4 h take 1 h):
    # 1 kW x 2 h + 2 kW x 2 h in [0, 4]; a job at 10 kW over [4, 5] beside it, then 2 kW.
    station = sm.RefStation(servers=[(0.0, 1), (2.0, 2)], buffer=0,
                            process=sm.deterministic(1.0), power_idle=1.0,
                            busy_steps=[(1.0, 10.0)])
    plant = sm.RefPlant(interarrival=sm.deterministic(4.0), stations=[station], horizon=8.0)
    s = sm.run_replication(plant, 0, period_h=4.0)["series"]
    assert s["heat_kwh"][:, 0].tolist() == [6.0, 11.0 + 6.0]
    assert s["heat_max_kw"].tolist() == [2.0, 11.0]
    assert s["exits"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("spare", "expected"),
    [
        # five servers come at hour 3: 7 kW of standby leave room for one 9 kW extra in 20 kW
        ([(0.0, 0), (3.0, 5)], [4, 5]),  # 2 x 1, 2 x 2 | 2 x 3, 4, 5, 6
        # five servers go at hour 3: the job waiting for power starts then, two run at a time
        ([(0.0, 5), (3.0, 0)], [2, 7]),  # 1, 2 | 3, 2 x 4-6
    ],
)
def test_servers_present_reserve_their_standby_under_the_cap(spare, expected):
    # An always-fed station of two servers (1 kW idle, 10 kW busy: 9 kW above standby) and a
    # station no job reaches whose servers, 1 kW idle, come or go at hour 3. Under a 20 kW cap
    # two jobs fit beside 2 kW of standby (2 + 18 = 20), not beside 7 kW.
    fed = sm.RefStation(servers=2, buffer=0, process=sm.deterministic(1.0), power_idle=1.0,
                        busy_steps=[(1.0, 10.0)], routes=[(2, 1.0)])
    unused = sm.RefStation(servers=spare, buffer=None, process=sm.deterministic(1.0),
                           power_idle=1.0)
    plant = sm.RefPlant(interarrival=ALWAYS, stations=[fed, unused], horizon=6.0, cap=20.0)
    s = sm.run_replication(plant, 0, period_h=3.0)["series"]
    assert s["exits"].tolist() == expected
    assert s["heat_kwh"][:, 1].tolist() == [3.0 * spare[0][1], 3.0 * spare[1][1]]


# --------------------------------------------------------------------------- invariants


def ramped_plant(horizon: float = 400.0) -> sm.RefPlant:
    """A line with every ramp, failures, blocking, rework, power and a pool."""
    return sm.RefPlant(
        interarrival=[(0.0, sm.exponential(1.2)), (150.0, sm.exponential(0.9))],
        stations=[
            sm.RefStation(servers=[(0.0, 1), (100.0, 2)], buffer=2,
                          process=sm.lognormal(0.8, 0.5), learning=(0.9, 0.6),
                          power_idle=0.5, busy_steps=[(0.3, 4.0), (0.7, 6.0)],
                          alternatives=[({0: 1}, 1.0)]),
            sm.RefStation(servers=[(0.0, 2), (200.0, 1), (260.0, 3)], buffer=1,
                          process=sm.exponential(1.4), mtbf=20.0, mttr=1.0,
                          power_idle=0.2, busy_steps=[(1.0, 3.0)], power_blocked=0.4,
                          routes=[(2, [(0.0, 0.7), (120.0, 0.95)]),
                                  (0, [(0.0, 0.3), (120.0, 0.05)])]),
        ],
        horizon=horizon,
        warmup=37.0,
        cap=[(0.0, 14.0), (180.0, 11.0)],
        pools=[sm.RefPool(count=[(0.0, 2), (90.0, 1), (300.0, 2)])],
        period=50.0,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_periods_sum_to_the_window(seed):
    # Periods of 50 h from hour 37 to 400: the last is 13 h long.
    plant = ramped_plant()
    r = sm.run_replication(plant, seed)
    s = r["series"]
    span = plant.horizon - plant.warmup
    assert s["start_h"].tolist() == [37.0 + 50.0 * k for k in range(8)]
    assert s["end_h"][-1] == 400.0 and s["end_h"][-1] - s["start_h"][-1] == 13.0
    assert s["exits"].sum() == r["exits"] > 0
    assert s["cycle_time_sum_h"].sum() == pytest.approx(r["cycle_time_h"] * r["exits"])
    assert s["wip_h"].sum() == pytest.approx(r["wip"] * span)
    for j, st in enumerate(r["stations"]):
        on = s["on_h"][:, j].sum()
        assert s["busy_h"][:, j].sum() == pytest.approx(st["busy"] * on)
        assert s["heat_kwh"][:, j].sum() == pytest.approx(st["energy_kwh"])
    assert s["on_h"][:, 0].tolist()[:2] == [50.0, 13.0 + 2 * 37.0]
    peak = plant.base_load or 0.0
    assert r["power"]["max_kw"] == pytest.approx(peak + s["heat_max_kw"].max())


def test_series_stack_over_replications():
    results = sm.run(ramped_plant(200.0), 3, seed=5, period_h=40.0)
    stacked = sm.series(results)
    assert stacked["exits"].shape == (3, 5) and stacked["busy_h"].shape == (3, 5, 2)
    assert stacked["start_h"].tolist() == [37.0, 77.0, 117.0, 157.0, 197.0]
    assert stacked["exits"].sum(axis=1).tolist() == [r["exits"] for r in results]
    with pytest.raises(ValueError, match="no series"):
        sm.series(sm.run(sm.blocking_line(50.0, 0.0), 1))


def test_a_plant_without_ramps_runs_as_before():
    # The plain path draws the same numbers with or without a report period.
    plant = sm.blocking_line(300.0, 50.0)
    plain, with_series = sm.run_replication(plant, 9), sm.run_replication(plant, 9, 25.0)
    assert "series" not in plain
    assert {k: v for k, v in with_series.items() if k != "series"} == plain


# --------------------------------------------------------------------------- the Poisson release


def nhpp_counts(release: str, replications: int = 100) -> np.ndarray:
    """Arrivals in [0, 20) and [20, 40] of a source whose mean interarrival time falls from
    10 h to 0.1 h at hour 20, released as ``release``; shape (replications, 2)."""
    means = [(0.0, 10.0), (20.0, 0.1)]
    plant = sm.RefPlant(
        interarrival=means if release == "nhpp"
        else [(h, sm.exponential(mean)) for h, mean in means],
        release=release,
        stations=[sm.RefStation(servers=1, buffer=None, process=sm.deterministic(0.0))],
        horizon=40.0,
    )
    return sm.series(sm.run(plant, replications, seed=11, period_h=20.0))["exits"]


def test_nhpp_arrivals_have_the_steps_rates():
    # Counts in each step are Poisson with mean rate x length: 2 and 200. Their total over
    # 100 replications is within 5 standard deviations (a false alarm about once in 3
    # million). Drawn from the same steps, the first time drawn after hour 20 is still a 10 h
    # one: about 100 fewer arrivals a replication, which this test rejects.
    counts = nhpp_counts("nhpp")
    expected = np.array([2.0, 200.0]) * counts.shape[0]
    assert np.all(np.abs(counts.sum(axis=0) - expected) <= 5 * np.sqrt(expected)), counts.sum(0)
    # and they are Poisson: the dispersion of the second step's counts is about 1
    dispersion = counts[:, 1].var(ddof=1) / counts[:, 1].mean()
    low, high = stats.chi2.ppf([1e-6, 1 - 1e-6], counts.shape[0] - 1) / (counts.shape[0] - 1)
    assert low <= dispersion <= high


def test_nhpp_delay_inverts_the_cumulative_rate():
    hours, rates = [0.0, 2.0, 5.0], [1.0, 4.0, 0.5]
    # from hour 1: 1 of rate-time by hour 2, 12 more by hour 5, the rest at 0.5 an hour
    assert ramp.nhpp_delay(hours, rates, 1.0, 0.5) == 0.5
    assert ramp.nhpp_delay(hours, rates, 1.0, 3.0) == pytest.approx(1.0 + 2.0 / 4.0)
    assert ramp.nhpp_delay(hours, rates, 1.0, 14.0) == pytest.approx(4.0 + 1.0 / 0.5)
    assert ramp.nhpp_delay(hours, rates, 7.0, 1.0) == 2.0


# --------------------------------------------------------------------------- pieces


def test_period_edges_and_membership():
    assert ramp.period_edges(10.0, 30.0, 5.0) == [10.0, 15.0, 20.0, 25.0, 30.0]
    assert ramp.period_edges(0.0, 1.0, 0.3) == [0.0, 0.3, 0.6, 0.8999999999999999, 1.0]
    assert ramp.period_edges(0.0, 0.9 + 1e-12, 0.3)[-2:] == [0.6, 0.9 + 1e-12]
    edges = [10.0, 15.0, 20.0]
    assert [ramp.period_of(edges, h) for h in (10.0, 14.9, 15.0, 20.0)] == [0, 0, 1, 1]


def test_period_area_splits_and_peaks():
    area = ramp.PeriodArea([1.0, 2.0, 4.0])
    area.add(0.5, 3)  # before the window
    area.add(1.5, 2)  # 3 over [1, 1.5]
    area.add(3.0, -5)  # 5 over [1.5, 3]
    area.add(5.0, 0)  # 0 over [3, 4]
    assert area.areas == [1.5 + 2.5, 5.0]
    assert area.area == 6.5 + 2.5
    assert area.peaks == [5, 5]


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"interarrival": [(1.0, sm.deterministic(1.0))]}, "the first from 0"),
        ({"interarrival": [(0.0, 1.0), (0.0, 2.0)], "release": "nhpp"}, "increase strictly"),
        ({"interarrival": [(0.0, 0.0)], "release": "nhpp"}, "mean interarrival hours > 0"),
        ({"interarrival": sm.deterministic(1.0), "release": "nhpp"}, "not a sampler"),
        ({"release": "poisson"}, "release must be"),
        ({"period": 0.0}, "period must be > 0"),
        ({"stations": [sm.RefStation(servers=[(0.0, 0)], buffer=0, process=ALWAYS)]},
         "the largest >= 1"),
        ({"stations": [sm.RefStation(servers=1, buffer=0, process=ALWAYS,
                                     learning=(1.5, 0.0))]}, "0 < rate <= 1"),
        ({"stations": [sm.RefStation(servers=1, buffer=0, process=ALWAYS,
                                     routes=[(1, [(0.0, 1.0), (5.0, 0.5)])])]},
         "sum to 0.5, not 1 from hour 5"),
        ({"pools": [sm.RefPool(count=[(0.0, 1), (2.0, -1)])]}, "counts >= 0"),
        ({"cap": [(0.0, 100.0), (5.0, 1.0)],
          "stations": [sm.RefStation(servers=1, buffer=0, process=ALWAYS,
                                     busy_steps=[(1.0, 5.0)])]}, "cap 1 kW is below"),
    ],
)
def test_invalid_ramps_are_rejected(change, message):
    plant = fed_line(sm.RefStation(servers=1, buffer=0, process=ALWAYS), 10.0)
    for name, value in change.items():
        setattr(plant, name, value)
    with pytest.raises(ValueError, match=message):
        sm.check(plant)


def test_a_fleet_whose_size_changes_is_not_modelled():
    fleet = type("Fleet", (), {"id": "amr", "count_steps": lambda self: [(0.0, 2), (5.0, 3)]})
    plant = type("Plant", (), {"transport": [fleet()], "layout": None})()
    with pytest.raises(NotImplementedError, match="fleet 'amr'"):
        sm._transport(plant)


def test_gate_resizes_in_order():
    import simpy

    env = simpy.Environment()
    gate = ramp.Gate(env, 0)
    requests = [gate.request() for _ in range(3)]
    env.run()
    assert not any(r.triggered for r in requests)
    gate.resize(2)
    assert [r.triggered for r in requests] == [True, True, False]
    gate.resize(1)
    gate.release(requests[0])
    env.run()
    assert not requests[2].triggered  # two were held over a count of one: no slot came free
    gate.release(requests[1])
    env.run()
    assert requests[2].triggered


# --------------------------------------------------------------------------- from_plant


def test_from_plant_reads_the_ramps():
    # The accessors of twin.config (duck-typed): a plan and its release, server counts,
    # learning by product, a branch's p steps, the cap's and a pool's steps, the period.
    exponential = SimpleNamespace(dist="exponential", mean=2.0)
    branch = SimpleNamespace(to="exit", p_steps=lambda: [(0.0, 1.0)])
    switched = [SimpleNamespace(to="b", p_steps=lambda: [(0.0, 1.0), (40.0, 0.5)]),
                SimpleNamespace(to="exit", p_steps=lambda: [(0.0, 0.0), (40.0, 0.5)])]
    curve = SimpleNamespace(rate=0.9, floor=0.5)
    stations = [
        SimpleNamespace(servers=2, server_steps=lambda: [(0.0, 1), (30.0, 2)], buffer=2,
                        process=1.0, failures=None, next=switched,
                        learning=SimpleNamespace(by_product={"all": curve}),
                        learning_for=lambda product: curve),
        SimpleNamespace(servers=1, server_steps=lambda: [(0.0, 1)], buffer=None, process=0.5,
                        failures=None, next=[branch], learning=None,
                        learning_for=lambda product: None),
    ]
    routes = {0: [(1, 1.0), (2, 0.0)], 1: [(2, 1.0)]}
    power = SimpleNamespace(base_load=1.0, cooling_factor=lambda: 1.5, cap=40.0,
                            cap_steps=lambda: [(0.0, 40.0), (60.0, 30.0)],
                            demand_interval=0.25)
    pool = SimpleNamespace(id="crew", count=3, count_steps=lambda: [(0.0, 2), (10.0, 3)],
                           shifts=None)
    plant = SimpleNamespace(
        horizon=100.0, warmup=10.0, stations=stations, routes=lambda j: routes[j],
        source=SimpleNamespace(interarrival=exponential, release="nhpp",
                               steps=lambda: [(0.0, exponential), (50.0, 1.0)]),
        power=power, resources=[pool], report=SimpleNamespace(period=20.0),
    )
    ref = sm.from_plant(plant)
    assert (ref.interarrival, ref.release, ref.period) == ([(0.0, 2.0), (50.0, 1.0)], "nhpp",
                                                          20.0)
    assert [st.servers for st in ref.stations] == [[(0.0, 1), (30.0, 2)], 1]
    assert [st.learning for st in ref.stations] == [[(0.9, 0.5)], None]
    assert ref.stations[0].routes == [(1, [(0.0, 1.0), (40.0, 0.5)]),
                                      (2, [(0.0, 0.0), (40.0, 0.5)])]
    assert ref.stations[1].routes == [(2, 1.0)]
    assert ref.cap == [(0.0, 40.0), (60.0, 30.0)]
    assert ref.pools[0].count == [(0.0, 2), (10.0, 3)]
    r = sm.run_replication(ref, 0)
    assert r["series"]["exits"].sum() == r["exits"] > 0
    # a drawn plan keeps its laws; one step is a plain sampler
    plant.source.release = "drawn"
    assert [h for h, _ in sm.from_plant(plant).interarrival] == [0.0, 50.0]
    plant.source.steps = lambda: [(0.0, exponential)]
    assert callable(sm.from_plant(plant).interarrival)
