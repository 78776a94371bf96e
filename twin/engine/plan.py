"""Changes over time (the plan) and the results per period (docs/ramp.md states the rules).

The plan
--------
Every value a config gives as a schedule (``[{from, ...}]``: the source's interarrival law,
server counts and so places, routing probabilities, pools' units, fleet sizes, the power cap)
is compiled into *phases*: phase ``k`` starts at ``phase_start[k]``, the k-th distinct ``from``
time of the whole plant (phase 0 at time 0), and every such parameter has a row per phase.
The lane's ``phase`` says which row is in force. One timer slot, ``c.T0 + c.NP``, ends each
phase; its leaf comes before the pools' shift timers and every other slot but the periods'
timer, so a change comes before every other event at its instant.

At a change a station's servers in force go to the new count: added servers are switched on
(the lowest-numbered switched-off slots), are idle, and take waiting jobs at once; a lower
count switches idle servers off (the lowest-numbered first) and, when too few are idle, marks
the rest to *retire*: a server that frees while its station has servers to retire is switched
off instead of taking the next job (a busy one finishes its job first). A station's places
(buffer + servers) follow the new count, so blocked jobs may move. Fleets follow the same
rule (twin.engine.vehicles.fleet_to): a vehicle added starts full at its fleet's start place
and is free at once; one taken out finishes its trip (and its charge) first.

Results per period
------------------
With periods (``KP > 0``) the window ``[warmup, horizon]`` is cut into ``KP`` periods of
``c.period`` hours (the last may be shorter). The periods' timer, ``c.T0 + c.NP + 1``, the
first leaf of all, writes at each period's end the window's figures *so far* into a row of
``series``: the statistics integrate changes to the horizon (a change at ``t`` adds its
effect times ``horizon - t``), so the integral to the period's end is the running integral less
the present level times the time left. Exits at a period's end belong to the next period.
"""

from __future__ import annotations

import math

from twin.engine import clock, flow, servers, vehicles
from twin.engine.codes import (
    BUSY,
    C_BUSY,
    C_ENERGY,
    C_ON,
    N_AREA,
    N_VEHICLE_STATES,
    OFF,
    SC_CT,
    SC_EXITS,
    SC_HEAT,
    SC_PEAK,
    SC_WIP,
    SERIES_FIXED,
    V_IDLE,
    V_LOADED,
    V_UNLOADING,
)
from twin.engine.jit import lane_function, lane_outline
from twin.engine.layout import (
    AREA,
    CAP_HEAT,
    CAP_SEEN,
    CT_SUM,
    F_AREA,
    FIRST_SLOT,
    FLEET_AT,
    HEAT,
    HEAT_PMAX,
    KWAIT,
    N_EXIT,
    N_IDLE,
    N_ON,
    PERIOD_K,
    PHASE,
    PHASE_START,
    Q_LEN,
    RESERVED,
    RETIRE,
    SERIES,
    SERVERS_AT,
    SLOT_ON,
    STATION_SLOTS,
    STATUS,
    T_NEXT,
    UNITS_DIRTY,
)


@lane_function
def start(x, window):
    """The lane at time 0: phase 0's servers in force, the timers of the plan and of the
    periods running."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    for j in range(c.J):
        on = x.pn[o[SERVERS_AT] + j]
        n[o[N_ON] + j] = on
        f[o[AREA] + j * N_AREA + C_ON] = on * window
    f[o[CAP_SEEN]] = x.pf[o[CAP_HEAT]]
    if c.NK > 1:
        clock.schedule(x, c.T0 + c.NP, x.pf[o[PHASE_START] + 1])
    if c.KP > 1:
        clock.schedule(x, c.T0 + c.NP + 1, c.warmup + c.period)


@lane_function
def in_force(x, j, rank):
    """Whether station ``j``'s server of rank ``rank`` is switched on at time 0."""
    return rank < x.pn[x.pn[SERVERS_AT] + j]


