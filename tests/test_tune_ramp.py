"""Tests of tuning a ramp's phasing (docs/tuning.md, "Tuning a ramp's phasing"): variables by
index into schedules (counts, and `from`s written back with their unit), bad paths as one
line with exit 2, phases moved out of order rejected and recorded rather than raised, the
`time_to_target` metric against a hand count, and a short study that finds the earliest
phase start.

The plant is deterministic: one station of 1-hour jobs, fed faster than it can work (the
source is held while its buffer is full), so it makes 1 job/h with one server and 2 with
two, every replication alike. The target, 250 a week, lies between 168 and 336: a week
reaches it exactly when both servers work for most of it."""

import json
import re
from pathlib import Path

import optuna
import pytest
import yaml

import twin
from tests.test_tune import one_line_error, run_cli, trials_csv, write
from twin.config import ConfigError
from twin.config.tuning import Constraint, Costs, Variable, resolve_path
from twin.run.simulate import simulate
from twin.tune import Settings, Tuner, finish, measures
from twin.tune.space import Dimension, Space

WEEK = 168.0
HORIZON = 10 * WEEK

RAMP = """\
name: ramp-tune
horizon: 10w
warmup: 0h
replications: 2
seed: 3
source:
  interarrival: 15min          # 4 jobs/h, held while the buffer is full
stations:
  - id: build
    servers:
      - {from: 0w, count: 1}
      - {from: 4w, count: 2}     # the phase to tune: 1 job/h, then 2
    process: 1h
    buffer: 2
report:
  period: 1w
  target: {throughput: 250/w}
tune:
  variables:
    stations.build.servers.1.from: {min: 2w, max: 6w, step: 1w}
  objectives:
    - minimize: time_to_target
  trials: 8
  batch: 4
  replications: 2
  seed: 1
  reevaluate: {top: 2, replications: 2}
"""

# A third phase at 7w: moving the second one to 7w or later puts it out of order.
THREE_PHASES = RAMP.replace(
    "      - {from: 4w, count: 2}     # the phase to tune: 1 job/h, then 2\n",
    "      - {from: 4w, count: 2}     # the phase to tune: 1 job/h, then 2\n"
    "      - {from: 7w, count: 3}\n").replace(
    "stations.build.servers.1.from: {min: 2w, max: 6w, step: 1w}",
    "stations.build.servers.1.from: {min: 2w, max: 8w, step: 1w}\n"
    "    stations.build.servers.1.count: {min: 2, max: 3}")

# Every kind of schedule a ramp tunes: the release plan, the power cap, a branch's p.
SCHEDULES = """\
name: schedules
horizon: 4w
warmup: 0h
seed: 3
source:
  plan:
    - {from: 0w, interarrival: 2h}
    - {from: 1w, interarrival: 1h}
    - {from: 2w, interarrival: 30min}
stations:
  - id: build
    servers: [{from: 0w, count: 1}, {from: 2w, count: 3}]
    process: 20min
    power: {idle: 1kW, busy: 10kW}
    next:
      - {to: exit, p: [{from: 0w, p: 0.9}, {from: 2w, p: 1}]}
      - {to: build, p: [{from: 0w, p: 0.1}, {from: 2w, p: 0}]}
power:
  cap: [{from: 0w, cap: 20kW}, {from: 2w, cap: 50kW}]
report:
  period: 1w
  target: {throughput: 100/w}
tune:
  variables:
    source.plan.2.from: {min: 1w, max: 3w, step: 1d}
    power.cap.1.cap: {min: 30kW, max: 60kW, step: 10}
    stations.build.servers.1.count: {min: 2, max: 4}
  objectives:
    - minimize: weeks_to_target
"""

FROM = "stations.build.servers.1.from"


def fixed(dim: Dimension, value: float) -> object:
    """What ``dim`` writes when Optuna suggests ``value`` (hours or kW)."""
    return dim.suggest(optuna.trial.FixedTrial({dim.path: value}))


# --------------------------------------------------------------------------------------------
# Paths by index, written back with their unit
# --------------------------------------------------------------------------------------------


