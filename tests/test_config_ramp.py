"""Tests of the config of ramp studies: schedules (`{from, value}` steps), the release plan,
learning curves, `warmup: auto` and report periods (docs/config.md, "Ramp studies")."""

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.test_config import conforms, problems_in, write
from twin.cli import main
from twin.config import json_schema, load_plant, plant_from_dict, plant_from_text
from twin.config.logistics import Fleet

REPO = Path(__file__).resolve().parents[1]
WEEK = 168.0

# Every new form at once; the tests below edit one piece of it at a time.
RAMP = """\
name: ramp
horizon: 20w
warmup: auto
products: {a: 0.5, b: 0.5}
source:
  plan:
    - {from: 0w, interarrival: {dist: exponential, mean: 2h}}
    - {from: 6w, interarrival: {dist: exponential, mean: 1h}}
  release: nhpp
stations:
  - id: build
    servers:
      - {from: 0w, count: 1}
      - {from: 4w, count: 3}
      - {from: 36w, count: 2}
    process: 1h
    buffer: 4
    learning: {rate: 0.9, floor: 0.5}
    power: {idle: 1kW, busy: 10kW}
    requires: {tech: 1}
  - id: test
    servers: 2
    process: 30min
    learning: {by_product: {a: {rate: 0.8}, b: {rate: 0.95, floor: 0.2}}}
    next:
      - {to: exit, p: [{from: 0w, p: 0.9}, {from: 8w, p: 1}]}
      - {to: rework, p: [{from: 0w, p: 0.1}, {from: 8w, p: 0}]}
  - id: rework
    process: 2h
    next: test
power:
  base_load: 2kW
  cap: [{from: 0w, cap: 12kW}, {from: 4w, cap: 20kW}]
  tariff:
    - {from: 0w, energy: 0.1}
    - {from: 10w, energy: 0.2, demand_charge: 5}
resources:
  - id: tech
    count: [{from: 0w, count: 0}, {from: 1w, count: 2}]
report:
  period: 1w
  target: {throughput: 1000/w}
"""


def edited(old: str, new: str) -> str:
    """RAMP with one piece of text replaced."""
    assert RAMP.count(old) == 1, old
    return RAMP.replace(old, new)


def line_of(text: str, piece: str) -> int:
    """The 1-based line of the first occurrence of `piece` in `text`."""
    return text[:text.index(piece)].count("\n") + 1


# --------------------------------------------------------------------------------------------
# Every form is accepted, and normalized to one value plus its steps in hours
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ramp():
    return plant_from_text(RAMP, "ramp.yaml")


def test_warmup_auto_holds_zero_and_says_so(ramp):
    assert ramp.warmup == 0.0 and ramp.warmup_auto is True
    fixed = plant_from_text(edited("warmup: auto", "warmup: 2d"))
    assert fixed.warmup == 48.0 and fixed.warmup_auto is False
    assert plant_from_text(edited("warmup: auto\n", "")).warmup_auto is False


def test_release_plan_holds_the_last_law_and_gives_its_steps(ramp):
    source = ramp.source
    assert source.release == "nhpp"
    assert source.interarrival.dist == "exponential" and source.interarrival.mean == 1.0
    assert [(start, law.mean()) for start, law in source.steps()] == [(0.0, 2.0), (6 * WEEK, 1.0)]
    plain = plant_from_text(edited(
        "  plan:\n    - {from: 0w, interarrival: {dist: exponential, mean: 2h}}\n"
        "    - {from: 6w, interarrival: {dist: exponential, mean: 1h}}\n  release: nhpp\n",
        "  interarrival: 45min\n")).source
    assert plain.release == "drawn" and plain.plan is None
    assert plain.steps() == [(0.0, plain.interarrival)] and plain.interarrival.mean() == 0.75


