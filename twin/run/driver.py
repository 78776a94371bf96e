"""Run a batch of lanes to their horizon, in time slices: the host's side of the engine.

The host advances every lane to ``t + slice``, then does what only it can do: grow a ring
buffer or the store of cycle times that filled (the lanes that stopped for it go on in the
same slice), stop with :class:`Overload` when a queue outgrows its memory budget and with
:class:`Deadlock` when a lane can never move again, report progress, save a checkpoint, hand
the slice to a hook (``--trace`` takes its rows there). Slices last about a quarter of a
second, so Ctrl-C is felt at once; the state at that moment is saved as a checkpoint first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from twin.compile.arrays import EngineParams
from twin.engine import codes, layout
from twin.run.targets import State, Target

SLICE_WALL_S = 0.25  # aim of each slice's wall time
FIRST_SLICES = 64  # the first slice is the horizon / FIRST_SLICES


class Overload(Exception):
    """A station's queue outgrew its memory budget (arrivals faster than it can serve)."""

    def __init__(self, station: int, queue: int, time: float, lane: int = 0):
        self.station, self.queue, self.time, self.lane = station, queue, time, lane
        super().__init__(f"station {station} queue reached {queue} at t={time:.1f}h "
                         f"(lane {lane})")


class Deadlock(Exception):
    """Some lane can never move again: full stations block each other around a loop."""

    def __init__(self, lane: int, time: float, full: list[int]):
        self.lane, self.time, self.full = lane, time, full
        super().__init__(f"lane {lane} deadlocked at t={time:.1f}h; full stations {full}")


def run(params: EngineParams, target: Target, *, queue_budget_bytes: int,
        progress: Callable[[float], None] | None = None,
        resume: dict[str, np.ndarray] | None = None,
        checkpoint: Callable[[State], None] | None = None, checkpoint_every_s: float = 60.0,
        hook: Callable[[State], None] | None = None) -> State:
    """Advance every lane of ``params`` to its horizon on ``target``.

    Parameters
    ----------
    params : twin.compile.arrays.EngineParams
    queue_budget_bytes : int
        Most memory the lanes' state may grow to as ring buffers of unlimited stations grow;
        past it the run stops with :class:`Overload`.
    progress : callable, optional
        Called after each slice with the fraction of simulated time done (0..1).
    resume : dict of NumPy arrays, optional
        State saved by ``checkpoint`` (``f, n, u``), laid out for ``params``: the run goes on
        from it and ends exactly as if it had never stopped.
    checkpoint : callable, optional
        Called with the state at most every ``checkpoint_every_s`` seconds, and when Ctrl-C
        stops the run.
    hook : callable, optional
        Called with the state after every slice.

    Returns
    -------
    The final :class:`twin.run.targets.State` (its ``params`` may have grown).
    """
    if resume is None:
        state = target.allocate(params)
        target.init(state)
    else:
        state = State(target.upload(resume), params)
    horizon = params.consts.horizon
    span = horizon / FIRST_SLICES
    until = min(float(state.column("t").min()) + span, horizon)
    saved_at = time.monotonic()
    try:
        while True:
            started = time.perf_counter()
            target.advance(state, until if until < horizon else math.inf)
            took = time.perf_counter() - started
            if hook is not None:
                hook(state)
            stop = state.column("stop")
            state = _after_slice(state, target, stop, queue_budget_bytes)
            if (stop == codes.DONE).all():
                break
            if np.isin(stop, (codes.RUNNING, codes.DONE)).all():  # every lane reached until
                span *= min(max(SLICE_WALL_S / max(took, 1e-6), 0.5), 4.0)
                until = min(until + span, horizon)
            if progress is not None:
                progress(float(state.column("t").mean()) / horizon)
            if checkpoint is not None and time.monotonic() - saved_at >= checkpoint_every_s:
                checkpoint(state)
                saved_at = time.monotonic()
        if progress is not None:
            progress(1.0)
    except KeyboardInterrupt:
        if checkpoint is not None:
            checkpoint(state)
        raise
    return state


