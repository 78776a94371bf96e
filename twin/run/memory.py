"""The memory plan of a run, made before anything is allocated.

From the plants alone (no compiling) it works out the sizes of the engine's arrays
(:class:`twin.engine.layout.Dims`), so the bytes of one lane's state and of the parameters,
and from the memory the backend offers how many lanes may run at once. A plant whose single
replication cannot fit stops at once with a one-line :class:`TwinError` (exit 2) that names
the config field behind the size, the bytes it would need and what would fit.
"""

from __future__ import annotations

from twin._backend import Backend
from twin.compile.arrays import QUEUE_START, trace_buffer_rows
from twin.compile.flow import expected_exits
from twin.compile.logistics import max_chargers, shift_edges
from twin.compile.plan import periods_in
from twin.compile.plant import TIMERS, demand_bins
from twin.config import Empirical, Gamma, Plant
from twin.config.logistics import alternatives
from twin.engine import layout
from twin.engine.codes import GAMMA_GRID
from twin.errors import TwinError

MEMORY_SHARE = 0.5  # share of free (device) memory the lanes' state may plan to use


def estimate_dims(plants: list[Plant], window: float, horizon: float, warmup: float,
                  trace: bool = False, period: float | None = None) -> layout.Dims:
    """The engine's sizes for a batch of ``plants`` (what twin.compile.arrays will build)."""
    J = len(plants[0].stations)
    servers = [max(p.stations[j].servers for p in plants) for j in range(J)]
    fleets = plants[0].transport
    vehicles = sum(max(p.transport[f].count for p in plants) for f in range(len(fleets)))
    pools = plants[0].resources
    M = 1 + sum(servers) + vehicles + len(pools) + TIMERS + 1
    buffers = [[_ring_places(p.stations[j]) for p in plants] for j in range(J)]
    products = plants[0].product_ids()
    places = max(J + 1 + sum((f.home is not None) + (len(f.battery.chargers) if f.battery else 0)
                             for f in p.transport) for p in plants)
    interval = next((p.power.demand_interval for p in plants if p.power), 0.25)
    has_power = any(p.power is not None or any(s.power for s in p.stations) for p in plants)
    laws = [[p.source.interarrival] + [s.process_for(r) for s in p.stations for r in products]
            for p in plants]
    tables = [GAMMA_GRID if isinstance(d, Gamma) else len(d.values)
              for per_plant in laws for d in per_plant if isinstance(d, (Gamma, Empirical))]
    powers = [pw for p in plants for s in p.stations for r in products
              if (pw := s.power_for(r)) is not None]
    return layout.Dims(
        M=M, W=J + 1, TP=layout.tree_leaves(M),
        Q=sum(QUEUE_START if None in b else max(b) for b in buffers),
        E=max(expected_exits(p, window) for p in plants),
        B=len(demand_bins(interval, horizon, warmup)[0]) if has_power else 0,
        K=max([len(pw.steps()) for pw in powers] + [1]),
        V=vehicles, F=len(fleets),
        C=max_chargers(plants) if fleets else 0,
        RQ=(max(sum(s.servers for s in p.stations) for p in plants) + 2) if fleets else 0,
        P=places if fleets else 0, NP=len(pools),
        A=max([len(alternatives(s.requires)) for p in plants for s in p.stations] + [1])
        if pools else 0,
        NE=max([len(shift_edges(q.shifts)[0]) for q in pools if q.shifts] + [1]) if pools else 0,
        U=sum(any(alternatives(p.stations[j].requires) for p in plants) for j in range(J)),
        T=max(len(tables), 1), G=max(tables + [1]), PR=len(products),
        KD=len(plants[0].kinds()),
        TR=trace_buffer_rows(M, J + 1, len(pools)) if trace else 0,
        NK=max(1 + len(p.change_times()) for p in plants),
        KP=periods_in(window, period if period is not None else _period(plants[0])))


def _period(plant: Plant) -> float:
    return plant.report.period if plant.report and plant.report.period else 0.0


def _ring_places(station) -> int | None:
    """Places of a station's ring buffer (None: it grows): its buffer, or at an assembly the
    sum of its kinds' places if that is at most QUEUE_START (twin.compile.arrays)."""
    if not station.is_assembly:
        return station.buffer
    places = [station.places_for(kind) for kind in station.assemble]
    return None if None in places or sum(places) > QUEUE_START else sum(places)