def test_server_schedule_holds_the_largest_count(ramp):
    build, test = ramp.stations[0], ramp.stations[1]
    assert build.servers == 3
    assert build.server_steps() == [(0.0, 1), (4 * WEEK, 3), (36 * WEEK, 2)]
    assert test.servers == 2 and test.server_steps() == [(0.0, 2)]
    assert ramp.stations[2].server_steps() == [(0.0, 1)]  # the default
    assert build.has_schedule("servers") and not test.has_schedule("servers")


def test_learning_curves_one_or_by_product(ramp):
    build, test, rework = ramp.stations
    assert build.learning_for("a") == build.learning_for("b")
    assert (build.learning_for("a").rate, build.learning_for("a").floor) == (0.9, 0.5)
    assert (test.learning_for("a").rate, test.learning_for("a").floor) == (0.8, 0.0)
    assert (test.learning_for("b").rate, test.learning_for("b").floor) == (0.95, 0.2)
    assert rework.learning_for("a") is None
    curve = build.learning_for("a")
    assert curve.factor(1) == 1.0 and curve.factor(2) == pytest.approx(0.9)
    assert curve.factor(4) == pytest.approx(0.81) and curve.factor(10**6) == 0.5


def test_probability_schedules_hold_the_last_value(ramp):
    done, again = ramp.stations[1].next
    assert (done.p, again.p) == (1.0, 0.0)
    assert done.p_steps() == [(0.0, 0.9), (8 * WEEK, 1.0)]
    assert again.p_steps() == [(0.0, 0.1), (8 * WEEK, 0.0)]
    assert ramp.routes(1) == [(3, 1.0), (2, 0.0)]
    assert ramp.routes(1, at=0.0) == [(3, 0.9), (2, 0.1)]
    assert ramp.routes(1, at=8 * WEEK - 1e-9) == [(3, 0.9), (2, 0.1)]
    assert ramp.routes(1, at=8 * WEEK) == [(3, 1.0), (2, 0.0)]
    assert ramp.route_steps(1)[1] == (2, [(0.0, 0.1), (8 * WEEK, 0.0)])
    assert ramp.routes(2) == [(1, 1.0)] and ramp.route_steps(2) == [(1, [(0.0, 1.0)])]


def test_a_branch_closed_at_the_end_still_reaches_its_station(tmp_path, ramp):
    assert ramp.targets(1) == {2, 3} and ramp.successors(1) == {2, 3}
    assert ramp.reaching()[2] == {"order"}
    # negative control: the same branch closed from the start leaves 'rework' unreachable
    closed = edited("[{from: 0w, p: 0.9}, {from: 8w, p: 1}]", "1").replace(
        "[{from: 0w, p: 0.1}, {from: 8w, p: 0}]", "0")
    assert any("no job can reach station 'rework'" in p for p in problems_in(tmp_path, closed))


def test_power_cap_holds_the_smallest_and_tariff_the_first(ramp):
    power = ramp.power
    assert power.cap == 12.0 and power.cap_steps() == [(0.0, 12.0), (4 * WEEK, 20.0)]
    assert power.tariff.energy == 0.1 and power.tariff.demand_charge == 0.0
    assert [(start, t.energy, t.demand_charge) for start, t in power.tariff_steps()] == [
        (0.0, 0.1, 0.0), (10 * WEEK, 0.2, 5.0)]
    assert type(power.tariff).__name__ == "Tariff"
    assert all(type(t).__name__ == "Tariff" for _, t in power.tariff_steps())
    plain = plant_from_text(edited(
        "  cap: [{from: 0w, cap: 12kW}, {from: 4w, cap: 20kW}]\n  tariff:\n"
        "    - {from: 0w, energy: 0.1}\n    - {from: 10w, energy: 0.2, demand_charge: 5}\n",
        "  cap: 30kW\n  tariff: {energy: 0.1}\n")).power
    assert plain.cap_steps() == [(0.0, 30.0)]
    assert plain.tariff_steps() == [(0.0, plain.tariff)]
    bare = plant_from_text(edited(
        "  cap: [{from: 0w, cap: 12kW}, {from: 4w, cap: 20kW}]\n  tariff:\n"
        "    - {from: 0w, energy: 0.1}\n    - {from: 10w, energy: 0.2, demand_charge: 5}\n",
        "")).power
    assert bare.cap_steps() is None and bare.tariff_steps() is None


