"""Lanes in chunks: as many at once as the backend's memory holds (:mod:`twin.run.memory`),
one chunk after another. On the CPU every chunk uses every core (the engine's loop over lanes
is a ``prange``); on a GPU a chunk is as many lanes as fit in its free memory. Every chunk may
keep checkpoints (:mod:`twin.run.checkpoints`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from twin.compile import Params
from twin.compile.arrays import EngineParams
from twin.results import metrics
from twin.run import driver
from twin.run.checkpoints import Checkpoints
from twin.run.targets import State, Target

CHECKPOINT_EVERY_S = 60.0  # wall time between saved states of a chunk in progress


def _saved_state(state: State) -> dict[str, np.ndarray]:
    """A chunk's state as a checkpoint keeps it: the packed arrays and the sizes they follow."""
    host = state.to_host()
    host["q_size"] = state.params.field("q_size")
    host["exits"] = np.array(state.params.dims.E)
    return host


def _resumed(params: EngineParams, saved: dict[str, np.ndarray]) -> EngineParams:
    """``params`` laid out for the sizes a saved state had grown to."""
    return params.resized(q_size=saved["q_size"], E=int(saved["exits"]))


def run_chunk(index: int, params: Params, engine: EngineParams, target: Target,
              queue_budget_bytes: int, saved: Checkpoints | None,
              progress: Callable[[float], None] | None) -> dict[str, np.ndarray]:
    """Run (or resume) one chunk of lanes; its per-replication figures (NumPy)."""
    resume = saved.state(index) if saved is not None else None
    if resume is not None:
        engine = _resumed(engine, resume)
    state = driver.run(
        engine, target, queue_budget_bytes=queue_budget_bytes, progress=progress,
        resume={a: resume[a] for a in ("f", "n", "u")} if resume is not None else None,
        checkpoint=(lambda st: saved.save_state(index, _saved_state(st))) if saved else None,
        checkpoint_every_s=CHECKPOINT_EVERY_S)
    lanes = metrics.per_lane(driver.raw_figures(state), params)
    if saved is not None:
        saved.save_done(index, lanes)
    return lanes


def run_chunks(params: Params, engine: EngineParams, target: Target, size: int,
               queue_budget_bytes: int, saved: Checkpoints | None,
               progress: Callable[[float], None] | None) -> dict[str, np.ndarray]:
    """Run every chunk of ``size`` lanes (those a checkpoint folder holds as done are not run
    again) and join their per-replication figures."""
    n_chunks = math.ceil(params.lanes / size)
    parts = []
    for c in range(n_chunks):
        lanes = slice(c * size, min(params.lanes, (c + 1) * size))
        done = saved.done(c) if saved is not None else None
        if done is None:
            def report(frac: float, c=c) -> None:
                if progress is not None:
                    progress((c + frac) / n_chunks)

            done = run_chunk(c, params.take(lanes), engine.take(lanes), target,
                             queue_budget_bytes, saved, report)
        parts.append(done)
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
