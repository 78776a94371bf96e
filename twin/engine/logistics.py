"""Vehicles, resource pools and shift timers: the parts of a step that :mod:`twin.engine.core`
runs only for plants that have them (docs/transport.md states the rules).

Shapes: L lanes, F fleets, V vehicle slots (plus one scratch column, index V, that masked
writes target), C chargers per fleet, P places, NP pools, A alternatives per station, R slots
of the stations that need units. Vehicle and timer statuses share ``State.status`` with the
servers, in the slots ``V0 .. V0+V-1`` and ``T0 .. T0+NP-1``.
"""

from __future__ import annotations

from typing import Any

Array = Any

# Vehicle statuses (codes apart from the servers', so no server rule ever matches a vehicle)
V_IDLE, V_TO_PICKUP, V_LOADING, V_LOADED, V_UNLOADING = 10, 11, 12, 13, 14
V_TO_HOME, V_TO_CHARGER, V_CHARGE_WAIT, V_CHARGING = 15, 16, 17, 18
N_VEHICLE_STATES = 9  # column of a status in State.f_area: status - V_IDLE
SCRATCH = N_VEHICLE_STATES  # a last column that masked bookings write to
N_VEHICLE_COLUMNS = N_VEHICLE_STATES + 1
SHIFT_TIMER = 20
HOURS_PER_WEEK = 168.0


def _flat(a: Array) -> Array:
    return a.reshape(-1)


def free_units(xp, p, s) -> Array:
    """Units of each pool free now, (L, NP): on shift and not held (<= 0 off shift)."""
    return xp.where(s.p_on > 0, p.pool_count, 0) - s.p_held


def fitting(xp, need: Array, free: Array) -> Array:
    """Which alternatives fit: ``need`` (..., A, NP) against ``free`` (L, NP) -> (..., A).
    Free counts below zero (units still held after a shift ended) count as none free."""
    shape = (free.shape[0],) + (1,) * (need.ndim - 2) + (free.shape[1],)
    return (need <= xp.maximum(free, 0).reshape(shape)).all(axis=-1)


def offer_units(xp, p, s, key: Array, free: Array) -> None:
    """Mark in ``key`` (L, M) the waiting unit requests that fit now, keyed by request order.
    Every request of a station asks for the same units, so the fit is tested per station."""
    R = p.unit_slots
    fits = fitting(xp, p.need_u, free).any(axis=-1)  # (L, U) per station that needs units
    go = fits[:, p.unit_station] & (s.status[:, R] == p.WAIT_UNITS)
    key[:, R] = xp.where(go, p.UNITS_KEY + s.useq[:, R], key[:, R])


def station_needs(xp, p, row: Array) -> Array:
    """Units per alternative and pool of flat station rows ``row`` (L,): (L, A, NP)."""
    A, NP = p.need.shape[2], p.need.shape[3]
    cols = xp.arange(A * NP)
    return _flat(p.need)[row[:, None] * (A * NP) + cols].reshape(row.shape[0], A, NP)


def pick(xp, needs: Array, alt: Array) -> Array:
    """``needs[lane, alt[lane]]``: (L, A, NP), (L,) -> (L, NP)."""
    return xp.take_along_axis(needs, alt[:, None, None], axis=1)[:, 0, :]


def _travel(xp, p, fl: Array, here: Array, there: Array) -> Array:
    """Hours to drive from place ``here`` to place ``there`` for vehicles of flat fleets fl."""
    return _flat(p.dist)[p.lane_pp + here * p.P + there] / _flat(p.v_speed)[fl]


def _weight(xp, p, x: Array) -> Array:
    """What a count that starts at time ``x`` adds to its integral over the window."""
    return p.horizon - xp.minimum(xp.maximum(x, p.warmup), p.horizon)