def _after_slice(state: State, target: Target, stop: np.ndarray, budget: int) -> State:
    """What the host does between slices: the checks, and growth."""
    if (stop == codes.DEADLOCK).any():
        raise _deadlock(state, int(np.argmax(stop == codes.DEADLOCK)))
    if (stop == codes.CAP_BROKEN).any():
        lane = int(np.argmax(stop == codes.CAP_BROKEN))
        host = state.to_host()
        reserved = float(layout.read(host, state.params.dims, "reserved")[lane])
        raise RuntimeError(
            f"invariant violated: lane {lane} holds {reserved:.6g} kW of station power, over "
            f"its cap; the cap check of twin/engine/power.py let a request through that did "
            f"not fit")
    if (stop == codes.GROW_QUEUE).any():
        state = grow_queues(state, target, budget)
    if (stop == codes.GROW_EXITS).any():
        state = _regrow(state, target, state.params.resized(E=2 * state.params.dims.E))
    return state


def _deadlock(state: State, lane: int) -> Deadlock:
    host = state.to_host()
    dims = state.params.dims
    count = layout.read(host, dims, "count")[lane]
    phase = layout.read(host, dims, "phase")[lane]
    capacity = state.params.field("capacity")[state.params.lane_scenario[lane]][phase]
    J = state.params.consts.J
    scenario = state.params.lane_scenario[lane]
    taken = layout.read(host, dims, "kcount")[lane]  # places per kind at the assemblies
    places = state.params.field("kcap")[scenario]
    needs = state.params.field("assemble_n")[scenario] > 0
    full = [j for j in range(J)
            if count[j] >= capacity[j] or (needs[j] & (taken[j] >= places[j])).any()]
    return Deadlock(lane, float(layout.read(host, dims, "t")[lane]), full)


def _regrow(state: State, target: Target, params: EngineParams,
            host: dict[str, np.ndarray] | None = None) -> State:
    """The state laid out for ``params``' larger sizes."""
    host = state.to_host() if host is None else host
    return State(target.upload(layout.relayout(host, state.params.dims, params.dims)), params)


def grow_queues(state: State, target: Target, budget: int) -> State:
    """Double the ring buffers of the growing stations that are full in some lane, each ring
    unrolled so that its head is at its start; :class:`Overload` past the memory budget."""
    params, dims = state.params, state.params.dims
    host = state.to_host()
    length = layout.read(host, dims, "q_len")
    size, grows = params.field("q_size"), params.field("q_grows")
    full = ((length >= size) & (grows == 1)).any(axis=0)
    new_size = np.where(full, 2 * size, size)
    bigger = params.resized(q_size=new_size)
    if sum(layout.bytes_per_lane(bigger.dims).values()) * state.lanes > budget:
        station = int(np.argmax(np.where(grows == 1, length, -1).max(axis=0)))
        lane = int(np.argmax(length[:, station]))
        raise Overload(station, int(length[lane, station]),
                       float(layout.read(host, dims, "t")[lane]), lane)
    rings = layout.read(host, dims, "queue")
    head = layout.read(host, dims, "q_head")
    start, new_start = params.field("q_start"), bigger.field("q_start")
    unrolled = np.zeros((state.lanes, bigger.dims.Q, bigger.dims.size("QW")))
    for j in np.flatnonzero(size):
        places = (head[:, j, None] + np.arange(size[j])) % size[j]
        ring = rings[:, start[j]:start[j] + size[j]]
        unrolled[:, new_start[j]:new_start[j] + size[j]] = np.take_along_axis(
            ring, places[:, :, None], axis=1)
    grown = layout.relayout(host, dims, bigger.dims)
    layout.write(grown, bigger.dims, "queue", unrolled)
    layout.write(grown, bigger.dims, "q_head", np.zeros_like(head))
    return State(target.upload(grown), bigger)


def raw_figures(state: State) -> dict[str, np.ndarray]:
    """Every state field of every lane as NumPy arrays (L, *dims), for the metrics; the store
    of cycle times cut to the most exits of any lane."""
    host = state.to_host()
    dims = state.params.dims
    raw = {f.name: layout.read(host, dims, f.name) for f in layout.FIELDS
           if f.array in layout.STATE_ARRAYS}
    raw["ct"] = raw["ct"][:, : max(1, int(raw["n_exit"].max()))]
    raw["q_start"], raw["q_size"] = state.params.field("q_start"), state.params.field("q_size")
    return raw
