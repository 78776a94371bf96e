"""The engine's arrays, declared once: the state of every lane, the parameters of every
scenario and of the run, and the scalars of a run.

Every :class:`Field` lives in one of five packed arrays, by who owns it and its dtype:

========  ============  ==========================================================
array     shape         holds
========  ============  ==========================================================
``f``     (L, NF)       lane state, float64
``n``     (L, NN)       lane state, int64
``u``     (L, NU)       lane state, uint64 (random-number keys and counters)
``pf``    (S, NPF)      parameters, float64: the scenario's own, then the run's
``pn``    (S, NPN)      parameters, int64: the offset of every field, then the
                        scenario's own, then the run's
========  ============  ==========================================================

A field with dimensions ``dims`` occupies ``prod(dims)`` consecutive places of its array's
row, from ``pn[ID]`` on, row-major, where ``ID`` is the field's name in capitals, a module
constant (``T_NEXT`` for ``t_next``): the head of every ``pn`` row is the table of offsets. So
slot ``m``'s next event time is ``f[o[T_NEXT] + m]`` with ``o = pn``, and column ``col`` of
station ``j``'s area is ``f[o[AREA] + j * N_AREA + col]``. Fields the declaration marks as the
run's (array ``cf``, ``cn``) are the same in every scenario's row. A lane's code receives five
arrays and the run's scalars, rather than one array per field: Numba's compile time, and the
cost of a call, grow with what a function receives.

Allocation, the move to a device, growth, checkpoints, the memory plan and the read-out for
the metrics are all derived from :data:`FIELDS`.

Lane axis and memory order: state arrays are ``(L, N)``. On the CPU they are C-ordered (each
lane's row together, for the core that runs it); on the GPU Fortran-ordered (the lane axis
fastest, so that consecutive lanes, consecutive threads, touch adjacent addresses). Either way
a lane's code works on the row ``f[lane]``.

Dimensions: ``M`` slots (the source, servers padded to the batch's largest count per station,
vehicles, pools' shift timers, the plan's and the periods' timers, one unused slot); ``W = J +
1`` station rows (row J: the source for distributions and streams, exit for targets); ``NS = 4
W`` random streams; ``TP`` leaves of the event tree (a power of two >= M); ``Q`` ring-buffer
places of all stations; ``E`` stored cycle times; ``B`` demand-interval bins; ``K``
busy-profile steps and ``NC = 8 + K`` power-table columns; ``V`` vehicles, ``F`` fleets, ``C``
chargers per fleet, ``RQ`` places of a fleet's request ring, ``P`` places on the floor; ``NP``
pools, ``A`` alternatives per station, ``NE`` shift changes per week, ``U`` stations that need
units; ``T x G`` distribution tables; ``PR`` products and ``KD`` kinds (the order, then the
part kinds), ``TG = KD PR`` tags (a job's tag is ``kind x PR + product``), ``QW = 4 + KD``
columns of a ring-buffer entry; ``NK`` phases of the plan (1 when nothing changes over time),
``KP`` periods of the results per period (0: none) and ``SC = 5 + 2 J`` columns of each; ``TR``
rows of the trace buffer and ``TC`` its columns (with no trace, ``TR`` is 0 and so are ``XM``,
``XW``, ``XV``, ``XNP``, else ``M``, ``W``, ``V``, ``NP``).
"""

from __future__ import annotations

import functools
import math
from collections import namedtuple
from dataclasses import dataclass, fields

import numpy as np

from twin.engine.codes import (
    N_AREA,
    N_DIST_PARAMS,
    N_VEHICLE_STATES,
    QUEUE_FIXED,
    SERIES_FIXED,
    STEP0,
    TRACE_COLUMNS,
)

ARRAYS = {"f": "f8", "n": "i8", "u": "u8", "pf": "f8", "pn": "i8"}  # physical arrays
STATE_ARRAYS = ("f", "n", "u")
PARAM_ARRAYS = ("pf", "pn")
PHYSICAL = {"f": "f", "n": "n", "u": "u", "pf": "pf", "pn": "pn", "cf": "pf", "cn": "pn"}


@dataclass(frozen=True)
class Field:
    """One field: the array it lives in, its symbolic dimensions and its meaning."""

    name: str
    array: str
    dims: tuple[str, ...]
    doc: str


