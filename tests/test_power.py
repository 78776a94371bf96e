"""Power: draws by state, busy profiles, the cap, demand intervals, the tariff.

Every figure is checked against an exact value: a hand-computed trace, an identity that must
hold to rounding (energy = draw x time in state = integral of the demand-interval series), a
formula (M/M/c mean power, the M/M/k queue a cap makes of M/M/c), a hand-computed bill, or the
independent SimPy reference model run on the same deterministic plant.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from tests.batches import assert_batch_equals_runs_alone, final_state
from twin.results import metrics
from twin_reference import simpy_model as sm

TOL = 1e-9


def plant(stations, interarrival, horizon, warmup=0.0, power=None, **extra):
    data = {"name": "power", "horizon": f"{horizon!r}h", "warmup": f"{warmup!r}h",
            "source": {"interarrival": interarrival}, "stations": stations, **extra}
    if power is not None:
        data["power"] = power
    return twin.config.plant_from_dict(data)


def capped_pair(horizon=9.5):
    """Two servers, no buffer, a job every hour; each job takes 4 h in two steps of 2 h at
    8 then 10 kW; idle 1 kW, waiting 2 kW. Base 5 kW, COP 4 (factor 1.25), cap 22 kW: above
    the standby of 2 x 2 kW, the plant may reserve (22 - 5) / 1.25 - 4 = 9.6 kW, room for one
    server in a step (6 or 8 kW above standby) and never two."""
    return plant(
        [{"id": "bay", "servers": 2, "process": "4h", "buffer": 0,
          "power": {"idle": "1kW", "waiting": "2kW",
                    "busy": [{"share": 0.5, "power": "8kW"}, {"share": 0.5, "power": "10kW"}]}}],
        "1h", horizon,
        power={"base_load": "5kW", "cooling": {"cop": 4}, "cap": "22kW",
               "demand_interval": "1h"})


def one(result, key, station=None):
    values = result.lanes[key]
    return float(values[0] if station is None else values[0, station])


def test_cap_trace(backend):
    # 1: A takes server 1, step 0 (reserves 6 above standby). 2: B takes server 2; 6 + 6 > 9.6:
    # B waits. 3: the source holds C (station full); A asks for step 1 (+2 would fit) but B
    # asked first, so A waits at standby, which frees 6: B is granted step 0. 5: B asks for
    # step 1 and queues behind A; freeing B's 6 lets A (8) in. 7: A exits, B is granted step 1
    # (8), C enters server 1 and waits (8 + 6 > 9.6). 9: B exits, C is granted step 0, D
    # enters server 2 and waits.
    # Server 1: idle 1 [0,1], 8 [1,3], wait 2 [3,5], 10 [5,7], wait 2 [7,9], 8 [9,9.5]: 49 kWh
    # Server 2: idle 1 [0,2], wait 2 [2,3], 8 [3,5], wait 2 [5,7], 10 [7,9], wait 2 [9,9.5]: 45
    r = twin.simulate(capped_pair(), replications=1, seed=0, backend=backend)
    assert one(r, "power.station.energy_mwh", 0) == pytest.approx(0.094, abs=TOL)
    assert one(r, "power.energy_mwh") == pytest.approx((5 * 9.5 + 1.25 * 94) / 1000, abs=TOL)
    assert one(r, "power.station.power_wait", 0) == pytest.approx(7.5 / 19, abs=TOL)
    assert one(r, "station.waiting", 0) == pytest.approx(7.5 / 19, abs=TOL)
    assert one(r, "station.busy", 0) == pytest.approx(8.5 / 19, abs=TOL)
    assert one(r, "station.idle", 0) == pytest.approx(3 / 19, abs=TOL)
    # grants: B at 3 after 1 h, A at 5 after 2, B at 7 after 2, C at 9 after 2
    assert one(r, "power.station.power_wait_h", 0) == pytest.approx(7 / 4, abs=TOL)
    assert one(r, "exits") == 2 and one(r, "cycle_time_h") == pytest.approx(6.5, abs=TOL)
    assert one(r, "station.mean_wait_h", 0) == 0.0  # the waits were for power, not a server
    # heat by hour 2, 9, 10, 10, 10, 12, 12, 12, 12, then 10 for half an hour
    heat = np.array([2, 9, 10, 10, 10, 12, 12, 12, 12, 10])
    np.testing.assert_allclose(r.lanes["power.series_kw"][0], 5 + 1.25 * heat, atol=TOL)
    assert one(r, "power.max_kw") == one(r, "power.peak_kw") == pytest.approx(20.0, abs=TOL)
    assert one(r, "power.max_kw") <= 22.0


def test_cap_trace_agrees_with_the_simpy_reference():
    """The engine and the independent SimPy model give the same figures on a deterministic
    plant with a cap, profiles, blocking at the source and a warm-up."""
    p = capped_pair(horizon=40.0)
    p = p.model_copy(update={"warmup": 3.5})
    r = twin.simulate(p, replications=1, seed=0, backend="numpy")
    ref = sm.run_replication(sm.from_plant(p), seed=0)
    st0 = ref["stations"][0]
    assert one(r, "power.station.energy_mwh", 0) * 1000 == pytest.approx(st0["energy_kwh"])
    assert one(r, "power.station.power_wait", 0) == pytest.approx(st0["power_wait"])
    assert one(r, "power.energy_mwh") * 1000 == pytest.approx(ref["power"]["energy_kwh"])
    assert one(r, "power.max_kw") == pytest.approx(ref["power"]["max_kw"])
    np.testing.assert_allclose(r.lanes["power.series_kw"][0], ref["power"]["bins_kw"])
    assert one(r, "exits") == ref["exits"]


def test_profile_energy_per_job_is_the_sum_of_its_steps(backend):
    # a job every 10 h takes 4 h: 0.4 h at 40 kW, then 3.6 h at 128 kW = 476.8 kWh; nothing
    # drawn between jobs; jobs at 10, 20, ..., 90 finish within the 100 h horizon, the one
    # arriving at 100 draws for no time
    p = plant([{"id": "burn", "process": "4h",
                "power": {"busy": [{"share": 0.1, "power": "40kW"},
                                   {"share": 0.9, "power": "128kW"}]}}], "10h", 100.0)
    r = twin.simulate(p, replications=2, seed=1, backend=backend)
    per_job = 4 * (0.1 * 40 + 0.9 * 128)
    np.testing.assert_allclose(r.lanes["power.station.energy_mwh"][:, 0] * 1000, 9 * per_job,
                               rtol=1e-12)
    np.testing.assert_allclose(r.lanes["power.kwh_per_job"], per_job, rtol=1e-12)
    assert r.lanes["power.max_kw"][0] == pytest.approx(128.0)


def test_mmc_mean_power(backend, stat_seed):
    # mean power = base + factor x c (rho P_busy + (1 - rho) P_idle), with a busy profile whose
    # time-average is 0.25 x 4 + 0.75 x 12 = 10 kW
    lam, mu, c = 0.8, 0.25, 4
    p = plant([{"id": "a", "servers": c, "process": {"dist": "exponential", "mean": "4h"},
                "power": {"idle": "2kW", "busy": [{"share": 0.25, "power": "4kW"},
                                                  {"share": 0.75, "power": "12kW"}]}}],
              {"dist": "exponential", "mean": f"{1 / lam!r}h"}, 3000.0, 200.0,
              power={"base_load": "50kW", "cooling": {"cop": 4}})
    r = twin.simulate(p, replications=48, seed=stat_seed, backend=backend)
    rho = lam / (c * mu)
    expected = 50 + 1.25 * c * (rho * 10 + (1 - rho) * 2)
    ci = r.summary()["power"]["mean_kw"]["ci95"]
    half = (ci[1] - ci[0]) / 2
    assert abs(r.summary()["power"]["mean_kw"]["mean"] - expected) <= 2 * half


def erlang_c_number_in_system(lam: float, mu: float, k: int) -> float:
    a = lam / mu
    rho = a / k
    p0 = 1 / (sum(a**n / math.factorial(n) for n in range(k))
              + a**k / math.factorial(k) / (1 - rho))
    lq = p0 * a**k * rho / (math.factorial(k) * (1 - rho) ** 2)
    return lq + a


def test_cap_makes_an_mmc_station_an_mmk_queue(backend, stat_seed):
    # 4 servers, busy 10 kW, idle and waiting 2 kW, base 50 kW, factor 1.25, cap 80 kW: the
    # cap leaves (80 - 50) / 1.25 - 4 x 2 = 16 kW above standby, two servers' 8 kW each
    lam, mu = 0.4, 0.25
    p = plant([{"id": "a", "servers": 4, "process": {"dist": "exponential", "mean": "4h"},
                "power": {"idle": "2kW", "busy": "10kW", "waiting": "2kW"}}],
              {"dist": "exponential", "mean": f"{1 / lam!r}h"}, 4000.0, 400.0,
              power={"base_load": "50kW", "cooling": {"cop": 4}, "cap": "80kW"})
    r = twin.simulate(p, replications=48, seed=stat_seed, backend=backend)
    wip = r.summary()["wip"]
    half = (wip["ci95"][1] - wip["ci95"][0]) / 2
    assert abs(wip["mean"] - erlang_c_number_in_system(lam, mu, 2)) <= 2 * half
    assert (r.lanes["power.max_kw"] <= 80.0 + 1e-9).all()
    assert r.lanes["power.max_kw"].max() == pytest.approx(80.0)  # the cap binds
    # at most 2 busy: busy fraction = offered load / 4 servers
    assert r.summary()["stations"]["a"]["busy"]["mean"] == pytest.approx(lam / mu / 4, rel=0.03)


def test_energy_equals_draw_times_time_in_state_and_the_series_integral(backend):
    """With constant draws, a station's energy is each state's draw times the server-time in
    it, and the plant's energy is the integral of its demand-interval series: both exact."""
    draws = {"idle": "1kW", "busy": "7kW", "blocked": "3kW", "down": "0.5kW", "waiting": "2kW"}
    p = plant(
        [{"id": "a", "servers": 3, "process": {"dist": "gamma", "mean": "1.5h", "cv": 0.7},
          "buffer": None, "failures": {"mtbf": "20h", "mttr": "2h"}, "power": draws},
         {"id": "b", "servers": 3, "process": {"dist": "lognormal", "mean": "2.5h", "cv": 0.4},
          "buffer": 0, "failures": {"mtbf": "30h", "mttr": "1h"}, "power": draws,
          "next": [{"to": "exit", "p": 0.8}, {"to": "a", "p": 0.2}]}],
        {"dist": "exponential", "mean": "1h"}, 300.0, 17.3,
        power={"base_load": "20kW", "cooling": {"cop": 3.5}, "cap": "52kW",
               "demand_interval": "30min"})
    r = twin.simulate(p, replications=6, seed=11, backend=backend)
    window = 300.0 - 17.3
    kw = {"idle": 1, "busy": 7, "blocked": 3, "down": 0.5, "waiting": 2}
    for j, servers in enumerate([3, 3]):
        by_state = sum(kw[s] * r.lanes[f"station.{s}"][:, j] for s in kw) * servers * window
        np.testing.assert_allclose(r.lanes["power.station.energy_mwh"][:, j] * 1000, by_state,
                                   rtol=1e-9)
    plan = r.power_plan
    lengths = plan.bin_end - plan.bin_start
    assert lengths.sum() == pytest.approx(window)
    assert lengths[0] == pytest.approx(0.2) and lengths[-1] == pytest.approx(0.5)
    integral = (r.lanes["power.series_kw"] * lengths).sum(axis=1)
    np.testing.assert_allclose(integral, r.lanes["power.energy_mwh"] * 1000, rtol=1e-9)
    assert (r.lanes["power.station.power_wait"] > 0).any(), "the cap should bind here"
    assert (r.lanes["power.max_kw"] <= 52.0 * (1 + 1e-9)).all()
    assert (r.lanes["power.peak_kw"] <= r.lanes["power.max_kw"] + 1e-9).all()


