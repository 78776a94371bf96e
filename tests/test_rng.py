"""The counter-based generator and the inverse-CDF samplers, against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import special, stats

from twin._backend import get_backend, to_numpy
from twin.compile.plant import dist_code, gamma_log_quantiles
from twin.config import Distribution
from twin.engine import rng
from twin.errors import TwinError


def uniforms(xp, n: int, stream: int = 0, replication: int = 0, seed: int = 1):
    keys = rng.stream_keys(xp, seed, xp.asarray([replication]), stream + 1)[0, stream]
    return rng.uniforms(xp, xp.full(n, keys, dtype=xp.uint64), xp.arange(n, dtype=xp.uint64))


def test_uniforms_are_uniform_and_in_the_open_interval():
    u = uniforms(np, 200_000)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive draws are uncorrelated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_streams_are_keyed_and_distinct():
    a, b = uniforms(np, 1000, stream=0), uniforms(np, 1000, stream=1)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, uniforms(np, 1000, stream=0))  # same key, same numbers
    assert not np.array_equal(a, uniforms(np, 1000, stream=0, replication=1))
    assert not np.array_equal(a, uniforms(np, 1000, stream=0, seed=2))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1


def test_numpy_and_cupy_streams_are_identical():
    try:
        cp = get_backend("cupy").xp
    except TwinError:
        pytest.skip("no usable GPU: CuPy tests run on a machine with one")
    np.testing.assert_array_equal(to_numpy(uniforms(cp, 10_000)), uniforms(np, 10_000))


@pytest.mark.parametrize("mean, cv", [(1.0, 0.2), (2.5, 1.0), (0.5, 2.0)])
def test_gamma_table_matches_scipy_quantiles(mean, cv):
    table = np.asarray(gamma_log_quantiles(mean, cv))[None, :]
    u = np.linspace(1e-6, 1 - 1e-6, 20_001)
    par = [np.zeros_like(u)] * rng.N_DIST_PARAMS
    got = rng.sample(np, special.ndtri, (rng.GAMMA,), None, par, np.zeros(u.size, dtype=np.int64),
                     table, u)
    want = stats.gamma.ppf(u, 1 / cv**2, scale=mean * cv**2)
    np.testing.assert_allclose(got, want, rtol=3e-6)


def test_every_kind_has_the_right_mean_and_variance():
    """Each config distribution, compiled as a plant's is, samples its law's mean and variance."""
    u = uniforms(np, 400_000)
    n = u.size

    def draw(spec: dict) -> np.ndarray:
        tables: list[list[float]] = []
        kind, par, row = dist_code(TypeAdapter(Distribution).validate_python(spec), tables)
        return rng.sample(np, special.ndtri, (kind,), None, [np.full(n, v) for v in par],
                          np.full(n, row), np.array(tables) if tables else np.zeros((1, 1)), u)

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
