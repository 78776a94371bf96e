"""Tests of the config layer: units, the v1 models, error messages, schema and reference docs."""

import json
import math
import os
import re
import statistics
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from twin.compile import flow
from twin.config import (
    Deterministic,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Plant,
    Station,
    Triangular,
    Uniform,
    config_reference_markdown,
    json_schema,
    load_plant,
    plant_from_dict,
)
from twin.errors import ConfigError, TwinError
from twin.units import DURATION_PATTERN, parse_duration, parse_power

REPO = Path(__file__).resolve().parents[1]

# The example of the config format (docs/config.md, "An example", without its comments); line
# numbers below refer to this text.
EXAMPLE = """\
name: example-line
horizon: 2000h
warmup: 200h
replications: 32
seed: 0
source:
  interarrival: {dist: exponential, mean: 1.25h}
stations:
  - id: assemble
    servers: 2
    process: {dist: lognormal, mean: 1.6h, cv: 0.3}
    buffer: 4
    failures: {mtbf: 200h, mttr: 2h}
  - id: test
    servers: 3
    process: {dist: triangular, low: 1h, mode: 2h, high: 4h}
    buffer: 2
    next: [{to: exit, p: 0.95}, {to: rework, p: 0.05}]
  - id: rework
    servers: 1
    process: {dist: exponential, mean: 30min}
    next: test
"""

HEADER = """\
name: flow
horizon: 100h
source:
  interarrival: 1h
stations:
"""


def write(tmp_path: Path, text: str, name: str = "plant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(tmp_path: Path, text: str) -> list[str]:
    """The problems `load_plant` reports for `text` saved as plant.yaml, with the folder cut."""
    with pytest.raises(ConfigError) as info:
        load_plant(write(tmp_path, text))
    return [problem.removeprefix(f"{tmp_path}{os.sep}") for problem in info.value.problems]


def edited(old: str, new: str) -> str:
    """The example with one piece of text replaced."""
    assert EXAMPLE.count(old) == 1, old
    return EXAMPLE.replace(old, new)


# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("30s", 30 / 3600),
        ("45min", 0.75),
        ("1.5h", 1.5),
        ("2d", 48.0),
        ("1w", 168.0),
        ("0h", 0.0),
        (".5h", 0.5),
        ("1e3s", 1000 / 3600),
        ("2 h", 2.0),
        (" 90min ", 1.5),
        ("10.08min", 10.08 / 60),
    ],
)
def test_parse_duration_converts_to_hours(text, hours):
    assert parse_duration(text) == hours


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("45", "'45' has no unit; write it as a duration such as '45min' or '1.5h'"),
        (45, "'45' has no unit; write it as a duration such as '45min' or '1.5h'"),
        (1.5, "'1.5' has no unit"),
        ("45mins", "'45mins' has an unknown unit 'mins'; did you mean 'min'?"),
        ("3 hours", "did you mean 'h'?"),
        ("2H", "did you mean 'h'?"),
        ("5 m", "did you mean 'min'?"),
        ("5 fortnights", "unknown unit 'fortnights'; use one of s, min, h, d, w"),
        ("-5min", "'-5min' is negative; a duration must be zero or more"),
        ("1e999h", "is too large"),
        ("soon", "'soon' is not a duration; write a number and a unit such as '45min' or '1.5h'"),
        ("", "is not a duration"),
        (True, "'true' is not a duration"),
        (None, "an empty value is not a duration"),
        ([1, 2], "is not a duration"),
    ],
)
def test_parse_duration_rejects_with_a_fix(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_duration(value)


@pytest.mark.parametrize(
    ("text", "kw"),
    [("500W", 0.5), ("6kW", 6.0), ("1.2MW", 1200.0), ("0kW", 0.0), ("132 kW", 132.0)],
)
def test_parse_power_converts_to_kilowatts(text, kw):
    assert parse_power(text) == pytest.approx(kw, rel=1e-15)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6", "'6' has no unit; write it as a power such as '500W' or '6kW'"),
        (6, "'6' has no unit"),
        ("6kw", "did you mean 'kW'?"),
        ("1mw", "did you mean 'MW'?"),
        ("1GW", "unknown unit 'GW'; use one of W, kW, MW"),
        ("-1kW", "is negative; a power must be zero or more"),
        ("lots", "'lots' is not a power"),
    ],
)
def test_parse_power_rejects_with_a_fix(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_power(value)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_hour_strings_round_trip_exactly(hours):
    assert parse_duration(f"{hours!r}h") == hours


@given(st.integers(min_value=0, max_value=10**6))
def test_whole_minutes_are_exact(minutes):
    assert parse_duration(f"{minutes}min") == minutes / 60


@pytest.mark.parametrize("text", ["30s", "45min", "1.5h", "2d", "1w", ".5h", "1e3s", "2 h"])
def test_duration_pattern_accepts_what_parses(text):
    assert re.search(DURATION_PATTERN, text)


@pytest.mark.parametrize("text", ["45", "45mins", "-5min", "h", "1.5 hours"])
def test_duration_pattern_rejects_what_does_not_parse(text):
    assert not re.search(DURATION_PATTERN, text)


# --------------------------------------------------------------------------------------------
# A valid plant
# --------------------------------------------------------------------------------------------


def test_example_loads_with_times_in_hours(tmp_path):
    plant = load_plant(write(tmp_path, EXAMPLE))
    assert (plant.name, plant.horizon, plant.warmup) == ("example-line", 2000.0, 200.0)
    assert (plant.replications, plant.seed) == (32, 0)
    assert plant.source.interarrival == Exponential(dist="exponential", mean="1.25h")
    assemble, test, rework = plant.stations
    assert (assemble.id, assemble.servers, assemble.buffer) == ("assemble", 2, 4)
    assert (assemble.failures.mtbf, assemble.failures.mttr) == (200.0, 2.0)
    assert isinstance(test.process, Triangular)
    assert (test.process.low, test.process.mode, test.process.high) == (1.0, 2.0, 4.0)
    assert rework.buffer is None and rework.failures is None
    assert rework.process.mean == 0.5


def test_shipped_configs_load():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        assert load_plant(path).stations, path


def test_defaults(tmp_path):
    plant = load_plant(write(tmp_path, HEADER + "  - id: a\n    process: 1h\n"))
    assert (plant.warmup, plant.replications, plant.seed) == (0.0, 32, 0)
    station = plant.stations[0]
    assert station.servers == 1
    assert station.buffer is None and station.failures is None and station.next is None


def test_plain_duration_means_deterministic(tmp_path):
    plant = load_plant(write(tmp_path, HEADER + "  - id: a\n    process: 45min\n"))
    assert plant.stations[0].process == Deterministic(dist="deterministic", value="45min")
    assert plant.stations[0].process.value == 0.75
    assert plant.source.interarrival.mean() == 1.0


def test_buffer_zero_and_null_are_allowed(tmp_path):
    text = HEADER + "  - id: a\n    process: 1h\n    buffer: 0\n  - id: b\n    process: 1h\n"
    text += "    buffer: null\n"
    assert [s.buffer for s in load_plant(write(tmp_path, text)).stations] == [0, None]


def test_python_side_construction_accepts_unit_strings():
    station = Station(id="a", process="45min", failures={"mtbf": "1w", "mttr": "90min"})
    assert station.process.mean() == 0.75
    assert (station.failures.mtbf, station.failures.mttr) == (168.0, 1.5)


def test_model_dump_round_trips(tmp_path):
    plant = load_plant(write(tmp_path, EXAMPLE))
    assert Plant.model_validate(plant.model_dump()) == plant
    assert Plant.model_validate(json.loads(plant.model_dump_json())) == plant
    assert plant.model_dump()["horizon"] == "2000.0h"


def test_plant_from_dict_matches_load_plant(tmp_path):
    assert plant_from_dict(yaml.safe_load(EXAMPLE)) == load_plant(write(tmp_path, EXAMPLE))


# --------------------------------------------------------------------------------------------
# Routing resolution
# --------------------------------------------------------------------------------------------


def test_routes_of_the_example(tmp_path):
    plant = load_plant(write(tmp_path, EXAMPLE))
    assert [plant.routes(j) for j in range(3)] == [
        [(1, 1.0)],  # no `next`: the next station in the list
        [(3, 0.95), (2, 0.05)],  # 3 == len(stations) is exit
        [(1, 1.0)],  # `next: test`
    ]


def test_routes_to_exit_explicitly_and_after_the_last_station(tmp_path):
    text = HEADER + (
        "  - id: a\n    process: 1h\n    next: [{to: b, p: 0.25}, {to: c, p: 0.75}]\n"
        "  - id: b\n    process: 1h\n    next: exit\n"
        "  - id: c\n    process: 1h\n"
    )
    plant = load_plant(write(tmp_path, text))
    assert [plant.routes(j) for j in range(3)] == [[(1, 0.25), (2, 0.75)], [(3, 1.0)], [(3, 1.0)]]


def test_zero_probability_branches_lead_nowhere(tmp_path):
    text = HEADER + "  - id: a\n    process: 1h\n    next: [{to: exit, p: 1}, {to: b, p: 0}]\n"
    text += "  - id: b\n    process: 1h\n"
    problems = problems_in(tmp_path, text)
    assert problems == [
        (
            "plant.yaml:9: stations[1]: no job can reach station 'b' (the source feeds 'a' and no "
            "route with p > 0 leads here); route jobs to it from another station's `next` or "
            "remove it"
        )
    ]


# --------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dist", "mean", "variance"),
    [
        (Exponential(dist="exponential", mean="2h"), 2.0, 4.0),
        (Deterministic(dist="deterministic", value="45min"), 0.75, 0.0),
        (Uniform(dist="uniform", low="1h", high="4h"), 2.5, 9 / 12),
        (
            Triangular(dist="triangular", low="1h", mode="2h", high="4h"),
            7 / 3,
            (1 + 4 + 16 - 2 - 4 - 8) / 18,
        ),
        (Lognormal(dist="lognormal", mean="2h", cv=0.5), 2.0, 1.0),
        (Gamma(dist="gamma", mean="3h", cv=0.2), 3.0, (3 * 0.2) ** 2),
        (Empirical(dist="empirical", values=["1h", "2h", "6h"]), 3.0, 14 / 3),
    ],
    ids=lambda value: getattr(value, "dist", ""),
)
def test_distribution_mean_and_variance(dist, mean, variance):
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert dist.variance() == pytest.approx(variance, rel=1e-12)


