"""Station ring buffers (``queue``): entries of ``QW`` floats (codes.Q_JOB ...), a ring per
station in places ``q_start[k] ... q_start[k] + q_size[k] - 1``, ``q_len[k]`` entries from
``q_head[k]`` on. A plain station's entries are its waiting jobs in arrival order; an
assembly's are its orders (match order) or parts (match any) with parts waiting
(twin.engine.assembly)."""

from __future__ import annotations

from twin.engine import rings
from twin.engine.codes import GROW_QUEUE, Q_DONE, Q_JOB, Q_SINCE, Q_TAG, QUEUE_FIXED
from twin.engine.jit import lane_function
from twin.engine.layout import Q_GROWS, Q_HEAD, Q_LEN, Q_SIZE, Q_START, QUEUE, STOP


@lane_function
def entry(x, k, i):
    """Address in ``f`` of the ``i``-th entry (from the head) of station ``k``'s ring."""
    o = x.pn
    place = rings.wrap(x.n[o[Q_HEAD] + k], i, x.pn[o[Q_SIZE] + k])
    return o[QUEUE] + (x.pn[o[Q_START] + k] + place) * x.c.QW


@lane_function
def push(x, k, job, since, tag):
    """Append an entry to station ``k``'s ring (its parts per kind zero); returns its
    address. A ring that may grow and is now full stops the lane, for the host to grow it
    before the next event."""
    n, o = x.n, x.pn
    length = n[o[Q_LEN] + k]
    at = entry(x, k, length)
    x.f[at + Q_JOB] = job
    x.f[at + Q_SINCE] = since
    x.f[at + Q_TAG] = tag
    x.f[at + Q_DONE] = 0.0
    for d in range(x.c.KD):
        x.f[at + QUEUE_FIXED + d] = 0.0
    n[o[Q_LEN] + k] = length + 1
    if length + 1 == x.pn[o[Q_SIZE] + k] and x.pn[o[Q_GROWS] + k]:
        n[o[STOP]] = GROW_QUEUE
    return at


@lane_function
def pop(x, k):
    """Take the head entry off station ``k``'s ring; returns its address (valid until the
    next push)."""
    n, o = x.n, x.pn
    at = entry(x, k, 0)
    n[o[Q_HEAD] + k] = rings.wrap(n[o[Q_HEAD] + k], 1, x.pn[o[Q_SIZE] + k])
    n[o[Q_LEN] + k] -= 1
    return at


@lane_function
def compact(x, k):
    """Drop the entries of station ``k``'s ring that hold no part, keeping the others in
    order."""
    f, n, o = x.f, x.n, x.pn
    length = n[o[Q_LEN] + k]
    kept = 0
    for i in range(length):
        at = entry(x, k, i)
        parts = 0.0
        for d in range(x.c.KD):
            parts += f[at + QUEUE_FIXED + d]
        if parts > 0.0:
            if kept != i:
                to = entry(x, k, kept)
                for c in range(x.c.QW):
                    f[to + c] = f[at + c]
            kept += 1
    n[o[Q_LEN] + k] = kept