def test_tariff_on_a_constant_load_gives_the_hand_computed_bill():
    # 1 MW of base load for one week, shifted by 0.1 h (partial first and last intervals):
    # weekdays 9 h at $0.05 and 15 h at $0.10, weekends 24 h at $0.04
    p = plant([{"id": "a", "process": "1h"}], "2h", 168.1, 0.1, power={
        "base_load": "1MW", "co2_per_kwh": 0.4,
        "tariff": {"energy": {"weekday": [{"hours": [0, 7], "price": 0.05},
                                          {"hours": [7, 22], "price": 0.10},
                                          {"hours": [22, 24], "price": 0.05}],
                              "weekend": [{"hours": [0, 24], "price": 0.04}]},
                   "demand_charge": 10.0}})
    r = twin.simulate(p, replications=1, seed=0, backend="numpy")
    energy_cost = 5 * (9 * 0.05 + 15 * 0.10) * 1000 + 2 * 24 * 0.04 * 1000
    demand = 10.0 * 1000 * 168 / (365.25 * 24 / 12)
    assert one(r, "power.energy_cost_usd") == pytest.approx(energy_cost, rel=1e-12)
    assert one(r, "power.demand_cost_usd") == pytest.approx(demand, rel=1e-12)
    assert one(r, "power.cost_usd") == pytest.approx(energy_cost + demand, rel=1e-12)
    assert one(r, "power.co2_t") == pytest.approx(168 * 0.4, rel=1e-12)
    assert one(r, "power.mean_kw") == one(r, "power.peak_kw") == pytest.approx(1000.0)


