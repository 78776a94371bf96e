"""The event trace of a lane, recorded by the lane itself (``Consts.trace`` = 1).

After every event the lane compares what the trace shows (each slot's status, each station's
queue, each pool's units held and shift, the exits) with what it last reported, and writes one
row per change into its trace buffer (``trace_rows``, columns ``codes.TR_*``): a server's new
status and the job it holds, a vehicle's new status with the place it came from and the place
it is at or driving to, a queue's length, a pool's units held and shift, an exit. Every row of
an event carries the stations' heat after it. When the buffer is nearly full the lane stops
(``TRACE_FULL``) and the host takes the rows (:mod:`twin.run.trace`).
"""

from __future__ import annotations

import math

from twin.engine.codes import (
    IDLE,
    TR_FROM,
    TR_HEAT,
    TR_JOB,
    TR_KIND,
    TR_STATE,
    TR_TAG,
    TR_TIME,
    TR_TO,
    TR_VALUE,
    TR_WHO,
    TRACE_COLUMNS,
    TRACE_EXIT,
    TRACE_FULL,
    TRACE_POOL,
    TRACE_QUEUE,
    TRACE_SERVER,
    TRACE_VEHICLE,
    V_LOADING,
    V_UNLOADING,
)
from twin.engine.jit import lane_function
from twin.engine.layout import (
    ASSEMBLY,
    EXITED,
    HEAT,
    JOB_IN,
    JOB_TAG,
    KWAIT,
    P_HELD,
    P_ON,
    Q_LEN,
    SEEN_EXITED,
    SEEN_HELD,
    SEEN_ON,
    SEEN_POS,
    SEEN_QUEUE,
    SEEN_STATUS,
    SLOT_STATION,
    STATUS,
    STOP,
    TRACE_N,
    TRACE_ROWS,
    V_JOB,
    V_LEVEL,
    V_POS,
    V_TAG,
    T,
)


@lane_function
def row(x, kind, who, state, job, came, went, value, tag):
    """Write one row of the trace at the lane's time."""
    f, o = x.f, x.pn
    at = o[TRACE_ROWS] + x.n[o[TRACE_N]] * TRACE_COLUMNS
    x.n[o[TRACE_N]] += 1
    f[at + TR_TIME] = f[o[T]]
    f[at + TR_KIND] = kind
    f[at + TR_WHO] = who
    f[at + TR_STATE] = state
    f[at + TR_JOB] = job
    f[at + TR_FROM] = came
    f[at + TR_TO] = went
    f[at + TR_VALUE] = value
    f[at + TR_HEAT] = f[o[HEAT]]
    f[at + TR_TAG] = tag


@lane_function
def slot_rows(x):
    """Rows of the servers and vehicles whose status changed."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    for m in range(c.M):
        status = n[o[STATUS] + m]
        if status == n[o[SEEN_STATUS] + m]:
            continue
        n[o[SEEN_STATUS] + m] = status
        if m < c.V0 and x.pn[o[SLOT_STATION] + m] < c.J:
            job = f[o[JOB_IN] + m] if status != IDLE else math.nan
            row(x, TRACE_SERVER, m, status, job, -1, -1, math.nan, n[o[JOB_TAG] + m])
        elif c.V0 <= m < c.T0:
            v = m - c.V0
            carries = status == V_LOADING or status == V_UNLOADING
            row(x, TRACE_VEHICLE, v, status, f[o[V_JOB] + v] if carries else math.nan,
                n[o[SEEN_POS] + v], n[o[V_POS] + v], f[o[V_LEVEL] + v], n[o[V_TAG] + v])
    for v in range(c.V):
        n[o[SEEN_POS] + v] = n[o[V_POS] + v]


@lane_function
def waiting(x, j):
    """Jobs waiting in station ``j``'s buffer (at an assembly: parts)."""
    if x.c.has_parts and x.pn[x.pn[ASSEMBLY] + j] > 0:
        parts = 0
        for d in range(x.c.KD):
            parts += x.n[x.pn[KWAIT] + j * x.c.KD + d]
        return parts
    return x.n[x.pn[Q_LEN] + j]


@lane_function
def record(x):
    """Write the rows of the event just applied (see the module docstring)."""
    n, o, c = x.n, x.pn, x.c
    slot_rows(x)
    for j in range(c.J):
        length = waiting(x, j)
        if length != n[o[SEEN_QUEUE] + j]:
            n[o[SEEN_QUEUE] + j] = length
            row(x, TRACE_QUEUE, j, length, math.nan, -1, -1, math.nan, 0)
    for q in range(c.NP):
        held, on = n[o[P_HELD] + q], n[o[P_ON] + q]
        if held != n[o[SEEN_HELD] + q] or on != n[o[SEEN_ON] + q]:
            n[o[SEEN_HELD] + q] = held
            n[o[SEEN_ON] + q] = on
            row(x, TRACE_POOL, q, on, math.nan, -1, -1, held, 0)
    if n[o[EXITED]] != n[o[SEEN_EXITED]]:
        n[o[SEEN_EXITED]] = n[o[EXITED]]
        row(x, TRACE_EXIT, 0, 0, math.nan, -1, -1, math.nan, 0)
    if n[o[TRACE_N]] + c.M + c.W + c.NP + 1 > c.TR:  # room for one more event's rows
        n[o[STOP]] = TRACE_FULL


@lane_function
def start(x):
    """What the trace shows at time 0 (no rows: the trace gives changes)."""
    n, o, c = x.n, x.pn, x.c
    for m in range(c.M):
        n[o[SEEN_STATUS] + m] = n[o[STATUS] + m]
    for v in range(c.V):
        n[o[SEEN_POS] + v] = n[o[V_POS] + v]
    for j in range(c.J):
        n[o[SEEN_QUEUE] + j] = waiting(x, j)
    for q in range(c.NP):
        n[o[SEEN_HELD] + q] = n[o[P_HELD] + q]
        n[o[SEEN_ON] + q] = n[o[P_ON] + q]