def test_pool_and_fleet_counts_hold_the_largest(ramp):
    pool = ramp.resources[0]
    assert pool.count == 2 and pool.count_steps() == [(0.0, 0), (WEEK, 2)]
    fleet = Fleet.model_validate({"id": "agv", "kind": "agv", "speed": 1.0,
                                  "count": [{"from": "0w", "count": 2}, {"from": "2d", "count": 5},
                                            {"from": "3d", "count": 1}]})
    assert fleet.count == 5 and fleet.count_steps() == [(0.0, 2), (48.0, 5), (72.0, 1)]
    fixed = Fleet.model_validate({"id": "agv", "kind": "agv", "speed": 1.0, "count": 3})
    assert fixed.count == 3 and fixed.count_steps() == [(0.0, 3)]


@pytest.mark.parametrize(("rate", "per_hour"), [
    ("1000/w", 1000 / 168), ("150/d", 6.25), ("6/h", 6.0), ("1/min", 60.0), ("2.5 / h", 2.5),
])
def test_report_period_and_target_rate_per_hour(rate, per_hour):
    plant = plant_from_text(edited("1000/w", rate))
    assert plant.report.period == WEEK
    assert plant.report.target.throughput == pytest.approx(per_hour, rel=1e-15)


def test_report_is_optional_and_a_period_needs_no_target():
    assert plant_from_text(edited("report:\n  period: 1w\n  target: {throughput: 1000/w}\n",
                                  "")).report is None
    report = plant_from_text(edited("  target: {throughput: 1000/w}\n", "")).report
    assert report.period == WEEK and report.target is None


def test_change_times_are_every_schedule_but_tariffs(ramp):
    # plan 6w, servers 4w and 36w, p 8w, cap 4w, pool 1w; the tariff's 10w is left out
    assert ramp.change_times() == [WEEK, 4 * WEEK, 6 * WEEK, 8 * WEEK, 36 * WEEK]


def test_shipped_configs_are_unchanged_and_have_no_changes_over_time():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        if path.name == "houston-ramp.yaml":  # the ramp study: tests/test_ramp.py
            continue
        plant = load_plant(path)
        assert plant.change_times() == [] and not plant.warmup_auto, path
        assert plant.source.steps() == [(0.0, plant.source.interarrival)]
        assert all(s.server_steps() == [(0.0, s.servers)] for s in plant.stations)
        assert all(p.count_steps() == [(0.0, p.count)] for p in plant.resources)
        assert all(f.count_steps() == [(0.0, f.count)] for f in plant.transport)
        assert plant.report is None
        for j in range(len(plant.stations)):
            assert plant.routes(j, at=1e9) == plant.routes(j)


def test_dumps_write_the_forms_back_and_round_trip(ramp):
    data = ramp.model_dump()
    assert data["warmup"] == "auto"
    assert data["stations"][0]["servers"] == [{"from": "0.0h", "count": 1},
                                              {"from": "672.0h", "count": 3},
                                              {"from": "6048.0h", "count": 2}]
    assert "interarrival" not in data["source"] and len(data["source"]["plan"]) == 2
    assert data["power"]["cap"][1] == {"from": "672.0h", "cap": "20.0kW"}
    assert plant_from_dict(data) == ramp
    assert plant_from_dict(json.loads(json.dumps(ramp.model_dump(mode="json")))) == ramp


def test_model_copy_keeps_a_schedule_unless_the_field_is_replaced(ramp):
    build = ramp.stations[0]
    assert build.model_copy().server_steps() == build.server_steps()
    assert build.model_copy(deep=True) == build
    resized = build.model_copy(update={"servers": 5})
    assert resized.server_steps() == [(0.0, 5)] and resized.model_dump()["servers"] == 5
    assert build.server_steps()[1] == (4 * WEEK, 3)  # the original keeps its schedule
    assert ramp.model_copy().warmup_auto
    fixed = ramp.model_copy(update={"warmup": 10.0})
    assert not fixed.warmup_auto and fixed.model_dump()["warmup"] == "10.0h"


