"""The plant models of config contract v1: field types, distributions, stations, the plant,
and the whole-plant checks that run once every field is valid. Times are hours (floats)."""

import difflib
import math
import statistics
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from twin.config import parts
from twin.config.fields import (
    DURATION_SCHEMA,
    ConfigModel,
    Count,
    CountStep,
    Duration,
    Loc,
    MeanDuration,
    Normalized,
    Power,
    Problem,
    Rate,
    Step,
    first,
    in_force,
    last,
    problems_error,
    schedule,
    scheduled,
    when_text,
)
from twin.config.layout import AisleGrid, Bays, Layout, Point, Size, layout_problems
from twin.config.logistics import (
    Alternative,
    Battery,
    Fleet,
    Pool,
    Requires,
    Shift,
    alternatives,
)
from twin.config.parts import ALL_PRODUCTS, ORDER
from twin.config.tuning import (
    Constraint,
    Costs,
    Objective,
    Reevaluate,
    Region,
    Tune,
    Variable,
    tune_problems,
)

EXIT = "exit"
"""Routing target meaning "leave the plant"; reserved, so no station may use it as its id."""

PROBABILITY_TOLERANCE = 1e-6
"""How far the probabilities of a routing list may sum from 1."""

SHARE_TOLERANCE = 1e-9
"""How far the shares of `products` may sum from 1."""

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
"""A product or part-kind id: lowercase letters, digits, underscores."""


def _not_order(kind: str) -> str:
    if kind == ORDER:
        raise ValueError(f"'{ORDER}' is the kind the source releases, not a part; name the part "
                         "otherwise, such as 'order_part'")
    return kind


def _counted(parts: dict[str, int]) -> dict[str, int]:
    if not parts:
        raise ValueError("is empty, so it names no parts; list each part kind with its count, "
                         "such as `{tray: 2}`, or remove it")
    return parts


PartCounts = Annotated[
    dict[Annotated[Name, AfterValidator(_not_order)], Annotated[int, Field(ge=1)]],
    AfterValidator(_counted),
]
"""Parts of a split or a set: `{kind: count}`, counts whole numbers >= 1, never empty."""


def _shares(products: dict[str, float]) -> dict[str, float]:
    if not products:
        raise ValueError("is empty; list each product with its share, such as "
                         "`{a: 0.6, b: 0.4}`, or remove `products`")
    total = sum(products.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        raise ValueError(f"shares sum to {total:g}, not 1; adjust them to add up to 1")
    return products


Products = Annotated[dict[Name, Annotated[float, Field(gt=0)]], AfterValidator(_shares)]


class _PerProduct(ConfigModel):
    """A value given per product: `{by_product: {product: value}}`."""

    def pick(self, product: str) -> Any:
        """The value of `product`."""
        if product not in self.by_product:
            raise KeyError(f"no value for product {product!r}; `by_product` names "
                           f"{', '.join(self.by_product)}")
        return self.by_product[product]


def _keyed(value: Any, key: str) -> bool:
    """Whether `value` is a mapping (or a model) with `key`: how a keyed form is told apart."""
    if isinstance(value, BaseModel):
        return key in type(value).model_fields
    return isinstance(value, dict) and key in value


class Exponential(ConfigModel):
    """Exponentially distributed times (memoryless), given their mean."""

    dist: Literal["exponential"] = Field(description="Selects this distribution.")
    mean: MeanDuration = Field(gt=0, description="Mean time; positive.")

    def variance(self) -> float:
        """Variance in hours squared: mean^2."""
        return self.mean**2


class Deterministic(ConfigModel):
    """A fixed time. A plain duration such as `45min` is shorthand for this."""

    dist: Literal["deterministic"] = Field(description="Selects this distribution.")
    value: Duration = Field(gt=0, description="The time every job takes; positive.")

    def mean(self) -> float:
        """Mean in hours: the value."""
        return self.value

    def variance(self) -> float:
        """Variance in hours squared: 0."""
        return 0.0


class Uniform(ConfigModel):
    """Times spread evenly between `low` and `high`."""

    dist: Literal["uniform"] = Field(description="Selects this distribution.")
    low: Duration = Field(description="Shortest time; zero or more.")
    high: Duration = Field(description="Longest time; more than `low`.")

    @model_validator(mode="after")
    def _check_range(self) -> "Uniform":
        if not self.low < self.high:
            raise ValueError(
                f"low ({self.low:g}h) must be less than high ({self.high:g}h); "
                "swap them or widen the range"
            )
        return self

    def mean(self) -> float:
        """Mean in hours: (low + high) / 2."""
        return (self.low + self.high) / 2

    def variance(self) -> float:
        """Variance in hours squared: (high - low)^2 / 12."""
        return (self.high - self.low) ** 2 / 12


class Triangular(ConfigModel):
    """Times between `low` and `high`, most often near `mode`."""

    dist: Literal["triangular"] = Field(description="Selects this distribution.")
    low: Duration = Field(description="Shortest time; zero or more.")
    mode: Duration = Field(description="Most likely time; between `low` and `high`.")
    high: Duration = Field(description="Longest time; more than `low`.")

    @model_validator(mode="after")
    def _check_order(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"needs low <= mode <= high with low < high, got low {self.low:g}h, "
                f"mode {self.mode:g}h, high {self.high:g}h; reorder them"
            )
        return self

    def mean(self) -> float:
        """Mean in hours: (low + mode + high) / 3."""
        return (self.low + self.mode + self.high) / 3

    def variance(self) -> float:
        """Variance in hours squared: (a^2 + b^2 + c^2 - ab - ac - bc) / 18."""
        a, b, c = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


class _MeanCv(ConfigModel):
    """Times given by their mean and coefficient of variation (lognormal, gamma)."""

    dist: str  # narrowed to one name by each subclass; declared here to come first
    mean: MeanDuration = Field(gt=0, description="Mean time; positive.")
    cv: float = Field(
        gt=0, description="Coefficient of variation (standard deviation / mean); positive."
    )

    def variance(self) -> float:
        """Variance in hours squared: (mean * cv)^2."""
        return (self.mean * self.cv) ** 2


class Lognormal(_MeanCv):
    """Log-normally distributed times, given their mean and coefficient of variation."""

    dist: Literal["lognormal"] = Field(description="Selects this distribution.")


class Gamma(_MeanCv):
    """Gamma-distributed times, given their mean and coefficient of variation."""

    dist: Literal["gamma"] = Field(description="Selects this distribution.")


class Empirical(ConfigModel):
    """Times drawn from a list of observed values, each equally likely."""

    dist: Literal["empirical"] = Field(description="Selects this distribution.")
    values: list[Duration] = Field(
        min_length=1, description="Observed times; at least one, none negative, not all zero."
    )

    @model_validator(mode="after")
    def _check_not_all_zero(self) -> "Empirical":
        if not any(self.values):
            raise ValueError("all values are zero; list the times jobs really take")
        return self

    def mean(self) -> float:
        """Mean in hours: the average of the values."""
        return statistics.fmean(self.values)

    def variance(self) -> float:
        """Variance in hours squared: the population variance of the values."""
        return statistics.pvariance(self.values)


DISTRIBUTIONS = (Exponential, Deterministic, Uniform, Triangular, Lognormal, Gamma, Empirical)
DIST_NAMES = tuple(get_args(model.model_fields["dist"].annotation)[0] for model in DISTRIBUTIONS)

Distribution = Annotated[
    Exponential | Deterministic | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="dist"),
]
"""Any time distribution, chosen by its `dist` key; all times in hours."""


