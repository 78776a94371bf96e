"""Ramp studies in the engine: values that change over time, learning curves, results per
period, and MSER-5's warm-up, against hand-counted traces and queueing theory.

The exact plants are deterministic and *always fed*: the station has no buffer and the
source's interarrival time is one second, so a job waits at the source whenever the station
is full and enters the moment a server frees (docs/semantics.md). Expected completions are
counted here from the rules, not read from the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import twin
from twin.errors import TwinError
from twin.run.simulate import SimulationError, simulate_batch

SECOND = 1.0 / 3600.0


def plant(stations, source=None, horizon="40h", warmup="0h", period="10h", **extra):
    doc = {"name": "ramp", "horizon": horizon, "warmup": warmup,
           "source": source or {"interarrival": "1s"}, "stations": stations,
           "report": {"period": period}}
    doc.update(extra)
    return twin.config.plant_from_dict(doc)


def run(p, replications=1, **kw):
    return twin.simulate(p, replications=replications, seed=kw.pop("seed", 0),
                         backend="numpy", **kw)


def per_period(times, edges):
    """Counts of ``times`` in each period [edges[k], edges[k+1]) (an exit at a period's end
    belongs to the next period)."""
    times = np.asarray(times)
    for e in edges[1:-1]:
        assert np.abs(times - e).min() > 1e-6, "a completion too close to a period's end"
    return np.histogram(times, bins=edges)[0]


def exits(result):
    return result.lanes["series.exits"][0]


def test_a_learning_curve_on_an_always_fed_server_gives_hand_counted_completions():
    rate, floor = 0.8, 0.5
    p = plant([{"id": "build", "buffer": 0, "process": "1h",
                "learning": {"rate": rate, "floor": floor}}], horizon="40h")
    r = run(p)
    t, done = SECOND, []
    for n in range(1, 200):
        t += max(floor, n ** math.log2(rate))
        done.append(t)
    expected = per_period([d for d in done if d <= 40.0], [0, 10, 20, 30, 40 + 1e-9])
    np.testing.assert_array_equal(exits(r), expected)
    assert expected[0] < expected[-1]  # the curve shows: more per period as it learns


def test_learning_by_product_counts_each_products_jobs():
    p = plant([{"id": "build", "buffer": 0, "process": "1h",
                "learning": {"by_product": {"a": {"rate": 0.5, "floor": 0.25},
                                            "b": {"rate": 1.0}}}}],
              products={"a": 0.999999, "b": 0.000001}, horizon="10h", period="10h")
    r = run(p)
    assert r.lanes["product.throughput_per_h"][0, 1] == 0.0  # no b in this run
    # product a's job n takes max(0.25, n^-1) h: 1, 0.5, 1/3, 0.25, 0.25, ...
    t, n, count = SECOND, 0, 0
    while True:
        n += 1
        t += max(0.25, 1.0 / n)
        if t > 10.0:
            break
        count += 1
    assert exits(r)[0] == count


def test_a_plan_that_halves_a_deterministic_interarrival_gives_exact_counts():
    p = plant([{"id": "pack", "process": "1min"}],
              source={"plan": [{"from": "0h", "interarrival": "2h"},
                               {"from": "10h", "interarrival": "1h"}]}, horizon="20h",
              period="5h")
    r = run(p)
    # arrivals 2, 4, 6, 8, 10 (drawn at 8 from the first step), then every hour
    np.testing.assert_array_equal(exits(r), [2, 2, 5, 5])


def test_a_plans_interarrival_is_the_one_in_force_when_it_is_drawn():
    p = plant([{"id": "pack", "process": "1min"}],
              source={"plan": [{"from": "0h", "interarrival": "3h"},
                               {"from": "4h", "interarrival": "1h"}]}, horizon="10h",
              period="5h")
    r = run(p)
    # arrivals 3, 6 (drawn at 3, under the first step), 7, 8, 9, 10
    np.testing.assert_array_equal(exits(r), [1, 4])
    assert r.lanes["exits"][0] == 5  # the exit at 10h + 1min is past the horizon


def test_an_exact_poisson_release_follows_the_plans_rate():
    reps = 64
    p = plant([{"id": "pack", "process": "1s"}],
              source={"plan": [{"from": "0h", "interarrival": {"dist": "exponential",
                                                              "mean": "2h"}},
                               {"from": "100h", "interarrival": {"dist": "exponential",
                                                                "mean": "30min"}}],
                      "release": "nhpp"}, horizon="200h", period="10h")
    counts = run(p, replications=reps).lanes["series.exits"].sum(axis=0)
    expected = np.array([5.0] * 10 + [20.0] * 10) * reps  # Poisson totals: rate x 10 h x reps
    z = (counts - expected) / np.sqrt(expected)
    assert np.abs(z).max() < 4.5, z
    # with draws at the previous arrival, the first arrival after 100h still waits ~2h
    drawn = plant([{"id": "pack", "process": "1s"}],
                  source={"plan": p.source.model_dump()["plan"]}, horizon="200h",
                  period="10h")
    first = run(drawn, replications=reps).lanes["series.exits"].sum(axis=0)[10]
    assert first < counts[10] - 4 * math.sqrt(counts[10])


def test_a_server_count_that_doubles_doubles_the_output_from_its_instant():
    p = plant([{"id": "burn_in", "buffer": 0, "process": "1h",
                "servers": [{"from": "0h", "count": 1}, {"from": "10.5h", "count": 2}]}],
              horizon="30h")
    r = run(p)
    first = [k + SECOND for k in range(1, 31)]  # the first bay: back to back from 1 s
    second = [10.5 + k for k in range(1, 21)]  # the new bay takes the held job at 10.5h
    expected = per_period([t for t in first + second if t <= 30.0], [0, 10, 20, 30 + 1e-9])
    np.testing.assert_array_equal(exits(r), expected)
    np.testing.assert_array_equal(expected, [9, 19, 20])
    busy = r.lanes["series.busy"][0, :, 0]
    np.testing.assert_allclose(busy, 1.0 - np.array([SECOND / 10, 0.0, 0.0]), atol=1e-9)
    # server-time in force: 1 x 10.5 h + 2 x 19.5 h; the window's busy share counts that
    assert r.lanes["station.busy"][0, 0] == pytest.approx((49.5 - SECOND) / 49.5, abs=1e-12)


def test_a_busy_server_taken_away_finishes_its_job_first():
    p = plant([{"id": "burn_in", "buffer": 0, "process": "4h",
                "servers": [{"from": "0h", "count": 2}, {"from": "10h", "count": 1}]}],
              horizon="30h")
    r = run(p)
    # two bays from 1 s and 2 s: ends 4, 8, 12 (+1 s) and 4, 8, 12 (+2 s); at 10h both are
    # busy: the first to free (12h + 1 s) leaves, the other goes on
    first = [4 * k + SECOND for k in range(1, 8)]
    second = [4.0 + 2 * SECOND, 8.0 + 2 * SECOND, 12.0 + 2 * SECOND]
    second += [12.0 + 2 * SECOND + 4 * k for k in range(1, 5)]
    done = sorted(t for t in first[:3] + second if t <= 30.0)
    np.testing.assert_array_equal(exits(r), per_period(done, [0, 10, 20, 30 + 1e-9]))
    on = 2 * 10 + 2 * (12 + SECOND - 10) + 1 * (30 - 12 - SECOND)
    busy = (r.lanes["station.busy"][0, 0] * on)
    assert busy == pytest.approx(on - 2 * SECOND - SECOND, abs=1e-9)


def test_routing_probabilities_switch_at_their_time():
    stations = [{"id": "test", "buffer": 0, "process": "1h",
                 "next": [{"to": "exit", "p": [{"from": "0h", "p": 1.0},
                                               {"from": "10h", "p": 0.0}]},
                          {"to": "rework", "p": [{"from": "0h", "p": 0.0},
                                                 {"from": "10h", "p": 1.0}]}]},
                {"id": "rework", "process": "30min", "next": "exit"}]
    r = run(plant(stations, horizon="20h"))
    busy = r.lanes["series.busy"][0]
    assert busy[0, 1] == 0.0 and busy[1, 1] > 0.0
    # after 10h every job goes through rework: ends at test k + 1 s, rework 30 min later
    np.testing.assert_array_equal(exits(r), [9, 10])


def test_a_cap_that_rises_lets_a_second_bay_run():
    stations = [{"id": "burn_in", "servers": 2, "buffer": 0, "process": "1h",
                 "power": {"busy": "100kW"}}]
    r = run(plant(stations, horizon="20h",
                  power={"cap": [{"from": "0h", "cap": "100kW"}, {"from": "10h",
                                                                  "cap": "200kW"}]}))
    # one bay at a time until 10h (the second waits for power), both after
    np.testing.assert_array_equal(exits(r), [9, 20])


def test_servers_switched_on_hold_their_standby_even_above_the_cap():
    """Two bays run at the cap (2 x 10 kW); at 3h five servers with a 1 kW standby come
    online: the cap counts 25 kW, and from then on only one bay runs (a second start would
    ask 9 kW more than the 16 kW counted), one job an hour. Four of the five take waiting
    jobs at once (drawing nothing busy), so the plant draws 21 kW at most."""
    stations = [{"id": "a", "servers": 2, "buffer": 0, "process": "1h", "next": "b",
                 "power": {"idle": "1kW", "busy": "10kW"}},
                {"id": "b", "servers": [{"from": "0h", "count": 0}, {"from": "3h", "count": 5}],
                 "process": "1min", "power": {"idle": "1kW"}}]
    r = run(plant(stations, horizon="6h", period="3h", power={"cap": "20kW"}))
    # [0, 3h): four jobs wait at b; [3h, 6h): those four, the two ending at 3h + 1 s and
    # 3h + 2 s, then one an hour from 3h + 2 s (4h and 5h + 2 s)
    np.testing.assert_array_equal(exits(r), [0, 8])
    assert r.lanes["power.max_kw"][0] == pytest.approx(21.0)


def test_pool_units_added_over_time_let_more_jobs_run():
    stations = [{"id": "assemble", "servers": 2, "buffer": 0, "process": "1h",
                 "requires": {"technician": 1}}]
    r = run(plant(stations, horizon="20h",
                  resources=[{"id": "technician",
                              "count": [{"from": "0h", "count": 1}, {"from": "10h",
                                                                     "count": 2}]}]))
    np.testing.assert_array_equal(exits(r), [9, 20])
    # units in force: 1 x 10 h + 2 x 10 h; held: 10 - 1 s, then 20
    assert r.lanes["resources.busy"][0, 0] == pytest.approx((30 - SECOND) / 30, abs=1e-9)


def test_series_add_up_to_the_window_and_each_period_equals_a_run_that_ends_there():
    """The engine writes each period's figures at its end from running integrals less the
    present levels: a period's WIP, busy, heat and exits must equal what a run with that
    period's end as its horizon measures (the same random numbers up to there)."""
    stations = [{"id": "a", "servers": 2, "buffer": 3,
                 "process": {"dist": "exponential", "mean": "50min"},
                 "power": {"idle": "1kW", "busy": "10kW"}},
                {"id": "b", "process": {"dist": "uniform", "low": "10min", "high": "50min"},
                 "power": {"busy": "5kW"},
                 "next": [{"to": "exit", "p": 0.8}, {"to": "a", "p": 0.2}]}]
    source = {"interarrival": {"dist": "exponential", "mean": "40min"}}
    stations[0]["transport"] = "agv"  # jobs on a vehicle count in WIP: drives booked whole
    for st, x in zip(stations, (10, 40), strict=True):
        st.update(position=[x, 10], footprint=[6, 6])
    more = {"power": {"base_load": "2kW", "cooling": {"cop": 4.0}},
            "layout": {"floor": [60, 40], "aisles": [[[0, 20], [60, 20]]],
                       "shipping": [55, 20]},
            "transport": [{"id": "agv", "kind": "agv", "count": 1, "speed": 0.05,
                           "load_time": "5min", "unload_time": "5min"}]}
    long = run(plant(stations, source, horizon="60h", period="20h", **more), replications=4)
    short = run(plant(stations, source, horizon="20h", period="20h", **more), replications=4)
    assert (long.lanes["transport.loaded"] > 0.05).all()
    L = long.lanes
    np.testing.assert_allclose(L["series.exits"][:, 0], short.lanes["exits"], rtol=0)
    np.testing.assert_allclose(L["series.wip"][:, 0], short.lanes["wip"], rtol=1e-9)
    np.testing.assert_allclose(L["series.busy"][:, 0, :], short.lanes["station.busy"],
                               rtol=1e-9)
    np.testing.assert_allclose(L["series.mean_kw"][:, 0], short.lanes["power.mean_kw"],
                               rtol=1e-9)
    np.testing.assert_allclose(L["series.peak_kw"][:, 0], short.lanes["power.max_kw"],
                               rtol=1e-12)
    # and the periods add up to the window
    np.testing.assert_allclose(L["series.exits"].sum(axis=1), L["exits"])
    np.testing.assert_allclose(L["series.wip"].mean(axis=1), L["wip"], rtol=1e-9)
    np.testing.assert_allclose(L["series.ct_sum"].sum(axis=1),
                               L["cycle_time_h"] * L["exits"], rtol=1e-9)
    np.testing.assert_allclose(L["series.mean_kw"].mean(axis=1), L["power.mean_kw"],
                               rtol=1e-9)
    np.testing.assert_allclose(L["series.peak_kw"].max(axis=1), L["power.max_kw"], rtol=0)
    summary = long.summary()
    assert summary["series"]["start_h"] == [0.0, 20.0, 40.0]
    assert len(summary["series"]["throughput_per_h"]["mean"]) == 3


