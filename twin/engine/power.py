"""Power bookkeeping of a lane: what each slot draws and reserves, the plant's heat, its
demand-interval bins, and the cap's first-come-first-served queue of requests
(docs/power.md states the rules).

The heat changes only in steps, so its integral over each demand interval is kept exactly: a
change ``d`` at time ``t`` adds ``d * (end of t's bin - t)`` to that bin and ``d`` to the
level of every later bin (``bins``). A change that rounding puts in the bin before an edge
adds 0 there and counts from the next bin on, so edges need no exact arithmetic.
"""

from __future__ import annotations

from twin.engine import rings
from twin.engine.codes import C_ENERGY, CAP_TOLERANCE, IDLE, N_AREA, STEP0
from twin.engine.jit import lane_function
from twin.engine.layout import (
    AREA,
    BIN_END,
    BINS,
    CAP_HEAT,
    DRAW,
    HEAT,
    JOB_TAG,
    N_WAITING,
    PHASE,
    POWER_RESERVE,
    PQ,
    PQ_HEAD,
    RES,
    RESERVED,
    SLOT_STATION,
    STEP_K,
    T_REQ,
)


@lane_function
def bins_change(x, tw, d):
    """Record a change ``d`` of the heat at time ``tw`` (in the window) in the bins."""
    c = x.c
    if c.B == 0:
        return
    i = min(max(int(tw * c.inv_interval) - c.first_bin, 0), c.B - 1)
    at = x.pn[BINS] + 2 * i
    x.f[at] += d * (x.pf[x.pn[BIN_END] + i] - tw)
    x.f[at + 1] += d


@lane_function
def set_draw(x, j, m, kw, w, tw):
    """Slot ``m`` of station ``j`` draws ``kw`` from now on (``w``: what a change now weighs
    in the window; ``tw``: now, or the window's start if earlier)."""
    f, o = x.f, x.pn
    d = kw - f[o[DRAW] + m]
    if d != 0.0:
        f[o[DRAW] + m] = kw
        f[o[AREA] + j * N_AREA + C_ENERGY] += d * w
        f[o[HEAT]] += d
        bins_change(x, tw, d)


@lane_function
def set_reserve(x, m, kw):
    """The cap counts slot ``m`` at ``kw`` from now on."""
    f, o = x.f, x.pn
    d = kw - f[o[RES] + m]
    if d != 0.0:
        f[o[RES] + m] = kw
        f[o[RESERVED]] += d


@lane_function
def reserve_of(x, r, col):
    """What the cap counts a server at in power-table column ``col`` of per-product row ``r``
    (twin.engine.servers.prow)."""
    return x.pf[x.pn[POWER_RESERVE] + r * x.c.NC + col]


@lane_function
def start_gain(x, r):
    """What a job start of per-product row ``r`` asks of the cap above standby."""
    return reserve_of(x, r, STEP0) - reserve_of(x, r, IDLE)


@lane_function
def limit(x):
    return x.pf[x.pn[CAP_HEAT] + x.n[x.pn[PHASE]]] * (1 + CAP_TOLERANCE)


@lane_function
def fits(x, gain):
    """Whether a request for ``gain`` kW goes ahead now: a request for nothing always does;
    any other only if no earlier request waits and the cap holds."""
    if gain <= 0.0:
        return True
    return x.n[x.pn[N_WAITING]] == 0 and x.f[x.pn[RESERVED]] + gain <= limit(x)


@lane_function
def head_fits(x):
    """Whether the first waiting request fits now (it asks for its pending step's draw)."""
    n, o = x.n, x.pn
    m = n[o[PQ] + n[o[PQ_HEAD]]]
    j = x.pn[o[SLOT_STATION] + m]
    r = j if x.c.PR == 1 else j * x.c.PR + n[o[JOB_TAG] + m] % x.c.PR
    ask = reserve_of(x, r, STEP0 + n[o[STEP_K] + m]) - reserve_of(x, r, IDLE)
    return x.f[o[RESERVED]] + ask <= limit(x)


@lane_function
def join(x, m, t):
    """Slot ``m`` waits for power from ``t``, at the back of the queue."""
    n, o = x.n, x.pn
    n[o[PQ] + rings.wrap(n[o[PQ_HEAD]], n[o[N_WAITING]], x.c.M)] = m
    n[o[N_WAITING]] += 1
    x.f[o[T_REQ] + m] = t


@lane_function
def pop_head(x):
    """Take the first waiting request off the queue; returns its slot."""
    n, o = x.n, x.pn
    head = n[o[PQ_HEAD]]
    n[o[PQ_HEAD]] = rings.wrap(head, 1, x.c.M)
    n[o[N_WAITING]] -= 1
    return n[o[PQ] + head]


@lane_function
def resync(x):
    """Restart the running sums of heat and reservations from the slots (rounding drifts)."""
    f, o = x.f, x.pn
    heat = 0.0
    reserved = 0.0
    for m in range(x.c.M):
        heat += f[o[DRAW] + m]
        reserved += f[o[RES] + m]
    f[o[HEAT]] = heat
    f[o[RESERVED]] = reserved
