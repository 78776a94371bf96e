"""Replay of one run: the event trace of `twin run CONFIG --trace FILE` played back on the 3D
view, as a video (MP4 or GIF) or in a window with a time slider.

`read_trace` reads and checks the trace; `state_at` gives the plant at any time: how many servers
of each station are in each state, the jobs waiting in each buffer, where each vehicle is (a
vehicle on a drive moves along the shortest aisle path between the two places, at the constant
speed that brings it there at the drive's arrival time) and the plant's draw. `Replay` draws
states on one pyvista Plotter, updating one merged mesh per kind of object in place, so that a
frame costs one render.

A trace of a plant with products or with splits and assemblies names, on each server and vehicle
row with a job, the job's product and kind (the optional columns ``product`` and ``part``;
older traces lack them). `state_at` counts the busy servers of each station holding each
product and kind, and says what each vehicle carries; ``color="product"`` (or ``"part"``) draws
busy servers and loaded vehicles in the colour of their job's product (or kind).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import TwinError
from twin.files import atomic_path, writing
from twin.viz.scene import Scene

SERVER_STATES = ("idle", "busy", "blocked", "down", "off", "waiting", "handover", "wait_units")
# what colour (of scene.STATES: idle, busy, blocked, down) each server state is drawn in
SERVER_GROUP = np.array([0, 1, 2, 3, 0, 2, 2, 2])
VEHICLE_STATES = ("idle", "to_pickup", "loading", "loaded", "unloading", "to_home",
                  "to_charger", "charge_wait", "charging", "off")
# what colour (of VEHICLE_COLORS) each vehicle state is drawn in
VEHICLE_GROUP = np.array([0, 1, 2, 3, 2, 1, 1, 4, 4, 5])
VEHICLE_COLORS = ("#9e9e9e", "#1f77b4", "#f2a900", "#d62728", "#2ca02c", "#444444")
VEHICLE_NAMES = ("idle", "driving empty", "loading, unloading", "loaded", "charging", "off")
JOB_COLOR = "#8c564b"
# What `--color` may colour a replay by: busy servers and loaded vehicles by their job's product
# or kind, in TAG_COLORS (in the order of the plant's `products` or `Plant.kinds()`; the colours
# repeat after eight names). They replace the busy green and the loaded red, and differ from
# the other state colours.
REPLAY_COLORS = ("product", "part")
TAG_COLORS = ("#17becf", "#ff7f0e", "#e377c2", "#bcbd22", "#393b79", "#8c6d31", "#843c39",
              "#637939")
CARRYING = ("loading", "loaded", "unloading")  # vehicle states with a job on board
DRIVES = ("to_pickup", "loaded", "to_home", "to_charger")
REQUIRED = ("time_h", "kind", "id", "index", "state", "place", "x", "y", "to_place", "to_x",
            "to_y", "arrive_h", "value", "plant_kw")
MAX_WAITING = 20  # job boxes drawn per station; the clock text gives the total
# Most frames of a video unless told otherwise: about a minute's rendering at 1600x1000 on two
# cores with software rendering (0.24 s a frame to MP4, 0.29 s to GIF; docs/viewer.md).
DEFAULT_FRAMES = 240


@dataclass
class _Steps:
    """Step functions of time, one per key: the value of the last event at or before t."""

    keys: int
    times: np.ndarray  # (E,) event times, sorted by key then time
    values: np.ndarray  # (E,) or (E, C) the value (or C values) from that event on
    key: np.ndarray  # (E,) key of each event
    default: np.ndarray  # (keys,) or (keys, C) the value before a key's first event

    @classmethod
    def of(cls, keys: int, key: np.ndarray, times: np.ndarray, values: np.ndarray,
           default: np.ndarray) -> _Steps:
        order = np.lexsort((np.arange(len(key)), times, key))  # stable within equal times
        return cls(keys, times[order], values[order], key[order], default)

    def at(self, t: float) -> np.ndarray:
        """Per key, its value at t: (keys,) or (keys, C)."""
        i = self.index_at(t)
        if not len(self.values):
            return self.default.copy()
        found = (i >= 0).reshape(-1, *[1] * (self.values.ndim - 1))
        return np.where(found, self.values[np.maximum(i, 0)], self.default)

    def index_at(self, t: float) -> np.ndarray:
        """Per key, the index of its last event at or before t, -1 where none."""
        if not len(self.times):
            return np.full(self.keys, -1)
        span = float(self.times.max() - min(self.times.min(), 0.0)) + 1.0
        base = min(float(self.times.min()), 0.0)
        flat = self.key * span + (self.times - base)
        q = np.arange(self.keys) * span + (min(max(t - base, 0.0), span - 0.5))
        i = np.searchsorted(flat, q, side="right") - 1
        ok = (i >= 0) & (self.key[np.maximum(i, 0)] == np.arange(self.keys))
        if t < base:
            ok[:] = False
        return np.where(ok, i, -1)


@dataclass
class Trace:
    """A trace read and checked against its plant (see `read_trace`)."""

    path: str
    plant_name: str
    station_ids: list[str]
    servers: np.ndarray  # (J,) server slots of each station
    start_h: float
    end_h: float
    # key: slot (stations' slots in order); values (3,): SERVER_STATES index, then the code of
    # the product and of the kind of the server's job (-1: no job, or not in the trace)
    server: _Steps
    slot_station: np.ndarray  # (K,)
    slot_rank: np.ndarray  # (K,)
    queue: _Steps  # key: station, value: jobs waiting
    vehicle: _Steps  # key: vehicle, value: row into the v_* arrays
    vehicle_fleet: list[str]
    v_time: np.ndarray
    v_state: np.ndarray  # VEHICLE_STATES index
    v_xy: np.ndarray  # (R, 2) where the row's vehicle is (the drive's start)
    v_arrive: np.ndarray  # NaN: not a drive
    v_path: np.ndarray  # index into paths, -1: not a drive
    v_product: np.ndarray  # (R,) code of the row's job's product, -1: none
    v_part: np.ndarray  # (R,) code of its kind, -1: none
    paths: list[tuple[np.ndarray, np.ndarray]]  # (cumulative length (n,), points (n, 2))
    v_home: np.ndarray  # (V, 2) where each vehicle is before its first row (NaN: unknown)
    pool_ids: list[str]
    pool_held: _Steps
    pool_on: _Steps
    kw_times: np.ndarray
    kw: np.ndarray
    exit_times: np.ndarray
    assembly: np.ndarray  # (J,) whether the station assembles (its queue counts parts)
    products: list[str]  # names of the product codes; empty: the trace has no products
    parts: list[str]  # names of the kind codes; empty: the trace has no kinds
    rows: int = 0

    def __repr__(self) -> str:
        return (f"Trace({self.path!r}: plant '{self.plant_name}', {self.rows} rows, "
                f"{self.start_h:g}-{self.end_h:g} h, {self.vehicle.keys} vehicles)")


@dataclass
class State:
    """The plant at time ``t`` (see `state_at`)."""

    t: float
    servers: np.ndarray  # (J, len(SERVER_STATES)) servers of each station in each state
    slot_state: np.ndarray  # (K,) state of each server slot (index into SERVER_STATES)
    slot_product: np.ndarray  # (K,) product code of each slot's job (Trace.products), -1: none
    slot_part: np.ndarray  # (K,) kind code of each slot's job (Trace.parts), -1: none
    busy_by_product: np.ndarray  # (J, len(Trace.products)) busy servers holding each product
    busy_by_part: np.ndarray  # (J, len(Trace.parts)) busy servers holding each kind
    queue: np.ndarray  # (J,) jobs waiting in each buffer (at an assembly: parts)
    vehicles: np.ndarray  # (V, 2) positions, NaN where unknown
    vehicle_state: np.ndarray  # (V,) index into VEHICLE_STATES
    vehicle_product: np.ndarray  # (V,) product code of the job on board, -1: none on board
    vehicle_part: np.ndarray  # (V,) kind code of the job on board, -1: none on board
    moving: np.ndarray  # (V,) on a drive at t
    pools: dict[str, tuple[int, bool]] = field(default_factory=dict)  # units held, on shift
    plant_kw: float = math.nan
    exits: int = 0  # jobs that left the plant by t

    def count(self, station: int, state: str) -> int:
        return int(self.servers[station, SERVER_STATES.index(state)])


# ---------------------------------------------------------------------------------------------
# reading


def read_trace(path: str | os.PathLike, plant: Any, config: str | None = None) -> Trace:
    """Read the trace file of `twin run CONFIG --trace FILE` (CSV, or Parquet with pyarrow) and
    check that it is from ``plant``. ``config`` names the plant's file in messages."""
    p = Path(path)
    flag = f"--replay {path}"
    fix = f"record it with `twin run {config or 'CONFIG'} --trace FILE`"
    if p.is_dir():
        raise TwinError(f"{flag}: is a folder; give the trace file ({fix})")
    if p.suffix == ".parquet":
        table = _read_parquet(p, flag, fix)
    else:
        table = _read_csv(p, flag, fix)
    return trace_from_table(table, plant, str(path), config)


