"""Tests of the SimPy reference model's products, splits and assemblies (docs/parts.md):
hand-computed traces, conservation of parts, and agreement with queueing theory (the
fork-join queue, M/G/1 with a product mix)."""

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


def by_part(**targets):
    """Routes of a station that sends each kind (of the one product) to one target."""
    return {(kind, 0): [(target, 1.0)] for kind, target in targets.items()}


def station(process, servers=1, buffer=None, **fields):
    return sm.RefStation(servers=servers, buffer=buffer, process=process, **fields)


# --------------------------------------------------------------------------- exact traces


def test_split_and_assembly_trace():
    # Orders every 4 h. Station 0 serves 1 h and splits into a, a, b: the first a moves to
    # station 1 (one server, no buffer) at 4k+1, the second blocks the server until the first
    # leaves at 4k+2.5, then b moves to station 2 at once. Station 1 serves the a's on
    # [4k+1, 4k+2.5] and [4k+2.5, 4k+4], station 2 the b on [4k+2.5, 4k+4.5]; the set
    # completes at 4k+4.5 and is assembled on [4k+4.5, 4k+5]: every order exits 5 h after it
    # entered. The window [12.25, 112.25] is 25 periods with no event on its edges.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(4.0),
        stations=[
            station(sm.deterministic(1.0), buffer=0, split=[("a", 2), ("b", 1)],
                    routes=by_part(a=1, b=2)),
            station(sm.deterministic(1.5), buffer=0, routes=[(3, 1.0)]),
            station(sm.deterministic(2.0), buffer=0, routes=[(3, 1.0)]),
            station(sm.deterministic(0.5), assemble={"a": 2, "b": 1}),
        ],
        horizon=112.25,
        warmup=12.25,
    )
    r = sm.run_replication(plant, seed=0)
    assert (r["exits"], r["throughput_per_h"], r["cycle_time_h"]) == (25, 0.25, 5.0)
    assert r["products"] == {"all": {"throughput_per_h": 0.25, "cycle_time_h": 5.0}}
    # jobs: the order 1 h, three parts 3.5 h, the unit 0.5 h; worth: one order 5 h
    assert r["wip"] == pytest.approx(12 / 4)
    assert r["wip_orders"] == pytest.approx(5 / 4)
    split, a, b, assembly = r["stations"]
    assert (split["busy"], split["blocked"], split["idle"]) == pytest.approx((0.25, 0.375, 0.375))
    assert split["throughput_per_h"] == pytest.approx(0.75)  # parts leave it
    assert (a["busy"], a["throughput_per_h"]) == pytest.approx((0.75, 0.5))
    assert (b["busy"], b["throughput_per_h"]) == pytest.approx((0.5, 0.25))
    assert (assembly["busy"], assembly["throughput_per_h"]) == pytest.approx((0.125, 0.25))
    # waiting parts: the first a 2 h, the second 0.5 h, b none; the set waits for no server
    assert assembly["mean_queue"] == pytest.approx(2.5 / 4)
    assert assembly["mean_wait_h"] == 0.0
    # by 112.25, 27 orders split (at 4k+1) and 26 sets started (at 4k+4.5)
    assert r["parts_made"] == {"a": 54, "b": 27}
    assert r["parts_used"] == {"a": 52, "b": 26}
    assert r["parts_gone"] == {"a": 0, "b": 0}
    assert r["parts_inside"] == {"a": 2, "b": 1}


