"""Quantities with units, parsed once at the config boundary.

Durations become hours and power becomes kilowatts; nothing past the config layer ever sees a
unit. A bare number where a unit is expected is an error, because guessing the unit of `45`
(seconds? minutes?) is how plant models go silently wrong.

Every error is a `ValueError` whose message says what is wrong and how to write it instead;
the config layer prefixes it with the file, line and field path.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from twin.errors import quote_value

__all__ = ["DURATION_PATTERN", "POWER_PATTERN", "in_unit_of", "parse_duration", "parse_power",
           "unit_factor"]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"(?P<number>[+-]?{_NUMBER})\s*(?P<unit>[A-Za-z]*)")

# Exact factors, so that '45min' is exactly 0.75 h rather than 45 * 0.01666...
_HOURS_PER_UNIT = {
    "s": Fraction(1, 3600),
    "min": Fraction(1, 60),
    "h": Fraction(1),
    "d": Fraction(24),
    "w": Fraction(168),
}
_KW_PER_UNIT = {"W": Fraction(1, 1000), "kW": Fraction(1), "MW": Fraction(1000)}

# Spellings people write by habit (lower case), mapped to the unit they almost certainly mean.
_UNIT_ALIASES = {
    **dict.fromkeys(["m", "mins", "minute", "minutes"], "min"),
    **dict.fromkeys(["sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["hr", "hrs", "hour", "hours"], "h"),
    **dict.fromkeys(["day", "days"], "d"),
    **dict.fromkeys(["week", "weeks"], "w"),
}

DURATION_PATTERN = rf"^{_NUMBER}\s*(?:{'|'.join(_HOURS_PER_UNIT)})$"
"""Regular expression (ECMAScript-compatible) that a duration string matches; used in the schema."""

POWER_PATTERN = rf"^{_NUMBER}\s*(?:{'|'.join(_KW_PER_UNIT)})$"
"""Regular expression that a power string matches; used in the schema."""


def parse_duration(text: object) -> float:
    """Parse a duration such as ``'30s'``, ``'45min'``, ``'1.5h'``, ``'2d'`` or ``'1w'``.

    Returns
    -------
    float
        The duration in hours.

    Raises
    ------
    ValueError
        If `text` is a bare number, has no or an unknown unit, is negative or not finite.
    """
    return _parse_quantity(text, "duration", _HOURS_PER_UNIT, "'45min' or '1.5h'")


def parse_power(text: object) -> float:
    """Parse a power such as ``'500W'``, ``'6kW'`` or ``'1.2MW'``.

    Returns
    -------
    float
        The power in kilowatts.

    Raises
    ------
    ValueError
        If `text` is a bare number, has no or an unknown unit, is negative or not finite.
    """
    return _parse_quantity(text, "power", _KW_PER_UNIT, "'500W' or '6kW'")


def in_unit_of(value: float, like: str, digits: int = 6) -> str:
    """Write ``value`` (hours or kW) in the unit that ``like`` is written in.

    >>> in_unit_of(31477.41752, "30MW"), in_unit_of(0.75, "20min")
    ('31.4774MW', '45min')
    """
    _, unit = _number_and_unit(like)
    return f"{value / unit_factor(like):.{digits}g}{unit}"


def unit_factor(like: str) -> float:
    """Hours or kW in one unit of the quantity ``like`` (1000 for '30MW', 1/60 for '5min')."""
    _, unit = _number_and_unit(like)
    return float({**_HOURS_PER_UNIT, **_KW_PER_UNIT}[unit])


def _parse_quantity(
    text: object,
    kind: str,
    factors: dict[str, Fraction],
    examples: str,
) -> float:
    """Split `text` into a number and a unit and convert it with `factors` (unit -> multiplier)."""
    parts = _number_and_unit(text)
    if parts is None:
        raise ValueError(
            f"{quote_value(text)} is not a {kind}; write a number and a unit such as {examples}"
        )
    number, unit = parts
    if not unit:
        raise ValueError(f"'{text}' has no unit; write it as a {kind} such as {examples}")
    if unit not in factors:
        raise ValueError(f"'{text}' has an unknown unit '{unit}'; {_unit_hint(unit, factors)}")
    if number < 0:
        raise ValueError(f"'{text}' is negative; a {kind} must be zero or more")
    value = number * factors[unit].numerator / factors[unit].denominator
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is too large; write a finite {kind}")
    return value


def _number_and_unit(text: object) -> tuple[float, str] | None:
    """Split a quantity into its number and unit ('' for a bare number); None if it is neither."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text), ""
    match = _QUANTITY.fullmatch(text.strip()) if isinstance(text, str) else None
    return (float(match["number"]), match["unit"]) if match else None


def _unit_hint(unit: str, factors: dict[str, Fraction]) -> str:
    """Suggest the unit meant by a habitual spelling or wrong case, or list the allowed units."""
    same_letters = [known for known in factors if known.lower() == unit.lower()]
    meant = same_letters[0] if same_letters else _UNIT_ALIASES.get(unit.lower())
    allowed = ", ".join(factors)
    if meant in factors:
        return f"did you mean '{meant}'? (units: {allowed})"
    return f"use one of {allowed}"
