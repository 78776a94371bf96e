"""Resource pools: units that stations hold while they process, requests served first-fit in
request order, and weekly shifts (docs/transport.md states the rules).

A unit is free when its pool is on shift and it is not held. Every request of a station asks
for the same alternatives, so each station keeps its waiting requests in one list in request
order (linked through ``link``), and the earliest waiting request that fits is the earliest
of the heads of the lists of the stations whose needs fit now.
"""

from __future__ import annotations

import math

from twin.engine import clock, lists, power, servers
from twin.engine.codes import BUSY, HOURS_PER_WEEK, WAITING
from twin.engine.jit import lane_function
from twin.engine.layout import (
    ALT,
    EDGE_COUNT,
    EDGES,
    FACTOR,
    LENGTH,
    N_UWAIT,
    NEED,
    NEXT_USEQ,
    P_AREA,
    P_EDGE,
    P_GRANTS,
    P_HELD,
    P_ON,
    P_WAIT,
    PHASE,
    POOL_COUNT,
    SLOT_STATION,
    T_REQ,
    UNIT_STATIONS,
    UNITS_DIRTY,
    USEQ,
    UWAIT_HEAD,
    UWAIT_TAIL,
)


@lane_function
def need(x, j, a, q):
    """Units of pool ``q`` that alternative ``a`` of station ``j`` holds."""
    c = x.c
    return x.pn[x.pn[NEED] + (j * c.A + a) * c.NP + q]


@lane_function
def first_fit(x, j):
    """The first alternative of station ``j`` whose units are all free now (-1: none).
    Units still held after their shift ended leave none free."""
    n, o = x.n, x.pn
    for a in range(x.c.A):
        ok = True
        for q in range(x.c.NP):
            on = x.pn[o[POOL_COUNT] + n[o[PHASE]] * x.c.NP + q] if n[o[P_ON] + q] else 0
            if need(x, j, a, q) > max(on - n[o[P_HELD] + q], 0):
                ok = False
                break
        if ok:
            return a
    return -1


@lane_function
def take(x, m, j, a, t, w, waited):
    """Server ``m`` of station ``j`` takes the units of alternative ``a`` now, after waiting
    ``waited`` hours (-1: it did not wait); returns the alternative's time factor."""
    f, n, o = x.f, x.n, x.pn
    counted = t >= x.c.warmup
    for q in range(x.c.NP):
        units = need(x, j, a, q)
        if units > 0:
            n[o[P_HELD] + q] += units
            f[o[P_AREA] + q] += units * w
            if counted:
                f[o[P_GRANTS] + q] += 1.0
                if waited >= 0.0:
                    f[o[P_WAIT] + q] += waited
    n[o[ALT] + m] = a
    return x.pf[o[FACTOR] + j * x.c.A + a]


@lane_function
def release(x, m, j, w):
    """Server ``m``'s job stops processing: the units it holds go back to their pools."""
    f, n, o = x.f, x.n, x.pn
    a = n[o[ALT] + m]
    for q in range(x.c.NP):
        units = need(x, j, a, q)
        if units > 0:
            n[o[P_HELD] + q] -= units
            f[o[P_AREA] + q] -= units * w
    n[o[UNITS_DIRTY]] = 1


@lane_function
def wait(x, m, j, t):
    """Server ``m``'s job waits for units from ``t``, behind every request before it."""
    f, n, o = x.f, x.n, x.pn
    n[o[N_UWAIT]] += 1
    lists.append(x, m, j, UWAIT_HEAD, UWAIT_TAIL, USEQ, NEXT_USEQ)
    f[o[T_REQ] + m] = t
    n[o[UNITS_DIRTY]] = 1


@lane_function
def earliest_fitting(x):
    """The earliest waiting request whose units are all free now (-1: none)."""
    o = x.pn
    best, first = -1, math.inf
    for i in range(x.c.U):
        j = x.pn[o[UNIT_STATIONS] + i]
        m = x.n[o[UWAIT_HEAD] + j]
        if m >= 0 and x.f[o[USEQ] + m] < first and first_fit(x, j) >= 0:
            best, first = m, x.f[o[USEQ] + m]
    return best


@lane_function
def granted(x, m, t, w, tw):
    """The units of waiting request ``m`` are free: it takes them, and its job asks for
    power (with a cap) or starts processing."""
    f, n, o = x.f, x.n, x.pn
    j = x.pn[o[SLOT_STATION] + m]
    lists.pop(x, m, j, UWAIT_HEAD, UWAIT_TAIL)
    n[o[N_UWAIT]] -= 1
    f[o[LENGTH] + m] *= take(x, m, j, first_fit(x, j), t, w, t - f[o[T_REQ] + m])
    if x.c.has_cap and not power.fits(x, power.start_gain(x, servers.prow(x, m, j))):
        servers.set_status(x, m, j, WAITING, w, tw)
        power.join(x, m, t)
        return
    servers.set_status(x, m, j, BUSY, w, tw)
    servers.resume(x, m, j, servers.step_segment(x, m, j), t)


@lane_function
def next_change(x, q, k):
    """Time of pool ``q``'s ``k``-th change of shift since time 0 (k = 0, 1, ...)."""
    count = x.pn[x.pn[EDGE_COUNT] + q]
    return (k // count) * HOURS_PER_WEEK + x.pf[x.pn[EDGES] + q * x.c.NE + k % count]


@lane_function
def shift_change(x, m):
    """Timer slot ``m``'s pool goes on or off shift; its next change is scheduled."""
    n, o = x.n, x.pn
    q = m - x.c.T0
    on = 1 - n[o[P_ON] + q]
    n[o[P_ON] + q] = on
    if on:
        n[o[UNITS_DIRTY]] = 1
    k = n[o[P_EDGE] + q] + 1
    n[o[P_EDGE] + q] = k
    clock.schedule(x, m, next_change(x, q, k))
