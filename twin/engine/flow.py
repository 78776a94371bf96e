"""Jobs through stations: routing, buffers, blocking after service, and the move of a job
from the server that holds it to its next station (docs/semantics.md states the rules).

A move has two sides. The job *arrives* at its target: the lowest-numbered idle server takes
it, or it waits at the back of the buffer. It *leaves* its server: the server takes the head
of its own buffer, or idles (the source restarts its timer). Without a fleet both happen at
once; with one, the place at the target is reserved at once, the job leaves at its vehicle's
loading end and arrives at its unloading end. Of the two starts a move can cause, the job
that arrived (B) asks for units, then for power, before the next job at the server it left
(A); their processing times are drawn in the order A, then B.

A blocked job waits in its target's list of blocked slots (linked through ``link``), in the
order the jobs became blocked; the head may move once the target has room.
"""

from __future__ import annotations

import math

from twin.engine import clock, lists, pools, power, rings, servers, vehicles
from twin.engine.codes import (
    BLOCKED,
    BUSY,
    C_QUEUE,
    GROW_EXITS,
    GROW_QUEUE,
    HANDOVER,
    IDLE,
    N_AREA,
    S_ROUTE,
    STEP0,
    WAIT_UNITS,
    WAITING,
)
from twin.engine.jit import lane_function
from twin.engine.layout import (
    AREA,
    ARRIVALS,
    BLOCKED_HEAD,
    BLOCKED_TAIL,
    CAPACITY,
    COUNT,
    CT,
    CT_SUM,
    DEPARTS,
    ENTERED,
    EVENTS,
    EXITED,
    JOB_IN,
    N_EXIT,
    N_UWAIT,
    NEXT_SEQ,
    Q_GROWS,
    Q_HEAD,
    Q_LEN,
    Q_SIZE,
    Q_START,
    QUEUE,
    REQUIRES,
    ROUTE_CUM,
    ROUTE_NEXT,
    SEQ,
    SLOT_STATION,
    STARTS,
    STATION_FLEET,
    STEP_K,
    STOP,
    T_REQ,
    TARGET,
    V_JOB,
    V_ORIGIN,
    V_TO,
    WAIT_SUM,
)

# --- buffers: a ring per station in queue[2 * (q_start[j] ... q_start[j] + q_size[j] - 1)]


@lane_function
def enqueue(x, k, job, t, w):
    """The job that entered the plant at ``job`` waits at the back of station ``k``'s buffer
    from ``t``. A ring that may grow and is now full stops the lane, for the host to grow it
    before the next event."""
    f, n, o = x.f, x.n, x.pn
    size = x.pn[o[Q_SIZE] + k]
    length = n[o[Q_LEN] + k]
    at = o[QUEUE] + 2 * (x.pn[o[Q_START] + k] + rings.wrap(n[o[Q_HEAD] + k], length, size))
    f[at] = job
    f[at + 1] = t
    n[o[Q_LEN] + k] = length + 1
    f[o[AREA] + k * N_AREA + C_QUEUE] += w
    if length + 1 == size and x.pn[o[Q_GROWS] + k]:
        n[o[STOP]] = GROW_QUEUE


@lane_function
def dequeue(x, j, w):
    """Take the head of station ``j``'s buffer: returns (entry time of the job, time it
    entered the buffer)."""
    f, n, o = x.f, x.n, x.pn
    head = n[o[Q_HEAD] + j]
    at = o[QUEUE] + 2 * (x.pn[o[Q_START] + j] + head)
    n[o[Q_HEAD] + j] = rings.wrap(head, 1, x.pn[o[Q_SIZE] + j])
    n[o[Q_LEN] + j] -= 1
    f[o[AREA] + j * N_AREA + C_QUEUE] -= w
    return f[at], f[at + 1]


@lane_function
def route(x, j):
    """Where a job that ends service at station row ``j`` goes next (J: exit), drawn from the
    station's routing stream when routing is random."""
    k = x.pn[x.pn[ROUTE_NEXT] + j]
    if k >= 0:
        return k
    u = servers.draw_uniform(x, 4 * j + S_ROUTE)
    cum = x.pn[ROUTE_CUM] + j * x.c.W
    k = 0
    while k < x.c.J and u > x.pf[cum + k]:
        k += 1
    return k


# --- blocked jobs


