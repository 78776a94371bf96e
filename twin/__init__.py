"""twin: a digital twin of AI-supercomputer rack assembly and test plants.

>>> import twin
>>> plant = twin.load("configs/houston.yaml")
>>> result = twin.simulate(plant, replications=256, seed=1, backend="auto")
>>> result.summary()["throughput_per_h"]["mean"]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from twin.config import Plant, load_plant
from twin.errors import ConfigError, TwinError
from twin.run.simulate import Result, SimulationError, simulate

__all__ = ["ConfigError", "Plant", "Result", "SimulationError", "TwinError", "load", "simulate"]


def load(path) -> Plant:
    """Read and validate a plant YAML file; raises :class:`ConfigError` on any problem."""
    return load_plant(path)
