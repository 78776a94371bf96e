"""Compile fleets and resource pools into the arrays the engine reads (see docs/transport.md).

Units end here, as in :mod:`twin.compile.plant`: times in hours, distances in metres, speeds
in metres per hour. Places are those of :class:`twin.config.geometry.Geometry`: station docks
``0..J-1``, the shipping point ``J``, then each fleet's home and chargers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.config import Plant
from twin.config.geometry import plant_geometry
from twin.config.logistics import HOURS_PER_WEEK, alternatives, on_hours

NO_PLACE = -1
NEVER = 1 << 40  # units a padded alternative asks for: more than any pool holds


@dataclass(frozen=True)
class FleetPlan:
    """Vehicles of a batch: F fleets, V vehicle slots (padded to the batch's largest counts),
    P places, C chargers per fleet at most. Arrays have a row per scenario (S).

    Attributes
    ----------
    ids, kinds : tuple of str
        Fleet ids and kinds, in config order.
    vehicle_fleet : (V + 1,) int64
        Fleet of each vehicle slot; the extra last entry is a scratch vehicle (fleet 0).
    count : (S, F) int64
        Vehicles of each fleet in each lane.
    speed : (S, F) float64
        Metres per hour.
    load, unload : (S, F) float64
        Hours.
    home : (S, F) int64
        Place where idle vehicles wait (NO_PLACE: none).
    capacity, charge_time, threshold : (S, F) float64
        Battery hours of active time (inf: no battery), hours to charge from empty, and the
        level in hours below which a vehicle charges after a trip (-inf: never).
    charger : (S, F, C) int64
        Places of each fleet's chargers (NO_PLACE: padding).
    start : (S, V + 1) int64
        Place where each vehicle starts.
    distance : (S, P, P) float64
        Metres between places along the aisles, per scenario.
    station_fleet : (S, J + 1) int64
        Fleet that carries each station's finished jobs out (-1: instant hand-over; row J,
        the source, always -1).
    requests : int
        Places of each fleet's request ring: more than the servers that can wait at once.
    """

    ids: tuple[str, ...]
    kinds: tuple[str, ...]
    vehicle_fleet: np.ndarray
    count: np.ndarray
    speed: np.ndarray
    load: np.ndarray
    unload: np.ndarray
    home: np.ndarray
    capacity: np.ndarray
    charge_time: np.ndarray
    threshold: np.ndarray
    charger: np.ndarray
    start: np.ndarray
    distance: np.ndarray
    station_fleet: np.ndarray
    requests: int

    @property
    def vehicles(self) -> int:
        return int(self.vehicle_fleet.shape[0]) - 1

    @property
    def rank(self) -> np.ndarray:
        """(V,) index of each vehicle slot within its fleet."""
        fleets = self.vehicle_fleet[:-1]
        first = np.searchsorted(fleets, fleets)
        return np.arange(fleets.shape[0]) - first

    @property
    def has_battery(self) -> bool:
        return bool(np.isfinite(self.capacity).any())


@dataclass(frozen=True)
class PoolPlan:
    """Resource pools of a batch: P pools, A alternatives per station at most.

    Attributes
    ----------
    ids : tuple of str
    count : (S, P) int64
        Units of each pool on shift.
    need : (S, J + 1, A, P) int64
        Units of each pool that each alternative of each station holds (padded alternatives ask
        for more than any pool has, so they never fit).
    factor : (S, J + 1, A) float64
        Processing-time factor of each alternative.
    requires : (S, J + 1) bool
        Whether a station's jobs need units.
    slots : (R,) int64
        The slots of the stations that need units in some lane (where requests can wait).
    unit_stations : (U,) int64
        Those stations; ``slot_unit`` (R,) gives each slot's place among them.
    edges : (P, N) float64
        Hours of the week where each pool's shift state changes, sorted (inf: padding).
    edge_count : (P,) int64
        Changes per week of each pool (0: always on).
    on_at_start : (P,) bool
        Whether each pool is on shift at time 0 (Monday 00:00).
    """

    ids: tuple[str, ...]
    count: np.ndarray
    need: np.ndarray
    factor: np.ndarray
    requires: np.ndarray
    slots: np.ndarray
    unit_stations: np.ndarray
    slot_unit: np.ndarray
    edges: np.ndarray
    edge_count: np.ndarray
    on_at_start: np.ndarray

    @property
    def has_shifts(self) -> bool:
        return bool((self.edge_count > 0).any())



def _same(plants: list[Plant], what, message: str):
    values = [what(p) for p in plants]
    if any(v != values[0] for v in values[1:]):
        raise ValueError(message)
    return values[0]


def max_chargers(plants: list[Plant]) -> int:
    """Chargers per fleet in the engine's arrays: the most any fleet has, at least one."""
    return max([len(f.battery.chargers) for p in plants for f in p.transport if f.battery]
               or [1])