def state_bytes(dims: layout.Dims) -> int:
    """Bytes of one lane's state."""
    return sum(layout.bytes_per_lane(dims).values())


def param_bytes(dims: layout.Dims, scenarios: int) -> int:
    """Bytes of the parameters of ``scenarios`` scenarios."""
    _, width = layout.offsets(dims)
    return 8 * scenarios * (width["pf"] + width["pn"])


class MemoryPlanError(TwinError):
    """One replication of the plant cannot fit the backend's memory; ``field`` is the config
    field behind the largest part of it (the command line adds the file's name)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def lanes_at_once(plants: list[Plant], lanes: int, horizon: float, warmup: float,
                  backend: Backend, trace: bool = False) -> int:
    """How many of ``lanes`` lanes may run at once on ``backend``; raises
    :class:`MemoryPlanError` when not even one fits."""
    budget = int(backend.free_bytes() * MEMORY_SHARE)
    dims = estimate_dims(plants, horizon - warmup, horizon, warmup, trace)
    per_lane = state_bytes(dims)
    if per_lane + param_bytes(dims, 1) > budget:
        need = per_lane + param_bytes(dims, 1)
        raise _too_big(plants[0], horizon, warmup, need, budget, backend, trace)
    return max(1, min(lanes, (budget - param_bytes(dims, len(plants))) // per_lane))


def one_lane(plants: list[Plant], horizon: float, warmup: float, trace: bool = False) -> int:
    """Bytes of one lane's state and of one scenario's parameters."""
    dims = estimate_dims(plants, horizon - warmup, horizon, warmup, trace)
    return state_bytes(dims) + param_bytes(dims, 1)


def _gb(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9)):
        if n >= size:
            return f"{n / size:,.3g} {unit}"
    return f"{n / 1e6:,.3g} MB"


def _knobs(plant: Plant, horizon: float, warmup: float):
    """The config fields that set the size of a lane: (field, value now, unit, plant and
    window with the field at another value)."""
    def with_station(j: int, **change):
        stations = list(plant.stations)
        stations[j] = stations[j].model_copy(update=change)
        return plant.model_copy(update={"stations": stations})

    j = max(range(len(plant.stations)), key=lambda i: plant.stations[i].servers)
    knobs = [(f"stations[{j}].servers", plant.stations[j].servers, "servers",
              lambda v: (with_station(j, servers=max(1, int(v))), horizon, warmup)),
             ("horizon", horizon, "hours",
              lambda v: (plant, warmup + max(v - warmup, 1e-3), warmup))]
    finite = [i for i, s in enumerate(plant.stations) if isinstance(s.buffer, int)]
    if finite:
        b = max(finite, key=lambda i: plant.stations[i].buffer)
        knobs.append((f"stations[{b}].buffer", plant.stations[b].buffer, "places",
                      lambda v: (with_station(b, buffer=max(0, int(v))), horizon, warmup)))
    return knobs


def _too_big(plant: Plant, horizon: float, warmup: float, need: int, budget: int,
             backend: Backend, trace: bool) -> MemoryPlanError:
    """The error of a plant whose single replication does not fit: the config field whose
    value takes the most memory, what it needs, and the largest value that would fit."""
    def size(knob, value) -> int:
        p, end, start = knob[3](value)
        return one_lane([p], end, start, trace)

    knobs = _knobs(plant, horizon, warmup)
    field, value, unit, _ = culprit = max(knobs, key=lambda k: need - size(k, 0))
    low, high = 0.0, float(value)  # bisect the largest value that fits
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if size(culprit, mid) <= budget else (low, mid)
    where = "this GPU" if backend.name == "cupy" else "this machine"
    fits = f"{low:,.0f} {unit}" if low >= 1 else "none, whatever its value"
    return MemoryPlanError(field, (
        f"{value:,.0f} {unit} need {_gb(need)} of engine memory for one replication, and "
        f"{where} offers the engine {_gb(budget)} ({MEMORY_SHARE:.0%} of its free memory); at "
        f"most {fits} would fit"))
