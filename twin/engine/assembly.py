"""Assembly stations: parts wait in the station's ring until a set is complete, and a set
becomes one job on a server (docs/parts.md states the rules).

Under match order an entry of the ring is an order with parts waiting (its parts per kind in
columns ``QUEUE_FIXED + kind``; ``Q_DONE`` numbers it once its set is complete, ``Q_SINCE`` is
then when); under match any an entry is one part, in arrival order. ``kwait`` counts the
waiting parts of each kind, ``kcount`` the places taken (waiting parts, and those on their
way with a fleet), ``ready`` the complete sets of match order.
"""

from __future__ import annotations

import math

from twin.engine import queues, servers
from twin.engine.codes import (
    C_QUEUE,
    MATCH_ORDER,
    N_AREA,
    Q_DONE,
    Q_JOB,
    Q_SINCE,
    Q_TAG,
    QUEUE_FIXED,
)
from twin.engine.jit import lane_function, lane_outline
from twin.engine.layout import (
    AREA,
    ASSEMBLE_N,
    ASSEMBLY,
    COUNT,
    INTO_KIND,
    JOB_IN,
    JOB_TAG,
    KCOUNT,
    KWAIT,
    LEAD_KIND,
    N_IDLE,
    NEXT_ASEQ,
    Q_LEN,
    READY,
    USED,
)


@lane_function
def need(x, k, d):
    """Parts of kind ``d`` a set of assembly ``k`` needs."""
    return x.pn[x.pn[ASSEMBLE_N] + k * x.c.KD + d]


@lane_function
def complete(x, k, at):
    """Whether the order entry at address ``at`` holds a whole set."""
    for d in range(x.c.KD):
        if x.f[at + QUEUE_FIXED + d] < need(x, k, d):
            return False
    return True


@lane_function
def sets_ready(x, k):
    """Complete sets waiting at assembly ``k``."""
    if x.pn[x.pn[ASSEMBLY] + k] == MATCH_ORDER:
        return x.n[x.pn[READY] + k]
    most = 1 << 62
    for d in range(x.c.KD):
        if need(x, k, d) > 0:
            most = min(most, x.n[x.pn[KWAIT] + k * x.c.KD + d] // need(x, k, d))
    return most


@lane_function
def find(x, k, job):
    """The entry of the order that entered at ``job`` (-1: none)."""
    for i in range(x.n[x.pn[Q_LEN] + k]):
        if x.f[queues.entry(x, k, i) + Q_JOB] == job:
            return i
    return -1


@lane_function
def mark(x, k, at, t):
    """The order entry at ``at`` holds a whole set from ``t``: it is numbered and ready."""
    f, o = x.f, x.pn
    f[at + Q_DONE] = f[o[NEXT_ASEQ]] + 1.0
    f[o[NEXT_ASEQ]] += 1.0
    f[at + Q_SINCE] = t
    x.n[o[READY] + k] += 1


@lane_outline
def arrive(x, k, job, tag, t, w):
    """A part (order ``job``, ``tag``) arrives at assembly ``k``: it waits, and if it
    completes a set and a server is idle, the set starts there. Returns that server (-1:
    none)."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    d = tag // c.PR
    unit = x.pn[o[INTO_KIND] + k] * c.PR + tag % c.PR
    f[o[AREA] + k * N_AREA + C_QUEUE] += w
    n[o[KWAIT] + k * c.KD + d] += 1
    if x.pn[o[ASSEMBLY] + k] == MATCH_ORDER:
        i = find(x, k, job)
        at = queues.push(x, k, job, t, unit) if i < 0 else queues.entry(x, k, i)
        f[at + QUEUE_FIXED + d] += 1.0
        if f[at + Q_DONE] == 0.0 and complete(x, k, at):
            mark(x, k, at, t)
    else:
        at = queues.push(x, k, job, t, unit)
        f[at + QUEUE_FIXED + d] = 1.0
    if n[o[N_IDLE] + k] == 0 or sets_ready(x, k) == 0:
        return -1
    b = servers.lowest_idle(x, k)
    servers.take_idle(x, k)
    take(x, k, b, w)
    return b


@lane_function
def take_order(x, k):
    """Under match order: the set that became complete first leaves its entry. Returns the
    unit's order, tag and when the set became complete."""
    f, o = x.f, x.pn
    best, first = 0, math.inf
    for i in range(x.n[o[Q_LEN] + k]):
        done = f[queues.entry(x, k, i) + Q_DONE]
        if 0.0 < done < first:
            best, first = i, done
    at = queues.entry(x, k, best)
    job, tag, since = f[at + Q_JOB], f[at + Q_TAG], f[at + Q_SINCE]
    x.n[o[READY] + k] -= 1
    for d in range(x.c.KD):
        f[at + QUEUE_FIXED + d] -= need(x, k, d)
    f[at + Q_DONE] = 0.0
    if complete(x, k, at):  # the order had parts for more than one set
        mark(x, k, at, since)
    queues.compact(x, k)
    return job, tag, since


@lane_function
def take_any(x, k):
    """Under match any: the oldest waiting parts of each kind leave the ring. Returns the
    unit's order and tag (those of the oldest part of the lead kind) and when the set became
    complete (when the last of its parts arrived)."""
    f, c = x.f, x.c
    lead = x.pn[x.pn[LEAD_KIND] + k]
    job, tag, since = 0.0, 0.0, -math.inf
    for d in range(c.KD):
        left = need(x, k, d)
        i = 0
        while left > 0:
            at = queues.entry(x, k, i)
            if f[at + QUEUE_FIXED + d] > 0.0:
                if d == lead and left == need(x, k, d):
                    job, tag = f[at + Q_JOB], f[at + Q_TAG]
                since = max(since, f[at + Q_SINCE])
                f[at + QUEUE_FIXED + d] = 0.0
                left -= 1
            i += 1
    queues.compact(x, k)
    return job, tag, since


@lane_outline
def take(x, k, m, w):
    """Server ``m`` of assembly ``k`` takes a complete set: the set's parts free their places
    and become one job on the server. Returns when the set became complete."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    if x.pn[o[ASSEMBLY] + k] == MATCH_ORDER:
        job, tag, since = take_order(x, k)
    else:
        job, tag, since = take_any(x, k)
    parts = 0
    for d in range(c.KD):
        used = need(x, k, d)
        n[o[KWAIT] + k * c.KD + d] -= used
        n[o[KCOUNT] + k * c.KD + d] -= used
        n[o[USED] + d] += used
        parts += used
    n[o[COUNT] + k] -= parts - 1
    f[o[AREA] + k * N_AREA + C_QUEUE] -= parts * w
    f[o[JOB_IN] + m] = job
    n[o[JOB_TAG] + m] = int(tag)
    return since
