"""A server and the job it holds: status changes (with what they integrate), idle servers,
processing times, failures and repairs, profile steps and power grants.

A server's status changes only through :func:`set_status`, which moves it between the
station's time integrals (``area``) and, with a power model, updates its draw and what the
cap counts it at. Processing runs in segments: a job's processing time is drawn when it takes
the server; a busy-profile step is a share of it; a failure splits a segment. Times to
failure are drawn afresh at each start and resume of processing, which is exact because the
exponential law has no memory.
"""

from __future__ import annotations

import math

from twin.engine import clock, power
from twin.engine.codes import (
    BLOCKED,
    BUSY,
    C_BLOCKED,
    C_BUSY,
    C_DOWN,
    C_ON,
    C_UNITS,
    C_WAIT,
    DOWN,
    HANDOVER,
    IDLE,
    N_AREA,
    N_DIST_PARAMS,
    OFF,
    S_REPAIR,
    S_SERVICE,
    S_TTF,
    STEP0,
    WAIT_UNITS,
    WAITING,
)
from twin.engine.jit import lane_function, lane_outline
from twin.engine.layout import (
    AREA,
    CTR,
    DIST_KIND,
    DIST_PAR,
    DIST_ROW,
    FAILS,
    FIRST_SLOT,
    GRANTS,
    IDLE_HEAP,
    JOB_TAG,
    KEY,
    LEARN_EXP,
    LEARN_FLOOR,
    LEARN_OWN,
    LEARNED,
    LENGTH,
    MTBF,
    MTTR,
    N_IDLE,
    N_ON,
    NHPP,
    PHASE,
    PHASE_START,
    PLAN_KIND,
    PLAN_MEAN,
    PLAN_PAR,
    PLAN_ROW,
    POWER_DRAW,
    PW_SUM,
    RES,
    RETIRE,
    SHARE,
    SLOT_STATION,
    STATUS,
    STEP_K,
    T_REQ,
    TABLES,
    WORK,
)
from twin.engine.rng import ONE, uniform, variate


@lane_function
def area_column(status):
    """The column of ``area`` a server status counts in (-1: none)."""
    if status == BUSY:
        return C_BUSY
    if status == BLOCKED or status == HANDOVER:
        return C_BLOCKED
    if status == DOWN:
        return C_DOWN
    if status == WAITING:
        return C_WAIT
    if status == WAIT_UNITS:
        return C_UNITS
    return -1


