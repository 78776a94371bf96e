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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twin.engine import rng

Array = Any

IDLE, BUSY, BLOCKED, DOWN, OFF = 0, 1, 2, 3, 4
# Per-station state counts integrated over time: the last axis of State.area.
C_BUSY, C_BLOCKED, C_DOWN, C_QUEUE = 0, 1, 2, 3
S_SERVICE, S_ROUTE, S_TTF, S_REPAIR = 0, 1, 2, 3
# Movable slots sort before every timed event by key = sequence - MOVE_OFFSET < 0 <= any time.
MOVE_OFFSET = 2.0**52


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
    area: Array  # (L, W, 4) integrals of the busy / blocked / down / queue counts
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


def _flat(a: Array) -> Array:
    return a.reshape(-1)


def _draw(xp, p: DeviceParams, s: State, stream: Array, used: Array) -> Array:
    """Uniforms of the flat stream indices ``stream`` (into (L, NS)), shape (L,); advances the
    counters of the draws ``used``."""
    ctr_all = _flat(s.ctr)
    ctr = ctr_all[stream]
    ctr_all[stream] = ctr + used.astype(xp.uint64)
    return rng.uniforms(xp, _flat(p.keys)[stream], ctr)


def _service(xp, p: DeviceParams, row: Array, u: Array) -> Array:
    """Processing times at flat station rows ``row`` (into (L, W)) from uniforms ``u``."""
    kinds = p.kinds_present
    kind = _flat(p.dist_kind)[row] if len(kinds) > 1 else None
    par = _flat(p.dist_par)
    base = row * rng.N_DIST_PARAMS
    needed = rng.params_needed(kinds)
    pars = [par[base + c] if c < needed else None for c in range(rng.N_DIST_PARAMS)]
    tab = _flat(p.dist_row)[row] if rng.uses_tables(kinds) else None
    return rng.sample(xp, p.ndtri, kinds, kind, pars, tab, p.tables, u)


