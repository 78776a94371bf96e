"""Field types shared by every config model: durations, powers, points, and the strict base
model. Units are parsed here, once: times to hours, powers to kW, lengths stay metres."""

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)

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


