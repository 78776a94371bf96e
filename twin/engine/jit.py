"""One source, two targets: the decorator of every function a lane runs.

The per-lane code is plain Python over scalars and arrays. Numba compiles it for the CPU
(called from a ``prange`` over lanes) and numba-cuda compiles the very same functions as device
functions when a CUDA kernel calls them. Under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) kernels run as plain Python, and a simulated kernel cannot call a
CPU-compiled function, so there the decorator leaves the function as it is.

No fast-math: idle clocks are infinite, and results must not depend on the target.

The compiled code is cached on disk, in a folder named after a hash of the engine's sources
(:func:`cache_dir`). Numba checks only the file of a cached function itself: the kernels'
machine code, with every lane function inlined into it, would otherwise be loaded unchanged
after an edit to ``flow.py`` or ``layout.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import numba
from numba.core import types

CUDASIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"
SOURCES = Path(__file__).resolve().parent  # every module of the engine


def engine_stamp(folder: Path = SOURCES) -> str:
    """A hash of the engine's source files (their names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_dir() -> str:
    """Where the engine's machine code is cached: ``engine-<hash of its sources>`` under
    ``NUMBA_CACHE_DIR`` when set, else under the user's cache folder (``~/.cache/twin``), else
    under the temporary folder."""
    user = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "twin")
    folder = "engine-" + engine_stamp()
    fallback = os.path.join(tempfile.gettempdir(), "twin-" + os.environ.get("USER", "user"))
    for base in (user, fallback):
        try:
            os.makedirs(os.path.join(base, folder), exist_ok=True)
            return os.path.join(base, folder)
        except OSError:
            continue
    return os.path.join(user, folder)


CACHE_DIR = cache_dir()


@contextlib.contextmanager
def engine_cache(config=numba.core.config):
    """Functions decorated inside this block cache their code in :data:`CACHE_DIR`
    (``config`` is Numba's configuration module, or numba-cuda's for CUDA kernels)."""
    saved = config.CACHE_DIR
    config.CACHE_DIR = CACHE_DIR
    try:
        yield
    finally:
        config.CACHE_DIR = saved

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
    with engine_cache():
        dispatcher = numba.njit(**{**LANE_OPTIONS, "forceinline": inline})(fn)
    typed = dispatcher.get_call_template

    def get_call_template(args, kws):
        return typed(tuple(types.unliteral(a) for a in args),
                     {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher



def lane_outline(fn):
    """A lane function that its callers call rather than inline: for the larger functions
    that only some plants reach (assemblies), which would otherwise be copied into every
    caller of their callers and multiply the kernels' compile time."""
    return lane_function(fn, inline=False)


def lane_entry(fn):
    """A lane's entry point (``init``, ``advance``): a lane function that the kernels call
    rather than inline, once per lane and call, which keeps the kernels small to compile."""
    return lane_function(fn, inline=False)