def test_the_docs_example_loads():
    doc = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    block = re.search(r"## Ramp studies.*?```yaml\n(.*?)```", doc, re.DOTALL).group(1)
    plant = plant_from_text(block, "docs/config.md")
    assert plant.warmup_auto and plant.source.release == "nhpp"
    assert plant.change_times() == [4 * WEEK, 6 * WEEK, 8 * WEEK]


# --------------------------------------------------------------------------------------------
# Errors: one line each, with the file, the line, the field path and the fix
# --------------------------------------------------------------------------------------------

CAP = "  cap: [{from: 0w, cap: 12kW}, {from: 4w, cap: 20kW}]"
PLAN = "    - {from: 6w, interarrival: {dist: exponential, mean: 1h}}"


@pytest.mark.parametrize(("old", "new", "at", "path", "message"), [
    # the order of the steps
    ("{from: 0w, count: 1}", "{from: 1w, count: 1}", "{from: 1w, count: 1}",
     "stations[0].servers[0].from", "the first step must start at 0 (`from: 0w`)"),
    ("{from: 36w, count: 2}", "{from: 36h, count: 2}", "{from: 36h, count: 2}",
     "stations[0].servers[2].from", "step 3 starts at 36h, not after step 2 (4w (672h)); list "
     "the steps in time order, each `from` later than the one before"),
    ("{from: 4w, count: 3}", "{from: 0w, count: 3}", "{from: 0w, count: 3}",
     "stations[0].servers[1].from", "step 2 starts at 0h, not after step 1 (0h); list the steps "
     "in time order, each `from` later than the one before"),
    (PLAN, "    - {from: 0h, interarrival: {dist: exponential, mean: 1h}}", "{from: 0h",
     "source.plan[1].from", "step 2 starts at 0h, not after step 1 (0h); list the steps in "
     "time order, each `from` later than the one before"),
    ("{from: 0w, count: 1}", "{from: 0, count: 1}", "{from: 0, count: 1}",
     "stations[0].servers[0].from",
     "'0' has no unit; write it as a duration such as '45min' or '1.5h'"),
    # the steps themselves
    ("{from: 0w, count: 1}", "{from: 0w, count: -1}", "{from: 0w, count: -1}",
     "stations[0].servers[0].count", "'-1' is negative; use 0 or more"),
    ("{from: 0w, count: 1}", "{from: 0w}", "{from: 0w}",
     "stations[0].servers[0].count", "missing; add `count:` (how many from then on; 0 or more)"),
    ("{from: 0w, count: 1}", "{count: 1}", "{count: 1}",
     "stations[0].servers[0].from", "missing; add `from:` (when this step takes effect, from "
     "time 0: a duration such as `6w`; the first step's is `0w`, each next one later)"),
    ("{from: 0w, count: 1}", "2", "- 2", "stations[0].servers[0]",
     "'2' is not a mapping; write `key: value` lines (keys: from, count)"),
    ("servers: 2\n", "servers: [{from: 0w, count: 0}]\n", "servers: [{from: 0w, count: 0}]",
     "stations[1].servers", "every step has count 0, so there is never one in service; give at "
     "least one step a count of 1 or more"),
    ("servers: 2\n", "servers: []\n", "servers: []", "stations[1].servers",
     "is empty; list at least one entry"),
    ("servers: 2\n", "servers: {from: 0w, count: 2}\n", "servers: {from",
     "stations[1].servers", "'{'from': '0w', 'count': 2}' is not a list; write `- item` lines"),
    ("servers: 2\n", "servers: 0\n", "servers: 0", "stations[1].servers",
     "'0' is less than 1; use 1 or more"),
    ("count: [{from: 0w, count: 0}, {from: 1w, count: 2}]", "count: [{from: 0w, count: 0}]",
     "count: [", "resources[0].count", "every step has count 0, so there is never one in "
     "service; give at least one step a count of 1 or more"),
    ("{from: 8w, p: 1}", "{from: 8w, p: 1.5}", "{from: 8w, p: 1.5}",
     "stations[1].next[0].p[1].p", "'1.5' is more than 1; use at most 1"),
    (CAP, "  cap: [{from: 0w, cap: 12kW}, {from: 4w, cap: 20}]", "cap: [",
     "power.cap[1].cap", "'20' has no unit; write it as a power such as '500W' or '6kW'"),
    ("{from: 10w, energy: 0.2, demand_charge: 5}", "{from: 10w, demand_charge: 5}",
     "{from: 10w, demand_charge: 5}", "power.tariff[1].energy", "missing; add `energy:` ($/kWh: "
     "one price, or `{weekday, weekend}` lists of `{hours, price}` bands)"),
    ("{from: 10w, energy: 0.2, demand_charge: 5}", "{from: 10w, energy: 0.2, until: 12w}",
     "{from: 10w, energy: 0.2, until: 12w}", "power.tariff[1].until",
     "unknown key; remove it (allowed keys: from, energy, demand_charge)"),
    # warm-up
    ("warmup: auto", "warmup: automatic", "warmup:", "warmup",
     "'automatic' is not a duration; write a number and a unit such as '45min' or '1.5h'"),
    # the source
    ("  release: nhpp", "  release: poisson", "release:", "source.release",
     "'poisson' is not allowed here; use 'drawn' or 'nhpp'"),
    ("  release: nhpp", "  release: nhpp\n  interarrival: 1h", "plan:", "source.plan",
     "give `interarrival` or a `plan`, not both; remove `interarrival` (the plan's steps give "
     "the times between jobs)"),
    (PLAN, "    - {from: 6w, interarrival: 1h}", "{from: 6w", "source.plan[1].interarrival",
     "`release: nhpp` needs exponential times in every step, and step 2 is deterministic; "
     "write `{dist: exponential, mean: ...}` or use `release: drawn`"),
    # routing
    ("{from: 8w, p: 0}", "{from: 8w, p: 0.1}", "next:", "stations[1].next",
     "p sums to 1.1 from 8w (1344h); make the branches sum to 1 at every time"),
    ("[{from: 0w, p: 0.1}, {from: 8w, p: 0}]", "[{from: 0w, p: 0.1}, {from: 9w, p: 0}]",
     "next:", "stations[1].next",
     "p sums to 1.1 from 8w (1344h); make the branches sum to 1 at every time"),
    ("[{from: 0w, p: 0.1}, {from: 8w, p: 0}]", "0.05", "next:", "stations[1].next",
     "p sums to 0.95 from 0h; make the branches sum to 1 at every time"),
    # the power cap, step by step, with the servers in force while each step lasts
    (CAP, "  cap: [{from: 0w, cap: 20kW}, {from: 2w, cap: 12kW}]", "cap: [",
     "power.cap[1].cap", "from 2w (336h): 12kW cannot start a job at station 'build': the "
     "plant on standby (base load, every server's standby draw, cooling) already needs 5kW and "
     "one job there adds 9kW; raise the cap to at least 14kW"),
    (CAP, "  cap: [{from: 0w, cap: 2.5kW}, {from: 4w, cap: 20kW}]", "cap: [",
     "power.cap[0].cap", "from 0h: 2.5kW is below what the plant draws on standby (3kW: base "
     "load, every server's standby draw, cooling); raise the cap to more than that"),
    # the tariff's steps
    ("{from: 10w, energy: 0.2", "{from: 1680.1h, energy: 0.2", "{from: 1680.1h",
     "power.tariff[1].from", "1680.1h is not a multiple of the 15min demand interval; start "
     "each tariff on an interval's edge"),
    ("{from: 10w, energy: 0.2,", "{from: 10w, energy: {weekday: [{hours: [0, 7.1], price: 0.1}, "
     "{hours: [7.1, 24], price: 0.2}]},", "{from: 10w, energy: {", "power.tariff[1].energy",
     "a price band starts or ends at hour 7.1, inside a 15min demand interval; move it to a "
     "multiple of the interval or shorten the interval"),
    # learning
    ("{rate: 0.9, floor: 0.5}", "{rate: 1.5, floor: 0.5}", "learning:",
     "stations[0].learning.rate", "'1.5' is more than 1; use at most 1"),
    ("{rate: 0.9, floor: 0.5}", "{rate: 0, floor: 0.5}", "learning:",
     "stations[0].learning.rate", "'0' must be greater than zero; use a number above 0"),
    ("{rate: 0.9, floor: 0.5}", "{rate: 0.9, floor: -0.1}", "learning:",
     "stations[0].learning.floor", "'-0.1' is negative; use 0 or more"),
    ("{rate: 0.9, floor: 0.5}", "{rate: 0.9, flor: 0.5}", "learning:",
     "stations[0].learning.flor", "unknown key; did you mean `floor`?"),
    ("a: {rate: 0.8}, b: {rate: 0.95, floor: 0.2}", "a: {rate: 0.8}", "learning: {by",
     "stations[1].learning.by_product",
     "has no entry for product 'b'; add one: `by_product` names every product"),
    # report
    ("  period: 1w\n", "", "target:", "report.target",
     "report.target needs report.period (the target is checked per period); add `period:` "
     "such as `1w`"),
    ("  period: 1w", "  period: 0w", "period:", "report.period",
     "'0w' must be greater than zero; use a duration such as '1h'"),
    ("1000/w", "1000/week", "target:", "report.target.throughput",
     "'1000/week' is not a rate; write a count per unit of time such as '1000/w', '150/d' or "
     "'6/h' (units: w, d, h, min)"),
    ("1000/w", "0/w", "target:", "report.target.throughput",
     "'0/w' must be greater than zero; use a rate such as '1000/w'"),
    ("{throughput: 1000/w}", "{}", "target:", "report.target.throughput",
     "missing; add `throughput:` (orders leaving the plant per unit of time, such as '1000/w' "
     "(/w, /d, /h or /min); stored per hour)"),
])
def test_one_problem_is_reported_with_line_path_and_fix(tmp_path, old, new, at, path, message):
    text = edited(old, new)
    expected = f"plant.yaml:{line_of(text, at)}: {path}: {message}"
    assert problems_in(tmp_path, text) == [expected]