def test_empirical_variance_is_the_population_variance():
    values = [0.5, 1.25, 2.0, 2.0, 7.5]
    dist = Empirical(dist="empirical", values=[f"{v}h" for v in values])
    assert dist.variance() == pytest.approx(statistics.pvariance(values), rel=1e-12)


def test_triangular_variance_matches_numerical_integration():
    a, c, b = 1.0, 1.5, 4.0
    dist = Triangular(dist="triangular", low=f"{a}h", mode=f"{c}h", high=f"{b}h")
    n = 200_000
    xs = [a + (b - a) * (i + 0.5) / n for i in range(n)]
    density = [
        2 * (x - a) / ((b - a) * (c - a)) if x < c else 2 * (b - x) / ((b - a) * (b - c))
        for x in xs
    ]
    dx = (b - a) / n
    mean = sum(x * f for x, f in zip(xs, density, strict=True)) * dx
    second = sum(x * x * f for x, f in zip(xs, density, strict=True)) * dx
    assert dist.mean() == pytest.approx(mean, rel=1e-6)
    assert dist.variance() == pytest.approx(second - mean**2, rel=1e-5)


@pytest.mark.parametrize(
    "dist",
    [
        Exponential(dist="exponential", mean="2h"),
        Lognormal(dist="lognormal", mean="2h", cv=0.5),
        Gamma(dist="gamma", mean="2h", cv=0.5),
    ],
)
def test_mean_parameter_is_both_a_float_and_the_mean_method(dist):
    assert isinstance(dist.mean, float)
    assert dist.mean == 2.0 and dist.mean() == 2.0
    assert math.log(dist.mean) == math.log(2.0)


# --------------------------------------------------------------------------------------------
# One problem each: the message names the file, line, field path, what is wrong and the fix
# --------------------------------------------------------------------------------------------

