"""Floor geometry of a plant: the hall, its aisles and how stations stand on it. Lengths in
metres, x along the hall's length and y across it, the origin at a corner of the floor.

`layout_problems` checks a whole plant against its floor plan once every field is valid:
stations inside the floor, apart and off the aisles, every place vehicles use on the floor and
on the aisle network, routes that fleets drive joined by aisles, batteries that last the drive
to a charger. The aisle graph and its distances come from `twin.config.geometry`."""

import math
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from twin.config.fields import ConfigModel
from twin.config.geometry import TOLERANCE, Geometry, aisle_segments, plant_geometry

if TYPE_CHECKING:
    from twin.config.models import Plant, Station

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]

Point = Annotated[
    list[float],
    Field(min_length=2, max_length=2, description="[x, y] in metres."),
]
"""A point on the floor, [x, y] in metres."""

Size = Annotated[
    list[Annotated[float, Field(gt=0)]],
    Field(min_length=2, max_length=2, description="[x, y] extent in metres, both positive."),
]


class AisleGrid(ConfigModel):
    """A regular grid of aisles: lines along x every `spacing[1]` metres and along y every
    `spacing[0]` metres, `margin` metres inside the floor's edges."""

    spacing: Size = Field(description="[dx, dy]: distance between aisles along y and along x.")
    margin: float = Field(0.0, ge=0, description="Distance of the outer aisles from the walls.")


class Layout(ConfigModel):
    """The floor plan: its size, the aisles vehicles drive on, and where jobs leave."""

    floor: Size = Field(description="[length, width] of the hall in metres.")
    aisles: list[Annotated[list[Point], Field(min_length=2)]] = Field(
        default_factory=list,
        description="Aisle centre lines as polylines `[[x, y], [x, y], ...]`; lines that cross "
        "or touch are joined.",
    )
    grid: AisleGrid | None = Field(
        None, description="A regular grid of aisles, added to `aisles`."
    )
    shipping: Point | None = Field(
        None, description="Where vehicles deliver jobs that leave the plant (`exit`); needed "
        "when a station routes to exit through a fleet.",
    )


class Bays(ConfigModel):
    """How a station's servers stand in its footprint, for the viewer: rows x columns."""

    rows: int = Field(ge=1, description="Rows of bays.")
    columns: int = Field(ge=1, description="Bays per row.")


# --------------------------------------------------------------------------------------------
# Checks of a plant against its floor plan
# --------------------------------------------------------------------------------------------

DRIVES_IN_RESERVE = 4
"""A battery's reserve (threshold x capacity) must last this many of the fleet's longest drives,
plus one load and one unload."""


def station_rectangle(station: "Station") -> np.ndarray | None:
    """The floor a station covers, ``[[x0, y0], [x1, y1]]`` (shape (2, 2)), after rotation; a
    point (x0 == x1, y0 == y1) without a footprint; None without a position."""
    if station.position is None:
        return None
    size = np.zeros(2) if station.footprint is None else np.array(station.footprint, float)
    if station.rotation in (90, 270):
        size = size[::-1]
    centre = np.array(station.position, dtype=float)
    return np.stack([centre - size / 2, centre + size / 2])


def layout_problems(plant: "Plant") -> list[Problem]:
    """Every problem of the plant's floor plan; none without a layout.

    Needs every routing target resolved (`Plant.successors`), so run it after the structural
    checks.
    """
    if plant.layout is None:
        return []
    geometry = plant_geometry(plant)
    return (_footprint_problems(plant) + _off_floor_problems(plant)
            + _reach_problems(plant, geometry) + _battery_problems(plant, geometry))


def _footprint_problems(plant: "Plant") -> list[Problem]:
    """Stations outside the floor, on top of each other, or on an aisle."""
    floor = np.array(plant.layout.floor, dtype=float)
    hall = _span(np.stack([np.zeros(2), floor]))
    segments, owners = aisle_segments(plant.layout)
    placed = [(k, s, station_rectangle(s)) for k, s in enumerate(plant.stations)
              if s.position is not None]
    problems = []
    for k, station, rectangle in placed:
        if (rectangle[0] < -TOLERANCE).any() or (rectangle[1] > floor + TOLERANCE).any():
            message = (f"station {_covers(station, rectangle)} reaches outside the floor {hall}; "
                       "move it inside or shrink its footprint")
            problems.append((("stations", k, "position"), message))
    for a, (_, first, covered) in enumerate(placed):
        for k, station, rectangle in placed[a + 1:]:
            overlap = np.minimum(covered[1], rectangle[1]) - np.maximum(covered[0], rectangle[0])
            if (overlap > TOLERANCE).all():
                message = (f"stations {_covers(first, covered)} and "
                           f"{_covers(station, rectangle)} overlap; move one of them")
                problems.append((("stations", k, "position"), message))
    if len(segments) and placed:
        crossed = _crosses_interior(np.stack([r for _, _, r in placed]), segments)
        for (k, station, rectangle), row in zip(placed, crossed, strict=True):
            if row.any():
                s = int(np.argmax(row))
                aisle = (f"`aisles[{owners[s]}]`" if owners[s] >= 0 else
                         f"of the grid from {_xy(segments[s, 0])} to {_xy(segments[s, 1])}")
                message = (f"station {_covers(station, rectangle)} sits on the aisle {aisle}; "
                           "move the station off the aisle or the aisle around it")
                problems.append((("stations", k, "position"), message))
    return problems