def test_index_paths_resolve_into_schedules_and_write_back(tmp_path):
    config = write(tmp_path, "schedules.yaml", SCHEDULES)
    plant = twin.load(config)
    assert resolve_path(plant, "stations.build.servers.1.count")[0] == \
        ("stations", 0, "servers", 1, "count")
    assert resolve_path(plant, "source.plan.2.from")[0] == ("source", "plan", 2, "from")
    assert resolve_path(plant, "power.cap.1.cap")[0] == ("power", "cap", 1, "cap")
    assert resolve_path(plant, "stations.build.next.0.p.1.p")[0] == \
        ("stations", 0, "next", 0, "p", 1, "p")
    space = Space(config, plant)
    dims = {d.path: d for d in space.dimensions}
    assert [d.kind for d in space.dimensions] == ["quantity", "quantity", "int"]
    values = {"source.plan.2.from": fixed(dims["source.plan.2.from"], 10 * 24.0),
              "power.cap.1.cap": fixed(dims["power.cap.1.cap"], 40.0),
              "stations.build.servers.1.count": fixed(dims["stations.build.servers.1.count"], 4)}
    assert values == {"source.plan.2.from": "10d", "power.cap.1.cap": "40kW",
                      "stations.build.servers.1.count": 4}
    text = space.dump(values)
    assert "    - {from: 10d, interarrival: 30min}\n" in text  # the input's flow style kept
    assert "  cap: [{from: 0w, cap: 20kW}, {from: 2w, cap: 40kW}]\n" in text
    assert "    servers: [{from: 0w, count: 1}, {from: 2w, count: 4}]\n" in text
    candidate = space.plant_for(values)
    assert [at for at, _ in candidate.source.steps()] == [0.0, WEEK, 240.0]
    assert candidate.power.cap_steps() == [(0.0, 20.0), (2 * WEEK, 40.0)]
    assert candidate.stations[0].server_steps() == [(0.0, 1), (2 * WEEK, 4)]
    # everything else as the input wrote it
    given, written = yaml.safe_load(SCHEDULES), yaml.safe_load(text)
    given["source"]["plan"][2]["from"] = "10d"
    given["power"]["cap"][1]["cap"] = "40kW"
    given["stations"][0]["servers"][1]["count"] = 4
    assert written == given


def test_a_from_range_in_weeks_is_written_in_weeks():
    dim = Dimension(FROM, Variable(min="4w", max="20w", step="1w"))
    assert dim.kind == "quantity"
    assert fixed(dim, 9 * WEEK) == "9w"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    written = [dim.suggest(study.ask()) for _ in range(20)]
    assert all(w.endswith("w") and w[:-1].isdigit() and 4 <= int(w[:-1]) <= 20 for w in written)
    assert len(set(written)) > 5
    # a plain step is in the unit of `min`, as for powers: the same values
    plain = Dimension(FROM, Variable(min="4w", max="20w", step=1))
    assert fixed(plain, 9 * WEEK) == "9w"
    # a step in days: whole days, written in days where weeks cannot write them exactly
    days = Dimension(FROM, Variable(min="1w", max="3w", step="1d"))
    assert [fixed(days, h) for h in (7 * 24.0, 10 * 24.0, 14 * 24.0)] == ["1w", "10d", "2w"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    hours = [twin.units.parse_duration(days.suggest(study.ask())) for _ in range(20)]
    assert all(h % 24 == 0 and WEEK <= h <= 3 * WEEK for h in hours)


@pytest.mark.parametrize("spec, says", [
    ({"min": "1w", "max": "3w", "step": "2MW"}, "`step` '2MW' is not in the kind of unit"),
    ({"min": "1w", "max": "3w", "step": "0d"}, "`step` '0d' must be greater than 0"),
    ({"min": 1, "max": 3, "step": "1w"}, "is not in the kind of unit of the range (plain"),
])
def test_a_step_with_a_unit_fits_the_range(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        Variable(**spec)


# --------------------------------------------------------------------------------------------
# Bad paths: one line, exit 2, naming the variable and the fix
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable, path, says", [
    ("stations.build.servers.2.count: {min: 1, max: 3}", "stations.build.servers.2.count",
     "`stations.build.servers` has no item `2`; its 2 items go by index, 0 to 1"),
    ("stations.build.servers.1.when: {min: 2w, max: 6w}", "stations.build.servers.1.when",
     "`stations.build.servers.1` has no field `when`; its fields are: from, count"),
    ("stations.build.servers.0.from: {min: 2w, max: 6w}", "stations.build.servers.0.from",
     "the first step of a schedule starts at 0 (`from: 0w`); tune the `from` of a later step"),
    ("stations.build.servers.1.from: {min: 2, max: 6}", "stations.build.servers.1.from",
     "a `from` is a time: write the range as durations, such as `{min: 4w, max: 20w, step: "
     "1w}`"),
    ("source.plan.1.from: {min: 2w, max: 6w}", "source.plan.1.from",
     "`source.plan` is not set in the plant; add it before tuning a field inside it"),
])
def test_bad_index_paths(tmp_path, capsys, variable, path, says):
    old = "stations.build.servers.1.from: {min: 2w, max: 6w, step: 1w}"
    config = write(tmp_path, "bad.yaml", RAMP.replace(old, variable))
    line = one_line_error(capsys, config, "--out", tmp_path / "out")
    assert line.startswith(f"error: {config}:")
    assert f"tune.variables.{path}: {says}" in line
    assert not (tmp_path / "out").exists()