# (text replaced in EXAMPLE, replacement, line, field path, part of the message after the path)
# fmt: off
FIELD_CASES = [
    ("mean: 1.6h", "mean: 45", 11, "stations[0].process.mean",
     "'45' has no unit; write it as a duration such as '45min' or '1.5h'"),
    ("horizon: 2000h", "horizon: 2000", 2, "horizon", "'2000' has no unit"),
    ("mttr: 2h", "mttr: 2 hours", 13, "stations[0].failures.mttr",
     "'2 hours' has an unknown unit 'hours'; did you mean 'h'?"),
    ("mean: 30min", "mean: -30min", 21, "stations[2].process.mean",
     "'-30min' is negative; a duration must be zero or more"),
    ("mean: 30min", "mean: 0min", 21, "stations[2].process.mean",
     "'0min' must be greater than zero; use a duration such as '1h'"),
    ("horizon: 2000h", "horizon: 0h", 2, "horizon", "'0h' must be greater than zero"),
    ("mtbf: 200h", "mtbf: 0s", 13, "stations[0].failures.mtbf", "must be greater than zero"),
    ("interarrival: {dist: exponential, mean: 1.25h}", "interarrival: 1.25", 7,
     "source.interarrival", "'1.25' has no unit"),
    ("servers: 2\n", "servres: 2\n", 10, "stations[0].servres",
     "unknown key; did you mean `servers`?"),
    ("buffer: 4", "bufer: 4", 12, "stations[0].bufer", "did you mean `buffer`?"),
    ("cv: 0.3", "cv: 0.3, sigma: 1", 11, "stations[0].process.sigma",
     "unknown key; remove it (allowed keys: dist, mean, cv)"),
    ("servers: 2\n", "servers: 0\n", 10, "stations[0].servers",
     "'0' is less than 1; use 1 or more"),
    ("servers: 2\n", "servers: 2.5\n", 10, "stations[0].servers",
     "'2.5' is not a whole number; write a plain integer without quotes, such as `servers: 2`"),
    ("servers: 2\n", "servers: '2'\n", 10, "stations[0].servers", "is not a whole number"),
    ("replications: 32", "replications: 0", 4, "replications", "use 1 or more"),
    ("seed: 0", "seed: -1", 5, "seed", "'-1' is negative; use 0 or more"),
    ("buffer: 4", "buffer: -1", 12, "stations[0].buffer", "'-1' is negative; use 0 or more"),
    ("cv: 0.3", "cv: 0", 11, "stations[0].process.cv",
     "'0' must be greater than zero; use a number above 0"),
    ("dist: lognormal, mean: 1.6h, cv: 0.3", "dist: gamma, mean: 1.6h, cv: -0.3", 11,
     "stations[0].process.cv", "must be greater than zero"),
    ("cv: 0.3", "cv: '0.3'", 11, "stations[0].process.cv",
     "'0.3' is not a number; write a plain number without quotes or units"),
    ("low: 1h, mode: 2h, high: 4h", "low: 4h, mode: 4h, high: 4h", 16, "stations[1].process",
     "needs low <= mode <= high with low < high, got low 4h, mode 4h, high 4h; reorder them"),
    ("mode: 2h", "mode: 5h", 16, "stations[1].process", "reorder them"),
    ("dist: triangular, low: 1h, mode: 2h, high: 4h", "dist: uniform, low: 4h, high: 1h", 16,
     "stations[1].process", "low (4h) must be less than high (1h); swap them or widen the range"),
    ("dist: triangular, low: 1h, mode: 2h, high: 4h", "dist: uniform, low: 1h, high: 1h", 16,
     "stations[1].process", "must be less than high"),
    ("dist: triangular, low: 1h, mode: 2h, high: 4h", "dist: empirical, values: []", 16,
     "stations[1].process.values", "is empty; list at least one entry"),
    ("dist: triangular, low: 1h, mode: 2h, high: 4h", "dist: empirical, values: [1h, -1h]", 16,
     "stations[1].process.values[1]", "'-1h' is negative"),
    ("dist: triangular, low: 1h, mode: 2h, high: 4h", "dist: empirical, values: [0h, 0s]", 16,
     "stations[1].process", "all values are zero"),
    ("dist: triangular,", "dist: triangle,", 16, "stations[1].process",
     "unknown distribution `triangle`; did you mean `triangular`?"),
    ("{dist: triangular, low: 1h, mode: 2h, high: 4h}", "{low: 1h, high: 4h}", 16,
     "stations[1].process", "no `dist` given; add `dist:` with one of exponential,"),
    ("process: {dist: exponential, mean: 30min}", "process: 30", 21, "stations[2].process",
     "'30' has no unit"),
    ("    process: {dist: exponential, mean: 30min}\n", "", 19, "stations[2].process",
     "missing; add `process:` (service time of one job: a distribution or a fixed duration)"),
    ("id: assemble", "id: Assemble", 9, "stations[0].id",
     "'Assemble' is not a valid id; use only lowercase letters, digits and underscores, such as"),
    ("name: example-line", "name: ''", 1, "name", "is empty"),
    ("name: example-line", "name: 7", 1, "name", "'7' is not text; put it in quotes"),
    ("failures: {mtbf: 200h, mttr: 2h}", "failures: 3", 13, "stations[0].failures",
     "'3' is not a mapping; write `key: value` lines (keys: mtbf, mttr)"),
    ("failures: {mtbf: 200h, mttr: 2h}", "failures: {mtbf: 200h}", 13,
     "stations[0].failures.mttr", "missing; add `mttr:`"),
    ("next: test", "next: 5", 22, "stations[2].next",
     "'5' is not a routing; write a station id, `exit`, or a list of"),
    ("next: test", "next: []", 22, "stations[2].next", "is empty"),
    ("p: 0.05", "p: 1.5", 18, "stations[1].next[1].p", "'1.5' is more than 1; use at most 1"),
    ("{to: rework, p: 0.05}", "{to: rework}", 18, "stations[1].next[1].p", "missing; add `p:`"),
    ("warmup: 200h", "warmup: 2000h", 3, "warmup",
     "2000h is not shorter than the horizon (2000h), so no time is left to measure"),
    ("next: test", "next: tset", 22, "stations[2].next",
     "unknown station 'tset'; did you mean 'test'?"),
    ("next: test", "next: exti", 22, "stations[2].next", "did you mean 'exit'?"),
    ("next: test", "next: nowhere", 22, "stations[2].next",
     "unknown station 'nowhere'; use one of: assemble, test, rework, exit"),
    ("to: rework", "to: rewrok", 18, "stations[1].next[1].to", "did you mean 'rework'?"),
    ("p: 0.05", "p: 0.5", 18, "stations[1].next",
     "probabilities sum to 1.45, not 1; adjust them to add up to 1"),
    ("{to: exit, p: 0.95}, {to: rework, p: 0.05}", "{to: exit, p: 0.5}, {to: exit, p: 0.5}", 18,
     "stations[1].next[1].to", "'exit' is listed twice; merge the two branches"),
    ("id: rework", "id: exit", 19, "stations[2].id",
     "'exit' is reserved for leaving the plant; give the station another id"),
    ("    servers: 3\n", "    servers: 3\n    servers: 4\n", 16, "stations[1].servers",
     "duplicate key 'servers' (first on line 15); keep only one"),
]
# fmt: on


@pytest.mark.parametrize(("old", "new", "line", "path", "message"), FIELD_CASES)
def test_one_problem_is_reported_with_line_path_and_fix(tmp_path, old, new, line, path, message):
    (problem,) = problems_in(tmp_path, edited(old, new))
    assert problem.startswith(f"plant.yaml:{line}: {path}: ")
    assert message in problem


def test_probabilities_within_tolerance_are_accepted(tmp_path):
    plant = load_plant(write(tmp_path, edited("p: 0.05", "p: 0.0500000001")))
    assert plant.routes(1)[1] == (2, 0.0500000001)


