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
order the jobs became blocked; the head may move once the target has room. An assembly
station has a list and places per part kind (twin.engine.assembly).

A job carries its order (the time the order entered the plant), and a tag: its kind and its
product. At a split station the job becomes parts that leave the server one at a time, each
move an event of its own (docs/parts.md).
"""

from __future__ import annotations

import math

from twin.engine import assembly, clock, lists, pools, power, queues, servers, vehicles
from twin.engine.codes import (
    BLOCKED,
    BUSY,
    C_QUEUE,
    GROW_EXITS,
    HANDOVER,
    IDLE,
    N_AREA,
    Q_JOB,
    Q_SINCE,
    Q_TAG,
    S_PRODUCT,
    S_ROUTE,
    STEP0,
    WAIT_UNITS,
    WAITING,
)
from twin.engine.jit import lane_function, lane_outline
from twin.engine.layout import (
    AREA,
    ARRIVALS,
    ASSEMBLY,
    BLOCKED_HEAD,
    BLOCKED_TAIL,
    CAPACITY,
    COUNT,
    CT,
    CT_SUM,
    CT_TAG,
    DEPARTS,
    ENTERED,
    EVENTS,
    EXITED,
    GONE,
    JOB_IN,
    JOB_TAG,
    KCAP,
    KCOUNT,
    MADE,
    N_EXIT,
    N_UWAIT,
    NEXT_SEQ,
    ORDER_AREA,
    PHASE,
    PRODUCT_CUM,
    Q_LEN,
    REQUIRES,
    RETIRE,
    ROUTE_CUM,
    ROUTE_NEXT,
    SEQ,
    SLOT_STATION,
    SPLIT_COUNT,
    SPLIT_KIND,
    SPLIT_NEXT,
    SPLIT_TOTAL,
    STARTS,
    STATION_FLEET,
    STEP_K,
    STOP,
    T_REQ,
    TAG_WEIGHT,
    TARGET,
    V_JOB,
    V_ORIGIN,
    V_TAG,
    V_TO,
    WAIT_SUM,
)

# --- buffers


@lane_function
def enqueue(x, k, job, tag, t, w):
    """The job (order ``job``, ``tag``) waits at the back of station ``k``'s buffer from
    ``t``."""
    queues.push(x, k, job, t, tag)
    x.f[x.pn[AREA] + k * N_AREA + C_QUEUE] += w


@lane_function
def dequeue(x, m, j, w):
    """Server ``m`` takes the head of station ``j``'s buffer: returns when it entered the
    buffer."""
    f, o = x.f, x.pn
    at = queues.pop(x, j)
    f[o[JOB_IN] + m] = f[at + Q_JOB]
    x.n[o[JOB_TAG] + m] = int(f[at + Q_TAG])
    f[o[AREA] + j * N_AREA + C_QUEUE] -= w
    return f[at + Q_SINCE]


@lane_function
def route(x, j, tag):
    """Where a job of ``tag`` that ends service at station row ``j`` goes next (J: exit),
    drawn from the station's routing stream when routing is random."""
    row = (x.n[x.pn[PHASE]] * x.c.W + j) * x.c.KD * x.c.PR + tag
    k = x.pn[x.pn[ROUTE_NEXT] + row]
    if k >= 0:
        return k
    u = servers.draw_uniform(x, 4 * j + S_ROUTE)
    cum = x.pn[ROUTE_CUM] + row * x.c.W
    k = 0
    while k < x.c.J and u > x.pf[cum + k]:
        k += 1
    return k


@lane_function
def draw_product(x):
    """The product of the order the source releases now."""
    u = servers.draw_uniform(x, 4 * x.c.J + S_PRODUCT)
    p = 0
    while p < x.c.PR - 1 and u > x.pf[x.pn[PRODUCT_CUM] + p]:
        p += 1
    return p


# --- places, and blocked jobs


@lane_function
def is_assembly(x, k):
    return x.c.has_parts and k < x.c.J and x.pn[x.pn[ASSEMBLY] + k] > 0