def test_periods_of_a_window_after_a_warmup_and_a_short_last_period():
    stations = [{"id": "a", "process": {"dist": "exponential", "mean": "30min"}}]
    source = {"interarrival": {"dist": "exponential", "mean": "1h"}}
    r = run(plant(stations, source, horizon="50h", warmup="5h", period="20h"),
            replications=3)
    block = r.summary()["series"]
    assert block["start_h"] == [5.0, 25.0, 45.0] and block["length_h"] == [20.0, 20.0, 5.0]
    np.testing.assert_allclose(r.lanes["series.exits"].sum(axis=1), r.lanes["exits"])


def test_a_target_is_reached_in_the_period_the_counts_say():
    p = plant([{"id": "burn_in", "buffer": 0, "process": "1h",
                "servers": [{"from": "0h", "count": 1}, {"from": "10h", "count": 2}]}],
              horizon="30h")
    doc = p.model_dump(mode="json", by_alias=True, exclude_none=True)
    doc["report"] = {"period": "10h", "target": {"throughput": "1.5/h"}}
    doc["stations"][0]["servers"] = [{"from": "0h", "count": 1}, {"from": "10h", "count": 2}]
    r = run(twin.config.plant_from_dict(doc))
    target = r.summary()["target"]
    assert target["period"] == 1 and target["start_h"] == 10.0  # 19 in [10, 20): 1.9/h
    assert target["reached_share"] == 1.0