def test_a_source_without_interarrival_or_plan(tmp_path):
    text = edited("  plan:\n    - {from: 0w, interarrival: {dist: exponential, mean: 2h}}\n"
                  f"{PLAN}\n  release: nhpp\n", "  release: nhpp\n")
    assert problems_in(tmp_path, text) == [
        f"plant.yaml:{line_of(text, 'source:')}: source.interarrival: missing; add "
        "`interarrival:` (time between jobs) or a `plan` of `{from, interarrival}` steps",
        f"plant.yaml:{line_of(text, 'release:')}: source.release: `release: nhpp` draws the "
        "Poisson process of a `plan`'s changing rate; add a `plan` or remove `release`",
    ]


def test_fixed_probabilities_keep_their_message(tmp_path):
    text = edited("[{from: 0w, p: 0.9}, {from: 8w, p: 1}]", "0.8").replace(
        "[{from: 0w, p: 0.1}, {from: 8w, p: 0}]", "0.1")
    assert problems_in(tmp_path, text) == [
        f"plant.yaml:{line_of(text, 'next:')}: stations[1].next: probabilities sum to 0.9, not "
        "1; adjust them to add up to 1"]


def test_probabilities_that_trade_places_sum_to_one_at_every_time(tmp_path):
    # 0.9 + 0.1 until 8w, then 1 + 0; changing them at different times breaks the sum between
    assert plant_from_text(RAMP).routes(1, at=8 * WEEK) == [(3, 1.0), (2, 0.0)]
    text = edited("{from: 8w, p: 1}", "{from: 7w, p: 1}")
    assert problems_in(tmp_path, text) == [
        f"plant.yaml:{line_of(text, 'next:')}: stations[1].next: p sums to 1.1 from 7w (1176h); "
        "make the branches sum to 1 at every time"]