def _f(name: str, array: str, dims: str, doc: str) -> Field:
    return Field(name, array, tuple(dims.split()), doc)


FIELDS = (
    # --- lane state: the lane itself
    _f("scenario", "n", "", "scenario of the lane: its row of the per-scenario parameters"),
    _f("stop", "n", "", "why the lane's loop last returned (codes.RUNNING ... CAP_BROKEN)"),
    _f("events", "n", "", "events applied"),
    _f("t", "f", "", "clock, hours"),
    _f("rep_key", "u", "", "random-number key of the lane's replication"),
    _f("key", "u", "NS", "random-number key of each of the lane's streams"),
    _f("ctr", "u", "NS", "draws used per random stream"),
    _f("tree_key", "f", "2TP", "keys of the event tree (leaves from TP on; twin.engine.clock)"),
    _f("tree_slot", "n", "2TP", "slot whose key each node of the tree holds"),
    # slots
    _f("status", "n", "M", "slot status (codes)"),
    _f("t_next", "f", "M", "time of the slot's next timed event (inf: none)"),
    _f("fails", "n", "M", "1: a BUSY slot's next event is a failure"),
    _f("work", "f", "M", "processing left after the pending failure / while DOWN"),
    _f("job_in", "f", "M", "entry time of the job the slot holds (the job's identity)"),
    _f("target", "n", "M", "station a BLOCKED or HANDOVER slot's job goes to (J: exit)"),
    _f("seq", "f", "M", "blocking order of a BLOCKED slot"),
    _f("link", "n", "M", "next slot in the same list of blocked or unit-waiting slots (-1)"),
    _f("step_k", "n", "M", "busy-profile step of the slot's job"),
    _f("length", "f", "M", "processing time of the slot's job"),
    _f("idle_heap", "n", "M", "each station's idle servers: a min-heap in its range of slots"),
    _f("job_tag", "n", "M", "tag of the slot's job: kind x PR + product"),
    _f("split_next", "n", "M", "at a split station, the index of the next part to leave"),
    # stations
    _f("count", "n", "W", "jobs at each station (waiting, on a server, or reserved)"),
    _f("q_head", "n", "W", "head of each station's ring buffer"),
    _f("q_len", "n", "W", "jobs waiting in each station's buffer"),
    _f("n_idle", "n", "W", "idle servers of each station"),
    _f("blocked_head", "n", "W KD", "first slot blocked on each station (-1: none), per part "
                                    "kind at an assembly (column 0 elsewhere)"),
    _f("blocked_tail", "n", "W KD", "last slot blocked on each station"),
    _f("kcount", "n", "W KD", "places of each kind taken at each assembly station"),
    _f("kwait", "n", "W KD", "parts of each kind waiting at each assembly station"),
    _f("ready", "n", "W", "complete sets waiting for a server at each assembly (match order)"),
    _f("next_aseq", "f", "", "the next set-completion number"),
    _f("next_seq", "f", "", "the next blocking sequence number"),
    # statistics of the window
    _f("area", "f", "W AREA", "per station, integrals over the window of the counts "
                              "(columns codes.C_BUSY ...) and of the draw (C_ENERGY)"),
    _f("starts", "f", "W", "service starts in the window"),
    _f("wait_sum", "f", "W", "buffer waits of those starts"),
    _f("departs", "f", "W", "jobs leaving each station in the window"),
    _f("arrivals", "f", "W", "jobs entering each station in the window"),
    _f("n_exit", "n", "", "exits in the window"),
    _f("ct_sum", "f", "", "sum of their cycle times"),
    _f("entered", "n", "", "jobs that entered the first station since time 0"),
    _f("exited", "n", "", "jobs that left the plant since time 0"),
    _f("order_area", "f", "", "integral over the window of the orders' worth inside"),
    _f("made", "n", "KD", "parts of each kind made by splits since time 0"),
    _f("used", "n", "KD", "parts of each kind used by assemblies since time 0"),
    _f("gone", "n", "KD", "jobs of each kind that left the plant since time 0"),
    # changes over time (twin.engine.plan) and results per period
    _f("phase", "n", "", "phase of the plan in force: changes passed since time 0"),
    _f("n_on", "n", "W", "servers in force at each station (switched on, retiring included)"),
    _f("retire", "n", "W", "busy servers of each station to switch off when they free"),
    _f("learned", "f", "W PR", "jobs started at each station (per product where learning "
                               "is by product, else in column 0) since time 0"),
    _f("cap_seen", "f", "", "the largest cap of station heat in force so far"),
    _f("period_k", "n", "", "period boundaries passed"),
    _f("heat_pmax", "f", "", "largest heat held for a positive time in the current period"),
    _f("series", "f", "KP SC", "at the end of each period of the window, the window's "
                               "figures so far (columns codes.SC_EXITS ...)"),
    # power
    _f("draw", "f", "M", "kW the slot draws now"),
    _f("res", "f", "M", "kW the cap counts the slot at"),
    _f("heat", "f", "", "kW drawn by all stations now"),
    _f("reserved", "f", "", "sum of res"),
    _f("heat_max", "f", "", "largest heat held for a positive time in the window"),
    _f("t_req", "f", "M", "when a waiting slot asked (for power, units or a vehicle)"),
    _f("pq", "n", "M", "ring of the slots waiting for power, first come first served"),
    _f("pq_head", "n", "", "its head"),
    _f("n_waiting", "n", "", "slots waiting for power"),
    _f("pw_sum", "f", "W", "power waits ended in the window"),
    _f("grants", "f", "W", "their number"),
    # fleets
    _f("v_pos", "n", "V", "place a vehicle is at or driving to"),
    _f("v_origin", "n", "V", "slot of the job it serves"),
    _f("v_to", "n", "V", "that job's next station (J: exit, via the shipping point)"),
    _f("v_job", "f", "V", "entry time of that job"),
    _f("v_tag", "n", "V", "its tag"),
    _f("v_level", "f", "V", "battery, hours of active time left"),
    _f("v_low", "f", "V", "lowest level reached"),
    _f("v_charger", "n", "V", "charger (index within the fleet) held"),
    _f("v_seq", "f", "V", "order of vehicles waiting for a charger"),
    _f("next_vseq", "f", "", "the next charger-wait number"),
    _f("ch_taken", "n", "F C", "1: the charger is taken"),
    _f("rq", "n", "F RQ", "ring of the slots waiting for a vehicle, per fleet"),
    _f("rq_head", "n", "F", "its head"),
    _f("rq_len", "n", "F", "its length"),
    _f("f_area", "f", "F VS", "vehicle-time integrals by vehicle status (status - V_IDLE)"),
    _f("f_wait", "f", "F", "request-to-pickup waits of pickups in the window"),
    _f("f_pickups", "f", "F", "their number"),
    _f("f_trips", "f", "F", "deliveries in the window"),
    _f("f_on", "f", "F", "integral over the window of the vehicles in force"),
    _f("v_on", "n", "F", "vehicles of each fleet in force (retiring included)"),
    _f("v_retire", "n", "F", "vehicles of each fleet to switch off when they are free"),
    # resource pools
    _f("p_on", "n", "NP", "1: the pool is on shift"),
    _f("p_held", "n", "NP", "units held"),
    _f("p_edge", "n", "NP", "shift changes passed since time 0"),
    _f("p_area", "f", "NP", "integral of the units held"),
    _f("p_wait", "f", "NP", "request-to-grant waits of grants in the window"),
    _f("p_grants", "f", "NP", "their number"),
    _f("alt", "n", "M", "alternative of units a slot's job holds"),
    _f("useq", "f", "M", "order of a waiting unit request"),
    _f("next_useq", "f", "", "the next unit-request number"),
    _f("n_uwait", "n", "", "requests waiting for units"),
    _f("uwait_head", "n", "W", "first slot of each station waiting for units (-1: none)"),
    _f("uwait_tail", "n", "W", "last one"),
    _f("units_dirty", "n", "", "1: units freed or requests added since the last fit test"),
    # the event trace (twin.engine.recorder); sized 0 unless the lane is traced
    _f("trace_rows", "f", "TR TC", "rows of the trace not yet taken by the host"),
    _f("trace_n", "n", "", "how many"),
    _f("seen_status", "n", "XM", "each slot's status as the trace last showed it"),
    _f("seen_pos", "n", "XV", "each vehicle's place as the trace last showed it"),
    _f("seen_queue", "n", "XW", "each station's queue as the trace last showed it"),
    _f("seen_held", "n", "XNP", "each pool's units held as the trace last showed them"),
    _f("seen_on", "n", "XNP", "each pool's shift as the trace last showed it"),
    _f("seen_exited", "n", "", "exits the trace has shown"),
    _f("bins", "f", "B 2", "per demand-interval bin: the heat integral from changes inside "
                           "it, and the sum of those changes (the level of later bins)"),
    _f("queue", "f", "Q QW", "ring buffers: entry time of each waiting job, when it entered "
                             "the buffer (at an assembly: when its set became complete), its "
                             "tag, its set-completion number, its parts per kind (assembly)"),
    _f("ct", "f", "E", "cycle times of the exits in the window, in exit order"),
    _f("ct_tag", "n", "E", "tags of those exits"),
    # --- per-scenario parameters
    _f("slot_on", "pn", "M", "1: the slot is a working server, vehicle or timer"),
    _f("capacity", "pf", "NK W", "most jobs a station holds in each phase (inf: unlimited)"),
    _f("dist_kind", "pn", "W PR", "distribution of each row's times by product (codes)"),
    _f("dist_par", "pf", "W PR DP", "its compiled parameters"),
    _f("dist_row", "pn", "W PR", "its row of the tables"),
    _f("route_cum", "pf", "NK W TG W", "cumulative routing probabilities over targets, by "
                                       "phase and tag"),
    _f("route_next", "pn", "NK W TG", "the target where routing is certain (-1: drawn)"),
    _f("mtbf", "pf", "W PR", "hours; inf without failures"),
    _f("mttr", "pf", "W PR", "hours"),
    _f("power_draw", "pf", "W PR NC", "kW of a server by status, then by profile step"),
    _f("power_reserve", "pf", "W PR NC", "what the cap counts a server at, same columns"),
    _f("share", "pf", "W PR K", "share of the processing time of each profile step"),
    _f("last_step", "pn", "W PR", "last profile step"),
    _f("product_cum", "pf", "PR", "cumulative shares of the products the source releases"),
    _f("tag_weight", "pf", "TG", "share of an order a job of each tag is worth"),
    _f("split_kind", "pn", "W KD", "kinds a split station's job becomes, in order (-1: end)"),
    _f("split_count", "pn", "W KD", "parts of each of them"),
    _f("split_total", "pn", "W", "parts a split station's job becomes (0: no split)"),
    _f("assembly", "pn", "W", "0: no assembly; codes.MATCH_ORDER, codes.MATCH_ANY"),
    _f("assemble_n", "pn", "W KD", "parts of each kind a set needs"),
    _f("into_kind", "pn", "W", "kind of an assembly's unit"),
    _f("lead_kind", "pn", "W", "kind whose oldest part names the unit under match any"),
    _f("kcap", "pf", "W KD", "places of each kind at an assembly (inf: unlimited)"),
    _f("cap_heat", "pf", "NK", "the cap in kW of station heat in each phase (inf: none)"),
    _f("phase_start", "pf", "NK", "hour each phase of the plan starts (phase 0: 0; inf: none)"),
    _f("servers_at", "pn", "NK W", "servers of each station in force in each phase"),
    _f("plan_kind", "pn", "NK", "law of the interarrival time drawn in each phase (codes)"),
    _f("plan_par", "pf", "NK DP", "its compiled parameters"),
    _f("plan_row", "pn", "NK", "its row of the tables"),
    _f("plan_mean", "pf", "NK", "its mean, hours (the rate of an exact Poisson release)"),
    _f("nhpp", "pn", "", "1: the source releases the exact Poisson process of the plan"),
    _f("learn_exp", "pf", "W PR", "log2 of the learning rate of each station and product "
                                  "(0: no learning)"),
    _f("learn_floor", "pf", "W PR", "the smallest factor learning reaches"),
    _f("learn_own", "pn", "W", "1: each product learns on its own (else the station counts "
                               "all jobs)"),
    _f("station_fleet", "pn", "W", "fleet that carries a station's jobs out (-1: none)"),
    _f("speed", "pf", "F", "metres per hour"),
    _f("load_time", "pf", "F", "hours"),
    _f("unload_time", "pf", "F", "hours"),
    _f("battery", "pf", "F", "hours of active time (inf: no battery)"),
    _f("charge_time", "pf", "F", "hours to charge from empty"),
    _f("threshold", "pf", "F", "level below which a vehicle charges (-inf: never)"),
    _f("home", "pn", "F", "place where idle vehicles wait (-1: none)"),
    _f("charger", "pn", "F C", "places of each fleet's chargers (-1: none)"),
    _f("start", "pn", "V", "place where each vehicle starts"),
    _f("distance", "pf", "P P", "metres between places along the aisles"),
    _f("pool_count", "pn", "NK NP", "units of each pool on shift, in each phase"),
    _f("fleet_at", "pn", "NK F", "vehicles of each fleet in force, in each phase"),
    _f("need", "pn", "W A NP", "units each alternative of each station holds"),
    _f("factor", "pf", "W A", "processing-time factor of each alternative"),
    _f("requires", "pn", "W", "1: a station's jobs need units"),
    # --- shared by every lane
    _f("slot_station", "cn", "M", "station of each slot (J: source, vehicles, timers)"),
    _f("slot_leaf", "cn", "M", "leaf of each slot in the event tree"),
    _f("first_slot", "cn", "W", "first server slot of each station"),
    _f("station_slots", "cn", "W", "server slots of each station (the batch's largest count)"),
    _f("tables", "cf", "T G", "gamma log-quantile tables and sorted empirical values"),
    _f("bin_end", "cf", "B", "end of each demand-interval bin, hours"),
    _f("vehicle_fleet", "cn", "V", "fleet of each vehicle"),
    _f("edges", "cf", "NP NE", "hours of the week where a pool's shift changes"),
    _f("edge_count", "cn", "NP", "changes per week (0: always on)"),
    _f("on_at_start", "cn", "NP", "1: on shift at time 0"),
    _f("unit_stations", "cn", "U", "the stations that need units in some scenario"),
    _f("q_start", "cn", "W", "first place of each station's ring buffer"),
    _f("q_size", "cn", "W", "places of each station's ring buffer"),
    _f("q_grows", "cn", "W", "1: the station is unlimited in some lane: its ring grows"),
)