def test_probabilities_outside_tolerance_are_rejected(tmp_path):
    (problem,) = problems_in(tmp_path, edited("p: 0.05", "p: 0.05001"))
    assert "stations[1].next: probabilities sum to 1.00001, not 1" in problem


def test_duplicate_station_ids(tmp_path):
    text = HEADER + "  - id: a\n    process: 1h\n  - id: b\n    process: 1h\n"
    text += "  - id: a\n    process: 1h\n"
    assert problems_in(tmp_path, text) == [
        (
            "plant.yaml:10: stations[2].id: duplicate station id 'a' (also stations[0]); "
            "give each station its own id"
        )
    ]


def test_unreachable_station(tmp_path):
    text = HEADER + "  - id: a\n    process: 1h\n    next: exit\n  - id: orphan\n    process: 1h\n"
    assert problems_in(tmp_path, text) == [
        (
            "plant.yaml:9: stations[1]: no job can reach station 'orphan' (the source feeds 'a' "
            "and no route with p > 0 leads here); route jobs to it from another station's `next` "
            "or remove it"
        )
    ]


def test_stations_that_no_job_can_leave_are_named(tmp_path):
    text = HEADER + (
        "  - id: a\n    process: 1h\n    next: [{to: b, p: 0.5}, {to: exit, p: 0.5}]\n"
        "  - id: b\n    process: 1h\n    next: c\n"
        "  - id: c\n    process: 1h\n    next: [{to: b, p: 1}, {to: exit, p: 0}]\n"
    )
    assert problems_in(tmp_path, text) == [
        (
            "plant.yaml:9: stations[1]: jobs that reach station(s) 'b', 'c' can never exit (no "
            "route with p > 0 leads from them to `exit`); give one of them a `next` that leads to "
            "exit"
        )
    ]


def test_self_loop_without_exit_is_a_trap(tmp_path):
    text = HEADER + "  - id: a\n    process: 1h\n    next: a\n"
    (problem,) = problems_in(tmp_path, text)
    assert problem.startswith("plant.yaml:6: stations[0]: jobs that reach station(s) 'a' can never")


def test_rework_loop_with_an_exit_is_fine(tmp_path):
    text = HEADER + (
        "  - id: a\n    process: 1h\n    next: [{to: a, p: 0.2}, {to: exit, p: 0.8}]\n"
    )
    assert load_plant(write(tmp_path, text)).routes(0) == [(0, 0.2), (1, 0.8)]


# --------------------------------------------------------------------------------------------
# Whole files
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "houston.yaml"
    with pytest.raises(ConfigError) as info:
        load_plant(path)
    assert info.value.problems == [f"{path}: file not found; check the path"]


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory; give the path of a YAML file"):
        load_plant(tmp_path)


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "plant.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 9\); save it as UTF-8"):
        load_plant(path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("name: x\nhorizon: 10h\n  bad: indent\n", 3, "mapping values are not allowed here"),
        ("name: [unclosed\n", 2, "expected ',' or ']'"),
        ("name: x\n\tservers: 2\n", 2, "found character '\\t'"),
        ("name: x\n---\nname: y\n", 2, "expected a single document"),
    ],
)
def test_invalid_yaml_reports_the_line(tmp_path, text, line, message):
    (problem,) = problems_in(tmp_path, text)
    assert problem.startswith(f"plant.yaml:{line}: invalid YAML: ")
    assert message in problem
    assert problem.endswith(
        "fix the syntax there (indentation, quotes, brackets, one document per file)"
    )


@pytest.mark.parametrize("text", ["", "\n", "# just a comment\n"])
def test_empty_file(tmp_path, text):
    assert problems_in(tmp_path, text) == [
        (
            "plant.yaml: the file is empty; a plant config is a mapping with `name`, "
            "`horizon`, `source` and `stations`"
        )
    ]


@pytest.mark.parametrize(
    ("text", "where", "kind"), [("- a\n- b\n", ":1", "list"), ("42\n", "", "single value")]
)
def test_top_level_not_a_mapping(tmp_path, text, where, kind):
    assert problems_in(tmp_path, text) == [
        (
            f"plant.yaml{where}: the top level is a {kind}, not a mapping; write "
            "`key: value` lines such as `name:`, `horizon:`, `source:` and `stations:`"
        )
    ]


def test_missing_top_level_keys_have_no_line(tmp_path):
    problems = problems_in(tmp_path, "name: x\n")
    assert [p.split(": ", 2)[1] for p in problems] == ["horizon", "source", "stations"]
    assert problems[0] == (
        "plant.yaml: horizon: missing; add `horizon:` "
        "(length of each replication, warm-up included)"
    )


def test_every_problem_is_collected_in_file_order(tmp_path):
    text = """\
name: example-line
horizon: 2000
sourse:
  interarrival: {dist: exponential, mean: 1.25h}
stations:
  - id: assemble
    servres: 2
    process: {dist: lognormal, mean: 45, cv: 0}
    buffer: -1
  - id: test
    process: {dist: triangle, low: 1h, mode: 2h, high: 4h}
    next: [{to: exit, p: 0.95}, {to: rework, p: 1.5}]
"""
    problems = problems_in(tmp_path, text)
    located = [re.match(r"plant\.yaml(?::(\d+))?: (\S+):", p).groups() for p in problems]
    assert located == [
        (None, "source"),
        ("2", "horizon"),
        ("3", "sourse"),
        ("7", "stations[0].servres"),
        ("8", "stations[0].process.mean"),
        ("8", "stations[0].process.cv"),
        ("9", "stations[0].buffer"),
        ("11", "stations[1].process"),
        ("12", "stations[1].next[1].p"),
    ]


def test_anchors_and_merge_keys_work_and_errors_in_merged_keys_use_the_mapping_line(tmp_path):
    cell = "  - &cell\n    id: a\n    servers: 2\n    process: {dist: exponential, mean: 30min}\n"
    text = HEADER + cell + "  - <<: *cell\n    id: b\n"
    assert [s.servers for s in load_plant(write(tmp_path, text)).stations] == [2, 2]
    broken = HEADER + cell.replace("30min", "30") + "  - <<: *cell\n    id: b\n"
    problems = problems_in(tmp_path, broken)
    assert [problem.split(": ")[:2] for problem in problems] == [
        ["plant.yaml:9", "stations[0].process.mean"],
        ["plant.yaml:10", "stations[1].process.mean"],  # merged in: the line of the item
    ]


def test_plant_from_dict_names_the_source_without_lines():
    data = {
        "name": "x",
        "horizon": "10h",
        "source": {"interarrival": "1h"},
        "stations": [{"id": "a"}],
    }
    with pytest.raises(ConfigError) as info:
        plant_from_dict(data, source="scenario 3")
    assert info.value.problems == [
        (
            "scenario 3: stations[0].process: missing; add `process:` "
            "(service time of one job: a distribution or a fixed duration)"
        )
    ]


