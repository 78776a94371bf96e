"""Vehicles, shared resource pools and their calendars: what carries jobs between stations
and who (or what) a station needs beside its servers. See docs/transport.md."""

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from twin.config.fields import ConfigModel, Count, Duration, Normalized
from twin.config.layout import Point

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PER_WEEK = 168.0
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class Battery(ConfigModel):
    """A vehicle battery: it drains while the vehicle drives or handles a load, and a vehicle
    below its threshold after a trip charges to full at the nearest free charger."""

    capacity: Duration = Field(gt=0, description="Active time (driving, loading, unloading) a "
                               "full battery lasts.")
    charge_time: Duration = Field(gt=0, description="Time to charge from empty to full; "
                                  "charging is linear.")
    threshold: float = Field(gt=0, lt=1, description="Share of the capacity below which a "
                             "vehicle goes to charge after a trip.")
    chargers: list[Point] = Field(min_length=1, description="Charger positions [x, y]; one "
                                  "vehicle charges at each at a time.")


class Fleet(Normalized):
    """Identical vehicles that carry finished jobs from a station's dock to the next one's."""

    single_of = {"count": max}

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Unique name, used by stations' "
                    "`transport`.")
    kind: Literal["agv", "amr", "forklift"] = Field(description="What the vehicles are (for "
                                                     "reports and the viewer).")
    count: Count = Field(description="Number of vehicles, or a schedule `[{from, count}]` "
                         "(removed vehicles finish their trip first).")
    speed: float = Field(gt=0, description="Driving speed in m/s, loaded or empty.")
    load_time: Duration = Field("0h", validate_default=True, ge=0,
                                description="Time to pick a job up at a dock.")
    unload_time: Duration = Field("0h", validate_default=True, ge=0,
                                  description="Time to set a job down at a dock.")
    home: Point | None = Field(None, description="Where idle vehicles wait; absent: they stay "
                               "where they unloaded.")
    battery: Battery | None = Field(None, description="Battery and chargers; absent: vehicles "
                                    "never charge.")

    def count_steps(self) -> list[tuple[float, int]]:
        """The vehicles in service as ``[(from_h, count), ...]``; ``[(0.0, count)]`` when fixed.
        `count` holds the largest."""
        return self.steps_of("count")


def _clock_hours(text: Any) -> float:
    if not isinstance(text, str) or not _CLOCK.match(text):
        raise ValueError(f"{text!r} is not a time of day; write it as 'HH:MM', such as '06:00'")
    hours, minutes = _CLOCK.match(text).groups()
    value = int(hours) + int(minutes) / 60
    if value > 24:
        raise ValueError(f"{text!r} is past midnight; the latest time of day is '24:00'")
    return value


class Shift(ConfigModel):
    """A shift: on the given days, from `start` to `end` (an `end` not after `start` means the
    next day). Days start Monday 00:00, the simulation's time 0."""

    days: list[Literal[DAYS]] = Field(min_length=1, description="Days the shift starts on: "
                                      "mon, tue, wed, thu, fri, sat, sun.")
    start: str = Field(description="Time of day the shift starts, 'HH:MM'.")
    end: str = Field(description="Time of day it ends, 'HH:MM'; at or before `start`: the "
                     "next day.")

    @field_validator("start", "end")
    @classmethod
    def _check_clock(cls, value: str) -> str:
        _clock_hours(value)
        return value

    def intervals(self) -> list[tuple[float, float]]:
        """(start, end) hours after Monday 00:00 of each day's shift; ends may pass 168."""
        start, end = _clock_hours(self.start), _clock_hours(self.end)
        length = end - start if end > start else end + 24 - start
        return [(DAYS.index(d) * 24 + start, DAYS.index(d) * 24 + start + length)
                for d in self.days]


class Pool(Normalized):
    """A shared pool of identical units (technicians, robot arms, humanoids) that stations
    hold while they process."""

    single_of = {"count": max}

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Unique name, used by stations' "
                    "`requires`.")
    count: Count = Field(description="Units in the pool (on shift), or a schedule `[{from, "
                         "count}]` (removed units finish their job first).")
    shifts: list[Shift] | None = Field(None, description="Weekly shifts; absent: always on. "
                                       "A job started on shift is finished after it ends.")

    @model_validator(mode="after")
    def _check_overlaps(self) -> "Pool":
        if self.shifts:
            on_hours(self.shifts)
        return self

    def count_steps(self) -> list[tuple[float, int]]:
        """The units in the pool as ``[(from_h, count), ...]``; ``[(0.0, count)]`` when fixed.
        `count` holds the largest."""
        return self.steps_of("count")


