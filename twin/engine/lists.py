"""Lists of slots in arrival order, one per station (its blocked jobs, its requests for
units): singly linked through each slot's ``link``, with a head and a tail field per station.
Each entry gets a number from a lane-wide counter, which orders entries of different
stations' lists (the one blocked first moves first)."""

from __future__ import annotations

from twin.engine.jit import lane_function
from twin.engine.layout import LINK


@lane_function
def append(x, m, j, head, tail, seq, next_seq):
    """Slot ``m`` joins the end of station ``j``'s list (fields ``head`` and ``tail``), its
    ``seq`` numbered from the counter ``next_seq``."""
    f, n, o = x.f, x.n, x.pn
    f[o[seq] + m] = f[o[next_seq]]
    f[o[next_seq]] += 1.0
    n[o[LINK] + m] = -1
    last = n[o[tail] + j]
    if last < 0:
        n[o[head] + j] = m
    else:
        n[o[LINK] + last] = m
    n[o[tail] + j] = m


@lane_function
def pop(x, m, j, head, tail):
    """Slot ``m``, the first of station ``j``'s list, leaves it."""
    n, o = x.n, x.pn
    n[o[head] + j] = n[o[LINK] + m]
    if n[o[LINK] + m] < 0:
        n[o[tail] + j] = -1
