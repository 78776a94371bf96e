"""One event per lane per step: the state, ``init`` and ``step``.

Contract
--------
``init(xp, p, queue_places, stored_exits) -> State`` builds the state of every lane at time 0 (empty plant, source timer
running); ``step(xp, p, s) -> State`` advances every lane by its own next event. ``p`` is a
:class:`DeviceParams` (the compiled parameters moved to ``xp``). For speed, ``step`` updates the
arrays of ``s`` in place and returns it (the state is donated to the step, as in JAX).

Shapes: L lanes, J stations, M slots (slot 0 the source, then servers, then a trash slot that
masked writes target), Q ring-buffer places per station, E stored cycle times per lane.

Events and their order
----------------------
A slot is IDLE, BUSY (processing; for the source: its interarrival timer runs), BLOCKED
(finished, holding its job until a place frees at ``target``), DOWN (under repair) or OFF.
Each step every lane takes exactly one of:

* a *move*: a BLOCKED slot whose target has room hands its job over, at the current time. Moves
  come before any timed event, and among movable slots the one that became blocked first moves
  first (a per-lane sequence number, so simultaneous blockings keep their order);
* otherwise the earliest *timed* event: a service completion, a failure or a repair end. Ties
  between timed events at the same instant go to the lowest slot index: the source first, then
  stations in config order, servers in index order. A completion whose target has room moves
  its job in the same step.

A move puts the job on the lowest-index idle server of the target, or at the back of its
buffer; then the freed server takes the head of its own buffer. The source restarts its timer.

Random streams per station (row J: the source): service (4j), routing (4j + 1),
time-to-failure (4j + 2), repair (4j + 3). Times to failure are drawn afresh at each start and
resume of processing, which is exact for exponential lifetimes that run only while processing.

Power (docs/power.md)
---------------------
Each slot draws the kW of its station for its status, and while BUSY that of its busy-profile
step; step k of a job lasts ``share_k`` times the job's processing time, and the end of a step
that is not the last is a timed event of its own. Under a power cap each slot is also counted
at a *reservation* (its standby draw, or its step's draw if higher, also while DOWN in that
step). A job start or a new step that raises the lane's reservation may go ahead only if no
earlier request waits and the sum stays within the cap; otherwise the slot becomes WAITING
and joins the lane's first-come-first-served queue of requests. Of the two starts of a move,
the job that moved (at slot b) asks before the next job at the slot it left. The head of that queue is
*granted* as soon as it fits: a grant comes before every move and timed event.

Fleets, pools and shifts (docs/transport.md, :mod:`twin.engine.logistics`)
--------------------------------------------------------------------------
Vehicles and shift timers are slots after the servers, with statuses of their own. A request
for units that now fits is granted as an immediate event, after power grants and before moves,
earliest request first; a shift change comes before any other event at its instant. With a
fleet, a move only reserves the place at the target (the server becomes HANDOVER); the job
leaves at its vehicle's loading end and arrives at its unloading end, each a timed event of
the vehicle's slot, whose step then applies the job's side of it here.

The plant's station heat changes only in steps, so its integral over each demand interval is
kept exactly: a change ``d`` at time ``t`` adds ``d * (end of t's bin - t)`` to that bin and
``d`` to the level of every later bin (State.bins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twin.engine import logistics as lg
from twin.engine import rng

Array = Any

IDLE, BUSY, BLOCKED, DOWN, OFF, WAITING, HANDOVER, WAIT_UNITS = 0, 1, 2, 3, 4, 5, 6, 7
# Per-station counts integrated over time: the last axis of State.area. C_ENERGY integrates the
# station's draw (kWh); the others count servers (or jobs, for the queue). C_WAIT is the wait
# for power, C_UNITS the wait for pool units.
C_BUSY, C_BLOCKED, C_DOWN, C_QUEUE, C_WAIT, C_UNITS, C_ENERGY = 0, 1, 2, 3, 4, 5, 6
N_AREA = 7
S_SERVICE, S_ROUTE, S_TTF, S_REPAIR = 0, 1, 2, 3
# Movable slots sort before every timed event by key = sequence - MOVE_OFFSET < 0 <= any time,
# and a grantable power request before them all.
# Order of the immediate events: power grant < unit grant (by request order) < move.
MOVE_OFFSET = 2.0**52
GRANT_KEY = -(2.0**53)
UNITS_KEY = -(2.0**53) + 2.0**51
STEP0 = 8  # first busy-step column of the power tables (twin.compile.plant.POWER_STEP0)
CAP_TOLERANCE = 1e-9  # relative slack of the cap check, for the rounding of running sums


@dataclass(frozen=True)
class DeviceParams:
    """Compiled parameters as ``xp`` arrays (see :class:`twin.compile.Params` for shapes).

    ``W = J + 1`` station rows; ``NS = 4 W`` streams. The ``lane_*`` arrays are the flat offsets
    of each lane's row in arrays of that width: the step gathers and scatters through flat
    indices, which is several times faster than multi-array fancy indexing.
    """

    horizon: float
    warmup: float
    J: int
    M: int
    slot_station: Array  # (M,)
    slot_on: Array  # (L, M)
    capacity: Array  # (L, W)
    dist_kind: Array  # (L, W)
    dist_par: Array  # (L, W, 5)
    dist_row: Array  # (L, W)
    tables: Array  # (T, G)
    route_cum: Array  # (L, W, W)
    route_next: Array  # (L, W) the target where routing is certain
    mtbf: Array  # (L, W)
    mttr: Array  # (L, W)
    keys: Array  # (L, NS) uint64
    lane: Array  # (L,) 0..L-1
    lane_m: Array  # (L,) lane * M
    lane_w: Array  # (L,) lane * W
    lane_s: Array  # (L,) lane * NS
    kinds_present: tuple[int, ...]
    has_failures: bool
    has_routing_draws: bool
    ndtri: Any  # standard normal quantile for xp arrays (from the backend's special functions)
    draw: Array  # (L, W, NC) kW per server by status, then by profile step
    reserve: Array  # (L, W, NC) what the cap counts a server at, same columns
    share: Array  # (L, W, K) share of the processing time of each profile step
    last_step: Array  # (L, W)
    cap_heat: Array  # (L,) the cap in kW of station heat (inf: none)
    standby: Array  # (L, W) what the cap counts a server at when it is not processing
    gain0: Array  # (L, W) what a job start asks of the cap above standby
    draw_idle: Array  # (L, W) kW of an idle server
    draw0: Array  # (L, W) kW of the first busy step
    draw_wait: Array  # (L, W) kW of a server waiting for power
    lane_b: Array  # (L,) lane * B (power bins)
    bin_end: Array  # (B,) end of each demand-interval bin of the window, hours
    n_bins: int
    first_bin: int  # bin of the warm-up's end, counted from time 0
    interval: float  # demand interval, hours
    has_power: bool
    has_cap: bool
    has_profiles: bool
    # transport (twin.compile.logistics.FleetPlan); empty placeholders without fleets
    has_transport: bool = False
    has_battery: bool = False
    V0: int = 0  # first vehicle slot
    V: int = 0
    T0: int = 0  # first shift-timer slot
    P: int = 1  # places
    C: int = 1  # chargers per fleet
    requests: int = 1  # places of each fleet's request ring
    vehicle_fleet: Array = None  # (V + 1,)
    station_fleet: Array = None  # (L, W)
    v_speed: Array = None  # (L, F) m/h
    v_load: Array = None  # (L, F)
    v_unload: Array = None  # (L, F)
    v_home: Array = None  # (L, F)
    v_cap: Array = None  # (L, F)
    v_charge: Array = None  # (L, F)
    v_thr: Array = None  # (L, F)
    charger: Array = None  # (L, F, C)
    dist: Array = None  # (S, P, P)
    lane_pp: Array = None  # (L,) scenario * P * P
    lane_f: Array = None  # (L,) lane * F
    lane_v: Array = None  # (L,) lane * (V + 1)
    # resource pools (twin.compile.logistics.PoolPlan)
    has_units: bool = False
    has_shifts: bool = False
    on_at_start: Array = None  # (NP,) bool
    start: Array = None  # (L, V + 1) place where each vehicle starts
    pool_count: Array = None  # (L, NP)
    need: Array = None  # (L, W, A, NP)
    factor: Array = None  # (L, W, A)
    requires: Array = None  # (L, W)
    unit_slots: Array = None  # (R,) slots of the stations that need units
    unit_station: Array = None  # (R,) which of those U stations each slot belongs to
    need_u: Array = None  # (L, U, A, NP) the units those stations need
    edges: Array = None  # (NP, N)
    edge_count: Array = None  # (NP,)
    lane_p: Array = None  # (L,) lane * NP
    WAIT_UNITS: int = WAIT_UNITS
    UNITS_KEY: float = UNITS_KEY


@dataclass(frozen=True)
class State:
    """Engine state; lane axis first in every array.

    Time-averages are integrated without touching every lane's counts each step: a change of a
    count by ``d`` at time ``t`` adds ``d * (horizon - max(t, warmup))`` to its area, which sums
    to the integral over [warmup, horizon] of the count.
    """

    t: Array  # (L,) clock
    status: Array  # (L, M) int8 slot status
    t_next: Array  # (L, M) time of the slot's next timed event (inf: none)
    fails: Array  # (L, M) bool: a BUSY slot's next event is a failure
    work: Array  # (L, M) processing left after the pending failure / while DOWN
    job_in: Array  # (L, M) system-entry time of the job the slot holds
    target: Array  # (L, M) int64 destination of a BLOCKED slot's job (J: exit)
    seq: Array  # (L, M) blocking order of BLOCKED slots
    next_seq: Array  # (L,)
    count: Array  # (L, W) int64 jobs at each station (row J unused)
    q_job: Array  # (L, W, Q) system-entry times of waiting jobs (ring buffer)
    q_buf: Array  # (L, W, Q) times they entered the buffer
    q_head: Array  # (L, W) int64
    q_len: Array  # (L, W) int64
    ctr: Array  # (L, NS) uint64 draws used per stream
    area: Array  # (L, W, N_AREA) integrals of the counts (busy ... waiting) and of the draw
    starts: Array  # (L, W) service starts in the window
    wait_sum: Array  # (L, W) buffer waits of those starts
    departs: Array  # (L, W) jobs leaving each station in the window
    arrivals: Array  # (L, W) jobs entering each station in the window
    n_exit: Array  # (L,) int64 exits in the window
    ct_sum: Array  # (L,) sum of their cycle times
    ct: Array  # (L, E) their cycle times in exit order (place n_exit is scratch)
    events: Array  # (L,) int64 events applied
    entered: Array  # (L,) int64 jobs that entered the first station since time 0
    exited: Array  # (L,) int64 jobs that left the plant since time 0
    live: Array  # (L,) bool: the lane's last step applied an event
    step_k: Array  # (L, M) int64 profile step of a BUSY / DOWN / WAITING slot's job
    length: Array  # (L, M) processing time of the slot's job (profiles and cap only)
    draw: Array  # (L, M) kW the slot draws now (power only)
    res: Array  # (L, M) kW the cap counts the slot at (cap only)
    t_req: Array  # (L, M) when a WAITING slot asked for power
    heat: Array  # (L,) kW drawn by all stations now
    reserved: Array  # (L,) sum of res
    heat_max: Array  # (L,) largest heat held for a positive time in the window
    n_waiting: Array  # (L,) int64 WAITING slots
    pq: Array  # (L, M) int64 ring of the slots waiting for power, first come first
    pq_head: Array  # (L,) int64 its head
    bins: Array  # (L, B, 2) per demand-interval bin: the heat integral from changes inside
    # it, and the sum of those changes (the level of every later bin); side by side, so that
    # one step's two updates of a bin touch one cache line
    pw_sum: Array  # (L, W) power waits ended in the window
    grants: Array  # (L, W) their number
    # transport (width-1 placeholders without fleets); vehicle arrays have a scratch column V
    v_pos: Array  # (L, V + 1) int64 place a vehicle is at or driving to
    v_origin: Array  # (L, V + 1) int64 slot of the job it serves
    v_to: Array  # (L, V + 1) int64 that job's next station (J: exit, via the shipping point)
    v_job: Array  # (L, V + 1) system-entry time of that job
    v_level: Array  # (L, V + 1) battery, hours of active time left
    v_since: Array  # (L, V + 1) time of the level's last update
    v_low: Array  # (L, V + 1) lowest level reached
    v_charger: Array  # (L, V + 1) int64 charger (index within the fleet) held
    v_seq: Array  # (L, V + 1) order of vehicles waiting for a charger
    next_vseq: Array  # (L,)
    ch_taken: Array  # (L, F, C) bool
    rq: Array  # (L, F, RQ) int64 ring of the slots waiting for a vehicle, per fleet
    rq_head: Array  # (L, F) int64
    rq_len: Array  # (L, F) int64
    f_area: Array  # (L, F, 10) vehicle-time integrals by vehicle status (column status - 10;
    # the last column is scratch)
    f_wait: Array  # (L, F) request-to-pickup waits of pickups in the window
    f_pickups: Array  # (L, F)
    f_trips: Array  # (L, F) deliveries in the window
    # resource pools (width-1 placeholders without pools)
    p_on: Array  # (L, NP) int64 1 on shift
    p_held: Array  # (L, NP) int64 units held
    p_edge: Array  # (L, NP) int64 shift changes passed since time 0
    p_area: Array  # (L, NP) integral of the units held
    p_wait: Array  # (L, NP) request-to-grant waits of grants in the window
    p_grants: Array  # (L, NP)
    alt: Array  # (L, M) int64 alternative a slot's job holds
    useq: Array  # (L, M) order of waiting unit requests
    next_useq: Array  # (L,)
    n_uwait: Array  # (L,) int64 requests waiting for units


def _flat(a: Array) -> Array:
    return a.reshape(-1)


def _draw(xp, p: DeviceParams, s: State, stream: Array, used: Array) -> Array:
    """Uniforms of the flat stream indices ``stream`` (into (L, NS)), shape (L,); advances the
    counters of the draws ``used``."""
    ctr_all = _flat(s.ctr)
    ctr = ctr_all[stream]
    ctr_all[stream] = ctr + used.astype(xp.uint64)
    return rng.uniforms(xp, _flat(p.keys)[stream], ctr)


def service(xp, p: DeviceParams, row: Array, u: Array) -> Array:
    """Processing times at flat station rows ``row`` (into (L, W)) from uniforms ``u``."""
    kinds = p.kinds_present
    kind = _flat(p.dist_kind)[row] if len(kinds) > 1 else None
    par = _flat(p.dist_par)
    base = row * rng.N_DIST_PARAMS
    needed = rng.params_needed(kinds)
    pars = [par[base + c] if c < needed else None for c in range(rng.N_DIST_PARAMS)]
    tab = _flat(p.dist_row)[row] if rng.uses_tables(kinds) else None
    return rng.sample(xp, p.ndtri, kinds, kind, pars, tab, p.tables, u)


def _start_pair(xp, p: DeviceParams, s: State, row: Array, stream: Array, used: Array,
                factor: Array | None = None):
    """Draw the processing of the jobs starting at two flat station rows per lane.

    ``row``, ``stream`` (first stream of each station) and ``used`` have shape (L, 2): start A
    then start B. When both draw from one station, B takes the counters after A's. Returns
    ``(length, first, left, breaks)`` of shape (L, 2): the job's processing time, the time to
    the slot's next event (the end of the first profile step, or a failure before it), the
    step's work left after a failure (None without failures), and whether it fails first.
    """
    purposes = (S_SERVICE, S_TTF) if p.has_failures else (S_SERVICE,)
    idx = xp.concatenate([stream + k for k in purposes], axis=1)  # (L, 2 * len(purposes))
    ctr_all = _flat(s.ctr)
    ctr = ctr_all[idx]
    used_u = used.astype(xp.uint64)
    same = ((stream[:, 0] == stream[:, 1]) * used_u[:, 0]).astype(xp.uint64)
    ctr[:, 1::2] += same[:, None]
    ctr_all[idx[:, 0::2]] = ctr[:, 0::2] + used_u[:, :1]  # A's streams, then B's: no place twice
    ctr_all[idx[:, 1::2]] = ctr[:, 1::2] + used_u[:, 1:]
    u = rng.uniforms(xp, _flat(p.keys)[idx], ctr)
    length = service(xp, p, row, u[:, :2])
    if factor is not None:  # the staffing's time factor
        length = length * factor
    seg = length * _flat(p.share)[row * p.share.shape[2]] if p.has_profiles else length
    if not p.has_failures:
        return length, seg, None, None
    ttf = -_flat(p.mtbf)[row] * xp.log1p(-u[:, 2:])
    breaks = ttf < seg
    return length, xp.where(breaks, ttf, seg), xp.where(breaks, seg - ttf, 0.0), breaks


def _power_change(xp, p: DeviceParams, s: State, tc: Array, d: Array) -> None:
    """Record a change ``d`` (L,) of the station heat at times ``tc`` (in the window) in the
    demand bins. A change that rounding puts in the bin before an edge adds 0 there and
    counts from the next bin on, so edges need no exact arithmetic."""
    i = (tc * (1.0 / p.interval)).astype(xp.int64) - p.first_bin
    i = xp.minimum(xp.maximum(i, 0), p.n_bins - 1)  # (faster than clip on NumPy)
    at = (p.lane_b + i) * 2
    bins = _flat(s.bins)
    bins[at] += d * (p.bin_end[i] - tc)  # -rounding when just past an edge
    bins[at + 1] += d


def _table(p: DeviceParams, table: Array, row: Array, col: Array) -> Array:
    """``table[lane, station, col]`` at flat station rows ``row`` (into (L, W))."""
    return _flat(table)[row * table.shape[2] + col]


def init(xp, p: DeviceParams, queue_places: int, stored_exits: int) -> State:
    """All lanes at time 0: stations empty, the source timer running, vehicles idle where they
    start, pools on or off shift as the calendar says."""
    L, M, W = p.slot_on.shape[0], p.M, p.J + 1
    status = xp.where(p.slot_on, IDLE, OFF).astype(xp.int8)
    status[:, 0] = BUSY
    f = lambda shape, v=0.0: xp.full(shape, v, dtype=xp.float64)
    i = lambda shape: xp.zeros(shape, dtype=xp.int64)
    per_slot = (L, M) if (p.has_power or p.has_profiles or p.has_units or p.has_transport) \
        else (L, 1)
    B = p.n_bins if p.has_power else 0
    window = p.horizon - p.warmup
    if p.has_transport:
        Fn, V1, RQ = p.v_speed.shape[1], p.V + 1, p.requests
        v_shape, f_shape = (L, V1), (L, Fn)
    else:
        Fn, V1, RQ = 1, 1, 1
        v_shape, f_shape = (L, 1), (L, 1)
    NP = p.pool_count.shape[1] if p.has_units else 1
    s = State(
        t=f(L), status=status, t_next=f((L, M), xp.inf), fails=xp.zeros((L, M), dtype=bool),
        work=f((L, M)), job_in=f((L, M)), target=i((L, M)), seq=f((L, M)), next_seq=f(L),
        count=i((L, W)), q_job=f((L, W, queue_places)), q_buf=f((L, W, queue_places)),
        q_head=i((L, W)), q_len=i((L, W)), ctr=xp.zeros((L, 4 * W), dtype=xp.uint64),
        area=f((L, W, N_AREA)), starts=f((L, W)), wait_sum=f((L, W)), departs=f((L, W)),
        arrivals=f((L, W)), n_exit=i(L), ct_sum=f(L), ct=f((L, stored_exits)), events=i(L),
        entered=i(L), exited=i(L), live=xp.ones(L, dtype=bool),
        step_k=i(per_slot), length=f(per_slot), draw=f(per_slot), res=f(per_slot),
        t_req=f(per_slot), heat=f(L), reserved=f(L), heat_max=f(L), n_waiting=i(L),
        pq=i((L, M) if p.has_cap else (L, 1)), pq_head=i(L), bins=f((L, B, 2)),
        pw_sum=f((L, W)), grants=f((L, W)),
        v_pos=i(v_shape), v_origin=i(v_shape), v_to=i(v_shape), v_job=f(v_shape),
        v_level=f(v_shape), v_since=f(v_shape), v_low=f(v_shape), v_charger=i(v_shape),
        v_seq=f(v_shape), next_vseq=f(L),
        ch_taken=xp.zeros((L, Fn, p.C if p.has_transport else 1), dtype=bool),
        rq=i((L, Fn, RQ)), rq_head=i(f_shape), rq_len=i(f_shape),
        f_area=f((L, Fn, lg.N_VEHICLE_COLUMNS)), f_wait=f(f_shape), f_pickups=f(f_shape),
        f_trips=f(f_shape),
        p_on=i((L, NP)), p_held=i((L, NP)), p_edge=i((L, NP)), p_area=f((L, NP)),
        p_wait=f((L, NP)), p_grants=f((L, NP)), alt=i(per_slot), useq=f(per_slot),
        next_useq=f(L), n_uwait=i(L),
    )
    source = p.lane_w + p.J
    u = _draw(xp, p, s, p.lane_s + 4 * p.J + S_SERVICE, xp.ones(L, dtype=bool))
    s.t_next[:, 0] = service(xp, p, source, u)
    if p.has_power:
        rows = p.lane_w[:, None] + p.slot_station[None, :]
        s.draw[...] = xp.where(p.slot_on, _table(p, p.draw, rows, IDLE), 0.0)
        s.res[...] = xp.where(p.slot_on, _table(p, p.reserve, rows, IDLE), 0.0)
        s.heat[...] = s.draw.sum(axis=1)
        s.reserved[...] = s.res.sum(axis=1)
        _power_change(xp, p, s, xp.maximum(s.t, p.warmup), s.heat)
        of_station = (p.slot_station[:, None] == xp.arange(W)[None, :]).astype(xp.float64)
        s.area[:, :, C_ENERGY] = (s.draw @ of_station) * window
    if p.has_transport:
        on = p.slot_on[:, p.V0 : p.V0 + p.V]
        s.status[:, p.V0 : p.V0 + p.V] = xp.where(on, lg.V_IDLE, OFF).astype(xp.int8)
        s.v_pos[...] = p.start
        s.v_level[...] = xp.take_along_axis(p.v_cap, p.vehicle_fleet[None, :].repeat(L, 0), 1)
        s.v_low[...] = s.v_level
        idle = lg.V_IDLE - lg.V_IDLE
        s.f_area[:, :, idle] = (on[:, :, None] & (p.vehicle_fleet[None, :p.V, None]
                                                  == xp.arange(Fn)[None, None, :])).sum(1) * window
    if p.has_units:
        NPn = p.edges.shape[0]
        s.p_on[...] = p.on_at_start[None, :].astype(xp.int64)
        timed = p.edge_count > 0
        first = (p.edges[:, 0] <= 0.0) & timed  # a change at time 0 is already in on_at_start
        s.p_edge[...] = first[None, :].astype(xp.int64)
        n = first.astype(xp.int64)
        t0 = (n // xp.maximum(p.edge_count, 1)) * lg.HOURS_PER_WEEK + p.edges[
            xp.arange(NPn), n % xp.maximum(p.edge_count, 1)]
        s.t_next[:, p.T0 : p.T0 + NPn] = xp.where(timed, t0, xp.inf)[None, :]
        s.status[:, p.T0 : p.T0 + NPn] = xp.where(timed, lg.SHIFT_TIMER, OFF).astype(xp.int8)
    return s


def _any_of(status: Array, codes: tuple[int, ...]) -> Array:
    out = status == codes[0]
    for code in codes[1:]:
        out = out | (status == code)
    return out


def step(xp, p: DeviceParams, s: State) -> State:
    """Apply each lane's next event (see the module docstring for the order)."""
    J, W, Q = p.J, p.J + 1, s.q_job.shape[2]
    F = _flat
    f64 = xp.float64
    status, t_next = F(s.status), F(s.t_next)
    count, q_len, q_head, area = F(s.count), F(s.q_len), F(s.q_head), F(s.area)
    cap, profiles, power = p.has_cap, p.has_profiles, p.has_power
    units, fleets, shifts = p.has_units, p.has_transport, p.has_shifts
    TRASH = p.M - 1
    none = xp.zeros(s.t.shape, dtype=bool)

    # --- choose: a grantable power request, a unit request that fits, a dispatch, a movable
    # blocked slot (oldest blocking first), else the earliest timed event
    room = s.count < p.capacity
    movable = (s.status == BLOCKED) & F(room)[p.lane_w[:, None] + s.target]
    key = xp.where(movable, s.seq - MOVE_OFFSET, s.t_next)
    if cap:
        head = F(s.pq)[p.lane_m + s.pq_head]
        hf = p.lane_m + head
        h_row = p.lane_w + p.slot_station[head]
        if profiles:  # a waiting slot is at standby; it asks for its pending step
            ask = _table(p, p.reserve, h_row, STEP0 + F(s.step_k)[hf]) - F(p.standby)[h_row]
        else:
            ask = F(p.gain0)[h_row]
        fits = s.reserved + ask <= p.cap_heat * (1 + CAP_TOLERANCE)
        F(key)[hf] = xp.where((s.n_waiting > 0) & fits, GRANT_KEY, F(key)[hf])
    if units:
        free = lg.free_units(xp, p, s)
        lg.offer_units(xp, p, s, key, free)
    if shifts:  # a shift change comes before any other event at its instant: one ulp early
        timers = key[:, p.T0 : p.T0 + p.edges.shape[0]]
        key[:, p.T0 : p.T0 + p.edges.shape[0]] = xp.nextafter(timers, -xp.inf)
    ev = xp.argmin(key, axis=1)
    kmin = F(key)[p.lane_m + ev]
    immediate = kmin < 0.0
    if shifts:  # and happens at its own time (nextafter undoes nextafter exactly)
        kmin = xp.where(ev >= p.T0, xp.nextafter(kmin, xp.inf), kmin)
    t_ev = xp.where(immediate, s.t, kmin)
    live = t_ev <= p.horizon
    is_grant = live & (kmin == GRANT_KEY) if cap else none
    is_ugrant = live & (kmin >= UNITS_KEY) & (kmin < -MOVE_OFFSET) if units else none
    is_move = immediate  # otherwise a move (plants without a cap or pools test nothing more)
    if cap:
        is_move = is_move & ~is_grant
    if units:
        is_move = is_move & ~is_ugrant
    # a lane with no event left at all is deadlocked: its clock stops, for the loop to report
    t = xp.where(t_ev < xp.inf, xp.minimum(t_ev, p.horizon), s.t)
    if power:  # the heat held since the last event counts towards the window's largest
        held = t > xp.maximum(s.t, p.warmup)
        s.heat_max[...] = xp.maximum(s.heat_max, xp.where(held, s.heat, 0.0))
    s.t[...] = t
    t_window = xp.maximum(t, p.warmup)
    rest_of_window = p.horizon - t_window
    in_window = t >= p.warmup
    timed = live & ~immediate

    # --- the server slot e the event concerns: the event slot, or for a vehicle's loading end
    # the server its job leaves; the trash slot for other vehicle and shift events
    station_timed, vehicle_ev, shift_ev, load_end, unload_end = timed, none, none, none, none
    e = ev
    if fleets or shifts:
        special = ev >= p.V0  # vehicles and timers come after the servers
        vehicle_ev = timed & special & (ev < p.T0)
        shift_ev = timed & special & (ev >= p.T0)
        station_timed = timed & ~special
        e = xp.where(special, TRASH, ev)
    if fleets:
        vi = xp.where(vehicle_ev, ev - p.V0, p.V)
        vfi = p.lane_v + vi
        st_v = xp.where(vehicle_ev, status[p.lane_m + ev], lg.V_IDLE)
        load_end = vehicle_ev & (st_v == lg.V_LOADING)
        unload_end = vehicle_ev & (st_v == lg.V_UNLOADING)
        e = xp.where(load_end, F(s.v_origin)[vfi], e)
    ef = p.lane_m + e
    st_e = status[ef]
    j_e = p.slot_station[e]
    jf = p.lane_w + j_e
    fails_e = F(s.fails)[ef]
    work_e = F(s.work)[ef]
    busy_e = station_timed & (st_e == BUSY)
    done = busy_e & ~fails_e  # the end of a profile step
    if profiles or cap or units:
        step_e = F(s.step_k)[ef]
        length_e = F(s.length)[ef]
    step_end = done & (step_e < F(p.last_step)[jf]) if profiles else None
    compl = done & ~step_end if profiles else done
    fail = busy_e & fails_e
    rep = station_timed & (st_e == DOWN)
    resume = rep  # events after which slot e processes on
    if cap:
        res_e = F(s.res)[ef]
        free_e = s.n_waiting == 0  # no earlier power request waits
        limit = p.cap_heat * (1 + CAP_TOLERANCE)
        resume = resume | is_grant
    if units:  # slot e's job releases its units when processing ends; a grant takes them
        needs_e = lg.station_needs(xp, p, jf)
        alt_e = F(s.alt)[ef]
        released = xp.where((compl & F(p.requires)[jf])[:, None], lg.pick(xp, needs_e, alt_e), 0)
        galt = xp.argmax(lg.fitting(xp, needs_e, free), axis=1)
        granted_units = xp.where(is_ugrant[:, None], lg.pick(xp, needs_e, galt), 0)
        u_wait = xp.where(is_ugrant, t - F(s.t_req)[ef], 0.0)
        gfactor = _table(p, p.factor, jf, galt)
        length_e = xp.where(is_ugrant, length_e * gfactor, length_e)
        ugo = is_ugrant
        if cap:  # the job now asks for power, as a start does
            g0 = F(p.gain0)[jf]
            ugo = is_ugrant & ((g0 <= 0.0) | (free_e & (s.reserved + g0 <= limit)))
        u_pwait = is_ugrant & ~ugo
        resume = resume | ugo
    if profiles:  # the next step goes ahead unless the cap holds it back
        step_go = step_end
        if cap:
            gain_s = _table(p, p.reserve, jf, STEP0 + step_e + 1) - res_e
            step_go = step_end & ((gain_s <= 0.0) | (free_e & (s.reserved + gain_s <= limit)))
        step_wait = step_end & ~step_go
        resume = resume | step_go
    new_step = step_e + step_end if profiles else (step_e if (cap or units) else None)
    if p.has_routing_draws or p.has_failures:
        purpose = xp.where(compl, S_ROUTE, xp.where(fail, S_REPAIR, S_TTF))
        used = (compl & p.has_routing_draws) | ((fail | resume) & p.has_failures)
        u0 = _draw(xp, p, s, p.lane_s + 4 * j_e + purpose, used)
    if p.has_routing_draws:
        cum = F(p.route_cum)[jf[:, None] * W + xp.arange(W)]
        routed = xp.sum(u0[:, None] > cum, axis=1)
    else:
        routed = F(p.route_next)[jf]
    k = xp.where(compl, routed, F(s.target)[ef])
    # a resumed slot works on: what a repair left of its step, or a whole new step
    seg = work_e
    if profiles or cap or units:
        seg = xp.where(rep, work_e, _table(p, p.share, jf, new_step) * length_e)
    if p.has_failures:
        log_u0 = -xp.log1p(-u0)
        life = F(p.mtbf)[jf] * log_u0  # time to failure of the resumed work
        repair = F(p.mttr)[jf] * log_u0
        res_breaks = life < seg

    # --- the move: the chosen blocked slot, or the slot that just completed if its target has
    # room. With a fleet it only reserves the place; the job leaves at the vehicle's loading end
    # and arrives at its unloading end.
    move = live & (is_move | (compl & F(room)[p.lane_w + k]))
    leave = arrive = move
    reserve = none
    if fleets:
        fleet_j = F(p.station_fleet)[jf]
        reserve = move & (fleet_j >= 0)
        leave = (move & ~reserve) | load_end
        arrive = (move & ~reserve) | unload_end
        k = xp.where(unload_end, F(s.v_to)[vfi], k)
    kf = p.lane_w + k
    enter = arrive & (k != J)
    is_src = e == 0
    job = xp.where(is_src, t, F(s.job_in)[ef])
    if fleets:
        job = xp.where(unload_end, F(s.v_job)[vfi], job)

    idle_at_k = (s.status == IDLE) & (p.slot_station[None, :] == k[:, None])
    b = xp.argmax(idle_at_k, axis=1)
    start_b = enter & F(idle_at_k)[p.lane_m + b]
    enqueue = enter & ~start_b

    # enqueue at k before the origin dequeues, so that a job routed back to its own station
    # queues behind the jobs already there; the write is unconditional (the place after the
    # last job is free: rings always have a spare place)
    len_k = q_len[kf]
    pos = kf * Q + (q_head[kf] + len_k) % Q
    F(s.q_job)[pos] = job
    F(s.q_buf)[pos] = t
    q_len[kf] = len_k + enqueue
    # a place is taken on entry, or when a fleet's job reserves it (not again on arrival)
    count[kf] += ((move & (k != J)) if fleets else enter)

    of = jf  # the origin: the moving slot's station
    from_station = leave & ~is_src
    count[of] -= from_station
    len_o = q_len[of]
    has_next = len_o > 0
    start_a = leave & (is_src | has_next)
    take = from_station & has_next
    head_o = q_head[of]
    hq = of * Q + head_o
    next_job = F(s.q_job)[hq]
    waited = t - F(s.q_buf)[hq]
    q_head[of] = xp.where(take, (head_o + 1) % Q, head_o)
    q_len[of] = len_o - take

    # --- units for the two starts: B (the job that moved) asks first, then A; a start waits
    # if another request already waits or no alternative fits
    ok_a, ok_b = start_a, start_b
    factor = None
    if units:
        held_now = s.p_held - released
        free_now = xp.where(s.p_on > 0, p.pool_count, 0) - held_now
        quiet = s.n_uwait == 0
        needs_k = lg.station_needs(xp, p, kf)
        fits_b = lg.fitting(xp, needs_k, free_now)
        req_b, req_a = F(p.requires)[kf], F(p.requires)[of]
        ok_b = start_b & (~req_b | (quiet & fits_b.any(axis=1)))
        uwait_b = start_b & ~ok_b
        alt_b = xp.argmax(fits_b, axis=1)
        take_b = xp.where((ok_b & req_b)[:, None], lg.pick(xp, needs_k, alt_b), 0)
        fits_a = lg.fitting(xp, needs_e, free_now - take_b)
        ok_a = start_a & (~req_a | (quiet & ~uwait_b & fits_a.any(axis=1)))
        uwait_a = start_a & ~ok_a
        alt_a = xp.argmax(fits_a, axis=1)
        take_a = xp.where((ok_a & req_a)[:, None], lg.pick(xp, needs_e, alt_a), 0)
        factor = xp.stack([xp.where(ok_a & req_a, _table(p, p.factor, of, alt_a), 1.0),
                           xp.where(ok_b & req_b, _table(p, p.factor, kf, alt_b), 1.0)], axis=1)

    # --- power for the two starts: B asks first, then A (the next job at the server the
    # moving job left)
    go_a, go_b = ok_a, ok_b
    if cap:
        after_release = s.reserved - res_e + F(p.standby)[of]  # slot e's job has left
        gain_b = F(p.gain0)[kf]
        go_b = ok_b & ((gain_b <= 0.0) | (free_e & (after_release + gain_b <= limit)))
        wait_b = ok_b & ~go_b
        gain_a = F(p.gain0)[of]
        before_a = after_release + xp.where(go_b, gain_b, 0.0)
        go_a = ok_a & ((gain_a <= 0.0) | (free_e & ~wait_b & (before_a + gain_a <= limit)))
        wait_a = ok_a & ~go_a

    # --- service starts: A = slot e restarting (source or next job), B = idle server at k
    length, first, left, breaks = _start_pair(
        xp, p, s, xp.stack([of, kf], axis=1),
        xp.stack([p.lane_s + 4 * j_e, p.lane_s + 4 * k], axis=1),
        xp.stack([start_a, start_b], axis=1), factor)
    first_a, first_b = first[:, 0], first[:, 1]
    if p.has_failures:
        left_a, left_b, breaks_a, breaks_b = left[:, 0], left[:, 1], breaks[:, 0], breaks[:, 1]

    # --- write slot e
    new_status = xp.where(compl, BLOCKED, st_e)
    new_next = xp.where(compl, xp.inf, F(s.t_next)[ef])
    seg_first = seg
    if p.has_failures:
        seg_first = xp.where(res_breaks, life, seg)
        new_status = xp.where(fail, DOWN, new_status)
        new_next = xp.where(fail, t + repair, new_next)
        F(s.fails)[ef] = xp.where(go_a, breaks_a, xp.where(resume, res_breaks, fails_e))
        F(s.work)[ef] = xp.where(go_a, left_a,
                                 xp.where(resume & res_breaks, seg - life, work_e))
    if p.has_failures or profiles or cap or units:  # otherwise nothing resumes
        new_status = xp.where(resume, BUSY, new_status)
        new_next = xp.where(resume, t + seg_first, new_next)
    if profiles:
        new_status = xp.where(step_wait, WAITING, new_status)
        new_next = xp.where(step_wait, xp.inf, new_next)
    if units:
        new_status = xp.where(u_pwait, WAITING, new_status)
    moved_to = xp.where(go_a, BUSY, IDLE)
    if cap:
        moved_to = xp.where(wait_a, WAITING, moved_to)
    if units:
        moved_to = xp.where(uwait_a, WAIT_UNITS, moved_to)
    final_e = xp.where(leave, moved_to, xp.where(reserve, HANDOVER, new_status)).astype(xp.int8)
    status[ef] = final_e
    t_next[ef] = xp.where(leave, xp.where(go_a, t + first_a, xp.inf), new_next)
    F(s.job_in)[ef] = xp.where(take, next_job, job)
    F(s.target)[ef] = k  # read only while the slot is BLOCKED or HANDOVER
    blocks = compl & ~move
    asks_e = None
    if cap:
        asks_e = (leave & wait_a) | (step_wait if profiles else False) | \
            (u_pwait if units else False)
    F(s.seq)[ef] = s.next_seq
    s.next_seq[...] += blocks
    if profiles or cap or units:
        step_final = xp.where(leave, 0, new_step)
        F(s.step_k)[ef] = step_final
        F(s.length)[ef] = xp.where(start_a, length[:, 0], length_e)

    # --- write slot b (the trash slot when nothing starts there)
    bf = p.lane_m + xp.where(start_b, b, TRASH)
    status_b = xp.full(b.shape, BUSY, dtype=xp.int8)
    if cap:
        status_b = xp.where(wait_b, WAITING, status_b)
    if units:
        status_b = xp.where(uwait_b, WAIT_UNITS, status_b)
    status[bf] = status_b.astype(xp.int8)
    t_next[bf] = xp.where(go_b, t + first_b, xp.inf)
    F(s.job_in)[bf] = job
    if p.has_failures:
        F(s.fails)[bf] = breaks_b
        F(s.work)[bf] = left_b
    if profiles or cap or units:
        F(s.step_k)[bf] = 0
        F(s.length)[bf] = length[:, 1]

    # --- areas: each change of a count weighs the rest of the window
    w = rest_of_window
    cell, kcell = of * N_AREA, kf * N_AREA
    columns = [(C_BUSY, (BUSY,)), (C_BLOCKED, (BLOCKED, HANDOVER) if fleets else (BLOCKED,))]
    if p.has_failures:
        columns.append((C_DOWN, (DOWN,)))
    if cap:
        columns.append((C_WAIT, (WAITING,)))
    if units:
        columns.append((C_UNITS, (WAIT_UNITS,)))
    for c, codes in columns:
        area[cell + c] += (_any_of(final_e, codes).astype(f64) - _any_of(st_e, codes)) * w
    area[cell + C_QUEUE] -= take * w
    area[kcell + C_BUSY] += go_b * w
    area[kcell + C_QUEUE] += enqueue * w
    if cap:
        area[kcell + C_WAIT] += wait_b * w
    if units:
        area[kcell + C_UNITS] += uwait_b * w

    # --- power: the draws of slots e and b, the heat and its bins, the cap's requests
    if power:
        step_col = STEP0 + step_final if (profiles or cap or units) else STEP0
        draw_e = _table(p, p.draw, of, xp.where(final_e == BUSY, step_col, final_e))
        d_e = draw_e - F(s.draw)[ef]
        F(s.draw)[ef] = draw_e
        draw_b = xp.where(go_b, F(p.draw0)[kf], F(p.draw_wait)[kf])
        d_b = xp.where(start_b, draw_b - F(p.draw_idle)[kf], 0.0)
        F(s.draw)[bf] = xp.where(start_b, draw_b, 0.0)  # the trash slot stays at 0
        area[cell + C_ENERGY] += d_e * w
        area[kcell + C_ENERGY] += d_b * w
        d = d_e + d_b
        s.heat[...] += d
        _power_change(xp, p, s, t_window, d)
    if cap:
        holds = (final_e == BUSY) | (final_e == DOWN)
        res_new = _table(p, p.reserve, of, xp.where(holds, step_col, final_e))
        F(s.res)[ef] = res_new
        ask_b = xp.where(go_b, gain_b, 0.0)  # from standby; a waiting server stays at it
        F(s.res)[bf] = xp.where(start_b, F(p.standby)[kf] + ask_b, 0.0)
        s.reserved[...] += res_new - res_e + ask_b
        # the ring of requests: B then slot e join at the back; a grant leaves from the front
        tail = (s.pq_head + s.n_waiting) % p.M
        F(s.pq)[p.lane_m + tail] = b  # written always: past the last request it is free
        F(s.pq)[p.lane_m + (tail + wait_b) % p.M] = e
        s.pq_head[...] = (s.pq_head + is_grant) % p.M
        granted = is_grant & in_window
        F(s.pw_sum)[of] += xp.where(granted, t - F(s.t_req)[ef], 0.0)
        F(s.grants)[of] += granted
        s.n_waiting[...] += asks_e.astype(xp.int64) + wait_b - is_grant
    if cap or units or fleets:  # when slot e and b began to wait (power, units or a vehicle)
        F(s.t_req)[bf] = t
        asks = reserve
        if cap:
            asks = asks | asks_e
        if units:
            asks = asks | uwait_a
        F(s.t_req)[ef] = xp.where(asks, t, F(s.t_req)[ef])

    # --- units: holdings, their integral, waits of grants, the request order
    if units:
        d_held = take_a + take_b + granted_units - released
        s.p_held[...] += d_held
        s.p_area[...] += d_held * w[:, None]
        win = in_window[:, None]
        s.p_grants[...] += win & ((take_a > 0) | (take_b > 0) | (granted_units > 0))
        s.p_wait[...] += xp.where(win & (granted_units > 0), u_wait[:, None], 0.0)
        F(s.alt)[bf] = alt_b
        F(s.alt)[ef] = xp.where(start_a, alt_a, xp.where(is_ugrant, galt, alt_e))
        F(s.useq)[bf] = s.next_useq
        F(s.useq)[ef] = xp.where(uwait_a, s.next_useq + uwait_b, F(s.useq)[ef])
        s.next_useq[...] += uwait_a.astype(f64) + uwait_b
        s.n_uwait[...] += uwait_a.astype(xp.int64) + uwait_b - is_ugrant

    # --- vehicles and shifts
    if fleets:  # a request that finds no idle vehicle joins its fleet's queue
        at_once = lg.move_vehicles(xp, p, s, ev, vehicle_ev, reserve, e, fleet_j, t, w,
                                   in_window)
        fl = p.lane_f + xp.maximum(fleet_j, 0)
        RQ = p.requests
        tail = (F(s.rq_head)[fl] + F(s.rq_len)[fl]) % RQ
        F(s.rq)[fl * RQ + tail] = e  # written always: past the last request it is free
        F(s.rq_len)[fl] += reserve & ~at_once
    if shifts:
        lg.tick_shifts(xp, p, s, ev, shift_ev)

    # --- counts of the window
    F(s.starts)[of] += take & in_window
    F(s.wait_sum)[of] += xp.where(take & in_window, waited, 0.0)
    F(s.starts)[kf] += start_b & in_window
    F(s.departs)[of] += from_station & in_window
    F(s.arrivals)[kf] += enter & in_window
    exits = arrive & (k == J)
    counted = exits & in_window
    cycle = t - job
    E = s.ct.shape[1]
    F(s.ct)[p.lane * E + s.n_exit] = cycle  # kept only when it is an exit (n_exit advances)
    s.n_exit[...] += counted
    s.ct_sum[...] += xp.where(counted, cycle, 0.0)
    applied = timed.astype(xp.int64) + move
    if cap or units:
        applied = applied + is_grant + is_ugrant
    s.events[...] += applied
    s.entered[...] += leave & is_src
    s.exited[...] += exits
    s.live[...] = live
    return s
