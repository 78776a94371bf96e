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

Products, parts and assembly (docs/parts.md): `Plant.product_ids`, `product_shares`, `kinds`,
`routes(j, kind, product)`, `successors`, `reaching` and `kind_weights`; per station
`process_for`, `failures_for` and `power_for` a product, `places_for` and `emits` a kind. The
flow of kinds and its checks are `twin.config.parts`.

Units are resolved here and nowhere else: every time field is stored in hours (float), parsed
from strings such as ``'45min'``. Dumping a model writes times back as exact hour strings
(``'0.75h'``), so ``Plant.model_validate(plant.model_dump())`` reproduces the plant.
"""

from twin.config.loading import load_plant, plant_from_dict, plant_from_text
from twin.config.models import (
    ALL_PRODUCTS,
    EXIT,
    ORDER,
    PROBABILITY_TOLERANCE,
    SHARE_TOLERANCE,
    BusyByProduct,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Failures,
    FailuresByProduct,
    Gamma,
    Lognormal,
    NextByPart,
    NextByProduct,
    Plant,
    ProcessByProduct,
    Route,
    Source,
    Station,
    StationPower,
    Triangular,
    Uniform,
)
from twin.config.reference import config_reference_markdown, json_schema
from twin.errors import ConfigError

__all__ = [
    "ALL_PRODUCTS",
    "EXIT",
    "ORDER",
    "PROBABILITY_TOLERANCE",
    "SHARE_TOLERANCE",
    "BusyByProduct",
    "ConfigError",
    "Deterministic",
    "Distribution",
    "Empirical",
    "Exponential",
    "Failures",
    "FailuresByProduct",
    "Gamma",
    "Lognormal",
    "NextByPart",
    "NextByProduct",
    "Plant",
    "ProcessByProduct",
    "Route",
    "Source",
    "Station",
    "StationPower",
    "Triangular",
    "Uniform",
    "config_reference_markdown",
    "json_schema",
    "load_plant",
    "plant_from_dict",
    "plant_from_text",
]
