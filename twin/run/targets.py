"""Where the engine runs: the state's arrays on the backend's device, and the compiled kernels
that advance them (:mod:`twin.engine.kernels` on the CPU, :mod:`twin.engine.gpu` on a GPU or
its simulator).

The first run on a machine compiles the engine (Numba caches the machine code on disk, so
later runs load it); it says so on stderr, with the time it took.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin._backend import Backend
from twin.compile.arrays import EngineParams
from twin.engine import layout

NOTICE_AFTER_S = 1.0  # a compile shorter than this goes unmentioned


@dataclass
class State:
    """A batch of lanes on the device: the packed state arrays ``f, n, u`` (L, *) and the
    layout they follow."""

    arrays: dict[str, Any]
    params: EngineParams

    @property
    def lanes(self) -> int:
        return int(self.arrays["f"].shape[0])

    def column(self, name: str) -> np.ndarray:
        """A per-lane scalar field (``stop``, ``t``, ...) of every lane, on the host, (L,)."""
        field = layout.BY_NAME[name]
        at = int(layout.offsets(self.params.dims)[0][layout.FIELDS.index(field)])
        from twin._backend import to_numpy

        return to_numpy(self.arrays[field.array][:, at])

    def to_host(self) -> dict[str, np.ndarray]:
        """NumPy copies of ``f, n, u``."""
        from twin._backend import to_numpy

        return {a: np.ascontiguousarray(to_numpy(v)) for a, v in self.arrays.items()}


def _zeros(shape: tuple[int, int], dtype) -> np.ndarray:
    """A zeroed array whose pages are all mapped now, by this one thread: first touches from
    the kernel's threads at once fault pages in several times slower (measured: 65 MB of
    state took 67 ms to touch from the two threads of ``prange``, 8 ms from one)."""
    array = np.empty(shape, dtype=dtype)
    array.fill(0)
    return array


class Target:
    """A backend's device and its compiled kernels."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._params: tuple[EngineParams | None, tuple] = (None, ())
        self._checked = False

    def device_params(self, params: EngineParams) -> tuple:
        """The parameter arrays on the device (kept while ``params`` is the same)."""
        if self._params[0] is not params:
            xp = self.backend.xp
            self._params = (params, tuple(xp.asarray(params.arrays[a])
                                          for a in layout.PARAM_ARRAYS))
        return self._params[1]

    def allocate(self, params: EngineParams) -> State:
        """Zeroed state for the lanes of ``params``, each with its scenario and random key."""
        o, width = layout.offsets(params.dims)
        host = {a: _zeros((params.lanes, width[a]), layout.ARRAYS[a]) for a in layout.STATE_ARRAYS}
        host["n"][:, o[layout.SCENARIO]] = params.lane_scenario
        host["u"][:, o[layout.REP_KEY]] = params.lane_key
        return State(self.upload(host), params)

    def upload(self, host: dict[str, np.ndarray]) -> dict[str, Any]:
        """Host state arrays on the device, in the target's memory order."""
        xp, order = self.backend.xp, self.backend.order
        if xp is np:
            return {a: np.asarray(v, order=order) for a, v in host.items()}
        return {a: xp.asarray(np.asarray(v, order=order), order=order) for a, v in host.items()}

    def _args(self, state: State) -> tuple:
        a = state.arrays
        return (a["f"], a["n"], a["u"]) + self.device_params(state.params) \
            + (state.params.consts,)

    def init(self, state: State) -> None:
        """Every lane at time 0."""
        self._compiled(state)
        self._run(0, self._args(state), state.lanes)

    def advance(self, state: State, until: float) -> None:
        """Every lane's events due by ``until``."""
        self._run(1, self._args(state) + (float(until),), state.lanes)

    def _kernels(self):
        if self.backend.gpu:
            from twin.engine import gpu

            return gpu.kernels()
        from twin.engine import kernels

        return kernels.init_cpu, kernels.advance_cpu

    def _run(self, which: int, args: tuple, lanes: int) -> None:
        kernel = self._kernels()[which]
        if self.backend.gpu:
            from twin.engine import gpu

            gpu.launch(kernel, lanes, *args)
        else:
            kernel(*args)

    def _compiled(self, state: State) -> None:
        """Compile the kernels (or load them from the disk cache) before the first run,
        saying so when that takes a while."""
        if self._checked:
            return
        self._checked = True
        if self.backend.name == "cuda-sim":
            return
        started = time.perf_counter()
        timer = threading.Timer(NOTICE_AFTER_S, lambda: print(
            "compiling the engine (first run only)...", file=sys.stderr, flush=True))
        timer.start()
        try:
            args = self._args(state)
            init, advance = self._kernels()
            if self.backend.gpu:
                from twin.engine import gpu

                gpu.compile_for(init, advance, args)
            else:
                import numba

                init.compile(tuple(numba.typeof(a) for a in args))
                advance.compile(tuple(numba.typeof(a) for a in args + (0.0,)))
        finally:
            timer.cancel()
        took = time.perf_counter() - started
        if took >= NOTICE_AFTER_S:
            print(f"compiled the engine in {took:.0f} s; later runs load it from the cache",
                  file=sys.stderr, flush=True)
