"""Vehicle fleets: a hand-computed trace, the instant hand-over a fleet of zero times must
reproduce, the M/D/1 queue a single vehicle is, batteries and chargers, and conservation.

docs/transport.md states the rules these numbers follow.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from tests.batches import assert_batch_equals_runs_alone

TOL = 1e-9
FLOOR = {"floor": [200, 40], "aisles": [[[0, 20], [200, 20]]], "shipping": [190, 20]}


def station(sid, x, process, **extra):
    """A 6 m x 6 m station south of the aisle y = 20, its dock at (x, 20)."""
    return {"id": sid, "process": process, "position": [x, 10], "footprint": [6, 6], **extra}


def plant(stations, fleets, interarrival="1h", horizon=6.0, warmup=0.0, layout=FLOOR, **extra):
    return twin.config.plant_from_dict({
        "name": "fleet", "horizon": f"{horizon!r}h", "warmup": f"{warmup!r}h",
        "source": {"interarrival": interarrival}, "stations": stations, "layout": layout,
        "transport": fleets, **extra})


def agv(**extra):
    return {"id": "agv", "kind": "agv", "count": 1, "speed": 0.01, **extra}


def lane(result, key, i=0):
    values = result.lanes[key]
    return float(values[0] if values.ndim == 1 else values[0, i])


def test_hand_trace(backend):
    # a (1 server, no buffer, 30 min) at x = 10 and b (15 min) at x = 46: 36 m apart, one AGV
    # at 36 m/h (1 h a drive), loading and unloading 6 min each, home at a's dock. Job 1 enters
    # a at 1, finishes 1.5, is loaded 1.5-1.6, driven 1.6-2.6, unloaded 2.6-2.7, processed at b
    # 2.7-2.95 and exits. The AGV drives home empty 2.7-3.7. Job 2 enters a at 2 and finishes
    # at 2.5 but waits for the AGV until 3.7 (a is blocked; job 3 is held at the source from
    # 3); loaded 3.7-3.8, it leaves a at 3.8 as job 3 enters (done 4.3, waits again), arrives
    # at b at 4.9 and exits at 5.15. The AGV is home at 5.9 and loads job 3 until 6.0.
    p = plant([station("a", 10, "30min", buffer=0, transport="agv"),
               station("b", 46, "15min")],
              [agv(load_time="6min", unload_time="6min", home=[10, 20])])
    r = twin.simulate(p, replications=1, backend=backend)
    assert lane(r, "exits") == 2
    assert r.lanes["cycle_time_h"][0] == pytest.approx((1.95 + 3.15) / 2, abs=TOL)
    busy_a, blocked_a = 1.5, 0.1 + 1.3 + 1.7  # blocked includes the waits and the loading
    assert lane(r, "station.busy", 0) == pytest.approx(busy_a / 6, abs=TOL)
    assert lane(r, "station.blocked", 0) == pytest.approx(blocked_a / 6, abs=TOL)
    assert lane(r, "station.busy", 1) == pytest.approx(0.5 / 6, abs=TOL)
    expected = {"loaded": 2.0, "empty": 2.0, "handling": 0.5, "charging": 0.0, "idle": 1.5}
    for name, hours in expected.items():
        assert lane(r, f"transport.{name}") == pytest.approx(hours / 6, abs=TOL), name
    assert lane(r, "transport.mean_wait_h") == pytest.approx((0 + 1.2 + 1.6) / 3, abs=TOL)
    assert lane(r, "transport.trips_per_h") == pytest.approx(2 / 6, abs=TOL)
    assert lane(r, "transport.km_per_vehicle_per_h") == pytest.approx(4 / 6 * 36 / 1000, abs=TOL)
    # jobs 1-3 spent 1.95 + 3.15 + 2.2 h in the plant, on the AGV included
    assert lane(r, "wip") == pytest.approx(7.3 / 6, abs=TOL)
    assert lane(r, "jobs_entered") - lane(r, "jobs_exited") == lane(r, "jobs_inside") == 2


def mixed_line(fleet=None, layout=FLOOR):
    """Four stations with parallel servers, finite buffers, failures, rework and exit."""
    carry = {"transport": "agv"} if fleet else {}
    stations = [
        station("kit", 10, {"dist": "exponential", "mean": "40min"}, servers=2, buffer=2,
                **carry),
        station("build", 40, {"dist": "lognormal", "mean": "1.5h", "cv": 0.4}, servers=3,
                buffer=1, failures={"mtbf": "20h", "mttr": "1h"}, **carry),
        station("test", 70, {"dist": "gamma", "mean": "1h", "cv": 0.7}, servers=2, buffer=2,
                next=[{"to": "exit", "p": 0.8}, {"to": "fix", "p": 0.2}], **carry),
        station("fix", 100, {"dist": "uniform", "low": "20min", "high": "1h"}, next="test",
                **carry),
    ]
    if fleet:
        layout = {**layout, "shipping": [120, 20]}
        for s in stations:
            s["dock"] = [120, 20]  # every dock and the shipping point at one place: no driving
    return plant(stations, [fleet] if fleet else [], {"dist": "exponential", "mean": "50min"},
                 horizon=400.0, warmup=40.0, layout=layout)


def test_a_fleet_of_zero_times_is_the_instant_hand_over(backend):
    # one vehicle, every dock at one point, no loading time: a job finishing at one station
    # reaches the next at that same instant, as with no fleet, so every figure is the same
    with_fleet = twin.simulate(mixed_line(agv(speed=1.0)), replications=6, seed=3,
                               backend=backend)
    without = twin.simulate(mixed_line(), replications=6, seed=3, backend=backend)
    for key in ("throughput_per_h", "cycle_time_h", "cycle_time_p95", "wip", "station.busy",
                "station.blocked", "station.down", "station.mean_queue", "station.mean_wait_h"):
        np.testing.assert_allclose(with_fleet.lanes[key], without.lanes[key], rtol=1e-9,
                                   atol=1e-9, err_msg=key)
    assert (with_fleet.lanes["transport.idle"] == 1.0).all()


def test_one_vehicle_is_an_md1_queue(stat_seed):
    # A job an hour (Poisson) passes a station of many servers with a near-zero processing
    # time and asks for the AGV. With no home the AGV stays at b after unloading, so each
    # request costs it the same s = 0.3 h empty drive (36 m at 120 m/h) + 0.1 h loading + 0.3 h
    # loaded + 0.1 h unloading: M/D/1 with rho = 0.8. A request waits Pollaczek-Khinchine's
    # lam s^2 / (2 (1 - rho)) = 1.6 h for the AGV to start, then 0.3 h for it to arrive.
    lam, s, empty = 1.0, 0.8, 0.3
    p = plant([station("a", 10, {"dist": "exponential", "mean": "0.36s"}, servers=40,
                       transport="agv"),
               station("b", 46, "1s")],
              [agv(speed=120 / 3600, load_time="0.1h", unload_time="0.1h")],
              {"dist": "exponential", "mean": f"{1 / lam!r}h"}, horizon=3000.0, warmup=300.0)
    r = twin.simulate(p, replications=24, seed=stat_seed)
    wait = r.summary()["transport"]["agv"]["mean_wait_h"]
    expected = lam * s * s / (2 * (1 - lam * s)) + empty
    lo, hi = wait["ci95"]
    assert lo - 0.03 * expected <= expected <= hi + 0.03 * expected
    busy = 1 - r.lanes["transport.idle"].mean()
    assert busy == pytest.approx(lam * s, rel=0.03)


def battery_plant(chargers, count=2):
    return plant(
        [station("a", 10, {"dist": "exponential", "mean": "20min"}, servers=3, transport="agv"),
         station("b", 100, {"dist": "exponential", "mean": "10min"}, servers=2)],
        [agv(count=count, speed=0.05, load_time="5min", unload_time="5min", home=[50, 20],
             battery={"capacity": "4h", "charge_time": "1h", "threshold": 0.6,
                      "chargers": chargers})],
        {"dist": "exponential", "mean": "40min"}, horizon=900.0, warmup=100.0)


@pytest.mark.parametrize("chargers", [[[30, 20]], [[30, 20], [60, 20]]])
def test_batteries_never_run_flat_and_charge_as_much_as_they_drain(backend, chargers, stat_seed):
    r = twin.simulate(battery_plant(chargers), replications=6, seed=stat_seed, backend=backend)
    assert (r.lanes["transport.battery_low_h"] >= -TOL).all()
    active = 1 - r.lanes["transport.idle"] - r.lanes["transport.charging"]
    # over a long run a vehicle charges what it drains: charge_time / capacity hours of
    # charging per hour active (less any wait for a charger), to within one battery a vehicle
    charging = r.lanes["transport.charging"]
    window = 800.0
    slack = 1.0 / window  # one full charge (1 h) at either end of the window
    expected = active * 1.0 / 4.0
    if len(chargers) == 2:  # two vehicles, two chargers: nobody waits for one
        np.testing.assert_allclose(charging, expected, atol=slack)
    else:  # waiting for the only charger counts as charging too
        assert (charging >= expected - slack).all()


def test_a_vehicle_with_no_battery_never_charges(backend):
    p = mixed_line(agv(speed=1.0, load_time="2min"))
    r = twin.simulate(p, replications=2, backend=backend)
    assert (r.lanes["transport.charging"] == 0).all()
    assert np.isinf(r.lanes["transport.battery_low_h"]).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vehicles=st.integers(1, 3),
       speed=st.floats(0.05, 2.0), load=st.floats(0.0, 0.2),
       home=st.booleans())
def test_conservation_and_fractions_with_transport(seed, vehicles, speed, load, home):
    fleet = agv(count=vehicles, speed=speed, load_time=f"{load!r}h", unload_time=f"{load!r}h")
    if home:
        fleet["home"] = [150, 20]
    stations = [
        station("kit", 10, {"dist": "exponential", "mean": "30min"}, servers=2,
                transport="agv"),  # unlimited: the rework loop cannot deadlock
        station("test", 60, {"dist": "exponential", "mean": "40min"}, servers=2, buffer=0,
                next=[{"to": "exit", "p": 0.7}, {"to": "kit", "p": 0.3}], transport="agv"),
    ]
    p = plant(stations, [fleet], {"dist": "exponential", "mean": "2h"}, horizon=150.0,
              warmup=10.0)
    r = twin.simulate(p, replications=4, seed=seed)
    lanes = r.lanes
    assert (lanes["jobs_entered"] - lanes["jobs_exited"] == lanes["jobs_inside"]).all()
    total = sum(lanes[f"transport.{f}"] for f in ("loaded", "empty", "handling", "charging",
                                                   "idle"))
    np.testing.assert_allclose(total, 1.0, atol=1e-9)
    for f in ("busy", "blocked", "down", "waiting", "idle"):
        assert (lanes[f"station.{f}"] >= -1e-9).all()


def test_scenarios_with_different_fleets_in_one_batch_equal_their_runs_alone(backend):
    def scenario(vehicles, speed, x_test, technicians):
        return plant(
            [station("kit", 10, {"dist": "exponential", "mean": "30min"}, servers=2, buffer=1,
                     transport="agv", requires={"any_of": [{"technician": 1},
                                                           {"humanoid": 1, "time_factor": 2}]}),
             station("test", x_test, {"dist": "exponential", "mean": "40min"}, servers=2,
                     transport="agv")],
            [agv(count=vehicles, speed=speed, load_time="3min", unload_time="3min",
                 home=[100, 20])],
            {"dist": "exponential", "mean": "1h"}, horizon=150.0, warmup=10.0,
            resources=[{"id": "technician", "count": technicians,
                        "shifts": [{"days": ["mon", "tue", "wed"], "start": "08:00",
                                    "end": "20:00"}]},
                       {"id": "humanoid", "count": 1}])

    assert_batch_equals_runs_alone(
        backend, [scenario(1, 0.05, 60, 1), scenario(3, 0.5, 150, 2)], 4, 2)


@pytest.mark.filterwarnings("error")
def test_a_fleet_with_a_battery_beside_one_without_runs_clean():
    # the second fleet's battery is infinite: no inf - inf may reach the charging arithmetic
    p = battery_plant([[30, 20]])
    data = p.model_dump(mode="json", exclude_none=True)
    data["stations"][1]["transport"] = "cart"
    data["transport"].append({"id": "cart", "kind": "amr", "count": 1, "speed": 1.0})
    r = twin.simulate(twin.config.plant_from_dict(data), replications=2, seed=1)
    assert (r.lanes["transport.charging"][:, 0] > 0).all()
    assert (r.lanes["transport.charging"][:, 1] == 0).all()
