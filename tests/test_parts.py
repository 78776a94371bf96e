"""Products, splits and assemblies against exact values (docs/parts.md).

* a fork-join of two M/M/1 queues matched by order: mean response (12 - rho) / 8 / (mu -
  lambda) (Flatto and Hahn 1984; Nelson and Tantawi 1988);
* a product mix through one exponential-per-product server: M/G/1 with a hyperexponential
  service time, Pollaczek-Khinchine per product;
* a deterministic split and join with blocking on one part kind, traced by hand;
* conservation of parts and orders on random plants (Hypothesis): every part a split made was
  used by an assembly, left the plant or is found inside, and so is every order.

Statistical assertions allow ``K`` half-widths of the 95% interval, as tests/test_theory.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from tests import test_reference as ref
from twin.config import plant_from_dict
from twin.errors import TwinError
from twin_reference import simpy_model as sm

K = 2.5


def exponential(mean_h: float) -> dict:
    return {"dist": "exponential", "mean": f"{mean_h!r}h"}


def plant(stations: list[dict], interarrival: dict, horizon: float, warmup: float = 0.0,
          **extra) -> twin.config.Plant:
    return plant_from_dict({"name": "parts", "horizon": f"{horizon!r}h",
                            "warmup": f"{warmup!r}h", "source": {"interarrival": interarrival},
                            "stations": stations, **extra})


def within(figure: dict, exact: float, eps: float = 0.0) -> bool:
    lo, hi = figure["ci95"]
    half = (hi - lo) / 2
    return abs(figure["mean"] - exact) <= K * half + eps


# ------------------------------------------------------------------------------ fork-join


def fork_join(lam: float, mu: float, horizon: float, warmup: float) -> twin.config.Plant:
    tiny = 1e-6  # the fork and the join take (almost) no time
    return plant([
        {"id": "fork", "servers": 50, "process": f"{tiny}h", "split": {"left": 1, "right": 1},
         "next": {"by_part": {"left": "left_queue", "right": "right_queue"}}},
        {"id": "left_queue", "process": exponential(1 / mu), "next": "join"},
        {"id": "right_queue", "process": exponential(1 / mu), "next": "join"},
        {"id": "join", "servers": 50, "process": f"{tiny}h",
         "assemble": {"left": 1, "right": 1}, "into": "pair"},
    ], exponential(1 / lam), horizon, warmup)


def test_fork_join_matches_flatto_hahn(backend, stat_seed):
    lam, mu = 0.5, 1.0
    rho = lam / mu
    exact = (12 - rho) / 8 / (mu - lam)
    result = twin.simulate(fork_join(lam, mu, 20_000.0, 1_000.0), replications=16,
                           seed=stat_seed, backend=backend)
    s = result.summary()
    assert within(s["cycle_time_h"], exact, eps=0.01), (s["cycle_time_h"], exact)
    assert within(s["throughput_per_h"], lam)
    # Little's law on orders: each order is one pair when it leaves
    assert s["wip_orders"]["mean"] == pytest.approx(lam * s["cycle_time_h"]["mean"], rel=0.03)
    assert s["stations"]["join"]["throughput_per_h"]["mean"] == pytest.approx(
        s["throughput_per_h"]["mean"])


# ------------------------------------------------------------------------------ product mix


def test_product_mix_is_mg1_with_hyperexponential_service(backend, stat_seed):
    lam, shares, means = 0.8, {"small": 0.7, "large": 0.3}, {"small": 0.5, "large": 1.5}
    es = sum(shares[p] * means[p] for p in shares)
    es2 = sum(shares[p] * 2 * means[p] ** 2 for p in shares)
    rho = lam * es
    wq = lam * es2 / (2 * (1 - rho))  # Pollaczek-Khinchine
    p = plant([{"id": "tester", "process": {
        "by_product": {name: exponential(m) for name, m in means.items()}}}],
        exponential(1 / lam), 40_000.0, 2_000.0, products=shares)
    s = twin.simulate(p, replications=16, seed=stat_seed, backend=backend).summary()
    for name in shares:
        figures = s["products"][name]
        assert within(figures["cycle_time_h"], wq + means[name], eps=0.02), (name, figures)
        assert within(figures["throughput_per_h"], lam * shares[name])
    assert within(s["stations"]["tester"]["busy"], rho, eps=0.002)
    assert within(s["stations"]["tester"]["mean_wait_h"], wq, eps=0.02)


# ------------------------------------------------------------------------------ hand trace


def hand_traced_plant(horizon: float = 24.5, match: str = "order") -> twin.config.Plant:
    """Orders every 4 h (the first at 4 h) are split into two `a` and one `b`; `a` takes 1 h
    at `sa`, `b` 3 h at `sb`; the assembly takes 5 h, so sets queue and `a` parts block on
    the assembly's two `a` places."""
    return plant([
        {"id": "kit", "process": "1h", "split": {"a": 2, "b": 1},
         "next": {"by_part": {"a": "sa", "b": "sb"}}},
        {"id": "sa", "process": "1h", "next": "asm"},
        {"id": "sb", "process": "3h", "next": "asm"},
        {"id": "asm", "process": "5h", "assemble": {"a": 2, "b": 1}, "match": match,
         "buffer": {"a": 2, "b": 1}, "into": "unit"},
    ], "4h", horizon)


