"""Run the engine's steps until every lane reaches its horizon.

Between blocks of steps (and only there) the loop looks at the state from the host: it grows
the ring buffers of unlimited stations and the store of cycle times before they can overflow,
stops with :class:`Overload` when a queue outgrows its memory budget, with :class:`Deadlock`
when a lane can never move again before its horizon, and reports progress.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from twin._backend import special_functions
from twin.engine import core, rng, serial

BLOCK = 128  # steps between host-side checks; each step adds at most one job to any queue


class Overload(Exception):
    """A station's queue outgrew its memory budget (arrivals faster than it can serve)."""

    def __init__(self, station: int, queue: int, time: float, lane: int = 0):
        self.station, self.queue, self.time, self.lane = station, queue, time, lane
        super().__init__(f"station {station} queue reached {queue} at t={time:.1f}h "
                         f"(lane {lane})")

    def __reduce__(self):  # rebuilt from its fields when it crosses a process boundary
        return (Overload, (self.station, self.queue, self.time, self.lane))


class Deadlock(Exception):
    """Some lane can never move again: full stations block each other around a loop."""

    def __init__(self, lane: int, time: float, full: list[int]):
        self.lane, self.time, self.full = lane, time, full
        super().__init__(f"lane {lane} deadlocked at t={time:.1f}h; full stations {full}")

    def __reduce__(self):
        return (Deadlock, (self.lane, self.time, self.full))


def device_params(xp, params) -> core.DeviceParams:
    """Move compiled parameters (:class:`twin.compile.Params`) to ``xp`` arrays."""
    a = xp.asarray
    L, M, W = params.lanes, params.slots, params.stations + 1
    lane = xp.arange(L, dtype=xp.int64)
    plan = params.power
    return core.DeviceParams(
        horizon=params.horizon, warmup=params.warmup, J=params.stations, M=params.slots,
        slot_station=a(params.slot_station), slot_on=a(params.slot_on),
        capacity=a(params.capacity), dist_kind=a(params.dist_kind), dist_par=a(params.dist_par),
        dist_row=a(params.dist_row), tables=a(params.tables), route_cum=a(params.route_cum),
        route_next=a((params.route_cum > 0.5).argmax(axis=-1)),
        mtbf=a(params.mtbf), mttr=a(params.mttr),
        keys=rng.stream_keys(xp, params.seed, a(params.replication), params.n_streams),
        lane=lane, lane_m=lane * M, lane_w=lane * W, lane_s=lane * params.n_streams,
        kinds_present=params.kinds_present, has_failures=params.has_failures,
        has_routing_draws=params.has_routing_draws, ndtri=special_functions(xp).ndtri,
        draw=a(params.draw), reserve=a(params.reserve), share=a(params.share),
        standby=a(params.reserve[..., core.IDLE]),
        gain0=a(params.reserve[..., core.STEP0] - params.reserve[..., core.IDLE]),
        draw_idle=a(params.draw[..., core.IDLE]), draw0=a(params.draw[..., core.STEP0]),
        draw_wait=a(params.draw[..., core.WAITING]),
        bin_end=a(plan.bin_end) if plan else xp.zeros(1),
        last_step=a(params.last_step), cap_heat=a(params.cap_heat),
        lane_b=lane * (plan.bins if plan else 0), n_bins=plan.bins if plan else 0,
        first_bin=plan.first_bin if plan else 0, interval=plan.interval if plan else 1.0,
        has_power=params.has_power, has_cap=params.has_cap, has_profiles=params.has_profiles,
        **_logistics_params(xp, params, lane),
    )