def _deterministic_shorthand(value: Any) -> Any:
    """Read `process: 45min` (anything but a mapping or a model) as a deterministic time."""
    if isinstance(value, (dict, BaseModel)):
        return value
    return {"dist": "deterministic", "value": value}


TimeDistribution = Annotated[
    Distribution,
    BeforeValidator(
        _deterministic_shorthand,
        json_schema_input_type=Annotated[str, WithJsonSchema(DURATION_SCHEMA)] | Distribution,
    ),
]


class ProcessByProduct(_PerProduct):
    """Service time by the job's product."""

    by_product: dict[Name, TimeDistribution] = Field(
        description="`{product: time}`: a distribution or a fixed duration per product; every "
        "product, nothing else."
    )


def _process_form(value: Any) -> str:
    return "process_by_product" if _keyed(value, "by_product") else "time"


Process = Annotated[
    Annotated[TimeDistribution, Tag("time")]
    | Annotated[ProcessByProduct, Tag("process_by_product")],
    Discriminator(_process_form),
]


class PlanStep(Step):
    """A step of a release plan: from `from` on, jobs come after `interarrival` times."""

    key: ClassVar[str] = "interarrival"
    interarrival: TimeDistribution = Field(
        description="Time between jobs from then on: a distribution or a fixed duration."
    )