def test_plant_from_dict_rejects_a_non_mapping():
    with pytest.raises(ConfigError, match=r"^<dict>: the top level is a list, not a mapping"):
        plant_from_dict(["a"])


def test_config_error_joins_problems_and_is_a_twin_error():
    err = ConfigError(["a.yaml:1: x: bad", "a.yaml:2: y: worse"])
    assert isinstance(err, TwinError)
    assert err.problems == ["a.yaml:1: x: bad", "a.yaml:2: y: worse"]
    assert str(err) == "a.yaml:1: x: bad\na.yaml:2: y: worse"


# --------------------------------------------------------------------------------------------
# JSON Schema and the reference documentation
# --------------------------------------------------------------------------------------------

_JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def conforms(value, schema, root) -> bool:
    """Whether `value` satisfies `schema`, for the JSON Schema keywords the config schema uses."""
    if "$ref" in schema:
        return conforms(value, root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if "anyOf" in schema:
        return any(conforms(value, option, root) for option in schema["anyOf"])
    if "oneOf" in schema:
        return sum(conforms(value, option, root) for option in schema["oneOf"]) == 1
    kind = schema.get("type")
    if kind and (
        not isinstance(value, _JSON_TYPES[kind]) or (kind != "boolean" and isinstance(value, bool))
    ):
        return False
    checks = [
        ("const", lambda c: value == c),
        ("pattern", lambda p: re.search(p, value) is not None),
        ("minimum", lambda m: value >= m),
        ("exclusiveMinimum", lambda m: value > m),
        ("maximum", lambda m: value <= m),
        ("minLength", lambda m: len(value) >= m),
        ("minItems", lambda m: len(value) >= m),
        ("required", lambda keys: all(key in value for key in keys)),
    ]
    if not all(check(schema[key]) for key, check in checks if key in schema):
        return False
    if kind == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False and not set(value) <= set(properties):
            return False
        return all(
            conforms(item, properties[key], root)
            for key, item in value.items()
            if key in properties
        )
    if kind == "array":
        return all(conforms(item, schema["items"], root) for item in value)
    return True


def test_schema_is_json_and_accepts_the_example():
    schema = json.loads(json.dumps(json_schema()))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert conforms(yaml.safe_load(EXAMPLE), schema, schema)
    for path in sorted((REPO / "configs").glob("*.yaml")):
        assert conforms(yaml.safe_load(path.read_text()), schema, schema), path


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("mean: 1.6h", "mean: 45"),
        ("servers: 2\n", "servres: 2\n"),
        ("dist: triangular,", "dist: triangle,"),
        ("servers: 2\n", "servers: 0\n"),
        ("id: assemble", "id: Assemble"),
        ("p: 0.05", "p: 1.5"),
    ],
)
def test_schema_rejects_field_errors(old, new):
    schema = json_schema()
    assert not conforms(yaml.safe_load(edited(old, new)), schema, schema)


def test_schema_describes_durations_and_distributions():
    schema = json_schema()
    definitions = schema["$defs"]
    assert schema["properties"]["horizon"] == {
        "type": "string",
        "pattern": DURATION_PATTERN,
        "description": "Length of each replication, warm-up included.",
        "title": "Horizon",
    }
    process, by_product = definitions["Station"]["properties"]["process"]["oneOf"]
    assert by_product == {"$ref": "#/$defs/ProcessByProduct"}
    process = process["anyOf"]
    assert process[0]["pattern"] == DURATION_PATTERN
    assert set(process[1]["discriminator"]["mapping"]) == {
        "exponential",
        "deterministic",
        "uniform",
        "triangular",
        "lognormal",
        "gamma",
        "empirical",
    }
    assert len(process[1]["oneOf"]) == 7


def test_every_field_has_a_description():
    schema = json_schema()
    for name, definition in [("Plant", schema), *schema["$defs"].items()]:
        assert definition.get("description"), name
        for key, prop in definition["properties"].items():
            assert prop.get("description"), f"{name}.{key}"


def test_reference_section_of_the_docs_is_generated():
    doc = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- BEGIN GENERATED -->\n(.*)<!-- END GENERATED -->", doc, re.DOTALL)
    assert match, "docs/config.md lacks the generated-section markers"
    assert match.group(1).strip() == config_reference_markdown().strip(), (
        "docs/config.md is out of date: paste twin.config.config_reference_markdown() between "
        "the markers"
    )


def test_reference_tables_list_every_field():
    text = config_reference_markdown()
    for key in [
        "name",
        "horizon",
        "warmup",
        "interarrival",
        "servers",
        "buffer",
        "mtbf",
        "to",
        "cv",
        "values",
    ]:
        assert f"| `{key}` |" in text
    assert "| `servers` | integer >= 1 or list of [CountStep](#countstep) | `1` |" in text
    assert "| `warmup` | duration or `auto` | `0h` |" in text


# --------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------

POWERED = HEADER + """\
  - id: burn
    servers: 4
    process: 24h
    power:
      idle: 5kW
      busy: [{share: 0.04, power: 23kW}, {share: 0.96, power: 128kW}]
      waiting: 0
power:
  base_load: 100kW
  cooling: {cop: 4}
  cap: 400kW
  tariff:
    energy:
      weekday: [{hours: [0, 7], price: 0.05}, {hours: [7, 24], price: 0.09}]
    demand_charge: 10
"""


def test_power_loads_in_kilowatts_with_profiles_and_bands(tmp_path):
    plant = load_plant(write(tmp_path, POWERED))
    station = plant.stations[0].power
    assert station.steps() == [(0.04, 23.0), (0.96, 128.0)]
    assert station.standby() == 5.0 and station.most() == 128.0
    assert station.mean_busy() == pytest.approx(0.04 * 23 + 0.96 * 128)
    assert plant.power.cooling_factor() == 1.25 and plant.power.demand_interval == 0.25
    tariff = plant.power.tariff
    assert tariff.price_at(6.99) == 0.05 and tariff.price_at(7.0) == 0.09
    assert tariff.price_at(5 * 24 + 8) == 0.09  # Saturday: no weekend bands, as weekdays
    assert plant_from_dict(plant.model_dump()) == plant  # round trip, powers as kW strings


