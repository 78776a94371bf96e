"""The Python API's entry point: compile a plant, run its lanes in chunks, summarise."""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import __version__ as twin_version
from twin import metrics
from twin._backend import Backend, get_backend, to_numpy
from twin.compile import Params, compile_plant
from twin.config import Plant
from twin.engine import loop
from twin.errors import TwinError
from twin.flow import (
    certain_overload,
    effective_process_mean,
    expected_exits,
    offered_loads,
    visit_ratios,
)

CPU_MAX_CHUNK = 2048  # lanes per chunk on NumPy: past it the state falls out of cache (measured)
MEMORY_SHARE = 0.25  # share of free (device) memory one chunk may plan to use
CHECKPOINT_EVERY_S = 60.0  # wall time between saved states of a chunk in progress
MIN_LANES_PER_WORKER = 512  # below it a step costs the same whatever the lanes: no use splitting


class SimulationError(TwinError):
    """A run that cannot finish meaningfully (overload, deadlock); the message says why."""


@dataclass
class Result:
    """What one call of :func:`simulate` measured.

    Attributes
    ----------
    lanes : dict of NumPy arrays
        Per-replication figures (see :func:`twin.metrics.per_lane`), lane axis first.
    """

    name: str
    station_ids: tuple[str, ...]
    backend: str
    replications: int
    seed: int
    horizon_h: float
    warmup_h: float
    lanes: dict[str, np.ndarray]
    wall_s: float
    method: str = "event"

    def summary(self) -> dict:
        """The JSON summary of DESIGN.md (the object ``twin run --json`` prints)."""
        out = {
            "name": self.name, "backend": self.backend, "method": self.method,
            "replications": self.replications,
            "seed": self.seed, "horizon_h": self.horizon_h, "warmup_h": self.warmup_h,
        }
        out.update(metrics.summarize(self.lanes, self.station_ids))
        out["events"] = int(self.lanes["events"].sum())
        out["wall_s"] = round(self.wall_s, 3)
        return out

    def replication_rows(self) -> tuple[list[str], list[list[float]]]:
        """Per-replication table: column names and one row per replication."""
        plant_cols = ["throughput_per_h", "cycle_time_h", "cycle_time_p50", "cycle_time_p95",
                      "wip", "exits", "events"]
        cols = ["replication"] + plant_cols
        data = [np.arange(self.replications)] + [self.lanes[c] for c in plant_cols]
        for j, sid in enumerate(self.station_ids):
            for f in metrics.STATION_FIELDS:
                cols.append(f"{sid}.{f}")
                data.append(self.lanes[f"station.{f}"][:, j])
        rows = np.column_stack([np.asarray(d, dtype=np.float64) for d in data])
        return cols, rows.tolist()


def _bytes_per_lane(params: Params, queue_places: int, exits: int) -> int:
    """Rough memory of one lane's state and step temporaries, in bytes."""
    M, J = params.slots, params.stations
    return 8 * (24 * M + (J + 1) * (2 * queue_places + 40) + exits + 8 * (J + 1) ** 2)


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


def _overload_message(plant: Plant, station: int, how: str) -> str:
    st = plant.stations[station]
    load = offered_loads(plant)[station]
    rate = visit_ratios(plant)[station] / plant.source.interarrival.mean()
    return (f"station '{st.id}' is overloaded: offered load {load:.2f} per server "
            f"({rate:.3g} jobs/h x {st.process.mean():.3g} h over {st.servers} servers, "
            f"failures included); {how}. Add servers, shorten its processing, slow the source "
            f"or give it a finite buffer")


def _deadlock_message(plant: Plant, err: loop.Deadlock) -> str:
    names = ", ".join(plant.stations[j].id for j in err.full) or "none"
    return (f"deadlock in replication {err.lane} at t={err.time:.1f}h: full stations ({names}) "
            f"block each other around a routing loop. Give a station in the loop a larger or "
            f"unlimited buffer")


def _check_observed_load(plant: Plant, lanes: dict[str, np.ndarray]) -> None:
    """Stop when an unlimited station was surely offered more work than it can do.

    The offered load seen in the run is the station's arrival rate times its processing time
    (failures included) per server; when its whole 95% confidence interval is at or above 1,
    the queue was growing for the whole run and its figures mean nothing.
    """
    for j, st in enumerate(plant.stations):
        if st.buffer is not None:
            continue
        load = lanes["station.arrivals_per_h"][:, j] * effective_process_mean(st) / st.servers
        ci = metrics.mean_ci(load)
        if ci["ci95"][0] is not None and ci["ci95"][0] >= 1.0:
            how = (f"the run offered it {ci['mean']:.2f} [{ci['ci95'][0]:.2f}, "
                   f"{ci['ci95'][1]:.2f}] per server, so its queue grew without bound")
            raise SimulationError(_overload_message(plant, j, how))