def _logistics_params(xp, params, lane) -> dict[str, Any]:
    """The DeviceParams fields of fleets and pools (none when the plant has neither)."""
    a = xp.asarray
    out: dict[str, Any] = {"V0": params.vehicle0, "T0": params.timer0}
    fleets, pools = params.fleets, params.pools
    if fleets is not None:
        P = fleets.distance.shape[1]
        out.update(
            has_transport=True, has_battery=fleets.has_battery, V=fleets.vehicles, P=P,
            C=fleets.charger.shape[2], requests=fleets.requests,
            vehicle_fleet=a(fleets.vehicle_fleet), station_fleet=a(fleets.station_fleet),
            v_speed=a(fleets.speed), v_load=a(fleets.load), v_unload=a(fleets.unload),
            v_home=a(fleets.home), v_cap=a(fleets.capacity), v_charge=a(fleets.charge_time),
            v_thr=a(fleets.threshold), charger=a(fleets.charger), start=a(fleets.start),
            dist=a(fleets.distance), lane_pp=a(params.scenario) * (P * P),
            lane_f=lane * fleets.count.shape[1], lane_v=lane * (fleets.vehicles + 1),
        )
    if pools is not None:
        R = pools.slots
        out.update(
            has_units=True, has_shifts=pools.has_shifts, pool_count=a(pools.count),
            need=a(pools.need), factor=a(pools.factor), requires=a(pools.requires),
            unit_slots=a(R), unit_station=a(pools.slot_unit),
            need_u=a(pools.need[:, pools.unit_stations]), edges=a(pools.edges),
            edge_count=a(pools.edge_count), on_at_start=a(pools.on_at_start),
            lane_p=lane * pools.count.shape[1],
        )
    return out


def _state_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(core.State)]


def grow_queues(xp, s: core.State, places: int) -> core.State:
    """Copy every ring buffer into ``places`` places, unrolled so that heads are at 0."""
    q = s.q_job.shape[2]
    idx = (s.q_head[..., None] + xp.arange(q)) % q
    grown = {}
    for name in ("q_job", "q_buf"):
        new = xp.zeros(s.q_job.shape[:2] + (places,), dtype=xp.float64)
        new[..., :q] = xp.take_along_axis(getattr(s, name), idx, axis=2)
        grown[name] = new
    return dataclasses.replace(s, q_head=xp.zeros_like(s.q_head), **grown)


def _fit_queues(xp, s: core.State, limit: int, unbounded: Any, now: float) -> core.State:
    """Grow the ring buffers so that the next block of steps cannot overflow them.

    ``unbounded`` (J,) marks the stations with unlimited buffers; when one of their queues would
    need more than ``limit`` places the station is overloaded.
    """
    J = unbounded.shape[0]
    longest_per_station = s.q_len[:, :J].max(axis=0)
    longest = int(longest_per_station.max())
    if longest + BLOCK + 1 <= s.q_job.shape[2]:
        return s
    growing = xp.where(unbounded, longest_per_station, 0)
    if int(growing.max()) + BLOCK + 1 > limit:
        station = int(xp.argmax(growing))
        lane = int(xp.argmax(s.q_len[:, station]))
        raise Overload(station, int(growing[station]), now, lane)
    want = 1 << (longest + 2 * BLOCK).bit_length()
    return grow_queues(xp, s, min(want, limit))


def grow_exits(xp, s: core.State, size: int) -> core.State:
    """Copy every lane's store of cycle times into ``size`` places."""
    new = xp.zeros((s.ct.shape[0], size), dtype=xp.float64)
    new[:, : s.ct.shape[1]] = s.ct
    return dataclasses.replace(s, ct=new)


METHODS = ("auto", "event", "serial")