@lane_function
def block(x, m, j, k, w, tw):
    """Slot ``m``'s finished job cannot go to full station ``k``: it keeps its server."""
    x.n[x.pn[TARGET] + m] = k
    lists.append(x, m, k, BLOCKED_HEAD, BLOCKED_TAIL, SEQ, NEXT_SEQ)
    servers.set_status(x, m, j, BLOCKED, w, tw)
    clock.schedule(x, m, math.inf)


@lane_function
def has_room(x, k):
    return k == x.c.J or x.n[x.pn[COUNT] + k] < x.pf[x.pn[CAPACITY] + k]


@lane_function
def open_room(x, k):
    """If station ``k`` has room, the first job blocked on it may move now."""
    if k < x.c.J:
        m = x.n[x.pn[BLOCKED_HEAD] + k]
        if m >= 0 and has_room(x, k):
            clock.may_move(x, m)


# --- the two sides of a move


@lane_function
def ask_units(x, m, j, t, w):
    """A job takes server ``m`` of station ``j``: it takes the first alternative of units that
    fits unless another request waits. Returns its time factor, or -1 if it must wait."""
    if not x.c.has_units or not x.pn[x.pn[REQUIRES] + j]:
        return 1.0
    a = pools.first_fit(x, j) if x.n[x.pn[N_UWAIT]] == 0 else -1
    if a < 0:
        pools.wait(x, m, j, t)
        return -1.0
    return pools.take(x, m, j, a, t, w, -1.0)


@lane_function
def ask_power(x, m, j, t):
    """A job that has its units asks the cap for its first step; False: it waits."""
    if not x.c.has_cap:
        return True
    if power.fits(x, power.start_gain(x, j)):
        power.set_reserve(x, m, power.reserve_of(x, j, STEP0))
        return True
    power.join(x, m, t)
    return False


@lane_function
def start(x, m, j, factor, powered, t, w, tw):
    """Apply a job start at server ``m`` of station ``j`` decided by :func:`ask_units` and
    :func:`ask_power`: draw its processing, then process, or wait for power or units."""
    first, breaks, left = servers.draw_job(x, m, j, 1.0 if factor < 0.0 else factor)
    if factor < 0.0:
        servers.set_status(x, m, j, WAIT_UNITS, w, tw)
        clock.schedule(x, m, math.inf)
    elif not powered:
        servers.set_status(x, m, j, WAITING, w, tw)
        clock.schedule(x, m, math.inf)
    else:
        servers.set_status(x, m, j, BUSY, w, tw)
        servers.go(x, m, first, breaks, left, t)


@lane_function
def arrive_at(x, k, job, t, w):
    """The job arrives at station ``k``: returns the idle server that takes it (-1: it waits
    in the buffer)."""
    b = servers.lowest_idle(x, k)
    if b >= 0:
        servers.take_idle(x, k)
    else:
        enqueue(x, k, job, t, w)
    if t >= x.c.warmup:
        x.f[x.pn[ARRIVALS] + k] += 1.0
    return b


@lane_function
def leave(x, m, j, t, w):
    """The job leaves server ``m`` of station ``j``: returns whether the server takes another
    job (the head of its buffer, whose entry time is then in ``job_in``)."""
    f, n, o = x.f, x.n, x.pn
    counted = t >= x.c.warmup
    n[o[COUNT] + j] -= 1
    if counted:
        f[o[DEPARTS] + j] += 1.0
    if x.c.has_cap:  # the job's reservation goes with it
        power.set_reserve(x, m, power.reserve_of(x, j, IDLE))
    n[o[STEP_K] + m] = 0
    if n[o[Q_LEN] + j] == 0:
        return False
    job, since = dequeue(x, j, w)
    f[o[JOB_IN] + m] = job
    if counted:
        f[o[STARTS] + j] += 1.0
        f[o[WAIT_SUM] + j] += t - since
    return True