@pytest.mark.parametrize(("old", "new", "line", "path", "message"), [
    ("idle: 5kW", "idle: 5", 10, "stations[0].power.idle",
     "'5' has no unit; write it as a power such as '500W' or '6kW'"),
    ("share: 0.96", "share: 0.9", 9, "stations[0].power",
     "busy profile shares sum to 0.94, not 1; adjust them to add up to 1"),
    ("idle: 5kW", "idel: 5kW", 10, "stations[0].power.idel", "unknown key; did you mean `idle`?"),
    ("{hours: [7, 24]", "{hours: [8, 24]", 19, "power.tariff.energy.weekday",
     "the bands leave a gap at hour 7; make them cover 0 to 24 once"),
    ("{hours: [7, 24]", "{hours: [7, 25]", 19, "power.tariff.energy.weekday[1].hours",
     "[7, 25] is not a band of the day; write [start, end] with 0 <= start < end <= 24"),
    ("cap: 400kW", "cap: 400kW\n  demand_interval: 7min", 17, "power.demand_interval",
     "7min does not divide a day; use an interval such as 15min, 30min or 1h"),
    ("[0, 7], price: 0.05}, {hours: [7, 24]", "[0, 7.1], price: 0.05}, {hours: [7.1, 24]", 18,
     "power.tariff.energy",
     ("a price band starts or ends at hour 7.1, inside a 15min demand interval; move it to a "
     "multiple of the interval or shorten the interval")),
    ("cap: 400kW", "cap: 200kW", 16, "power.cap",
     ("200kW cannot start a job at station 'burn': the plant on standby (base load, every "
     "server's standby draw, cooling) already needs 125kW and one job there adds 153.75kW; "
     "raise the cap to at least 278.75kW")),
    ("cap: 400kW", "cap: 120kW", 16, "power.cap",
     ("120kW is below what the plant draws on standby (125kW: base load, every server's "
     "standby draw, cooling); raise the cap to more than that")),
    ("cop: 4", "cop: 0", 15, "power.cooling.cop", "'0' must be greater than zero"),
    ("demand_charge: 10", "demand_charge: -1", 20, "power.tariff.demand_charge",
     "'-1' is negative"),
])
def test_power_problems_name_line_field_and_fix(tmp_path, old, new, line, path, message):
    assert POWERED.count(old) == 1, old
    problems = problems_in(tmp_path, POWERED.replace(old, new))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"plant.yaml:{line}: {path}: {message}"), problems[0]


# --------------------------------------------------------------------------------------------
# Products, parts and assembly (docs/parts.md)
# --------------------------------------------------------------------------------------------

# Trays split at kitting, built by product, assembled into racks; line numbers refer to this.
RACKS = """\
name: racks
horizon: 1000h
products: {gb200: 0.6, gb300: 0.4}
source:
  interarrival: 1h
stations:
  - id: kitting
    servers: 4
    process: 10min
    split: {compute_tray: 18, switch_tray: 9}
    next: {by_part: {compute_tray: compute_build, switch_tray: switch_build}}
  - id: compute_build
    servers: 360
    process: {by_product: {gb200: {dist: lognormal, mean: 2h, cv: 0.2}, gb300: 2.2h}}
    failures: {by_product: {gb200: {mtbf: 100h, mttr: 1h}, gb300: {mtbf: 80h, mttr: 1h}}}
    power:
      idle: 1kW
      busy:
        by_product:
          gb200: 125kW
          gb300: [{share: 0.5, power: 130kW}, {share: 0.5, power: 140kW}]
    next: rack_integration
  - id: switch_build
    servers: 90
    process: 1.5h
    next: rack_integration
  - id: rack_integration
    servers: 30
    assemble: {compute_tray: 18, switch_tray: 9}
    match: order
    into: rack
    buffer: {compute_tray: 54, switch_tray: 27}
    process: 4h
    next: {by_product: {gb200: exit, gb300: [{to: exit, p: 0.9}, {to: fix, p: 0.1}]}}
  - id: fix
    process: 1h
    next: exit
"""


def racks(old: str = "", new: str = "") -> str:
    """RACKS with one piece of text replaced."""
    assert RACKS.count(old) == 1 or not old, old
    return RACKS.replace(old, new, 1) if old else RACKS


def test_racks_load_with_kinds_products_and_weights(tmp_path):
    plant = load_plant(write(tmp_path, RACKS))
    assert plant.kinds() == ["order", "compute_tray", "switch_tray", "rack"]
    assert (plant.product_ids(), plant.product_shares()) == (["gb200", "gb300"], [0.6, 0.4])
    assert plant.reaching() == [{"order"}, {"compute_tray"}, {"switch_tray"},
                                {"compute_tray", "switch_tray"}, {"rack"}]
    weights = plant.kind_weights()
    assert list(weights) == plant.kinds()
    assert weights == pytest.approx({"order": 1, "compute_tray": 1 / 27, "switch_tray": 1 / 27,
                                     "rack": 1})
    assert Plant.model_validate(plant.model_dump()) == plant
    assert plant_from_dict(yaml.safe_load(RACKS)) == plant


def test_routes_by_part_and_by_product(tmp_path):
    plant = load_plant(write(tmp_path, RACKS))
    assert plant.routes(0, "compute_tray") == [(1, 1.0)]
    assert plant.routes(0, "switch_tray", "gb300") == [(2, 1.0)]
    assert plant.routes(0) == []  # no entry for `order`: kitting sends only parts
    assert plant.routes(1, "compute_tray", "gb300") == plant.routes(1) == [(3, 1.0)]
    assert plant.routes(3, "rack", "gb300") == [(5, 0.9), (4, 0.1)]
    assert plant.routes(3, "rack", "gb200") == plant.routes(3) == [(5, 1.0)]  # first product
    assert [plant.successors(j) for j in range(5)] == [{1, 2}, {3}, {3}, {4, 5}, {5}]


def test_station_values_resolve_by_product_and_kind(tmp_path):
    kitting, build, _, rack, fix = load_plant(write(tmp_path, RACKS)).stations
    assert build.process_for("gb200") == Lognormal(dist="lognormal", mean="2h", cv=0.2)
    assert build.process_for("gb300").mean() == 2.2
    assert fix.process_for("gb300") is fix.process  # one time for every product
    assert (build.failures_for("gb300").mtbf, fix.failures_for("gb200")) == (80.0, None)
    gb300 = build.power_for("gb300")
    assert gb300.steps() == [(0.5, 130.0), (0.5, 140.0)] and gb300.mean_busy() == 135.0
    assert build.power_for("gb200").steps() == [(1.0, 125.0)]
    assert gb300.standby() == 1.0 and build.power.most() == 140.0
    with pytest.raises(ValueError, match="resolve it with Station.power_for"):
        build.power.steps()
    with pytest.raises(KeyError, match="no value for product 'gb400'"):
        build.process_for("gb400")
    assert (rack.is_assembly, rack.into_kind, rack.match_rule) == (True, "rack", "order")
    assert (kitting.is_assembly, kitting.into_kind) == (False, "order")
    assert rack.places_for("compute_tray") == 54 and rack.places_for("cable") is None
    assert kitting.places_for("order") is None
    assert kitting.emits("order") == [("compute_tray", 18), ("switch_tray", 9)]
    assert rack.emits("switch_tray") == [("rack", 1)] and rack.emits("order") == []
    assert build.emits("compute_tray") == [("compute_tray", 1)]