def _crosses_interior(rectangles: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Whether each segment runs through the inside of each rectangle (not just along an edge
    or through a corner), by Liang-Barsky clipping against the rectangle shrunk by the tolerance.

    Parameters
    ----------
    rectangles : ndarray, shape (K, 2, 2)
        ``[[x0, y0], [x1, y1]]`` per rectangle.
    segments : ndarray, shape (S, 2, 2)
        The two ends of each segment.

    Returns
    -------
    ndarray of bool, shape (K, S)
    """
    low = rectangles[:, None, 0] + TOLERANCE  # (K, 1, 2)
    high = rectangles[:, None, 1] - TOLERANCE
    start = segments[None, :, 0]  # (1, S, 2)
    along = segments[None, :, 1] - start
    inside = (start > low) & (start < high)  # decides alone on an axis the segment is level on
    with np.errstate(divide="ignore", invalid="ignore"):
        t_low, t_high = (low - start) / along, (high - start) / along
    level = along == 0
    enter = np.where(level, np.where(inside, -np.inf, np.inf), np.minimum(t_low, t_high))
    leave = np.where(level, np.where(inside, np.inf, -np.inf), np.maximum(t_low, t_high))
    return np.maximum(enter.max(-1), 0.0) < np.minimum(leave.min(-1), 1.0)


def _off_floor_problems(plant: "Plant") -> list[Problem]:
    """Docks, homes, chargers and the shipping point that lie outside the floor."""
    floor = np.array(plant.layout.floor, dtype=float)
    hall = _span(np.stack([np.zeros(2), floor]))
    points: list[tuple[Loc, list[float], str]] = [
        (("stations", k, "dock"), s.dock, f"of station '{s.id}'")
        for k, s in enumerate(plant.stations) if s.dock is not None]
    if plant.layout.shipping is not None:
        points.append((("layout", "shipping"), plant.layout.shipping, ""))
    for i, fleet in enumerate(plant.transport):
        if fleet.home is not None:
            points.append((("transport", i, "home"), fleet.home, f"of fleet '{fleet.id}'"))
        for c, charger in enumerate(fleet.battery.chargers if fleet.battery else []):
            points.append((("transport", i, "battery", "chargers", c), charger,
                           f"of fleet '{fleet.id}'"))
    return [(loc, f"{_what(loc)} {_xy(xy)} {whose}".rstrip() + f" is outside the floor {hall}; "
             "move it inside")
            for loc, xy, whose in points
            if min(xy) < -TOLERANCE or (np.array(xy) > floor + TOLERANCE).any()]


def _reach_problems(plant: "Plant", geometry: Geometry) -> list[Problem]:
    """Served stations without a place on the floor, and places of a fleet's trips that no
    aisle joins."""
    served = _served(plant)
    problems = []
    for k, station in enumerate(plant.stations):
        if k in served and station.position is None and station.dock is None:
            message = (f"station '{station.id}' {served[k]} but has no place on the floor; it "
                       "needs a position or a dock: add `position: [x, y]` (its dock is then "
                       "the nearest aisle point) or `dock: [x, y]`")
            problems.append((("stations", k), message))
    if not len(geometry.aisle_edges):
        fleets = sorted({s.transport for s in plant.stations if s.transport}
                        | {f.id for f in plant.transport})
        if fleets:
            names = ", ".join(f"'{f}'" for f in fleets)
            message = (f"the layout has no aisles, so no dock, home, charger or shipping point "
                       f"reaches one and fleet(s) {names} cannot drive; add `aisles` or a `grid`")
            problems.append((("layout", "aisles"), message))
        return problems

    on_floor = ~np.isnan(geometry.points[:, 0])
    for j, station in enumerate(plant.stations):
        for k in sorted(plant.successors(j)) if station.transport is not None else []:
            if on_floor[j] and on_floor[k] and np.isinf(geometry.distance[j, k]):
                message = (f"fleet '{station.transport}' carries jobs from "
                           f"{_place(plant, geometry, j)} to {_place(plant, geometry, k)} but "
                           "no aisle path joins them; connect their aisles")
                problems.append((("stations", j, "transport"), message))
    for i, fleet in enumerate(plant.transport):
        stops = [k for k in _fleet_stops(plant, fleet.id) if on_floor[k]]
        own = [(("transport", i, "battery", "chargers", c), place)
               for c, place in enumerate(geometry.chargers[fleet.id])]
        if fleet.id in geometry.homes:
            own.insert(0, (("transport", i, "home"), geometry.homes[fleet.id]))
        for loc, place in own:
            cut_off = [k for k in stops if np.isinf(geometry.distance[place, k])]
            if cut_off:
                message = (f"{_what(loc)} {_xy(geometry.points[place])} of fleet '{fleet.id}' "
                           f"has no aisle path to {_place(plant, geometry, cut_off[0])}; move "
                           "it to an aisle joined to the stations the fleet serves")
                problems.append((loc, message))
    return problems


def _battery_problems(plant: "Plant", geometry: Geometry) -> list[Problem]:
    """Fleets whose battery reserve does not last the drive to a charger."""
    problems = []
    for i, fleet in enumerate(plant.transport):
        battery = fleet.battery
        if battery is None:
            continue
        stops = _fleet_stops(plant, fleet.id) + geometry.chargers[fleet.id]
        if fleet.id in geometry.homes:
            stops.append(geometry.homes[fleet.id])
        between = geometry.distance[np.ix_(stops, stops)]
        longest = float(between[np.isfinite(between)].max(initial=0.0))
        needed = (DRIVES_IN_RESERVE * longest / (fleet.speed * 3600)
                  + fleet.load_time + fleet.unload_time)
        reserve = battery.threshold * battery.capacity
        if reserve >= needed:
            continue
        fix = f"`capacity` to at least {_round_up(needed / battery.threshold)}h"
        if needed < battery.capacity:
            fix = f"`threshold` to at least {_round_up(needed / battery.capacity)} or {fix}"
        message = (f"fleet '{fleet.id}' goes to charge with {reserve:g}h of battery left "
                   f"({battery.threshold:g} x {battery.capacity:g}h), but {DRIVES_IN_RESERVE} "
                   f"of its longest drives ({longest:g} m at {fleet.speed:g} m/s) plus a load "
                   f"and an unload take {needed:g}h, {needed - reserve:g}h short; raise {fix}")
        problems.append((("transport", i, "battery", "threshold"), message))
    return problems


def _served(plant: "Plant") -> dict[int, str]:
    """Stations a fleet drives to or from: index -> why, in words."""
    served: dict[int, str] = {}
    for j, station in enumerate(plant.stations):
        if station.transport is not None:
            served.setdefault(j, f"is served by fleet '{station.transport}' (it carries the "
                              "station's jobs out)")
            for k in sorted(plant.successors(j)):
                if k < len(plant.stations):
                    served.setdefault(k, f"is served by fleet '{station.transport}' (it brings "
                                      f"jobs from '{station.id}')")
    return served


def _fleet_stops(plant: "Plant", fleet: str) -> list[int]:
    """Place indices of the docks a fleet loads at or unloads at (J: the shipping point)."""
    stops: set[int] = set()
    for j, station in enumerate(plant.stations):
        if station.transport == fleet:
            stops |= {j} | plant.successors(j)
    return sorted(stops)


def _place(plant: "Plant", geometry: Geometry, k: int) -> str:
    if k == len(plant.stations):
        return f"the shipping point {_xy(geometry.points[k])}"
    return f"station '{plant.stations[k].id}' (dock {_xy(geometry.points[k])})"


def _what(loc: Loc) -> str:
    """What a point at `loc` is, in words: "the dock", "the home", "charger 2", ..."""
    if loc[-2] == "chargers":
        return f"charger {loc[-1]}"
    return "the shipping point" if loc[-1] == "shipping" else f"the {loc[-1]}"


def _covers(station: "Station", rectangle: np.ndarray) -> str:
    return f"'{station.id}' at {_xy(station.position)} covering {_span(rectangle)}"


def _span(rectangle: np.ndarray) -> str:
    """``[x0, x1] x [y0, y1]`` of a (2, 2) rectangle."""
    (x0, y0), (x1, y1) = rectangle
    return f"[{x0:g}, {x1:g}] x [{y0:g}, {y1:g}]"


def _xy(point: "list[float] | np.ndarray") -> str:
    return f"[{point[0]:g}, {point[1]:g}]"


def _round_up(value: float) -> str:
    """`value` rounded up to three significant digits, so a suggested fix is enough."""
    scale = 10.0 ** (2 - math.floor(math.log10(value)))
    return f"{math.ceil(value * scale - 1e-9) / scale:g}"
