"""The plant models of config contract v1: field types, distributions, stations, the plant,
and the whole-plant checks that run once every field is valid. Times are hours (floats)."""

import difflib
import statistics
from typing import Annotated, Any, Literal, get_args

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

from twin.units import DURATION_PATTERN, parse_duration

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


DISTRIBUTIONS = (Exponential, Deterministic, Uniform, Triangular, Lognormal, Gamma, Empirical)
DIST_NAMES = tuple(get_args(model.model_fields["dist"].annotation)[0] for model in DISTRIBUTIONS)

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

UNION_TAGS = frozenset(DIST_NAMES) | {"target", "branches"}


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


MODEL_AT_LOC_NAME: dict[str, type[BaseModel]] = {
    "source": Source,
    "stations": Station,
    "failures": Failures,
    "branches": Route,
    **dict(zip(DIST_NAMES, DISTRIBUTIONS)),
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
