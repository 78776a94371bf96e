"""One lane's event loop: ``init`` builds a lane at time 0, ``advance`` runs it to a time.

Contract
--------
``init(x)`` sets a lane (its ``scenario`` and ``rep_key`` already set, everything else zero)
to time 0: stations empty, the source's timer running, vehicles idle where they start, pools
on or off shift as the calendar says. ``advance(x, until)`` applies the lane's
events in order while they are due by ``until`` and returns with ``stop`` saying why it
stopped (:mod:`twin.engine.codes`). ``x`` is a :class:`twin.engine.layout.Lane`: the lane's
rows of the packed arrays, its scenario's parameters, the run's, the field offsets and the
run's scalars (:mod:`twin.engine.layout` gives every field and its shape).

Order of events
---------------
At the lane's current time, first whatever happens at once, in this order:

1. a power grant: the first request waiting for power fits under the cap;
2. a unit grant: the earliest waiting request for units whose units are all free;
3. a move: a blocked job whose target has room (the one blocked first), or with a fleet the
   reservation of its place.

Then the earliest timed event (the event tree, :mod:`twin.engine.clock`): a period's end, a
change of the plan (:mod:`twin.engine.plan`), a shift change, a
service or profile-step end, a failure, a repair end, or a vehicle's loading, unloading,
homing or charging end; ties go to the lowest leaf (the periods' timer, then the plan's,
then the shift timers, then the slots in order). Events at exactly
the horizon are applied. The lane stops early with a flag when a ring buffer or the store of
cycle times is full (the host grows it and calls again), when its trace buffer is nearly full
(the host takes the rows), or when it can never move again (deadlock).
"""

from __future__ import annotations

import math

from twin.engine import clock, flow, plan, pools, power, recorder, rng, servers, vehicles
from twin.engine.codes import (
    BUSY,
    C_ENERGY,
    CAP_BROKEN,
    DEADLOCK,
    DONE,
    DOWN,
    IDLE,
    N_AREA,
    N_VEHICLE_STATES,
    OFF,
    RUNNING,
    SHIFT_TIMER,
    V_CHARGING,
    V_IDLE,
    V_LOADING,
    V_UNLOADING,
)
from twin.engine.jit import lane_entry, lane_function
from twin.engine.layout import (
    AREA,
    BATTERY,
    BLOCKED_HEAD,
    BLOCKED_TAIL,
    CAP_SEEN,
    DRAW,
    EDGE_COUNT,
    EDGES,
    EVENTS,
    F_AREA,
    F_ON,
    FAILS,
    FIRST_SLOT,
    FLEET_AT,
    HEAT,
    HEAT_MAX,
    HEAT_PMAX,
    IDLE_HEAP,
    KEY,
    LAST_STEP,
    LINK,
    N_IDLE,
    N_UWAIT,
    N_WAITING,
    ON_AT_START,
    P_EDGE,
    P_ON,
    POWER_DRAW,
    POWER_RESERVE,
    REP_KEY,
    RES,
    RESERVED,
    SLOT_ON,
    SLOT_STATION,
    START,
    STATION_SLOTS,
    STATUS,
    STEP_K,
    STOP,
    T_NEXT,
    UNITS_DIRTY,
    UWAIT_HEAD,
    UWAIT_TAIL,
    V_LEVEL,
    V_LOW,
    V_ON,
    V_POS,
    T,
)


@lane_entry
def init(x):
    """The lane at time 0 (see the module docstring)."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    for s in range(4 * c.W):
        x.u[o[KEY] + s] = rng.stream_key(x.u[o[REP_KEY]], s)
    clock.reset(x)
    for m in range(c.M):
        n[o[STATUS] + m] = OFF
        f[o[T_NEXT] + m] = math.inf
        n[o[LINK] + m] = -1
    for i in range(c.W * c.KD):
        n[o[BLOCKED_HEAD] + i] = -1
        n[o[BLOCKED_TAIL] + i] = -1
    for j in range(c.W):
        n[o[UWAIT_HEAD] + j] = -1
        n[o[UWAIT_TAIL] + j] = -1
    window = c.horizon - c.warmup
    for j in range(c.J):
        first = x.pn[o[FIRST_SLOT] + j]
        station_draw = 0.0
        for m in range(first, first + x.pn[o[STATION_SLOTS] + j]):
            if x.pn[o[SLOT_ON] + m] and plan.in_force(x, j, m - first):
                n[o[STATUS] + m] = IDLE
                n[o[IDLE_HEAP] + first + n[o[N_IDLE] + j]] = m
                n[o[N_IDLE] + j] += 1
                f[o[DRAW] + m] = x.pf[o[POWER_DRAW] + j * c.PR * c.NC + IDLE]
                f[o[RES] + m] = x.pf[o[POWER_RESERVE] + j * c.PR * c.NC + IDLE]
                station_draw += f[o[DRAW] + m]
        f[o[AREA] + j * N_AREA + C_ENERGY] = station_draw * window
    plan.start(x, window)
    n[o[STATUS]] = BUSY
    clock.schedule(x, 0, servers.interarrival(x, 0.0))
    if c.has_power:
        power.resync(x)
        power.bins_change(x, c.warmup, f[o[HEAT]])
    init_vehicles(x, window)
    for q in range(c.NP):
        n[o[P_ON] + q] = x.pn[o[ON_AT_START] + q]
        if x.pn[o[EDGE_COUNT] + q] > 0:
            first = 1 if x.pf[o[EDGES] + q * c.NE] <= 0.0 else 0  # a change at time 0 is
            n[o[P_EDGE] + q] = first  # already in on_at_start
            n[o[STATUS] + c.T0 + q] = SHIFT_TIMER
            clock.schedule(x, c.T0 + q, pools.next_change(x, q, first))
    if c.trace:
        recorder.start(x)


@lane_function
def init_vehicles(x, window):
    """Vehicles at time 0: idle where they start, batteries full."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    for v in range(c.V):
        full = x.pf[o[BATTERY] + vehicles.fleet_of(x, v)]
        n[o[V_POS] + v] = x.pn[o[START] + v]
        f[o[V_LEVEL] + v] = full
        f[o[V_LOW] + v] = full
    for fl in range(c.F):
        on = 0
        for v in range(c.V):
            if vehicles.fleet_of(x, v) == fl and x.pn[o[SLOT_ON] + c.V0 + v] \
                    and on < x.pn[o[FLEET_AT] + fl]:
                n[o[STATUS] + c.V0 + v] = V_IDLE
                on += 1
        n[o[V_ON] + fl] = on
        f[o[F_ON] + fl] = on * window
        f[o[F_AREA] + fl * N_VEHICLE_STATES] = on * window