class Source(ConfigModel):
    """Where jobs come from: one job after each interarrival time, into the first station."""

    interarrival: TimeDistribution | None = Field(
        None, description="Time between jobs: a distribution or a fixed duration. Give this or "
        "a `plan`; with a plan it holds the last step's."
    )
    plan: schedule(PlanStep) | None = Field(
        None, description="Interarrival times that change over time: `[{from, interarrival}]`; "
        "each time is drawn from the step in force at the previous arrival."
    )
    release: Literal["drawn", "nhpp"] = Field(
        "drawn", description="`drawn`: each time from the law in force when it is drawn; `nhpp`: "
        "the exact non-homogeneous Poisson process of the plan's rate (exponential steps only)."
    )

    @model_validator(mode="after")
    def _check_plan(self) -> "Source":
        problems: list[Problem] = []
        if self.interarrival is None and self.plan is None:
            problems.append((("interarrival",), "missing; add `interarrival:` (time between "
                             "jobs) or a `plan` of `{from, interarrival}` steps"))
        elif self.interarrival is not None and self.plan is not None:
            problems.append((("plan",), "give `interarrival` or a `plan`, not both; remove "
                             "`interarrival` (the plan's steps give the times between jobs)"))
        if self.release == "nhpp" and self.plan is None:
            problems.append((("release",), "`release: nhpp` draws the Poisson process of a "
                             "`plan`'s changing rate; add a `plan` or remove `release`"))
        elif self.release == "nhpp":
            problems += [(("plan", i, "interarrival"), (f"`release: nhpp` needs exponential "
                          f"times in every step, and step {i + 1} is {step.interarrival.dist}; "
                          "write `{dist: exponential, mean: ...}` or use `release: drawn`"))
                         for i, step in enumerate(self.plan)
                         if not isinstance(step.interarrival, Exponential)]
        if problems:
            raise problems_error("Source", problems)
        if self.plan is not None:
            self.interarrival = self.plan[-1].interarrival
        return self

    @model_serializer(mode="wrap")
    def _dump_plan(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.plan is not None:  # it holds the last step's law, which the plan already gives
            data.pop("interarrival", None)
        return data

    def steps(self) -> list[tuple[float, Distribution]]:
        """The interarrival law as ``[(from_h, law), ...]``: the plan, or ``[(0.0, law)]``."""
        if self.plan is None:
            return [(0.0, self.interarrival)]
        return [(step.start(), step.value()) for step in self.plan]


class Failures(ConfigModel):
    """Operation-dependent breakdowns of each server of a station."""

    mtbf: Duration = Field(
        gt=0, description="Mean processing time between failures (exponential); positive."
    )
    mttr: Duration = Field(gt=0, description="Mean time to repair (exponential); positive.")


class FailuresByProduct(_PerProduct):
    """Breakdowns by the product of the job being processed."""

    by_product: dict[Name, Failures] = Field(
        description="`{product: {mtbf, mttr}}`; every product, nothing else."
    )


def _failures_form(value: Any) -> str:
    return "failures_by_product" if _keyed(value, "by_product") else "single"


StationFailures = Annotated[
    Annotated[Failures, Tag("single")] | Annotated[FailuresByProduct, Tag("failures_by_product")],
    Discriminator(_failures_form),
]


Probability = Annotated[float, Field(ge=0, le=1)]


class PStep(Step):
    """A step of a branch's probability: from `from` on, the branch is taken with `p`."""

    key: ClassVar[str] = "p"
    p: Probability = Field(description="Probability from then on, 0 to 1.")


class Route(Normalized):
    """One branch of a probabilistic routing."""

    single_of = {"p": last}

    to: str = Field(description="Station id, or `exit` to leave the plant.")
    p: scheduled(Probability, PStep) = Field(
        description="Probability of this branch, or a schedule `[{from, p}]`; the branches "
        "of a list sum to 1 at every time. With a schedule it holds the last value."
    )

    def p_steps(self) -> list[tuple[float, float]]:
        """The probability as ``[(from_h, p), ...]``; ``[(0.0, p)]`` when fixed."""
        return self.steps_of("p")


def _routing_kind(value: Any) -> str | None:
    """Tell a single target from a list of branches, so each form gets its own errors."""
    if isinstance(value, str):
        return "target"
    if isinstance(value, list):
        return "branches"
    return None


_TARGET = Annotated[str, Tag("target")]
_BRANCHES = Annotated[list[Route], Tag("branches"), Field(min_length=1)]
Routing = Annotated[
    _TARGET | _BRANCHES,
    Discriminator(
        _routing_kind, custom_error_type="routing_type", custom_error_message="bad routing"
    ),
]
"""One routing: a target, or a list of `{to, p}` branches."""


class NextByPart(ConfigModel):
    """Routing by the kind of the job (or part) that leaves."""

    by_part: dict[Name, Routing] = Field(
        description="`{kind: target or branches}`; every kind that leaves the station."
    )


class NextByProduct(_PerProduct):
    """Routing by the job's product."""

    by_product: dict[Name, Routing] = Field(
        description="`{product: target or branches}`; every product, nothing else."
    )


def _next_form(value: Any) -> str | None:
    if _keyed(value, "by_part"):
        return "next_by_part"
    if _keyed(value, "by_product"):
        return "next_by_product"
    return _routing_kind(value)


Next = Annotated[
    _TARGET | _BRANCHES | Annotated[NextByPart, Tag("next_by_part")]
    | Annotated[NextByProduct, Tag("next_by_product")],
    Discriminator(_next_form, custom_error_type="routing_type", custom_error_message="bad routing"),
]


def _buffer_form(value: Any) -> str:
    return "per_kind" if isinstance(value, dict) else "places"


Buffer = Annotated[
    Annotated[int, Tag("places"), Field(ge=0)]
    | Annotated[dict[Name, Annotated[int, Field(ge=0)]], Tag("per_kind")],
    Discriminator(_buffer_form),
]


class Learning(ConfigModel):
    """A learning curve: the n-th job started at a station (n = 1, 2, ... from time 0; per
    product when given by product) takes its drawn processing time times
    max(floor, n^log2(rate)), before the staffing's time factor."""

    rate: float = Field(gt=0, le=1, description="Factor on the time per doubling of the jobs "
                        "started: 0.9 makes the 2nd job 90% of the 1st, the 4th 81%; 1: none.")
    floor: float = Field(0.0, ge=0, le=1, description="The factor never goes below this; 0: no "
                         "floor.")

    def factor(self, n: int) -> float:
        """The time factor of the `n`-th job (n >= 1)."""
        return max(self.floor, n ** math.log2(self.rate))


class LearningByProduct(_PerProduct):
    """Learning curves by the product of the job, each counting that product's jobs."""

    by_product: dict[Name, Learning] = Field(
        description="`{product: {rate, floor}}`; every product, nothing else."
    )


def _learning_form(value: Any) -> str:
    return "learning_by_product" if _keyed(value, "by_product") else "single"


StationLearning = Annotated[
    Annotated[Learning, Tag("single")] | Annotated[LearningByProduct, Tag("learning_by_product")],
    Discriminator(_learning_form),
]

UNION_TAGS = frozenset(DIST_NAMES) | {
    "target", "branches", "constant", "profile", "flat", "bands", "time", "single", "places",
    "per_kind", "process_by_product", "failures_by_product", "busy_by_product", "next_by_part",
    "next_by_product", "learning_by_product", "auto", "count_steps", "p_steps", "cap_steps",
    "tariff_steps"}


POWER_STATES = ("idle", "busy", "blocked", "down", "waiting")
"""The states a server draws power in (see docs/power.md)."""

HOURS_PER_DAY = 24.0


class ProfileStep(ConfigModel):
    """One step of a busy-power profile: a share of the processing time at one draw."""

    share: float = Field(gt=0, le=1, description="Share of the job's processing time; the "
                         "shares of a profile sum to 1.")
    power: Power = Field(description="Draw per server during this step.")


def _busy_kind(value: Any) -> str:
    return "profile" if isinstance(value, list) else "constant"


_CONSTANT = Annotated[Power, Tag("constant")]
_PROFILE = Annotated[list[ProfileStep], Tag("profile"), Field(min_length=1)]
BusyPower = Annotated[_CONSTANT | _PROFILE, Discriminator(_busy_kind)]


class BusyByProduct(_PerProduct):
    """Busy draw by the product of the job being processed."""

    by_product: dict[Name, BusyPower] = Field(
        description="`{product: power or profile}`; every product, nothing else."
    )


def _busy_form(value: Any) -> str:
    return "busy_by_product" if _keyed(value, "by_product") else _busy_kind(value)


StationBusy = Annotated[
    _CONSTANT | _PROFILE | Annotated[BusyByProduct, Tag("busy_by_product")],
    Discriminator(_busy_form),
]


class StationPower(ConfigModel):
    """Draw of each server of a station by state, per server; a state not given draws 0."""

    idle: Power = Field(0.0, description="Draw of a server with no job.")
    busy: StationBusy = Field(
        0.0,
        description=(
            "Draw while processing: a power, or a profile `[{share, power}, ...]` over the "
            "processing time (shares sum to 1), or `{by_product: {product: power or profile}}`."
        ),
    )
    blocked: Power = Field(0.0, description="Draw of a server holding a finished job.")
    down: Power = Field(0.0, description="Draw of a server under repair.")
    waiting: Power = Field(
        0.0, description="Draw of a server holding a job that waits for power under the cap."
    )

    @model_validator(mode="after")
    def _check_shares(self) -> "StationPower":
        for busy in self._busy_options():
            total = sum(step.share for step in busy) if isinstance(busy, list) else 1.0
            if abs(total - 1) > PROBABILITY_TOLERANCE:
                raise ValueError(f"busy profile shares sum to {total:g}, not 1; adjust them to "
                                 "add up to 1")
        return self

    def _busy_options(self) -> list[float | list[ProfileStep]]:
        """Every busy draw a job may have here: the one, or one per product."""
        if isinstance(self.busy, BusyByProduct):
            return list(self.busy.by_product.values())
        return [self.busy]

    def steps(self) -> list[tuple[float, float]]:
        """The busy draw as (share, kW) steps; one step of share 1 when it is constant.

        A draw by product has no one profile: resolve it first with `Station.power_for`.
        """
        if isinstance(self.busy, BusyByProduct):
            raise ValueError("the busy draw depends on the product; resolve it with "
                             "Station.power_for(product) first")
        return _steps(self.busy)

    def mean_busy(self) -> float:
        """Time-average busy draw over a whole job (kW)."""
        return sum(share * kw for share, kw in self.steps())

    def standby(self) -> float:
        """The most a server draws while not processing (kW): what the cap check keeps for it."""
        return max(self.idle, self.blocked, self.down, self.waiting)

    def most(self) -> float:
        """The most a server can be counted at under the cap (kW), whatever the product."""
        busy = [kw for option in self._busy_options() for _, kw in _steps(option)]
        return max([self.standby()] + busy)


def _steps(busy: float | list[ProfileStep]) -> list[tuple[float, float]]:
    """A plain busy draw as (share, kW) steps."""
    if isinstance(busy, list):
        return [(step.share, step.power) for step in busy]
    return [(1.0, busy)]


class PriceBand(ConfigModel):
    """An energy price over a band of hours of the day."""

    hours: list[float] = Field(
        min_length=2, max_length=2,
        description="[start, end] hours of the day, 0 <= start < end <= 24.",
    )
    price: float = Field(ge=0, description="Energy price in $/kWh.")

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: list[float]) -> list[float]:
        start, end = value
        if not 0 <= start < end <= HOURS_PER_DAY:
            raise ValueError(f"[{start:g}, {end:g}] is not a band of the day; write [start, end] "
                             "with 0 <= start < end <= 24")
        return value