def test_a_plain_plant_has_one_product_and_one_kind(tmp_path):
    plant = load_plant(write(tmp_path, EXAMPLE))
    assert (plant.products, plant.product_ids(), plant.product_shares()) == (None, ["all"], [1.0])
    assert plant.kinds() == ["order"] and plant.kind_weights() == {"order": 1.0}
    assert plant.reaching() == [{"order"}] * 3
    assert plant.routes(1, "order", "all") == plant.routes(1)
    assert plant.stations[0].places_for("order") == 4
    assert plant.stations[0].process_for("all") is plant.stations[0].process


def test_an_assembly_into_order_and_a_number_of_places_for_every_kind(tmp_path):
    plant = load_plant(write(tmp_path, racks("into: rack", "into: order").replace(
        "buffer: {compute_tray: 54, switch_tray: 27}", "buffer: 18")))
    rack = plant.stations[3]
    assert rack.into_kind == "order" and rack.places_for("switch_tray") == 18
    assert plant.kinds() == ["order", "compute_tray", "switch_tray"]
    assert plant.kind_weights()["order"] == 1.0  # 18/27 + 9/27 of an order: the same worth
    assert plant.reaching()[4] == {"order"}


# (text replaced in RACKS, replacement, line, field path, part of the message after the path)
# fmt: off
PARTS_CASES = [
    ("gb300: 0.4}", "gb300: 0.3}", 3, "products",
     "shares sum to 0.9, not 1; adjust them to add up to 1"),
    ("products: {gb200: 0.6, gb300: 0.4}", "products: {}", 3, "products",
     "is empty; list each product with its share, such as `{a: 0.6, b: 0.4}`, or remove"),
    ("gb200: 0.6,", "GB200: 0.6,", 3, "products.GB200",
     "'GB200' is not a valid id; use only lowercase letters, digits and underscores, such as "
     "'gb200'"),
    ("gb300: 0.4}", "gb300: 0}", 3, "products.gb300", "'0' must be greater than zero"),
    ("gb300: 2.2h}", "gb300: 2.2h, gb400: 1h}", 14, "stations[1].process.by_product.gb400",
     "unknown product 'gb400'; did you mean 'gb300'?"),
    ("gb200: exit, ", "", 34, "stations[3].next.by_product",
     "has no entry for product 'gb200'; add one: `by_product` names every product"),
    ("split: {compute_tray: 18, switch_tray: 9}", "split: {}", 10, "stations[0].split",
     "is empty, so it names no parts; list each part kind with its count, such as `{tray: 2}`, "
     "or remove it"),
    ("split: {compute_tray: 18", "split: {compute_tray: 0", 10, "stations[0].split.compute_tray",
     "'0' is less than 1; use 1 or more"),
    ("split: {compute_tray: 18", "split: {order: 18", 10, "stations[0].split.order",
     "'order' is the kind the source releases, not a part; name the part otherwise, such as "
     "'order_part'"),
    ("assemble: {compute_tray: 18, switch_tray: 9}", "assemble: {}", 29, "stations[3].assemble",
     "is empty, so it names no parts"),
    ("switch_tray: 9}\n    match", "switch_tray: 9, cable: 2}\n    match", 29,
     "stations[3].assemble.cable",
     "no station makes 'cable': add it to a split or make it an assembly's `into`, or remove it "
     "here"),
    ("switch_tray: switch_build}}", "switch_tray: switch_build, swich_tray: exit}}", 11,
     "stations[0].next.by_part.swich_tray",
     "no station makes 'swich_tray' (did you mean 'switch_tray'?): add it to a split"),
    ("compute_tray: compute_build,", "compute_tray: compute_bild,", 11,
     "stations[0].next.by_part.compute_tray",
     "unknown station 'compute_bild'; did you mean 'compute_build'?"),
    ("process: 1h\n    next: exit", "process: 1h\n    next: {by_part: {order: exit}}", 37,
     "stations[4].next.by_part",
     "jobs of kind 'rack' leave station 'fix' but `by_part` has no entry for them; add "
     "`rack: <station or exit>`"),
    ("    servers: 90\n", "    servers: 90\n    match: any\n", 25, "stations[2].match",
     "`match` applies only to an assembly; add `assemble` to this station or remove `match`"),
    ("    servers: 90\n", "    servers: 90\n    into: unit\n", 25, "stations[2].into",
     "`into` applies only to an assembly; add `assemble` to this station or remove `into`"),
    ("    servers: 90\n", "    servers: 90\n    buffer: {switch_tray: 3}\n", 25,
     "stations[2].buffer",
     "places per kind apply only to an assembly; give one number of places (or null), or add "
     "`assemble`"),
    ("{compute_tray: 54, switch_tray: 27}", "{compute_tray: 54, swich_tray: 27}", 32,
     "stations[3].buffer.swich_tray",
     "'swich_tray' is not a kind this station assembles; did you mean 'switch_tray'?"),
    ("    servers: 4\n", "    servers: 4\n    assemble: {compute_tray: 1}\n", 11,
     "stations[0].split",
     "a station cannot both split and assemble; split at one station and assemble at another"),
    ("process: 1h\n    next: exit", "process: 1h\n    next: rack_integration", 29,
     "stations[3].assemble",
     "'rack' reaches 'rack_integration', whose `assemble` does not take it; add it to "
     "`assemble` or route it elsewhere"),
    ("next: rack_integration\n  - id: switch_build", "next: exit\n  - id: switch_build", 29,
     "stations[3].assemble.compute_tray",
     "'compute_tray' never reaches 'rack_integration', so no set can complete; route it here or "
     "remove it from `assemble`"),
    ("{compute_tray: 54,", "{compute_tray: 10,", 32, "stations[3].buffer.compute_tray",
     "10 places for 'compute_tray' cannot hold the 18 a set needs, so no set can complete; raise "
     "them to at least 18"),
    ("buffer: {compute_tray: 54, switch_tray: 27}", "buffer: 12", 32, "stations[3].buffer",
     "12 places for 'compute_tray' cannot hold the 18 a set needs"),
    ("assemble: {compute_tray: 18, switch_tray: 9}\n    match: order\n    into: rack",
     "assemble: {compute_tray: 9, switch_tray: 9}\n    match: order\n    into: order", 31,
     "stations[3].into",
     "'order' is worth 2/3 of an order here but 1 where it is also made (the source); a kind "
     "must be worth the same share everywhere: give these parts another kind name"),
    ("match: order", "match: first", 30, "stations[3].match",
     "'first' is not allowed here; use 'order' or 'any'"),
    ("p: 0.1}", "p: 0.2}", 34, "stations[3].next.by_product.gb300",
     "probabilities sum to 1.1, not 1; adjust them to add up to 1"),
    ("gb200: {mtbf: 100h, mttr: 1h}", "gb200: {mtbf: 100h}", 15,
     "stations[1].failures.by_product.gb200.mttr", "missing; add `mttr:` (mean time to repair"),
    ("failures: {by_product:", "failures: {mtbf: 1h, by_product:", 15,
     "stations[1].failures.mtbf", "unknown key; remove it (allowed keys: by_product)"),
    ("gb200: 125kW", "gb200: 125", 20, "stations[1].power.busy.by_product.gb200",
     "'125' has no unit; write it as a power such as '500W' or '6kW'"),
    ("{share: 0.5, power: 140kW}", "{share: 0.4, power: 140kW}", 16, "stations[1].power",
     "busy profile shares sum to 0.9, not 1; adjust them to add up to 1"),
    ("{by_product: {gb200: {dist: lognormal", "{by_product: {gb200: {dist: lognorm", 14,
     "stations[1].process.by_product.gb200",
     "unknown distribution `lognorm`; did you mean `lognormal`?"),
    ("process: 1h\n    next: exit", "process: 1h\n    next: fix", 35, "stations[4]",
     "jobs that reach station(s) 'fix' can never exit"),
]
# fmt: on


