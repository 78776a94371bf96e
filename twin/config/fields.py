"""Field types shared by every config model: durations, powers, rates, points, schedules, and
the strict base models. Units are parsed here, once: times to hours, powers to kW, rates to
per hour, lengths stay metres."""

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    WithJsonSchema,
    create_model,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from twin.errors import quote_value
from twin.units import DURATION_PATTERN, POWER_PATTERN, parse_duration, parse_power

# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------

DURATION_SCHEMA = {
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
    WithJsonSchema(DURATION_SCHEMA),
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

_POWER_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": POWER_PATTERN},
        {"const": 0},
    ],
    "description": "A number and a unit: W, kW or MW, such as '500W' or '1.2MW'; or 0.",
}


def _power_or_zero(value: Any) -> float:
    """A power string in kW; a bare 0 needs no unit."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return 0.0
    return parse_power(value)


Power = Annotated[
    float,
    BeforeValidator(_power_or_zero),
    PlainSerializer(lambda kw: f"{kw!r}kW", return_type=str),
    WithJsonSchema(_POWER_SCHEMA),
]
"""A power read from a string with a unit and stored in kilowatts."""


class ConfigModel(BaseModel):
    """Base of every config model: unknown keys are errors and no type is silently coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------------------------
# Problems: an error at a location, with a message that is shown as it is
# --------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def line_error(loc: Loc, message: str) -> InitErrorDetails:
    """A pydantic error at `loc` whose message is exactly `message`."""
    error_type = PydanticCustomError("plant", "{message}", {"message": message})
    return InitErrorDetails(type=error_type, loc=loc, input=None)


def problems_error(title: str, problems: list[Problem]) -> ValidationError:
    """One validation error holding every problem; raised inside a validator, its locations
    are taken as relative to the value validated there."""
    return ValidationError.from_exception_data(title, [line_error(*p) for p in problems])


def when_text(hours: float) -> str:
    """A time for messages: ``8w (1344h)`` when it is whole weeks, else ``36h``."""
    weeks = hours / 168.0
    if hours > 0 and weeks == int(weeks):
        return f"{weeks:g}w ({hours:g}h)"
    return f"{hours:g}h"


# --------------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------------

_RATE_UNITS = {"w": 168.0, "d": 24.0, "h": 1.0, "min": 1 / 60}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
RATE_PATTERN = rf"^{_NUMBER}\s*/\s*(?:{'|'.join(_RATE_UNITS)})$"
"""Regular expression that a rate string matches, such as '1000/w'; used in the schema."""


def parse_rate(text: object) -> float:
    """A count per unit of time, ``'1000/w'``, ``'150/d'``, ``'6/h'`` or ``'1/min'``, per hour."""
    if not isinstance(text, str) or not re.match(RATE_PATTERN, text.strip()):
        raise ValueError(f"{quote_value(text)} is not a rate; write a count per unit of time such "
                         "as '1000/w', '150/d' or '6/h' (units: w, d, h, min)")
    count, unit = (part.strip() for part in text.split("/"))
    per_hour = float(count) / _RATE_UNITS[unit]
    if not per_hour > 0:
        raise ValueError(f"{quote_value(text)} must be greater than zero; use a rate such as "
                         "'1000/w'")
    return per_hour


Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    PlainSerializer(lambda per_hour: f"{per_hour!r}/h", return_type=str),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN,
                    "description": "A count per unit of time: /w, /d, /h or /min, such as "
                    "'1000/w'."}),
]
"""A rate read from a string such as '1000/w' and stored per hour."""


# --------------------------------------------------------------------------------------------
# Schedules: values that change over time
# --------------------------------------------------------------------------------------------


class _Timed(ConfigModel):
    """What every schedule step can do; `Step` adds the `from` field (a Python keyword, so it
    cannot be declared in a class body)."""

    key: ClassVar[str] = ""
    """The step's value field; a schedule's union tag is ``{key}_steps``."""

    def start(self) -> float:
        """When the step takes effect, in hours from time 0."""
        return getattr(self, "from")

    def value(self) -> Any:
        """The value in force from `start` on."""
        return getattr(self, self.key)


Step = create_model(
    "Step",
    __base__=_Timed,
    __doc__="One step of a schedule: from `from` on, its value is in force.",
    **{"from": (Duration, Field(description="When this step takes effect, from time 0: a "
                                "duration such as `6w`; the first step's is `0w`, each next one "
                                "later."))},
)


