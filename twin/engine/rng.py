"""Counter-based random numbers and inverse-CDF sampling, written once against ``xp``.

A uniform is a pure function of ``(seed, replication, stream, counter)``: the key of a stream is
a hash of the seed, the replication index and the stream id, and its ``n``-th draw is the
SplitMix64 output function applied to ``key + n * golden``. There is no generator state beyond
one counter per (lane, stream), so NumPy and CuPy produce bit-identical streams, and replication
``r`` of every scenario in a batch sees the same numbers (common random numbers).

Every variate costs exactly one uniform (inverse-CDF sampling), so the ``n``-th service time at
a station is the same number whichever scenario or server count it runs in.
"""

from __future__ import annotations

from typing import Any

Array = Any  # an xp array

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TWO_POW_M53 = 2.0**-53

# Distribution kinds, in the order of the codes stored in the compiled parameters.
DETERMINISTIC, EXPONENTIAL, UNIFORM, TRIANGULAR, LOGNORMAL, GAMMA, EMPIRICAL = range(7)
N_DIST_PARAMS = 5  # width of the per-station parameter vector (triangular needs all five)

# Grid of the gamma quantile tables: log-quantiles tabulated on normal scores z.
GAMMA_Z_MIN, GAMMA_Z_MAX, GAMMA_GRID = -8.0, 8.0, 8193


def mix64(xp, z: Array) -> Array:
    """SplitMix64's output function: a bijective 64-bit mixer (uint64 in, uint64 out)."""
    z = (z ^ (z >> xp.uint64(30))) * xp.uint64(MIX1)
    z = (z ^ (z >> xp.uint64(27))) * xp.uint64(MIX2)
    return z ^ (z >> xp.uint64(31))


def stream_keys(xp, seed: int, replication: Array, n_streams: int) -> Array:
    """Keys of every stream of every lane.

    Parameters
    ----------
    seed : int
        The run's seed (>= 0).
    replication : (L,) integer array
        Replication index of each lane; lanes of different scenarios with the same index share
        their keys, which is what makes random numbers common across scenarios.
    n_streams : int
        Streams per lane.

    Returns
    -------
    (L, n_streams) uint64 array
    """
    base = mix64(xp, xp.asarray([seed], dtype=xp.uint64) * xp.uint64(GOLDEN) + xp.uint64(MIX2))
    rep = mix64(xp, base ^ (replication.astype(xp.uint64) * xp.uint64(MIX1) + xp.uint64(GOLDEN)))
    stream = mix64(xp, xp.arange(n_streams, dtype=xp.uint64) * xp.uint64(GOLDEN) + xp.uint64(MIX1))
    return mix64(xp, rep[:, None] ^ stream[None, :])


def uniforms(xp, keys: Array, counters: Array) -> Array:
    """Uniforms in the open interval (0, 1) for the given keys and draw counters.

    ``keys`` and ``counters`` are uint64 arrays of one shape; the result has that shape.
    """
    z = mix64(xp, keys + counters * xp.uint64(GOLDEN))
    return ((z >> xp.uint64(11)).astype(xp.float64) + 0.5) * TWO_POW_M53


def params_needed(kinds_present: tuple[int, ...]) -> int:
    """How many leading parameter columns the present kinds read."""
    width = {DETERMINISTIC: 1, EXPONENTIAL: 1, UNIFORM: 2, TRIANGULAR: 5, LOGNORMAL: 2,
             GAMMA: 0, EMPIRICAL: 1}
    return max(width[k] for k in kinds_present)


def uses_tables(kinds_present: tuple[int, ...]) -> bool:
    return GAMMA in kinds_present or EMPIRICAL in kinds_present


def sample(xp, ndtri, kinds_present: tuple[int, ...], kind: Array | None, par: list,
           row: Array | None, tables: Array, u: Array) -> Array:
    """Inverse-CDF variates, one per uniform.

    Parameters
    ----------
    ndtri : callable
        The standard normal quantile function for ``xp`` arrays (SciPy's or CuPy's).
    kinds_present : tuple of int
        The distribution kinds that occur in the batch; only their formulas are evaluated
        (a static choice, not a branch on lane data).
    kind : integer array, shape S, or None when only one kind is present
        Distribution kind of each variate.
    par : list of N_DIST_PARAMS float arrays of shape S (None past ``params_needed``)
        Compiled parameters (see :class:`twin.compile.Params` for their meaning per kind).
    row : integer array, shape S, or None when no kind uses tables
        Row of ``tables`` used by gamma and empirical variates.
    tables : (T, G) float array
        Gamma log-quantile tables on the normal-score grid, and sorted empirical values.
    u : float array, shape S
        Uniforms in (0, 1).
    """
    out = None
    z = ndtri(u) if LOGNORMAL in kinds_present or GAMMA in kinds_present else None
    for k in kinds_present:
        if k == DETERMINISTIC:
            x = par[0]
        elif k == EXPONENTIAL:
            x = -par[0] * xp.log1p(-u)
        elif k == UNIFORM:
            x = par[0] + par[1] * u
        elif k == TRIANGULAR:
            x = xp.where(u < par[2], par[0] + xp.sqrt(u * par[3]),
                         par[1] - xp.sqrt((1.0 - u) * par[4]))
        elif k == LOGNORMAL:
            x = xp.exp(par[0] + par[1] * z)
        elif k == GAMMA:
            step = (GAMMA_Z_MAX - GAMMA_Z_MIN) / (GAMMA_GRID - 1)
            pos = (xp.clip(z, GAMMA_Z_MIN, GAMMA_Z_MAX) - GAMMA_Z_MIN) / step
            i = xp.minimum(pos.astype(xp.int64), GAMMA_GRID - 2)
            frac = pos - i
            lo, hi = tables[row, i], tables[row, i + 1]
            x = xp.exp(lo + frac * (hi - lo))
        else:  # EMPIRICAL
            i = xp.minimum((u * par[0]).astype(xp.int64), par[0].astype(xp.int64) - 1)
            x = tables[row, i]
        out = x if out is None else xp.where(kind == k, x, out)
    return out
