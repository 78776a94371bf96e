"""Plant configuration: the v1 YAML contract (see docs/config.md) as pydantic models.

Entry points
------------
load_plant(path) -> Plant
    Read a YAML file, validate it, raise `ConfigError` listing every problem found, each with
    the file, line, field path and a fix.
plant_from_dict(data, source) -> Plant
    The same validation for an already-parsed mapping (no line numbers).
json_schema() -> dict
    JSON Schema of the YAML file, for editors.
config_reference_markdown() -> str
    The field reference of docs/config.md, generated from the schema so the doc cannot drift.

Units are resolved here and nowhere else: every time field is stored in hours (float), parsed
from strings such as ``'45min'``. Dumping a model writes times back as exact hour strings
(``'0.75h'``), so ``Plant.model_validate(plant.model_dump())`` reproduces the plant.
"""

import difflib
import os
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from twin.errors import ConfigError, quote_value
from twin.units import DURATION_PATTERN, parse_duration

__all__ = [
    "ConfigError",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Failures",
    "Gamma",
    "Lognormal",
    "Plant",
    "Route",
    "Source",
    "Station",
    "Triangular",
    "Uniform",
    "config_reference_markdown",
    "json_schema",
    "load_plant",
    "plant_from_dict",
]

EXIT = "exit"
"""Routing target meaning "leave the plant"; reserved, so no station may use it as its id."""

PROBABILITY_TOLERANCE = 1e-6
"""How far the probabilities of a routing list may sum from 1."""

# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------

_DURATION_SCHEMA = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": "A number and a unit: s, min, h, d or w, such as '45min' or '1.5h'.",
}


