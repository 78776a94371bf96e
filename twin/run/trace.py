"""The event trace of one replication, for replay in the viewer (``twin run --trace FILE``).

The chosen replication runs alone, on NumPy, through the same ``init``/``step`` as every other
lane: its random streams are keyed by its replication index, so it is exactly the lane of that
index in a full run. After each step the recorder compares the lane's state with the step
before and writes one row per change:

``server``   a server's state (idle, busy, blocked, down, waiting, handover, wait_units, off)
``vehicle``  a vehicle's state; a drive also gives where it started and where it is going
``queue``    the number of jobs waiting in a station's buffer
``pool``     units of a pool held, and whether it is on shift
``exit``     a job leaving the plant

Every row has the time, the place and its coordinates where one applies, the job (numbered in
the order jobs entered the plant; the engine itself only knows each job by its entry time) and,
with a power model, the plant's draw in kW from that time on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from twin.compile import compile_plant
from twin.config import Plant
from twin.config.geometry import plant_geometry
from twin.engine import core, loop
from twin.engine import logistics as lg
from twin.errors import TwinError
from twin.files import write_atomic, writing


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


COLUMNS = TraceRow._fields
SERVER_STATES = {core.IDLE: "idle", core.BUSY: "busy", core.BLOCKED: "blocked",
                 core.DOWN: "down", core.OFF: "off", core.WAITING: "waiting",
                 core.HANDOVER: "handover", core.WAIT_UNITS: "wait_units"}
VEHICLE_STATES = {lg.V_IDLE: "idle", lg.V_TO_PICKUP: "to_pickup", lg.V_LOADING: "loading",
                  lg.V_LOADED: "loaded", lg.V_UNLOADING: "unloading", lg.V_TO_HOME: "to_home",
                  lg.V_TO_CHARGER: "to_charger", lg.V_CHARGE_WAIT: "charge_wait",
                  lg.V_CHARGING: "charging", core.OFF: "off"}
# a status the engine books as a drive and what follows it: (drive row, row after arrival)
PHASES = {lg.V_LOADING: ("to_pickup", "loading"), lg.V_UNLOADING: ("loaded", "unloading"),
          lg.V_CHARGING: ("to_charger", "charging"), lg.V_TO_HOME: ("to_home", None)}


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
    params = compile_plant(plant, replication + 1, seed, horizon, warmup)
    params = params.take(slice(replication, replication + 1))
    p = loop.device_params(np, params)
    s = core.init(np, p, 2 * loop.BLOCK + 1, 2 * loop.BLOCK)
    geo = plant_geometry(plant)
    places = (_Places(list(geo.places), geo.points) if geo is not None
              else _Places([], np.zeros((0, 2))))
    J, V0 = params.stations, params.vehicle0
    V = params.fleets.vehicles if params.fleets else 0
    pools = params.pools.ids if params.pools else ()
    server_slots = np.flatnonzero((params.slot_station < J) & params.slot_on[0])
    rank = {int(m): int(m - np.flatnonzero(params.slot_station == params.slot_station[m])[0])
            for m in server_slots}
    plan = params.power
    jobs: dict[float, int] = {}

    def job_number(entry: float) -> int:
        return jobs.setdefault(float(entry), len(jobs))

    def kw() -> str | float:
        if plan is None:
            return ""
        return float(plan.base_kw[0] + plan.factor[0] * s.heat[0])

    rows: list[TraceRow] = []
    status, queue, held, on = (s.status[0].copy(), s.q_len[0, :J].copy(), s.p_held[0].copy(),
                               s.p_on[0].copy())
    exited = int(s.exited[0])
    while bool(s.live[0]):
        pos_before = s.v_pos[0].copy()
        s = core.step(np, p, s)
        if not bool(s.live[0]):
            break
        t = float(s.t[0])
        now = s.status[0]
        for m in np.flatnonzero(now != status):
            m = int(m)
            code = int(now[m])
            if m in rank:
                station = int(params.slot_station[m])
                rows.append(TraceRow(
                    t, "server", params.station_ids[station], rank[m],
                    SERVER_STATES.get(code, str(code)), **places.at(station),
                    job=job_number(s.job_in[0, m]) if code != core.IDLE else "",
                    plant_kw=kw()))
            elif V0 <= m < V0 + V:
                rows += _vehicle_rows(params, places, s, m - V0, code, int(pos_before[m - V0]),
                                      t, job_number, kw())
        for j in np.flatnonzero(s.q_len[0, :J] != queue):
            rows.append(TraceRow(t, "queue", params.station_ids[int(j)], **places.at(int(j)),
                                 value=int(s.q_len[0, j]), plant_kw=kw()))
        for i in np.flatnonzero((s.p_held[0] != held) | (s.p_on[0] != on)):
            rows.append(TraceRow(t, "pool", pools[int(i)], state="on" if s.p_on[0, i] else "off",
                                 value=int(s.p_held[0, i]), plant_kw=kw()))
        if int(s.exited[0]) != exited:
            rows.append(TraceRow(t, "exit", **places.at(J), plant_kw=kw()))
        status, queue = now.copy(), s.q_len[0, :J].copy()
        held, on, exited = s.p_held[0].copy(), s.p_on[0].copy(), int(s.exited[0])
        if s.q_job.shape[2] - int(s.q_len[0].max()) < 2:
            s = loop.grow_queues(np, s, 2 * s.q_job.shape[2])
        if int(s.n_exit[0]) + 2 > s.ct.shape[1]:
            s = loop.grow_exits(np, s, 2 * s.ct.shape[1])
    rows.sort(key=lambda r: r.time_h)  # the phases a drive books ahead, in time order
    return rows


def _vehicle_rows(params, places: _Places, s, v: int, code: int, start: int, t: float,
                  job_number, kw) -> list[TraceRow]:
    """Rows of a vehicle that took status ``code`` at ``t`` from place ``start``. The engine
    books a drive and what follows it (loading, unloading, charging) as one status; the trace
    gives each its own row, at the time it begins."""
    fleets = params.fleets
    f = int(fleets.vehicle_fleet[v])
    end = int(s.v_pos[0, v])
    level = float(s.v_level[0, v]) if np.isfinite(s.v_level[0, v]) else ""
    job = job_number(s.v_job[0, v]) if code in (lg.V_LOADING, lg.V_UNLOADING) else ""
    arrive = t + fleets.distance[0, start, end] / fleets.speed[0, f]

    def row(time, state, frm, **drive):
        return TraceRow(time, "vehicle", fleets.ids[f], v, state, **places.at(frm), **drive,
                        job=job, value=level, plant_kw=kw)

    drive, then = PHASES.get(code, (None, None))
    if drive is None:
        return [row(t, VEHICLE_STATES.get(code, str(code)), start)]
    out = [row(t, drive, start, **places.to(end), arrive_h=arrive)]
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
