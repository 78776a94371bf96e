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
SHIFT_TIMER = 20
HOURS_PER_WEEK = 168.0
# Dispatch keys sort the fleets first, then the distance: no layout is 10^9 m long
FLEET_WEIGHT = 1e12


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
    """Mark in ``key`` (L, M) the waiting unit requests that fit now, keyed by request order."""
    R = p.unit_slots
    waiting = s.status[:, R] == p.WAIT_UNITS
    fits = fitting(xp, p.need_r, free).any(axis=-1) & waiting
    key[:, R] = xp.where(fits, p.UNITS_KEY + s.useq[:, R], key[:, R])


def station_needs(xp, p, row: Array) -> Array:
    """Units per alternative and pool of flat station rows ``row`` (L,): (L, A, NP)."""
    A, NP = p.need.shape[2], p.need.shape[3]
    cols = xp.arange(A * NP)
    return _flat(p.need)[row[:, None] * (A * NP) + cols].reshape(row.shape[0], A, NP)


def pick(xp, needs: Array, alt: Array) -> Array:
    """``needs[lane, alt[lane]]``: (L, A, NP), (L,) -> (L, NP)."""
    return xp.take_along_axis(needs, alt[:, None, None], axis=1)[:, 0, :]


def offer_vehicles(xp, p, s, key: Array) -> None:
    """Mark in ``key`` the vehicle that takes a request now, if any: the nearest idle vehicle
    of the lowest-index fleet whose queue is not empty."""
    V, RQ = p.V, p.requests
    fleet_v = p.vehicle_fleet[:V]
    fl = p.lane_f[:, None] + fleet_v[None, :]
    wants = _flat(s.rq_len)[fl] > 0
    head = _flat(s.rq)[fl * RQ + _flat(s.rq_head)[fl]]
    pickup = p.slot_station[head]
    d = _flat(p.dist)[p.lane_pp[:, None] + s.v_pos[:, :V] * p.P + pickup]
    idle = s.status[:, p.V0 : p.V0 + V] == V_IDLE
    score = xp.where(idle & wants, fleet_v * FLEET_WEIGHT + d, xp.inf)
    best = xp.argmin(score, axis=1)
    ok = xp.take_along_axis(score, best[:, None], axis=1)[:, 0] < xp.inf
    at = p.lane_m + p.V0 + best
    _flat(key)[at] = xp.where(ok, p.DISPATCH_KEY, _flat(key)[at])


def _travel(xp, p, s, fl: Array, here: Array, there: Array) -> Array:
    """Hours to drive from place ``here`` to place ``there`` for vehicles of flat fleets fl."""
    return _flat(p.dist)[p.lane_pp + here * p.P + there] / _flat(p.v_speed)[fl]


def _fleet_area(xp, p, s, fl: Array, old: Array, new: Array, w: Array) -> None:
    """A vehicle of fleet ``fl`` changed status old -> new: move ``w`` of area between them."""
    area = _flat(s.f_area)
    base = fl * N_VEHICLE_STATES
    area[base + old - V_IDLE] -= w
    area[base + new - V_IDLE] += w


def _home_or_idle(xp, p, s, fl: Array, pos: Array):
    """Where a vehicle at ``pos`` goes when it has nothing to do: (status, destination)."""
    home = _flat(p.v_home)[fl]
    go = (home >= 0) & (home != pos)
    return xp.where(go, V_TO_HOME, V_IDLE), xp.where(go, home, pos)


