"""Which slot acts next: a tournament tree over the slots' keys, one per lane.

Each slot has a leaf (``slot_leaf``); every inner node holds the smaller key of its two
children and the slot it belongs to, the left child winning ties, so the root (node 1) holds
the smallest key and, among equal keys, the slot of the leftmost leaf. Leaves are in the
order of the engine's tie rule: pools' shift timers first (a change of shift comes before any
other event at its instant), then the source, the stations in config order with their
servers in index order, then the vehicles. Changing one key costs one walk from its leaf to
the root: O(log slots).

A slot's key is its next timed event's time, except that a blocked slot whose job may move
now has ``seq - MOVE_OFFSET``: below every time, and among moves the one that became blocked
first wins.
"""

from __future__ import annotations

import math

from twin.engine.jit import lane_function
from twin.engine.layout import SEQ, SLOT_LEAF, T_NEXT, TREE_KEY, TREE_SLOT

MOVE_OFFSET = 2.0**52


@lane_function
def set_key(x, m, key):
    """Give slot ``m`` the key ``key``."""
    f, n, o = x.f, x.n, x.pn
    keys, slots = o[TREE_KEY], o[TREE_SLOT]
    i = x.c.TP + x.pn[o[SLOT_LEAF] + m]
    f[keys + i] = key
    i >>= 1
    while i >= 1:
        left = 2 * i
        win = left if f[keys + left] <= f[keys + left + 1] else left + 1
        if f[keys + i] == f[keys + win] and n[slots + i] == n[slots + win]:
            return  # this node, and so every node above it, is unchanged
        f[keys + i] = f[keys + win]
        n[slots + i] = n[slots + win]
        i >>= 1


@lane_function
def reset(x):
    """Every key infinite; each leaf names its slot."""
    f, n, o, tp = x.f, x.n, x.pn, x.c.TP
    for i in range(2 * tp):
        f[o[TREE_KEY] + i] = math.inf
        n[o[TREE_SLOT] + i] = -1
    for m in range(x.c.M):
        n[o[TREE_SLOT] + tp + x.pn[o[SLOT_LEAF] + m]] = m
    i = tp - 1
    while i >= 1:
        n[o[TREE_SLOT] + i] = n[o[TREE_SLOT] + 2 * i]
        i -= 1


@lane_function
def schedule(x, m, t):
    """Slot ``m``'s next timed event is at ``t`` (inf: none)."""
    x.f[x.pn[T_NEXT] + m] = t
    set_key(x, m, t)


@lane_function
def may_move(x, m):
    """Blocked slot ``m`` may move now: before every timed event, in blocking order."""
    set_key(x, m, x.f[x.pn[SEQ] + m] - MOVE_OFFSET)


@lane_function
def first(x):
    """The slot with the smallest key, and that key."""
    return x.n[x.pn[TREE_SLOT] + 1], x.f[x.pn[TREE_KEY] + 1]