for _id, _field in enumerate(FIELDS):  # the field ids the lane code indexes ``o`` with
    assert _field.name.upper() not in globals(), f"field {_field.name} shadows a name"
    globals()[_field.name.upper()] = _id
BY_NAME = {f.name: f for f in FIELDS}

# What a lane's code receives: its rows of the state, its scenario's rows of the parameters
# (the offsets of every field at the head of pn), and the run's scalars.
Lane = namedtuple("Lane", ["f", "n", "u", "pf", "pn", "c"])
# The run's scalars. Flags are ints (0/1), never bools, and every field always has the same
# type, so that one compiled engine serves every plant.
Consts = namedtuple("Consts", [
    "horizon", "warmup", "inv_interval", "first_bin", "J", "W", "M", "V0", "T0", "TP",
    "K", "NC", "A", "NP", "NE", "U", "V", "F", "C", "RQ", "P", "G", "B", "E", "TR",
    "PR", "KD", "QW", "NK", "KP", "SC", "period", "has_power", "has_cap", "has_fleets",
    "has_units", "has_parts", "has_plan", "has_learning", "has_series", "trace",
])


@dataclass(frozen=True)
class Dims:
    """The sizes that the symbolic dimensions of the fields stand for."""

    M: int
    W: int
    TP: int
    Q: int
    E: int
    B: int
    K: int
    V: int
    F: int
    C: int
    RQ: int
    P: int
    NP: int
    A: int
    NE: int
    U: int
    T: int
    G: int
    PR: int = 1  # products
    KD: int = 1  # kinds: the order, then part kinds
    TR: int = 0  # rows of the trace buffer; 0: the lanes are not traced
    NK: int = 1  # phases of the plan
    KP: int = 0  # periods of the results per period (0: none)

    def size(self, name: str) -> int:
        if name.isdigit():
            return int(name)
        traced = 1 if self.TR else 0
        special = {"NS": 4 * self.W, "2TP": 2 * self.TP, "AREA": N_AREA, "DP": N_DIST_PARAMS,
                   "NC": STEP0 + self.K, "TG": self.KD * self.PR,
                   "QW": QUEUE_FIXED + self.KD, "VS": N_VEHICLE_STATES, "TC": TRACE_COLUMNS,
                   "XM": traced * self.M, "XW": traced * self.W, "XV": traced * self.V,
                   "XNP": traced * self.NP, "SC": SERIES_FIXED + 2 * (self.W - 1)}
        return special[name] if name in special else getattr(self, name)

    def shape(self, field: Field) -> tuple[int, ...]:
        return tuple(self.size(d) for d in field.dims)

    def length(self, field: Field) -> int:
        return math.prod(self.shape(field))

    def replace(self, **changes) -> Dims:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Dims(**values)