def test_a_full_kind_blocks_its_senders():
    # Orders every 1 h into a split of no duration: a goes straight to the assembly, which
    # has one place for a, b through station 1 (2 h). The a of order k+1 cannot move until
    # the set of order k starts, so the split server is always blocked and orders are held at
    # the source: in steady state order k enters at 2k-3, its a waits at the assembly on
    # [2k-1, 2k+1], its b is served on [2k-1, 2k+1], and it exits at 2k+1, 4 h after entry.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(1.0),
        stations=[
            station(sm.deterministic(0.0), buffer=0, split=[("a", 1), ("b", 1)],
                    routes=by_part(a=2, b=1)),
            station(sm.deterministic(2.0), routes=[(2, 1.0)]),
            station(sm.deterministic(0.0), assemble={"a": 1, "b": 1}, places={"a": 1}),
        ],
        horizon=50.5,
        warmup=10.5,
    )
    r = sm.run_replication(plant, seed=0)
    assert (r["throughput_per_h"], r["cycle_time_h"]) == (0.5, 4.0)
    assert (r["wip"], r["wip_orders"]) == pytest.approx((4.0, 2.0))  # two parts an order
    split, slow, assembly = r["stations"]
    assert (split["blocked"], split["throughput_per_h"]) == pytest.approx((1.0, 1.0))
    assert slow["busy"] == pytest.approx(1.0)
    assert assembly["mean_queue"] == pytest.approx(1.0)  # an a always waits
    # with room for every a, nothing blocks the split
    plant.stations[2].places = None
    assert sm.run_replication(plant, seed=0)["stations"][0]["blocked"] == 0.0


def matching_line(match):
    """Orders every 2 h split at once into a and b; b waits at the assembly while a is served
    5 h (odd orders) or 1 h (even orders) on two servers, so the a of order 2k arrives before
    that of order 2k-1. The assembly takes ``{b: 1, a: 1}``: b is its first kind."""
    return sm.RefPlant(
        interarrival=sm.deterministic(2.0),
        stations=[
            station(sm.deterministic(0.0), split=[("a", 1), ("b", 1)], routes=by_part(a=1, b=2)),
            station(cycling(5.0, 1.0), servers=2, routes=[(2, 1.0)]),
            station(sm.deterministic(0.0), assemble={"b": 1, "a": 1}, match=match),
        ],
        horizon=400.5,
        warmup=20.5,
    )


def test_match_order_sets_one_orders_parts():
    # Order 2k-1 (entered at 4k-2) is assembled at 4k+3, order 2k (at 4k) at 4k+1.
    r = sm.run_replication(matching_line("order"), seed=0)
    assert r["cycle_time_h"] == pytest.approx(3.0)
    assert (r["cycle_time_p50"], r["cycle_time_p95"]) == (3.0, 5.0)


def test_match_any_takes_the_oldest_parts_and_the_first_kinds_order():
    # At 4k+1 the a of order 2k meets the oldest b, that of order 2k-1: the unit is order
    # 2k-1's (the oldest part of the first kind, b), 3 h after it entered; at 4k+3 the a of
    # order 2k-1 meets the b of order 2k, again 3 h after its entry.
    r = sm.run_replication(matching_line("any"), seed=0)
    assert (r["cycle_time_h"], r["cycle_time_p95"]) == (3.0, 3.0)


def test_split_with_a_fleet_carries_each_part_as_one_load():
    # One vehicle, no distances, loading and unloading 0.25 h each; both parts leave the
    # plant. Order k enters at 4k and is served [4k, 4k+1]. Part a: vehicle called at 4k+1,
    # loaded at 4k+1.25 (a leaves the station), exits at 4k+1.5. Part b: vehicle called at
    # 4k+1.25, once a is loaded; it comes free at 4k+1.5, loads b until 4k+1.75 (the server is
    # free then) and sets it down at 4k+2.
    plant = sm.RefPlant(
        interarrival=sm.deterministic(4.0),
        stations=[station(sm.deterministic(1.0), buffer=0, split=[("a", 1), ("b", 1)],
                          routes=by_part(a=1, b=1), fleet=0)],
        horizon=112.1,
        warmup=12.1,
        fleets=[sm.RefFleet(count=1, speed=1.0, load_time=0.25, unload_time=0.25)],
        distance=np.zeros((2, 2)),
    )
    r = sm.run_replication(plant, seed=0)
    assert (r["throughput_per_h"], r["cycle_time_h"]) == (0.5, pytest.approx(1.75))
    assert r["parts_gone"] == {"a": 27, "b": 27}  # order 28 enters at 112, served until 113
    st = r["stations"][0]
    assert (st["busy"], st["blocked"], st["throughput_per_h"]) == pytest.approx((0.25, 0.1875,
                                                                                 0.5))
    fleet = r["transport"][0]
    assert (fleet["handling"], fleet["trips_per_h"]) == pytest.approx((0.25, 0.5))
    assert fleet["mean_wait_h"] == pytest.approx(0.125)  # a waits 0, b 0.25 h
    assert r["wip"] == pytest.approx(2.5 / 4)  # the order 1 h, a 0.5 h, b 1 h
    assert r["wip_orders"] == pytest.approx(1.75 / 4)  # each part worth half an order