def _check_day(bands: list[PriceBand]) -> list[PriceBand]:
    """The bands of a day must cover 0 to 24 h once, without gaps or overlaps."""
    at = 0.0
    for band in sorted(bands, key=lambda b: b.hours[0]):
        if band.hours[0] != at:
            what = "a gap" if band.hours[0] > at else "an overlap"
            raise ValueError(f"the bands leave {what} at hour {min(at, band.hours[0]):g}; make "
                             "them cover 0 to 24 once")
        at = band.hours[1]
    if at != HOURS_PER_DAY:
        raise ValueError(f"the bands stop at hour {at:g}; make them cover 0 to 24 once")
    return bands


DayBands = Annotated[list[PriceBand], Field(min_length=1), AfterValidator(_check_day)]


class EnergyPrices(ConfigModel):
    """Time-of-day energy prices, weekdays (Monday to Friday) and weekends."""

    weekday: DayBands = Field(description="Price bands of Monday to Friday, covering 0-24 h.")
    weekend: DayBands | None = Field(
        None, description="Price bands of Saturday and Sunday; absent: as weekdays."
    )

    def price(self, weekend: bool, hour: float) -> float:
        """$/kWh at ``hour`` (0 <= hour < 24) of a weekday or weekend day."""
        bands = self.weekend if weekend and self.weekend is not None else self.weekday
        return next(b.price for b in bands if b.hours[0] <= hour < b.hours[1])

    def edges(self) -> list[float]:
        """Every hour of the day where a price may change."""
        days = [self.weekday] + ([self.weekend] if self.weekend else [])
        return sorted({h for bands in days for b in bands for h in b.hours})


def _energy_kind(value: Any) -> str | None:
    return "bands" if isinstance(value, (dict, EnergyPrices)) else "flat"


