"""The memory plan of a run, made before anything is allocated.

From the plants alone (no compiling) it works out the sizes of the engine's arrays
(:class:`twin.engine.layout.Dims`), so the bytes of one lane's state and of the parameters,
and from the memory the backend offers how many lanes may run at once. A plant whose single
replication cannot fit stops at once with a one-line :class:`TwinError` (exit 2) that names
the config field behind the size, the bytes it would need and what would fit.
"""

from __future__ import annotations

import math

import numpy as np

from twin._backend import Backend
from twin.compile.arrays import QUEUE_START, TRACE_ROWS
from twin.compile.flow import expected_exits
from twin.compile.logistics import shift_edges
from twin.config import Empirical, Gamma, Plant
from twin.config.logistics import alternatives
from twin.engine import layout
from twin.engine.codes import GAMMA_GRID
from twin.errors import TwinError

MEMORY_SHARE = 0.5  # share of free (device) memory the lanes' state may plan to use


def estimate_dims(plants: list[Plant], window: float, horizon: float, warmup: float,
                  trace: bool = False) -> layout.Dims:
    """The engine's sizes for a batch of ``plants`` (what twin.compile.arrays will build)."""
    J = len(plants[0].stations)
    servers = [max(p.stations[j].servers for p in plants) for j in range(J)]
    fleets = plants[0].transport
    vehicles = sum(max(p.transport[f].count for p in plants) for f in range(len(fleets)))
    pools = plants[0].resources
    M = 1 + sum(servers) + vehicles + len(pools) + 1
    buffers = [[p.stations[j].buffer for p in plants] for j in range(J)]
    places = max(J + 1 + sum((f.home is not None) + (len(f.battery.chargers) if f.battery else 0)
                             for f in p.transport) for p in plants)
    interval = next((p.power.demand_interval for p in plants if p.power), 0.25)
    has_power = any(p.power is not None or any(s.power for s in p.stations) for p in plants)
    tables = [GAMMA_GRID if isinstance(d, Gamma) else len(d.values)
              for p in plants for d in [p.source.interarrival] + [s.process for s in p.stations]
              if isinstance(d, (Gamma, Empirical))]
    return layout.Dims(
        M=M, W=J + 1, TP=layout.tree_leaves(M),
        Q=sum(QUEUE_START if None in b else max(b) for b in buffers),
        E=max(expected_exits(p, window) for p in plants),
        B=(math.ceil(horizon / interval) - math.floor(warmup / interval) + 1) if has_power else 0,
        K=max([len(s.power.steps()) for p in plants for s in p.stations if s.power] + [1]),
        V=vehicles, F=len(fleets),
        C=max([len(f.battery.chargers) for p in plants for f in p.transport if f.battery] or [0]),
        RQ=(max(sum(s.servers for s in p.stations) for p in plants) + 2) if fleets else 0,
        P=places if fleets else 0, NP=len(pools),
        A=max([len(alternatives(s.requires)) for p in plants for s in p.stations] + [1])
        if pools else 0,
        NE=max([len(shift_edges(q.shifts)[0]) for q in pools if q.shifts] + [1]) if pools else 0,
        U=J if pools else 0, T=max(len(tables), 1), G=max(tables + [1]),
        TR=TRACE_ROWS + M + J + 1 + len(pools) + 1 if trace else 0)


def state_bytes(dims: layout.Dims) -> int:
    """Bytes of one lane's state."""
    return sum(layout.bytes_per_lane(dims).values())


def param_bytes(dims: layout.Dims, scenarios: int) -> int:
    """Bytes of the parameters of ``scenarios`` scenarios."""
    _, width = layout.offsets(dims)
    return 8 * scenarios * (width["pf"] + width["pn"])


def lanes_at_once(plants: list[Plant], lanes: int, horizon: float, warmup: float,
                  backend: Backend, trace: bool = False) -> int:
    """How many of ``lanes`` lanes may run at once on ``backend``; raises :class:`TwinError`
    when not even one fits."""
    budget = int(backend.free_bytes() * MEMORY_SHARE)
    dims = estimate_dims(plants, horizon - warmup, horizon, warmup, trace)
    per_lane = state_bytes(dims)
    params = param_bytes(dims, len(plants))
    if per_lane + params > budget:
        raise TwinError(_too_big(plants[0], dims, per_lane + params, budget, backend))
    return max(1, min(lanes, (budget - params) // per_lane))


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB" if n >= 1e8 else f"{n / 1e6:.3g} MB"


def _too_big(plant: Plant, dims: layout.Dims, need: int, budget: int, backend: Backend) -> str:
    """The one-line message of a plant whose single replication does not fit: the config
    field behind the largest part of the state, the bytes it needs, what would fit."""
    where = "this GPU" if backend.name == "cupy" else "this machine"
    parts = _parts(plant, dims)
    field, size, unit, bytes_each = max(parts, key=lambda part: part[1] * part[3])
    room = max(0, budget - (need - size * bytes_each))
    fits = room // bytes_each if bytes_each else 0
    return (f"{field}: {size:,.0f} {unit} need {_gb(need)} of engine memory for one "
            f"replication, and {where} offers the engine {_gb(budget)} "
            f"({MEMORY_SHARE:.0%} of what is free); at most about {fits:,.0f} {unit} would fit")


def _parts(plant: Plant, dims: layout.Dims) -> list[tuple[str, float, str, int]]:
    """(config field, its size, unit, bytes per unit) of each part of a lane's state that a
    config field sets."""
    per = layout.bytes_per_lane(dims)
    by_dim: dict[str, int] = {}
    for field in layout.FIELDS:
        if field.array in layout.STATE_ARRAYS and field.dims:
            first = field.dims[0]
            by_dim[first] = by_dim.get(first, 0) + per[field.name]
    slot_bytes = (by_dim.get("M", 0) + by_dim.get("2TP", 0) + by_dim.get("XM", 0)) / dims.M
    biggest = int(np.argmax([s.servers for s in plant.stations]))
    window = plant.horizon - plant.warmup
    parts = [(f"stations[{biggest}].servers", float(plant.stations[biggest].servers),
              "servers", int(math.ceil(slot_bytes)))]
    if dims.E:
        parts.append(("horizon", window, "hours (the cycle times of every exit are kept)",
                      int(math.ceil(8 * dims.E / window))))
    if dims.B:
        parts.append(("horizon", window, "hours (the power's demand-interval bins)",
                      int(math.ceil(16 * dims.B / window))))
    finite = [(j, s.buffer) for j, s in enumerate(plant.stations) if s.buffer is not None]
    if finite:
        j, places = max(finite, key=lambda item: item[1])
        parts.append((f"stations[{j}].buffer", float(places), "buffer places", 16))
    return parts