def test_scenarios_with_different_power_in_one_batch_equal_their_runs_alone(backend):
    def scenario(cap: str, busy: str):
        return plant([{"id": "a", "servers": 3, "process": {"dist": "exponential", "mean": "2h"},
                       "buffer": 2, "power": {"idle": "1kW", "busy": busy}},
                      {"id": "b", "servers": 2, "process": {"dist": "uniform", "low": "0.5h",
                                                            "high": "2h"},
                       "power": {"busy": [{"share": 0.5, "power": "2kW"},
                                          {"share": 0.5, "power": busy}]}}],
                     {"dist": "exponential", "mean": "1h"}, 150.0, 10.0,
                     power={"base_load": "3kW", "cap": cap})

    assert_batch_equals_runs_alone(backend, [scenario("30kW", "6kW"), scenario("1MW", "9kW")],
                                   5, 2)


def test_no_power_model_means_no_power_block():
    p = plant([{"id": "a", "process": "1h"}], "2h", 50.0)
    r = twin.simulate(p, replications=2, seed=0, backend="numpy")
    assert "power" not in r.summary() and r.power_plan is None


PROFILE = [{"share": 0.3, "power": "5kW"}, {"share": 0.7, "power": "9kW"}]


@pytest.mark.parametrize("busy, failures", [(PROFILE, None), ("9kW", {"mtbf": "20h",
                                                                      "mttr": "1h"})])
