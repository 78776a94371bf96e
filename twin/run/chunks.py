"""Lanes in chunks: sized from free memory, run one after another or in worker processes.

A chunk is a block of consecutive lanes that the engine runs as one batch. On NumPy, chunks
run side by side in worker processes, one per CPU core, when each keeps hundreds of lanes (a
step costs a fixed overhead plus work per lane, so smaller splits only add overhead). Every
chunk may keep checkpoints (:mod:`twin.run.checkpoints`).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twin._backend import Backend, get_backend, to_numpy
from twin.compile import Params
from twin.engine import loop
from twin.results import metrics
from twin.run.checkpoints import Checkpoints

CPU_MAX_CHUNK = 2048  # lanes per chunk on NumPy: past it the state falls out of cache (measured)
MEMORY_SHARE = 0.25  # share of free (device) memory the chunks may plan to use
CHECKPOINT_EVERY_S = 60.0  # wall time between saved states of a chunk in progress
MIN_LANES_PER_WORKER = 512  # below it a step costs the same whatever the lanes: no use splitting


def _bytes_per_lane(params: Params, queue_places: int, exits: int) -> int:
    """Rough memory of one lane's state and step temporaries, in bytes."""
    M, J = params.slots, params.stations
    power = 0 if params.power is None else 2 * params.power.bins + 8 * M
    return 8 * (24 * M + (J + 1) * (2 * queue_places + 40) + exits + 8 * (J + 1) ** 2 + power)


def chunk_size(backend: Backend, params: Params, exits: int, workers: int = 1) -> int:
    """Lanes per chunk: what fits in a share of free memory (and, on NumPy, in cache), and
    small enough that every worker gets a chunk."""
    per_lane = _bytes_per_lane(params, 256, exits)
    fit = max(1, int(backend.free_bytes() * MEMORY_SHARE / workers) // per_lane)
    if backend.name == "numpy":
        fit = min(fit, CPU_MAX_CHUNK)
    return max(1, min(params.lanes, fit, math.ceil(params.lanes / workers)))


def useful_workers(lanes: int, workers: int) -> int:
    """Worker processes worth starting: each step costs a fixed overhead plus work per lane,
    so splitting only pays while every worker keeps hundreds of lanes."""
    return max(1, min(workers, lanes // MIN_LANES_PER_WORKER))


@dataclass(frozen=True)
class Chunk:
    """One block of lanes to run, with all a worker process needs (it pickles)."""

    index: int
    start: int
    params: Params
    backend: str
    method: str
    expected_exits: int
    memory_share: float
    checkpoint_dir: Path | None


_PROGRESS = None  # shared per-chunk progress fractions, set in worker processes


def _init_worker(shared) -> None:
    """Set up a worker process: its progress slot array, and Ctrl-C left to the parent, which
    stops the workers while their checkpoints stay on disk."""
    global _PROGRESS
    _PROGRESS = shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(job: Chunk, progress: Callable[[float], None] | None = None) -> dict:
    """Run (or resume) one chunk and return its per-replication figures (NumPy)."""
    be = get_backend(job.backend)
    saved = Checkpoints(job.checkpoint_dir) if job.checkpoint_dir is not None else None
    if progress is None and _PROGRESS is not None:
        def progress(frac: float) -> None:
            _PROGRESS[job.index] = frac
    try:
        raw = loop.run(
            be.xp, job.params, queue_budget_bytes=int(be.free_bytes() * job.memory_share),
            expected_exits=job.expected_exits, progress=progress, method=job.method,
            resume=saved.state(job.index) if saved is not None else None,
            checkpoint=(lambda st: saved.save_state(job.index, st)) if saved is not None else None,
            checkpoint_every_s=CHECKPOINT_EVERY_S)
    except loop.Deadlock as err:
        raise loop.Deadlock(err.lane + job.start, err.time, err.full) from None
    except loop.Overload as err:
        raise loop.Overload(err.station, err.queue, err.time, err.lane + job.start) from None
    lanes = metrics.per_lane({k: to_numpy(v) for k, v in raw.items()}, job.params)
    if saved is not None:
        saved.save_done(job.index, lanes)
    return lanes


def default_workers(backend: str) -> int:
    """Worker processes for a backend: every CPU core for NumPy, one process for a GPU."""
    if backend != "numpy":
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_chunks(jobs: list[Chunk], workers: int, n_chunks: int, done: list[int],
                progress: Callable[[float], None] | None) -> dict[int, dict]:
    """Run the chunks in order in this process, or side by side in worker processes."""
    results: dict[int, dict] = {}
    if workers <= 1 or len(jobs) <= 1:
        def report(frac: float) -> None:
            if progress is not None:
                progress((len(done) + len(results) + frac) / n_chunks)

        for job in jobs:
            results[job.index] = _run_chunk(job, report)
        return results
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    shared = context.Array("d", n_chunks, lock=False)
    pool = context.Pool(min(workers, len(jobs)), initializer=_init_worker, initargs=(shared,))
    try:
        pending = {job.index: pool.apply_async(_run_chunk, (job,)) for job in jobs}
        while pending:
            for c in [c for c, r in pending.items() if r.ready()]:
                results[c] = pending.pop(c).get()  # re-raises a worker's exception here
            if progress is not None:
                running = sum(shared[c] for c in pending)
                progress((len(done) + len(results) + running) / n_chunks)
            if pending:
                next(iter(pending.values())).wait(0.25)
        pool.close()
    finally:
        pool.terminate()  # at once, also on an interruption: the checkpoints stay on disk
        pool.join()
    return results