def test_a_step_of_a_single_value_asks_for_a_schedule(tmp_path, capsys):
    single = RAMP.replace("    servers:\n      - {from: 0w, count: 1}\n"
                          "      - {from: 4w, count: 2}     # the phase to tune: 1 job/h, "
                          "then 2\n", "    servers: 2\n")
    assert single != RAMP
    line = one_line_error(capsys, write(tmp_path, "single.yaml", single), "--out",
                          tmp_path / "out")
    assert f"tune.variables.{FROM}: `stations.build.servers` is a single value, not a " \
           "schedule, so it has no step `1`; to tune a step, write it as steps `[{from: 0w, " \
           "...}, ...]` (docs/config.md)" in line


def test_time_to_target_needs_a_target(tmp_path, capsys):
    plain = RAMP.replace("report:\n  period: 1w\n  target: {throughput: 250/w}\n", "")
    assert plain != RAMP
    line = one_line_error(capsys, write(tmp_path, "plain.yaml", plain), "--out",
                          tmp_path / "out")
    assert "tune.objectives[0]: 'time_to_target' needs a throughput target per period, and " \
           "the plant has none; add `report: {period: 1w, target: {throughput: 1000/w}}`" in line
    assert "time_to_target_h" not in measures.available(twin.load(write(tmp_path, "p.yaml",
                                                                           plain)))
    with_target = twin.load(write(tmp_path, "ramp.yaml", RAMP))
    assert {"time_to_target_h", "time_to_target_w"} <= set(measures.available(with_target))
    assert measures.check(with_target, "weeks_to_target") is None


# --------------------------------------------------------------------------------------------
# Phases out of order: rejected and recorded, not raised
# --------------------------------------------------------------------------------------------


def test_phases_out_of_order_are_rejected_and_recorded(tmp_path):
    config = write(tmp_path, "three.yaml", THREE_PHASES)
    # the range reaches past the third phase (8w > 7w): the tuner still starts
    tuner = Tuner(config, Settings(out=str(tmp_path / "out"), trials=2, batch=2))
    later = {FROM: "8w", "stations.build.servers.1.count": 2}
    same = {FROM: "7w", "stations.build.servers.1.count": 2}
    ok = {FROM: "3w", "stations.build.servers.1.count": 2}
    with pytest.raises(ConfigError):  # the plant's own check: what the tuner must not raise
        tuner.space.plant_for(later)
    outcomes = tuner.evaluate([later, ok, same], 2, tuner.seed)
    assert [o.status for o in outcomes] == ["rejected", "ok", "rejected"]
    assert outcomes[0].reason == (
        "phases out of order: stations.build.servers.2.from 7w is not after "
        "stations.build.servers.1.from 8w; each step of a schedule starts after the one before")
    assert outcomes[2].reason.startswith("phases out of order: stations.build.servers.2.from "
                                         "7w is not after stations.build.servers.1.from 7w")
    assert outcomes[1].mean("time_to_target") == 3 * WEEK
    # in a study: the trial's record says why
    study = tuner.open()
    for values in (later, ok):
        study.enqueue_trial({FROM: twin.units.parse_duration(values[FROM]),
                             "stations.build.servers.1.count": 2})
    tuner.run()
    report = finish(tuner)
    rows = trials_csv(tmp_path / "out")
    assert [(r["state"], r[FROM]) for r in rows] == [("rejected", "8w"), ("complete", "3w")]
    assert rows[0]["reason"].startswith("phases out of order: ")
    assert rows[0]["time_to_target"] == ""  # nothing measured
    assert report["trials"]["rejected"] == 1
    assert report["best"]["values"][FROM] == "3w"


def test_a_range_that_starts_before_the_phase_before_it(tmp_path):
    """The third phase's start may range below the second's (4w): the tuner starts, and those
    candidates are rejected one by one."""
    config = write(tmp_path, "third.yaml", THREE_PHASES.replace(
        "stations.build.servers.1.count: {min: 2, max: 3}",
        "stations.build.servers.2.from: {min: 3w, max: 9w, step: 1w}"))
    tuner = Tuner(config, Settings(out=str(tmp_path / "out")))
    outcomes = tuner.evaluate([{FROM: "4w", "stations.build.servers.2.from": w}
                               for w in ("3w", "5w")], 2, tuner.seed)
    assert [o.status for o in outcomes] == ["rejected", "ok"]
    assert outcomes[0].reason.startswith("phases out of order: stations.build.servers.2.from "
                                         "3w is not after stations.build.servers.1.from 4w")


