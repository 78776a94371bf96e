"""The `tune:` section: decision variables (by path into the plant), objectives, constraints,
costs and the optimizer's settings. See docs/tuning.md.

A variable's path names a field of the plant as the YAML file writes it, list items by their
id: ``stations.burn_in.servers``, ``transport.agv.count``, ``resources.technicians.count``,
``power.cap``, ``stations.burn_in.position``, ``products.gb300`` (a product's share: the
others keep their proportions and the shares their sum of 1). Items of lists without ids, the
steps of a schedule among them, go by their 0-based index: ``stations.burn_in.servers.1.count``,
``stations.burn_in.servers.1.from``, ``source.plan.2.from``, ``power.cap.1.cap``. This module
checks the form of each entry and that its path leads to a field; which metrics an objective
may name is checked by `twin.tune`, which knows the results."""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator

from twin.config.fields import ConfigModel, Duration, Normalized
from twin.config.layout import Point
from twin.units import parse_duration, parse_power, unit_factor

if TYPE_CHECKING:
    from twin.config.models import Plant

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]

Number = int | float


def quantity(value: Any) -> tuple[float, str]:
    """A bound or limit as written: a plain number, or a duration or power with its unit.

    Returns the value in the internal unit (hours, kW) and the unit kind: ``""``, ``"h"`` or
    ``"kW"``. Raises ValueError for text that is neither."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a number")  # noqa: TRY004 - pydantic reports ValueError
    if not isinstance(value, str):
        return float(value), ""
    for parse, unit in ((parse_duration, "h"), (parse_power, "kW")):
        try:
            return parse(value), unit
        except (ValueError, TypeError):
            continue
    raise ValueError(f"{value!r} is neither a number, a duration such as '2h' nor a power such "
                     "as '30MW'")


class Region(ConfigModel):
    """A rectangle of the floor where a station's centre may stand."""

    x: list[float] = Field(min_length=2, max_length=2, description="[x0, x1] in metres.")
    y: list[float] = Field(min_length=2, max_length=2, description="[y0, y1] in metres.")