@functools.lru_cache(maxsize=64)
def offsets(dims: Dims) -> tuple[np.ndarray, dict[str, int]]:
    """Offset of every field in its array's row, (n_fields,) int64, and the width of each of
    the five arrays. Per-scenario fields come before the run's in ``pf`` and ``pn``, and the
    table of offsets before everything in ``pn``."""
    out = np.zeros(len(FIELDS), dtype=np.int64)
    width = dict.fromkeys(ARRAYS, 0)
    width["pn"] = len(FIELDS)
    for shared in (False, True):
        for i, field in enumerate(FIELDS):
            if (field.array in ("cf", "cn")) == shared:
                home = PHYSICAL[field.array]
                out[i] = width[home]
                width[home] += dims.length(field)
    return out, width


def tree_leaves(slots: int) -> int:
    """Leaves of the event tree: the smallest power of two that holds every slot."""
    return 1 << max(0, math.ceil(math.log2(max(slots, 1))))


def bytes_per_lane(dims: Dims) -> dict[str, int]:
    """Bytes of one lane's state, by field."""
    return {f.name: dims.length(f) * 8 for f in FIELDS if f.array in STATE_ARRAYS}


def pack(values: dict[str, np.ndarray], dims: Dims, scenarios: int) -> dict[str, np.ndarray]:
    """The parameter arrays ``pf, pn`` (S, *) from per-field NumPy values: per-scenario fields
    of shape (S, *dims), the run's of shape (*dims), which every row repeats."""
    o, width = offsets(dims)
    out = {a: np.zeros((scenarios, width[a]), dtype=ARRAYS[a]) for a in PARAM_ARRAYS}
    out["pn"][:, :len(FIELDS)] = o
    for i, field in enumerate(FIELDS):
        if field.array in STATE_ARRAYS:
            continue
        n = dims.length(field)
        value = np.asarray(values[field.name], dtype=ARRAYS[PHYSICAL[field.array]])
        rows = value.reshape(scenarios, n) if field.array in PARAM_ARRAYS else value.reshape(n)
        out[PHYSICAL[field.array]][:, o[i]:o[i] + n] = rows
    return out


