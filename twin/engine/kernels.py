"""The compiled entry points on the CPU: every lane of a batch at once, a ``prange`` over
lanes on every core (the GPU's are in :mod:`twin.engine.gpu`).

Each takes the packed arrays of :mod:`twin.engine.layout` (``f, n, u, pf, pn``) and the
run's :class:`~twin.engine.layout.Consts`, and hands every lane its rows as a
:class:`~twin.engine.layout.Lane`.
"""

from __future__ import annotations

import numba

from twin.engine import lane
from twin.engine.jit import CUDASIM, engine_cache, lane_function
from twin.engine.layout import SCENARIO, Lane


@lane_function
def lane_view(f, n, u, pf, pn, c, ln):
    """Lane ``ln``'s rows of the state and its scenario's rows of the parameters."""
    sc = n[ln, pn[0, SCENARIO]]
    return Lane(f[ln], n[ln], u[ln], pf[sc], pn[sc], c)


def _init_all(f, n, u, pf, pn, c):
    for ln in numba.prange(f.shape[0]):
        lane.init(lane_view(f, n, u, pf, pn, c, ln))


def _advance_all(f, n, u, pf, pn, c, until):
    for ln in numba.prange(f.shape[0]):
        lane.advance(lane_view(f, n, u, pf, pn, c, ln), until)


if CUDASIM:  # lane functions are plain Python here: so is the CPU's loop over lanes
    init_cpu, advance_cpu = _init_all, _advance_all
else:
    _parallel = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    with engine_cache():
        init_cpu, advance_cpu = _parallel(_init_all), _parallel(_advance_all)
