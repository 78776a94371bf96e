"""The plant models of config contract v1: field types, distributions, stations, the plant,
and the whole-plant checks that run once every field is valid. Times are hours (floats)."""

import difflib
import statistics
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from twin.config import parts
from twin.config.fields import (
    DURATION_SCHEMA,
    ConfigModel,
    Duration,
    MeanDuration,
    Power,
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


class Source(ConfigModel):
    """Where jobs come from: one job after each interarrival time, into the first station."""

    interarrival: TimeDistribution = Field(
        description="Time between jobs: a distribution or a fixed duration."
    )


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


class Route(ConfigModel):
    """One branch of a probabilistic routing."""

    to: str = Field(description="Station id, or `exit` to leave the plant.")
    p: float = Field(ge=0, le=1, description="Probability of this branch; the list sums to 1.")


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

UNION_TAGS = frozenset(DIST_NAMES) | {
    "target", "branches", "constant", "profile", "flat", "bands", "time", "single", "places",
    "per_kind", "process_by_product", "failures_by_product", "busy_by_product", "next_by_part",
    "next_by_product"}


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


class Cooling(ConfigModel):
    """Cooling plant that removes the stations' heat."""

    cop: float = Field(
        gt=0, description="Coefficient of performance: kW of heat removed per kW it draws."
    )


class PlantPower(ConfigModel):
    """Plant-level power: base load, cooling, the facility cap, tariff and emissions."""

    base_load: Power = Field(
        0.0, description="Constant draw of lighting, offices and utilities (cooling included)."
    )
    cooling: Cooling | None = Field(
        None, description="Cooling of the stations' heat; absent: no cooling draw."
    )
    cap: Power | None = Field(
        None,
        description=(
            "Facility power cap, cooling included; a job (or profile step) starts only if the "
            "draw stays within it. Absent: no cap."
        ),
    )
    demand_interval: Duration = Field(
        "15min",
        validate_default=True,
        gt=0,
        description="Averaging interval of peak demand and of the power time series.",
    )
    tariff: Tariff | None = Field(None, description="Energy prices and demand charge.")
    co2_per_kwh: float = Field(0.0, ge=0, description="Emissions in kg CO2 per kWh drawn.")

    def cooling_factor(self) -> float:
        """Plant draw per kW of station heat: 1 + 1/COP (1 without cooling)."""
        return 1.0 if self.cooling is None else 1.0 + 1.0 / self.cooling.cop


class Station(ConfigModel):
    """A station: parallel identical servers fed by one first-in first-out buffer. It may split
    each job into parts, or assemble sets of parts into one unit (docs/parts.md)."""

    id: str = Field(
        pattern=r"^[a-z0-9_]+$",
        description="Unique name: lowercase letters, digits, underscores; not `exit`.",
    )
    servers: int = Field(1, ge=1, description="Number of identical parallel servers.")
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


class Plant(ConfigModel):
    """A whole plant: the top level of the config file."""

    name: str = Field(min_length=1, description="Name of the plant, shown in reports.")
    horizon: Duration = Field(gt=0, description="Length of each replication, warm-up included.")
    warmup: Duration = Field(
        "0h",
        validate_default=True,
        description="Statistics cover [warmup, horizon]; shorter than the horizon.",
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
            raise ValidationError.from_exception_data(
                "Plant",
                [_line_error(loc, message) for loc, message in problems],
            )
        return self

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

    def routes(self, j: int, kind: str = ORDER,
               product: str | None = None) -> list[tuple[int, float]]:
        """Resolved routing of the jobs of `kind` and `product` that leave station `j`.

        A plain `next` ignores both; `by_part` takes the entry of `kind` (none: ``[]``),
        `by_product` that of `product` (None: the first product's).

        Returns
        -------
        list of (target, probability)
            `target` is a station index in ``0..J-1``, or ``J == len(stations)`` for exit.
        """
        station = self.stations[j]
        if station.next is None:
            return [(j + 1, 1.0)]
        routing = station.next
        if isinstance(routing, NextByPart):
            routing = routing.by_part.get(kind, [])
        elif isinstance(routing, NextByProduct):
            routing = routing.pick(self.product_ids()[0] if product is None else product)
        index = {s.id: i for i, s in enumerate(self.stations)}
        index[EXIT] = len(self.stations)
        if isinstance(routing, str):
            return [(index[routing], 1.0)]
        return [(index[route.to], route.p) for route in routing]

    def successors(self, j: int) -> set[int]:
        """Every target (``J``: exit) that some job leaving station `j` may go to with p > 0,
        whatever its kind and product."""
        return {t for kind in self.kinds() for product in self.product_ids()
                for t, p in self.routes(j, kind, product) if p > 0}

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
    **dict(zip(DIST_NAMES, DISTRIBUTIONS, strict=True)),
}
"""Which model a pydantic error location is inside, by the last name in the location."""


# --------------------------------------------------------------------------------------------
# Whole-plant checks (run once every field is valid)
# --------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _line_error(loc: Loc, message: str) -> InitErrorDetails:
    """A pydantic error at `loc` whose message is exactly `message`."""
    error_type = PydanticCustomError("plant", "{message}", {"message": message})
    return InitErrorDetails(type=error_type, loc=loc, input=None)


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
    total = sum(route.p for route in branches)
    if abs(total - 1) > PROBABILITY_TOLERANCE:
        problems.append((loc, f"probabilities sum to {total:g}, not 1; adjust them to add up to 1"))
    return problems


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
    elif power.tariff is not None and isinstance(power.tariff.energy, EnergyPrices):
        for hour in power.tariff.energy.edges():
            if abs(hour / step - round(hour / step)) > 1e-9:
                problems.append((("power", "tariff", "energy"),
                                 (f"a price band starts or ends at hour {hour:g}, inside a "
                                 f"{step * 60:g}min demand interval; move it to a multiple of "
                                 "the interval or shorten the interval")))
                break
    if power.cap is not None:
        problems += _cap_problems(plant)
    return problems


def _cap_problems(plant: Plant) -> list[Problem]:
    """A cap that cannot let some station start a job even when the rest of the plant is idle."""
    power = plant.power
    factor = power.cooling_factor()
    draws = [(s, s.power) for s in plant.stations if s.power is not None]
    standby = power.base_load + factor * sum(s.servers * p.standby() for s, p in draws)
    if standby > power.cap * (1 + 1e-12):
        return [(("power", "cap"),
                 (f"{power.cap:g}kW is below what the plant draws on standby ({standby:g}kW: "
                 f"base load, every server's standby draw, cooling); raise the cap to more "
                 f"than that"))]
    if not draws:
        return []
    station, p = max(draws, key=lambda sp: sp[1].most() - sp[1].standby())
    need = standby + factor * (p.most() - p.standby())
    if need <= power.cap * (1 + 1e-12):
        return []
    return [(("power", "cap"),
             (f"{power.cap:g}kW cannot start a job at station '{station.id}': the plant on "
             f"standby (base load, every server's standby draw, cooling) already needs "
             f"{standby:g}kW and one job there adds {need - standby:g}kW; raise the cap to at "
             f"least {need:g}kW"))]


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