def test_a_cap_that_never_binds_leaves_the_flow_alone(backend, busy, failures):
    """Same random numbers, same flow. (A profile with failures draws a time to failure at
    each step, so it follows another sample path of the same law.)"""
    stations = [{"id": "a", "servers": 2, "process": {"dist": "exponential", "mean": "1.5h"},
                 "buffer": 2, "failures": failures},
                {"id": "b", "process": {"dist": "triangular", "low": "0.2h", "mode": "0.5h",
                                        "high": "1h"}}]
    bare = plant(stations, {"dist": "exponential", "mean": "1h"}, 200.0, 20.0)
    drawn = [dict(s, power={"idle": "1kW", "busy": busy}) for s in stations]
    metered = plant(drawn, {"dist": "exponential", "mean": "1h"}, 200.0, 20.0,
                    power={"cap": "1MW", "cooling": {"cop": 3}})
    a = twin.simulate(bare, replications=4, seed=9, backend=backend)
    b = twin.simulate(metered, replications=4, seed=9, backend=backend)
    for key in ("throughput_per_h", "cycle_time_h", "wip", "station.busy", "station.down",
                "station.blocked"):
        np.testing.assert_allclose(b.lanes[key], a.lanes[key], rtol=1e-9, err_msg=key)


@st.composite
def random_capped_plant(draw):
    """A random line of 1-3 stations with random draws, profiles, failures and a random cap
    between the smallest that can start every job and one that never binds."""
    stations = []
    for j in range(draw(st.integers(1, 3))):
        def kw() -> str:
            return f"{draw(st.integers(0, 40))}kW"

        busy = draw(st.one_of(
            st.just(kw()),
            st.lists(st.integers(1, 60), min_size=2, max_size=3).map(
                lambda ps: [{"share": 1 / len(ps), "power": f"{p}kW"} for p in ps])))
        if isinstance(busy, list):
            busy[-1]["share"] = 1 - sum(b["share"] for b in busy[:-1])
        stations.append({
            "id": f"s{j}", "servers": draw(st.integers(1, 4)),
            "process": {"dist": "exponential", "mean": f"{draw(st.floats(0.3, 3)):.3f}h"},
            "buffer": draw(st.integers(0, 3)),
            "failures": draw(st.one_of(st.none(), st.just({"mtbf": "15h", "mttr": "1h"}))),
            "power": {"idle": kw(), "busy": busy, "blocked": kw(), "down": kw(),
                      "waiting": kw()},
        })
    p = plant(stations, {"dist": "exponential", "mean": "0.7h"}, 60.0, 5.0,
              power={"base_load": "10kW", "cooling": {"cop": 2.5}})
    need = p.power.base_load + p.power.cooling_factor() * (
        sum(s.servers * s.power.standby() for s in p.stations)
        + max(s.power.most() - s.power.standby() for s in p.stations))
    most = p.power.base_load + p.power.cooling_factor() * sum(
        s.servers * s.power.most() for s in p.stations)
    cap = need + draw(st.floats(0, 1)) * (most - need)
    return p.model_copy(update={"power": p.power.model_copy(update={"cap": cap})})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=random_capped_plant(), seed=st.integers(0, 1000))
def test_the_cap_is_never_exceeded(p, seed):
    from twin.compile import compile_plant

    params = compile_plant(p, 4, seed)
    raw = final_state(params)
    lanes = metrics.per_lane(raw, params)
    cap = p.power.cap
    assert (lanes["power.max_kw"] <= cap * (1 + 1e-9)).all()
    assert (lanes["power.peak_kw"] <= cap * (1 + 1e-9)).all()
    # and the running sums agree with the slots they summarise
    np.testing.assert_allclose(raw["heat"], raw["draw"].sum(axis=1), atol=1e-6)
    assert (raw["n_waiting"] == (raw["status"] == 5).sum(axis=1)).all()
    heat_integral = (metrics.power_series(raw, params) * (params.power.bin_end
                                                          - params.power.bin_start)).sum(axis=1)
    np.testing.assert_allclose(heat_integral, lanes["power.energy_mwh"] * 1000, rtol=1e-9)