class Variable(ConfigModel):
    """One decision variable, in one of four forms: a range `{min, max}` (whole numbers: an
    integer variable; numbers with a fraction or units such as `20MW`: a continuous one), a
    list of `choices`, a floor `region` with a grid `step` (positions), or candidate
    `places` (positions)."""

    min: Number | str | None = Field(None, description="Lowest value (range form).")
    max: Number | str | None = Field(None, description="Highest value (range form).")
    step: Number | str | None = Field(None, description="Range: spacing of the values tried, "
                                      "a number in the unit of `min` or with its own unit "
                                      "(`1w`); region: grid spacing in metres (needed).")
    log: bool = Field(False, description="Range: sample on a log scale.")
    choices: list[Any] | None = Field(None, min_length=1, description="Values to choose from, "
                                      "each as the plant file would write it.")
    region: Region | None = Field(None, description="Positions: a rectangle `{x: [x0, x1], y: "
                                  "[y0, y1]}` for the station's centre.")
    places: list[Point] | None = Field(None, min_length=1, description="Positions: candidate "
                                       "centres `[[x, y], ...]`; stations that take the same "
                                       "place overlap and are rejected.")

    @model_validator(mode="after")
    def _check_form(self) -> "Variable":
        forms = [name for name, given in (
            ("min/max", self.min is not None or self.max is not None),
            ("choices", self.choices is not None), ("region", self.region is not None),
            ("places", self.places is not None)) if given]
        if len(forms) != 1:
            said = " and ".join(forms) if forms else "none of them"
            raise ValueError(f"give exactly one of `min`/`max`, `choices`, `region` or `places` "
                             f"(found {said})")
        if self.step is not None and quantity(self.step)[0] <= 0:
            raise ValueError(f"`step` {self.step!r} must be greater than 0")
        if forms[0] == "min/max":
            self._check_range()
        if self.region is not None:
            if self.step is None or isinstance(self.step, str):
                raise ValueError("a region needs `step`, the grid spacing in metres (a number)")
            for axis in ("x", "y"):
                low, high = getattr(self.region, axis)
                if low > high:
                    raise ValueError(f"region.{axis} [{low:g}, {high:g}] is empty; write the "
                                     "lower bound first")
        return self

    def _check_range(self) -> None:
        if self.min is None or self.max is None:
            raise ValueError("a range needs both `min` and `max`")
        (low, unit_low), (high, unit_high) = quantity(self.min), quantity(self.max)
        if unit_low != unit_high:
            raise ValueError(f"`min` {self.min!r} and `max` {self.max!r} are not in the same "
                             "kind of unit; write both as numbers, durations or powers")
        if low > high:
            raise ValueError(f"the range [{self.min}, {self.max}] is empty; `min` must not be "
                             "above `max`")
        if self.log and low <= 0:
            raise ValueError("a log-scale range needs `min` above 0")
        if isinstance(self.step, str) and quantity(self.step)[1] != unit_low:
            kind = {"": "plain numbers", "h": "durations", "kW": "powers"}[unit_low]
            raise ValueError(f"`step` {self.step!r} is not in the kind of unit of the range "
                             f"({kind}); write it like `min`, or as a plain number in the unit "
                             "of `min`")
        if self.is_integer and self.step is not None and self.step != int(self.step):
            raise ValueError("an integer range needs a whole `step`")

    def span(self) -> tuple[float, float, float | None]:
        """A range's (low, high, step) in the internal unit (hours, kW); a plain-number `step`
        of a range with units is in the unit of `min` (0.5 with `30MW` is 0.5 MW)."""
        (low, unit), (high, _) = quantity(self.min), quantity(self.max)
        step = self.step
        if isinstance(step, str):
            step = quantity(step)[0]
        elif unit and step is not None:
            step = step * unit_factor(self.min)
        return low, high, step

    @property
    def is_integer(self) -> bool:
        """A range of whole numbers (both bounds written without a fraction or a unit)."""
        return all(isinstance(v, int) and not isinstance(v, bool) for v in (self.min, self.max))


class Objective(ConfigModel):
    """What to optimize: `{maximize: METRIC}` or `{minimize: METRIC}`."""

    maximize: str | None = Field(None, description="A metric to make as large as possible.")
    minimize: str | None = Field(None, description="A metric to make as small as possible.")

    @model_validator(mode="after")
    def _check_one(self) -> "Objective":
        if (self.maximize is None) == (self.minimize is None):
            raise ValueError("write exactly one of `maximize: METRIC` or `minimize: METRIC`")
        return self

    @property
    def metric(self) -> str:
        return self.maximize if self.maximize is not None else self.minimize

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize is not None else "minimize"


class Constraint(ConfigModel):
    """A bound a candidate must meet, on the mean of a metric over its replications."""

    metric: str = Field(description="A metric, as for objectives.")
    min: Number | str | None = Field(None, description="Lowest allowed value (a number, or a "
                                     "duration or power with its unit).")
    max: Number | str | None = Field(None, description="Highest allowed value.")

    @model_validator(mode="after")
    def _check_bounds(self) -> "Constraint":
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        for bound in (self.min, self.max):
            if bound is not None:
                quantity(bound)
        if self.min is not None and self.max is not None and \
                quantity(self.min)[0] > quantity(self.max)[0]:
            raise ValueError(f"`min` {self.min} is above `max` {self.max}; no value can meet both")
        return self

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """(min, max) in internal units (hours, kW), None where absent."""
        return tuple(None if b is None else quantity(b)[0] for b in (self.min, self.max))