@lane_function
def column(x, k, tag):
    """Station ``k``'s list and places a job of ``tag`` uses: its kind's at an assembly,
    else the station's one (column 0)."""
    return k * x.c.KD + (tag // x.c.PR if is_assembly(x, k) else 0)


@lane_function
def has_room(x, k, tag):
    if k == x.c.J:
        return True
    if is_assembly(x, k):
        i = column(x, k, tag)
        return x.n[x.pn[KCOUNT] + i] < x.pf[x.pn[KCAP] + i]
    return x.n[x.pn[COUNT] + k] < x.pf[x.pn[CAPACITY] + x.n[x.pn[PHASE]] * x.c.W + k]


@lane_function
def block(x, m, j, k, w, tw):
    """Slot ``m``'s finished job cannot go to full station ``k``: it keeps its server."""
    x.n[x.pn[TARGET] + m] = k
    lists.append(x, m, column(x, k, x.n[x.pn[JOB_TAG] + m]), BLOCKED_HEAD, BLOCKED_TAIL, SEQ,
                 NEXT_SEQ)
    servers.set_status(x, m, j, BLOCKED, w, tw)
    clock.schedule(x, m, math.inf)


@lane_function
def open_room(x, k):
    """If station ``k`` has room, the first job blocked on it may move now (at an assembly:
    the first of each kind that has room)."""
    if k < x.c.J:
        kinds = x.c.KD if is_assembly(x, k) else 1
        for d in range(kinds):
            m = x.n[x.pn[BLOCKED_HEAD] + k * x.c.KD + d]
            if m >= 0 and has_room(x, k, d * x.c.PR):
                clock.may_move(x, m)


# --- the two sides of a move


@lane_function
def ask_units(x, m, j, t, w):
    """A job takes server ``m`` of station ``j``: it takes the first alternative of units that
    fits unless another request waits. Returns its time factor, or -1 if it must wait."""
    if not x.c.has_units or not x.pn[x.pn[REQUIRES] + j]:
        return 1.0
    return take_units(x, m, j, t, w)


@lane_outline
def take_units(x, m, j, t, w):
    """:func:`ask_units` for a station that needs units (called, not inlined: its three
    callers would otherwise each compile the pools' code)."""
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
    r = servers.prow(x, m, j)
    if power.fits(x, power.start_gain(x, r)):
        power.set_reserve(x, m, power.reserve_of(x, r, STEP0))
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
def arrive_at(x, k, job, tag, t, w):
    """The job arrives at station ``k``: returns the idle server that takes it (-1: it waits
    in the buffer). At an assembly the server takes a set the job completes."""
    if t >= x.c.warmup:
        x.f[x.pn[ARRIVALS] + k] += 1.0
    if is_assembly(x, k):
        return assembly.arrive(x, k, job, tag, t, w)
    b = servers.lowest_idle(x, k)
    if b >= 0:
        servers.take_idle(x, k)
        x.f[x.pn[JOB_IN] + b] = job
        x.n[x.pn[JOB_TAG] + b] = tag
    else:
        enqueue(x, k, job, tag, t, w)
    return b


@lane_function
def leave(x, m, j, t, w):
    """The job leaves server ``m`` of station ``j``: returns whether the server takes another
    job (the head of its buffer, or at an assembly a complete set)."""
    f, n, o = x.f, x.n, x.pn
    counted = t >= x.c.warmup
    n[o[COUNT] + j] -= 1
    if counted:
        f[o[DEPARTS] + j] += 1.0
    if x.c.has_cap:  # the job's reservation goes with it
        power.set_reserve(x, m, power.reserve_of(x, j * x.c.PR, IDLE))
    n[o[STEP_K] + m] = 0
    if x.c.has_plan and n[o[RETIRE] + j] > 0:  # the server retires (twin.engine.plan)
        return False
    return take_next(x, m, j, t, w)


@lane_function
def take_next(x, m, j, t, w):
    """Server ``m`` of station ``j`` takes the head of its buffer (at an assembly: the first
    complete set): returns False if there is none."""
    f, n, o = x.f, x.n, x.pn
    if is_assembly(x, j):
        if assembly.sets_ready(x, j) == 0:
            return False
        since = assembly.take(x, j, m, w)
    elif n[o[Q_LEN] + j] == 0:
        return False
    else:
        since = dequeue(x, m, j, w)
    if t >= x.c.warmup:
        f[o[STARTS] + j] += 1.0
        f[o[WAIT_SUM] + j] += t - since
    return True


@lane_function
def pull(x, j, t, w, tw):
    """Station ``j``'s lowest-numbered idle server takes waiting work, if there is any (a
    server switched on by the plan); returns whether it did."""
    m = servers.lowest_idle(x, j)
    servers.take_idle(x, j)
    if not take_next(x, m, j, t, w):
        servers.give_idle(x, j, m)
        return False
    factor = ask_units(x, m, j, t, w)
    powered = ask_power(x, m, j, t) if factor >= 0.0 else True
    start(x, m, j, factor, powered, t, w, tw)
    open_room(x, j)
    return True


@lane_outline
def transfer(x, m, j, k, job, tag, leaves, arrives, t, w, tw):
    """The job (order ``job``, ``tag``) leaves server ``m`` of station ``j`` (if ``leaves``;
    the source: m = 0) and arrives at station ``k`` (if ``arrives``; J: exit)."""
    c = x.c
    b = arrive_at(x, k, job, tag, t, w) if arrives and k < c.J else -1
    source = leaves and m == 0
    again = False  # server m takes another job
    if leaves and not source:
        again = leave(x, m, j, t, w)
    if source:
        x.n[x.pn[ENTERED]] += 1
        x.f[x.pn[ORDER_AREA]] += w
    # units, then power: B first, then A
    factor_b = ask_units(x, b, k, t, w) if b >= 0 else 1.0
    factor_a = ask_units(x, m, j, t, w) if again else 1.0
    powered_b = ask_power(x, b, k, t) if b >= 0 and factor_b >= 0.0 else True
    powered_a = ask_power(x, m, j, t) if again and factor_a >= 0.0 else True
    # processing times: A, then B
    if source:
        servers.set_status(x, 0, j, BUSY, w, tw)
        clock.schedule(x, 0, t + servers.interarrival(x, t))
    elif again:
        start(x, m, j, factor_a, powered_a, t, w, tw)
    elif leaves:
        servers.free(x, m, j, w, tw)
    if b >= 0:
        start(x, b, k, factor_b, powered_b, t, w, tw)
        if t >= c.warmup:
            x.f[x.pn[STARTS] + k] += 1.0
    if arrives and k == c.J:
        exit_plant(x, t - job, tag, t >= c.warmup, w)


@lane_function
def exit_plant(x, cycle, tag, counted, w):
    """A job of ``tag`` leaves the plant after ``cycle`` hours inside."""
    f, n, o = x.f, x.n, x.pn
    n[o[EXITED]] += 1
    n[o[GONE] + tag // x.c.PR] += 1
    f[o[ORDER_AREA]] -= x.pf[o[TAG_WEIGHT] + tag] * w
    if counted:
        k = n[o[N_EXIT]]
        f[o[CT] + k] = cycle
        n[o[CT_TAG] + k] = tag
        n[o[N_EXIT]] = k + 1
        f[o[CT_SUM]] += cycle
        if k + 1 == x.c.E:
            n[o[STOP]] = GROW_EXITS


# --- moves


@lane_function
def parts_left(x, m, j):
    """Whether slot ``m`` at split station ``j`` holds parts after the one it sends now."""
    if not x.c.has_parts:
        return False
    total = x.pn[x.pn[SPLIT_TOTAL] + j]
    return total > 0 and x.n[x.pn[SPLIT_NEXT] + m] < total - 1


@lane_function
def move(x, m, j, k, t, w, tw):
    """The job (or part) held at slot ``m`` (station ``j``; the source: J) goes to station
    ``k``, which has room: at once, or with a fleet by reserving the place and calling a
    vehicle. Returns whether the slot still holds parts to send at once."""
    f, n, o = x.f, x.n, x.pn
    tag = n[o[JOB_TAG] + m]
    if k < x.c.J:
        n[o[COUNT] + k] += 1
        if is_assembly(x, k):
            n[o[KCOUNT] + column(x, k, tag)] += 1
    more = parts_left(x, m, j)
    fleet = x.pn[o[STATION_FLEET] + j]
    if fleet < 0:
        transfer(x, m, j, k, t if m == 0 else f[o[JOB_IN] + m], tag, not more, True, t, w, tw)
        if more:
            part_left(x, m, j, t)
        else:
            open_room(x, j)
    else:
        more = False
        n[o[TARGET] + m] = k
        f[o[T_REQ] + m] = t
        servers.set_status(x, m, j, HANDOVER, w, tw)
        clock.schedule(x, m, math.inf)
        vehicles.request(x, m, fleet, t, w)
    open_room(x, k)
    return more


@lane_function
def part_left(x, m, j, t):
    """A part that is not the last has left split station ``j``'s server ``m`` (the last
    leaves with the server, :func:`leave`): it counts as a departure."""
    x.n[x.pn[SPLIT_NEXT] + m] += 1
    if t >= x.c.warmup:
        x.f[x.pn[DEPARTS] + j] += 1.0


@lane_function
def next_part(x, m):
    """Slot ``m`` sends its next part as a move of its own, at once: after the moves already
    possible (it is numbered as if it had blocked now)."""
    x.n[x.pn[TARGET] + m] = -1
    x.f[x.pn[SEQ] + m] = x.f[x.pn[NEXT_SEQ]]
    x.f[x.pn[NEXT_SEQ]] += 1.0
    clock.may_move(x, m)


@lane_function
def routed(x, m, j, w, tw):
    """Route slot ``m``'s job (or its next part): returns its target if that has room now,
    else the job blocks and -1."""
    tag = x.n[x.pn[JOB_TAG] + m]
    k = route(x, j, tag)
    if has_room(x, k, tag):
        return k
    block(x, m, j, k, w, tw)
    return -1


@lane_function
def part_tag(x, m, j):
    """Slot ``m`` at split station ``j`` holds part number ``split_next[m]`` now: its tag."""
    n, o, c = x.n, x.pn, x.c
    i = n[o[SPLIT_NEXT] + m]
    d = 0
    while i >= x.pn[o[SPLIT_COUNT] + j * c.KD + d]:
        i -= x.pn[o[SPLIT_COUNT] + j * c.KD + d]
        d += 1
    n[o[JOB_TAG] + m] = x.pn[o[SPLIT_KIND] + j * c.KD + d] * c.PR + n[o[JOB_TAG] + m] % c.PR


@lane_function
def split(x, m, j):
    """Slot ``m``'s job at split station ``j`` becomes its parts; the first is to leave."""
    n, o, c = x.n, x.pn, x.c
    for d in range(c.KD):
        kind = x.pn[o[SPLIT_KIND] + j * c.KD + d]
        if kind >= 0:
            n[o[MADE] + kind] += x.pn[o[SPLIT_COUNT] + j * c.KD + d]
    n[o[SPLIT_NEXT] + m] = 0
    part_tag(x, m, j)


@lane_function
def move_blocked(x, m, t, w, tw):
    """Slot ``m`` moves now: its job was the first blocked on its target, which has room; or
    it sends its next part."""
    n, o = x.n, x.pn
    j = x.pn[o[SLOT_STATION] + m]
    k = n[o[TARGET] + m]
    if k < 0:  # the next part
        part_tag(x, m, j)
        k = routed(x, m, j, w, tw)
        if k < 0:
            return
    else:
        lists.pop(x, m, column(x, k, n[o[JOB_TAG] + m]), BLOCKED_HEAD, BLOCKED_TAIL)
    if move(x, m, j, k, t, w, tw):
        next_part(x, m)


@lane_function
def complete(x, m, j, t, w, tw):
    """Service ends at server ``m`` of station row ``j`` (the source: an order is ready): the
    job releases its units, becomes its parts at a split station, is routed, and moves on at
    once if its target has room (an event of its own), or blocks."""
    c = x.c
    if j == c.J:
        x.n[x.pn[JOB_TAG]] = draw_product(x) if c.PR > 1 else 0
    elif c.has_units and x.pn[x.pn[REQUIRES] + j]:
        pools.release(x, m, j, w)
    if c.has_parts and j < c.J and x.pn[x.pn[SPLIT_TOTAL] + j] > 0:
        split(x, m, j)
    k = routed(x, m, j, w, tw)
    if k >= 0:
        x.n[x.pn[EVENTS]] += 1  # the move is an event of its own
        if move(x, m, j, k, t, w, tw):
            next_part(x, m)


@lane_function
def picked_up(x, v, t, w, tw):
    """Vehicle ``v`` has loaded its job (or part): it leaves its server, which sends its next
    part if it has one."""
    n, o = x.n, x.pn
    m = n[o[V_ORIGIN] + v]
    j = x.pn[o[SLOT_STATION] + m]
    more = parts_left(x, m, j)
    transfer(x, m, j, n[o[TARGET] + m], x.f[o[JOB_IN] + m], n[o[JOB_TAG] + m], not more, False,
             t, w, tw)
    if more:
        part_left(x, m, j, t)
        next_part(x, m)
    else:
        open_room(x, j)


@lane_function
def delivered(x, v, t, w, tw):
    """Vehicle ``v`` has unloaded its job at its next station (its place was reserved), or at
    the shipping point."""
    n, o = x.n, x.pn
    transfer(x, -1, x.c.J, n[o[V_TO] + v], x.f[o[V_JOB] + v], n[o[V_TAG] + v], False, True, t,
             w, tw)