def test_split_and_join_traced_by_hand():
    # Order n enters at 4n and is kitted by 4n + 1. Sets complete at 8, 12, 16, 20, 24 and
    # start at 8, 13, 18, 23 (the assembly is busy 8-28): units leave at 13, 18, 23 with
    # cycle times 9, 10, 11. Order 5's first `a` finds both `a` places held by set 4 (complete
    # at 20, waiting) and blocks `sa` from 22 to 23, when set 4 starts.
    horizon = 24.5
    p = hand_traced_plant(horizon)
    result = twin.simulate(p, replications=1, seed=0, backend="numpy")
    lanes, s = result.lanes, result.summary()
    assert lanes["exits"][0] == 3
    assert s["cycle_time_h"]["mean"] == pytest.approx(10.0)
    asm = s["stations"]["asm"]
    assert asm["busy"]["mean"] == pytest.approx(16.5 / horizon)
    assert asm["mean_wait_h"]["mean"] == pytest.approx((0 + 1 + 2 + 3) / 4)
    # parts waiting at the assembly: 3 + 6 + 9 + 12 + 2.5 part-hours
    assert asm["mean_queue"]["mean"] == pytest.approx(32.5 / horizon)
    assert s["stations"]["sa"]["blocked"]["mean"] == pytest.approx(1.0 / horizon)
    assert asm["throughput_per_h"]["mean"] == pytest.approx(3 / horizon)
    assert s["stations"]["sa"]["throughput_per_h"]["mean"] == pytest.approx(10 / horizon)
    assert s["stations"]["kit"]["throughput_per_h"]["mean"] == pytest.approx(15 / horizon)
    # orders inside: 9 + 10 + 11 + 8.5 + 4.5 + 0.5 order-hours
    assert s["wip_orders"]["mean"] == pytest.approx(43.5 / horizon)
    kinds = p.kinds()
    made, used, inside = (dict(zip(kinds, lanes[f"parts.{f}"][0], strict=True))
                          for f in ("made", "used", "inside"))
    assert (made["a"], made["b"]) == (10, 5)  # five orders kitted by 21 h
    assert (used["a"], used["b"]) == (8, 4)  # four sets started
    assert (inside["a"], inside["b"], inside["unit"]) == (2, 1, 1)  # set 5 waits; unit 4 busy


def test_match_any_on_the_hand_traced_plant_gives_the_same_flow():
    # parts arrive in order sequence here, so the oldest parts of each kind are one order's
    by_order = twin.simulate(hand_traced_plant(40.0), replications=1, seed=0, backend="numpy")
    by_any = twin.simulate(hand_traced_plant(40.0, "any"), replications=1, seed=0,
                           backend="numpy")
    for key in ("exits", "cycle_time_h", "wip", "wip_orders", "station.busy"):
        np.testing.assert_allclose(by_any.lanes[key], by_order.lanes[key])


