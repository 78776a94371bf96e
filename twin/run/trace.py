"""The event trace of one replication, for replay in the viewer (``twin run --trace FILE``).

The chosen replication runs alone, through the same compiled engine and the same driver
(with every check of a run) as every other lane, with its trace recorder on: its random
streams are keyed by its replication index, so it is exactly the lane of that index in a full
run. After each event the lane writes one row per change (:mod:`twin.engine.recorder`); the
driver hands the rows over between time slices. Rows are:

``server``   a server's state (idle, busy, blocked, down, waiting, handover, wait_units, off)
``vehicle``  a vehicle's state; a drive also gives where it started and where it is going
``queue``    the number of jobs waiting in a station's buffer (at an assembly: parts)
``pool``     units of a pool held, and whether it is on shift
``exit``     a job leaving the plant

Every row has the time, the place and its coordinates where one applies, the job (numbered in
the order jobs entered the plant; the engine itself only knows each job by its entry time: a
part has its order's number), with a power model the plant's draw in kW from that time on, and
for a server or vehicle with a job, in a plant with splits or assemblies the job's kind
(``part``: ``order`` or a part kind) and with products its product.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from twin._backend import get_backend
from twin.compile import compile_plant
from twin.compile.arrays import engine_params
from twin.compile.flow import expected_exits
from twin.config import Plant
from twin.config.geometry import plant_geometry
from twin.engine import codes, layout
from twin.errors import TwinError
from twin.files import write_atomic, writing
from twin.run import driver, memory
from twin.run.targets import State, Target


class TraceRow(NamedTuple):
    """One row of the trace; ``""`` where a column does not apply to the row's kind."""

    time_h: float
    kind: str  # server, vehicle, queue, pool, exit
    id: str = ""  # the station, fleet or pool
    index: int | str = ""  # the server's rank at its station, or the vehicle's number
    state: str = ""
    place: str = ""  # where it is (a place of twin.config.geometry), and its coordinates
    x: float | str = ""
    y: float | str = ""
    to_place: str = ""  # where a drive goes, and when it arrives there
    to_x: float | str = ""
    to_y: float | str = ""
    arrive_h: float | str = ""
    job: int | str = ""
    value: int | float | str = ""  # jobs in a queue, units of a pool held, a battery's level
    plant_kw: float | str = ""
    part: str = ""  # the job's kind (order or a part kind), with splits or assemblies
    product: str = ""  # its product, with products


COLUMNS = TraceRow._fields
VEHICLE_STATES = dict(enumerate(codes.VEHICLE_STATES, start=codes.V_IDLE)) | {codes.OFF: "off"}
# a status the engine books as a drive and what follows it: (drive row, row after arrival)
PHASES = {codes.V_LOADING: ("to_pickup", "loading"), codes.V_UNLOADING: ("loaded", "unloading"),
          codes.V_CHARGING: ("to_charger", "charging"), codes.V_TO_HOME: ("to_home", None)}


@dataclass
class _Places:
    names: list[str]
    points: np.ndarray  # (P, 2), NaN where a place is not on the floor

    def at(self, place: int) -> dict[str, str | float]:
        """The ``place``, ``x`` and ``y`` fields of a row at ``place`` (empty if none)."""
        if place < 0 or place >= len(self.names):
            return {}
        x, y = self.points[place]
        return {"place": self.names[place], "x": _num(x), "y": _num(y)}

    def to(self, place: int) -> dict[str, str | float]:
        """The ``to_place``, ``to_x`` and ``to_y`` fields of a drive to ``place``."""
        return {f"to_{k}": v for k, v in self.at(place).items()}


def _num(v: float) -> str | float:
    return "" if not np.isfinite(v) else float(v)


def record(plant: Plant, replication: int = 0, seed: int | None = None,
           horizon: float | None = None, warmup: float | None = None) -> list[TraceRow]:
    """The trace rows of replication ``replication`` of ``plant``, in time order."""
    if replication < 0:
        raise TwinError(f"--trace-replication {replication}: must be 0 or more")
    backend = get_backend("numpy")
    end = plant.horizon if horizon is None else horizon
    start = plant.warmup if warmup is None else warmup
    memory.lanes_at_once([plant], 1, end, start, backend, trace=True)
    params = compile_plant(plant, replication + 1, seed, horizon, warmup)
    params = params.take(slice(replication, replication + 1))
    engine = engine_params(params, expected_exits(plant, params.horizon - params.warmup),
                           trace=True)
    taken: list[np.ndarray] = []
    budget = int(backend.free_bytes() * memory.MEMORY_SHARE)
    driver.run(engine, Target(backend), queue_budget_bytes=budget,
               hook=lambda state: taken.append(take_rows(state)))
    return _Rows(plant, params).convert(np.concatenate(taken))


def take_rows(state: State) -> np.ndarray:
    """The rows lane 0 has written since the last time, (rows, TRACE_COLUMNS); its buffer is
    emptied."""
    dims = state.params.dims
    host = state.to_host()
    count = int(layout.read(host, dims, "trace_n")[0])
    rows = layout.read(host, dims, "trace_rows")[0, :count].copy()
    at = layout.offsets(dims)[0][layout.TRACE_N]
    state.arrays["n"][0, at] = 0
    return rows