# --------------------------------------------------------------------------- conservation


def tangled_plant(match, horizon=3000.0):
    """Two products; a split into a, a, b with routes by kind and product, rework and failures
    by product on the a's path, blocking, an assembly with places per kind and a second split
    of its units. The a's and b's go by separate stations, and under ``match='order'`` the
    a's have unlimited places: else a's holding every place for orders whose b's are stuck
    behind other orders' b's would deadlock the plant."""
    exp = sm.exponential
    return sm.RefPlant(
        interarrival=exp(1.0),
        products={"p": 0.3, "q": 0.7},
        stations=[
            station([exp(0.2), exp(0.4)], buffer=2, split=[("a", 2), ("b", 1)],
                    routes={("a", 0): [(1, 0.5), (2, 0.5)], ("a", 1): [(1, 1.0)],
                            ("b", 0): [(3, 1.0)], ("b", 1): [(3, 1.0)]}),
            station(exp(0.5), servers=2, buffer=1, routes=[(4, 0.9), (2, 0.1)],
                    mtbf=[None, 20.0], mttr=[None, 1.0]),
            station(exp(0.3), routes=[(4, 1.0)]),
            station(exp(0.8), buffer=2, routes=[(4, 1.0)]),
            station([exp(0.5), exp(0.7)], servers=2, assemble={"a": 2, "b": 1}, match=match,
                    places={"a": 4 if match == "any" else None, "b": 2}, into="unit"),
            station(exp(0.5), buffer=1, split=[("c", 1), ("d", 2)],
                    routes={("c", 0): [(6, 1.0)], ("c", 1): [(6, 1.0)],
                            ("d", 0): [(7, 1.0)], ("d", 1): [(6, 0.5), (7, 0.5)]}),
            station(exp(0.3), routes=[(7, 1.0)]),
        ],
        horizon=horizon,
        warmup=horizon / 10,
    )


@pytest.mark.parametrize("match", ["order", "any"])
def test_parts_are_conserved(match, stat_seed):
    plant = tangled_plant(match)
    r = sm.run_replication(plant, seed=stat_seed)
    made, used, gone, inside = (r[f"parts_{x}"] for x in ("made", "used", "gone", "inside"))
    assert list(made) == ["a", "b", "unit", "c", "d"]
    for kind in ("a", "b", "c", "d"):  # made by splits only, and used or gone
        assert made[kind] == used[kind] + gone[kind] + inside[kind], kind
    assert made["a"] == 2 * made["b"] and used["a"] == 2 * used["b"]
    assert made["d"] == 2 * made["c"] and gone["a"] == gone["b"] == 0
    # units: made by the assembly (one a set), then split into c, d, d or still inside
    assert made["unit"] == used["unit"] == gone["unit"] == 0
    assert used["b"] == made["c"] + inside["unit"]
    # the plant ran as meant: blocking, both products, and sets made and split
    assert r["stations"][0]["blocked"] > 0.01 and r["stations"][1]["down"] > 0.01
    assert all(p["throughput_per_h"] > 0.2 for p in r["products"].values())
    assert made["c"] > 1000 and r["throughput_per_h"] == pytest.approx(3 * made["c"] / 3000,
                                                                        rel=0.15)


def test_littles_law_for_orders(stat_seed):
    # Orders leave as three parts (c, d, d), each a third of an order, and every set is one
    # order's: over a long window, orders' worth inside = throughput / 3 x cycle time.
    runs = sm.run(tangled_plant("order", horizon=8000.0), replications=2, seed=stat_seed)
    for r in runs:
        assert r["wip_orders"] == pytest.approx(r["throughput_per_h"] / 3 * r["cycle_time_h"],
                                                rel=0.01)
        assert r["wip_orders"] < r["wip"]


