"""The compiled plant as the engine reads it: :class:`Params` packed into the arrays of
:mod:`twin.engine.layout`, one row per scenario, with the run's scalars and each lane's
scenario and random-number key.

Lanes of one scenario share their parameters (tuning's K candidates x M replications store K
rows, not K x M); a lane finds its row through its ``scenario``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from twin.compile.plant import TIMERS, Params
from twin.engine import layout
from twin.engine.codes import STEP0
from twin.engine.layout import Consts, Dims
from twin.engine.rng import replication_keys

QUEUE_START = 16  # places of a growing ring buffer at first; it doubles when full
TRACE_ROWS = 4096  # rows of a traced lane's trace buffer, on top of one event's worth


def trace_buffer_rows(M: int, W: int, NP: int) -> int:
    """Rows of a traced lane's buffer: TRACE_ROWS, and room for every row one event can write
    (a row per slot, per station row and per pool, and an exit; twin.engine.recorder stops
    the lane when less than that is left)."""
    return TRACE_ROWS + M + W + NP + 1


@dataclass(frozen=True)
class EngineParams:
    """Everything the engine reads besides its state.

    Attributes
    ----------
    arrays : dict of NumPy arrays
        ``pf, pn`` (S, *): every scenario's parameters, as :mod:`twin.engine.layout` packs
        them.
    dims : twin.engine.layout.Dims
    consts : twin.engine.layout.Consts
    lane_scenario : (L,) int64
        Scenario of each lane.
    lane_key : (L,) uint64
        Random-number key of each lane (from the seed and its replication index).
    """

    arrays: dict[str, np.ndarray]
    dims: Dims
    consts: Consts
    lane_scenario: np.ndarray
    lane_key: np.ndarray

    @property
    def lanes(self) -> int:
        return int(self.lane_scenario.shape[0])

    def take(self, lanes: slice) -> EngineParams:
        """The parameters of a contiguous block of lanes (for running in chunks)."""
        return dataclasses.replace(self, lane_scenario=self.lane_scenario[lanes],
                                   lane_key=self.lane_key[lanes])

    def field(self, name: str) -> np.ndarray:
        """A parameter field, (S, *dims) or (*dims)."""
        return layout.read(self.arrays, self.dims, name)

    def resized(self, **sizes) -> EngineParams:
        """The same parameters for other sizes of the growing state: ``Q`` with ``q_size``
        (the places of each station's ring buffer), ``E`` (stored cycle times), ``TR``
        (trace rows)."""
        q_size = sizes.pop("q_size", None)
        values = {f.name: self.field(f.name) for f in layout.FIELDS
                  if f.array not in layout.STATE_ARRAYS}
        dims = self.dims
        if q_size is not None:
            values["q_size"] = q_size
            values["q_start"] = np.concatenate([[0], np.cumsum(q_size)[:-1]])
            dims = dims.replace(Q=int(np.sum(q_size)))
        dims = dims.replace(**sizes)
        scenarios = self.arrays["pf"].shape[0]
        consts = self.consts._replace(E=dims.E, TR=dims.TR, trace=int(dims.TR > 0))
        return dataclasses.replace(self, arrays=layout.pack(values, dims, scenarios),
                                   dims=dims, consts=consts)


def _route_next(cum: np.ndarray) -> np.ndarray:
    """(S, W, TG) the certain target of each station row and tag, -1 where routing is
    drawn."""
    probs = np.diff(cum, axis=-1, prepend=0.0)
    drawn = ((probs > 0.0) & (probs < 1.0)).any(axis=-1)
    return np.where(drawn, -1, np.argmax(probs >= 1.0, axis=-1)).astype(np.int64)


def _ring_sizes(params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(W,) places of each station's ring buffer at first, and whether it grows."""
    J = params.stations
    buffers = params.capacity[:, :J] - params.servers
    assembly = params.parts.assembly[:, :J].any(axis=0)
    # an assembly's entries (orders or parts with parts waiting) never outnumber its places,
    # but are usually far fewer: its ring starts small and grows unless its places are few
    places = np.where(params.parts.assemble_n[:, :J] > 0, params.parts.kcap[:, :J], 0.0)
    places = places.sum(axis=2)
    buffers = np.where(assembly[None, :], np.where(places <= QUEUE_START, places, np.inf),
                       buffers)
    grows = np.zeros(J + 1, np.int64)
    size = np.zeros(J + 1, np.int64)
    for j in range(J):
        if np.isinf(buffers[:, j]).any():
            grows[j], size[j] = 1, QUEUE_START
        else:
            size[j] = int(buffers[:, j].max())
    return size, grows


def _slot_layout(params: Params) -> dict[str, np.ndarray]:
    """Each station's range of server slots, and each slot's leaf in the event tree: the
    periods' timer first (a period ends before anything at its instant counts), the plan's
    timer, the pools' shift timers (a change goes before any other event at its instant),
    then every other slot in order."""
    J, M = params.stations, params.slots
    station = params.slot_station
    first = np.zeros(J + 1, np.int64)
    count = np.zeros(J + 1, np.int64)
    for j in range(J):
        slots = np.flatnonzero(station == j)
        first[j], count[j] = slots[0], len(slots)
    pools = len(params.pools.ids) if params.pools else 0
    timers = pools + TIMERS
    m = np.arange(M)
    t0 = params.timer0
    leaf = np.where(m < t0, m + timers, m)  # slots before the timers move up
    leaf = np.where((m >= t0) & (m < t0 + pools), m - t0 + TIMERS, leaf)  # pools' timers
    leaf = np.where(m == t0 + pools, 1, leaf)  # the plan's timer
    leaf = np.where(m == t0 + pools + 1, 0, leaf)  # the periods' timer
    return {"slot_station": station, "slot_leaf": leaf, "first_slot": first,
            "station_slots": count}


def _fleet_values(params: Params) -> dict[str, np.ndarray]:
    fleets = params.fleets
    S, W = params.servers.shape[0], params.stations + 1
    if fleets is None:
        empty = np.zeros((S, 0))
        return {"station_fleet": np.full((S, W), -1), "speed": empty, "load_time": empty,
                "unload_time": empty, "battery": empty, "charge_time": empty,
                "threshold": empty, "home": empty, "charger": np.zeros((S, 0, 0)),
                "start": empty, "distance": np.zeros((S, 0, 0)), "vehicle_fleet": []}
    V = fleets.vehicles
    return {"station_fleet": fleets.station_fleet, "speed": fleets.speed,
            "load_time": fleets.load, "unload_time": fleets.unload, "battery": fleets.capacity,
            "charge_time": fleets.charge_time, "threshold": fleets.threshold,
            "home": fleets.home, "charger": fleets.charger, "start": fleets.start[:, :V],
            "distance": fleets.distance, "vehicle_fleet": fleets.vehicle_fleet[:V]}


def _pool_values(params: Params) -> dict[str, np.ndarray]:
    pools = params.pools
    S, W = params.servers.shape[0], params.stations + 1
    if pools is None:
        return {"need": np.zeros((S, W, 0, 0)),
                "factor": np.zeros((S, W, 0)), "requires": np.zeros((S, W)),
                "edges": np.zeros((0, 0)), "edge_count": [], "on_at_start": [],
                "unit_stations": []}
    return {"need": pools.need, "factor": pools.factor,
            "requires": pools.requires,
            "edges": pools.edges, "edge_count": pools.edge_count,
            "on_at_start": pools.on_at_start, "unit_stations": pools.unit_stations}


def _parts_values(params: Params) -> dict[str, np.ndarray]:
    parts = params.parts
    return {"product_cum": parts.product_cum, "tag_weight": parts.tag_weight,
            "split_kind": parts.split_kind, "split_count": parts.split_count,
            "split_total": parts.split_total, "assembly": parts.assembly,
            "assemble_n": parts.assemble_n, "into_kind": parts.into_kind,
            "lead_kind": parts.lead_kind, "kcap": parts.kcap}


def _plan_values(params: Params) -> dict[str, np.ndarray]:
    plan = params.plan
    return {"capacity": plan.capacity, "route_cum": plan.route_cum,
            "route_next": _route_next(plan.route_cum), "cap_heat": plan.cap_heat,
            "phase_start": plan.start, "servers_at": plan.servers, "plan_kind": plan.kind,
            "plan_par": plan.par, "plan_row": plan.row, "plan_mean": plan.mean,
            "nhpp": plan.nhpp, "learn_exp": plan.learn_exp, "learn_floor": plan.learn_floor,
            "learn_own": plan.learn_own, "pool_count": plan.pool_count,
            "fleet_at": plan.fleet_count}


def _dims(params: Params, q_size: np.ndarray, stored_exits: int, trace_rows: int) -> Dims:
    """The sizes of the engine's arrays for ``params``."""
    fleets, pools, plan = params.fleets, params.pools, params.power
    return Dims(
        M=params.slots, W=params.stations + 1, TP=layout.tree_leaves(params.slots),
        Q=int(q_size.sum()), E=stored_exits, B=plan.bins if plan else 0,
        K=params.share.shape[3], V=fleets.vehicles if fleets else 0,
        F=len(fleets.ids) if fleets else 0, C=fleets.charger.shape[2] if fleets else 0,
        RQ=fleets.requests if fleets else 0, P=fleets.distance.shape[1] if fleets else 0,
        NP=len(pools.ids) if pools else 0, A=pools.need.shape[2] if pools else 0,
        NE=pools.edges.shape[1] if pools else 0, U=len(pools.unit_stations) if pools else 0,
        T=params.tables.shape[0], G=params.tables.shape[1], PR=len(params.parts.products),
        KD=len(params.parts.kinds), TR=trace_rows, NK=params.plan.phases,
        KP=params.plan.periods)


def _consts(params: Params, dims: Dims) -> Consts:
    plan = params.power
    return Consts(
        horizon=float(params.horizon), warmup=float(params.warmup),
        inv_interval=float(1.0 / plan.interval) if plan else 1.0,
        first_bin=int(plan.first_bin) if plan else 0, J=params.stations, W=dims.W, M=dims.M,
        V0=int(params.vehicle0), T0=int(params.timer0), TP=dims.TP, K=dims.K,
        NC=STEP0 + dims.K, A=dims.A, NP=dims.NP, NE=dims.NE, U=dims.U, V=dims.V, F=dims.F,
        C=dims.C, RQ=dims.RQ, P=dims.P, G=dims.G, B=dims.B, E=dims.E, TR=dims.TR,
        PR=dims.PR, KD=dims.KD, QW=dims.size("QW"), NK=dims.NK, KP=dims.KP,
        SC=dims.size("SC"), period=float(params.plan.period),
        has_plan=int(params.plan.changes), has_learning=int(params.plan.learns),
        has_series=int(dims.KP > 0), has_power=int(params.has_power),
        has_cap=int(params.has_cap),
        has_fleets=int(params.fleets is not None), has_units=int(params.pools is not None),
        has_parts=int(params.parts.any_parts), trace=int(dims.TR > 0))


def engine_params(params: Params, stored_exits: int, trace: bool = False) -> EngineParams:
    """Pack ``params`` for the engine; ``stored_exits`` is the first size of the store of
    cycle times (it grows), ``trace`` gives every lane a trace buffer."""
    q_size, q_grows = _ring_sizes(params)
    dims = _dims(params, q_size, stored_exits, 0)
    if trace:
        dims = dims.replace(TR=trace_buffer_rows(dims.M, dims.W, dims.NP))
    values = {
        "slot_on": params.slot_on, "dist_kind": params.dist_kind,
        "dist_par": params.dist_par, "dist_row": params.dist_row,
        "mtbf": params.mtbf, "mttr": params.mttr,
        "power_draw": params.draw, "power_reserve": params.reserve, "share": params.share,
        "last_step": params.last_step,
        "tables": params.tables,
        "bin_end": params.power.bin_end if params.power else [],
        "q_start": np.concatenate([[0], np.cumsum(q_size)[:-1]]), "q_size": q_size,
        "q_grows": q_grows,
        **_slot_layout(params), **_fleet_values(params), **_pool_values(params),
        **_parts_values(params), **_plan_values(params),
    }
    return EngineParams(
        arrays=layout.pack(values, dims, params.servers.shape[0]), dims=dims,
        consts=_consts(params, dims),
        lane_scenario=np.asarray(params.scenario, dtype=np.int64),
        lane_key=replication_keys(params.seed, params.replication))
