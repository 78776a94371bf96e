"""The JSON Schema of plant files and the field reference of docs/config.md built from it."""

from typing import Any

from twin.config.fields import CountStep
from twin.config.layout import AisleGrid, Bays, Layout
from twin.config.logistics import Battery, Fleet, Pool, Shift
from twin.config.models import (
    DIST_NAMES,
    DISTRIBUTIONS,
    BusyByProduct,
    CapStep,
    Cooling,
    EnergyPrices,
    Failures,
    FailuresByProduct,
    Learning,
    LearningByProduct,
    NextByPart,
    NextByProduct,
    PlanStep,
    Plant,
    PlantPower,
    PriceBand,
    ProcessByProduct,
    ProfileStep,
    PStep,
    Report,
    Route,
    Source,
    Station,
    StationPower,
    Target,
    Tariff,
    TariffStep,
)
from twin.config.tuning import Constraint, Costs, Objective, Reevaluate, Region, Tune, Variable
from twin.units import DURATION_PATTERN, POWER_PATTERN

# --------------------------------------------------------------------------------------------
# Schema and reference documentation
# --------------------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the YAML config, for editors; JSON-serialisable."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Plant.model_json_schema()}


def config_reference_markdown() -> str:
    """The field reference of docs/config.md: one table per mapping, built from the schema."""
    schema = json_schema()
    definitions = schema["$defs"]
    parts = [_reference_section(schema, "### Plant (top level)")]
    parts += [
        _reference_section(definitions[model.__name__], f"### {model.__name__}")
        for model in (Source, PlanStep, Station, CountStep, Learning, LearningByProduct,
                      Failures, Route, PStep, ProcessByProduct, FailuresByProduct,
                      NextByPart, NextByProduct, StationPower, ProfileStep, BusyByProduct,
                      PlantPower, CapStep, Cooling, Tariff, TariffStep, EnergyPrices,
                      PriceBand, Report, Target, Layout, AisleGrid, Bays, Fleet, Battery, Pool,
                      Shift, Tune, Variable, Region, Objective, Constraint, Costs, Reevaluate)
    ]
    parts.append(
        "### Distributions\n\n"
        "A time distribution is a mapping whose `dist` key picks one of the forms below, or a "
        "plain duration such as `45min`, which means `{dist: deterministic, value: 45min}`."
    )
    parts += [
        _reference_section(definitions[model.__name__], f"#### `{name}`")
        for name, model in zip(DIST_NAMES, DISTRIBUTIONS, strict=True)
    ]
    return "\n\n".join(parts) + "\n"


def _reference_section(schema: dict[str, Any], heading: str) -> str:
    """A heading, the model's docstring and a table of its keys."""
    required = set(schema.get("required", ()))
    rows = [
        f"| `{key}` | {_type_text(prop)} | {_default_text(key, prop, required)} | "
        f"{prop.get('description', '')} |"
        for key, prop in schema["properties"].items()
    ]
    header = "| Key | Type | Default | Meaning |\n| --- | --- | --- | --- |"
    return "\n\n".join([heading, schema["description"], header + "\n" + "\n".join(rows)])


def _default_text(key: str, prop: dict[str, Any], required: set[str]) -> str:
    if key in required:
        return "required"
    default = prop.get("default")
    return "optional" if default is None else f"`{default}`"


def _type_text(prop: dict[str, Any]) -> str:
    """A short human description of a property's JSON Schema."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "discriminator" in prop:
        return "[distribution](#distributions)"
    if prop.get("anyOf") and any(v.get("pattern") == POWER_PATTERN for v in prop["anyOf"]):
        return "power"
    variants = prop.get("anyOf") or prop.get("oneOf")
    if variants:
        return " or ".join(_type_text(variant) for variant in variants)
    if prop.get("pattern") == DURATION_PATTERN:
        return "duration"
    if prop.get("pattern") == POWER_PATTERN:
        return "power"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "type" not in prop:
        return "any value"
    if prop["type"] == "array":
        return f"list of {_type_text(prop['items'])}"
    if prop["type"] == "object" and "additionalProperties" in prop:
        return f"mapping to {_type_text(prop['additionalProperties'])}"
    if prop["type"] == "object" and "patternProperties" in prop:
        (value,) = prop["patternProperties"].values()
        return f"mapping of ids to {_type_text(value)}"
    if "enum" in prop:
        return " or ".join(f"`{value}`" for value in prop["enum"])
    bounds = [
        f"{symbol} {prop[key]}"
        for key, symbol in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="))
        if key in prop
    ]
    pattern = [f"matching `{prop['pattern']}`"] if "pattern" in prop else []
    return " ".join([prop["type"], ", ".join(bounds + pattern)]).strip()