class Tariff(ConfigModel):
    """What electricity costs: energy by time of day and a demand charge on the monthly peak."""

    energy: Annotated[
        Annotated[float, Tag("flat")] | Annotated[EnergyPrices, Tag("bands")],
        Discriminator(_energy_kind),
    ] = Field(
        description="$/kWh: one price, or `{weekday, weekend}` lists of `{hours, price}` bands."
    )
    demand_charge: float = Field(
        0.0, ge=0, description="$/kW per month on the peak demand-interval average."
    )

    @field_validator("energy")
    @classmethod
    def _check_flat(cls, value: float | EnergyPrices) -> float | EnergyPrices:
        if isinstance(value, float) and value < 0:
            raise ValueError(f"{value:g} is negative; a price must be zero or more")
        return value

    def price_at(self, hour: float) -> float:
        """$/kWh at ``hour`` hours after Monday 00:00 (the simulation's time 0)."""
        if not isinstance(self.energy, EnergyPrices):
            return self.energy
        day = int(hour // HOURS_PER_DAY) % 7
        return self.energy.price(day >= 5, hour % HOURS_PER_DAY)


class TariffStep(Tariff, Step):
    """A step of a tariff schedule: from `from` on, these prices."""

    key: ClassVar[str] = "tariff"

    def value(self) -> Tariff:
        """The tariff in force from `start` on."""
        return Tariff.model_construct(**{k: getattr(self, k) for k in Tariff.model_fields})


class CapStep(Step):
    """A step of a power-cap schedule: from `from` on, this cap."""

    key: ClassVar[str] = "cap"
    cap: Power = Field(description="Facility power cap from then on.")


class Cooling(ConfigModel):
    """Cooling plant that removes the stations' heat."""

    cop: float = Field(
        gt=0, description="Coefficient of performance: kW of heat removed per kW it draws."
    )


class PlantPower(Normalized):
    """Plant-level power: base load, cooling, the facility cap, tariff and emissions."""

    single_of = {"cap": min, "tariff": first}

    base_load: Power = Field(
        0.0, description="Constant draw of lighting, offices and utilities (cooling included)."
    )
    cooling: Cooling | None = Field(
        None, description="Cooling of the stations' heat; absent: no cooling draw."
    )
    cap: scheduled(Power, CapStep) | None = Field(
        None,
        description=(
            "Facility power cap, cooling included; a job (or profile step) starts only if the "
            "draw stays within it. Or a schedule `[{from, cap}]`: it then holds the smallest. "
            "Absent: no cap."
        ),
    )
    demand_interval: Duration = Field(
        "15min",
        validate_default=True,
        gt=0,
        description="Averaging interval of peak demand and of the power time series.",
    )
    tariff: scheduled(Tariff, TariffStep) | None = Field(
        None, description="Energy prices and demand charge; or a schedule `[{from, energy, "
        "demand_charge}]`, each `from` on a demand interval's edge: it then holds the first."
    )
    co2_per_kwh: float = Field(0.0, ge=0, description="Emissions in kg CO2 per kWh drawn.")

    def cooling_factor(self) -> float:
        """Plant draw per kW of station heat: 1 + 1/COP (1 without cooling)."""
        return 1.0 if self.cooling is None else 1.0 + 1.0 / self.cooling.cop

    def cap_steps(self) -> list[tuple[float, float]] | None:
        """The cap (kW) as ``[(from_h, cap), ...]``; ``[(0.0, cap)]`` when fixed, None without
        a cap."""
        return None if self.cap is None else self.steps_of("cap")

    def tariff_steps(self) -> list[tuple[float, Tariff]] | None:
        """The tariff as ``[(from_h, tariff), ...]``; ``[(0.0, tariff)]`` when fixed, None
        without one."""
        return None if self.tariff is None else self.steps_of("tariff")


class Station(Normalized):
    """A station: parallel identical servers fed by one first-in first-out buffer. It may split
    each job into parts, or assemble sets of parts into one unit (docs/parts.md)."""

    single_of = {"servers": max}

    id: str = Field(
        pattern=r"^[a-z0-9_]+$",
        description="Unique name: lowercase letters, digits, underscores; not `exit`.",
    )
    servers: Count = Field(
        1, description="Number of identical parallel servers, or a schedule `[{from, count}]` "
        "(a removed server that is busy finishes its job first); it then holds the largest."
    )
    process: Process = Field(
        description="Service time of one job: a distribution or a fixed duration."
    )
    buffer: Buffer | None = Field(
        None,
        description="Waiting places in front of the servers; `null` or absent means unlimited. "
        "At an assembly, places per kind: `{kind: places}` (a kind not named is unlimited), or "
        "one number for every kind.",
    )
    failures: StationFailures | None = Field(
        None, description="Server breakdowns, or `{by_product: {product: {mtbf, mttr}}}`; absent "
        "means none."
    )
    power: StationPower | None = Field(
        None, description="Draw per server by state; absent: the station draws nothing."
    )
    learning: StationLearning | None = Field(
        None, description="Learning curve `{rate, floor}` of the processing times, or "
        "`{by_product: {product: {rate, floor}}}`; absent: none."
    )
    next: Next | None = Field(
        None,
        description=(
            "Where finished jobs go: a station id, `exit`, or a list of `{to, p}` branches; or "
            "`{by_part: {kind: ...}}` or `{by_product: {product: ...}}` of those. Absent: the "
            "next station in the list, or `exit` after the last."
        ),
    )
    split: PartCounts | None = Field(
        None, description="Split each finished job into parts: `{kind: count}`, in this order."
    )
    assemble: PartCounts | None = Field(
        None, description="Take parts of these kinds only and process sets of them: "
        "`{kind: count}` per set."
    )
    match: Literal["order", "any"] | None = Field(
        None, description="At an assembly: a set is the parts of one `order` (absent: this), or "
        "`any` parts, the oldest of each kind."
    )
    into: Name | None = Field(
        None, description="At an assembly: the kind of the unit a set becomes; absent: `order`."
    )
    transport: str | None = Field(
        None, description="Id of the fleet that carries finished jobs out; absent: an instant "
        "hand-over.",
    )
    requires: Requires | None = Field(
        None, description="Pool units each job holds while it processes: `{pool: units}`, or "
        "`{any_of: [{pool: units, time_factor: f}, ...]}`.",
    )
    position: Point | None = Field(None, description="Centre of the station on the floor, [x, y] "
                                   "metres.")
    footprint: Size | None = Field(None, description="[x, y] size in metres before rotation.")
    rotation: Literal[0, 90, 180, 270] = Field(0, description="Degrees, counter-clockwise.")
    height: float = Field(2.5, gt=0, description="Height in metres (for 3D views).")
    dock: Point | None = Field(None, description="Where vehicles pick up and drop off; absent: "
                               "the aisle point nearest the station.")
    bays: Bays | None = Field(None, description="How the servers stand in the footprint, rows x "
                              "columns (for the viewer).")

    @field_validator("id")
    @classmethod
    def _id_is_not_exit(cls, value: str) -> str:
        if value == EXIT:
            raise ValueError(
                "'exit' is reserved for leaving the plant; give the station another id"
            )
        return value

    @property
    def is_assembly(self) -> bool:
        """Whether the station assembles sets of parts."""
        return self.assemble is not None

    @property
    def into_kind(self) -> str:
        """The kind of the unit a set becomes (`order` unless `into` says otherwise)."""
        return ORDER if self.into is None else self.into

    @property
    def match_rule(self) -> str:
        """How parts form a set: `order` (the default) or `any`."""
        return "order" if self.match is None else self.match

    def emits(self, kind: str) -> list[tuple[str, int]]:
        """What leaves a server per job of `kind` served: (kind, count) pairs.

        A split makes its parts, an assembly one unit of its `into` kind per set (nothing from a
        kind it does not take), any other station the job itself.
        """
        if self.split is not None:
            return list(self.split.items())
        if self.is_assembly:
            return [(self.into_kind, 1)] if kind in self.assemble else []
        return [(kind, 1)]

    def process_for(self, product: str) -> Distribution:
        """The service time of a job of `product` (the one time unless given by product)."""
        return _resolve(self.process, product)

    def failures_for(self, product: str) -> Failures | None:
        """The breakdowns while processing a job of `product`; None without failures."""
        return _resolve(self.failures, product)

    def learning_for(self, product: str) -> Learning | None:
        """The learning curve of the jobs of `product`; None without learning."""
        return _resolve(self.learning, product)

    def server_steps(self) -> list[tuple[float, int]]:
        """The servers in service as ``[(from_h, count), ...]``; ``[(0.0, servers)]`` when
        fixed."""
        return self.steps_of("servers")

    def power_for(self, product: str) -> "StationPower | None":
        """The draw per server with the busy draw of `product`; None without power."""
        if self.power is None or not isinstance(self.power.busy, BusyByProduct):
            return self.power
        return self.power.model_copy(update={"busy": self.power.busy.pick(product)})

    def places_for(self, kind: str) -> int | None:
        """Waiting places for parts of `kind` at an assembly (elsewhere: the buffer); None
        means unlimited."""
        if isinstance(self.buffer, dict):
            return self.buffer.get(kind)
        return self.buffer


def _resolve(value: Any, product: str) -> Any:
    """A station value for one product: picked from `by_product`, or the one value."""
    return value.pick(product) if isinstance(value, _PerProduct) else value


class Target(ConfigModel):
    """What each report period should reach."""

    throughput: Rate = Field(description="Orders leaving the plant per unit of time, such as "
                             "'1000/w' (/w, /d, /h or /min); stored per hour.")


class Report(ConfigModel):
    """Results per period of the run, and the target they are checked against."""

    period: Duration | None = Field(None, gt=0, description="Length of each period of the "
                                    "results over time, such as `1w`.")
    target: Target | None = Field(None, description="Target per period: `{throughput: "
                                  "'1000/w'}`; needs `period`.")

    @model_validator(mode="after")
    def _check_target(self) -> "Report":
        if self.target is not None and self.period is None:
            raise problems_error("Report", [(("target",), (
                "report.target needs report.period (the target is checked per period); add "
                "`period:` such as `1w`"))])
        return self


def _warmup_form(value: Any) -> str:
    return "auto" if value == "auto" else "single"


Warmup = Annotated[
    Annotated[Duration, Tag("single")] | Annotated[Literal["auto"], Tag("auto")],
    Discriminator(_warmup_form),
]


class Plant(Normalized):
    """A whole plant: the top level of the config file."""

    name: str = Field(min_length=1, description="Name of the plant, shown in reports.")
    horizon: Duration = Field(gt=0, description="Length of each replication, warm-up included.")
    warmup: Warmup = Field(
        "0h",
        validate_default=True,
        description="Statistics cover [warmup, horizon]; shorter than the horizon. `auto`: the "
        "run finds it from the throughput and WIP per period (it holds 0, `warmup_auto` true).",
    )
    replications: int = Field(32, ge=1, description="Independent replications to run.")
    seed: int = Field(0, ge=0, description="Seed of the random streams.")
    source: Source = Field(description="Arrivals of jobs into the first station.")
    products: Products | None = Field(
        None, description="Products the source releases, `{product: share}` (shares sum to 1); "
        "absent: one product, `all`."
    )
    stations: list[Station] = Field(
        min_length=1, description="The stations; the source feeds the first one."
    )
    power: PlantPower | None = Field(
        None, description="Base load, cooling, power cap, tariff; absent: stations' draw only."
    )
    layout: Layout | None = Field(None, description="Floor, aisles and shipping point; needed "
                                  "by fleets.")
    transport: list[Fleet] = Field(default_factory=list, description="Vehicle fleets.")
    resources: list[Pool] = Field(default_factory=list, description="Shared pools of "
                                  "technicians, robot arms, humanoids.")
    tune: Tune | None = Field(None, description="Layout tuning for `twin tune`: variables, "
                              "objectives, constraints, costs; ignored by `twin run`.")
    report: Report | None = Field(None, description="Results per period and a throughput "
                                  "target: `{period, target: {throughput}}`.")

    @model_validator(mode="after")
    def _settle_warmup(self) -> "Plant":
        if self.warmup == "auto":
            self._keep("warmup", "auto", 0.0)
        return self

    @model_validator(mode="after")
    def _check_plant(self) -> "Plant":
        structure = _station_id_problems(self) + _routing_problems(self)
        structure += parts.form_problems(self)
        # flow, fleets, pools and the layout need every target and every product resolved
        flow = [] if structure else parts.flow_problems(self)
        placed = [] if structure else _logistics_problems(self) + layout_problems(self)
        problems = _warmup_problems(self) + structure + flow + _power_problems(self) + placed
        problems += tune_problems(self)
        if problems:
            raise problems_error("Plant", problems)
        return self

    @property
    def warmup_auto(self) -> bool:
        """Whether the file says `warmup: auto` (then `warmup` holds 0.0)."""
        return self._given.get("warmup") == "auto"

    def change_times(self) -> list[float]:
        """Every time (hours, > 0, sorted, distinct) at which a schedule of the plant changes a
        value: the source's plan, stations' servers, branches' p, the power cap, pools' and
        fleets' counts. Tariffs are left out: they change prices, not the simulation."""
        schedules = [self.source.steps(), *(s.server_steps() for s in self.stations)]
        schedules += [route.p_steps() for s in self.stations for _, routing in _routings(s.next)
                      if isinstance(routing, list) for route in routing]
        schedules += [] if self.power is None or self.power.cap is None else \
            [self.power.cap_steps()]
        schedules += [item.count_steps() for item in [*self.resources, *self.transport]]
        return sorted({start for steps in schedules for start, _ in steps if start > 0})

    def product_ids(self) -> list[str]:
        """The products in the order of `products`; `["all"]` without them."""
        return [ALL_PRODUCTS] if self.products is None else list(self.products)

    def product_shares(self) -> list[float]:
        """The share of orders of each product, as `product_ids`."""
        return [1.0] if self.products is None else list(self.products.values())

    def kinds(self) -> list[str]:
        """Every kind of job: `order`, then the part kinds in order of first appearance over
        the stations (each station's split keys, assemble keys, then `into`)."""
        kinds = [ORDER]
        for station in self.stations:
            kinds += [*(station.split or {}), *(station.assemble or {})]
            kinds += [station.into] if station.into is not None else []
        return list(dict.fromkeys(kinds))

    def routes(self, j: int, kind: str = ORDER, product: str | None = None,
               at: float | None = None) -> list[tuple[int, float]]:
        """Resolved routing of the jobs of `kind` and `product` that leave station `j`.

        A plain `next` ignores both; `by_part` takes the entry of `kind` (none: ``[]``),
        `by_product` that of `product` (None: the first product's). `at` (hours) takes the
        probabilities in force then; None takes `Route.p` (with a schedule: its last value).

        Returns
        -------
        list of (target, probability)
            `target` is a station index in ``0..J-1``, or ``J == len(stations)`` for exit.
        """
        return [(t, steps[-1][1] if at is None else in_force(steps, at))
                for t, steps in self.route_steps(j, kind, product)]

    def route_steps(self, j: int, kind: str = ORDER,
                    product: str | None = None) -> list[tuple[int, list[tuple[float, float]]]]:
        """As `routes`, with each branch's probability as ``[(from_h, p), ...]``."""
        station = self.stations[j]
        if station.next is None:
            return [(j + 1, [(0.0, 1.0)])]
        routing = station.next
        if isinstance(routing, NextByPart):
            routing = routing.by_part.get(kind, [])
        elif isinstance(routing, NextByProduct):
            routing = routing.pick(self.product_ids()[0] if product is None else product)
        index = {s.id: i for i, s in enumerate(self.stations)}
        index[EXIT] = len(self.stations)
        if isinstance(routing, str):
            return [(index[routing], [(0.0, 1.0)])]
        return [(index[route.to], route.p_steps()) for route in routing]

    def targets(self, j: int, kind: str = ORDER, product: str | None = None) -> set[int]:
        """The targets of `routes` that a job may go to at some time (p > 0 in some step)."""
        return {t for t, steps in self.route_steps(j, kind, product)
                if any(p > 0 for _, p in steps)}

    def successors(self, j: int) -> set[int]:
        """Every target (``J``: exit) that some job leaving station `j` may go to with p > 0
        at some time, whatever its kind and product."""
        return {t for kind in self.kinds() for product in self.product_ids()
                for t in self.targets(j, kind, product)}

    def reaching(self) -> list[set[str]]:
        """For each station, the kinds of job that can reach it (see `twin.config.parts`)."""
        return parts.reaching(self)

    def kind_weights(self) -> dict[str, float]:
        """The share of an order a job of each kind is worth, in the order of `kinds`."""
        return parts.kind_weights(self)


MODEL_AT_LOC_NAME: dict[str, type[BaseModel]] = {
    "source": Source,
    "profile": ProfileStep,
    "cooling": Cooling,
    "tariff": Tariff,
    "energy": EnergyPrices,
    "weekday": PriceBand,
    "weekend": PriceBand,
    "stations": Station,
    "failures": Failures,
    "branches": Route,
    "layout": Layout,
    "grid": AisleGrid,
    "bays": Bays,
    "transport": Fleet,
    "battery": Battery,
    "resources": Pool,
    "shifts": Shift,
    "any_of": Alternative,
    "tune": Tune,
    "variables": Variable,
    "region": Region,
    "objectives": Objective,
    "constraints": Constraint,
    "costs": Costs,
    "reevaluate": Reevaluate,
    "process_by_product": ProcessByProduct,
    "failures_by_product": FailuresByProduct,
    "busy_by_product": BusyByProduct,
    "next_by_part": NextByPart,
    "next_by_product": NextByProduct,
    "learning": Learning,
    "learning_by_product": LearningByProduct,
    "report": Report,
    "target": Target,
    "plan": PlanStep,
    **{f"{step.key}_steps": step for step in (CountStep, PStep, CapStep, TariffStep)},
    **dict(zip(DIST_NAMES, DISTRIBUTIONS, strict=True)),
}
"""Which model a pydantic error location is inside, by the last name in the location."""


# --------------------------------------------------------------------------------------------
# Whole-plant checks (run once every field is valid)
# --------------------------------------------------------------------------------------------

def _warmup_problems(plant: Plant) -> list[Problem]:
    if plant.warmup < plant.horizon:
        return []
    message = (
        f"{plant.warmup:g}h is not shorter than the horizon ({plant.horizon:g}h), so no time is "
        "left to measure; shorten the warm-up or lengthen the horizon"
    )
    return [(("warmup",), message)]


def _station_id_problems(plant: Plant) -> list[Problem]:
    first_index: dict[str, int] = {}
    problems = []
    for k, station in enumerate(plant.stations):
        first = first_index.setdefault(station.id, k)
        if first != k:
            message = (
                f"duplicate station id '{station.id}' (also stations[{first}]); "
                "give each station its own id"
            )
            problems.append((("stations", k, "id"), message))
    return problems


def _routing_problems(plant: Plant) -> list[Problem]:
    ids = [station.id for station in plant.stations]
    problems = []
    for k, station in enumerate(plant.stations):
        for path, routing in _routings(station.next):
            here = ("stations", k, "next", *path)
            if isinstance(routing, str):
                problems += _target_problems(here, routing, ids)
            else:
                problems += _branch_problems(here, routing, ids)
    return problems


def _routings(next_: Any) -> list[tuple[Loc, str | list[Route]]]:
    """Each target or list of branches in a station's `next`, with its path under `next`."""
    if isinstance(next_, NextByPart):
        return [(("by_part", kind), routing) for kind, routing in next_.by_part.items()]
    if isinstance(next_, NextByProduct):
        return [(("by_product", name), routing) for name, routing in next_.by_product.items()]
    return [] if next_ is None else [((), next_)]


def _target_problems(loc: Loc, target: str, ids: list[str]) -> list[Problem]:
    if target == EXIT or target in ids:
        return []
    known = [*dict.fromkeys(ids), EXIT]
    close = difflib.get_close_matches(target, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(known)}"
    return [(loc, f"unknown station '{target}'; {hint}")]


def _branch_problems(loc: Loc, branches: list[Route], ids: list[str]) -> list[Problem]:
    problems = []
    seen = set()
    for i, route in enumerate(branches):
        problems += _target_problems((*loc, i, "to"), route.to, ids)
        if route.to in seen:
            message = f"'{route.to}' is listed twice; merge the two branches"
            problems.append(((*loc, i, "to"), message))
        seen.add(route.to)
    return problems + _sum_problems(loc, branches)


def _sum_problems(loc: Loc, branches: list[Route]) -> list[Problem]:
    """The branches' probabilities must sum to 1 at every time their schedules change (the
    first time they do not is named)."""
    steps = [route.p_steps() for route in branches]
    times = sorted({start for branch in steps for start, _ in branch})
    for at in times:
        total = sum(in_force(branch, at) for branch in steps)
        if abs(total - 1) <= PROBABILITY_TOLERANCE:
            continue
        if times == [0.0]:
            return [(loc, f"probabilities sum to {total:g}, not 1; adjust them to add up to 1")]
        return [(loc, (f"p sums to {total:g} from {when_text(at)}; make the branches sum to 1 "
                       "at every time"))]
    return []


def model_at(loc: Loc) -> type[BaseModel]:
    """The model whose fields an error location points into (``power`` means a station's draw
    inside ``stations``, the plant's power block at the top). Union tags that name no model are
    passed over, and so is a value given by product or by part: its model is named above it."""
    items = list(loc)
    while items:
        item = items.pop()
        if items and items[-1] in ("by_product", "by_part"):
            del items[-2:]  # the map and the tag of its form
        elif item == "power":
            return StationPower if "stations" in loc else PlantPower
        elif isinstance(item, str) and (item in MODEL_AT_LOC_NAME or item not in UNION_TAGS):
            return MODEL_AT_LOC_NAME.get(item, Plant)
    return Plant


def _power_problems(plant: Plant) -> list[Problem]:
    """Demand intervals that do not fit the day or the tariff, and a cap too small to start."""
    power = plant.power
    if power is None:
        return []
    problems = []
    step = power.demand_interval
    per_day = HOURS_PER_DAY / step
    if abs(per_day - round(per_day)) > 1e-9:
        problems.append((("power", "demand_interval"),
                         (f"{step * 60:g}min does not divide a day; use an interval such as "
                         "15min, 30min or 1h")))
    elif power.tariff is not None:
        problems += _tariff_problems(power)
    if power.cap is not None:
        problems += _cap_problems(plant)
    return problems


def _tariff_problems(power: PlantPower) -> list[Problem]:
    """Price changes inside a demand interval: band edges, and a tariff schedule's `from`s."""
    step = power.demand_interval
    scheduled = power.has_schedule("tariff")
    problems = []
    for k, (start, tariff) in enumerate(power.tariff_steps()):
        here = ("power", "tariff", k) if scheduled else ("power", "tariff")
        if abs(start / step - round(start / step)) > 1e-9:
            problems.append(((*here, "from"),
                             (f"{when_text(start)} is not a multiple of the {step * 60:g}min "
                              "demand interval; start each tariff on an interval's edge")))
        edges = tariff.energy.edges() if isinstance(tariff.energy, EnergyPrices) else []
        for hour in edges:
            if abs(hour / step - round(hour / step)) > 1e-9:
                problems.append(((*here, "energy"),
                                 (f"a price band starts or ends at hour {hour:g}, inside a "
                                 f"{step * 60:g}min demand interval; move it to a multiple of "
                                 "the interval or shorten the interval")))
                break
    return problems


def _cap_problems(plant: Plant) -> list[Problem]:
    """A cap that cannot let some station start a job even when the rest of the plant is idle,
    for every step of a cap schedule (with the most servers in force while the step lasts)."""
    power = plant.power
    scheduled = power.has_schedule("cap")
    steps = power.cap_steps()
    problems = []
    for k, (start, cap) in enumerate(steps):
        end = steps[k + 1][0] if k + 1 < len(steps) else math.inf
        servers = [_most_during(s.server_steps(), start, end) for s in plant.stations]
        here = ("power", "cap", k, "cap") if scheduled else ("power", "cap")
        when = f"from {when_text(start)}: " if scheduled else ""
        problems += [(here, when + message) for message in _cap_messages(plant, cap, servers)]
    return problems


def _most_during(steps: list[tuple[float, int]], start: float, end: float) -> int:
    """The largest value of `steps` in force at some time of [start, end)."""
    return max([in_force(steps, start)] + [v for t, v in steps if start < t < end])


def _cap_messages(plant: Plant, cap: float, servers: list[int]) -> list[str]:
    """Why `cap` (kW) cannot let some station start a job, with `servers` in force at each
    station."""
    power = plant.power
    factor = power.cooling_factor()
    draws = [(s, s.power, n) for s, n in zip(plant.stations, servers, strict=True)
             if s.power is not None]
    standby = power.base_load + factor * sum(n * p.standby() for _, p, n in draws)
    if standby > cap * (1 + 1e-12):
        return [(f"{cap:g}kW is below what the plant draws on standby ({standby:g}kW: "
                 f"base load, every server's standby draw, cooling); raise the cap to more "
                 f"than that")]
    serving = [(s, p) for s, p, n in draws if n > 0]  # a station with no server starts nothing
    if not serving:
        return []
    station, p = max(serving, key=lambda sp: sp[1].most() - sp[1].standby())
    need = standby + factor * (p.most() - p.standby())
    if need <= cap * (1 + 1e-12):
        return []
    return [(f"{cap:g}kW cannot start a job at station '{station.id}': the plant on "
             f"standby (base load, every server's standby draw, cooling) already needs "
             f"{standby:g}kW and one job there adds {need - standby:g}kW; raise the cap to at "
             f"least {need:g}kW")]


def _named_problems(loc: Loc, name: str, known: list[str], what: str) -> list[Problem]:
    if name in known:
        return []
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else (
        f"use one of: {', '.join(known)}" if known else f"declare it under `{what}`")
    return [(loc, f"unknown {what.removesuffix('s')} '{name}'; {hint}")]


def _logistics_problems(plant: Plant) -> list[Problem]:
    """Fleets and pools that stations name must exist, be unique, and be able to serve."""
    problems = []
    for key, items in (("transport", plant.transport), ("resources", plant.resources)):
        seen: dict[str, int] = {}
        for k, item in enumerate(items):
            if item.id in seen:
                problems.append(((key, k, "id"), (f"duplicate id '{item.id}' (also {key}"
                                 f"[{seen[item.id]}]); give each its own id")))
            seen.setdefault(item.id, k)
    fleets = [f.id for f in plant.transport]
    pools = {p.id: p for p in plant.resources}
    for k, station in enumerate(plant.stations):
        if station.transport is not None:
            problems += _named_problems(("stations", k, "transport"), station.transport,
                                        fleets, "transport")
            if plant.layout is None:
                problems.append((("stations", k, "transport"),
                                 ("a fleet needs the floor plan to drive on; add a `layout` "
                                 "with `floor` and `aisles`")))
            elif len(plant.stations) in plant.successors(k) and plant.layout.shipping is None:
                problems.append((("stations", k, "transport"),
                                 (f"station '{station.id}' sends jobs to exit by a fleet, but "
                                 "the layout has no `shipping` point; add `layout.shipping: "
                                 "[x, y]`")))
        for needs, _ in alternatives(station.requires):
            for pool, units in needs.items():
                found = _named_problems(("stations", k, "requires"), pool, list(pools),
                                        "resources")
                problems += found
                if not found and units > pools[pool].count:
                    problems.append((("stations", k, "requires"),
                                     (f"a job at '{station.id}' needs {units} of '{pool}' but "
                                     f"the pool has {pools[pool].count}; lower the need or "
                                     "raise the pool's count")))
    return problems
