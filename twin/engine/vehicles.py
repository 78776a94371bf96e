"""Vehicle fleets: requests, dispatch, drives, batteries and chargers (docs/transport.md
states the rules). The jobs' side of loading and unloading is :mod:`twin.engine.flow`'s.

A vehicle's status says what ends at its next event: LOADING (a drive empty to the pickup,
then loading), UNLOADING (a drive loaded, then unloading), TO_HOME, CHARGING (a drive to a
charger, then charging). The length of every part is known when the drive starts, so each is
added to the fleet's vehicle-time integrals (``f_area``) at once, by the weight of its start
less that of its end, without an event of its own.
"""

from __future__ import annotations

import math

from twin.engine import clock, rings
from twin.engine.codes import (
    N_VEHICLE_STATES,
    OFF,
    V_CHARGE_WAIT,
    V_CHARGING,
    V_IDLE,
    V_LOADED,
    V_LOADING,
    V_TO_CHARGER,
    V_TO_HOME,
    V_TO_PICKUP,
    V_UNLOADING,
)
from twin.engine.jit import lane_function
from twin.engine.layout import (
    BATTERY,
    CH_TAKEN,
    CHARGE_TIME,
    CHARGER,
    DISTANCE,
    F_AREA,
    F_ON,
    F_PICKUPS,
    F_TRIPS,
    F_WAIT,
    HOME,
    JOB_IN,
    JOB_TAG,
    LOAD_TIME,
    NEXT_VSEQ,
    RQ,
    RQ_HEAD,
    RQ_LEN,
    SLOT_ON,
    SLOT_STATION,
    SPEED,
    START,
    STATUS,
    T_REQ,
    TARGET,
    THRESHOLD,
    UNLOAD_TIME,
    V_CHARGER,
    V_JOB,
    V_LEVEL,
    V_LOW,
    V_ON,
    V_ORIGIN,
    V_POS,
    V_RETIRE,
    V_SEQ,
    V_TAG,
    V_TO,
    VEHICLE_FLEET,
)


@lane_function
def weight(c, x):
    """What a count that starts at time ``x`` adds to its integral over the window."""
    return c.horizon - min(max(x, c.warmup), c.horizon)


@lane_function
def book(x, fl, status, value):
    """Add ``value`` hours of vehicle time to fleet ``fl``'s integral of ``status``."""
    x.f[x.pn[F_AREA] + fl * N_VEHICLE_STATES + status - V_IDLE] += value


@lane_function
def fleet_of(x, v):
    return x.pn[x.pn[VEHICLE_FLEET] + v]


@lane_function
def distance(x, here, there):
    return x.pf[x.pn[DISTANCE] + here * x.c.P + there]


@lane_function
def set_phase(x, v, status, end):
    """Vehicle ``v`` takes ``status`` until its next event at ``end`` (inf: none)."""
    x.n[x.pn[STATUS] + x.c.V0 + v] = status
    clock.schedule(x, x.c.V0 + v, end)


@lane_function
def drive(x, v, dest, handle, t, w, first, second):
    """Vehicle ``v`` drives to place ``dest`` (status ``first``), then handles for ``handle``
    hours (status ``second``; -1: none); the battery drains by both. Returns the arrival."""
    f, n, o = x.f, x.n, x.pn
    fl = fleet_of(x, v)
    hours = distance(x, n[o[V_POS] + v], dest) / x.pf[o[SPEED] + fl]
    arrive = t + hours
    w_arrive = weight(x.c, arrive)
    book(x, fl, first, w - w_arrive)
    if second >= 0:
        book(x, fl, second, w_arrive - weight(x.c, arrive + handle))
    level = f[o[V_LEVEL] + v] - (hours + handle)
    f[o[V_LEVEL] + v] = level
    f[o[V_LOW] + v] = min(f[o[V_LOW] + v], level)
    n[o[V_POS] + v] = dest
    return arrive