def in_force(steps: list[tuple[float, Any]], at: float) -> Any:
    """The value of `steps` ``[(from_h, value), ...]`` (in time order) in force at hour `at`."""
    return [value for start, value in steps if start <= at][-1]


def _in_time_order(steps: list[Any]) -> list[Any]:
    """The first step starts at 0 and each next one later."""
    problems: list[Problem] = []
    if steps[0].start() != 0:
        problems.append(((0, "from"), "the first step must start at 0 (`from: 0w`)"))
    for i in range(1, len(steps)):
        before, now = steps[i - 1].start(), steps[i].start()
        if now <= before:
            problems.append(((i, "from"), (f"step {i + 1} starts at {when_text(now)}, not after "
                             f"step {i} ({when_text(before)}); list the steps in time order, "
                             "each `from` later than the one before")))
    if problems:
        raise problems_error("schedule", problems)
    return steps


def schedule(step: type[Step], *checks: Callable[[list[Any]], list[Any]]) -> Any:
    """A list of `step`s in time order, the first from 0, with `checks` of the whole list."""
    return Annotated[list[step], Field(min_length=1), AfterValidator(_in_time_order),
                     *map(AfterValidator, checks)]


def scheduled(single: Any, step: type[Step], *checks: Callable[[list[Any]], list[Any]]) -> Any:
    """A value given as `single`, or as a schedule of `step`s (a list, told apart by its form,
    so each form gets its own errors). `Normalized.single_of` turns a schedule into one value."""
    tag = f"{step.key}_steps"

    def form(value: Any) -> str:
        given_as_step = isinstance(value, dict) and "from" in value
        return tag if isinstance(value, list) or given_as_step else "single"

    steps = Annotated[schedule(step, *checks), Tag(tag)]
    return Annotated[Annotated[single, Tag("single")] | steps, Discriminator(form)]


class CountStep(Step):
    """A step of a count schedule: from `from` on, `count` are in service."""

    key: ClassVar[str] = "count"
    count: int = Field(ge=0, description="How many from then on; 0 or more.")


def _some_in_service(steps: list[CountStep]) -> list[CountStep]:
    if not any(step.count for step in steps):
        raise ValueError("every step has count 0, so there is never one in service; give at "
                         "least one step a count of 1 or more")
    return steps


Count = scheduled(Annotated[int, Field(ge=1)], CountStep, _some_in_service)
"""A count (1 or more), or a schedule `[{from, count}]` of counts (0 or more, one at least 1)."""


def first(values: list[Any]) -> Any:
    """The first of a schedule's values."""
    return values[0]


def last(values: list[Any]) -> Any:
    """The last of a schedule's values."""
    return values[-1]


class Normalized(ConfigModel):
    """A model with fields given in a richer form than the one value they hold once validated:
    a schedule (`single_of` names the fields and how each takes its one value from the
    schedule's values), or a word such as `auto` (see `_keep`).

    The form given is kept: `steps_of` reads a schedule, dumps write the form back (so
    ``model_validate(model_dump())`` gives the same model), and ``model_copy(update=...)``
    of such a field forgets it (the new value is the whole story).
    """

    single_of: ClassVar[dict[str, Callable[[list[Any]], Any]]] = {}
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _settle_schedules(self) -> "Normalized":
        for name, pick in self.single_of.items():
            steps = getattr(self, name)
            if isinstance(steps, list):
                self._keep(name, steps, pick([step.value() for step in steps]))
        return self

    def _keep(self, name: str, given: Any, value: Any) -> None:
        """Hold `value` in field `name`, remembering that the file gave `given`."""
        self._given[name] = given
        setattr(self, name, value)

    def has_schedule(self, name: str) -> bool:
        """Whether field `name` was given as a schedule."""
        return isinstance(self._given.get(name), list)

    def steps_of(self, name: str) -> list[tuple[float, Any]]:
        """Field `name` as ``[(from_h, value), ...]``: its schedule, or ``[(0.0, value)]``."""
        if self.has_schedule(name):
            return [(step.start(), step.value()) for step in self._given[name]]
        return [(0.0, getattr(self, name))]

    @model_serializer(mode="wrap")
    def _dump_given(self, handler: SerializerFunctionWrapHandler,
                    info: SerializationInfo) -> dict[str, Any]:
        data = handler(self)
        for name, given in self._given.items():
            if name in data:
                data[name] = [step.model_dump(mode=info.mode) for step in given] \
                    if isinstance(given, list) else given
        return data

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        copy._given = {k: v for k, v in copy._given.items() if k not in (update or {})}
        return copy