def _book(xp, p, s, fl: Array, cols: list[Array], values: list[Array]) -> None:
    """Add vehicle-time to the fleets' columns, (L,) each: one scatter. A vehicle's next phases
    are known when they are scheduled, so each adds its whole length to its column at once;
    masked entries go to the scratch column (the only column a lane may name twice)."""
    at = (fl * N_VEHICLE_COLUMNS)[:, None] + xp.stack(cols, axis=1)
    _flat(s.f_area)[at] += xp.stack(values, axis=1)


def nearest_idle(xp, p, s, fleet: Array, place: Array):
    """The idle vehicle of ``fleet`` (L,) nearest ``place`` (L,) (ties: lowest index) and
    whether there is one: (L,), (L,)."""
    V = p.V
    idle = (s.status[:, p.V0 : p.V0 + V] == V_IDLE) & (p.vehicle_fleet[None, :V]
                                                       == fleet[:, None])
    d = _flat(p.dist)[p.lane_pp[:, None] + s.v_pos[:, :V] * p.P + place[:, None]]
    score = xp.where(idle, d, xp.inf)
    best = xp.argmin(score, axis=1)
    return best, xp.take_along_axis(score, best[:, None], axis=1)[:, 0] < xp.inf


def move_vehicles(xp, p, s, ev: Array, vehicle_ev: Array, reserve: Array, e: Array,
                  fleet_e: Array, t: Array, w: Array, in_window: Array) -> Array:
    """Vehicles' part of a step: a vehicle's timed event at slot ``ev``, and the dispatch of a
    request (``w``: what a change at ``t`` weighs in the window). Returns the lanes whose
    reserving slot ``e`` got a vehicle at once (its request does not queue).

    A vehicle's status says what ends at its next event: LOADING (drive empty to the pickup,
    then load), UNLOADING (drive loaded, then unload), TO_HOME, CHARGING (drive to the charger,
    then charge). The job side of the loading and unloading ends is applied by
    :func:`twin.engine.core.step`. A vehicle that becomes free takes the head request of its
    fleet if one waits, else drives home or idles; a new request takes the nearest idle vehicle
    if the queue is empty.
    """
    F = _flat
    V, RQ, C = p.V, p.requests, p.C
    ve = xp.where(vehicle_ev, ev - p.V0, V)
    st = xp.where(vehicle_ev, F(s.status)[p.lane_m + xp.where(vehicle_ev, ev, p.M - 1)], V_IDLE)
    load_end = vehicle_ev & (st == V_LOADING)
    unload_end = vehicle_ev & (st == V_UNLOADING)
    home_end = vehicle_ev & (st == V_TO_HOME)
    charge_end = vehicle_ev & (st == V_CHARGING)

    # a new request takes the nearest idle vehicle when none waits before it
    fl_e = p.lane_f + xp.maximum(fleet_e, 0)
    nearest, found = nearest_idle(xp, p, s, xp.maximum(fleet_e, 0), p.slot_station[e])
    at_once = reserve & found & (F(s.rq_len)[fl_e] == 0)
    u = xp.where(vehicle_ev, ve, xp.where(at_once, nearest, V))  # the vehicle of this step
    uf = p.lane_v + u
    f = p.vehicle_fleet[u]
    fl = p.lane_f + f
    pos = F(s.v_pos)[uf]
    level = F(s.v_level)[uf]

    # a vehicle below its threshold after unloading goes to the nearest free charger
    low = none = xp.zeros_like(vehicle_ev)
    to_charger = charge_wait = none
    if p.has_battery:
        low = unload_end & (level < F(p.v_thr)[fl])
        cc = fl[:, None] * C + xp.arange(C)
        chargers = F(p.charger)[cc]
        d = F(p.dist)[p.lane_pp[:, None] + pos[:, None] * p.P + xp.maximum(chargers, 0)]
        d = xp.where((chargers >= 0) & ~F(s.ch_taken)[cc], d, xp.inf)
        c = xp.argmin(d, axis=1)
        has_charger = xp.take_along_axis(d, c[:, None], axis=1)[:, 0] < xp.inf
        to_charger, charge_wait = low & has_charger, low & ~has_charger
        F(s.ch_taken)[fl * C + c] |= to_charger
        F(s.v_charger)[uf] = xp.where(to_charger, c, F(s.v_charger)[uf])
        charger_place = F(p.charger)[fl * C + c]

    # a free vehicle takes the head request of its fleet, if one waits
    free = (unload_end & ~low) | home_end | charge_end
    queued = free & (F(s.rq_len)[fl] > 0)
    head = F(s.rq_head)[fl]
    F(s.rq_head)[fl] = (head + queued) % RQ
    F(s.rq_len)[fl] -= queued
    dispatch = at_once | queued
    origin = xp.where(at_once, e, F(s.rq)[fl * RQ + head])
    o = p.lane_m + origin
    home = F(p.v_home)[fl]
    go_home = free & ~queued & (home >= 0) & (home != pos)
    idles = free & ~queued & ~go_home

    # where it drives, and the phases up to its next event
    dest = xp.where(dispatch, p.slot_station[origin], pos)
    dest = xp.where(load_end, F(s.v_to)[uf], dest)
    dest = xp.where(go_home, home, dest)
    if p.has_battery:
        dest = xp.where(to_charger, charger_place, dest)
    drive = _travel(xp, p, fl, pos, dest)
    arrive = t + drive
    handle = xp.where(dispatch, F(p.v_load)[fl], xp.where(load_end, F(p.v_unload)[fl], 0.0))
    if p.has_battery:
        cap = F(p.v_cap)[fl]
        charged = xp.isfinite(cap)  # (a fleet without a battery has an infinite one)
        cap = xp.where(charged, cap, 1.0)
        left = xp.where(charged, level - drive, 1.0)
        handle = xp.where(to_charger, (cap - left) / cap * F(p.v_charge)[fl], handle)
    end = arrive + handle
    new = xp.where(dispatch, V_LOADING, st)
    new = xp.where(load_end, V_UNLOADING, new)
    new = xp.where(go_home, V_TO_HOME, new)
    new = xp.where(idles, V_IDLE, new)
    new = xp.where(to_charger, V_CHARGING, new)
    new = xp.where(charge_wait, V_CHARGE_WAIT, new)
    moving = dispatch | load_end | go_home | to_charger
    first = xp.where(dispatch, V_TO_PICKUP, xp.where(load_end, V_LOADED, xp.where(
        to_charger, V_TO_CHARGER, V_TO_HOME)))
    second = xp.where(dispatch, V_LOADING, xp.where(load_end, V_UNLOADING, V_CHARGING))
    w_arrive, w_end = _weight(xp, p, arrive), _weight(xp, p, end)
    _book(xp, p, s, fl, [
        xp.where(moving, first, xp.where(idles, V_IDLE, xp.where(charge_wait, V_CHARGE_WAIT,
                                                                  SCRATCH + V_IDLE))) - V_IDLE,
        xp.where(moving & ~go_home, second - V_IDLE, SCRATCH),
        xp.where(at_once, 0, SCRATCH),  # only a vehicle taken at once was idle
    ], [xp.where(moving, w - w_arrive, w), w_arrive - w_end, -w])

    # the battery: each drive and handling drains it by its length; a charge fills it
    active = xp.where(moving, drive, 0.0) + xp.where(dispatch | load_end, handle, 0.0)
    level = level - active
    if p.has_battery:
        F(s.v_low)[uf] = xp.minimum(F(s.v_low)[uf], level)
        level = xp.where(to_charger, cap, level)
        F(s.v_seq)[uf] = xp.where(charge_wait, s.next_vseq, F(s.v_seq)[uf])
        s.next_vseq[...] += charge_wait
    F(s.v_level)[uf] = level

    slot = p.lane_m + xp.where(u < V, p.V0 + u, p.M - 1)
    F(s.status)[slot] = xp.where(u < V, new, F(s.status)[slot]).astype(s.status.dtype)
    F(s.t_next)[slot] = xp.where((u < V) & moving, end, xp.inf)
    F(s.v_pos)[uf] = dest
    F(s.v_origin)[uf] = xp.where(dispatch, origin, F(s.v_origin)[uf])
    F(s.v_to)[uf] = xp.where(dispatch, F(s.target)[o], F(s.v_to)[uf])
    F(s.v_job)[uf] = xp.where(dispatch, F(s.job_in)[o], F(s.v_job)[uf])

    # statistics: the wait from request to pickup (known at dispatch), deliveries
    picks = dispatch & (arrive >= p.warmup) & (arrive <= p.horizon)
    F(s.f_wait)[fl] += xp.where(picks, arrive - F(s.t_req)[o], 0.0)
    F(s.f_pickups)[fl] += picks
    F(s.f_trips)[fl] += unload_end & in_window

    if p.has_battery:  # a freed charger goes to the vehicle of the fleet that waited longest
        waiting = (s.status[:, p.V0 : p.V0 + V] == V_CHARGE_WAIT) & (
            p.vehicle_fleet[None, :V] == f[:, None])
        score = xp.where(waiting, s.v_seq[:, :V], xp.inf)
        nxt = xp.argmin(score, axis=1)
        has = charge_end & (xp.take_along_axis(score, nxt[:, None], axis=1)[:, 0] < xp.inf)
        ci = fl * C + F(s.v_charger)[uf]
        F(s.ch_taken)[ci] = xp.where(charge_end, has, F(s.ch_taken)[ci])  # passed on: taken
        wf = p.lane_v + xp.where(has, nxt, V)  # the vehicle that takes the charger
        place = F(p.charger)[ci]
        w_drive = _travel(xp, p, fl, F(s.v_pos)[wf], place)
        w_level = xp.where(has, F(s.v_level)[wf] - w_drive, cap)
        w_done = t + w_drive + (cap - w_level) / cap * F(p.v_charge)[fl]
        w_at = _weight(xp, p, t + w_drive)
        _book(xp, p, s, fl, [xp.where(has, c - V_IDLE, SCRATCH)
                             for c in (V_CHARGE_WAIT, V_TO_CHARGER, V_CHARGING)],
              [-w, w - w_at, w_at - _weight(xp, p, w_done)])
        F(s.v_low)[wf] = xp.where(has, xp.minimum(F(s.v_low)[wf], w_level), F(s.v_low)[wf])
        F(s.v_level)[wf] = xp.where(has, cap, F(s.v_level)[wf])
        wslot = p.lane_m + xp.where(has, p.V0 + nxt, p.M - 1)
        F(s.t_next)[wslot] = xp.where(has, w_done, xp.inf)
        F(s.status)[wslot] = xp.where(has, V_CHARGING, F(s.status)[wslot]).astype(
            s.status.dtype)
        F(s.v_pos)[wf] = xp.where(has, place, F(s.v_pos)[wf])
        F(s.v_charger)[wf] = xp.where(has, F(s.v_charger)[uf], F(s.v_charger)[wf])
    return at_once


def tick_shifts(xp, p, s, ev: Array, shift_ev: Array) -> None:
    """A pool's shift starts or ends at timer slot ``ev``: flip it and set the next change."""
    F = _flat
    pi = xp.where(shift_ev, ev - p.T0, 0)
    lp = p.lane_p + pi
    F(s.p_on)[lp] = xp.where(shift_ev, 1 - F(s.p_on)[lp], F(s.p_on)[lp])
    n = F(s.p_edge)[lp] + shift_ev
    F(s.p_edge)[lp] = n
    count = p.edge_count[pi]
    nxt = (n // xp.maximum(count, 1)) * HOURS_PER_WEEK + _flat(p.edges)[
        pi * p.edges.shape[1] + n % xp.maximum(count, 1)]
    slot = p.lane_m + xp.where(shift_ev, ev, p.M - 1)
    F(s.t_next)[slot] = xp.where(shift_ev, nxt, xp.inf)