@lane_outline
def change(x, t, w, tw):
    """The next phase of the plan begins now."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    k = n[o[PHASE]] + 1
    n[o[PHASE]] = k
    for j in range(c.J):
        servers_to(x, j, x.pn[o[SERVERS_AT] + k * c.W + j], t, w, tw)
    for j in range(c.J):  # places follow the servers; pools' units may have grown
        flow.open_room(x, j)
    for fl in range(c.F):
        vehicles.fleet_to(x, fl, x.pn[o[FLEET_AT] + k * c.F + fl], t, w)
    if c.has_units:
        n[o[UNITS_DIRTY]] = 1
    if c.has_cap:  # servers switched on hold their standby at once, even above the cap
        f[o[CAP_SEEN]] = max(f[o[CAP_SEEN]], x.pf[o[CAP_HEAT] + k], f[o[RESERVED]])
    after = x.pf[o[PHASE_START] + k + 1] if k + 1 < c.NK else math.inf
    clock.schedule(x, c.T0 + c.NP, after)


@lane_function
def servers_to(x, j, target, t, w, tw):
    """Station ``j``'s servers in force become ``target`` (see the module docstring)."""
    n, o = x.n, x.pn
    on = n[o[N_ON] + j]
    retiring = n[o[RETIRE] + j]
    if target > on - retiring:
        back = min(retiring, target - (on - retiring))  # servers marked to retire stay
        n[o[RETIRE] + j] = retiring - back
        add = target - (on - retiring + back)
        first = x.pn[o[FIRST_SLOT] + j]
        m = first
        while add > 0 and m < first + x.pn[o[STATION_SLOTS] + j]:
            if n[o[STATUS] + m] == OFF and x.pn[o[SLOT_ON] + m]:
                servers.switch(x, m, j, 1, w, tw)
                add -= 1
            m += 1
        while n[o[N_IDLE] + j] > 0 and flow.pull(x, j, t, w, tw):
            pass
    else:
        drop = on - retiring - target
        while drop > 0 and n[o[N_IDLE] + j] > 0:
            m = servers.lowest_idle(x, j)
            servers.take_idle(x, j)
            servers.switch(x, m, j, 0, w, tw)
            drop -= 1
        n[o[RETIRE] + j] += drop


# --- results per period


@lane_function
def period_end(x, t, w):
    """A period of the window ends at ``t`` (``w``: the time left to the horizon): its row
    of ``series``; the next period's end is scheduled."""
    snapshot(x, w)
    k = x.n[x.pn[PERIOD_K]]
    after = x.c.warmup + (k + 1) * x.c.period if k + 1 < x.c.KP else math.inf
    clock.schedule(x, x.c.T0 + x.c.NP + 1, after)


@lane_outline
def snapshot(x, left):
    """Write the window's figures so far into the current period's row (``left``: hours
    from now to the horizon, over which the running integrals already count today's
    levels)."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    k = n[o[PERIOD_K]]
    row = o[SERIES] + k * (SERIES_FIXED + 2 * c.J)
    f[row + SC_EXITS] = n[o[N_EXIT]]
    f[row + SC_CT] = f[o[CT_SUM]]
    wip = 0.0
    inside = 0
    heat = 0.0
    for j in range(c.W):
        heat += f[o[AREA] + j * N_AREA + C_ENERGY]
    for j in range(c.J):
        a = o[AREA] + j * N_AREA
        for col in range(C_ENERGY):
            wip += f[a + col]
        busy = 0
        first = x.pn[o[FIRST_SLOT] + j]
        for m in range(first, first + x.pn[o[STATION_SLOTS] + j]):
            status = n[o[STATUS] + m]
            if servers.area_column(status) >= 0:
                inside += 1
            if status == BUSY:
                busy += 1
        if flow.is_assembly(x, j):
            for d in range(c.KD):
                inside += n[o[KWAIT] + j * c.KD + d]
        else:
            inside += n[o[Q_LEN] + j]
        f[row + SERIES_FIXED + j] = f[a + C_BUSY] - busy * left
        f[row + SERIES_FIXED + c.J + j] = f[a + C_ON] - n[o[N_ON] + j] * left
    # a vehicle's drives and handling are booked whole when they start (twin.engine.vehicles):
    # a loaded vehicle (its status UNLOADING: the drive, then the unloading) has booked its
    # time up to its next event, of which what lies past now is taken off
    for fl in range(c.F):
        for status in (V_LOADED, V_UNLOADING):
            wip += f[o[F_AREA] + fl * N_VEHICLE_STATES + status - V_IDLE]
    for v in range(c.V):
        if n[o[STATUS] + c.V0 + v] == V_UNLOADING:
            wip -= left - vehicles.weight(c, f[o[T_NEXT] + c.V0 + v])
    f[row + SC_WIP] = wip - inside * left
    f[row + SC_HEAT] = heat - f[o[HEAT]] * left
    f[row + SC_PEAK] = f[o[HEAT_PMAX]]
    f[o[HEAT_PMAX]] = 0.0
    n[o[PERIOD_K]] = k + 1