def test_warmup_auto_on_an_mm1_queue_picks_a_point_and_covers_the_exact_wait():
    lam, mu = 1.0, 1.25
    stations = [{"id": "server", "process": {"dist": "exponential", "mean": f"{1 / mu}h"}}]
    source = {"interarrival": {"dist": "exponential", "mean": f"{1 / lam}h"}}
    doc = {"name": "mm1", "horizon": "3000h", "warmup": "auto", "source": source,
           "stations": stations}
    r = twin.simulate(twin.config.plant_from_dict(doc), replications=32, seed=3,
                      backend="numpy")
    s = r.summary()
    assert s["warmup_method"] == "mser-5"
    assert 0.0 <= s["warmup_h"] < 1500.0
    wait = s["stations"]["server"]["mean_wait_h"]
    exact = lam / (mu * (mu - lam))  # M/M/1: Wq = rho / (mu - lambda)
    assert wait["ci95"][0] <= exact <= wait["ci95"][1], (wait, exact)


def test_warmup_auto_on_a_run_too_short_says_what_horizon_it_needs():
    # a release rate that rises step by step to the end: output never settles
    steps = [{"from": f"{10 * k}h", "interarrival": f"{60 / (1 + k):.6g}min"}
             for k in range(10)]
    doc = {"name": "short", "horizon": "100h", "warmup": "auto", "source": {"plan": steps},
           "stations": [{"id": "server", "process": "1min"}], "report": {"period": "2h"}}
    with pytest.raises(TwinError, match=r"horizon of at least 200 h"):
        twin.simulate(twin.config.plant_from_dict(doc), replications=2, seed=0,
                      backend="numpy")