class Costs(ConfigModel):
    """Capital cost of a candidate (metric `capital_cost`), in USD."""

    servers: dict[str, float] = Field(default_factory=dict, description="Per server, by station "
                                      "id; the key `default` prices stations not named.")
    vehicles: dict[str, float] = Field(default_factory=dict, description="Per vehicle, by "
                                       "fleet id.")
    units: dict[str, float] = Field(default_factory=dict, description="Per pool unit, by pool "
                                    "id.")
    floor_m2: float = Field(0.0, ge=0, description="Per square metre of the layout's floor.")
    power_cap_kw: float = Field(0.0, ge=0, description="Per kW of the facility power cap.")


class Reevaluate(ConfigModel):
    """How the best candidates are checked before they are reported."""

    top: int = Field(5, ge=1, description="Candidates re-run: the best feasible ones (several "
                     "objectives: Pareto-optimal ones).")
    replications: int = Field(32, ge=2, description="Replications of each re-run, with fresh "
                              "random numbers.")


class Tune(ConfigModel):
    """Layout tuning: `twin tune` searches the variables for the best objectives."""

    variables: dict[str, Variable] = Field(min_length=1, description="Decision variables by "
                                           "path, such as `stations.burn_in.servers`.")
    objectives: list[Objective] = Field(min_length=1, description="One objective, or several "
                                        "(a Pareto front).")
    constraints: list[Constraint] = Field(default_factory=list, description="Bounds on metrics; "
                                          "every candidate must also be a valid plant.")
    costs: Costs = Field(default_factory=Costs, description="Prices for `capital_cost`.")
    trials: int = Field(64, ge=1, description="Candidates in the study.")
    batch: int = Field(16, ge=1, description="Candidates simulated together as one batch.")
    replications: int = Field(8, ge=1, description="Replications per candidate while searching.")
    sampler: Literal["auto", "tpe", "cmaes", "nsga2", "random"] = Field(
        "auto", description="Optuna sampler; auto: TPE for one objective, NSGA-II for several.")
    seed: int | None = Field(None, ge=0, description="Seed of the sampler and the simulations; "
                             "default: the plant's.")
    horizon: Duration | None = Field(None, gt=0, description="Replication length while "
                                     "searching; default: the plant's.")
    warmup: Duration | None = Field(None, ge=0, description="Warm-up while searching; default: "
                                    "the plant's.")
    reevaluate: Reevaluate = Field(default_factory=Reevaluate, description="Re-runs of the best "
                                   "candidates before they are reported.")


# --------------------------------------------------------------------------------------------
# Paths into a plant
# --------------------------------------------------------------------------------------------


def resolve_path(plant: "Plant", path: str) -> tuple[Loc, BaseModel, str]:
    """Follow ``path`` (dots; list items by id or index) through the validated plant.

    Returns the pydantic location of the field (``("stations", 4, "servers")``), the model that
    owns it and the field's name. Raises ValueError with a one-line explanation otherwise."""
    parts = path.split(".")
    if not path or any(p == "" for p in parts):
        raise ValueError("write a path such as `stations.burn_in.servers`")
    node: Any = plant
    owner: BaseModel = plant  # the model whose field `node` is
    loc: list[str | int] = []
    for depth, part in enumerate(parts):
        here = ".".join(parts[:depth]) or "the plant"
        if isinstance(node, list):
            index = _item_index(node, part, here)
            node, loc = node[index], [*loc, index]
            continue
        if isinstance(node, dict) and depth == len(parts) - 1:  # a product's share
            if part not in node:
                raise ValueError(f"`{here}` has no `{part}`; it has: {', '.join(node)}")
            return (*loc, part), plant, parts[depth - 1]
        if not isinstance(node, BaseModel):
            if isinstance(owner, Normalized) and parts[depth - 1] in owner.single_of:
                raise ValueError(f"`{here}` is a single value, not a schedule, so it has no "
                                 f"step `{part}`; to tune a step, write it as steps "
                                 "`[{from: 0w, ...}, ...]` (docs/config.md)")
            raise ValueError(f"`{here}` is a single value; it has no `{part}`")
        fields = type(node).model_fields
        if part not in fields:
            known = ", ".join(fields)
            raise ValueError(f"`{here}` has no field `{part}`; its fields are: {known}")
        loc.append(part)
        if depth == len(parts) - 1:
            return tuple(loc), node, part
        value = _as_given(node, part)
        owner = node
        if value is None:
            raise ValueError(f"`{'.'.join(parts[:depth + 1])}` is not set in the plant; add it "
                             "before tuning a field inside it")
        node = value
    raise ValueError(f"`{path}` names a list item, not a field; add the field to change, such as "
                     f"`{path}.servers`")