@lane_function
def set_status(x, m, j, new, w, tw):
    """Server ``m`` of station ``j`` takes status ``new`` now (its job's step already set);
    ``w`` is what a change now weighs in the window, ``tw`` now or the window's start."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    old = n[o[STATUS] + m]
    n[o[STATUS] + m] = new
    a, b = area_column(old), area_column(new)
    if a != b:
        if a >= 0:
            f[o[AREA] + j * N_AREA + a] -= w
        if b >= 0:
            f[o[AREA] + j * N_AREA + b] += w
    if c.has_power:
        col = STEP0 + n[o[STEP_K] + m] if new == BUSY else new
        power.set_draw(x, j, m, x.pf[o[POWER_DRAW] + prow(x, m, j) * c.NC + col], w, tw)
    if c.has_cap:
        col = STEP0 + n[o[STEP_K] + m] if (new == BUSY or new == DOWN) else new
        power.set_reserve(x, m, power.reserve_of(x, prow(x, m, j), col))


@lane_function
def prow(x, m, j):
    """Row of the per-product parameters (processing, failures, power) for the job of slot
    ``m`` at station row ``j``: ``j x PR`` + its product."""
    if x.c.PR == 1:
        return j
    return j * x.c.PR + x.n[x.pn[JOB_TAG] + m] % x.c.PR


# --- idle servers: each station's idle servers form a min-heap of slot numbers kept in the
# station's own range of idle_heap, so the lowest-numbered idle server is found in O(1) and
# taken or given back in O(log servers)


@lane_function
def lowest_idle(x, j):
    """The lowest-numbered idle server of station ``j`` (-1: none)."""
    if x.n[x.pn[N_IDLE] + j] == 0:
        return -1
    return x.n[x.pn[IDLE_HEAP] + x.pn[x.pn[FIRST_SLOT] + j]]


@lane_function
def take_idle(x, j):
    """Remove station ``j``'s lowest-numbered idle server from its heap."""
    n, o = x.n, x.pn
    heap = o[IDLE_HEAP] + x.pn[o[FIRST_SLOT] + j]
    size = n[o[N_IDLE] + j] - 1
    n[o[N_IDLE] + j] = size
    last = n[heap + size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and n[heap + child + 1] < n[heap + child]:
            child += 1
        if n[heap + child] >= last:
            break
        n[heap + i] = n[heap + child]
        i = child
    n[heap + i] = last


@lane_function
def give_idle(x, j, m):
    """Server ``m`` of station ``j`` is idle again."""
    n, o = x.n, x.pn
    heap = o[IDLE_HEAP] + x.pn[o[FIRST_SLOT] + j]
    i = n[o[N_IDLE] + j]
    n[o[N_IDLE] + j] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if n[heap + parent] <= m:
            break
        n[heap + i] = n[heap + parent]
        i = parent
    n[heap + i] = m


@lane_function
def free(x, m, j, w, tw):
    """Server ``m`` of station ``j`` holds no job now: it idles, or is switched off if its
    station has servers to retire (twin.engine.plan)."""
    clock.schedule(x, m, math.inf)
    if x.c.has_plan and x.n[x.pn[RETIRE] + j] > 0:
        x.n[x.pn[RETIRE] + j] -= 1
        switch(x, m, j, 0, w, tw)
    else:
        set_status(x, m, j, IDLE, w, tw)
        give_idle(x, j, m)


@lane_outline
def switch(x, m, j, on, w, tw):
    """Server ``m`` of station ``j``, holding no job, comes into force (``on``: 1; it idles)
    or leaves it (0). Called, not inlined: only changes of the plan switch servers."""
    set_status(x, m, j, IDLE if on else OFF, w, tw)
    d = 1 if on else -1
    x.n[x.pn[N_ON] + j] += d
    x.f[x.pn[AREA] + j * N_AREA + C_ON] += d * w
    if on:
        give_idle(x, j, m)


# --- random times


@lane_function
def draw_uniform(x, stream):
    """The next uniform of one of the lane's random streams."""
    u, o = x.u, x.pn
    count = u[o[CTR] + stream]
    u[o[CTR] + stream] = count + ONE
    return uniform(u[o[KEY] + stream], count)


@lane_function
def processing_time(x, j, r):
    """The next processing time at station row ``j`` with the laws of per-product row ``r``
    (row J: the next interarrival time)."""
    o = x.pn
    value = draw_uniform(x, 4 * j + S_SERVICE)
    row = o[TABLES] + x.pn[o[DIST_ROW] + r] * x.c.G
    return variate(x.pn[o[DIST_KIND] + r], x.pf, o[DIST_PAR] + r * N_DIST_PARAMS, x.pf, row,
                   value)


@lane_function
def interarrival(x, t):
    """The next interarrival time, drawn at ``t`` from the plan's law in force, or with an
    exact Poisson release the time to the next point of the process whose rate is the
    plan's in each phase (one uniform: the inverse of its integrated rate)."""
    f, o, c = x.pf, x.pn, x.c
    k = x.n[o[PHASE]]
    value = draw_uniform(x, 4 * c.J + S_SERVICE)
    if x.pn[o[NHPP]]:
        left = -math.log1p(-value)  # integrated rate still to pass
        at = t
        while True:
            mean = f[o[PLAN_MEAN] + k]
            end = f[o[PHASE_START] + k + 1] if k + 1 < c.NK else math.inf
            if at + left * mean <= end:
                return at + left * mean - t
            left -= (end - at) / mean
            at = end
            k += 1
    row = o[TABLES] + x.pn[o[PLAN_ROW] + k] * c.G
    return variate(x.pn[o[PLAN_KIND] + k], f, o[PLAN_PAR] + k * N_DIST_PARAMS, f, row, value)


@lane_function
def learning(x, j, r):
    """The learning curve's factor for the job starting now at station ``j`` (per-product
    row ``r``): ``max(floor, n^log2(rate))`` for the n-th job started there since time 0 (of
    its product, where each product learns on its own)."""
    e = x.pf[x.pn[LEARN_EXP] + r]
    if e == 0.0:
        return 1.0
    i = r if x.pn[x.pn[LEARN_OWN] + j] else j * x.c.PR
    count = x.f[x.pn[LEARNED] + i] + 1.0
    x.f[x.pn[LEARNED] + i] = count
    return max(x.pf[x.pn[LEARN_FLOOR] + r], count**e)


@lane_function
def time_to_failure(x, j, r):
    """Processing time before the next failure at station ``j`` of a job of per-product row
    ``r`` (inf: it never fails)."""
    mtbf = x.pf[x.pn[MTBF] + r]
    if mtbf == math.inf:
        return math.inf
    return mtbf * -math.log1p(-draw_uniform(x, 4 * j + S_TTF))


@lane_function
def share(x, r, step):
    return x.pf[x.pn[SHARE] + r * x.c.K + step]


@lane_function
def draw_job(x, m, j, factor):
    """Draw the processing of the job that takes server ``m`` of station ``j`` now, times the
    staffing's ``factor``, and its first time to failure. Returns ``(first, breaks, left)``:
    the time to the server's next event (the end of the first profile step, or a failure
    before it), whether that is a failure, and the step's work left after it."""
    r = prow(x, m, j)
    length = processing_time(x, j, r) * factor
    if x.c.has_learning:
        length *= learning(x, j, r)
    x.f[x.pn[LENGTH] + m] = length
    x.n[x.pn[STEP_K] + m] = 0
    seg = length * share(x, r, 0)
    ttf = time_to_failure(x, j, r)
    if ttf < seg:
        return ttf, 1, seg - ttf
    return seg, 0, 0.0


@lane_function
def go(x, m, first, breaks, left, t):
    """Server ``m`` processes from ``t``: its next event in ``first`` hours."""
    x.n[x.pn[FAILS] + m] = breaks
    x.f[x.pn[WORK] + m] = left
    clock.schedule(x, m, t + first)


@lane_function
def resume(x, m, j, seg, t):
    """Server ``m`` (already BUSY) processes ``seg`` hours of work from ``t``, with a fresh
    time to failure."""
    life = time_to_failure(x, j, prow(x, m, j))
    if life < seg:
        x.n[x.pn[FAILS] + m] = 1
        x.f[x.pn[WORK] + m] = seg - life
        clock.schedule(x, m, t + life)
    else:
        x.n[x.pn[FAILS] + m] = 0
        clock.schedule(x, m, t + seg)


@lane_function
def fail(x, m, j, t, w, tw):
    """Server ``m`` breaks down: its job stops where it is until the repair ends."""
    repair = x.pf[x.pn[MTTR] + prow(x, m, j)] * -math.log1p(-draw_uniform(x, 4 * j + S_REPAIR))
    set_status(x, m, j, DOWN, w, tw)
    clock.schedule(x, m, t + repair)


@lane_function
def repaired(x, m, j, t, w, tw):
    """Server ``m``'s repair ends: its job resumes the work it had left."""
    set_status(x, m, j, BUSY, w, tw)
    resume(x, m, j, x.f[x.pn[WORK] + m], t)


@lane_function
def step_segment(x, m, j):
    """Hours of processing of the current profile step of server ``m``'s job."""
    return share(x, prow(x, m, j), x.n[x.pn[STEP_K] + m]) * x.f[x.pn[LENGTH] + m]


@lane_function
def next_step(x, m, j, t, w, tw):
    """A busy-profile step ends and the next begins, unless the cap holds it back: then the
    server waits for power (docs/power.md)."""
    n, o = x.n, x.pn
    k = n[o[STEP_K] + m] + 1
    n[o[STEP_K] + m] = k
    if x.c.has_cap:
        gain = power.reserve_of(x, prow(x, m, j), STEP0 + k) - x.f[o[RES] + m]
        if not power.fits(x, gain):
            set_status(x, m, j, WAITING, w, tw)
            clock.schedule(x, m, math.inf)
            power.join(x, m, t)
            return
    set_status(x, m, j, BUSY, w, tw)
    resume(x, m, j, step_segment(x, m, j), t)


@lane_function
def power_granted(x, t, w, tw):
    """The first request waiting for power fits: its server processes its pending step."""
    m = power.pop_head(x)
    j = x.pn[x.pn[SLOT_STATION] + m]
    if t >= x.c.warmup:
        x.f[x.pn[PW_SUM] + j] += t - x.f[x.pn[T_REQ] + m]
        x.f[x.pn[GRANTS] + j] += 1.0
    set_status(x, m, j, BUSY, w, tw)
    resume(x, m, j, step_segment(x, m, j), t)