@lane_function
def transfer(x, m, j, k, job, leaves, arrives, t, w, tw):
    """The job that entered the plant at ``job`` leaves server ``m`` of station ``j`` (if
    ``leaves``; the source: m = 0) and arrives at station ``k`` (if ``arrives``; J: exit)."""
    c = x.c
    b = arrive_at(x, k, job, t, w) if arrives and k < c.J else -1
    source = leaves and m == 0
    again = False  # server m takes another job
    if leaves and not source:
        again = leave(x, m, j, t, w)
    if source:
        x.n[x.pn[ENTERED]] += 1
    # units, then power: B first, then A
    factor_b = ask_units(x, b, k, t, w) if b >= 0 else 1.0
    factor_a = ask_units(x, m, j, t, w) if again else 1.0
    powered_b = ask_power(x, b, k, t) if b >= 0 and factor_b >= 0.0 else True
    powered_a = ask_power(x, m, j, t) if again and factor_a >= 0.0 else True
    # processing times: A, then B
    if source:
        x.f[x.pn[JOB_IN]] = t
        servers.set_status(x, 0, j, BUSY, w, tw)
        clock.schedule(x, 0, t + servers.processing_time(x, j))
    elif again:
        start(x, m, j, factor_a, powered_a, t, w, tw)
    elif leaves:
        servers.set_status(x, m, j, IDLE, w, tw)
        clock.schedule(x, m, math.inf)
        servers.give_idle(x, j, m)
    if b >= 0:
        x.f[x.pn[JOB_IN] + b] = job
        start(x, b, k, factor_b, powered_b, t, w, tw)
        if t >= c.warmup:
            x.f[x.pn[STARTS] + k] += 1.0
    if arrives and k == c.J:
        exit_plant(x, t - job, t >= c.warmup)


@lane_function
def exit_plant(x, cycle, counted):
    """A job leaves the plant after ``cycle`` hours inside."""
    f, n, o = x.f, x.n, x.pn
    n[o[EXITED]] += 1
    if counted:
        k = n[o[N_EXIT]]
        f[o[CT] + k] = cycle
        n[o[N_EXIT]] = k + 1
        f[o[CT_SUM]] += cycle
        if k + 1 == x.c.E:
            n[o[STOP]] = GROW_EXITS


@lane_function
def move(x, m, j, k, t, w, tw):
    """The job held at slot ``m`` (station ``j``; the source: J) goes to station ``k``, which
    has room: at once, or with a fleet by reserving the place and calling a vehicle."""
    f, n, o = x.f, x.n, x.pn
    if k < x.c.J:
        n[o[COUNT] + k] += 1
    fleet = x.pn[o[STATION_FLEET] + j]
    if fleet < 0:
        transfer(x, m, j, k, t if m == 0 else f[o[JOB_IN] + m], True, True, t, w, tw)
        open_room(x, j)
    else:
        n[o[TARGET] + m] = k
        f[o[T_REQ] + m] = t
        servers.set_status(x, m, j, HANDOVER, w, tw)
        clock.schedule(x, m, math.inf)
        vehicles.request(x, m, fleet, t, w)
    open_room(x, k)


@lane_function
def move_blocked(x, m, t, w, tw):
    """The first job blocked on its target moves, now that the target has room."""
    k = x.n[x.pn[TARGET] + m]
    lists.pop(x, m, k, BLOCKED_HEAD, BLOCKED_TAIL)
    move(x, m, x.pn[x.pn[SLOT_STATION] + m], k, t, w, tw)


@lane_function
def complete(x, m, j, t, w, tw):
    """Service ends at server ``m`` of station row ``j`` (the source: a job is ready): the
    job is routed, releases its units, and moves on at once if its target has room (an event
    of its own), or blocks."""
    k = route(x, j)
    if x.c.has_units and j < x.c.J and x.pn[x.pn[REQUIRES] + j]:
        pools.release(x, m, j, w)
    if has_room(x, k):
        x.n[x.pn[EVENTS]] += 1
        move(x, m, j, k, t, w, tw)
    else:
        block(x, m, j, k, w, tw)


@lane_function
def picked_up(x, v, t, w, tw):
    """Vehicle ``v`` has loaded its job: the job leaves its server."""
    n, o = x.n, x.pn
    m = n[o[V_ORIGIN] + v]
    j = x.pn[o[SLOT_STATION] + m]
    transfer(x, m, j, n[o[TARGET] + m], x.f[o[JOB_IN] + m], True, False, t, w, tw)
    open_room(x, j)


@lane_function
def delivered(x, v, t, w, tw):
    """Vehicle ``v`` has unloaded its job at its next station (its place was reserved), or at
    the shipping point."""
    transfer(x, -1, x.c.J, x.n[x.pn[V_TO] + v], x.f[x.pn[V_JOB] + v], False, True, t, w, tw)