def test_a_cap_too_small_only_while_few_servers_serve_is_fine():
    # 12kW fits one server (0-4w) but not three (from 4w): the step of 12kW ends at 4w
    assert plant_from_text(RAMP).power.cap_steps()[0] == (0.0, 12.0)
    # a station with no server in force while a step lasts starts nothing then
    closed = edited("{from: 0w, count: 1}", "{from: 0w, count: 0}").replace(
        "{from: 0w, cap: 12kW}", "{from: 0w, cap: 2kW}")
    assert plant_from_text(closed).power.cap == 2.0


def test_an_unknown_product_in_learning_is_named(tmp_path):
    text = edited("a: {rate: 0.8}, b:", "a: {rate: 0.8}, c:")
    line = line_of(text, "learning: {by")
    assert problems_in(tmp_path, text) == [
        f"plant.yaml:{line}: stations[1].learning.by_product.c: unknown product 'c'; use one "
        "of: a, b",
        f"plant.yaml:{line}: stations[1].learning.by_product: has no entry for product 'b'; add "
        "one: `by_product` names every product"]


@pytest.mark.parametrize(("old", "new", "at", "where"), [
    ("{from: 0w, count: 1}", "{from: 1w, count: 1}", "{from: 1w",
     "stations[0].servers[0].from: the first step must start at 0 (`from: 0w`)"),
    ("{from: 8w, p: 0}", "{from: 8w, p: 0.1}", "next:",
     "stations[1].next: p sums to 1.1 from 8w (1344h)"),
])
def test_validate_exits_2_with_one_line(capsys, tmp_path, old, new, at, where):
    text = edited(old, new)
    path = write(tmp_path, text)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{path}:{line_of(text, at)}: {where}" in lines[0]


