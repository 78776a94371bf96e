"""Counter-based random numbers and inverse-CDF sampling, the same on every target.

A uniform is a pure function of ``(seed, replication, stream, counter)``: a lane's replication
key is a hash of the seed and its replication index, a stream's key mixes in the stream's own
hash, and its ``n``-th draw is SplitMix64's output function applied to
``key + n * golden``. There is no generator state beyond one counter per (lane, stream), so the
CPU and the GPU produce bit-identical streams, and replication ``r`` of every scenario in a
batch sees the same numbers (common random numbers).

Every variate costs exactly one uniform (inverse-CDF sampling), so the ``n``-th service time
at a station is the same number whichever scenario or server count it runs in. The normal
quantile is Wichura's algorithm AS 241 (PPND16), written here once for both targets (the GPU
has no SciPy).

Every constant and shift count is a ``uint64``: Numba turns uint64 mixed with a signed integer
into float64.
"""

from __future__ import annotations

import math

import numpy as np

from twin.engine.codes import (
    DETERMINISTIC,
    EMPIRICAL,
    EXPONENTIAL,
    GAMMA,
    GAMMA_GRID,
    GAMMA_Z_MAX,
    GAMMA_Z_MIN,
    LOGNORMAL,
    TRIANGULAR,
    UNIFORM,
)
from twin.engine.jit import lane_function

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
SHIFT11, SHIFT27, SHIFT30, SHIFT31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
ONE = np.uint64(1)
TWO_POW_M53 = 2.0**-53
GAMMA_STEP = (GAMMA_Z_MAX - GAMMA_Z_MIN) / (GAMMA_GRID - 1)


def _mix64_host(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> SHIFT30)) * MIX1
        z = (z ^ (z >> SHIFT27)) * MIX2
        return z ^ (z >> SHIFT31)


def replication_keys(seed: int, replication: np.ndarray) -> np.ndarray:
    """(L,) uint64 key of each lane from the run's seed and its replication index; lanes of
    different scenarios with the same index share their key (common random numbers)."""
    with np.errstate(over="ignore"):
        base = _mix64_host(np.asarray([seed], dtype=np.uint64) * GOLDEN + MIX2)
        rep = np.asarray(replication).astype(np.uint64) * MIX1 + GOLDEN
        return _mix64_host(base ^ rep)


@lane_function
def mix64(z):
    """SplitMix64's output function: a bijective 64-bit mixer (uint64 in, uint64 out)."""
    z = (z ^ (z >> SHIFT30)) * MIX1
    z = (z ^ (z >> SHIFT27)) * MIX2
    return z ^ (z >> SHIFT31)


@lane_function
def stream_key(rep_key, stream):
    """The key of stream ``stream`` of the lane with replication key ``rep_key``."""
    return mix64(rep_key ^ mix64(np.uint64(stream) * GOLDEN + MIX1))


@lane_function
def uniform(key, counter):
    """The uniform in (0, 1) of draw ``counter`` of the stream with key ``key``."""
    z = mix64(key + counter * GOLDEN)
    return (np.float64(z >> SHIFT11) + 0.5) * TWO_POW_M53


@lane_function
def ndtri(p):
    """Standard normal quantile of ``p`` in (0, 1): AS 241 (Wichura 1988), relative error
    about 1e-16."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r
                    + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r
                  + 1.3731693765509461125e4) * r + 1.9715909503065514427e3) * r
                + 1.3314166789178437745e2) * r + 3.3871328727963666080e0)
        den = (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r
                    + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r
                  + 5.3941960214247511077e3) * r + 6.8718700749205790830e2) * r
                + 4.2313330701600911252e1) * r + 1.0)
        return q * num / den
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                    + 2.41780725177450611770e-1) * r + 1.27045825245236838258e0) * r
                  + 3.64784832476320460504e0) * r + 5.76949722146069140550e0) * r
                + 4.63033784615654529590e0) * r + 1.42343711074968357734e0)
        den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                    + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
                  + 6.89767334985100004550e-1) * r + 1.67638483018380384940e0) * r
                + 2.05319162663775882187e0) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
                  + 2.96560571828504891230e-1) * r + 1.78482653991729133580e0) * r
                + 5.46378491116411436990e0) * r + 6.65790464350110377720e0)
        den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                    + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
                  + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
                + 5.99832206555887937690e-1) * r + 1.0)
    value = num / den
    return -value if q < 0.0 else value


@lane_function
def variate(kind, par, at, tables, row, u):
    """The inverse-CDF variate of uniform ``u`` for a distribution of kind ``kind`` whose
    compiled parameters are ``par[at : at + 5]`` (see :func:`twin.compile.plant.dist_code`);
    gamma and empirical laws read the table that starts at ``tables[row]``."""
    if kind == DETERMINISTIC:
        return par[at]
    if kind == EXPONENTIAL:
        return -par[at] * math.log1p(-u)
    if kind == UNIFORM:
        return par[at] + par[at + 1] * u
    if kind == TRIANGULAR:
        if u < par[at + 2]:
            return par[at] + math.sqrt(u * par[at + 3])
        return par[at + 1] - math.sqrt((1.0 - u) * par[at + 4])
    if kind == LOGNORMAL:
        return math.exp(par[at] + par[at + 1] * ndtri(u))
    if kind == GAMMA:
        z = min(max(ndtri(u), GAMMA_Z_MIN), GAMMA_Z_MAX)
        pos = (z - GAMMA_Z_MIN) / GAMMA_STEP
        i = min(int(pos), GAMMA_GRID - 2)
        lo = tables[row + i]
        return math.exp(lo + (pos - i) * (tables[row + i + 1] - lo))
    if kind == EMPIRICAL:
        n = int(par[at])
        return tables[row + min(int(u * par[at]), n - 1)]
    return math.nan