def choose_method(params, method: str = "auto") -> str:
    """``serial`` (the max-plus fast path) where it applies and is allowed, else ``event``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    if method == "event":
        return "event"
    if serial.applies(params):
        return "serial"
    if method == "serial":
        raise ValueError("the serial fast path needs a line of single servers, each sending every "
                         "job to the next station, without failures")
    return "event"


def run(xp, params, *, queue_budget_bytes: int, expected_exits: int = 1024,
        progress: Callable[[float], None] | None = None, method: str = "auto",
        resume: dict[str, Any] | None = None,
        checkpoint: Callable[[dict[str, Any]], None] | None = None,
        checkpoint_every_s: float = 60.0) -> dict[str, Any]:
    """Simulate every lane of ``params`` to its horizon on ``xp``.

    Parameters
    ----------
    params : twin.compile.Params
    queue_budget_bytes : int
        Largest size the ring buffers of unlimited stations may grow to; past it the run stops
        with :class:`Overload`.
    expected_exits : int
        First guess of exits per lane in the window (the store grows when needed).
    progress : callable, optional
        Called between blocks with the fraction of simulated time done (0..1).
    method : {"auto", "event", "serial"}
        The event-stepped engine, or the max-plus fast path for serial lines (``auto``: the fast
        path wherever it applies; both give the same figures).
    resume : dict of arrays, optional
        A state saved by ``checkpoint`` (event method): the run continues from it and ends
        exactly as if it had never stopped.
    checkpoint : callable, optional
        Called between blocks, at most every ``checkpoint_every_s`` seconds of wall time, with
        the event engine's whole state as a dict of xp arrays.

    Returns
    -------
    dict of xp arrays: the final :class:`core.State` fields used by the metrics, with ``ct``
    cut to the largest exit count.
    """
    p = device_params(xp, params)
    if choose_method(params, method) == "serial":
        return serial.run(xp, params, p, progress)
    L, J = params.lanes, params.stations
    buffers = params.capacity[:, :J] - params.servers
    unlimited = bool((buffers == float("inf")).any())
    # Ring buffers start small and grow by doubling; one spare place, because the step writes
    # the place after the last job unconditionally. Finite buffers never need more than their
    # size; unlimited ones may grow until the memory budget says the station is overloaded.
    needed = int(buffers[buffers < float("inf")].max(initial=0)) + 1
    memory_places = queue_budget_bytes // max(1, 16 * L * (J + 1))
    limit = max(needed, memory_places) if unlimited else needed
    places = min(limit, 2 * BLOCK + 1)
    unbounded_rows = xp.asarray((buffers == float("inf")).any(axis=0))  # (J,) stations
    if resume is None:
        s = core.init(xp, p, places, max(expected_exits, 2 * BLOCK))
    else:
        s = core.State(**{name: xp.asarray(resume[name]) for name in _state_fields()})

    horizon = params.horizon
    saved_at = time.monotonic()
    while True:
        for _ in range(BLOCK):
            s = core.step(xp, p, s)
        if not bool(s.live.any()):
            break
        if params.has_power:  # running sums drift by rounding: restart them from the slots
            s.heat[...] = s.draw.sum(axis=1)
            s.reserved[...] = s.res.sum(axis=1)
        if params.has_cap and bool((s.reserved > p.cap_heat * (1 + 1e-6) + 1e-9).any()):
            lane = int(xp.argmax(s.reserved - p.cap_heat))
            raise RuntimeError(
                f"invariant violated: lane {lane} holds {float(s.reserved[lane]):.6g} kW of "
                f"station power under a cap of {float(p.cap_heat[lane]):.6g} kW; the cap "
                f"check of twin/engine/core.py let a request through that did not fit")
        if checkpoint is not None and time.monotonic() - saved_at >= checkpoint_every_s:
            checkpoint({name: getattr(s, name) for name in _state_fields()})
            saved_at = time.monotonic()
        if unlimited or s.q_job.shape[2] < limit:
            s = _fit_queues(xp, s, limit, unbounded_rows, float(s.t.max()))
        most = int(s.n_exit.max())
        if most + BLOCK > s.ct.shape[1]:
            s = grow_exits(xp, s, 2 * (most + BLOCK))
        if progress is not None:
            progress(float(s.t.mean()) / horizon)
    stuck = (s.t < horizon) & ~s.live
    if bool(stuck.any()):
        lane = int(xp.argmax(stuck))
        full = [j for j in range(J) if int(s.count[lane, j]) >= params.capacity[lane, j]]
        raise Deadlock(lane, float(s.t[lane]), full)
    if progress is not None:
        progress(1.0)
    out = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
    out["ct"] = s.ct[:, : max(1, int(s.n_exit.max()))]
    return out