@pytest.mark.parametrize(("old", "new", "line", "path", "message"), PARTS_CASES)
def test_parts_problems_name_line_field_and_fix(tmp_path, old, new, line, path, message):
    (problem,) = problems_in(tmp_path, racks(old, new))
    assert problem.startswith(f"plant.yaml:{line}: {path}: "), problem
    assert message in problem, problem


def test_by_product_needs_products(tmp_path):
    problems = problems_in(tmp_path, racks("products: {gb200: 0.6, gb300: 0.4}\n", ""))
    fix = ("`by_product` needs the plant's `products`; declare `products: {id: share, ...}` at "
           "the top level, or give one value for every job")
    assert problems == [f"plant.yaml:{line}: {path}: {fix}" for line, path in [
        (13, "stations[1].process"), (14, "stations[1].failures"), (17, "stations[1].power.busy"),
        (33, "stations[3].next")]]


def test_a_fleet_serves_every_station_a_split_routes_parts_to(tmp_path):
    data = yaml.safe_load(RACKS)
    data["stations"][0] |= {"transport": "agv", "position": [5, 5]}
    data["stations"][1]["position"] = [15, 5]
    data["layout"] = {"floor": [40, 20], "aisles": [[[0, 1], [40, 1]]]}
    data["transport"] = [{"id": "agv", "kind": "agv", "count": 1, "speed": 1.0}]
    with pytest.raises(ConfigError) as info:
        plant_from_dict(data)
    (problem,) = info.value.problems  # switch_build gets switch trays by the fleet, by part
    assert problem.startswith("<dict>: stations[2]: station 'switch_build' is served by fleet "
                              "'agv' (it brings jobs from 'kitting') but has no place")


def test_racks_conform_to_the_schema():
    schema = json_schema()
    assert conforms(yaml.safe_load(RACKS), schema, schema)


# --------------------------------------------------------------------------------------------
# Traffic equations (twin.compile.flow) over kinds and products
# --------------------------------------------------------------------------------------------


def test_jobs_served_count_parts_and_sets(tmp_path):
    plant = load_plant(write(tmp_path, RACKS))
    assert flow.visit_ratios(plant) == pytest.approx([1, 18, 9, 1, 0.4 * 0.1])
    served = flow.served_by_product(plant)
    assert served[1] == pytest.approx([0.6 * 18, 0.4 * 18])
    assert flow.job_arrivals(plant).shape == (5, 4, 2)
    assert flow.job_arrivals(plant)[3, :, 0] == pytest.approx([0, 0.6 * 18, 0.6 * 9, 0])


def test_offered_loads_weigh_each_product_by_its_share(tmp_path):
    plant = load_plant(write(tmp_path, RACKS))
    build = 0.6 * 2 * (1 + 1 / 100) + 0.4 * 2.2 * (1 + 1 / 80)  # hours per tray, failures in
    loads = flow.offered_loads(plant)
    assert loads == pytest.approx([1 / 6 / 4, 18 * build / 360, 9 * 1.5 / 90, 4 / 30, 0.04])
    assert flow.service_means(plant) == pytest.approx([1 / 6, build, 1.5, 4, 1])
    assert flow.effective_process_mean(plant.stations[1], "gb300") == pytest.approx(2.2 * 81 / 80)
    with pytest.raises(KeyError):  # times by product need the product
        flow.effective_process_mean(plant.stations[1])
    assert flow.certain_overload(plant) is None
    crowded = load_plant(write(tmp_path, racks("servers: 360", "servers: 30")))
    station, load = flow.certain_overload(crowded)
    assert (station, load) == (1, pytest.approx(18 * build / 30))


def test_exits_count_the_jobs_that_leave(tmp_path):
    plant = load_plant(write(tmp_path, RACKS))
    assert flow.exits_per_order(plant) == pytest.approx(1.0)  # racks, one per order
    assert flow.expected_exits(plant, 100) == int(1.2 * 1.0 * 100) + 64
    text = HEADER + "  - id: cut\n    process: 1h\n    split: {piece: 3}\n    next: exit\n"
    pieces = load_plant(write(tmp_path, text))
    assert flow.visit_ratios(pieces) == pytest.approx([1])
    assert flow.exits_per_order(pieces) == pytest.approx(3.0)
    assert flow.expected_exits(pieces, 100) == int(1.2 * 1.0 * 3.0 * 100) + 64


def test_an_assembly_serves_as_many_sets_as_its_scarcest_kind_allows(tmp_path):
    text = HEADER + (
        "  - id: cut\n    process: 1h\n    split: {a: 2, b: 1}\n"
        "    next: {by_part: {a: qa, b: join}}\n"
        "  - id: qa\n    process: 1h\n    next: [{to: exit, p: 0.5}, {to: join, p: 0.5}]\n"
        "  - id: join\n    process: 1h\n    assemble: {b: 1, a: 2}\n    match: any\n"
    )
    plant = load_plant(write(tmp_path, text))
    # b alone would allow one set per order; half the a parts are scrapped, so a allows half
    assert flow.visit_ratios(plant) == pytest.approx([1, 2, 0.5])
    assert flow.exits_per_order(plant) == pytest.approx(1 + 0.5)  # scrapped parts and units


def test_plain_plants_keep_their_traffic_equations(tmp_path):
    plant = load_plant(write(tmp_path, EXAMPLE))
    assert flow.visit_ratios(plant) == pytest.approx([1, 1 / 0.95, 0.05 / 0.95])
    assert flow.exits_per_order(plant) == pytest.approx(1.0)
    assert flow.expected_exits(plant, 1000) == 1024