def _hours_text(hours: float) -> str:
    """Write hours as a duration string that parses back to exactly the same float."""
    return f"{hours!r}h"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(_hours_text, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
"""A time read from a string with a unit and stored in hours."""


class MeanHours(float):
    """The `mean` parameter of a distribution, in hours, which is also that distribution's mean.

    Every distribution has a ``mean()`` method, and exponential, lognormal and gamma are
    parametrised by their mean, so for them ``dist.mean`` (the parameter) and ``dist.mean()``
    (the method) must both work: the parameter is a float that returns itself when called.
    """

    __slots__ = ()

    def __call__(self) -> float:
        return float(self)


MeanDuration = Annotated[Duration, AfterValidator(MeanHours)]


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class _ConfigModel(BaseModel):
    """Base of every config model: unknown keys are errors and no type is silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Exponential(_ConfigModel):
    """Exponentially distributed times (memoryless), given their mean."""

    dist: Literal["exponential"] = Field(description="Selects this distribution.")
    mean: MeanDuration = Field(gt=0, description="Mean time; positive.")

    def variance(self) -> float:
        """Variance in hours squared: mean^2."""
        return self.mean**2


class Deterministic(_ConfigModel):
    """A fixed time. A plain duration such as `45min` is shorthand for this."""

    dist: Literal["deterministic"] = Field(description="Selects this distribution.")
    value: Duration = Field(gt=0, description="The time every job takes; positive.")

    def mean(self) -> float:
        """Mean in hours: the value."""
        return self.value

    def variance(self) -> float:
        """Variance in hours squared: 0."""
        return 0.0


class Uniform(_ConfigModel):
    """Times spread evenly between `low` and `high`."""

    dist: Literal["uniform"] = Field(description="Selects this distribution.")
    low: Duration = Field(description="Shortest time; zero or more.")
    high: Duration = Field(description="Longest time; more than `low`.")

    @model_validator(mode="after")
    def _check_range(self) -> "Uniform":
        if not self.low < self.high:
            raise ValueError(
                f"low ({self.low:g}h) must be less than high ({self.high:g}h); "
                "swap them or widen the range"
            )
        return self

    def mean(self) -> float:
        """Mean in hours: (low + high) / 2."""
        return (self.low + self.high) / 2

    def variance(self) -> float:
        """Variance in hours squared: (high - low)^2 / 12."""
        return (self.high - self.low) ** 2 / 12


class Triangular(_ConfigModel):
    """Times between `low` and `high`, most often near `mode`."""

    dist: Literal["triangular"] = Field(description="Selects this distribution.")
    low: Duration = Field(description="Shortest time; zero or more.")
    mode: Duration = Field(description="Most likely time; between `low` and `high`.")
    high: Duration = Field(description="Longest time; more than `low`.")

    @model_validator(mode="after")
    def _check_order(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"needs low <= mode <= high with low < high, got low {self.low:g}h, "
                f"mode {self.mode:g}h, high {self.high:g}h; reorder them"
            )
        return self

    def mean(self) -> float:
        """Mean in hours: (low + mode + high) / 3."""
        return (self.low + self.mode + self.high) / 3

    def variance(self) -> float:
        """Variance in hours squared: (a^2 + b^2 + c^2 - ab - ac - bc) / 18."""
        a, b, c = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


class _MeanCv(_ConfigModel):
    """Times given by their mean and coefficient of variation (lognormal, gamma)."""

    dist: str  # narrowed to one name by each subclass; declared here to come first
    mean: MeanDuration = Field(gt=0, description="Mean time; positive.")
    cv: float = Field(
        gt=0, description="Coefficient of variation (standard deviation / mean); positive."
    )

    def variance(self) -> float:
        """Variance in hours squared: (mean * cv)^2."""
        return (self.mean * self.cv) ** 2


class Lognormal(_MeanCv):
    """Log-normally distributed times, given their mean and coefficient of variation."""

    dist: Literal["lognormal"] = Field(description="Selects this distribution.")


class Gamma(_MeanCv):
    """Gamma-distributed times, given their mean and coefficient of variation."""

    dist: Literal["gamma"] = Field(description="Selects this distribution.")


class Empirical(_ConfigModel):
    """Times drawn from a list of observed values, each equally likely."""

    dist: Literal["empirical"] = Field(description="Selects this distribution.")
    values: list[Duration] = Field(
        min_length=1, description="Observed times; at least one, none negative, not all zero."
    )

    @model_validator(mode="after")
    def _check_not_all_zero(self) -> "Empirical":
        if not any(self.values):
            raise ValueError("all values are zero; list the times jobs really take")
        return self

    def mean(self) -> float:
        """Mean in hours: the average of the values."""
        return statistics.fmean(self.values)

    def variance(self) -> float:
        """Variance in hours squared: the population variance of the values."""
        return statistics.pvariance(self.values)


_DISTRIBUTIONS = (Exponential, Deterministic, Uniform, Triangular, Lognormal, Gamma, Empirical)
_DIST_NAMES = tuple(get_args(model.model_fields["dist"].annotation)[0] for model in _DISTRIBUTIONS)

Distribution = Annotated[
    Exponential | Deterministic | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
"""Any time distribution, chosen by its `dist` key; all times in hours."""


def _deterministic_shorthand(value: Any) -> Any:
    """Read `process: 45min` (anything but a mapping or a model) as a deterministic time."""
    if isinstance(value, (dict, BaseModel)):
        return value
    return {"dist": "deterministic", "value": value}


TimeDistribution = Annotated[
    Distribution,
    BeforeValidator(
        _deterministic_shorthand,
        json_schema_input_type=Annotated[str, WithJsonSchema(_DURATION_SCHEMA)] | Distribution,
    ),
]


class Source(_ConfigModel):
    """Where jobs come from: one job after each interarrival time, into the first station."""

    interarrival: TimeDistribution = Field(
        description="Time between jobs: a distribution or a fixed duration."
    )


class Failures(_ConfigModel):
    """Operation-dependent breakdowns of each server of a station."""

    mtbf: Duration = Field(
        gt=0, description="Mean processing time between failures (exponential); positive."
    )
    mttr: Duration = Field(gt=0, description="Mean time to repair (exponential); positive.")


class Route(_ConfigModel):
    """One branch of a probabilistic routing."""

    to: str = Field(description="Station id, or `exit` to leave the plant.")
    p: float = Field(ge=0, le=1, description="Probability of this branch; the list sums to 1.")


def _routing_kind(value: Any) -> str | None:
    """Tell a single target from a list of branches, so each form gets its own errors."""
    if isinstance(value, str):
        return "target"
    if isinstance(value, list):
        return "branches"
    return None


Next = Annotated[
    Annotated[str, Tag("target")] | Annotated[list[Route], Tag("branches"), Field(min_length=1)],
    Discriminator(
        _routing_kind, custom_error_type="routing_type", custom_error_message="bad routing"
    ),
]

_UNION_TAGS = frozenset(_DIST_NAMES) | {"target", "branches"}


class Station(_ConfigModel):
    """A station: parallel identical servers fed by one first-in first-out buffer."""

    id: str = Field(
        pattern=r"^[a-z0-9_]+$",
        description="Unique name: lowercase letters, digits, underscores; not `exit`.",
    )
    servers: int = Field(1, ge=1, description="Number of identical parallel servers.")
    process: TimeDistribution = Field(
        description="Service time of one job: a distribution or a fixed duration."
    )
    buffer: int | None = Field(
        None,
        ge=0,
        description="Waiting places in front of the servers; `null` or absent means unlimited.",
    )
    failures: Failures | None = Field(None, description="Server breakdowns; absent means none.")
    next: Next | None = Field(
        None,
        description=(
            "Where finished jobs go: a station id, `exit`, or a list of `{to, p}` branches. "
            "Absent: the next station in the list, or `exit` after the last."
        ),
    )

    @field_validator("id")
    @classmethod
    def _id_is_not_exit(cls, value: str) -> str:
        if value == EXIT:
            raise ValueError(
                "'exit' is reserved for leaving the plant; give the station another id"
            )
        return value


class Plant(_ConfigModel):
    """A whole plant: the top level of the config file."""

    name: str = Field(min_length=1, description="Name of the plant, shown in reports.")
    horizon: Duration = Field(gt=0, description="Length of each replication, warm-up included.")
    warmup: Duration = Field(
        "0h",
        validate_default=True,
        description="Statistics cover [warmup, horizon]; shorter than the horizon.",
    )
    replications: int = Field(32, ge=1, description="Independent replications to run.")
    seed: int = Field(0, ge=0, description="Seed of the random streams.")
    source: Source = Field(description="Arrivals of jobs into the first station.")
    stations: list[Station] = Field(
        min_length=1, description="The stations; the source feeds the first one."
    )

    @model_validator(mode="after")
    def _check_plant(self) -> "Plant":
        structure = _station_id_problems(self) + _routing_problems(self)
        flow = [] if structure else _flow_problems(self)  # flow needs every target resolved
        problems = _warmup_problems(self) + structure + flow
        if problems:
            raise ValidationError.from_exception_data(
                "Plant",
                [_line_error(loc, message) for loc, message in problems],
            )
        return self

    def routes(self, j: int) -> list[tuple[int, float]]:
        """Resolved routing of station `j`.

        Returns
        -------
        list of (target, probability)
            `target` is a station index in ``0..J-1``, or ``J == len(stations)`` for exit.
        """
        station = self.stations[j]
        if station.next is None:
            return [(j + 1, 1.0)]
        index = {s.id: i for i, s in enumerate(self.stations)}
        index[EXIT] = len(self.stations)
        if isinstance(station.next, str):
            return [(index[station.next], 1.0)]
        return [(index[route.to], route.p) for route in station.next]


_MODEL_AT_LOC_NAME: dict[str, type[BaseModel]] = {
    "source": Source,
    "stations": Station,
    "failures": Failures,
    "branches": Route,
    **dict(zip(_DIST_NAMES, _DISTRIBUTIONS)),
}
"""Which model a pydantic error location is inside, by the last name in the location."""


# --------------------------------------------------------------------------------------------
# Whole-plant checks (run once every field is valid)
# --------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _line_error(loc: Loc, message: str) -> InitErrorDetails:
    """A pydantic error at `loc` whose message is exactly `message`."""
    error_type = PydanticCustomError("plant", "{message}", {"message": message})
    return InitErrorDetails(type=error_type, loc=loc, input=None)


def _warmup_problems(plant: Plant) -> list[Problem]:
    if plant.warmup < plant.horizon:
        return []
    message = (
        f"{plant.warmup:g}h is not shorter than the horizon ({plant.horizon:g}h), so no time is "
        "left to measure; shorten the warm-up or lengthen the horizon"
    )
    return [(("warmup",), message)]


def _station_id_problems(plant: Plant) -> list[Problem]:
    first_index: dict[str, int] = {}
    problems = []
    for k, station in enumerate(plant.stations):
        first = first_index.setdefault(station.id, k)
        if first != k:
            message = (
                f"duplicate station id '{station.id}' (also stations[{first}]); "
                "give each station its own id"
            )
            problems.append((("stations", k, "id"), message))
    return problems


def _routing_problems(plant: Plant) -> list[Problem]:
    ids = [station.id for station in plant.stations]
    problems = []
    for k, station in enumerate(plant.stations):
        here = ("stations", k, "next")
        if isinstance(station.next, str):
            problems += _target_problems(here, station.next, ids)
        elif isinstance(station.next, list):
            problems += _branch_problems(here, station.next, ids)
    return problems


def _target_problems(loc: Loc, target: str, ids: list[str]) -> list[Problem]:
    if target == EXIT or target in ids:
        return []
    known = [*dict.fromkeys(ids), EXIT]
    close = difflib.get_close_matches(target, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(known)}"
    return [(loc, f"unknown station '{target}'; {hint}")]


def _branch_problems(loc: Loc, branches: list[Route], ids: list[str]) -> list[Problem]:
    problems = []
    seen = set()
    for i, route in enumerate(branches):
        problems += _target_problems((*loc, i, "to"), route.to, ids)
        if route.to in seen:
            message = f"'{route.to}' is listed twice; merge the two branches"
            problems.append(((*loc, i, "to"), message))
        seen.add(route.to)
    total = sum(route.p for route in branches)
    if abs(total - 1) > PROBABILITY_TOLERANCE:
        problems.append((loc, f"probabilities sum to {total:g}, not 1; adjust them to add up to 1"))
    return problems


def _flow_problems(plant: Plant) -> list[Problem]:
    """Stations no job can reach, and stations from which no job can ever exit.

    Only branches with p > 0 count. Nodes are station indices, and ``len(stations)`` is exit.
    """
    count = len(plant.stations)
    successors = [[t for t, p in plant.routes(j) if p > 0] for j in range(count)]
    predecessors: list[list[int]] = [[] for _ in range(count + 1)]
    for j, targets in enumerate(successors):
        for t in targets:
            predecessors[t].append(j)
    reached = _reachable(0, successors + [[]])
    can_exit = _reachable(count, predecessors)
    first = plant.stations[0].id
    problems = []
    for k, station in enumerate(plant.stations):
        if k not in reached:
            message = (
                f"no job can reach station '{station.id}' (the source feeds '{first}' and no "
                "route with p > 0 leads here); route jobs to it from another station's `next` "
                "or remove it"
            )
            problems.append((("stations", k), message))
    trapped = [k for k in range(count) if k in reached and k not in can_exit]
    if trapped:
        names = ", ".join(f"'{plant.stations[k].id}'" for k in trapped)
        message = (
            f"jobs that reach station(s) {names} can never exit (no route with p > 0 leads from "
            "them to `exit`); give one of them a `next` that leads to exit"
        )
        problems.append((("stations", trapped[0]), message))
    return problems


def _reachable(start: int, edges: list[list[int]]) -> set[int]:
    """Nodes reachable from `start` along `edges` (node -> its neighbours), `start` included."""
    seen = {start}
    stack = [start]
    while stack:
        for neighbour in edges[stack.pop()]:
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

Lines = dict[tuple[Any, ...], int]


class _Finding(NamedTuple):
    """One problem before formatting: where it is (line, path in the data) and what it is."""

    line: int | None
    path: tuple[Any, ...]
    message: str


def load_plant(path: str | os.PathLike[str]) -> Plant:
    """Read and validate a plant config file.

    Raises
    ------
    ConfigError
        Listing every problem found, one line each, in the order of the file.
    """
    source = os.fspath(path)
    text = _read_text(Path(path), source)
    data, lines, duplicates = _parse_yaml(text, source)
    return _validate(data, source, lines, duplicates)


def plant_from_dict(data: Any, source: str = "<dict>") -> Plant:
    """Validate an already-parsed config mapping; messages name `source` but no lines."""
    return _validate(data, source, {}, [])


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = "file not found; check the path"
    except IsADirectoryError:
        problem = "is a directory; give the path of a YAML file"
    except UnicodeDecodeError as err:
        problem = f"is not UTF-8 text (byte {err.start}); save it as UTF-8"
    except OSError as err:
        problem = f"cannot be read ({err.strerror}); check its permissions"
    raise ConfigError([f"{source}: {problem}"])


def _parse_yaml(text: str, source: str) -> tuple[Any, Lines, list[_Finding]]:
    """Parse like ``yaml.safe_load``, also returning the line of every key and list item.

    Returns the data, a map from paths such as ``('stations', 2, 'process')`` to 1-based line
    numbers, and the duplicate keys found (which ``safe_load`` would silently overwrite).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: Lines = {}
        duplicates: list[_Finding] = []
        _index_lines(loader, node, (), lines, duplicates)
        return loader.construct_document(node), lines, duplicates
    except yaml.YAMLError as err:
        raise ConfigError([_yaml_problem(err, source)]) from None
    finally:
        loader.dispose()


def _yaml_problem(err: yaml.YAMLError, source: str) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    what = ", ".join(filter(None, [getattr(err, "context", None), getattr(err, "problem", None)]))
    return (
        f"{where}: invalid YAML: {what or err}; fix the syntax there "
        "(indentation, quotes, brackets, one document per file)"
    )


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _index_lines(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: Lines,
    duplicates: list[_Finding],
) -> None:
    """Record the line of each mapping key and sequence item under `node`, and duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        children = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                # An unhashable key is reported when the document is constructed; keys merged
                # in by `<<: *anchor` have no line of their own here, so use the mapping's.
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            child = (*path, key)
            if child in lines:
                message = f"duplicate key '{key}' (first on line {lines[child]}); keep only one"
                duplicates.append(_Finding(line, child, message))
                continue
            lines[child] = line
            children.append((child, value_node))
    elif isinstance(node, yaml.SequenceNode):
        children = [((*path, i), item) for i, item in enumerate(node.value)]
        for child, item in children:
            lines[child] = item.start_mark.line + 1
    else:
        return
    for child, value_node in children:
        if len(child) < 64:  # a recursive alias (`&a [*a]`) would otherwise never end
            _index_lines(loader, value_node, child, lines, duplicates)


def _validate(data: Any, source: str, lines: Lines, findings: list[_Finding]) -> Plant:
    """Validate parsed data; raise one `ConfigError` with `findings` and every pydantic error."""
    if not isinstance(data, dict):
        findings = [*findings, _top_level_finding(data, 1 if lines else None)]
    else:
        try:
            plant = Plant.model_validate(data)
        except ValidationError as err:
            findings = [*findings, *(_describe(error, data, lines) for error in err.errors())]
    if findings:
        ordered = sorted(findings, key=lambda finding: finding.line or 0)
        raise ConfigError(_problem(source, *finding) for finding in ordered)
    return plant


def _top_level_finding(data: Any, line: int | None) -> _Finding:
    if data is None:
        return _Finding(
            None,
            (),
            (
                "the file is empty; a plant config is a mapping with `name`, `horizon`, "
                "`source` and `stations`"
            ),
        )
    kind = "list" if isinstance(data, list) else "single value"
    return _Finding(
        line,
        (),
        (
            f"the top level is a {kind}, not a mapping; write `key: value` lines "
            "such as `name:`, `horizon:`, `source:` and `stations:`"
        ),
    )


def _problem(source: str, line: int | None, path: tuple[Any, ...], message: str) -> str:
    """The one-line form: ``file:line: path: message``."""
    where = f"{source}:{line}" if line else source
    return f"{where}: {_path_text(path)}: {message}" if path else f"{where}: {message}"


# --------------------------------------------------------------------------------------------
# Turning pydantic errors into one-line problems
# --------------------------------------------------------------------------------------------

_ABSENT = object()


def _describe(error: dict[str, Any], data: Any, lines: Lines) -> _Finding:
    path, raw = _user_path(error["loc"], data)
    explain = _EXPLAIN.get(error["type"], _explain_default)
    return _Finding(_line_of(path, lines), path, explain(error, raw))


def _user_path(loc: Loc, data: Any) -> tuple[tuple[Any, ...], Any]:
    """Map a pydantic error location to the path in the user's data, and the value there.

    Pydantic inserts union tags (``'lognormal'``, ``'branches'``) that the user never wrote, and
    a shorthand such as ``process: 45min`` stands for a whole mapping; both are skipped.
    """
    path: list[Any] = []
    node = data
    for item in loc:
        if _contains(node, item):
            node = node[item]
        elif item in _UNION_TAGS or not isinstance(node, dict):
            continue
        else:
            node = _ABSENT  # a key the user left out
        path.append(item)
    return tuple(path), node


def _contains(node: Any, item: str | int) -> bool:
    if isinstance(node, dict):
        return item in node
    return isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)


def _path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


def _line_of(path: tuple[Any, ...], lines: Lines) -> int | None:
    """Line of the deepest part of `path` the file has (a missing key: its parent's line)."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _model_at(loc: Loc) -> type[BaseModel]:
    """The model whose fields an error location points into."""
    for item in reversed(loc):
        if isinstance(item, str):
            return _MODEL_AT_LOC_NAME.get(item, Plant)
    return Plant


def _field_list(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def _explain_missing(error: dict[str, Any], raw: Any) -> str:
    key = error["loc"][-1]
    description = _model_at(error["loc"][:-1]).model_fields[key].description
    return f"missing; add `{key}:` ({description[0].lower()}{description[1:].rstrip('.')})"


def _explain_extra(error: dict[str, Any], raw: Any) -> str:
    key = str(error["loc"][-1])
    model = _model_at(error["loc"][:-1])
    close = difflib.get_close_matches(key, model.model_fields, n=1)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    return f"unknown key; remove it (allowed keys: {_field_list(model)})"


def _explain_mapping(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a mapping; write `key: value` lines "
        f"(keys: {_field_list(_model_at(error['loc']))})"
    )


def _explain_whole_number(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a whole number; write a plain integer without quotes, "
        f"such as `{error['loc'][-1]}: 2`"
    )


def _explain_number(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a number; write a plain number without quotes or units, "
        f"such as `{error['loc'][-1]}: 0.5`"
    )


def _explain_text(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not text; put it in quotes, such as `{error['loc'][-1]}: '{raw}'`"
    )


def _explain_greater_than(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["gt"]
    if limit == 0:
        example = "a duration such as '1h'" if isinstance(raw, str) else "a number above 0"
        return f"{quote_value(raw)} must be greater than zero; use {example}"
    return f"{quote_value(raw)} must be greater than {limit}; use a larger value"


def _explain_at_least(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["ge"]
    if limit == 0:
        return f"{quote_value(raw)} is negative; use 0 or more"
    return f"{quote_value(raw)} is less than {limit}; use {limit} or more"


def _explain_at_most(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["le"]
    return f"{quote_value(raw)} is more than {limit:g}; use at most {limit:g}"


def _explain_id_pattern(error: dict[str, Any], raw: Any) -> str:
    suggestion = re.sub(r"[^a-z0-9_]+", "_", str(raw).lower()).strip("_") or "station_1"
    return (
        f"{quote_value(raw)} is not a valid id; use only lowercase letters, digits and "
        f"underscores, such as '{suggestion}'"
    )


def _explain_unknown_dist(error: dict[str, Any], raw: Any) -> str:
    tag = str(error["ctx"]["tag"])
    close = difflib.get_close_matches(tag, _DIST_NAMES, n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(_DIST_NAMES)}"
    return f"unknown distribution `{tag}`; {hint}"


def _explain_no_dist(error: dict[str, Any], raw: Any) -> str:
    return (
        f"no `dist` given; add `dist:` with one of {', '.join(_DIST_NAMES)}, "
        "or write a fixed duration such as '45min'"
    )


def _explain_routing(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a routing; write a station id, `exit`, "
        "or a list of `{to: station, p: probability}` branches"
    )


def _explain_default(error: dict[str, Any], raw: Any) -> str:
    return f"{error['msg']} (got {quote_value(raw)})"


_EXPLAIN: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "missing": _explain_missing,
    "extra_forbidden": _explain_extra,
    "value_error": lambda error, raw: str(error["ctx"]["error"]),
    "plant": lambda error, raw: error["msg"],
    "model_type": _explain_mapping,
    "int_type": _explain_whole_number,
    "float_type": _explain_number,
    "greater_than": _explain_greater_than,
    "greater_than_equal": _explain_at_least,
    "less_than_equal": _explain_at_most,
    "string_type": _explain_text,
    "string_too_short": lambda error, raw: "is empty; write a name",
    "string_pattern_mismatch": _explain_id_pattern,
    "too_short": lambda error, raw: "is empty; list at least one entry",
    "list_type": lambda error, raw: f"{quote_value(raw)} is not a list; write `- item` lines",
    "union_tag_invalid": _explain_unknown_dist,
    "union_tag_not_found": _explain_no_dist,
    "routing_type": _explain_routing,
}


# --------------------------------------------------------------------------------------------
# Schema and reference documentation
# --------------------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the YAML config, for editors; JSON-serialisable."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Plant.model_json_schema()}


def config_reference_markdown() -> str:
    """The field reference of docs/config.md: one table per mapping, built from the schema."""
    schema = json_schema()
    definitions = schema["$defs"]
    parts = [_reference_section(schema, "### Plant (top level)")]
    parts += [
        _reference_section(definitions[model.__name__], f"### {model.__name__}")
        for model in (Source, Station, Failures, Route)
    ]
    parts.append(
        "### Distributions\n\n"
        "A time distribution is a mapping whose `dist` key picks one of the forms below, or a "
        "plain duration such as `45min`, which means `{dist: deterministic, value: 45min}`."
    )
    parts += [
        _reference_section(definitions[model.__name__], f"#### `{name}`")
        for name, model in zip(_DIST_NAMES, _DISTRIBUTIONS)
    ]
    return "\n\n".join(parts) + "\n"


def _reference_section(schema: dict[str, Any], heading: str) -> str:
    """A heading, the model's docstring and a table of its keys."""
    required = set(schema.get("required", ()))
    rows = [
        f"| `{key}` | {_type_text(prop)} | {_default_text(key, prop, required)} | "
        f"{prop.get('description', '')} |"
        for key, prop in schema["properties"].items()
    ]
    header = "| Key | Type | Default | Meaning |\n| --- | --- | --- | --- |"
    return "\n\n".join([heading, schema["description"], header + "\n" + "\n".join(rows)])


def _default_text(key: str, prop: dict[str, Any], required: set[str]) -> str:
    if key in required:
        return "required"
    default = prop.get("default")
    return "optional" if default is None else f"`{default}`"


def _type_text(prop: dict[str, Any]) -> str:
    """A short human description of a property's JSON Schema."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "discriminator" in prop:
        return "[distribution](#distributions)"
    variants = prop.get("anyOf") or prop.get("oneOf")
    if variants:
        return " or ".join(_type_text(variant) for variant in variants)
    if prop.get("pattern") == DURATION_PATTERN:
        return "duration"
    if "const" in prop:
        return f"`{prop['const']}`"
    if prop["type"] == "array":
        return f"list of {_type_text(prop['items'])}"
    bounds = [
        f"{symbol} {prop[key]}"
        for key, symbol in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="))
        if key in prop
    ]
    pattern = [f"matching `{prop['pattern']}`"] if "pattern" in prop else []
    return " ".join([prop["type"], ", ".join(bounds + pattern)]).strip()