# --------------------------------------------------------------------------- theory


def test_fork_join_response_time(stat_seed):
    # Flatto and Hahn (1984), Nelson and Tantawi (1988): Poisson(lam) orders split into two
    # M/M/1 queues of rate mu each and joined; the mean response time is
    # (12 - rho) / 8 / (mu - lam). Split and assembly take no time.
    lam, mu = 0.5, 1.0
    rho = lam / mu
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        stations=[
            station(sm.deterministic(0.0), split=[("a", 1), ("b", 1)], routes=by_part(a=1, b=2)),
            station(sm.exponential(1 / mu), routes=[(3, 1.0)]),
            station(sm.exponential(1 / mu), routes=[(3, 1.0)]),
            station(sm.deterministic(0.0), assemble={"a": 1, "b": 1}),
        ],
        horizon=10500.0,
        warmup=500.0,
    )
    runs = sm.run(plant, replications=10, seed=stat_seed)
    assert_agrees([r["cycle_time_h"] for r in runs], (12 - rho) / 8 / (mu - lam))
    assert_agrees([r["throughput_per_h"] for r in runs], lam)
    # the join of two queues takes longer than either (1 / (mu - lam) = 2 h)
    assert sm.mean_ci([r["cycle_time_h"] for r in runs])[0] > 2.5


def test_product_mix_is_an_mg1_with_hyperexponential_service(stat_seed):
    # One server, Poisson(lam) orders of products p and q (shares 0.4, 0.6) served
    # exponentially with means 0.5 h and 1.5 h: M/G/1 with E[S] = 1.1 and E[S^2] = 2.9
    # (0.4 x 2 x 0.25 + 0.6 x 2 x 2.25). Pollaczek-Khinchine: every product waits
    # W = lam E[S^2] / (2 (1 - rho)) and stays W + its own mean.
    lam, shares, means = 0.6, (0.4, 0.6), (0.5, 1.5)
    mean_s = sum(s * m for s, m in zip(shares, means, strict=True))
    second = sum(s * 2 * m * m for s, m in zip(shares, means, strict=True))
    wait = lam * second / (2 * (1 - lam * mean_s))
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        products=dict(zip("pq", shares, strict=True)),
        stations=[station([sm.exponential(m) for m in means])],
        horizon=10500.0,
        warmup=500.0,
    )
    runs = sm.run(plant, replications=12, seed=stat_seed)
    assert_agrees([r["stations"][0]["mean_wait_h"] for r in runs], wait)
    for pid, share, mean in zip("pq", shares, means, strict=True):
        assert_agrees([r["products"][pid]["cycle_time_h"] for r in runs], wait + mean)
        assert_agrees([r["products"][pid]["throughput_per_h"] for r in runs], lam * share)
    assert_agrees([r["cycle_time_h"] for r in runs], wait + mean_s)


@pytest.mark.parametrize("powered", [False, True])
def test_failures_and_power_by_product(powered, stat_seed):
    # Deterministic 1 h jobs at one server; only product q (share 0.5) fails, every 2 h of its
    # work on average, for 0.5 h: down = lam 0.5 x 1 h x 0.5 / 2. With power, p draws 10 kW
    # and q 20 kW (in two steps) while busy, 1 kW idle, nothing down.
    lam = 0.4
    st = station(sm.deterministic(1.0), mtbf=[None, 2.0], mttr=[None, 0.5])
    if powered:
        st.power_idle = 1.0
        st.busy_steps = [[(1.0, 10.0)], [(0.5, 30.0), (0.5, 10.0)]]
    plant = sm.RefPlant(
        interarrival=sm.exponential(1 / lam),
        products={"p": 0.5, "q": 0.5},
        stations=[st],
        horizon=5200.0,
        warmup=200.0,
    )
    runs = sm.run(plant, replications=8, seed=stat_seed)
    down = lam * 0.5 * 1.0 * 0.5 / 2.0
    assert_agrees([r["stations"][0]["down"] for r in runs], down)
    assert_agrees([r["stations"][0]["busy"] for r in runs], lam)
    if powered:
        idle = 1 - lam - down
        assert_agrees([r["power"]["mean_kw"] for r in runs], idle + lam * 0.5 * (10 + 20))