def on_hours(shifts: list[Shift]) -> list[tuple[float, float]]:
    """The weekly on-intervals of a calendar, merged, within [0, 168): sorted (start, end).

    Raises ValueError when two shifts overlap (a unit cannot work two shifts at once)."""
    pieces = []
    for shift in shifts:
        for a, b in shift.intervals():
            a, b = a % HOURS_PER_WEEK, a % HOURS_PER_WEEK + (b - a)
            pieces += [(a, min(b, HOURS_PER_WEEK))]
            if b > HOURS_PER_WEEK:
                pieces += [(0.0, b - HOURS_PER_WEEK)]
    pieces.sort()
    merged: list[list[float]] = []
    for a, b in pieces:
        if merged and a < merged[-1][1] - 1e-9:
            raise ValueError(f"two shifts overlap at hour {a:g} of the week; make the shifts "
                             "of a pool follow each other")
        if merged and abs(a - merged[-1][1]) <= 1e-9:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


class Alternative(ConfigModel):
    """One way to staff a job: units of pools, and how much longer (or shorter) it takes."""

    model_config = ConfigModel.model_config | {"extra": "allow"}

    time_factor: float = Field(1.0, gt=0, description="Processing time multiplier with this "
                               "staffing.")

    def needs(self) -> dict[str, int]:
        return dict(self.model_extra or {})


class AnyOf(ConfigModel):
    """One of several staffings, tried in the order listed."""

    any_of: list[Alternative] = Field(min_length=1, description="Alternatives `{pool: units, "
                                      "time_factor}`, the first that is free is taken.")


_REQUIRES_FORMS = ("write `requires` as `{pool: units, ...}` or `{any_of: [{pool: units, "
                   "time_factor: f}, ...]}`")


def _parse_requires(value: Any) -> Any:
    """Read both forms of `requires` into one `AnyOf` (all-of is one alternative), with one
    plain message per mistake."""
    if isinstance(value, AnyOf):
        return value
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{value!r} is not a staffing; {_REQUIRES_FORMS}")
    if "any_of" in value:
        if set(value) != {"any_of"}:
            raise ValueError("`any_of` stands alone; put every pool inside its alternatives")
        alts = value["any_of"]
        if not isinstance(alts, list) or not alts:
            raise ValueError("`any_of` needs a list of alternatives, such as "
                             "[{technician: 1}, {humanoid: 1, time_factor: 2}]")
    else:
        alts = [value]
    parsed = []
    for i, alt in enumerate(alts):
        where = f"alternative {i + 1}: " if "any_of" in value else ""
        if not isinstance(alt, dict):
            raise ValueError(f"{where}{alt!r} is not a mapping; {_REQUIRES_FORMS}")  # noqa: TRY004
        factor = alt.get("time_factor", 1.0)
        if "time_factor" in alt and "any_of" not in value:
            raise ValueError("a `time_factor` belongs to an alternative of `any_of`")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
            raise ValueError(f"{where}time_factor {factor!r} must be a number above 0")
        units = {k: n for k, n in alt.items() if k != "time_factor"}
        if not units:
            raise ValueError(f"{where}no pool named; write pools as `pool_id: units`")
        for pool, n in units.items():
            if not isinstance(pool, str) or not re.match(r"^[a-z0-9_]+$", pool):
                raise ValueError(f"{where}{pool!r} is not a pool id (lowercase letters, "
                                 "digits, underscores)")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{where}'{pool}: {n!r}' needs a whole number of units, 1 or "
                                 "more")
        parsed.append(Alternative(time_factor=float(factor), **units))
    return AnyOf(any_of=parsed)


_REQUIRES_SCHEMA = {
    "description": "`{pool: units, ...}` (all of them) or `{any_of: [{pool: units, "
                   "time_factor: f}, ...]}` (the first that is free).",
    "type": "object",
}

Requires = Annotated[AnyOf, BeforeValidator(_parse_requires), WithJsonSchema(_REQUIRES_SCHEMA)]
"""What a job holds while it processes: `{pool: units, ...}` (all of them) or
`{any_of: [...]}`; always read into an `AnyOf`."""


def alternatives(requires: AnyOf | None) -> list[tuple[dict[str, int], float]]:
    """A station's `requires` as a list of (units per pool, time factor), in the order tried."""
    if requires is None:
        return []
    return [(a.needs(), a.time_factor) for a in requires.any_of]