class _Rows:
    """Raw trace rows (:mod:`twin.engine.recorder`) into :class:`TraceRow` records."""

    def __init__(self, plant: Plant, params):
        geo = plant_geometry(plant)
        self.places = (_Places(list(geo.places), geo.points) if geo is not None
                       else _Places([], np.zeros((0, 2))))
        self.params = params
        station = params.slot_station
        self.rank = {int(m): int(m - np.argmax(station == station[m]))
                     for m in np.flatnonzero(station < params.stations)}
        self.jobs: dict[float, int] = {}
        parts = params.parts
        self.kinds = parts.kinds if parts.any_parts else ()
        self.products = parts.products if plant.products else ()

    def job(self, entry: float) -> int | str:
        """Jobs numbered in the order they first appear (which is the order they entered)."""
        return "" if math.isnan(entry) else self.jobs.setdefault(float(entry), len(self.jobs))

    def tagged(self, job: float, tag: float) -> dict[str, str]:
        """The ``part`` and ``product`` fields of a row whose job has ``tag``."""
        if math.isnan(job):
            return {}
        kind, product = divmod(int(tag), len(self.params.parts.products))
        return {"part": self.kinds[kind] if self.kinds else "",
                "product": self.products[product] if self.products else ""}

    def kw(self, heat: float) -> float | str:
        plan = self.params.power
        return "" if plan is None else float(plan.base_kw[0] + plan.factor[0] * heat)

    def convert(self, raw: np.ndarray) -> list[TraceRow]:
        rows: list[TraceRow] = []
        for r in raw:
            rows += self.rows_of(r)
        rows.sort(key=lambda r: r.time_h)  # the phases a drive books ahead, in time order
        return rows

    def rows_of(self, r: np.ndarray) -> list[TraceRow]:
        t, kind, who, state = float(r[codes.TR_TIME]), int(r[codes.TR_KIND]), \
            int(r[codes.TR_WHO]), int(r[codes.TR_STATE])
        kw = self.kw(r[codes.TR_HEAT])
        ids, J = self.params.station_ids, self.params.stations
        if kind == codes.TRACE_SERVER:
            j = int(self.params.slot_station[who])
            return [TraceRow(t, "server", ids[j], self.rank[who], codes.SERVER_STATES[state],
                             **self.places.at(j), job=self.job(r[codes.TR_JOB]), plant_kw=kw,
                             **self.tagged(r[codes.TR_JOB], r[codes.TR_TAG]))]
        if kind == codes.TRACE_VEHICLE:
            return self.vehicle_rows(r, t, who, state, kw)
        if kind == codes.TRACE_QUEUE:
            return [TraceRow(t, "queue", ids[who], **self.places.at(who), value=state,
                             plant_kw=kw)]
        if kind == codes.TRACE_POOL:
            return [TraceRow(t, "pool", self.params.pools.ids[who], state="on" if state else "off",
                             value=int(r[codes.TR_VALUE]), plant_kw=kw)]
        return [TraceRow(t, "exit", **self.places.at(J), plant_kw=kw)]

    def vehicle_rows(self, r: np.ndarray, t: float, v: int, code: int, kw) -> list[TraceRow]:
        """Rows of a vehicle that took status ``code`` at ``t``. The engine books a drive and
        what follows it (loading, unloading, charging) as one status; the trace gives each its
        own row, at the time it begins."""
        fleets = self.params.fleets
        f = int(fleets.vehicle_fleet[v])
        start, end = int(r[codes.TR_FROM]), int(r[codes.TR_TO])
        level = float(r[codes.TR_VALUE]) if np.isfinite(r[codes.TR_VALUE]) else ""
        job = self.job(r[codes.TR_JOB])
        tags = self.tagged(r[codes.TR_JOB], r[codes.TR_TAG])

        def row(time, state, frm, **drive):
            return TraceRow(time, "vehicle", fleets.ids[f], v, state, **self.places.at(frm),
                            **drive, job=job, value=level, plant_kw=kw, **tags)

        drive, then = PHASES.get(code, (None, None))
        if drive is None:
            return [row(t, VEHICLE_STATES.get(code, str(code)), start)]
        sc = self.params.scenario[0]
        arrive = t + fleets.distance[sc, start, end] / fleets.speed[sc, f]
        out = [row(t, drive, start, **self.places.to(end), arrive_h=arrive)]
        if then is not None:
            out.append(row(arrive, then, end))
        return out


def write(path: str, rows: list[TraceRow]) -> Path:
    """Write trace rows to ``path``: Parquet when it ends in ``.parquet`` (pyarrow needed),
    else CSV; atomically, as every result file."""
    out = Path(path)
    if out.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise TwinError(f"--trace {path}: Parquet needs pyarrow (pip install pyarrow); "
                            "or give a .csv file") from None
        columns = {c: [None if r[i] == "" else r[i] for r in rows]
                   for i, c in enumerate(COLUMNS)}
        buf = io.BytesIO()
        pq.write_table(pa.table(columns), buf)
        content: str | bytes = buf.getvalue()
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        content = text.getvalue()
    with writing(f"--trace {path}", "the trace there"):
        write_atomic(out, content)
    return out
