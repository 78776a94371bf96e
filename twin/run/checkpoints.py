"""Partial results of an interrupted run, kept in a folder so that the same run can resume."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from twin import __version__ as twin_version
from twin._backend import to_numpy
from twin.compile import Params
from twin.config import Plant


class Checkpoints:
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
        """Save a chunk's engine state: the packed arrays and the sizes they are laid out for
        (any other arrays in ``state``, NumPy or on a device)."""
        self._save(self._path(chunk, "state"), {k: to_numpy(v) for k, v in state.items()})

    def save_done(self, chunk: int, lanes: dict[str, np.ndarray]) -> None:
        self._save(self._path(chunk, "done"), lanes)
        self._path(chunk, "state").unlink(missing_ok=True)


def run_key(plant: Plant, params: Params, backend: str) -> str:
    """A hash of everything that decides a run's numbers."""
    text = json.dumps([plant.model_dump(mode="json"), params.lanes, params.seed, params.horizon,
                       params.warmup, backend, twin_version], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