def test_the_houston_ramp_runs_and_follows_its_release_plan():
    p = twin.load("configs/houston-ramp.yaml")
    assert p.change_times()[:2] == [8 * 168.0, 12 * 168.0]
    r = twin.simulate(p, replications=2, seed=0, backend="numpy", horizon=10 * 168.0)
    s = r.summary()
    weekly = np.array(s["series"]["throughput_per_h"]["mean"]) * 168.0
    assert len(weekly) == 10 and s["target"]["period"] is None  # 1,000 a week comes later
    # the first week fills the line; weeks 2-8 make about the 150 released, week 10 about 300
    assert 120.0 < weekly[1:8].mean() < 180.0 and weekly[9] > 220.0


def test_vehicles_added_and_taken_away_at_their_times():
    """One AGV, three from 5h, one from 20h: at 5h two vehicles come on idle at the fleet's
    start; at 20h the idle ones go off at once (a loaded one would finish its trip first)."""
    from twin.run import trace

    stations = [{"id": "a", "process": "10min", "position": [10, 10], "footprint": [6, 6],
                 "transport": "agv"}]
    p = plant(stations, source={"interarrival": "2h"}, horizon="30h",
              layout={"floor": [60, 40], "aisles": [[[0, 20], [60, 20]]],
                      "shipping": [55, 20]},
              transport=[{"id": "agv", "kind": "agv", "speed": 1.0, "load_time": "1min",
                          "unload_time": "1min",
                          "count": [{"from": "0h", "count": 1}, {"from": "5h", "count": 3},
                                    {"from": "20h", "count": 1}]}])
    rows = [r for r in trace.record(p, 0, 0) if r.kind == "vehicle"]
    on = {r.index for r in rows if r.time_h == 5.0 and r.state == "idle"}
    off = {r.index for r in rows if r.time_h == 20.0 and r.state == "off"}
    assert len(on) == 2 and len(off) == 2, (on, off)
    assert not any(r.index in off and r.time_h > 20.0 for r in rows)  # they stay off
    r = run(p)
    shares = sum(r.lanes[f"transport.{k}"][0, 0]
                 for k in ("loaded", "empty", "handling", "charging", "idle"))
    assert shares == pytest.approx(1.0, abs=1e-12)  # over the vehicle-time in force


