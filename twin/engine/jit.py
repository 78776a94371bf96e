"""One source, two targets: the decorator of every function a lane runs.

The per-lane code is plain Python over scalars and arrays. Numba compiles it for the CPU
(called from a ``prange`` over lanes) and numba-cuda compiles the very same functions as device
functions when a CUDA kernel calls them. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) kernels run as plain Python, and a simulated kernel cannot call a
CPU-compiled function, so there the decorator leaves the function as it is.

No fast-math: idle clocks are infinite, and results must not depend on the target.
"""

from __future__ import annotations

import os

import numba
from numba.core import types

CUDASIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"

# How every lane function is compiled for the CPU:
# - inlined into its caller (LLVM's alwaysinline): a lane function receives the packed arrays
#   of twin.engine.layout.Lane, about a hundred words, which a call would copy every time;
# - no reference counting (the lane code never allocates) and no wrapper for calls from
#   Python: both only add code and compile time;
# - NumPy's error model (x / 0 is inf, as on the GPU).
LANE_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy", "forceinline": True,
                "_nrt": False, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


def lane_function(fn, inline: bool = True):
    """Compile ``fn`` for the CPU, callable from other lane functions and from CUDA kernels
    (plain Python under the CUDA simulator). Compiled code is cached on disk. Called from
    Python, such a function needs a compiled caller (it has no wrapper of its own).

    A call with a constant argument (``set_status(x, m, j, BUSY, ...)``) would make Numba
    compile a version of the function for that very value; every call is typed with plain
    types instead, so that each function is compiled once.
    """
    if CUDASIM:
        return fn
    dispatcher = numba.njit(**{**LANE_OPTIONS, "forceinline": inline})(fn)
    typed = dispatcher.get_call_template

    def get_call_template(args, kws):
        return typed(tuple(types.unliteral(a) for a in args),
                     {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher



def lane_entry(fn):
    """A lane's entry point (``init``, ``advance``): a lane function that the kernels call
    rather than inline, once per lane and call, which keeps the kernels small to compile."""
    return lane_function(fn, inline=False)
