"""Max-plus fast path for serial lines of single-server stations.

When every station has one server in every lane, sends every job to the next station (the last
one to exit), and never fails, the times of job ``n`` follow from those of earlier jobs:

    ready      R_n    = E_{n-1} + X_n                    (source timer restarts on entry)
    entry      E_n    = max(R_n, D_{n-c_0, 0})           (a place at station 0)
    start      B_nj   = max(A_nj, D_{n-1, j})            (A_n0 = E_n, A_nj = D_{n, j-1})
    completion C_nj   = B_nj + S_nj
    departure  D_nj   = max(C_nj, D_{n-c_{j+1}, j+1})    (blocking after service; last: C)

where ``c_j`` is the capacity of station j (buffer + 1) and an unlimited station never blocks.
The loop runs over jobs instead of events, every lane in lockstep, with no gathers by event.

It consumes exactly the uniforms of the event engine (:mod:`twin.engine.core`): the n-th start
at a station is job n's, and the source's n-th timer is job n's interarrival, so the two give
the same figures up to the rounding of sums. The statistics are the same too: areas are sums of
each job's intervals clipped to [warmup, horizon].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twin.engine import core, rng

CHECK_EVERY = 64  # jobs between host-side checks for the end of the run


def applies(params) -> bool:
    """Whether the batch is a serial line of single servers without failures, power, fleets
    or pools."""
    J = params.stations
    if params.has_failures or params.has_power or (params.servers != 1).any() or \
            params.fleets is not None or params.pools is not None:
        return False
    cum = params.route_cum
    # all of station j's probability on target j + 1 (the last station's j + 1 is exit)
    return all(bool(((cum[:, j, j + 1] == 1.0) & (cum[:, j, j] == 0.0)).all()) for j in range(J))


def _overlap(xp, a: Any, b: Any, lo: float, hi: float) -> Any:
    """Length of [a, b] within [lo, hi], elementwise."""
    return xp.maximum(xp.minimum(b, hi) - xp.maximum(a, lo), 0.0)


def run(xp, params, p: core.DeviceParams,
        progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Simulate every lane of a serial line; returns the same fields as the event loop."""
    L, J, W = params.lanes, params.stations, params.stations + 1
    H, w = params.horizon, params.warmup
    f64 = xp.float64
    zeros = lambda *shape: xp.zeros(shape, dtype=f64)
    cap = params.capacity[:, :J]
    finite = [bool((cap[:, j] < float("inf")).all()) for j in range(J)]
    unlimited = [bool((cap[:, j] == float("inf")).all()) for j in range(J)]
    if not all(a or b for a, b in zip(finite, unlimited, strict=True)):
        raise ValueError("a station is unlimited in some lanes and finite in others")
    K = int(max([cap[:, j].max() for j in range(J) if finite[j]], default=1)) + 1
    cap_dev = [xp.asarray(cap[:, j].astype("int64")) if finite[j] else None for j in range(J)]
    lane = p.lane
    ring = zeros(J, K, L)  # departures of the last K jobs from each station
    last_dep = zeros(J, L)
    area = zeros(L, W, core.N_AREA)
    starts, wait_sum, departs, arrivals = (zeros(L, W) for _ in range(4))
    n_exit = xp.zeros(L, dtype=xp.int64)
    entered = xp.zeros(L, dtype=xp.int64)
    exited = xp.zeros(L, dtype=xp.int64)
    events = xp.zeros(L, dtype=xp.int64)
    ct_sum = zeros(L)
    cycles = []
    keys = [p.keys[:, 4 * j + core.S_SERVICE] for j in range(W)]
    rows = [p.lane_w + j for j in range(W)]
    entry = zeros(L)

    def blocked_until(j: int, n: int) -> Any:
        """Departure of job n - c_j from station j: when job n can have a place there."""
        flat = ((n - cap_dev[j]) % K) * L + lane
        return ring[j].reshape(-1)[flat]

    n = 0
    while True:
        counter = xp.full(L, n, dtype=xp.uint64)
        ready = entry + core.service(xp, p, rows[J], rng.uniforms(xp, keys[J], counter))
        entry = xp.maximum(ready, blocked_until(0, n)) if finite[0] else ready
        events += (ready <= H).astype(xp.int64) + (entry <= H)
        entered += entry <= H
        arrive = entry
        for j in range(J):
            length = core.service(xp, p, rows[j], rng.uniforms(xp, keys[j], counter))
            start = xp.maximum(arrive, last_dep[j])
            done = start + length
            if j + 1 < J and finite[j + 1]:
                leave = xp.maximum(done, blocked_until(j + 1, n))
            else:
                leave = done
            area[:, j, core.C_QUEUE] += _overlap(xp, arrive, start, w, H)
            area[:, j, core.C_BUSY] += _overlap(xp, start, done, w, H)
            area[:, j, core.C_BLOCKED] += _overlap(xp, done, leave, w, H)
            started = (start >= w) & (start <= H)
            starts[:, j] += started
            wait_sum[:, j] += xp.where(started, start - arrive, 0.0)
            departs[:, j] += (leave >= w) & (leave <= H)
            arrivals[:, j] += (arrive >= w) & (arrive <= H)
            events += (done <= H).astype(xp.int64) + (leave <= H)
            ring[j, n % K] = leave
            last_dep[j] = leave
            arrive = leave
        cycle = arrive - entry
        counted = (arrive >= w) & (arrive <= H)
        n_exit += counted
        ct_sum += xp.where(counted, cycle, 0.0)
        exited += arrive <= H
        cycles.append(xp.where(counted, cycle, xp.inf))
        n += 1
        if n % CHECK_EVERY == 0:
            t_min = float(ready.min())
            if t_min > H:
                break
            if progress is not None:
                progress(min(t_min / H, 1.0))
    ct = xp.sort(xp.stack(cycles, axis=1), axis=1)  # counted cycle times first, in order
    ct = ct[:, : max(1, int(n_exit.max()))]
    count = xp.zeros((L, W), dtype=xp.int64)
    count[:, 0] = entered - exited  # jobs inside at the horizon (the per-station split is not kept)
    return {"area": area, "starts": starts, "wait_sum": wait_sum, "departs": departs, "arrivals": arrivals,
            "n_exit": n_exit, "ct_sum": ct_sum, "ct": ct, "events": events,
            "entered": entered, "exited": exited, "count": count}