def move_vehicles(xp, p, s, ev: Array, vehicle_ev: Array, dispatch: Array, t: Array,
                  w: Array, in_window: Array) -> None:
    """Apply a vehicle's timed event or a dispatch at event slot ``ev`` (L,).

    The job side of loading and unloading ends (the job leaving its server, entering its next
    station) is applied by :func:`twin.engine.core.step`; this moves the vehicle, its battery
    and chargers, the fleets' request queues and their statistics.
    """
    F = _flat
    V, RQ, C = p.V, p.requests, p.C
    vev = vehicle_ev | dispatch
    vi = xp.where(vev, ev - p.V0, V)
    vf = p.lane_v + vi
    slot = p.lane_m + xp.where(vev, ev, p.M - 1)
    st = xp.where(vev, F(s.status)[slot], V_IDLE)
    fl = p.lane_f + p.vehicle_fleet[vi]
    pos = F(s.v_pos)[vf]

    # battery: the level falls by the active time since the last change
    level = F(s.v_level)[vf]
    if p.has_battery:
        active = (st >= V_TO_PICKUP) & (st <= V_TO_CHARGER)
        level = level - xp.where(active & vev, t - F(s.v_since)[vf], 0.0)
        F(s.v_low)[vf] = xp.minimum(F(s.v_low)[vf], level)
        F(s.v_since)[vf] = xp.where(vev, t, F(s.v_since)[vf])

    # dispatch: the head request of the fleet goes to this vehicle
    head = F(s.rq_head)[fl]
    origin = F(s.rq)[fl * RQ + head]
    F(s.rq_head)[fl] = (head + dispatch) % RQ
    F(s.rq_len)[fl] -= dispatch
    o = p.lane_m + origin
    F(s.v_origin)[vf] = xp.where(dispatch, origin, F(s.v_origin)[vf])
    F(s.v_to)[vf] = xp.where(dispatch, F(s.target)[o], F(s.v_to)[vf])
    F(s.v_job)[vf] = xp.where(dispatch, F(s.job_in)[o], F(s.v_job)[vf])

    at_pickup = vehicle_ev & (st == V_TO_PICKUP)
    load_end = vehicle_ev & (st == V_LOADING)
    at_drop = vehicle_ev & (st == V_LOADED)
    unload_end = vehicle_ev & (st == V_UNLOADING)
    at_charger = vehicle_ev & (st == V_TO_CHARGER)
    charge_end = vehicle_ev & (st == V_CHARGING)
    at_home = vehicle_ev & (st == V_TO_HOME)

    new = xp.where(dispatch, V_TO_PICKUP, st)
    dest = xp.where(dispatch, p.slot_station[origin], pos)
    wait = xp.zeros_like(t)
    new = xp.where(at_pickup, V_LOADING, new)
    wait = xp.where(at_pickup, F(p.v_load)[fl], wait)
    new = xp.where(load_end, V_LOADED, new)
    dest = xp.where(load_end, F(s.v_to)[vf], dest)
    new = xp.where(at_drop, V_UNLOADING, new)
    wait = xp.where(at_drop, F(p.v_unload)[fl], wait)
    new = xp.where(at_home, V_IDLE, new)

    free_after = charge_end
    if p.has_battery:
        cap = F(p.v_cap)[fl]
        low = unload_end & (level < F(p.v_thr)[fl])
        # the nearest free charger of the fleet
        cc = fl[:, None] * C + xp.arange(C)
        places = F(p.charger)[cc]
        taken = F(s.ch_taken)[cc]
        d = F(p.dist)[p.lane_pp[:, None] + pos[:, None] * p.P + xp.maximum(places, 0)]
        d = xp.where((places >= 0) & ~taken, d, xp.inf)
        c = xp.argmin(d, axis=1)
        found = xp.take_along_axis(d, c[:, None], axis=1)[:, 0] < xp.inf
        to_charge = low & found
        F(s.ch_taken)[fl * C + c] |= to_charge
        F(s.v_charger)[vf] = xp.where(to_charge, c, F(s.v_charger)[vf])
        new = xp.where(to_charge, V_TO_CHARGER, new)
        dest = xp.where(to_charge, F(p.charger)[fl * C + c], dest)
        queue = low & ~found
        new = xp.where(queue, V_CHARGE_WAIT, new)
        F(s.v_seq)[vf] = xp.where(queue, s.next_vseq, F(s.v_seq)[vf])
        s.next_vseq[...] += queue
        new = xp.where(at_charger, V_CHARGING, new)
        wait = xp.where(at_charger, (cap - level) / cap * F(p.v_charge)[fl], wait)
        level = xp.where(charge_end, cap, level)
        free_after = (unload_end & ~low) | charge_end
    else:
        free_after = unload_end
    rest, rest_dest = _home_or_idle(xp, p, s, fl, pos)
    new = xp.where(free_after, rest, new)
    dest = xp.where(free_after, rest_dest, dest)
    F(s.v_level)[vf] = level

    drives = (new == V_TO_PICKUP) | (new == V_LOADED) | (new == V_TO_HOME) | (new == V_TO_CHARGER)
    drive = xp.where(drives & vev, _travel(xp, p, s, fl, pos, dest), 0.0)
    ends = (new == V_IDLE) | (new == V_CHARGE_WAIT)
    F(s.t_next)[slot] = xp.where(vev & ~ends, t + drive + wait, xp.inf)
    F(s.status)[slot] = xp.where(vev, new, F(s.status)[slot]).astype(s.status.dtype)
    F(s.v_pos)[vf] = dest
    _fleet_area(xp, p, s, fl, st, xp.where(vev, new, st), w)

    # statistics of the window
    F(s.f_wait)[fl] += xp.where(at_pickup & in_window, t - F(s.t_req)[p.lane_m + F(s.v_origin)[vf]],
                                0.0)
    F(s.f_pickups)[fl] += at_pickup & in_window
    F(s.f_trips)[fl] += unload_end & in_window

    if p.has_battery:  # a freed charger goes to the vehicle of the fleet that waited longest
        waiting = (s.status[:, p.V0 : p.V0 + V] == V_CHARGE_WAIT) & (
            p.vehicle_fleet[None, :V] == p.vehicle_fleet[vi][:, None])
        score = xp.where(waiting, s.v_seq[:, :V], xp.inf)
        nxt = xp.argmin(score, axis=1)
        has = charge_end & (xp.take_along_axis(score, nxt[:, None], axis=1)[:, 0] < xp.inf)
        c = F(s.v_charger)[vf]
        ci = fl * C + c
        F(s.ch_taken)[ci] = xp.where(charge_end, has, F(s.ch_taken)[ci])  # passed on: taken
        wi = xp.where(has, nxt, V)
        wf = p.lane_v + wi
        wslot = p.lane_m + xp.where(has, p.V0 + nxt, p.M - 1)
        charger_place = F(p.charger)[fl * C + c]
        w_pos = F(s.v_pos)[wf]
        F(s.t_next)[wslot] = xp.where(has, t + _travel(xp, p, s, fl, w_pos, charger_place),
                                      xp.inf)
        F(s.status)[wslot] = xp.where(has, V_TO_CHARGER, F(s.status)[wslot]).astype(
            s.status.dtype)
        F(s.v_pos)[wf] = xp.where(has, charger_place, w_pos)
        F(s.v_since)[wf] = xp.where(has, t, F(s.v_since)[wf])
        F(s.v_charger)[wf] = xp.where(has, c, F(s.v_charger)[wf])
        _fleet_area(xp, p, s, fl, xp.where(has, V_CHARGE_WAIT, V_IDLE),
                    xp.where(has, V_TO_CHARGER, V_IDLE), w)


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
