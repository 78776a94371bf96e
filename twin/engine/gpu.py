"""The compiled entry points on an NVIDIA GPU: one thread per lane, the same lane functions
as on the CPU compiled by numba-cuda as device functions. The only module that imports
numba-cuda (it loads only when a GPU backend is used); the kernels compile on first use and
are cached on disk. Under Numba's CUDA simulator they run as plain Python.
"""

from __future__ import annotations

import functools

from numba import cuda

from twin.engine import lane
from twin.engine.jit import CUDASIM, engine_cache
from twin.engine.kernels import lane_view

THREADS_PER_BLOCK = 128


def init_kernel(f, n, u, pf, pn, c):
    ln = cuda.grid(1)
    if ln < f.shape[0]:
        lane.init(lane_view(f, n, u, pf, pn, c, ln))


def advance_kernel(f, n, u, pf, pn, c, until):
    ln = cuda.grid(1)
    if ln < f.shape[0]:
        lane.advance(lane_view(f, n, u, pf, pn, c, ln), until)


@functools.cache
def kernels():
    """The CUDA kernels (compiled, or loaded from the disk cache, on first use)."""
    from numba.cuda.core import config

    jit = cuda.jit(cache=not CUDASIM)
    with engine_cache(config):
        return jit(init_kernel), jit(advance_kernel)


def launch(kernel, lanes: int, *args) -> None:
    """Run a CUDA kernel with one thread per lane."""
    blocks = (lanes + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    kernel[blocks, THREADS_PER_BLOCK](*args)


def compile_for(init, advance, args: tuple) -> None:
    """Compile both kernels (or load them from the cache) for these arguments, without
    running them."""
    types = tuple(init.typeof_pyval(a) for a in args)
    init.compile(types)
    advance.compile(types + (advance.typeof_pyval(0.0),))
