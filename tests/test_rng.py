"""The counter-based generator and the inverse-CDF samplers, as the engine compiles them,
against their definition and SciPy."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import special, stats

from twin.compile.plant import dist_code, gamma_log_quantiles
from twin.config import Distribution
from twin.engine import codes, rng

MASK = (1 << 64) - 1


@numba.njit
def draws(rep_key, stream, n):
    """Draws 0 .. n-1 of one stream of one lane, through the engine's own functions."""
    key = rng.stream_key(rep_key, stream)
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.uniform(key, np.uint64(i))
    return out


@numba.njit
def variates(kind, par, tables, row, u):
    out = np.empty(u.size)
    for i in range(u.size):
        out[i] = rng.variate(kind, par, 0, tables, row, u[i])
    return out


@numba.njit
def normal_quantiles(p):
    out = np.empty(p.size)
    for i in range(p.size):
        out[i] = rng.ndtri(p[i])
    return out


def uniforms(n: int, stream: int = 0, replication: int = 0, seed: int = 1) -> np.ndarray:
    return draws(rng.replication_keys(seed, np.array([replication]))[0], stream, n)


def mix64(z: int) -> int:
    """SplitMix64's output function on Python integers: the definition, written apart."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def test_uniforms_follow_their_definition():
    """uniform n of stream s in replication r = top 53 bits of mix64(key + n * golden), where
    key = mix64(rep ^ mix64(s * golden + mix1)), rep = mix64(base ^ (r * mix1 + golden)),
    base = mix64(seed * golden + mix2) (docs/semantics.md, "Random numbers")."""
    golden, mix1, mix2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
    seed, r, s = 7, 3, 5
    base = mix64((seed * golden + mix2) & MASK)
    rep = mix64(base ^ ((r * mix1 + golden) & MASK))
    key = mix64(rep ^ mix64((s * golden + mix1) & MASK))
    want = [((mix64((key + n * golden) & MASK) >> 11) + 0.5) * 2.0**-53 for n in range(100)]
    np.testing.assert_array_equal(uniforms(100, stream=s, replication=r, seed=seed), want)


def test_uniforms_are_uniform_and_in_the_open_interval():
    u = uniforms(200_000)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive draws are uncorrelated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_streams_are_keyed_and_distinct():
    a, b = uniforms(1000, stream=0), uniforms(1000, stream=1)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, uniforms(1000, stream=0))  # same key, same numbers
    assert not np.array_equal(a, uniforms(1000, stream=0, replication=1))
    assert not np.array_equal(a, uniforms(1000, stream=0, seed=2))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1


def test_normal_quantile_matches_scipy():
    p = np.concatenate([np.linspace(1e-16, 1 - 1e-16, 100_001), np.logspace(-17, -1, 2000),
                        1 - np.logspace(-16, -1, 2000)])
    got, want = normal_quantiles(p), special.ndtri(p)
    np.testing.assert_allclose(got, want, rtol=5e-15, atol=1e-300)


@pytest.mark.parametrize("mean, cv", [(1.0, 0.2), (2.5, 1.0), (0.5, 2.0)])
def test_gamma_table_matches_scipy_quantiles(mean, cv):
    table = np.asarray(gamma_log_quantiles(mean, cv))
    u = np.linspace(1e-6, 1 - 1e-6, 20_001)
    got = variates(codes.GAMMA, np.zeros(codes.N_DIST_PARAMS), table, 0, u)
    want = stats.gamma.ppf(u, 1 / cv**2, scale=mean * cv**2)
    np.testing.assert_allclose(got, want, rtol=3e-6)


def test_every_kind_has_the_right_mean_and_variance():
    """Each config distribution, compiled as a plant's is, samples its law's mean and variance."""
    u = uniforms(400_000)
    n = u.size

    def draw(spec: dict) -> np.ndarray:
        tables: list[list[float]] = []
        kind, par, row = dist_code(TypeAdapter(Distribution).validate_python(spec), tables)
        flat = np.concatenate(tables) if tables else np.zeros(1)
        return variates(kind, np.array(par, dtype=np.float64), flat, 0, u)

    a, c, b = 1.0, 2.0, 4.0
    cases = {
        "exponential": ({"mean": "2h"}, 2.0, 4.0),
        "uniform": ({"low": "1h", "high": "3h"}, 2.0, 4 / 12),
        "triangular": ({"low": "1h", "mode": "2h", "high": "4h"}, (a + b + c) / 3,
                       (a * a + b * b + c * c - a * b - a * c - b * c) / 18),
        "lognormal": ({"mean": "3h", "cv": 0.5}, 3.0, (3.0 * 0.5) ** 2),
        "gamma": ({"mean": "2h", "cv": 0.7}, 2.0, (2.0 * 0.7) ** 2),
        "empirical": ({"values": ["1h", "2h", "2h", "7h"]}, 3.0, np.var([1.0, 2.0, 2.0, 7.0])),
    }
    for name, (spec, mean, var) in cases.items():
        x = draw({"dist": name, **spec})
        se = np.sqrt(var / n)
        assert abs(x.mean() - mean) < 5 * se, name
        assert x.var() == pytest.approx(var, rel=0.03), name
    assert np.all(draw({"dist": "deterministic", "value": "1.25h"}) == 1.25)