def _as_given(model: BaseModel, name: str) -> Any:
    """Field ``name`` of ``model`` as the file gives it: the steps of a schedule (a validated
    `Normalized` model holds one value in the field and keeps the steps it was given)."""
    if isinstance(model, Normalized) and model.has_schedule(name):
        return model._given[name]
    return getattr(model, name)


def _item_index(items: list[Any], part: str, here: str) -> int:
    ids = [getattr(item, "id", None) for item in items]
    if part in ids:
        return ids.index(part)
    if part.isdigit() and int(part) < len(items):
        return int(part)
    named = [i for i in ids if i is not None]
    hint = f"its ids are: {', '.join(named)}" if named else \
        f"its {len(items)} items go by index, 0 to {len(items) - 1}"
    raise ValueError(f"`{here}` has no item `{part}`; {hint}")


def _from_problems(where: Loc, path: str, var: Variable) -> list[Problem]:
    """A step's start: a duration, and never the first step's (a schedule starts at 0)."""
    if path.split(".")[-2] == "0":
        return [(where, "the first step of a schedule starts at 0 (`from: 0w`); tune the "
                 "`from` of a later step")]
    if var.min is not None and quantity(var.min)[1] != "h":
        return [(where, "a `from` is a time: write the range as durations, such as "
                 "`{min: 4w, max: 20w, step: 1w}`")]
    return []


def tune_problems(plant: "Plant") -> list[Problem]:
    """Variables whose paths lead nowhere or whose form does not fit the field; cost keys that
    name no station, fleet or pool."""
    tune = plant.tune
    if tune is None:
        return []
    problems: list[Problem] = []
    for path, var in tune.variables.items():
        where = ("tune", "variables", path)
        try:
            _, _, name = resolve_path(plant, path)
        except ValueError as err:
            problems.append((where, str(err)))
            continue
        if (var.region is not None or var.places is not None) and name != "position":
            problems.append((where, ("`region` and `places` choose a station's `position`; use "
                             "`min`/`max` or `choices` here")))
        if name == "position" and var.region is None and var.places is None and \
                var.choices is None:
            problems.append((where, ("a position is chosen with `region` and `step`, `places` or "
                             "`choices`, not a range")))
        if path.split(".")[0] == "resources" and "shifts" in path.split("."):
            problems.append((where, ("shift calendars cannot be tuned (every candidate of a "
                             "batch shares them); tune a pool's `count` instead")))
        if name == "id":
            problems.append((where, "ids name things; they cannot be tuned"))
        if name == "from":
            problems += _from_problems(where, path, var)
        if name == "products" and (var.min is None or len(plant.products) < 2):
            problems.append((where, ("a product's share is tuned with `min`/`max` between 0 "
                             "and 1, in a plant of two products or more")))
    known = {"servers": [s.id for s in plant.stations] + ["default"],
             "vehicles": [f.id for f in plant.transport], "units": [p.id for p in plant.resources]}
    for key, ids in known.items():
        for name in getattr(tune.costs, key):
            if name not in ids:
                problems.append((("tune", "costs", key), (f"'{name}' is not one of: "
                                 f"{', '.join(ids) or 'none declared'}")))
    if tune.costs.power_cap_kw and (plant.power is None or plant.power.cap is None) and \
            "power.cap" not in tune.variables:
        problems.append((("tune", "costs", "power_cap_kw"), ("the plant has no `power.cap` to "
                         "price; add one or drop this cost")))
    return problems