# --------------------------------------------------------------------------------------------
# time_to_target against a hand count
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, hours", [
    ("2w", 2 * WEEK),    # week 2 has both servers all week: 336 jobs
    ("4.25w", 4 * WEEK),  # week 4: 42 h at 1/h and 126 h at 2/h, 294 jobs >= 250
    ("4.75w", 5 * WEEK),  # week 4: 126 h at 1/h and 42 h at 2/h, 210 jobs < 250; week 5: 336
    ("12w", HORIZON),     # after the horizon: never reached, counted as the horizon
])
def test_time_to_target_by_hand(tmp_path, start, hours):
    config = write(tmp_path, "ramp.yaml", RAMP)
    space = Space(config, twin.load(config))
    plant = space.plant_for({FROM: start})
    result = simulate(plant, backend="numpy")
    costs = plant.tune.costs
    assert list(measures.values("time_to_target", result, plant, costs)) == [hours, hours]
    assert list(measures.values("weeks_to_target", result, plant, costs)) == \
        [hours / WEEK] * 2
    # the summary's own target block (the mean's first period) agrees where it is reached
    target = result.summary()["target"]
    assert target["start_h"] == (None if hours == HORIZON else hours)


def test_time_to_target_per_replication_against_a_loop(tmp_path):
    """Exponential times and a target near what two servers make (340 a week against 336 on
    average): replications differ, some never reach it; each one's value is its own first
    period, or the horizon."""
    noisy = RAMP.replace("process: 1h", "process: {dist: exponential, mean: 1h}").replace(
        "250/w", "340/w")
    config = write(tmp_path, "noisy.yaml", noisy)
    plant = twin.load(config)
    result = simulate(plant, replications=8, backend="numpy")
    got = measures.values("time_to_target", result, plant, plant.tune.costs)
    exits, periods = result.lanes["series.exits"], result.periods
    expected = []
    for rep in exits:
        first = [periods.start_h[k] for k in range(len(rep))
                 if rep[k] / periods.length_h[k] >= 340 / WEEK]
        expected.append(first[0] if first else HORIZON)
    assert list(got) == expected
    assert len(set(expected)) > 2  # the replications do differ
    assert HORIZON in expected and min(expected) >= 4 * WEEK  # censored ones; none too early


def test_capital_cost_prices_the_most_a_schedule_has(tmp_path):
    plant = twin.load(write(tmp_path, "schedules.yaml", SCHEDULES))
    costs = Costs(servers={"build": 1000}, power_cap_kw=10)
    # servers 1 then 3, cap 20 kW then 50 kW: 3 x 1,000 + 50 x 10
    assert measures.capital_cost(plant, costs) == 3500


def test_weeks_to_target_bounds_in_weeks():
    assert measures.bounds(Constraint(metric="weeks_to_target", max="3w")) == (None, 3.0)
    assert measures.bounds(Constraint(metric="weeks_to_target", min=1, max=3)) == (1.0, 3.0)
    assert measures.bounds(Constraint(metric="time_to_target", max="3w")) == (None, 3 * WEEK)
    assert measures.UNITS["time_to_target_h"] == "h"
    assert measures.UNITS["time_to_target_w"] == "w"


# --------------------------------------------------------------------------------------------
# A short study finds the earliest phase start
# --------------------------------------------------------------------------------------------


def test_tuning_finds_the_earliest_phase_start(tmp_path, capsys):
    config = write(tmp_path, "ramp.yaml", RAMP)
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, config, "--out", out, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["best"]["values"] == {FROM: "2w"}
    assert report["best"]["rerun"]["time_to_target"]["mean"] == 2 * WEEK
    rows = trials_csv(out)
    assert len(rows) == 8 and all(r["state"] == "complete" for r in rows)
    for row in rows:  # each trial measured its own hand count: the phase's start
        assert float(row["time_to_target"]) == twin.units.parse_duration(row[FROM])
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["stations"][0]["servers"] == [{"from": "0w", "count": 1},
                                              {"from": "2w", "count": 2}]
    assert "      - {from: 2w, count: 2}     # the phase to tune" in \
        (out / "best.yaml").read_text()
    assert Path(report["best"]["file"]) == out / "best.yaml"