# ------------------------------------------------------------------------------ conservation


@st.composite
def part_plants(draw):
    n_a, n_b = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    match = draw(st.sampled_from(["order", "any"]))
    rework = draw(st.sampled_from([0.0, 0.1, 0.3]))
    places = draw(st.sampled_from([None, 2, 4]))
    sa = {"id": "sa", "servers": draw(st.integers(1, 3)), "process": exponential(0.3),
          "next": [{"to": "asm", "p": 1 - rework}, {"to": "fix", "p": rework}]
          if rework > 0 else "asm"}
    stations = [
        {"id": "kit", "servers": 2, "process": exponential(0.2), "split": {"a": n_a, "b": n_b},
         "next": {"by_part": {"a": "sa", "b": "sb"}}},
        sa,
        {"id": "sb", "servers": draw(st.integers(1, 3)), "process": exponential(0.4),
         "next": "asm"},
        {"id": "asm", "servers": draw(st.integers(1, 2)), "process": exponential(0.8),
         "assemble": {"a": n_a, "b": n_b}, "match": match, "into": "unit",
         **({"buffer": {"a": places * n_a, "b": places * n_b}} if places else {}),
         "next": "exit"},
    ]
    if rework > 0:
        stations.append({"id": "fix", "process": exponential(0.5), "next": "sa"})
    products = draw(st.sampled_from([None, {"x": 0.5, "y": 0.5}]))
    return plant(stations, exponential(1.5), 200.0, 20.0,
                 **({"products": products} if products else {}))


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(p=part_plants(), seed=st.integers(0, 2**32))
def test_parts_and_orders_are_conserved(p, seed):
    try:
        result = twin.simulate(p, replications=3, seed=seed, backend="numpy")
    except TwinError as err:  # a run-time deadlock of finite places is a legitimate end
        assert "deadlock" in str(err)
        return
    lanes = result.lanes
    made, used, gone, inside = (lanes[f"parts.{f}"] for f in ("made", "used", "gone",
                                                              "inside"))
    kinds = p.kinds()
    for d, kind in enumerate(kinds):
        if kind in ("a", "b"):
            np.testing.assert_array_equal(made[:, d], used[:, d] + gone[:, d] + inside[:, d])
    # every order entered is still an order, was kitted, or left as a unit
    n_a = p.stations[0].split["a"]
    unit, order, a = kinds.index("unit"), kinds.index("order"), kinds.index("a")
    kitted = made[:, a] // n_a
    np.testing.assert_array_equal(lanes["jobs_entered"], inside[:, order] + kitted)
    sets = used[:, a] // p.stations[3].assemble["a"]
    np.testing.assert_array_equal(sets, gone[:, unit] + inside[:, unit])
    assert math.isfinite(float(lanes["wip_orders"].mean()))


# ------------------------------------------------------------------------------ every feature