def fleet_plan(plants: list[Plant]) -> FleetPlan | None:
    """The fleets of a batch (None when no plant has one). All plants must name the same
    fleets in one order; counts, speeds, times, homes, batteries and positions may differ."""
    ids = _same(plants, lambda p: tuple(f.id for f in p.transport),
                "all scenarios of a batch must have the same fleets in one order")
    if not ids:
        return None

    S, F, J = len(plants), len(ids), len(plants[0].stations)
    geos = [plant_geometry(p) for p in plants]
    P = max(g.distance.shape[0] for g in geos)
    C = max_chargers(plants)
    most = [max(p.transport[f].count for p in plants) for f in range(F)]
    vehicle_fleet = np.array([f for f in range(F) for _ in range(most[f])] + [0], np.int64)
    V = len(vehicle_fleet) - 1
    count = np.zeros((S, F), np.int64)
    speed, load, unload = np.ones((S, F)), np.zeros((S, F)), np.zeros((S, F))
    home = np.full((S, F), NO_PLACE, np.int64)
    capacity, charge_time = np.full((S, F), np.inf), np.ones((S, F))
    threshold = np.full((S, F), -np.inf)
    charger = np.full((S, F, C), NO_PLACE, np.int64)
    start = np.zeros((S, V + 1), np.int64)
    distance = np.full((S, P, P), np.inf)
    station_fleet = np.full((S, J + 1), -1, np.int64)
    for s, (plant, geo) in enumerate(zip(plants, geos, strict=True)):
        n = geo.distance.shape[0]
        distance[s, :n, :n] = geo.distance
        index = {fleet.id: f for f, fleet in enumerate(plant.transport)}
        for j, st in enumerate(plant.stations):
            if st.transport is not None:
                station_fleet[s, j] = index[st.transport]
        for f, fleet in enumerate(plant.transport):
            count[s, f] = fleet.count
            speed[s, f] = fleet.speed * 3600.0
            load[s, f], unload[s, f] = fleet.load_time, fleet.unload_time
            home[s, f] = geo.homes.get(fleet.id, NO_PLACE)
            if fleet.battery is not None:
                b = fleet.battery
                capacity[s, f], charge_time[s, f] = b.capacity, b.charge_time
                threshold[s, f] = b.threshold * b.capacity
                places = geo.chargers[fleet.id]
                charger[s, f, : len(places)] = places
            served = [j for j, st in enumerate(plant.stations) if st.transport == fleet.id]
            first_dock = served[0] if served else 0
            start[s, :V][vehicle_fleet[:V] == f] = (
                home[s, f] if home[s, f] != NO_PLACE else first_dock)
    servers = np.array([[st.servers for st in p.stations] for p in plants])
    requests = int(servers.sum(axis=1).max()) + 2
    return FleetPlan(
        ids=ids, kinds=tuple(f.kind for f in plants[0].transport),
        vehicle_fleet=vehicle_fleet, count=count, speed=speed,
        load=load, unload=unload, home=home,
        capacity=capacity, charge_time=charge_time,
        threshold=threshold, charger=charger,
        start=start, distance=distance,
        station_fleet=station_fleet, requests=requests,
    )


def shift_edges(shifts) -> tuple[list[float], bool]:
    """Hours of the week where a calendar's state changes, and whether it is on at time 0+."""
    spans = on_hours(shifts)

    def on(hour: float) -> bool:
        hour %= HOURS_PER_WEEK
        return any(a <= hour < b for a, b in spans)

    points = sorted({a for a, _ in spans} | {b % HOURS_PER_WEEK for _, b in spans})
    edges = [x for x in points if on(x - 1e-9) != on(x + 1e-9)]
    return edges, on(0.0)


def pool_plan(plants: list[Plant], slot_station: np.ndarray) -> PoolPlan | None:
    """The resource pools of a batch (None when no plant has one). All plants must name the
    same pools in one order with the same shifts; counts and station needs may differ."""
    ids = _same(plants, lambda p: tuple(q.id for q in p.resources),
                "all scenarios of a batch must have the same resource pools in one order")
    if not ids:
        return None
    calendars = _same(plants, lambda p: [shift_edges(q.shifts) if q.shifts else ([], True)
                                         for q in p.resources],
                      "all scenarios of a batch must give each pool the same shifts")
    S, Pn, J = len(plants), len(ids), len(plants[0].stations)
    A = max([len(alternatives(st.requires)) for p in plants for st in p.stations] + [1])
    count = np.zeros((S, Pn), np.int64)
    need = np.full((S, J + 1, A, Pn), NEVER, np.int64)
    factor = np.ones((S, J + 1, A))
    requires = np.zeros((S, J + 1), bool)
    for s, plant in enumerate(plants):
        index = {q.id: i for i, q in enumerate(plant.resources)}
        count[s] = [q.count for q in plant.resources]
        for j, st in enumerate(plant.stations):
            alts = alternatives(st.requires)
            requires[s, j] = bool(alts)
            for a, (units, time_factor) in enumerate(alts):
                need[s, j, a] = 0
                for pool, n in units.items():
                    need[s, j, a, index[pool]] = n
                factor[s, j, a] = time_factor
    N = max([len(e) for e, _ in calendars] + [1])
    edges = np.full((Pn, N), np.inf)
    for i, (e, _) in enumerate(calendars):
        edges[i, : len(e)] = e
    stations_with_needs = np.flatnonzero(requires.any(axis=0))
    slots = np.flatnonzero(np.isin(slot_station, stations_with_needs)
                           & (slot_station < J)).astype(np.int64)
    return PoolPlan(
        ids=ids, count=count, need=need,
        factor=factor, requires=requires, slots=slots,
        unit_stations=stations_with_needs.astype(np.int64),
        slot_unit=np.searchsorted(stations_with_needs, slot_station[slots]).astype(np.int64),
        edges=edges, edge_count=np.array([len(e) for e, _ in calendars], np.int64),
        on_at_start=np.array([on for _, on in calendars], bool),
    )