def read(arrays: dict[str, np.ndarray], dims: Dims, name: str) -> np.ndarray:
    """Field ``name`` as a NumPy array of shape (rows, *dims) (rows: lanes or scenarios; none
    for the run's fields), from NumPy copies of the packed arrays."""
    field = BY_NAME[name]
    start = offsets(dims)[0][FIELDS.index(field)]
    n = dims.length(field)
    a = arrays[PHYSICAL[field.array]]
    if field.array in ("cf", "cn"):
        return a[0, start:start + n].reshape(dims.shape(field))
    return a[:, start:start + n].reshape((a.shape[0],) + dims.shape(field))


def relayout(arrays: dict[str, np.ndarray], dims: Dims, new: Dims) -> dict[str, np.ndarray]:
    """NumPy state arrays ``f, n, u`` laid out for ``new`` sizes: every field copied to its new
    place (a field that grew keeps its values at its start, the rest zero)."""
    old_at, _ = offsets(dims)
    new_at, width = offsets(new)
    lanes = arrays["f"].shape[0]
    out = {a: np.zeros((lanes, width[a]), dtype=ARRAYS[a]) for a in STATE_ARRAYS}
    for i, field in enumerate(FIELDS):
        if field.array in STATE_ARRAYS:
            size = min(dims.length(field), new.length(field))
            out[field.array][:, new_at[i]:new_at[i] + size] = \
                arrays[field.array][:, old_at[i]:old_at[i] + size]
    return out


def write(arrays: dict[str, np.ndarray], dims: Dims, name: str, value: np.ndarray) -> None:
    """Set state field ``name`` of every lane in NumPy state arrays, from (L, *dims)."""
    field = BY_NAME[name]
    start = offsets(dims)[0][FIELDS.index(field)]
    a = arrays[field.array]
    a[:, start:start + dims.length(field)] = np.asarray(value).reshape(a.shape[0], -1)
