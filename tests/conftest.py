"""Shared fixtures: the array backends every engine test runs on, and the statistical seed."""

import os

import pytest

import twin
from twin.errors import TwinError


@pytest.fixture(params=["numpy", "cupy"])
def backend(request) -> str:
    """Name of an array backend to pass as ``simulate(..., backend=backend)``.

    The CuPy case skips (not fails) where ``twin._backend.get_backend("cupy")`` finds no usable
    GPU, so the suite passes on CPU-only machines and covers both backends where one exists.
    """
    if request.param == "cupy":
        try:
            twin._backend.get_backend("cupy")
        except TwinError:
            pytest.skip("no usable GPU: CuPy tests run on a machine with one")
    return request.param


@pytest.fixture(scope="session")
def stat_seed() -> int:
    """Seed of the statistical tests: fixed, so that a run is reproducible.

    ``TWIN_TEST_SEED=<n>`` overrides it, to check that the tolerances hold for other seeds
    too (a statistical test that passes only for its committed seed is a flaky test).
    """
    return int(os.environ.get("TWIN_TEST_SEED", "20240601"))