def _read_csv(p: Path, flag: str, fix: str) -> dict[str, list[str]]:
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise TwinError(f"{flag}: the file is empty; {fix}")
            body = list(reader)
    except FileNotFoundError:
        raise TwinError(f"{flag}: no such file; {fix}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise TwinError(f"{flag}: cannot be read as a CSV trace "
                        f"({getattr(err, 'strerror', None) or err}); {fix}") from None
    _check_columns(header, flag, fix)
    width = len(header)
    for n, row in enumerate(body):
        if len(row) != width:
            raise TwinError(f"{flag}: line {n + 2} has {len(row)} fields, the header {width}; "
                            f"{fix}")
    cols = list(zip(*body, strict=True)) if body else [()] * width
    return {name: list(cols[i]) for i, name in enumerate(header)}


def _read_parquet(p: Path, flag: str, fix: str) -> dict[str, list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TwinError(f"{flag}: reading Parquet needs pyarrow (pip install pyarrow); or "
                        "record the trace as .csv") from None
    if not p.exists():
        raise TwinError(f"{flag}: no such file; {fix}")
    try:
        table = pq.read_table(p)
    except (OSError, ValueError) as err:  # pyarrow's errors derive from these
        raise TwinError(f"{flag}: cannot be read as a Parquet trace ({err}); {fix}") from None
    _check_columns(table.column_names, flag, fix)
    return {name: ["" if v is None else str(v) for v in table.column(name).to_pylist()]
            for name in table.column_names}


def _check_columns(header: list[str], flag: str, fix: str) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise TwinError(f"{flag}: not a twin trace (no column {', '.join(missing)}); {fix}")


def _floats(values: list[str], name: str, flag: str, fix: str) -> np.ndarray:
    try:  # NumPy parses the strings; the loop below only finds the bad one
        return np.array([v if v != "" else "nan" for v in values], dtype=float).reshape(-1)
    except ValueError:
        pass
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v != "":
            try:
                out[i] = float(v)
            except ValueError:
                raise TwinError(f"{flag}: line {i + 2}: {name} {v!r} is not a number; "
                                f"{fix}") from None
    return out


def trace_from_table(table: dict[str, list[str]], plant: Any, path: str = "trace",
                     config: str | None = None) -> Trace:
    """A `Trace` from columns of strings (as in the CSV file; "" for an empty cell)."""
    flag = f"--replay {path}"
    fix = f"record it with `twin run {config or 'CONFIG'} --trace FILE`"
    where = config or f"plant '{plant.name}'"
    kind = np.array(table["kind"], dtype=object)
    ids = np.array(table["id"], dtype=object)
    time = _floats(table["time_h"], "time_h", flag, fix)
    if np.isnan(time).any():
        raise TwinError(f"{flag}: line {int(np.flatnonzero(np.isnan(time))[0]) + 2} has no "
                        f"time_h; {fix}")
    station_ids = [s.id for s in plant.stations]
    fleets = [f.id for f in plant.transport]
    pools = [r.id for r in plant.resources]
    for what, kinds, known in (("station", ("server", "queue"), station_ids),
                               ("fleet", ("vehicle",), fleets), ("pool", ("pool",), pools)):
        mask = np.isin(kind, kinds)
        strange = sorted(set(ids[mask]) - set(known))
        if strange:
            raise TwinError(f"{flag}: this trace is from another plant ({what} "
                            f"'{strange[0]}' is not in {where}); {fix}")
    unknown = sorted(set(kind) - {"server", "vehicle", "queue", "pool", "exit"})
    if unknown:
        raise TwinError(f"{flag}: unknown row kind '{unknown[0]}'; {fix}")
    index = _floats(table["index"], "index", flag, fix)
    value = _floats(table["value"], "value", flag, fix)
    state = np.array(table["state"], dtype=object)
    J = len(station_ids)
    sidx = {s: j for j, s in enumerate(station_ids)}

    # servers: one key per (station, rank)
    is_server = kind == "server"
    s_station = np.array([sidx[s] for s in ids[is_server]], dtype=int)
    s_rank = np.nan_to_num(index[is_server], nan=0).astype(int)
    servers = np.array([s.servers for s in plant.stations], dtype=int)
    if len(s_rank):
        np.maximum.at(servers, s_station, s_rank + 1)
    first_slot = np.concatenate([[0], np.cumsum(servers)[:-1]])
    slot_station = np.repeat(np.arange(J), servers)
    slot_rank = np.arange(int(servers.sum())) - first_slot[slot_station]
    s_code = _codes(state[is_server], SERVER_STATES, "server state", flag, fix)
    products = list(plant.products or {})
    product, products = _tags(table.get("product"), len(time), products, "product", where,
                              flag, fix)
    part, parts = _tags(table.get("part"), len(time), plant.kinds(), "kind", where, flag, fix)
    slots = int(servers.sum())
    server = _Steps.of(slots, first_slot[s_station] + s_rank, time[is_server],
                       np.column_stack([s_code, product[is_server], part[is_server]]),
                       np.tile([0, -1, -1], (slots, 1)))

    is_queue = kind == "queue"
    queue = _Steps.of(J, np.array([sidx[s] for s in ids[is_queue]], dtype=int), time[is_queue],
                      np.nan_to_num(value[is_queue]).astype(int), np.zeros(J, dtype=int))

    # vehicles
    is_vehicle = kind == "vehicle"
    v_rows = np.flatnonzero(is_vehicle)
    v_index = np.nan_to_num(index[is_vehicle], nan=0).astype(int)
    vehicle_fleet = [f.id for f in plant.transport for _ in range(int(f.count))]
    V = max(len(vehicle_fleet), int(v_index.max()) + 1 if len(v_index) else 0)
    for v, f in zip(v_index, ids[is_vehicle], strict=True):
        if v >= len(vehicle_fleet):
            vehicle_fleet += [""] * (v + 1 - len(vehicle_fleet))
        if not vehicle_fleet[v]:
            vehicle_fleet[v] = f
    v_time = time[is_vehicle]
    v_state = _codes(state[is_vehicle], VEHICLE_STATES, "vehicle state", flag, fix)
    xy = np.column_stack([_floats([table["x"][i] for i in v_rows], "x", flag, fix),
                          _floats([table["y"][i] for i in v_rows], "y", flag, fix)])
    to_xy = np.column_stack([_floats([table["to_x"][i] for i in v_rows], "to_x", flag, fix),
                             _floats([table["to_y"][i] for i in v_rows], "to_y", flag, fix)])
    arrive = _floats([table["arrive_h"][i] for i in v_rows], "arrive_h", flag, fix)
    place = [table["place"][i] for i in v_rows]
    to_place = [table["to_place"][i] for i in v_rows]
    drive = ~np.isnan(arrive) & ~np.isnan(to_xy).any(axis=1)
    router = _Router(plant)
    v_path = np.full(len(v_rows), -1)
    paths: list[tuple[np.ndarray, np.ndarray]] = []
    known: dict[tuple, int] = {}
    for r in np.flatnonzero(drive):
        k = (place[r], to_place[r], *xy[r], *to_xy[r])
        if k not in known:
            known[k] = len(paths)
            paths.append(router.path(place[r], to_place[r], xy[r], to_xy[r]))
        v_path[r] = known[k]
    arrive = np.where(drive, arrive, np.nan)
    vehicle = _Steps.of(V, v_index, v_time, np.arange(len(v_rows)), np.full(V, -1))
    v_home = np.full((V, 2), np.nan)
    for v in range(V):  # before its first row a vehicle is where that row starts
        mine = np.flatnonzero(vehicle.key == v)
        if len(mine):
            v_home[v] = xy[vehicle.values[mine[0]]]
        elif vehicle_fleet[v] in router.homes:
            v_home[v] = router.homes[vehicle_fleet[v]]

    is_pool = kind == "pool"
    p_key = np.array([pools.index(s) for s in ids[is_pool]], dtype=int)
    pool_held = _Steps.of(len(pools), p_key, time[is_pool],
                          np.nan_to_num(value[is_pool]).astype(int),
                          np.zeros(len(pools), dtype=int))
    pool_on = _Steps.of(len(pools), p_key, time[is_pool], state[is_pool] == "on",
                        np.ones(len(pools), dtype=bool))

    kw_all = _floats(table["plant_kw"], "plant_kw", flag, fix)
    has_kw = ~np.isnan(kw_all)
    order = np.argsort(time[has_kw], kind="stable")
    ends = [time.max() if len(time) else 0.0]
    if drive.any():
        ends.append(float(np.nanmax(arrive)))
    return Trace(
        path=str(path), plant_name=plant.name, station_ids=station_ids, servers=servers,
        start_h=0.0, end_h=float(max(ends)), server=server, slot_station=slot_station,
        slot_rank=slot_rank, queue=queue, vehicle=vehicle, vehicle_fleet=vehicle_fleet,
        v_time=v_time, v_state=v_state, v_xy=xy, v_arrive=arrive, v_path=v_path,
        v_product=product[is_vehicle], v_part=part[is_vehicle], paths=paths,
        v_home=v_home, pool_ids=pools, pool_held=pool_held, pool_on=pool_on,
        kw_times=time[has_kw][order], kw=kw_all[has_kw][order],
        exit_times=np.sort(time[kind == "exit"]),
        assembly=np.array([s.assemble is not None for s in plant.stations], dtype=bool),
        products=products, parts=parts, rows=len(time))


def _codes(values: np.ndarray, names: tuple[str, ...], what: str, flag: str,
           fix: str) -> np.ndarray:
    lookup = {n: i for i, n in enumerate(names)}
    out = np.empty(len(values), dtype=int)
    for i, v in enumerate(values):
        if v not in lookup:
            raise TwinError(f"{flag}: unknown {what} '{v}'; {fix}")
        out[i] = lookup[v]
    return out


def _tags(values: list[str] | None, rows: int, known: list[str], what: str, where: str,
          flag: str, fix: str) -> tuple[np.ndarray, list[str]]:
    """(rows,) codes of an optional column of names (``product`` or ``part``; -1 where a cell
    is empty) and the names they index: ``known``, or none when the column is absent or empty
    (traces of plants without products or parts, and traces recorded before these columns)."""
    if values is None:
        return np.full(rows, -1), []
    lookup = {"": -1} | {name: i for i, name in enumerate(known)}
    names = set(values)
    strange = sorted(names - set(lookup))
    if strange:
        raise TwinError(f"{flag}: this trace is from another plant ({what} '{strange[0]}' is "
                        f"not in {where}); {fix}")
    codes = np.array([lookup[v] for v in values], dtype=int).reshape(-1)
    return codes, (list(known) if names - {""} else [])


class _Router:
    """Shortest aisle paths between places, as polylines: the access leg from the place to its
    foot on the aisle, the aisle graph's shortest node path (SciPy's Dijkstra with
    predecessors), and the leg to the other place."""

    def __init__(self, plant: Any):
        from twin.config.geometry import plant_geometry

        self.geo = plant_geometry(plant) if plant.layout is not None else None
        self.homes: dict[str, np.ndarray] = {}
        self._from: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        if self.geo is None:
            return
        g = self.geo
        for fleet, i in g.homes.items():
            self.homes[fleet] = g.points[i]
        self.place = {name: i for i, name in enumerate(g.places)}
        self.nodes, edges = g.aisle_nodes, g.aisle_edges
        if len(edges) == 0:
            self.geo = None
            return
        from scipy.sparse import coo_matrix

        n = len(self.nodes)
        w = np.linalg.norm(self.nodes[edges[:, 0]] - self.nodes[edges[:, 1]], axis=1)
        self.graph = coo_matrix((np.concatenate([w, w]), (np.concatenate(edges.T[::-1]),
                                                          np.concatenate(edges.T))),
                                shape=(n, n)).tocsr()
        self.segments = self.nodes[edges]

    def _feet(self, point: np.ndarray) -> np.ndarray:
        """Aisle nodes where a place can join the aisle: those as near as its nearest aisle
        point (the engine cuts the aisle there, so the foot is a node)."""
        from twin.config.geometry import nearest_aisle_points

        foot = nearest_aisle_points(point[None], self.segments)[0][0]
        gap = np.linalg.norm(self.nodes - point, axis=1)
        best = float(np.linalg.norm(foot - point))
        feet = np.flatnonzero(gap <= best + 1e-6 * max(1.0, best))
        return feet if len(feet) else np.array([int(np.argmin(gap))])

    def path(self, a: str, b: str, pa: np.ndarray, pb: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        pa, pb = np.asarray(pa, float), np.asarray(pb, float)
        points = np.array([pa, pb])
        if self.geo is not None and a != b and a in self.place and b in self.place and \
                np.isfinite(self.geo.distance[self.place[a], self.place[b]]):
            points = self._route(self.place[a], self.place[b], pa, pb)
        return _polyline(points)

    def _route(self, a: int, b: int, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
        from scipy.sparse.csgraph import shortest_path

        if a not in self._from:
            feet = self._feet(pa)
            dist, pred = shortest_path(self.graph, method="D", directed=False, indices=feet,
                                       return_predecessors=True)
            self._from[a] = (feet, dist, pred)
        feet, dist, pred = self._from[a]
        ends = self._feet(pb)
        total = (np.linalg.norm(self.nodes[feet] - pa, axis=1)[:, None] + dist[:, ends]
                 + np.linalg.norm(self.nodes[ends] - pb, axis=1)[None])
        i, k = np.unravel_index(int(np.argmin(total)), total.shape)
        if not np.isfinite(total[i, k]):
            return np.array([pa, pb])
        chain = [int(ends[k])]
        while chain[-1] != feet[i]:
            chain.append(int(pred[i, chain[-1]]))
        return np.concatenate([[pa], self.nodes[chain[::-1]], [pb]])


def _polyline(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(len(points), bool)
    keep[1:] = np.linalg.norm(np.diff(points, axis=0), axis=1) > 1e-9
    points = points[keep]
    cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    return cum, points


# ---------------------------------------------------------------------------------------------
# state at a time


def state_at(trace: Trace, t: float) -> State:
    """The plant at time ``t`` (hours): servers per state (and the busy ones per product and
    kind), queues, vehicles and what they carry, pools and kW. Servers are idle, queues empty
    and pools on shift until their first row."""
    slot, slot_product, slot_part = trace.server.at(t).T
    J = len(trace.station_ids)
    counts = np.zeros((J, len(SERVER_STATES)), dtype=int)
    np.add.at(counts, (trace.slot_station, slot), 1)
    busy = slot == SERVER_STATES.index("busy")
    by_tag = []
    for codes, names in ((slot_product, trace.products), (slot_part, trace.parts)):
        held = np.zeros((J, len(names)), dtype=int)
        mine = busy & (codes >= 0)
        np.add.at(held, (trace.slot_station[mine], codes[mine]), 1)
        by_tag.append(held)
    V = trace.vehicle.keys
    row = trace.vehicle.at(t)
    pos = trace.v_home.copy()
    vstate = np.zeros(V, dtype=int)
    moving = np.zeros(V, dtype=bool)
    on_board = np.full((V, 2), -1)
    carrying = [VEHICLE_STATES.index(name) for name in CARRYING]
    for v in np.flatnonzero(row >= 0):
        r = int(row[v])
        vstate[v] = trace.v_state[r]
        if vstate[v] in carrying:
            on_board[v] = trace.v_product[r], trace.v_part[r]
        k = int(trace.v_path[r])
        if k < 0:
            pos[v] = trace.v_xy[r]
            continue
        cum, pts = trace.paths[k]
        t0, t1 = float(trace.v_time[r]), float(trace.v_arrive[r])
        share = 1.0 if t1 <= t0 else min(max((t - t0) / (t1 - t0), 0.0), 1.0)
        moving[v] = share < 1.0
        if share >= 1.0 and VEHICLE_STATES[vstate[v]] == "to_home":
            vstate[v] = 0  # home: idle
        d = share * cum[-1]
        pos[v] = (np.interp(d, cum, pts[:, 0]), np.interp(d, cum, pts[:, 1])) if len(cum) > 1 \
            else pts[0]
    held, on = trace.pool_held.at(t), trace.pool_on.at(t)
    pools = {pid: (int(held[i]), bool(on[i])) for i, pid in enumerate(trace.pool_ids)}
    i = int(np.searchsorted(trace.kw_times, t, side="right")) - 1
    kw = float(trace.kw[i]) if i >= 0 else (float(trace.kw[0]) if len(trace.kw) else math.nan)
    return State(t=float(t), servers=counts, slot_state=slot, slot_product=slot_product,
                 slot_part=slot_part, busy_by_product=by_tag[0], busy_by_part=by_tag[1],
                 queue=trace.queue.at(t), vehicles=pos, vehicle_state=vstate,
                 vehicle_product=on_board[:, 0], vehicle_part=on_board[:, 1], moving=moving,
                 pools=pools, plant_kw=kw,
                 exits=int(np.searchsorted(trace.exit_times, t, side="right")))


def color_names(trace: Trace, color: str | None) -> list[str]:
    """The names whose colours a replay coloured by ``color`` (None, or one of REPLAY_COLORS)
    draws: the trace's products or kinds. A trace without them cannot be coloured so."""
    if color is None:
        return []
    if color not in REPLAY_COLORS:
        raise TwinError(f"--color {color}: a replay is coloured by "
                        f"{' or '.join(REPLAY_COLORS)}; or leave out --color")
    names = trace.products if color == "product" else trace.parts
    if not names:
        what = ("products", "`products`") if color == "product" else (
            "parts", "a `split` or an `assemble`")
        raise TwinError(f"--color {color}: the trace {trace.path} has no {what[0]} (its plant "
                        f"has no {what[1]}, or the trace is older than that); leave out "
                        f"--color, or record the trace again with `twin run CONFIG --trace "
                        f"FILE`")
    return names


def clock(t: float) -> str:
    """``day 2 07:30`` for t = 31.5 h (day 1 starts at 0)."""
    minutes = round(t * 60)
    day, rest = divmod(minutes, 24 * 60)
    return f"day {day + 1} {rest // 60:02d}:{rest % 60:02d}"


# ---------------------------------------------------------------------------------------------
# drawing


class Replay:
    """One Plotter with the scene and the moving parts of a trace; `update(t)` redraws them in
    place (one merged mesh each for stations, racks, waiting jobs and vehicles)."""

    def __init__(self, scene: Scene, trace: Trace, size: tuple[int, int] = (1280, 720),
                 camera: str = "iso", off_screen: bool = True, color: str | None = None):
        from twin.viz import render

        if list(scene.station_ids) != list(trace.station_ids):
            raise TwinError(f"--replay {trace.path}: the trace's stations are not the view's; "
                            "give the same config to `twin run --trace` and `twin view`")
        self.scene, self.trace = scene, trace
        # ``color``: busy servers and loaded vehicles take the colour of their job's product
        # or kind, drawn after the state colours in each mesh's colour map
        self.color, self.names = color, color_names(trace, color)
        self.tag_colors = [TAG_COLORS[i % len(TAG_COLORS)] for i in range(len(self.names))]
        # The replay colours by server state over time: a colouring by results (--results
        # --color), its colour bar and its bottleneck outline would contradict it.
        plain = dataclasses.replace(scene, color=None, values=None, value_label="",
                                    state_names=(), bottleneck=None)
        busy_by = f", busy ones by {color}" if color else ""
        p = render.plotter(plain, size=size, off_screen=off_screen, labels=False,
                           title=f"{scene.name}: replay, stations and racks by server "
                                 f"state{busy_by}")
        self.plotter = p
        tops = np.column_stack([(scene.lo[:, :2] + scene.hi[:, :2]) / 2,
                                np.maximum(scene.hi[:, 2], 2.5) + 1.0])
        p.add_point_labels(tops, list(scene.station_ids), font_size=11, point_size=1,
                           shape_opacity=0.6, always_visible=True, name="labels",
                           show_points=False)
        self.stations = self._coloured("stations", scene.lo, scene.hi)
        self.racks = (self._coloured("racks", scene.bay_lo, scene.bay_hi)
                      if len(scene.bay_lo) else None)
        self.bay_slot = self._bay_slots()
        span = float(max(scene.floor))
        self.unit = min(max(0.006 * span, 0.5), 3.0)  # metres: the size of a job box
        self.jobs = self._job_mesh()
        self.vehicles = self._vehicle_mesh()
        self.text = p.add_text("", position="upper_right", font_size=10, color="black",
                               name="clock")
        self._add_legend()
        render.set_camera(p, scene, camera)
        self.t = math.nan

    def legend(self) -> list[tuple[str, str]]:
        """What each colour means: (label, colour) for the server states, the waiting jobs and,
        with a fleet, what vehicles do. Coloured by product or kind, one entry per name takes
        the place of busy servers and loaded vehicles."""
        from twin.viz.render import STATE_COLORS
        from twin.viz.scene import STATES

        fleet = bool(self.trace.vehicle.keys)
        tagged = [(f"{name}: busy{' or loaded' if fleet else ''}", colour)
                  for name, colour in zip(self.names, self.tag_colors, strict=True)]
        entries = []
        for name, colour in zip(STATES, STATE_COLORS, strict=True):
            entries += tagged if tagged and name == "busy" else [(f"server {name}", colour)]
        entries.append(("job waiting", JOB_COLOR))
        if fleet:
            entries += [(f"vehicle {name}", colour)
                        for name, colour in zip(VEHICLE_NAMES, VEHICLE_COLORS, strict=True)
                        if not (tagged and name == "loaded")]
        return entries

    def _add_legend(self) -> None:
        """The legend in the lower right corner, clear of the player's time slider: black text,
        each entry with a square of its colour."""
        from vtkmodules.util.numpy_support import numpy_to_vtk
        from vtkmodules.vtkCommonDataModel import vtkImageData

        from twin.viz.render import hex_rgb

        entries = self.legend()
        width, height = 0.2, 0.03 * len(entries)  # shares of the window
        box = self.plotter.add_legend([[label, "black", "none"] for label, _ in entries],
                                      bcolor="white", size=(width, height), name="legend")
        box.SetPosition(0.99 - width, 0.01)
        for i, (_, colour) in enumerate(entries):
            square = vtkImageData()
            square.SetDimensions(8, 8, 1)
            pixels = numpy_to_vtk(np.tile(hex_rgb(colour), (64, 1)), deep=True)
            square.GetPointData().SetScalars(pixels)
            box.SetEntryIcon(i, square)

    def _coloured(self, name: str, lo: np.ndarray, hi: np.ndarray):
        """Boxes coloured by server state (idle, busy, blocked, down), replacing the plain ones
        the scene drew; returns the mesh whose ``state`` cell array `update` rewrites."""
        from matplotlib.colors import ListedColormap

        from twin.viz.render import STATE_COLORS, boxes

        mesh = boxes(lo, hi)
        mesh.cell_data["state"] = np.zeros(mesh.n_cells)
        colours = [*STATE_COLORS, *self.tag_colors]
        self.plotter.add_mesh(mesh, scalars="state", cmap=ListedColormap(colours),
                              clim=[-0.5, len(colours) - 0.5], n_colors=len(colours), name=name,
                              show_scalar_bar=False)
        shown = self.plotter.actors[name].mapper.dataset
        return shown if shown is not None and shown.n_cells == mesh.n_cells else mesh

    def _bay_slots(self) -> np.ndarray:
        """Trace slot of each drawn rack (a station's k-th bay is its k-th server)."""
        s = self.scene
        rank = np.zeros(len(s.bay_station), dtype=int)
        for j in np.unique(s.bay_station):
            mine = np.flatnonzero(s.bay_station == j)
            rank[mine] = np.arange(len(mine))
        first = np.concatenate([[0], np.cumsum(self.trace.servers)[:-1]])
        return first[s.bay_station] + rank

    def _job_mesh(self):
        """MAX_WAITING box places per station, in rows along the station's front (low y)."""
        from twin.viz.render import boxes

        s, u = self.scene, self.unit
        pitch = 1.5 * u
        J = len(s.station_ids)
        width = s.hi[:, 0] - s.lo[:, 0]
        per_row = np.maximum(1, np.floor(width / pitch)).astype(int)
        k = np.arange(MAX_WAITING)
        x = s.lo[:, 0, None] + (k[None] % per_row[:, None]) * pitch + 0.25 * u
        y = s.lo[:, 1, None] - (k[None] // per_row[:, None] + 1) * pitch
        lo = np.stack([x, y, np.zeros((J, MAX_WAITING))], axis=-1).reshape(-1, 3)
        self.job_lo = lo
        self.job_hi = lo + u
        mesh = boxes(self.job_lo, self.job_lo)  # all hidden: zero size
        self.plotter.add_mesh(mesh, color=JOB_COLOR, name="jobs")
        return mesh

    def _vehicle_mesh(self):
        from matplotlib.colors import ListedColormap

        from twin.viz.render import boxes

        V = self.trace.vehicle.keys
        self.vsize = np.array([2.4, 1.6, 1.2]) * self.unit
        zero = np.zeros((max(V, 1), 3))
        mesh = boxes(zero, zero)
        mesh.cell_data["vehicle"] = np.zeros(6 * max(V, 1))
        colours = [*VEHICLE_COLORS, *self.tag_colors]
        self.plotter.add_mesh(mesh, scalars="vehicle", cmap=ListedColormap(colours),
                              clim=[-0.5, len(colours) - 0.5], n_colors=len(colours),
                              show_scalar_bar=False, name="vehicles")
        return self.plotter.actors["vehicles"].mapper.dataset

    def update(self, t: float) -> State:
        """Draw the plant at time t (hours); returns its state."""
        from twin.viz.render import boxes

        st = state_at(self.trace, t)
        trace = self.trace
        stations, racks, loads = self.colour_codes(st)
        self.stations.cell_data["state"] = np.repeat(stations.astype(float), 6)
        if self.racks is not None:
            self.racks.cell_data["state"] = np.repeat(racks.astype(float), 6)
        shown = np.arange(MAX_WAITING)[None] < np.minimum(st.queue, MAX_WAITING)[:, None]
        hi = np.where(shown.reshape(-1, 1), self.job_hi, self.job_lo)
        self.jobs.points = boxes(self.job_lo, hi).points
        V = trace.vehicle.keys
        if V:
            ok = np.isfinite(st.vehicles).all(axis=1)
            centre = np.column_stack([np.nan_to_num(st.vehicles), np.full(V, 0.0)])
            half = np.where(ok[:, None], self.vsize / 2, 0.0)
            lo = centre - half * np.array([1, 1, 0])
            vhi = centre + half * np.array([1, 1, 2])
            self.vehicles.points = boxes(lo, vhi).points
            self.vehicles.cell_data["vehicle"] = np.repeat(loads.astype(float), 6)
        self.text.SetText(3, self.clock_text(st))
        self.t = float(t)
        return st

    def colour_codes(self, st: State) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Colour of each station block (J,) and rack (B,), as indices into the station
        meshes' colours (scene.STATES, then tag_colors), and of each vehicle (V,), into
        VEHICLE_COLORS then tag_colors. A block takes the state of most of its servers (ties:
        busy, blocked, down, idle); coloured by product or kind, a busy block takes the one
        most of its busy servers hold."""
        J = len(self.scene.station_ids)
        groups = np.zeros((J, 4))
        np.add.at(groups, (np.arange(J)[:, None].repeat(len(SERVER_STATES), 1),
                           SERVER_GROUP[None].repeat(J, 0)), st.servers)
        stations = np.array([1, 2, 3, 0])[np.argmax(groups[:, [1, 2, 3, 0]], axis=1)]
        racks = SERVER_GROUP[st.slot_state[self.bay_slot]]
        loads = VEHICLE_GROUP[st.vehicle_state]
        if self.color is None:
            return stations, racks, loads
        slot_tag, busy_by, vehicle_tag = (
            (st.slot_product, st.busy_by_product, st.vehicle_product) if self.color == "product"
            else (st.slot_part, st.busy_by_part, st.vehicle_part))
        first = groups.shape[1]  # the tag colours follow the four state colours
        stations = np.where((stations == 1) & (busy_by.sum(axis=1) > 0),
                            first + np.argmax(busy_by, axis=1), stations)
        tag = slot_tag[self.bay_slot]
        busy = st.slot_state[self.bay_slot] == SERVER_STATES.index("busy")
        racks = np.where(busy & (tag >= 0), first + tag, racks)
        loaded = st.vehicle_state == VEHICLE_STATES.index("loaded")
        loads = np.where(loaded & (vehicle_tag >= 0), len(VEHICLE_COLORS) + vehicle_tag, loads)
        return stations, racks, loads

    def clock_text(self, st: State) -> str:
        """The lines in the upper right corner: the clock, the plant's MW, jobs waiting (and
        parts waiting at assemblies) and out, vehicles driving, and when coloured by product or
        kind, the busy servers of each."""
        trace = self.trace
        waiting = int(st.queue[~trace.assembly].sum())
        parts = (f"{int(st.queue[trace.assembly].sum())} parts waiting at assemblies, "
                 if trace.assembly.any() else "")
        text = [clock(st.t)]
        if np.isfinite(st.plant_kw):
            text.append(f"plant {st.plant_kw / 1000:.2f} MW")
        text.append(f"{waiting} jobs waiting, {parts}{st.exits} out")
        V = trace.vehicle.keys
        if V:
            text.append(f"{int(st.moving.sum())} of {V} vehicles driving")
        if self.color is not None:
            busy = (st.busy_by_product if self.color == "product" else st.busy_by_part).sum(0)
            text.append("busy: " + ", ".join(f"{name} {int(n)}"
                                             for name, n in zip(self.names, busy, strict=True)))
        return "\n".join(text)

    def image(self) -> np.ndarray:
        """The current frame as an (H, W, 3) uint8 array."""
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3]

    def close(self) -> None:
        self.plotter.close()


def frame_times(trace: Trace, fps: float, speed: float, max_frames: int = DEFAULT_FRAMES,
                start_h: float | None = None, end_h: float | None = None) -> np.ndarray:
    """Times (hours) of the frames of a video: ``speed`` simulated hours per second of video,
    ``fps`` frames a second, ceil(duration / speed * fps) frames. Over ``max_frames`` the video
    keeps ``max_frames`` frames over the same span (so it plays faster than ``speed``)."""
    if max_frames < 1:
        raise TwinError(f"--frames {max_frames}: must be 1 or more")
    a = trace.start_h if start_h is None else float(start_h)
    b = trace.end_h if end_h is None else float(end_h)
    if b < a:
        raise TwinError(f"replay from {a:g} h to {b:g} h: the end is before the start")
    n = frames_at_speed(b - a, fps, speed)
    if n <= max_frames:
        return a + np.arange(n) * speed / fps
    return np.linspace(a, b, max_frames)


def frames_at_speed(span_h: float, fps: float, speed: float) -> int:
    """Frames a video of ``span_h`` simulated hours has at ``speed`` hours a second and ``fps``
    frames a second, with no cap."""
    if not (fps > 0 and speed > 0):
        raise TwinError(f"--fps {fps} --speed {speed}: both must be above 0")
    return max(1, math.ceil(span_h / speed * fps - 1e-9))


def frames(scene: Scene, trace: Trace, times, size: tuple[int, int] = (1280, 720),
           camera: str = "iso", color: str | None = None):
    """The frames at ``times`` (hours), as (H, W, 3) uint8 arrays, from one off-screen
    Plotter (``color``: as `Replay`'s)."""
    r = Replay(scene, trace, size=size, camera=camera, off_screen=True, color=color)
    try:
        for t in times:
            r.update(float(t))
            yield r.image()
    finally:
        r.close()


def write_video(scene: Scene, trace: Trace, path: str | os.PathLike, fps: float = 24,
                speed: float = 1.0, size: tuple[int, int] = (1280, 720), camera: str = "iso",
                max_frames: int = DEFAULT_FRAMES, start_h: float | None = None,
                end_h: float | None = None, color: str | None = None) -> tuple[Path, int]:
    """Write the replay as an MP4 (H.264; imageio with imageio-ffmpeg) or, for a ``.gif`` path,
    an animated GIF (Pillow); through a temporary file in the same folder and a rename.
    ``speed``: simulated hours per second of video; ``color``: as `Replay`'s. Returns the path
    and the number of frames."""
    out = Path(path)
    flag = f"--video {path}"
    suffix = out.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise TwinError(f"{flag}: give a file ending in .mp4 or .gif")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise TwinError(f"{flag}: the folder {folder} does not exist; create it or choose "
                        "another path")
    size = (int(size[0]) // 2 * 2, int(size[1]) // 2 * 2)  # H.264 wants even sides
    times = frame_times(trace, fps, speed, max_frames, start_h, end_h)
    if suffix == ".mp4":
        try:
            import imageio.v2 as iio
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise TwinError(f"{flag}: MP4 needs imageio and imageio-ffmpeg (pip install imageio "
                            "imageio-ffmpeg); or give a .gif file") from None
    count = 0
    with writing(flag, "the video"), atomic_path(out) as tmp:
        if suffix == ".mp4":
            writer = iio.get_writer(str(tmp), format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                    quality=7, pixelformat="yuv420p", macro_block_size=2,
                                    ffmpeg_log_level="error")
            try:
                for image in frames(scene, trace, times, size, camera, color):
                    writer.append_data(image)
                    count += 1
            finally:
                writer.close()
        else:
            from PIL import Image

            images = []
            for image in frames(scene, trace, times, size, camera, color):
                images.append(Image.fromarray(image).quantize(
                    colors=256, method=Image.Quantize.MEDIANCUT))
            count = len(images)
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=max(20, round(1000 / fps)), loop=0)
    return out, count


@dataclass
class Player:
    """What `play` built: the replay, and its callbacks (for tests and embedding)."""

    replay: Replay
    seek: Any  # seek(t): the slider's callback
    toggle: Any  # toggle(playing): the checkbox's callback
    tick: Any  # tick(step=None): the timer's callback
    slider: Any = None


def play(scene: Scene, trace: Trace, size: tuple[int, int] = (1600, 1000), camera: str = "iso",
         seconds: float = 60.0, off_screen: bool = False, show: bool = True,
         color: str | None = None) -> Player:
    """A window with the replay: a time slider (hours) and a play/pause box (lower left); played,
    the whole trace takes ``seconds``. With ``show=False`` the window is built, not shown.
    ``color``: as `Replay`'s."""
    r = Replay(scene, trace, size=size, camera=camera, off_screen=off_screen, color=color)
    p = r.plotter
    a, b = trace.start_h, max(trace.end_h, trace.start_h + 1e-6)
    step_ms = 50
    dt = (b - a) / (seconds * 1000 / step_ms)
    playing = {"on": False}
    player = Player(r, None, None, None)

    def seek(value: float) -> None:
        r.update(float(value))

    def toggle(flag: bool) -> None:
        playing["on"] = bool(flag)

    def tick(step: Any = None) -> None:
        if not playing["on"]:
            return
        t = r.t + dt if np.isfinite(r.t) and r.t + dt <= b else a
        if player.slider is not None:
            player.slider.GetRepresentation().SetValue(t)
        r.update(t)
        p.render()

    player.seek, player.toggle, player.tick = seek, toggle, tick
    player.slider = p.add_slider_widget(seek, [a, b], value=a, title="hours",
                                        pointa=(0.25, 0.13), pointb=(0.75, 0.13), style="modern",
                                        fmt="%.1f", interaction_event="always")
    p.add_checkbox_button_widget(toggle, value=False, position=(10, 10), size=36,
                                 color_on="#2e9e5b", color_off="#b8c2cc")
    p.add_text("play", position=(52, 18), font_size=10, color="black", name="play_label")
    r.update(a)
    if show:
        if p.iren is not None:
            p.add_timer_event(max_steps=10**9, duration=step_ms, callback=tick)
        p.show(title=f"twin replay: {scene.name}")
    return player