# --------------------------------------------------------------------------- plant input


def test_from_plant_reads_products_and_parts():
    # The per-product API of twin.config, duck-typed: a split whose parts go by kind, a
    # station whose process and failures differ by product, and an assembly.
    procs = {"p": 1.0, "q": SimpleNamespace(dist="exponential", mean=2.0)}
    power = SimpleNamespace(idle=1.0, blocked=0.0, down=0.0, waiting=0.0,
                            steps=lambda: [(1.0, 5.0)])
    common = {"failures_for": lambda p: None, "power_for": lambda p: None, "split": None,
              "assemble": None, "buffer": None, "servers": 1}
    stations = [
        SimpleNamespace(**common | {"split": {"a": 2, "b": 1}, "buffer": 3},
                        process_for=lambda p: 0.5),
        SimpleNamespace(**common | {
            "failures_for": lambda p: SimpleNamespace(mtbf=50.0, mttr=1.0) if p == "q" else None,
            "power_for": lambda p: power}, process_for=procs.get),
        SimpleNamespace(**common | {"assemble": {"a": 2, "b": 1}, "buffer": {"a": 4},
                                    "servers": 2},
                        match=SimpleNamespace(value="any"), into_kind="rack",
                        places_for=lambda kind: {"a": 4}.get(kind), process_for=lambda p: 1.0),
    ]

    def routes(j, kind, product):
        table = {0: {"a": [(1, 1.0)], "b": [(2, 1.0)]}, 1: {"a": [(2, 1.0)]},
                 2: {"rack": [(3, 1.0)]}}[j]
        return table[kind]  # a KeyError: the kind cannot reach station j

    plant = SimpleNamespace(
        horizon=500.0,
        warmup=50.0,
        source=SimpleNamespace(interarrival=SimpleNamespace(dist="exponential", mean=4.0)),
        stations=stations,
        routes=routes,
        product_ids=lambda: ["p", "q"],
        product_shares=lambda: [0.25, 0.75],
        kinds=lambda: ["order", "a", "b", "rack"],
    )
    ref = sm.from_plant(plant)
    assert (ref.products, ref.kinds) == ({"p": 0.25, "q": 0.75}, ["a", "b", "rack"])
    split, build, assembly = ref.stations
    assert (split.split, split.buffer, split.process(None)) == ([("a", 2), ("b", 1)], 3, 0.5)
    assert split.routes == {("a", 0): [(1, 1.0)], ("a", 1): [(1, 1.0)],
                            ("b", 0): [(2, 1.0)], ("b", 1): [(2, 1.0)]}
    assert build.routes == [(2, 1.0)] and build.process[0](None) == 1.0
    assert (build.mtbf, build.mttr) == ([None, 50.0], [None, 1.0])
    assert (build.power_idle, build.busy_steps) == (1.0, [(1.0, 5.0)])
    assert (assembly.assemble, assembly.match, assembly.into) == ({"a": 2, "b": 1}, "any", "rack")
    assert (assembly.places, assembly.buffer) == ({"a": 4, "b": None}, None)
    r = sm.run_replication(ref, seed=0)
    assert set(r["products"]) == {"p", "q"} and r["parts_gone"]["rack"] >= r["exits"] > 50


