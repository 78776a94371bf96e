"""The one module that imports an array library: NumPy always, CuPy lazily.

A backend names where the engine runs and what owns its arrays:

``numpy``     the CPU: NumPy arrays, the engine compiled by Numba, every core;
``cupy``      an NVIDIA GPU: CuPy arrays, the engine compiled by numba-cuda, a thread per lane;
``cuda-sim``  the GPU's kernels under Numba's CUDA simulator, on NumPy arrays: the GPU build
              tested on machines without a GPU (``NUMBA_ENABLE_CUDASIM=1``, tests only).

Reports and the viewer only ever see NumPy arrays, through :func:`to_numpy`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy

from twin.errors import TwinError

BACKENDS = ("auto", "numpy", "cupy")  # what --backend offers; "cuda-sim" is for tests
SIMULATOR = "cuda-sim"


@dataclass(frozen=True)
class Backend:
    """An array namespace and what is known about the device behind it.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"cupy"`` or ``"cuda-sim"``.
    xp : module
        The array namespace of the engine's arrays.
    """

    name: str
    xp: Any

    @property
    def gpu(self) -> bool:
        """Whether the engine runs as CUDA kernels (on a GPU or its simulator)."""
        return self.name != "numpy"

    @property
    def order(self) -> str:
        """Memory order of the lane state: each lane's values together on the CPU ("C"),
        consecutive lanes adjacent for the GPU's threads ("F")."""
        return "F" if self.gpu else "C"

    def free_bytes(self) -> int:
        """Memory the engine may plan to use on this backend, in bytes."""
        if self.name == "cupy":
            free, _total = self.xp.cuda.Device().mem_info
            pool = self.xp.get_default_memory_pool()
            return int(free + pool.free_bytes())
        return _available_host_bytes()


def _available_host_bytes() -> int:
    """Available physical memory of this machine, from /proc/meminfo or sysconf."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def _cupy_or_none() -> Any | None:
    """Import CuPy and check it can reach a GPU; ``None`` when either fails."""
    try:
        import cupy
    except Exception:  # noqa: BLE001 - ImportError, or a broken CUDA installation at import
        return None
    try:
        return cupy if cupy.is_available() else None
    except Exception:  # noqa: BLE001 - a driver error means no usable GPU, said by the caller
        return None


def get_backend(name: str = "auto") -> Backend:
    """Resolve a backend name.

    ``auto`` picks CuPy when ``cupy.is_available()`` and NumPy otherwise, silently. ``cupy``
    without a usable GPU raises :class:`TwinError` (exit status 2 in the CLI), and so does
    ``cuda-sim`` in a process started without ``NUMBA_ENABLE_CUDASIM=1``.
    """
    if name == SIMULATOR:
        if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "1":
            raise TwinError("--backend cuda-sim: the CUDA simulator needs NUMBA_ENABLE_CUDASIM=1 "
                            "in the environment before twin starts (it is for tests)")
        return Backend(SIMULATOR, numpy)
    if name not in BACKENDS:
        raise TwinError(f"--backend: unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return Backend("numpy", numpy)
    cupy = _cupy_or_none()
    if cupy is not None:
        return Backend("cupy", cupy)
    if name == "cupy":
        raise TwinError(
            "--backend cupy: no usable GPU here (CuPy is not installed or sees no CUDA device); "
            "install the 'gpu' extra on a machine with an NVIDIA GPU, or use --backend numpy"
        )
    return Backend("numpy", numpy)


def to_numpy(array: Any) -> numpy.ndarray:
    """Return ``array`` as a NumPy array, copying from the device when needed."""
    if isinstance(array, numpy.ndarray):
        return array
    get = getattr(array, "get", None)
    return get() if callable(get) else numpy.asarray(array)