@lane_function
def dispatch(x, v, origin, t, w):
    """Vehicle ``v`` goes for the job held at slot ``origin``: it drives empty to its
    station's dock and loads it."""
    f, n, o, c = x.f, x.n, x.pn, x.c
    fl = fleet_of(x, v)
    load = x.pf[o[LOAD_TIME] + fl]
    arrive = drive(x, v, x.pn[o[SLOT_STATION] + origin], load, t, w, V_TO_PICKUP, V_LOADING)
    set_phase(x, v, V_LOADING, arrive + load)
    n[o[V_ORIGIN] + v] = origin
    n[o[V_TO] + v] = n[o[TARGET] + origin]
    f[o[V_JOB] + v] = f[o[JOB_IN] + origin]
    n[o[V_TAG] + v] = n[o[JOB_TAG] + origin]
    if c.warmup <= arrive <= c.horizon:
        f[o[F_WAIT] + fl] += arrive - f[o[T_REQ] + origin]
        f[o[F_PICKUPS] + fl] += 1.0


@lane_function
def nearest_idle(x, fl, place):
    """The idle vehicle of fleet ``fl`` nearest to ``place`` (ties: the lowest; -1: none
    that can get there)."""
    best, best_d = -1, math.inf
    for v in range(x.c.V):
        if fleet_of(x, v) == fl and x.n[x.pn[STATUS] + x.c.V0 + v] == V_IDLE:
            d = distance(x, x.n[x.pn[V_POS] + v], place)
            if d < best_d:
                best, best_d = v, d
    return best


@lane_function
def request(x, m, fl, t, w):
    """The job held at server ``m`` needs fleet ``fl``: the nearest idle vehicle comes at
    once if no request waits before it; otherwise the request joins the fleet's queue."""
    n, o = x.n, x.pn
    if n[o[RQ_LEN] + fl] == 0:
        v = nearest_idle(x, fl, x.pn[o[SLOT_STATION] + m])
        if v >= 0:
            book(x, fl, V_IDLE, -w)
            dispatch(x, v, m, t, w)
            return
    size = x.c.RQ
    n[o[RQ] + fl * size + rings.wrap(n[o[RQ_HEAD] + fl], n[o[RQ_LEN] + fl], size)] = m
    n[o[RQ_LEN] + fl] += 1


@lane_function
def loaded(x, v, t, w):
    """Loading ends: vehicle ``v`` drives its job to its next station's dock (or the shipping
    point) and unloads it."""
    unload = x.pf[x.pn[UNLOAD_TIME] + fleet_of(x, v)]
    arrive = drive(x, v, x.n[x.pn[V_TO] + v], unload, t, w, V_LOADED, V_UNLOADING)
    set_phase(x, v, V_UNLOADING, arrive + unload)


@lane_function
def free(x, v, t, w):
    """Vehicle ``v`` is free: it takes its fleet's first waiting request, else drives home,
    else waits where it is."""
    n, o = x.n, x.pn
    fl = fleet_of(x, v)
    if x.c.has_plan and n[o[V_RETIRE] + fl] > 0:  # the plan takes it out of the fleet
        n[o[V_RETIRE] + fl] -= 1
        switch_off(x, v, w)
        return
    if n[o[RQ_LEN] + fl] > 0:
        head = n[o[RQ_HEAD] + fl]
        n[o[RQ_HEAD] + fl] = rings.wrap(head, 1, x.c.RQ)
        n[o[RQ_LEN] + fl] -= 1
        dispatch(x, v, n[o[RQ] + fl * x.c.RQ + head], t, w)
        return
    home = x.pn[o[HOME] + fl]
    if home >= 0 and home != n[o[V_POS] + v]:
        set_phase(x, v, V_TO_HOME, drive(x, v, home, 0.0, t, w, V_TO_HOME, -1))
        return
    book(x, fl, V_IDLE, w)
    set_phase(x, v, V_IDLE, math.inf)


@lane_function
def switch_off(x, v, w):
    """Vehicle ``v``, free and not counted idle, leaves its fleet."""
    fl = fleet_of(x, v)
    set_phase(x, v, OFF, math.inf)
    x.n[x.pn[V_ON] + fl] -= 1
    x.f[x.pn[F_ON] + fl] -= w