def test_from_a_config_plant_with_a_queue_of_sets():
    # Orders every 4 h (the first at 4 h) are kitted in 1 h into a, a and b; a takes 1 h, b
    # 3 h; the assembly takes 5 h and has two places for a and one for b. Sets complete at
    # 8, 12, 16, 20, 24 and start at 8, 13, 18, 23: units leave at 13, 18, 23, 9, 10 and 11 h
    # after their orders entered. Order 5's first a finds both a places held by set 4
    # (complete, waiting) and blocks its station from 22 to 23.
    from twin.config import plant_from_dict

    plant = plant_from_dict({
        "name": "parts", "horizon": "24.5h", "source": {"interarrival": "4h"}, "stations": [
            {"id": "kit", "process": "1h", "split": {"a": 2, "b": 1},
             "next": {"by_part": {"a": "sa", "b": "sb"}}},
            {"id": "sa", "process": "1h", "next": "asm"},
            {"id": "sb", "process": "3h", "next": "asm"},
            {"id": "asm", "process": "5h", "assemble": {"a": 2, "b": 1},
             "buffer": {"a": 2, "b": 1}, "into": "unit"}]})
    ref = sm.from_plant(plant)
    assert ref.stations[0].routes == by_part(a=1, b=2) and ref.stations[0].buffer is None
    assert ref.stations[3].places == {"a": 2, "b": 1} and ref.stations[3].match == "order"
    r = sm.run_replication(ref, seed=0)
    h = 24.5
    assert (r["exits"], r["cycle_time_h"]) == (3, 10.0)
    sa, asm = r["stations"][1], r["stations"][3]
    assert (asm["busy"] * h, asm["mean_wait_h"]) == pytest.approx((16.5, (0 + 1 + 2 + 3) / 4))
    assert asm["mean_queue"] * h == pytest.approx(3 + 6 + 9 + 12 + 2.5)  # part-hours
    assert (sa["blocked"] * h, sa["throughput_per_h"] * h) == pytest.approx((1.0, 10.0))
    assert r["wip_orders"] * h == pytest.approx(9 + 10 + 11 + 8.5 + 4.5 + 0.5)
    assert (r["parts_made"], r["parts_used"]) == ({"a": 10, "b": 5, "unit": 0},
                                                  {"a": 8, "b": 4, "unit": 0})
    assert r["parts_inside"] == {"a": 2, "b": 1, "unit": 1}  # set 5 waits, unit 4 is served


@pytest.mark.parametrize(
    "change, message",
    [
        ({0: {"split": [("order", 1)]}}, "part kinds"),
        ({0: {"split": [("a", 0)]}}, "counts"),
        ({0: {"assemble": {"a": 1}}}, "station before"),
        ({1: {"assemble": {"a": 2}, "places": {"a": 1}}}, "no set"),
        ({1: {"assemble": {"a": 1}, "match": "oldest"}}, "match"),
        ({1: {"process": [sm.exponential(1.0)]}}, "one entry per product"),
        ({1: {"mtbf": [1.0, None], "mttr": [1.0, 1.0]}}, "both"),
        ({"products": {"p": 0.5, "q": 0.6}}, "sum to 1"),
    ],
)
def test_invalid_parts_are_rejected(change, message):
    plant = sm.RefPlant(
        interarrival=sm.exponential(1.0),
        stations=[station(sm.exponential(1.0)), station(sm.exponential(1.0))],
        horizon=10.0,
        products={"p": 0.5, "q": 0.5},
    )
    for key, fields in change.items():
        target = plant if key == "products" else plant.stations[key]
        for name, value in (fields.items() if key != "products" else [("products", fields)]):
            setattr(target, name, value)
    with pytest.raises(ValueError, match=message):
        sm.run_replication(plant, seed=0)


def test_a_part_routed_to_an_assembly_that_does_not_take_it_is_an_error():
    plant = sm.RefPlant(
        interarrival=sm.deterministic(1.0),
        stations=[station(sm.deterministic(0.5), split=[("a", 1), ("c", 1)]),
                  station(sm.deterministic(0.5), assemble={"a": 1, "b": 1})],
        horizon=10.0,
    )
    with pytest.raises(ValueError, match="kind 'c'"):
        sm.run_replication(plant, seed=0)


def test_a_plant_without_parts_reports_one_product():
    plant = sm.blocking_line(horizon=500.0, warmup=50.0)
    r = sm.run_replication(plant, seed=3)
    assert r["products"]["all"] == {"throughput_per_h": r["throughput_per_h"],
                                    "cycle_time_h": pytest.approx(r["cycle_time_h"])}
    assert r["wip_orders"] == pytest.approx(r["wip"])
    assert r["parts_made"] == {} and not math.isnan(r["cycle_time_h"])