class _Checkpoints:
    """Partial results of an interrupted run, in a folder, so that the same run can resume.

    Finished chunks are kept as their per-replication figures, the chunk in progress as the
    engine's state (saved every minute). Everything is keyed by a hash of the plant and the run
    settings: a folder left by a different run is ignored and cleared.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    def claim(self, key: str, size: int) -> int:
        """Make the folder this run's and return its lanes per chunk.

        What another run left there is cleared; a resumed run keeps the chunk size it started
        with (the saved states are per chunk), whatever the memory or worker count is now.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp, layout = self.folder / "key.txt", self.folder / "chunk_size.txt"
        if stamp.exists() and stamp.read_text() == key and layout.exists():
            return int(layout.read_text())
        for old in self.folder.glob("*.npz"):
            old.unlink()
        layout.write_text(str(size))
        stamp.write_text(key)
        return size

    def _path(self, chunk: int, kind: str) -> Path:
        return self.folder / f"chunk{chunk:05d}.{kind}.npz"

    def _save(self, path: Path, arrays: dict[str, np.ndarray]) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)

    def _load(self, path: Path) -> dict[str, np.ndarray] | None:
        if not path.exists():
            return None
        with np.load(path) as data:
            return {name: data[name] for name in data.files}

    def done(self, chunk: int) -> dict[str, np.ndarray] | None:
        return self._load(self._path(chunk, "done"))

    def state(self, chunk: int) -> dict[str, np.ndarray] | None:
        return self._load(self._path(chunk, "state"))

    def save_state(self, chunk: int, state: dict) -> None:
        self._save(self._path(chunk, "state"), {k: to_numpy(v) for k, v in state.items()})

    def save_done(self, chunk: int, lanes: dict[str, np.ndarray]) -> None:
        self._save(self._path(chunk, "done"), lanes)
        self._path(chunk, "state").unlink(missing_ok=True)


def run_key(plant: Plant, params: Params, backend: str, method: str) -> str:
    """A hash of everything that decides a run's numbers."""
    text = json.dumps([plant.model_dump(mode="json"), params.lanes, params.seed, params.horizon,
                       params.warmup, backend, method, twin_version], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _Chunk:
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
    global _PROGRESS
    _PROGRESS = shared


def _run_chunk(job: _Chunk, progress: Callable[[float], None] | None = None) -> dict:
    """Run (or resume) one chunk and return its per-replication figures (NumPy)."""
    be = get_backend(job.backend)
    saved = _Checkpoints(job.checkpoint_dir) if job.checkpoint_dir is not None else None
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


def _run_chunks(jobs: list[_Chunk], workers: int, n_chunks: int, done: list[int],
                progress: Callable[[float], None] | None) -> dict[int, dict]:
    """Run the chunks in order in this process, or side by side in worker processes."""
    results: dict[int, dict] = {}
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            def report(frac: float, c: int = job.index) -> None:
                if progress is not None:
                    progress((len(done) + len(results) + frac) / n_chunks)
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


def simulate(plant: Plant, replications: int | None = None, seed: int | None = None,
             backend: str = "auto", horizon: float | None = None, warmup: float | None = None,
             progress: Callable[[float], None] | None = None, method: str = "auto",
             checkpoint_dir: str | os.PathLike | None = None,
             workers: int | None = None) -> Result:
    """Simulate ``replications`` independent replications of ``plant``.

    Parameters
    ----------
    plant : twin.config.Plant
        A validated plant (``twin.load``).
    replications, seed : int, optional
        Default to the plant's own.
    backend : {"auto", "numpy", "cupy"}
    horizon, warmup : float, optional
        Hours; default to the plant's.
    progress : callable, optional
        Called with the fraction done (0..1) as the run goes.
    method : {"auto", "event", "serial"}
        ``auto`` uses the max-plus fast path for serial lines of single servers and the
        event-stepped engine elsewhere; both give the same figures (see docs/semantics.md).
    checkpoint_dir : path, optional
        Keep partial results there as the run goes; calling again with the same arguments
        after an interruption resumes where it stopped and gives the same result.
    workers : int, optional
        Most processes that run chunks of lanes side by side (default: every CPU core on
        NumPy, one on a GPU); fewer are used when each would get under 512 lanes. The result
        does not depend on it.

    Raises
    ------
    SimulationError
        The plant is overloaded (a queue would grow without bound) or deadlocks.
    """
    started = time.perf_counter()
    be = get_backend(backend)
    params = compile_plant(plant, replications, seed, horizon, warmup)
    if params.warmup >= params.horizon:
        raise TwinError(f"warmup ({params.warmup}h) must be shorter than the horizon "
                        f"({params.horizon}h)")
    overload = certain_overload(plant)
    if overload is not None:
        how = "every station feeding it has an unlimited buffer, so its queue grows without bound"
        raise SimulationError(_overload_message(plant, overload[0], how))
    chosen = loop.choose_method(params, method)
    window = params.horizon - params.warmup
    exits = expected_exits(plant, window)
    workers = default_workers(be.name) if workers is None else max(1, workers)
    workers = useful_workers(params.lanes, workers)
    size = chunk_size(be, params, exits, workers)
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    saved = _Checkpoints(folder) if folder is not None else None
    if saved is not None:
        size = saved.claim(run_key(plant, params, be.name, chosen), size)
    n_chunks = math.ceil(params.lanes / size)
    found = {c: saved.done(c) for c in range(n_chunks)} if saved is not None else {}
    done = [c for c, lanes in found.items() if lanes is not None]
    jobs = [_Chunk(c, c * size, params.take(slice(c * size, min(params.lanes, (c + 1) * size))),
                   be.name, chosen, exits, MEMORY_SHARE / workers, folder)
            for c in range(n_chunks) if c not in done]
    try:
        results = _run_chunks(jobs, workers, n_chunks, done, progress)
    except loop.Overload as err:
        how = f"its queue reached {err.queue} jobs by t={err.time:.0f}h"
        raise SimulationError(_overload_message(plant, err.station, how)) from None
    except loop.Deadlock as err:
        raise SimulationError(_deadlock_message(plant, err)) from None
    results.update({c: found[c] for c in done})
    parts = [results[c] for c in range(n_chunks)]
    lanes_all = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    _check_observed_load(plant, lanes_all)
    be.synchronize()
    return Result(
        name=plant.name, station_ids=params.station_ids, backend=be.name,
        replications=params.lanes, seed=params.seed, horizon_h=params.horizon,
        warmup_h=params.warmup, lanes=lanes_all, wall_s=time.perf_counter() - started,
        method=chosen,
    )
