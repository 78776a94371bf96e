"""The one module that imports an array library: NumPy always, CuPy lazily.

Everything under :mod:`twin.engine` receives the namespace ``xp`` from here and never imports
``numpy`` or ``cupy`` itself. Reports and the viewer only ever see NumPy arrays, through
:func:`to_numpy`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy

from twin.errors import TwinError

BACKENDS = ("auto", "numpy", "cupy")


@dataclass(frozen=True)
class Backend:
    """An array namespace and what is known about the device behind it.

    Attributes
    ----------
    name : str
        ``"numpy"`` or ``"cupy"``.
    xp : module
        The array namespace the engine is written against.
    """

    name: str
    xp: Any

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
    without a usable GPU raises :class:`TwinError` (exit status 2 in the CLI).
    """
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


def special_functions(xp: Any) -> Any:
    """SciPy's special functions for NumPy arrays, CuPy's for CuPy arrays (same names)."""
    if xp is numpy:
        from scipy import special

        return special
    from cupyx.scipy import special

    return special


def to_numpy(array: Any) -> numpy.ndarray:
    """Return ``array`` as a NumPy array, copying from the device when needed."""
    if isinstance(array, numpy.ndarray):
        return array
    get = getattr(array, "get", None)
    return get() if callable(get) else numpy.asarray(array)