def test_a_tariff_that_changes_prices_each_part_of_the_window_by_its_own_step():
    stations = [{"id": "burn_in", "buffer": 0, "process": "1000h",
                 "power": {"idle": "1MW", "busy": "1MW"}}]
    p = plant(stations, horizon="2w", period="1w",
              power={"tariff": [{"from": "0w", "energy": 0.05, "demand_charge": 10.0},
                                {"from": "1w", "energy": 0.10, "demand_charge": 20.0}]})
    r = run(p)
    month = 365.25 * 24 / 12
    assert r.lanes["power.energy_cost_usd"][0] == pytest.approx(1000 * 168 * (0.05 + 0.10))
    assert r.lanes["power.demand_cost_usd"][0] == pytest.approx(
        1000 * (10.0 + 20.0) * 168 / month)


def test_warmup_auto_in_a_batch_leaves_an_overloaded_scenario_to_its_error():
    stations = [{"id": "server", "process": {"dist": "exponential", "mean": "30min"}}]
    doc = {"name": "mm1", "horizon": "500h", "warmup": "auto",
           "source": {"interarrival": {"dist": "exponential", "mean": "1h"}},
           "stations": stations}
    fine = twin.config.plant_from_dict(doc)
    doc["stations"] = [dict(stations[0], process={"dist": "exponential", "mean": "2h"})]
    overloaded = twin.config.plant_from_dict(doc)
    out = simulate_batch([fine, overloaded], replications=8, seed=1, backend="numpy")
    assert out[0].summary()["warmup_method"] == "mser-5"
    assert isinstance(out[1], SimulationError)
    assert "overloaded" in str(out[1])