def _start_pair(xp, p: DeviceParams, s: State, row: Array, stream: Array, used: Array):
    """Draw the processing of the jobs starting at two flat station rows per lane.

    ``row``, ``stream`` (first stream of each station) and ``used`` have shape (L, 2): start A
    then start B. When both draw from one station, B takes the counters after A's. Returns
    ``(first, left, breaks)`` of shape (L, 2): the time to the slot's next event, the processing
    left after it when it is a failure (None without failures), and whether it is one.
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
    length = _service(xp, p, row, u[:, :2])
    if not p.has_failures:
        return length, None, None
    ttf = -_flat(p.mtbf)[row] * xp.log1p(-u[:, 2:])
    breaks = ttf < length
    return xp.where(breaks, ttf, length), xp.where(breaks, length - ttf, 0.0), breaks


def init(xp, p: DeviceParams, queue_places: int, stored_exits: int) -> State:
    """All lanes at time 0: stations empty, the source timer running."""
    L, M, W = p.slot_on.shape[0], p.M, p.J + 1
    status = xp.where(p.slot_on, IDLE, OFF).astype(xp.int8)
    status[:, 0] = BUSY
    f = lambda shape, v=0.0: xp.full(shape, v, dtype=xp.float64)
    i = lambda shape: xp.zeros(shape, dtype=xp.int64)
    s = State(
        t=f(L), status=status, t_next=f((L, M), xp.inf), fails=xp.zeros((L, M), dtype=bool),
        work=f((L, M)), job_in=f((L, M)), target=i((L, M)), seq=f((L, M)), next_seq=f(L),
        count=i((L, W)), q_job=f((L, W, queue_places)), q_buf=f((L, W, queue_places)),
        q_head=i((L, W)), q_len=i((L, W)), ctr=xp.zeros((L, 4 * W), dtype=xp.uint64),
        area=f((L, W, 4)), starts=f((L, W)), wait_sum=f((L, W)), departs=f((L, W)), arrivals=f((L, W)),
        n_exit=i(L), ct_sum=f(L), ct=f((L, stored_exits)), events=i(L),
        entered=i(L), exited=i(L), live=xp.ones(L, dtype=bool),
    )
    source = p.lane_w + p.J
    u = _draw(xp, p, s, p.lane_s + 4 * p.J + S_SERVICE, xp.ones(L, dtype=bool))
    s.t_next[:, 0] = _service(xp, p, source, u)
    return s


def step(xp, p: DeviceParams, s: State) -> State:
    """Apply each lane's next event (see the module docstring for the order)."""
    J, W, Q = p.J, p.J + 1, s.q_job.shape[2]
    F = _flat
    status, t_next = F(s.status), F(s.t_next)
    count, q_len, q_head, area = F(s.count), F(s.q_len), F(s.q_head), F(s.area)

    # --- choose: a movable blocked slot (oldest blocking first), else the earliest timed event
    room = s.count < p.capacity
    movable = (s.status == BLOCKED) & F(room)[p.lane_w[:, None] + s.target]
    key = xp.where(movable, s.seq - MOVE_OFFSET, s.t_next)
    e = xp.argmin(key, axis=1)
    ef = p.lane_m + e
    kmin = F(key)[ef]
    is_move = kmin < 0.0
    t_ev = xp.where(is_move, s.t, kmin)
    live = t_ev <= p.horizon
    # a lane with no event left at all is deadlocked: its clock stops, for the loop to report
    t = xp.where(t_ev < xp.inf, xp.minimum(t_ev, p.horizon), s.t)
    s.t[...] = t
    rest_of_window = p.horizon - xp.maximum(t, p.warmup)
    in_window = t >= p.warmup

    # --- decode the timed event of slot e at station j_e
    st_e = status[ef]
    j_e = p.slot_station[e]
    jf = p.lane_w + j_e
    fails_e = F(s.fails)[ef]
    work_e = F(s.work)[ef]
    timed = live & ~is_move
    busy_e = timed & (st_e == BUSY)
    compl = busy_e & ~fails_e
    fail = busy_e & fails_e
    rep = timed & (st_e == DOWN)
    if p.has_routing_draws or p.has_failures:
        purpose = xp.where(compl, S_ROUTE, xp.where(fail, S_REPAIR, S_TTF))
        used = (compl & p.has_routing_draws) | ((fail | rep) & p.has_failures)
        u0 = _draw(xp, p, s, p.lane_s + 4 * j_e + purpose, used)
    if p.has_routing_draws:
        cum = F(p.route_cum)[jf[:, None] * W + xp.arange(W)]
        routed = xp.sum(u0[:, None] > cum, axis=1)
    else:
        routed = F(p.route_next)[jf]
    k = xp.where(compl, routed, F(s.target)[ef])
    if p.has_failures:
        log_u0 = -xp.log1p(-u0)
        life = F(p.mtbf)[jf] * log_u0  # time to failure after a repair
        repair = F(p.mttr)[jf] * log_u0
        rep_breaks = life < work_e

    # --- the move: the chosen blocked slot, or the slot that just completed if its target has room
    kf = p.lane_w + k
    move = live & (is_move | (compl & F(room)[kf]))
    enter = move & (k != J)
    is_src = e == 0
    job = xp.where(is_src, t, F(s.job_in)[ef])

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
    count[kf] += enter

    of = jf  # the origin: the moving slot's station
    from_station = move & ~is_src
    count[of] -= from_station
    len_o = q_len[of]
    has_next = len_o > 0
    start_a = move & (is_src | has_next)
    take = from_station & has_next
    head = q_head[of]
    hq = of * Q + head
    next_job = F(s.q_job)[hq]
    waited = t - F(s.q_buf)[hq]
    q_head[of] = xp.where(take, (head + 1) % Q, head)
    q_len[of] = len_o - take

    # --- service starts: A = slot e restarting (source or next job), B = idle server at k
    first, left, breaks = _start_pair(
        xp, p, s, xp.stack([of, kf], axis=1),
        xp.stack([p.lane_s + 4 * j_e, p.lane_s + 4 * k], axis=1),
        xp.stack([start_a, start_b], axis=1))
    first_a, first_b = first[:, 0], first[:, 1]
    if p.has_failures:
        left_a, left_b, breaks_a, breaks_b = left[:, 0], left[:, 1], breaks[:, 0], breaks[:, 1]

    # --- write slot e
    new_status = xp.where(compl, BLOCKED, st_e)
    new_next = xp.where(compl, xp.inf, kmin)
    if p.has_failures:
        new_status = xp.where(fail, DOWN, xp.where(rep, BUSY, new_status))
        new_next = xp.where(fail, t + repair,
                            xp.where(rep, t + xp.where(rep_breaks, life, work_e), new_next))
        F(s.fails)[ef] = xp.where(start_a, breaks_a, xp.where(rep, rep_breaks, fails_e))
        F(s.work)[ef] = xp.where(start_a, left_a,
                                 xp.where(rep & rep_breaks, work_e - life, work_e))
    status[ef] = xp.where(move, xp.where(start_a, BUSY, IDLE), new_status).astype(xp.int8)
    t_next[ef] = xp.where(move, xp.where(start_a, t + first_a, xp.inf), new_next)
    F(s.job_in)[ef] = xp.where(take, next_job, job)
    F(s.target)[ef] = k  # read only while the slot is BLOCKED, i.e. after a completion
    blocks = compl & ~move
    F(s.seq)[ef] = s.next_seq
    s.next_seq[...] += blocks

    # --- write slot b (the trash slot when nothing starts there)
    bf = p.lane_m + xp.where(start_b, b, p.M - 1)
    status[bf] = BUSY
    t_next[bf] = xp.where(start_b, t + first_b, xp.inf)
    F(s.job_in)[bf] = job
    if p.has_failures:
        F(s.fails)[bf] = breaks_b
        F(s.work)[bf] = left_b

    # --- areas: each change of a count weighs the rest of the window
    w = rest_of_window
    cell = of * 4
    area[cell + C_BUSY] += (rep.astype(xp.float64) - compl - fail + take) * w
    area[cell + C_BLOCKED] += ((compl & ~move).astype(xp.float64) - (move & ~compl)) * w
    area[cell + C_QUEUE] -= take * w
    if p.has_failures:
        area[cell + C_DOWN] += (fail.astype(xp.float64) - rep) * w
    area[kf * 4 + C_BUSY] += start_b * w
    area[kf * 4 + C_QUEUE] += enqueue * w

    # --- counts of the window
    F(s.starts)[of] += take & in_window
    F(s.wait_sum)[of] += xp.where(take & in_window, waited, 0.0)
    F(s.starts)[kf] += start_b & in_window
    F(s.departs)[of] += from_station & in_window
    F(s.arrivals)[kf] += enter & in_window
    exits = move & (k == J) & in_window
    cycle = t - job
    E = s.ct.shape[1]
    F(s.ct)[p.lane * E + s.n_exit] = cycle  # kept only when it is an exit (n_exit advances)
    s.n_exit[...] += exits
    s.ct_sum[...] += xp.where(exits, cycle, 0.0)
    s.events[...] += timed.astype(xp.int64) + move
    s.entered[...] += move & is_src
    s.exited[...] += move & (k == J)
    s.live[...] = live
    return s