# A plant of every feature with parts: a GB200/GB300-like mix, kitting splits an order into
# two `a` and one `b` and an AGV carries each part (one load each) to its cell; `sa` fails and
# takes longer for product y; `asm` assembles by order on places per kind, draws power by
# product under a cap, and its units go by AGV to a test with rework.
PARTS = {
    "name": "parts", "horizon": "400h", "warmup": "40h",
    "products": {"x": 0.6, "y": 0.4},
    "source": {"interarrival": exponential(1.2)},
    "layout": {"floor": [120, 40], "aisles": [[[0, 20], [120, 20]], [[60, 0], [60, 40]]],
               "shipping": [115, 20]},
    "stations": [
        {"id": "kit", "servers": 2, "process": exponential(0.2), "split": {"a": 2, "b": 1},
         "next": {"by_part": {"a": "sa", "b": "sb"}}, "transport": "agv",
         "position": [10, 10], "footprint": [8, 6]},
        {"id": "sa", "servers": 2, "buffer": 2, "next": "asm", "position": [35, 10],
         "footprint": [8, 6],
         "process": {"by_product": {"x": exponential(0.3), "y": exponential(0.45)}},
         "failures": {"by_product": {"x": {"mtbf": "20h", "mttr": "1h"},
                                     "y": {"mtbf": "10h", "mttr": "1h"}}}},
        {"id": "sb", "servers": 1, "process": exponential(0.5), "next": "asm",
         "position": [50, 30], "footprint": [8, 6]},
        {"id": "asm", "servers": 2, "process": {"dist": "lognormal", "mean": "1.5h", "cv": 0.3},
         "assemble": {"a": 2, "b": 1}, "into": "unit", "buffer": {"a": 6, "b": 3},
         "transport": "agv", "position": [80, 30], "footprint": [8, 6],
         "power": {"idle": "2kW", "busy": {"by_product": {"x": "20kW", "y": [
             {"share": 0.5, "power": "25kW"}, {"share": 0.5, "power": "35kW"}]}}}},
        {"id": "test", "servers": 2, "process": exponential(0.8),
         "next": {"by_product": {"x": [{"to": "exit", "p": 0.9}, {"to": "fix", "p": 0.1}],
                                 "y": [{"to": "exit", "p": 0.7}, {"to": "fix", "p": 0.3}]}},
         "position": [100, 10], "footprint": [8, 6]},
        {"id": "fix", "process": exponential(1.0), "next": "test",
         "position": [100, 30], "footprint": [8, 6]},
    ],
    "transport": [{"id": "agv", "kind": "agv", "count": 3, "speed": 0.05,
                   "load_time": "2min", "unload_time": "2min"}],
    "power": {"base_load": "5kW", "cap": "70kW", "demand_interval": "1h"},
}


def test_a_plant_of_every_feature_conserves_parts_and_uses_them(stat_seed):
    p = plant_from_dict(PARTS)
    result = twin.simulate(p, replications=8, seed=stat_seed, backend="numpy")
    lanes, kinds = result.lanes, p.kinds()
    made, used, gone, inside = (lanes[f"parts.{f}"] for f in ("made", "used", "gone",
                                                              "inside"))
    for kind in ("a", "b"):
        d = kinds.index(kind)
        np.testing.assert_array_equal(made[:, d], used[:, d] + gone[:, d] + inside[:, d])
    s = result.summary()
    # every part is one trip of the AGV from kit, every unit one from asm: 3 + 1 a set
    trips = s["transport"]["agv"]["trips_per_h"]["mean"]
    units = s["stations"]["asm"]["throughput_per_h"]["mean"]
    assert trips == pytest.approx(4 * units, rel=0.05)
    assert s["stations"]["sa"]["throughput_per_h"]["mean"] == pytest.approx(2 * units, rel=0.05)
    # the mix, per product; y's lower yield at test sends more of it round the loop
    shares = [s["products"][q]["throughput_per_h"]["mean"] / s["throughput_per_h"]["mean"]
              for q in ("x", "y")]
    assert shares == pytest.approx([0.6, 0.4], abs=0.05)
    assert (s["products"]["y"]["cycle_time_h"]["mean"]
            > s["products"]["x"]["cycle_time_h"]["mean"])
    assert s["power"]["max_kw"]["mean"] <= 70.0 * (1 + 1e-9)
    assert s["stations"]["asm"]["mean_wait_h"]["mean"] >= 0.0


