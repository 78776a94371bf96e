"""Plant configuration: the v1 YAML contract (see docs/config.md) as pydantic models.

Entry points
------------
load_plant(path) -> Plant
    Read a YAML file, validate it, raise `ConfigError` listing every problem found, each with
    the file, line, field path and a fix.
plant_from_dict(data, source) -> Plant
    The same validation for an already-parsed mapping (no line numbers).
json_schema() -> dict
    JSON Schema of the YAML file, for editors.
config_reference_markdown() -> str
    The field reference of docs/config.md, generated from the schema so the doc cannot drift.

Units are resolved here and nowhere else: every time field is stored in hours (float), parsed
from strings such as ``'45min'``. Dumping a model writes times back as exact hour strings
(``'0.75h'``), so ``Plant.model_validate(plant.model_dump())`` reproduces the plant.
"""

from twin.config.loading import load_plant, plant_from_dict, plant_from_text
from twin.config.models import (
    EXIT,
    PROBABILITY_TOLERANCE,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Failures,
    Gamma,
    Lognormal,
    Plant,
    Route,
    Source,
    Station,
    Triangular,
    Uniform,
)
from twin.config.reference import config_reference_markdown, json_schema
from twin.errors import ConfigError

__all__ = [
    "EXIT",
    "PROBABILITY_TOLERANCE",
    "ConfigError",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Failures",
    "Gamma",
    "Lognormal",
    "Plant",
    "Route",
    "Source",
    "Station",
    "Triangular",
    "Uniform",
    "config_reference_markdown",
    "json_schema",
    "load_plant",
    "plant_from_dict",
    "plant_from_text",
]