def test_validate_accepts_the_ramp(capsys, tmp_path):
    assert main(["validate", str(write(tmp_path, RAMP))]) == 0
    assert "ok" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The JSON Schema (`twin schema`) accepts every new form
# --------------------------------------------------------------------------------------------


def schema_from_cli(capsys) -> dict:
    assert main(["schema"]) == 0
    return json.loads(capsys.readouterr().out)


def test_schema_accepts_the_ramp(capsys):
    schema = schema_from_cli(capsys)
    assert schema == json.loads(json.dumps(json_schema()))
    assert conforms(yaml.safe_load(RAMP), schema, schema)
    assert conforms(yaml.safe_load(edited("warmup: auto", "warmup: 3d")), schema, schema)


@pytest.mark.parametrize(("old", "new"), [
    ("{from: 0w, count: 1}", "{from: 0w, count: -1}"),
    ("{from: 0w, count: 1}", "{from: 0, count: 1}"),
    ("{from: 8w, p: 1}", "{from: 8w, p: 1.5}"),
    ("warmup: auto", "warmup: automatic"),
    ("{rate: 0.9, floor: 0.5}", "{rate: 0.9, flor: 0.5}"),
    ("1000/w", "1000/week"),
])
def test_schema_rejects_bad_forms(old, new):
    schema = json_schema()
    assert not conforms(yaml.safe_load(edited(old, new)), schema, schema)


def test_jsonschema_validates_the_ramp():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    validator.validate(yaml.safe_load(RAMP))
    for old, new in [("{from: 0w, count: 1}", "{from: 0w, count: -1}"),
                     ("  release: nhpp", "  release: poisson"), ("warmup: auto", "warmup: 45")]:
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(yaml.safe_load(edited(old, new)))