@lane_function
def fleet_to(x, fl, target, t, w):
    """Fleet ``fl``'s vehicles in force become ``target`` (twin.engine.plan): vehicles
    switched on start full where vehicles of the fleet start and are free at once; a lower
    count takes idle vehicles out (the lowest-numbered first), then the next that are free."""
    f, n, o = x.f, x.n, x.pn
    on = n[o[V_ON] + fl]
    retiring = n[o[V_RETIRE] + fl]
    if target > on - retiring:
        back = min(retiring, target - (on - retiring))
        n[o[V_RETIRE] + fl] = retiring - back
        add = target - (on - retiring + back)
        for v in range(x.c.V):
            if add > 0 and fleet_of(x, v) == fl and n[o[STATUS] + x.c.V0 + v] == OFF \
                    and x.pn[o[SLOT_ON] + x.c.V0 + v]:
                full = x.pf[o[BATTERY] + fl]
                n[o[V_POS] + v] = x.pn[o[START] + v]
                f[o[V_LEVEL] + v] = full
                f[o[V_LOW] + v] = min(f[o[V_LOW] + v], full)
                n[o[V_ON] + fl] += 1
                f[o[F_ON] + fl] += w
                free(x, v, t, w)
                add -= 1
    else:
        drop = on - retiring - target
        for v in range(x.c.V):
            if drop > 0 and fleet_of(x, v) == fl and n[o[STATUS] + x.c.V0 + v] == V_IDLE:
                book(x, fl, V_IDLE, -w)
                switch_off(x, v, w)
                drop -= 1
        n[o[V_RETIRE] + fl] += drop


@lane_function
def charge(x, v, k, t, w):
    """Vehicle ``v`` drives to charger ``k`` of its fleet and charges to full."""
    f, n, o = x.f, x.n, x.pn
    fl = fleet_of(x, v)
    place = x.pn[o[CHARGER] + fl * x.c.C + k]
    full = x.pf[o[BATTERY] + fl]
    arrive = drive(x, v, place, 0.0, t, w, V_TO_CHARGER, -1)
    hours = (full - f[o[V_LEVEL] + v]) / full * x.pf[o[CHARGE_TIME] + fl]
    book(x, fl, V_CHARGING, weight(x.c, arrive) - weight(x.c, arrive + hours))
    f[o[V_LEVEL] + v] = full
    n[o[V_CHARGER] + v] = k
    set_phase(x, v, V_CHARGING, arrive + hours)


@lane_function
def nearest_charger(x, fl, place):
    """The free charger of fleet ``fl`` nearest to ``place`` (-1: none that can be
    reached)."""
    best, best_d = -1, math.inf
    for k in range(x.c.C):
        at = x.pn[x.pn[CHARGER] + fl * x.c.C + k]
        if at >= 0 and x.n[x.pn[CH_TAKEN] + fl * x.c.C + k] == 0:
            d = distance(x, place, at)
            if d < best_d:
                best, best_d = k, d
    return best


@lane_function
def unloaded(x, v, t, w):
    """Unloading ends: below its threshold the vehicle goes to charge (or waits for a
    charger); otherwise it is free: returns whether it is (the caller frees it, so that
    :func:`free` is compiled at one place of the event loop)."""
    f, n, o = x.f, x.n, x.pn
    fl = fleet_of(x, v)
    if t >= x.c.warmup:
        f[o[F_TRIPS] + fl] += 1.0
    if f[o[V_LEVEL] + v] < x.pf[o[THRESHOLD] + fl]:
        k = nearest_charger(x, fl, n[o[V_POS] + v])
        if k >= 0:
            n[o[CH_TAKEN] + fl * x.c.C + k] = 1
            charge(x, v, k, t, w)
        else:
            book(x, fl, V_CHARGE_WAIT, w)
            f[o[V_SEQ] + v] = f[o[NEXT_VSEQ]]
            f[o[NEXT_VSEQ]] += 1.0
            set_phase(x, v, V_CHARGE_WAIT, math.inf)
        return False
    return True


@lane_function
def charged(x, v, t, w):
    """Charging ends and vehicle ``v``, already freed (:func:`free`), leaves its charger to
    the fleet's vehicle that has waited longest for one."""
    f, n, o = x.f, x.n, x.pn
    fl = fleet_of(x, v)
    k = n[o[V_CHARGER] + v]
    waiting, first = -1, math.inf
    for u in range(x.c.V):
        if fleet_of(x, u) == fl and n[o[STATUS] + x.c.V0 + u] == V_CHARGE_WAIT \
                and f[o[V_SEQ] + u] < first:
            waiting, first = u, f[o[V_SEQ] + u]
    if waiting >= 0:
        book(x, fl, V_CHARGE_WAIT, -w)
        charge(x, waiting, k, t, w)
    else:
        n[o[CH_TAKEN] + fl * x.c.C + k] = 0