def test_engine_agrees_with_simpy_on_the_plant_of_every_feature(stat_seed):
    p = plant_from_dict(PARTS)
    result = twin.simulate(p, replications=ref.ENGINE_LANES, seed=stat_seed, backend="numpy")
    runs = sm.run(sm.from_plant(p), 32, seed=stat_seed + 5)
    lanes = result.lanes
    pairs = [(key, ref.as_figure(lanes[key]), ref.as_figure([r[key] for r in runs]))
             for key in ("throughput_per_h", "cycle_time_h", "wip", "wip_orders")]
    for i, q in enumerate(("x", "y")):
        for f in ("throughput_per_h", "cycle_time_h"):
            pairs.append((f"{q}.{f}", ref.as_figure(lanes[f"product.{f}"][:, i]),
                          ref.as_figure([r["products"][q][f] for r in runs])))
    pairs.append(("mean_kw", ref.as_figure(lanes["power.mean_kw"]),
                  ref.as_figure([r["power"]["mean_kw"] for r in runs])))
    for j, sid in enumerate(result.station_ids):
        for f in ("busy", "blocked", "down", "waiting", "idle", "throughput_per_h",
                  "mean_queue", "mean_wait_h"):
            pairs.append((f"{sid}.{f}", ref.as_figure(lanes[f"station.{f}"][:, j]),
                          ref.as_figure([r["stations"][j][f] for r in runs])))
    for f in ("loaded", "empty", "handling", "idle", "mean_wait_h", "trips_per_h"):
        pairs.append((f"agv.{f}", ref.as_figure(lanes[f"transport.{f}"][:, 0]),
                      ref.as_figure([r["transport"][0][f] for r in runs])))
    pairs = [(name, a, b) for name, a, b in pairs if not (a["ci95"][0] == a["ci95"][1]
                                                          == b["mean"] == 0.0)]
    ref.assert_two_sample(pairs)
    # the plant exercises what it is meant to: blocking on sa's buffer, waits for power
    assert lanes["station.blocked"][:, 0].mean() > 0.01
    assert lanes["power.station.power_wait"][:, 3].mean() > 0.001


def test_a_deadlocked_assembly_is_named():
    # three `a` cells overtake each other: both `a` places fill with parts of orders whose `b`
    # waits behind the one `b` place, held by an order whose `a` cannot get in; kitting's
    # finite buffer then holds the source, and nothing can ever happen again
    p = plant([
        {"id": "kit", "servers": 4, "buffer": 2, "process": exponential(0.05),
         "split": {"a": 1, "b": 1}, "next": {"by_part": {"a": "sa", "b": "sb"}}},
        {"id": "sa", "servers": 3, "buffer": 0, "process": exponential(1.0), "next": "asm"},
        {"id": "sb", "servers": 3, "buffer": 0, "process": exponential(1.0), "next": "asm"},
        {"id": "asm", "servers": 1, "process": "2h", "assemble": {"a": 1, "b": 1},
         "buffer": {"a": 2, "b": 1}},
    ], exponential(0.5), 2_000.0)
    with pytest.raises(TwinError, match=r"deadlock .*full stations \(.*asm"):
        twin.simulate(p, replications=4, seed=1, backend="numpy")


def test_the_run_prints_a_product_table_and_writes_product_columns(tmp_path, capsys):
    from twin.cli import main
    config = tmp_path / "parts.yaml"
    import yaml
    config.write_text(yaml.safe_dump(PARTS))
    code = main(["run", str(config), "--replications", "3", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0
    assert "products" in printed and "WIP (orders)" in printed
    header = (tmp_path / "out" / "replications.csv").read_text().splitlines()[0].split(",")
    assert {"wip_orders", "product.x.throughput_per_h", "product.y.cycle_time_h",
            "parts.a.made", "parts.b.inside", "parts.unit.gone"} <= set(header)


def test_the_trace_shows_parts_at_their_cells_and_parts_waiting_at_the_assembly():
    from twin.run import trace
    rows = trace.record(hand_traced_plant(13.5))
    waiting = [(r.time_h, r.value) for r in rows if r.kind == "queue" and r.id == "asm"]
    # order 1's parts arrive at 6, 7 and 8 (its set starts at once); order 2's at 10, 11, 12,
    # its set waits for the assembly until 13
    assert waiting == [(6.0, 1), (7.0, 2), (8.0, 0), (10.0, 1), (11.0, 2), (12.0, 3),
                       (13.0, 0)]
    busy = {(r.id, r.part) for r in rows if r.kind == "server" and r.state == "busy"}
    assert busy == {("kit", "order"), ("sa", "a"), ("sb", "b"), ("asm", "unit")}
    # the first unit is order 0's (jobs are numbered by their order's entry)
    assert [r.job for r in rows if r.kind == "server" and r.id == "asm"] == [0]