@lane_entry
def advance(x, until):
    """Apply the lane's events due by ``until`` (see the module docstring)."""
    n, o = x.n, x.pn
    stop = n[o[STOP]]
    if stop == DONE or stop == DEADLOCK or stop == CAP_BROKEN:
        return
    n[o[STOP]] = RUNNING
    if x.c.has_power:
        power.resync(x)
    while next_event(x, until):
        if x.c.trace:
            recorder.record(x)
        if n[o[STOP]] != RUNNING:
            return
        if x.c.has_cap and x.f[o[RESERVED]] > x.f[o[CAP_SEEN]] * (1 + 1e-6) + 1e-9:
            n[o[STOP]] = CAP_BROKEN
            return


@lane_function
def next_event(x, until):
    """Apply the lane's next event if it is due by ``until``; False when it is not (then
    ``stop`` says why)."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    t = f[o[T]]
    tw = max(t, c.warmup)
    w = c.horizon - tw
    if c.has_cap and n[o[N_WAITING]] > 0 and power.head_fits(x):
        n[o[EVENTS]] += 1
        servers.power_granted(x, t, w, tw)
        return True
    if c.has_units and n[o[N_UWAIT]] > 0 and n[o[UNITS_DIRTY]]:
        m = pools.earliest_fitting(x)
        if m >= 0:
            n[o[EVENTS]] += 1
            pools.granted(x, m, t, w, tw)
            return True
        n[o[UNITS_DIRTY]] = 0
    m, key = clock.first(x)
    if key < 0.0:
        n[o[EVENTS]] += 1
        flow.move_blocked(x, m, t, w, tw)
        return True
    if key > c.horizon:
        if key < math.inf or t >= c.horizon:
            finish(x, t)
        else:
            n[o[STOP]] = DEADLOCK
        return False
    if key > until:
        return False
    if c.has_power and key > tw:  # the heat held until now counts towards the largest
        f[o[HEAT_MAX]] = max(f[o[HEAT_MAX]], f[o[HEAT]])
        if c.has_series:
            f[o[HEAT_PMAX]] = max(f[o[HEAT_PMAX]], f[o[HEAT]])
    f[o[T]] = key
    n[o[EVENTS]] += 1
    tw = max(key, c.warmup)
    timed_event(x, m, key, c.horizon - tw, tw)
    return True


@lane_function
def finish(x, t):
    """No event is left before the horizon: the lane's clock goes to the horizon."""
    f, o, c = x.f, x.pn, x.c
    if c.has_power and c.horizon > max(t, c.warmup):
        f[o[HEAT_MAX]] = max(f[o[HEAT_MAX]], f[o[HEAT]])
        if c.has_series:
            f[o[HEAT_PMAX]] = max(f[o[HEAT_PMAX]], f[o[HEAT]])
    if c.has_series:
        plan.snapshot(x, 0.0)
    f[o[T]] = c.horizon
    x.n[o[STOP]] = DONE


@lane_function
def timed_event(x, m, t, w, tw):
    """The timed event of slot ``m`` at ``t``."""
    n, o, c = x.n, x.pn, x.c
    if m >= c.T0:
        if m < c.T0 + c.NP:
            pools.shift_change(x, m)
        elif m == c.T0 + c.NP:
            plan.change(x, t, w, tw)
        else:
            plan.period_end(x, t, w)
    elif m >= c.V0:
        vehicle_event(x, m - c.V0, t, w, tw)
    else:
        j = x.pn[o[SLOT_STATION] + m]
        if n[o[STATUS] + m] == DOWN:
            servers.repaired(x, m, j, t, w, tw)
        elif n[o[FAILS] + m]:
            servers.fail(x, m, j, t, w, tw)
        elif n[o[STEP_K] + m] < x.pn[o[LAST_STEP] + servers.prow(x, m, j)]:
            servers.next_step(x, m, j, t, w, tw)
        else:
            flow.complete(x, m, j, t, w, tw)


@lane_function
def vehicle_event(x, v, t, w, tw):
    """Vehicle ``v``'s loading, unloading, drive home or charging ends."""
    status = x.n[x.pn[STATUS] + x.c.V0 + v]
    if status == V_LOADING:
        flow.picked_up(x, v, t, w, tw)
        vehicles.loaded(x, v, t, w)
        return
    free = True  # home, or charged
    if status == V_UNLOADING:
        flow.delivered(x, v, t, w, tw)
        free = vehicles.unloaded(x, v, t, w)
    if free:
        vehicles.free(x, v, t, w)
    if status == V_CHARGING:  # after the vehicle is free, its charger passes on
        vehicles.charged(x, v, t, w)
