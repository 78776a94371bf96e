"""Independent SimPy reference model of the plant semantics in docs/semantics.md (and power.md,
transport.md, parts.md).

Two uses: tests compare its statistics with the engine's on lines with failures, blocking and
rework, and ``benchmarks/bench_engine.py`` times it as the speed reference. It
shares no code with the engine: a plant is described by the small dataclasses below
(``from_plant`` converts a ``twin.config.Plant`` by duck typing, reading distances, shifts and
alternatives with ``twin``'s config helpers), and every rule of docs/semantics.md, power.md,
transport.md and parts.md is written out again here, in SimPy's process-interaction style.

Model
-----
Each station ``j`` has two FIFO gates, both ``simpy.Resource``:

``places``
    ``buffer_j + servers_j`` slots (unlimited when the buffer is ``None``). A job holds one
    from the moment it enters the station until it has entered the next station (or exits).
``machines``
    ``servers_j`` slots, requested on entry; a job holds one through processing, repairs and
    blocking.

When processing ends the job draws its route and requests a place at the next station, still
holding its place and machine where it is. That is blocking after service, and because a
Resource grants requests in the order they were made, blocked jobs move in the order in which
they became blocked. The source requests a place at station 0 the moment a job is ready, so a
job held at the source queues with those blocked jobs, and the source draws the next
interarrival time only once it has entered.

Failures are operation-dependent. Instead of a per-server clock that runs only while the
server processes, a fresh exponential time to failure is drawn at each start and each resume;
by memorylessness the two are the same process. A failure adds an exponential repair and the
job then resumes its remaining work.

Power
-----
Only a plant with power (a station draw or a plant power block) pays for it: its jobs process
through ``serve`` and track draws, the others run the plain, written-out path of ``job``. Each
server draws by its state, in kW: ``idle``
(no job), busy in step ``k`` of the profile (``p_k``; step ``k`` lasts ``share_k * T`` of the
processing time ``T``, drawn when the job takes the server), ``blocked`` (holding a finished
job), ``down`` (under repair) and ``waiting`` (holding a job that waits for power under the
cap). A station's heat is the sum of its servers' draws; the plant draws ``base_load +
cooling_factor * (sum of heats)``.

Under a cap each server holds a *reservation*: its station's standby ``sb = max(idle,
blocked, down, waiting)``, or ``max(sb, p_k)`` while in step ``k``, down included (a repaired
server resumes its step at once). Only the part above standby, ``e_k = max(sb, p_k) - sb``,
ever changes, so ``_PowerGate`` keeps the sum of those extras against a fixed headroom: the
cap, less the base load, over the cooling factor, less every server's standby. A request for
step ``k`` by a server holding ``e_held`` (0 for a job start) gains ``g = e_k - e_held``. If
``g <= 0`` it proceeds at once; so does ``g > 0`` if the plant-wide FIFO queue is empty and the
sum plus ``g`` fits (relative tolerance 1e-9 on the cap). Otherwise the server falls to standby,
draws ``waiting`` and joins the back of the queue. Whenever the sum falls (or a request is
queued) the head of the queue is granted as soon as it fits, then the next, strictly in order.
A fresh time to failure is drawn at each step's start, which by memorylessness is the same
clock as one that runs on through the steps.

Transport
---------
A station with a fleet first gets a place at the next station as above (none for the exit),
and holds it; the job then asks its fleet for a vehicle, still blocked at its station. A
``_Fleet`` keeps the FIFO queue of requests: a request that arrives while vehicles are idle
takes the idle vehicle nearest its dock (ties: the lowest index). The job's own process then
runs the trip: the vehicle drives empty to the dock and loads, the job leaves its station when
loading ends, rides to the next dock (the shipping point, place ``J``, for the exit), and
enters the next station (or exits) when unloading ends. Then the vehicle is *free* unless its
battery is below threshold: it waits for the nearest free charger (FIFO among vehicles), drives
there and charges to full in a process of its own, and is free when charging ends (after its
charger has gone to the vehicle that waited longest for one). A free vehicle takes the head
request at once if one waits, driving empty from where it is to that pickup; else it drives
home (a process of its own, taking no request on the way) if its fleet has one and it is not
there, or is idle where it is. A vehicle that arrives home is idle and takes the head request
if one waits. A battery level is kept as a linear function of time (-1 an hour while active, the
charge rate while charging), so its lowest point in the window is exact. Nothing that takes
no time yields: a vehicle that is idle is handed over at once and a drive of length 0 is no
event, so a fleet with zero distances and times runs exactly the events of a plant without.

Resources
---------
A job that has taken a server asks ``Pools`` for one alternative of its station's units. It
is granted at once if no request waits and one fits (every pool in it has the units free: its
count if on shift, less the units held), else it waits in the plant's one list of requests,
which is scanned in order (each request taking its first alternative that fits) whenever units
are released, a shift begins or a request joins. Units are held through processing and
repairs and released when processing ends; a pool's calendar is a process that switches it on
and off at its weekly edges. With a power cap a job asks for power after its units.

Products, parts and assembly
----------------------------
The rules of docs/parts.md. Every job is a ``_Job``: its order (rank and entry time), kind,
product (an index into ``RefPlant.products``) and worth in orders (1 for an order, ``w / n`` for
each of the ``n`` parts a split makes of a job worth ``w``, the sum of its set for a unit). The
product is drawn when the source releases an order: one ``random()`` per order, and only in a
plant with ``products``, so a plant without draws what it drew before. A station's process,
failures and busy draw may be given per product, its routes per ``(kind, product)``.

A split station's server, after service and after releasing its units, turns its job into parts
in ``split`` order, draws their routes and moves them one at a time: each requests a place at
its target and the server, blocked, keeps the parts after it until that place is granted. With
a fleet each part is one load: the part's place is reserved, then a vehicle called, and the next
part's place is requested once that vehicle has loaded; the trip is the part's own process. The
server and the job's place are released when the last part has left.

An assembly station has no ``places`` gate: each of its kinds has its own (``places[kind]``,
unlimited when absent), which a part holds from the start of its move until its set starts.
Arrived parts wait in FIFO lists per order and kind (``match='order'``) or per kind
(``'any'``); a set that completes becomes a process of its own that requests a server (FIFO, so
sets start in the order they completed), frees its parts' places when it gets one, and goes on
as one job of kind ``into`` that holds its server only.

Statistics
----------
All figures are exact integrals of piecewise-constant counts clipped to ``[warmup, horizon]``,
not samples. Events at exactly ``horizon`` are still processed, so the window is closed at both
ends (an exit at ``horizon`` counts). Simultaneous events run in SimPy's order (scheduling time,
then creation order); ties only occur with non-continuous distributions. With power, station
heats and the plant draw are integrated the same way, and ``_DemandMeter`` also averages the
draw over demand intervals (aligned to multiples of ``demand_interval`` from time 0, the first
and the last clipped to the window).

Ramps
-----
Values may change over time (``ramp.py``): each is then a list of steps ``[(from_h, value)]``,
and a change at hour ``t`` happens before every other event at ``t``.

*Source plan.* With ``release='drawn'`` each interarrival time is drawn from the step in force
when it is drawn: at the previous arrival, or when a held job entered the first station. With
``'nhpp'`` the steps give mean interarrival times and arrivals are the Poisson process of
rate ``1/mean`` of the step in force, drawn by inverting its cumulative rate; a held job
restarts it when it enters, as it restarts a drawn interarrival (by memorylessness, an
unheld source is exactly that Poisson process).

*Server counts.* A station's ``machines`` and ``places`` are ``ramp.Gate`` s: at each step the
server count becomes the step's, and the places ``buffer + count``. Added servers (and places)
are granted at once to the jobs waiting for them, in order; removed ones go at once if idle,
else when their holders give them back (a busy or blocked server finishes first). A station's
servers *present* are those in force and those still finishing beyond a lowered count. With
power, idle servers in force draw ``idle``, a server that has left draws nothing, and the cap
keeps a standby for each server present (``_PowerGate.add_standby``).

*Learning.* The ``n``-th job started at a station (counted from time 0; per product when the
curve is given per product) takes its drawn time times ``max(floor, n ** log2(rate))``, before
a staffing time factor.

*Routes, cap and pools.* A branch's ``p`` in force at the routing draw (service end); a cap in
force when a server asks for power (running work is never stopped, a raised cap grants waiting
requests at once); a pool's count in force when units are asked for (units held beyond a
lowered count are kept until released, a raised count scans the waiting requests). Busy shares
are over the integral of a station's servers present, or of a pool's count in force.

*Series.* With a report period (``RefPlant.period`` or ``period_h``) a replication also returns
``series``: figures per period tiling ``[warmup, horizon]`` from ``warmup`` (see
:func:`run_replication`).

Times are in hours. One replication uses one ``numpy.random.Generator`` for every draw.
"""

from __future__ import annotations

import bisect
import math
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy
from scipy import stats as _stats

from twin_reference import ramp
from twin_reference.ramp import Steps

Sampler = Callable[[np.random.Generator], float]
"""Draws one duration in hours from the generator it is given."""

# A Resource needs a finite capacity; this stands for "unlimited buffer".
_UNLIMITED = sys.maxsize

ORDER = "order"  # the kind of the jobs the source releases
ALL = "all"  # the one product of a plant without products


# --------------------------------------------------------------------------- distributions


def exponential(mean: float) -> Sampler:
    return lambda rng: rng.exponential(mean)


def deterministic(value: float) -> Sampler:
    return lambda rng: value


def uniform(low: float, high: float) -> Sampler:
    return lambda rng: rng.uniform(low, high)


def triangular(low: float, mode: float, high: float) -> Sampler:
    if low == high:
        return deterministic(low)
    return lambda rng: rng.triangular(low, mode, high)


def lognormal(mean: float, cv: float) -> Sampler:
    """Lognormal with the given mean and coefficient of variation."""
    if cv == 0:
        return deterministic(mean)
    sigma2 = math.log1p(cv * cv)
    mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
    return lambda rng: rng.lognormal(mu, sigma)


def gamma(mean: float, cv: float) -> Sampler:
    """Gamma with the given mean and coefficient of variation."""
    if cv == 0:
        return deterministic(mean)
    shape, scale = 1.0 / (cv * cv), mean * cv * cv
    return lambda rng: rng.gamma(shape, scale)


def empirical(values: Sequence[float]) -> Sampler:
    """Each of ``values`` equally likely."""
    table = tuple(float(v) for v in values)
    if not table:
        raise ValueError("empirical distribution needs at least one value")
    n = len(table)
    return lambda rng: table[rng.integers(n)]


_DISTRIBUTIONS: dict[str, tuple[Callable[..., Sampler], tuple[str, ...]]] = {
    "exponential": (exponential, ("mean",)),
    "deterministic": (deterministic, ("value",)),
    "uniform": (uniform, ("low", "high")),
    "triangular": (triangular, ("low", "mode", "high")),
    "lognormal": (lognormal, ("mean", "cv")),
    "gamma": (gamma, ("mean", "cv")),
    "empirical": (empirical, ("values",)),
}


def sampler(spec: object) -> Sampler:
    """Sampler for a distribution spec: a number (deterministic), or a mapping or object with
    a ``dist`` field naming one of the config's distributions and its parameters in hours."""
    if isinstance(spec, (int, float)):
        return deterministic(float(spec))

    def value(name: str) -> object:
        return spec[name] if isinstance(spec, Mapping) else getattr(spec, name)

    dist = value("dist")
    dist = getattr(dist, "value", dist)  # an Enum member names itself by its value
    if dist not in _DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {dist!r}; expected one of {sorted(_DISTRIBUTIONS)}")
    make, names = _DISTRIBUTIONS[dist]
    if dist == "empirical":
        return make(value("values"))
    return make(*(float(value(name)) for name in names))


# --------------------------------------------------------------------------- plant description


Routes = list[tuple[int, float | Steps[float]]]
"""``(target index, probability)`` pairs; target ``J`` (the number of stations) is the exit. A
probability may be steps ``[(from_h, p)]``; the branches' p in force then sum to 1 at all
times."""

Learning = tuple[float, float]
"""A learning curve ``(rate, floor)``: the ``n``-th job takes ``max(floor, n ** log2(rate))``
times its drawn time; ``0 < rate <= 1``, ``0 <= floor <= 1``."""

Profile = list[tuple[float, float]]
"""A busy draw as ``(share, kW)`` steps, shares summing to 1."""


@dataclass
class RefStation:
    """One station. ``routes``: the branches drawn when service ends, one list for every job, or
    a dict by ``(kind, product index)`` for a station that routes by part or product; ``None``
    means the next station in list order, and exit after the last. ``buffer=None`` is an
    unlimited buffer.

    ``process`` (a sampler), ``mtbf``/``mttr`` (hours; ``None``: no failures),
    ``busy_steps`` (a profile) and ``learning`` may each be a list with one entry per product
    instead.

    ``servers`` may be steps ``[(from_h, count)]`` (counts >= 0, the largest >= 1).
    ``learning``: one curve counted over every job started (``None``: none), or a list of one
    curve (or ``None``) per product, each counted over its product's jobs."""

    servers: int | Steps[int]
    buffer: int | None
    process: Sampler | list[Sampler]
    routes: Routes | dict[tuple[str, int], Routes] | None = None
    mtbf: float | list[float | None] | None = None
    mttr: float | list[float | None] | None = None
    # Power per server in kW by state; ``busy_steps`` is the busy profile (or one per product).
    # All zero and ``busy_steps=None``: the station has no power.
    power_idle: float = 0.0
    busy_steps: Profile | list[Profile] | None = None
    power_blocked: float = 0.0
    power_down: float = 0.0
    power_waiting: float = 0.0
    # Index into ``RefPlant.fleets`` of the fleet that carries finished jobs out (``None``: an
    # instant hand-over), and what each job holds while it processes: alternatives tried in
    # order, each ``({pool index: units}, time factor)`` (empty: nothing).
    fleet: int | None = None
    alternatives: list[tuple[dict[int, int], float]] = field(default_factory=list)
    # Parts (docs/parts.md). ``split``: ``(kind, count)`` in the order the parts leave.
    # ``assemble``: ``{kind: count}`` of a set, matched by ``match`` (``order`` or ``any``) and
    # made into a unit of kind ``into``; its parts wait on ``places[kind]`` places (absent or
    # ``None``: unlimited), and ``buffer`` must be ``None``.
    split: list[tuple[str, int]] | None = None
    assemble: dict[str, int] | None = None
    match: str = "order"
    into: str = "order"
    places: dict[str, int | None] | None = None
    learning: Learning | list[Learning | None] | None = None

    def server_steps(self) -> Steps[int]:
        """The server count as steps (one step when it is constant)."""
        return [(0.0, self.servers)] if isinstance(self.servers, int) else list(self.servers)

    def most_servers(self) -> int:
        """The largest server count: the servers that can ever draw power."""
        return max(count for _, count in self.server_steps())

    def metered(self) -> bool:
        """Whether the station has power (a draw of 0 in every state is still "power")."""
        return self.busy_steps is not None or any(
            (self.power_idle, self.power_blocked, self.power_down, self.power_waiting)
        )

    def by_product(self, name: str, products: int) -> list:
        """Field ``name`` (``process``, ``mtbf``, ``mttr``, ``busy_steps`` or ``learning``) as
        one entry per product; a value given once stands for every product."""
        value = getattr(self, name)
        if name == "busy_steps":  # a profile's entries are pairs of numbers
            per_product = bool(value) and not isinstance(value[0][0], (int, float))
        else:
            per_product = isinstance(value, list)
        return list(value) if per_product else [value] * products

    def profiles(self, products: int) -> list[Profile]:
        """The busy profile of each product; no profile draws nothing while busy."""
        return [[(1.0, 0.0)] if steps is None else steps
                for steps in self.by_product("busy_steps", products)]

    def standby(self) -> float:
        """The most a server draws while not processing: what the cap keeps for it."""
        return max(self.power_idle, self.power_blocked, self.power_down, self.power_waiting)


@dataclass
class RefFleet:
    """Identical vehicles. Places are indices into ``RefPlant.distance``: station ``j``'s dock
    is place ``j``, place ``J`` (the number of stations) the shipping point, the others homes
    and chargers. ``speed`` in m/s; ``load_time`` and ``unload_time`` in hours, a number or a
    ``Sampler``; ``home``: where a vehicle with no request waiting drives after a trip
    (``None``: it stays where it is). A battery holds ``capacity``
    hours of active time (driving, loading, unloading), charges from empty to full in
    ``charge_time`` hours at one of ``chargers`` (places), and is charged after a trip that
    leaves it below ``threshold * capacity``; ``capacity=None``: no battery."""

    count: int
    speed: float
    load_time: float | Sampler = 0.0
    unload_time: float | Sampler = 0.0
    home: int | None = None
    capacity: float | None = None
    charge_time: float | None = None
    threshold: float | None = None
    chargers: list[int] = field(default_factory=list)


@dataclass
class RefPool:
    """A pool of ``count`` identical units, on during the weekly ``on`` intervals ``(start,
    end)`` in hours from Monday 00:00 (sorted, within ``[0, 168]``); ``None``: always on.
    ``count`` may be steps ``[(from_h, count)]`` (counts >= 0, the largest >= 1)."""

    count: int | Steps[int]
    on: list[tuple[float, float]] | None = None

    def count_steps(self) -> Steps[int]:
        """The count as steps (one step when it is constant)."""
        return [(0.0, self.count)] if isinstance(self.count, int) else list(self.count)


@dataclass
class RefPlant:
    """A line: source interarrival times, stations, and the statistics window in hours.

    The source: ``interarrival`` is a sampler, or steps ``[(from_h, sampler or hours)]`` of a
    plan released as ``release`` says: ``'drawn'`` (each time drawn from the step in force) or
    ``'nhpp'`` (then each step's value is its mean interarrival time in hours, > 0: a Poisson
    process of rate ``1/mean``). ``period``: hours of the report's periods (``None``: no
    series).

    Plant power: ``base_load`` in kW (``None``: no plant power block), ``cooling_factor`` kW
    drawn per kW of station heat (1 + 1/COP, or 1 without cooling), ``cap`` in kW (``None``:
    no cap; steps ``[(from_h, kW)]`` for a cap that changes) and the ``demand_interval`` in
    hours.

    Logistics: vehicle ``fleets``, resource ``pools`` and the ``distance`` in metres between
    places, shape ``(P, P)`` (needed when a station has a fleet; see ``RefFleet``)."""

    interarrival: Sampler | Steps[Sampler | float]
    stations: list[RefStation]
    horizon: float
    warmup: float = 0.0
    release: str = "drawn"
    period: float | None = None
    base_load: float | None = None
    cooling_factor: float = 1.0
    cap: float | Steps[float] | None = None
    demand_interval: float = 0.25
    fleets: list[RefFleet] = field(default_factory=list)
    pools: list[RefPool] = field(default_factory=list)
    distance: np.ndarray | None = None
    # Products: ``{id: share}`` in the order of the draw (``None``: the one product ``all``),
    # and the part kinds that ``parts_*`` report (``None``: those the stations name).
    products: dict[str, float] | None = None
    kinds: list[str] | None = None

    def product_ids(self) -> list[str]:
        return list(self.products) if self.products is not None else [ALL]

    def cap_steps(self) -> Steps[float] | None:
        """The cap as steps (one step when it is constant); ``None`` without a cap."""
        if self.cap is None or isinstance(self.cap, list):
            return self.cap
        return [(0.0, self.cap)]

    def part_kinds(self) -> list[str]:
        """Every kind but ``order``: ``kinds`` if given, else the kinds the stations' splits,
        assemblies and ``into`` name, in station order."""
        named = self.kinds if self.kinds is not None else [
            kind
            for st in self.stations
            for kind in [k for k, _ in st.split or []] + list(st.assemble or {})
            + ([st.into] if st.assemble else [])
        ]
        return [kind for kind in dict.fromkeys(named) if kind != ORDER]

    def metered(self) -> bool:
        """Whether the plant has power: a plant block, or any station with power."""
        return (
            self.base_load is not None
            or self.cap is not None
            or self.cooling_factor != 1.0
            or any(st.metered() for st in self.stations)
        )


def check(plant: RefPlant) -> None:
    """Raise ValueError, saying which field is wrong, unless ``plant`` can be simulated."""
    n = len(plant.stations)
    if n == 0:
        raise ValueError("plant has no stations")
    if not 0 <= plant.warmup < plant.horizon:
        raise ValueError(f"need 0 <= warmup < horizon, got {plant.warmup} and {plant.horizon}")
    products = len(plant.product_ids())
    if plant.products is not None:
        shares = list(plant.products.values())
        if not shares or min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(f"products need shares >= 0 that sum to 1, got {shares}")
    _checked_source(plant)
    for j, st in enumerate(plant.stations):
        where = f"stations[{j}]"
        _checked_counts(f"{where}.servers", st.server_steps())
        if st.buffer is not None and st.buffer < 0:
            raise ValueError(f"{where}.buffer must be >= 0 or None, got {st.buffer}")
        for name in ("process", "mtbf", "mttr", "busy_steps", "learning"):
            if len(st.by_product(name, products)) != products:
                raise ValueError(f"{where}.{name} needs one entry per product ({products})")
        for curve in st.by_product("learning", products):
            if curve is not None and not (0 < curve[0] <= 1 and 0 <= curve[1] <= 1):
                raise ValueError(f"{where}.learning needs 0 < rate <= 1 and 0 <= floor <= 1, "
                                 f"got {curve}")
        for mtbf, mttr in zip(st.by_product("mtbf", products), st.by_product("mttr", products),
                              strict=True):
            if (mtbf is None) != (mttr is None):
                raise ValueError(f"{where}: give both mtbf and mttr, or neither")
            if mtbf is not None and not (mtbf > 0 and mttr > 0):
                raise ValueError(f"{where}: mtbf and mttr must be > 0")
        routes = st.routes if isinstance(st.routes, dict) else {"": st.routes}
        for key, branches in routes.items():
            if branches is not None:
                _checked_routes(f"{where}.routes" + (f"[{key}]" if key else ""), branches, n)
        _checked_parts(st, where, first=j == 0)
        if st.metered():
            _checked_station_power(st, where, products)
    if plant.metered():
        _checked_plant_power(plant)
    _checked_logistics(plant)


def _checked_source(plant: RefPlant) -> None:
    if plant.release not in ("drawn", "nhpp"):
        raise ValueError(f"release must be 'drawn' or 'nhpp', got {plant.release!r}")
    if plant.period is not None and not plant.period > 0:
        raise ValueError(f"period must be > 0 hours or None, got {plant.period}")
    steps = plant.interarrival
    if callable(steps):
        if plant.release == "nhpp":
            raise ValueError("release 'nhpp' needs steps [(from_h, mean hours)], not a sampler")
        return
    ramp.checked_steps("interarrival", steps)
    if plant.release == "nhpp" and not all(
        isinstance(mean, (int, float)) and mean > 0 for _, mean in steps
    ):
        raise ValueError(f"release 'nhpp' needs mean interarrival hours > 0, got {steps}")


def _checked_counts(where: str, steps: Steps[int]) -> None:
    """Counts over time (servers, units): steps of counts >= 0, the largest >= 1."""
    ramp.checked_steps(where, steps)
    counts = [count for _, count in steps]
    if min(counts) < 0 or max(counts) < 1:
        raise ValueError(f"{where} needs counts >= 0, the largest >= 1, got {counts}")


def _checked_routes(where: str, routes: Routes, n: int) -> None:
    if not routes:
        raise ValueError(f"{where} is empty")
    for target, p in routes:
        if isinstance(p, list):
            ramp.checked_steps(f"{where} to {target}", p)
        if not 0 <= target <= n or any(q < 0 for _, q in _as_steps(p)):
            raise ValueError(f"{where} has a bad entry ({target}, {p})")
    for hour, ps in _route_steps(routes):
        total = sum(ps)
        if abs(total - 1.0) > 1e-9:
            at = f" from hour {hour:g}" if hour else ""
            raise ValueError(f"{where} probabilities sum to {total}, not 1{at}")


def _as_steps(value: object) -> Steps:
    """A value that may change over time, as steps."""
    return value if isinstance(value, list) else [(0.0, value)]


def _route_steps(routes: Routes) -> list[tuple[float, list[float]]]:
    """The branches' probabilities in force from each hour at which one of them changes."""
    steps = [_as_steps(p) for _, p in routes]
    hours = sorted({from_h for branch in steps for from_h, _ in branch})
    return [(hour, [ramp.value_at(branch, hour) for branch in steps]) for hour in hours]


def _checked_parts(st: RefStation, where: str, first: bool) -> None:
    for name, counts in (("split", dict(st.split or [])), ("assemble", st.assemble or {})):
        if ORDER in counts or any(count < 1 for count in counts.values()):
            raise ValueError(f"{where}.{name} needs part kinds (not {ORDER!r}) and counts >= 1")
    if st.split is not None and (not st.split or len(dict(st.split)) != len(st.split)):
        raise ValueError(f"{where}.split needs distinct kinds, got {st.split}")
    if st.assemble is None:
        return
    if first or not st.assemble or st.buffer is not None or st.match not in ("order", "any"):
        raise ValueError(f"{where}: an assembly needs kinds, buffer None (places per kind), "
                         "match 'order' or 'any', and a station before it")
    for kind, places in (st.places or {}).items():
        if places is not None and places < st.assemble.get(kind, 0):
            raise ValueError(f"{where}.places[{kind!r}] = {places} cannot hold a set's "
                             f"{st.assemble[kind]}: no set would ever complete")


def _checked_station_power(st: RefStation, where: str, products: int) -> None:
    draws = (st.power_idle, st.power_blocked, st.power_down, st.power_waiting)
    if min(draws) < 0:
        raise ValueError(f"{where}: power draws must be >= 0")
    for steps in st.profiles(products):
        if not steps or any(share <= 0 or kw < 0 for share, kw in steps):
            raise ValueError(f"{where}.busy_steps needs steps of share > 0 and power >= 0")
        total = sum(share for share, _ in steps)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"{where}.busy_steps shares sum to {total}, not 1")


def _checked_plant_power(plant: RefPlant) -> None:
    if (plant.base_load or 0.0) < 0 or plant.cooling_factor < 1 or plant.demand_interval <= 0:
        raise ValueError("need base_load >= 0, cooling_factor >= 1 and demand_interval > 0")
    if plant.cap is not None:
        # a lower cap for a while only holds work back; the last one lasts for ever
        ramp.checked_steps("cap", plant.cap_steps())
        cap = plant.cap_steps()[-1][1]
        products = len(plant.product_ids())
        extras = [max(map(max, _extras(st, products))) for st in plant.stations]
        j = int(np.argmax(extras))
        if extras[j] > _headroom(plant, cap):
            need = (plant.base_load or 0.0) + plant.cooling_factor * (
                _standby_total(plant) + extras[j]
            )
            raise ValueError(
                f"cap {cap:g} kW is below the {need:g} kW the plant needs to start a job "
                f"at stations[{j}] with every other server at standby: that job would never "
                "start"
            )


HOURS_PER_WEEK = 168.0


def _checked_logistics(plant: RefPlant) -> None:
    n = len(plant.stations)
    places = 0
    if plant.distance is not None:
        d = np.asarray(plant.distance, dtype=float)
        places = d.shape[0] if d.ndim == 2 else 0
        if d.shape != (places, places) or np.isnan(d).any() or (d < 0).any():
            raise ValueError(f"distance must be a square matrix of metres >= 0, got {d.shape}")
    for f, fleet in enumerate(plant.fleets):
        where = f"fleets[{f}]"
        if places == 0:
            raise ValueError(f"{where} needs distances between places to drive")
        if fleet.count < 1 or not fleet.speed > 0:
            raise ValueError(f"{where}: need count >= 1 and speed > 0")
        battery = (fleet.capacity, fleet.charge_time, fleet.threshold)
        if battery != (None,) * 3:
            if None in battery or not (fleet.capacity > 0 and fleet.charge_time > 0):
                raise ValueError(f"{where}: a battery needs capacity > 0 and charge_time > 0")
            if not 0 < fleet.threshold < 1 or not fleet.chargers:
                raise ValueError(f"{where}: a battery needs 0 < threshold < 1 and chargers")
        for place in [fleet.home, *fleet.chargers]:
            if place is not None and not 0 <= place < places:
                raise ValueError(f"{where}: place {place} is not in the distance matrix")
    for j, st in enumerate(plant.stations):
        where = f"stations[{j}]"
        if st.fleet is not None:
            if not 0 <= st.fleet < len(plant.fleets):
                raise ValueError(f"{where}.fleet {st.fleet} is not a fleet")
            if places <= n:
                raise ValueError(f"{where}: a fleet needs distances between the {n + 1} "
                                 "places of the docks and the shipping point")
        for needs, factor in st.alternatives:
            if not needs or not factor > 0:
                raise ValueError(f"{where}.alternatives need units and a time factor > 0")
            for p, units in needs.items():
                if not 0 <= p < len(plant.pools) or not 1 <= units <= max(
                    count for _, count in plant.pools[p].count_steps()
                ):
                    raise ValueError(f"{where} needs {units} of pool {p}, which it cannot get")
    for p, pool in enumerate(plant.pools):
        _checked_counts(f"pools[{p}].count", pool.count_steps())
        edges = [t for interval in pool.on or [] for t in interval]
        if edges != sorted(edges) or not all(
            0 <= a < b <= HOURS_PER_WEEK for a, b in pool.on or []
        ):
            raise ValueError(f"pools[{p}].on must be sorted, disjoint intervals in [0, 168]")


def from_plant(plant: object) -> RefPlant:
    """Convert a ``twin.config.Plant`` (duck-typed: ``horizon``, ``warmup``,
    ``source.interarrival``, ``stations[j].servers/buffer/process/failures`` and
    ``routes(j) -> [(target, p)]``, all times in hours; optionally ``power``, ``transport``
    fleets, ``resources`` pools, ``layout`` and stations' ``power``, ``transport`` and
    ``requires``) into a ``RefPlant``.

    A plant with ``product_ids()`` is read through the per-product API of docs/parts.md:
    ``product_shares()``, ``kinds()``, ``routes(j, kind, product)`` and stations'
    ``process_for``, ``failures_for``, ``power_for`` (by product id), ``split``, ``assemble``,
    ``match``, ``into_kind`` and ``places_for(kind)``. A value that is the same for every
    product (or kind) becomes one value, so a plant without products converts as before.

    Ramps, each read where the plant has it: ``source.steps() -> [(from_h, dist)]`` and
    ``source.release``, stations' ``server_steps() -> [(from_h, count)]`` and
    ``learning_for(product)`` (``.rate``, ``.floor``; counted per product when the station's
    ``learning`` is given ``by_product``), each routing branch's ``p_steps()``, the power's
    ``cap_steps()``, pools' ``count_steps()`` and ``report.period`` (hours). Fleets whose count
    changes raise NotImplementedError.

    Distances come from ``twin.config.geometry.plant_geometry`` and shifts and alternatives from
    ``twin.config.logistics``: config reading, imported only when the plant needs them."""
    fleet_ids = [fleet.id for fleet in getattr(plant, "transport", None) or []]
    pool_ids = [pool.id for pool in getattr(plant, "resources", None) or []]
    parts = {}
    products = [ALL]
    if hasattr(plant, "product_ids"):
        products = list(plant.product_ids())
        if products != [ALL]:
            parts["products"] = dict(zip(products, map(float, plant.product_shares()),
                                         strict=True))
        parts["kinds"] = [kind for kind in plant.kinds() if kind != ORDER]
    stations = []
    for j, st in enumerate(plant.stations):
        fleet = getattr(st, "transport", None)
        servers = (_int_steps(st.server_steps()) if hasattr(st, "server_steps")
                   else int(st.servers))
        stations.append(
            RefStation(
                servers=servers,
                buffer=None if st.buffer is None or getattr(st, "assemble", None)
                else int(st.buffer),
                fleet=None if fleet is None else fleet_ids.index(fleet),
                alternatives=_alternatives(getattr(st, "requires", None), pool_ids),
                learning=_learning(st, products),
                **_station_products(plant, j, products, parts.get("kinds", [])),
            )
        )
    report = getattr(plant, "report", None)
    period = getattr(report, "period", None)
    return RefPlant(
        **_source(plant.source),
        stations=stations,
        horizon=float(plant.horizon),
        warmup=float(getattr(plant, "warmup", 0.0) or 0.0),
        period=None if period is None else float(period),
        pools=[_pool(pool) for pool in getattr(plant, "resources", None) or []],
        **parts,
        **_plant_power(getattr(plant, "power", None)),
        **_transport(plant),
    )


def _int_steps(steps: list) -> int | Steps[int]:
    """Counts over time as one count when there is one step, else as steps."""
    steps = [(float(from_h), int(count)) for from_h, count in steps]
    return steps[0][1] if len(steps) == 1 else steps


def _source(source: object) -> dict:
    """RefPlant ``interarrival`` and ``release`` of a source (``interarrival``; a plan's
    ``steps()`` and ``release``)."""
    release = str(getattr(source, "release", None) or "drawn")
    if not hasattr(source, "steps"):
        return {"interarrival": sampler(source.interarrival)}
    steps = [(float(from_h), dist) for from_h, dist in source.steps()]
    if release == "nhpp":
        return {"release": release, "interarrival": [(h, _mean(d)) for h, d in steps]}
    if len(steps) == 1:
        return {"interarrival": sampler(steps[0][1])}
    return {"release": release, "interarrival": [(h, sampler(d)) for h, d in steps]}


def _mean(spec: object) -> float:
    """The mean in hours of a distribution spec (a number, or an object whose ``mean`` is a
    number or a method)."""
    if isinstance(spec, (int, float)):
        return float(spec)
    mean = spec.mean
    return float(mean() if callable(mean) else mean)


def _learning(st: object, products: list[str]) -> Learning | list[Learning | None] | None:
    """RefStation ``learning`` of a station's ``learning_for(product)``: one curve, or one per
    product when the station's ``learning`` is given ``by_product`` (so counted per product)."""
    if not hasattr(st, "learning_for"):
        return None
    curves = [st.learning_for(p) for p in products]
    curves = [None if c is None else (float(c.rate), float(c.floor or 0.0)) for c in curves]
    if getattr(getattr(st, "learning", None), "by_product", None) is not None:
        return curves
    return curves[0]


def _once(values: list) -> object:
    """``values`` (one per product or kind) as one value when they are all equal."""
    return values[0] if all(v == values[0] for v in values) else values


def _station_products(plant: object, j: int, products: list[str], kinds: list[str]) -> dict:
    """RefStation fields of station ``j`` that may differ by product or kind: process,
    failures, power, routes and parts. A station without ``process_for`` (a plant without the
    per-product API) gives its plain ``process``, ``failures``, ``power`` and ``routes(j)``."""
    st = plant.stations[j]
    if not hasattr(st, "process_for"):
        return {
            "process": sampler(st.process),
            "routes": _timed(st, plant.routes(j), ORDER, None),
            **_failures([getattr(st, "failures", None)]),
            **_station_power([getattr(st, "power", None)]),
        }
    specs = [st.process_for(p) for p in products]
    process = _once(specs)
    fields = {
        "process": [sampler(s) for s in specs] if isinstance(process, list) else sampler(process),
        "routes": _routes(plant, j, products, kinds),
        **_failures([st.failures_for(p) for p in products]),
        **_station_power([st.power_for(p) for p in products]),
    }
    if st.split:
        fields["split"] = [(str(kind), int(count)) for kind, count in st.split.items()]
    if st.assemble:
        match = getattr(st.match, "value", st.match)  # an Enum member names itself by its value
        fields.update(
            assemble={str(kind): int(count) for kind, count in st.assemble.items()},
            match="order" if match is None else str(match),
            into=str(st.into_kind),
            places={kind: st.places_for(kind) for kind in st.assemble},
        )
    return fields


def _routes(plant: object, j: int, products: list[str], kinds: list[str]) -> object:
    """Station ``j``'s branches for every ``(kind, product index)`` it has an entry for (one
    list when they are all the same). A kind that cannot reach a station routing by part may
    have no entry there (``routes`` returns no branches, or raises a ``LookupError`` or
    ``ValueError``); a job of a kind without one makes the replication raise."""
    st = plant.stations[j]
    table = {}
    for kind in [ORDER, *kinds]:
        for i, product in enumerate(products):
            try:
                branches = plant.routes(j, kind, product)
            except (LookupError, ValueError):
                continue
            if branches:
                table[kind, i] = _timed(st, branches, kind, product)
    first = next(iter(table.values()))
    return first if all(branches == first for branches in table.values()) else table


def _timed(st: object, branches: list, kind: str, product: str | None) -> Routes:
    """``branches`` ``[(target, p)]`` of ``st``'s routing for ``kind`` and ``product``, with a
    branch's ``p`` as steps where the config's branch (an entry of ``st.next``, or of its
    ``by_part`` or ``by_product`` table) has ``p_steps()`` of more than one step."""
    routing = getattr(st, "next", None)
    if hasattr(routing, "by_part"):
        routing = routing.by_part.get(kind)
    elif hasattr(routing, "by_product"):
        routing = None if product is None else routing.pick(product)
    steps = [None] * len(branches)
    if isinstance(routing, list) and len(routing) == len(branches):
        steps = [[(float(h), float(p)) for h, p in route.p_steps()]
                 if hasattr(route, "p_steps") else None for route in routing]
    return [(int(target), step if step is not None and len(step) > 1 else float(p))
            for (target, p), step in zip(branches, steps, strict=True)]


def _failures(failures: list) -> dict:
    """RefStation ``mtbf`` and ``mttr`` of each product's failures (``None``: none)."""
    mtbf = [None if f is None else float(f.mtbf) for f in failures]
    mttr = [None if f is None else float(f.mttr) for f in failures]
    return {"mtbf": _once(mtbf), "mttr": _once(mttr)}


def _alternatives(requires: object, pool_ids: list[str]) -> list[tuple[dict[int, int], float]]:
    """A station's ``requires`` as ``[({pool index: units}, time factor)]``."""
    if requires is None:
        return []
    from twin.config.logistics import alternatives

    return [
        ({pool_ids.index(pool): int(units) for pool, units in needs.items()}, float(factor))
        for needs, factor in alternatives(requires)
    ]


def _pool(pool: object) -> RefPool:
    """A pool (``count``, optionally ``count_steps()``, ``shifts``: ``None`` or a weekly
    calendar) as a ``RefPool``."""
    count = (_int_steps(pool.count_steps()) if hasattr(pool, "count_steps")
             else int(pool.count))
    if pool.shifts is None:
        return RefPool(count=count)
    from twin.config.logistics import on_hours

    on = [(float(a), float(b)) for a, b in on_hours(pool.shifts)]
    return RefPool(count=count, on=on)


def _transport(plant: object) -> dict:
    """RefPlant ``fleets`` and ``distance`` of a plant's ``transport`` fleets (``count``,
    ``speed``, ``load_time``, ``unload_time``, ``battery``) on its ``layout``; none without
    fleets, or without a layout for them to drive on."""
    fleets = getattr(plant, "transport", None) or []
    if not fleets:
        return {}
    for fleet in fleets:
        if hasattr(fleet, "count_steps") and len(fleet.count_steps()) > 1:
            raise NotImplementedError(
                f"fleet {fleet.id!r}: the reference model has no fleet sizes over time (which "
                "vehicle goes, and where one comes in, are engine choices it does not model); "
                "give the fleet one count to check it against the reference"
            )
    from twin.config.geometry import plant_geometry

    geometry = None if getattr(plant, "layout", None) is None else plant_geometry(plant)
    if geometry is None:
        raise ValueError("fleets need the plant's layout to drive on")
    out = {"distance": np.asarray(geometry.distance, dtype=float), "fleets": []}
    for fleet in fleets:
        battery = fleet.battery
        out["fleets"].append(
            RefFleet(
                count=int(fleet.count),
                speed=float(fleet.speed),
                load_time=float(fleet.load_time),
                unload_time=float(fleet.unload_time),
                home=geometry.homes.get(fleet.id),
                capacity=None if battery is None else float(battery.capacity),
                charge_time=None if battery is None else float(battery.charge_time),
                threshold=None if battery is None else float(battery.threshold),
                chargers=[int(c) for c in geometry.chargers.get(fleet.id, [])],
            )
        )
    return out


def _station_power(powers: list) -> dict:
    """RefStation power fields of each product's station ``power`` (``idle``, ``blocked``,
    ``down``, ``waiting`` in kW and ``steps() -> [(share, kW)]``); none when they are all
    ``None``. The states' draws are the station's, the same for every product."""
    given = [power for power in powers if power is not None]
    if not given:
        return {}
    if len(given) != len(powers):
        raise ValueError("a station with power needs a power for every product")
    states = _once([(float(p.idle), float(p.blocked), float(p.down), float(p.waiting))
                    for p in given])
    if isinstance(states, list):
        raise ValueError(f"idle, blocked, down and waiting draws differ by product: {states}")
    steps = _once([[(float(share), float(kw)) for share, kw in p.steps()] for p in given])
    return {
        "power_idle": states[0],
        "busy_steps": steps,
        "power_blocked": states[1],
        "power_down": states[2],
        "power_waiting": states[3],
    }


def _plant_power(power: object) -> dict:
    """RefPlant power fields of a plant's ``power`` (``base_load``, ``cap`` in kW,
    ``demand_interval`` in hours, ``cooling_factor()``); none when it is ``None``."""
    if power is None:
        return {}
    if hasattr(power, "cap_steps"):  # a cap that may change over time
        steps = power.cap_steps()
        steps = None if steps is None else [(float(h), float(kw)) for h, kw in steps]
        cap = steps[0][1] if steps is not None and len(steps) == 1 else steps
    else:
        cap = None if power.cap is None else float(power.cap)
    return {
        "base_load": float(power.base_load),
        "cooling_factor": float(power.cooling_factor()),
        "cap": cap,
        "demand_interval": float(power.demand_interval),
    }


# --------------------------------------------------------------------------- simulation


class _CountingEnvironment(simpy.Environment):
    """An Environment that counts the events it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.processed = 0

    def step(self) -> None:
        self.processed += 1
        super().step()


class _WindowArea:
    """Area under a piecewise-constant count, clipped to the window [start, end]."""

    __slots__ = ("area", "end", "last", "start", "value")

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.value = 0
        self.last = 0.0
        self.area = 0.0

    def add(self, now: float, delta: int) -> None:
        lo = max(self.start, self.last)
        hi = min(self.end, now)
        if hi > lo:
            self.area += self.value * (hi - lo)
        self.last = now
        self.value += delta


class _DemandMeter:
    """Maximum and demand-interval averages of a piecewise-constant level over the window
    [start, end]. Intervals are aligned to multiples of ``width`` from time 0; the first and
    the last are clipped to the window and averaged over the part they cover."""

    __slots__ = (
        "bin_area",
        "bin_hi",
        "bin_lo",
        "bins",
        "end",
        "index",
        "last",
        "max",
        "start",
        "value",
        "width",
    )

    def __init__(self, start: float, end: float, width: float, value: float) -> None:
        self.start, self.end, self.width = start, end, width
        self.value = value
        self.last = 0.0
        self.max = -math.inf
        self.bins: list[float] = []
        k = start / width
        self.index = round(k) if abs(k - round(k)) <= 1e-9 else math.floor(k)
        self.bin_lo, self.bin_hi = start, self._edge()
        self.bin_area = 0.0

    def _edge(self) -> float:
        """End of the current interval, snapped to the window's end when within rounding."""
        hi = (self.index + 1) * self.width
        return self.end if hi >= self.end - 1e-9 * self.width else hi

    def _close(self) -> None:
        self.bins.append(self.bin_area / (self.bin_hi - self.bin_lo))
        self.index += 1
        self.bin_lo, self.bin_hi = self.bin_hi, self._edge()
        self.bin_area = 0.0

    def add(self, now: float, delta: float) -> None:
        lo = max(self.start, self.last)
        hi = min(self.end, now)
        if hi > lo:
            v = self.value
            self.max = max(self.max, v)
            while hi > self.bin_hi:  # the level held across an interval's end
                self.bin_area += v * (self.bin_hi - lo)
                lo = self.bin_hi
                self._close()
            self.bin_area += v * (hi - lo)
        self.last = now
        self.value += delta

    def close(self) -> list[float]:
        """Bring the level to the window's end and return the interval averages."""
        self.add(self.end, 0.0)
        self._close()
        return self.bins


def _extras(st: RefStation, products: int) -> list[list[float]]:
    """Reservation above standby of a server in each busy step of each product's profile:
    ``max(sb, p_k) - sb``."""
    sb = st.standby()
    return [[max(sb, kw) - sb for _, kw in steps] for steps in st.profiles(products)]


def _standby_total(plant: RefPlant) -> float:
    return sum(st.most_servers() * st.standby() for st in plant.stations)


def _cap_heat(plant: RefPlant, cap: float) -> float:
    """The most the stations' reservations may sum to under ``cap`` (tolerance 1e-9)."""
    return (cap * (1 + 1e-9) - (plant.base_load or 0.0)) / plant.cooling_factor


def _headroom(plant: RefPlant, cap: float) -> float:
    """The most the reservations above standby may sum to under ``cap`` when every server of
    the largest counts is present."""
    return _cap_heat(plant, cap) - _standby_total(plant)


class _PowerGate:
    """The cap: the sum of reservations above standby, and the plant-wide FIFO queue of
    requests that did not fit, each ``(extra it needs, event to trigger when granted)``.
    The extras may sum to ``headroom``: the cap's ``limit`` on the stations' heat less the
    ``standby`` reserved by the servers present (those in force, and those beyond a lowered
    count that still hold a job)."""

    def __init__(self, env: simpy.Environment, limit: float, standby: float) -> None:
        self.env = env
        self.limit, self.standby = limit, standby
        self.headroom = limit - standby
        self.extra = 0.0
        self.queue: deque[tuple[float, simpy.Event]] = deque()

    def ask(self, held: float, need: float) -> simpy.Event | None:
        """A server holding ``held`` above standby asks for ``need``: ``None`` if it proceeds
        at once, else the event that grants it (it then holds nothing until granted)."""
        gain = need - held
        if gain <= 0 or (not self.queue and self.extra + gain <= self.headroom):
            self.extra += gain
            if gain < 0:
                self._grant()
            return None
        grant = self.env.event()
        self.queue.append((need, grant))
        self.release(held)
        return grant

    def release(self, amount: float) -> None:
        self.extra -= amount
        self._grant()

    def set_limit(self, limit: float) -> None:
        """The cap changes: a higher one grants the queue's head requests that now fit; a
        lower one takes back nothing that is held."""
        self.limit = limit
        self.headroom = limit - self.standby
        self._grant()

    def add_standby(self, kw: float) -> None:
        """Servers come (``kw > 0``) or go: their standby is kept out of the headroom."""
        self.standby += kw
        self.headroom = self.limit - self.standby
        self._grant()

    def _grant(self) -> None:
        queue = self.queue
        while queue and self.extra + queue[0][0] <= self.headroom:
            need, grant = queue.popleft()
            self.extra += need
            grant.succeed()


def _as_sampler(time: float | Sampler) -> Sampler:
    return time if callable(time) else sampler(time)


# A vehicle's states, and the figure each counts towards (idle: the rest of the time).
_TALLY = {
    "idle": None,
    "empty": "empty",
    "loaded": "loaded",
    "handling": "handling",
    "charging": "charging",
    "queued": "charging",  # waiting for a charger
}
_ACTIVE = ("empty", "loaded", "handling")  # the states that drain a battery


class _Vehicle:
    """One vehicle: the place it is at (or last left), its state, and its battery level in
    hours, ``level + rate * (t - since)`` at time ``t``."""

    __slots__ = ("index", "level", "place", "rate", "since", "state")

    def __init__(self, index: int, place: int, level: float) -> None:
        self.index, self.place, self.level = index, place, level
        self.state, self.rate, self.since = "idle", 0.0, 0.0

    def level_at(self, now: float) -> float:
        return self.level + self.rate * (now - self.since)


class _Fleet:
    """Run-time state of one fleet: its vehicles, the FIFO queue of requests (each the pickup
    place and the event that hands the job a vehicle), its chargers (with the FIFO queue of
    vehicles waiting for one) and its tallies. Invariants: requests wait only while no vehicle
    is idle, and vehicles wait for a charger only while none is free.

    ``distance`` has shape ``(P, P)``: metres from place ``i`` (axis 0) to place ``j`` (axis
    1); ``hours[i][j]`` is the driving time, as nested lists (Python floats, fast to index).
    ``start`` is the place every vehicle starts at."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: RefFleet,
        start: int,
        distance: np.ndarray,
        window: tuple[float, float],
    ) -> None:
        self.env, self.window = env, window
        self.hours = (np.asarray(distance, dtype=float) / (spec.speed * 3600.0)).tolist()
        self.speed = spec.speed
        self.load_time, self.unload_time = (_as_sampler(spec.load_time),
                                            _as_sampler(spec.unload_time))
        self.home = spec.home
        self.capacity = spec.capacity
        if spec.capacity is not None:
            self.charge_time = spec.charge_time
            self.low = spec.threshold * spec.capacity
            self.lowest = spec.capacity
        self.chargers = list(spec.chargers)
        self.charger_free = [True] * len(self.chargers)
        self.charger_queue: deque[simpy.Event] = deque()
        self.vehicles = [_Vehicle(i, start, spec.capacity or 0.0) for i in range(spec.count)]
        self.idle = list(self.vehicles)
        self.requests: deque[tuple[int, simpy.Event]] = deque()
        self.areas = {name: _WindowArea(*window) for name in ("loaded", "empty", "handling",
                                                               "charging")}
        self.wait_total = 0.0
        self.waits = 0
        self.trips = 0

    def set(self, v: _Vehicle, now: float, state: str) -> None:
        """``v`` starts doing ``state`` at ``now``."""
        old, new = _TALLY[v.state], _TALLY[state]
        if old != new:
            if old is not None:
                self.areas[old].add(now, -1)
            if new is not None:
                self.areas[new].add(now, 1)
        v.state = state
        if self.capacity is not None:
            self.advance(v, now)
            v.rate = (
                -1.0 if state in _ACTIVE
                else self.capacity / self.charge_time if state == "charging"
                else 0.0
            )

    def advance(self, v: _Vehicle, now: float) -> None:
        """Bring ``v``'s battery level to ``now``, keeping the lowest level inside the window
        (a linear piece is lowest at one of its ends)."""
        lo, hi = max(v.since, self.window[0]), min(now, self.window[1])
        if hi >= lo:
            self.lowest = min(self.lowest, v.level_at(lo), v.level_at(hi))
        v.level, v.since = v.level_at(now), now

    def request(self, pickup: int) -> _Vehicle | simpy.Event:
        """A job at place ``pickup`` asks for a vehicle: one now, or the event that gives it."""
        if self.idle and not self.requests:
            return self._take(pickup)
        event = self.env.event()
        self.requests.append((pickup, event))
        return event

    def _take(self, pickup: int) -> _Vehicle:
        """The idle vehicle nearest to ``pickup`` (ties: the lowest index), now busy."""
        v = min(self.idle, key=lambda v: (self.hours[v.place][pickup], v.index))
        self.idle.remove(v)
        return v

    def hand(self, v: _Vehicle) -> bool:
        """A free ``v`` (no longer idle, if it was) takes the head request if one waits
        (``True``); the job's process then drives it to the pickup."""
        if not self.requests:
            return False
        _, event = self.requests.popleft()
        event.succeed(v)
        return True

    def park(self, v: _Vehicle, now: float) -> None:
        """``v`` is idle where it is; the queue's head requests take idle vehicles."""
        self.set(v, now, "idle")
        self.idle.append(v)
        while self.requests and self.idle:
            pickup, event = self.requests.popleft()
            event.succeed(self._take(pickup))

    def charger(self, v: _Vehicle) -> int | simpy.Event:
        """The nearest free charger for ``v`` (ties: the lowest index), now taken, or the
        event that gives ``v`` the first charger to free."""
        free = [c for c, ok in enumerate(self.charger_free) if ok]
        if free and not self.charger_queue:
            c = min(free, key=lambda c: (self.hours[v.place][self.chargers[c]], c))
            self.charger_free[c] = False
            return c
        event = self.env.event()
        self.charger_queue.append(event)
        return event

    def unplug(self, c: int) -> None:
        if self.charger_queue:
            self.charger_queue.popleft().succeed(c)
        else:
            self.charger_free[c] = True

    def results(self, span: float) -> dict:
        end, n = self.window[1], len(self.vehicles)
        figures = {}
        for name, area in self.areas.items():
            area.add(end, 0)
            figures[name] = area.area / (span * n)
        figures["idle"] = 1.0 - sum(figures.values())
        figures["mean_wait_h"] = self.wait_total / self.waits if self.waits else math.nan
        figures["trips_per_h"] = self.trips / span
        driving = figures["loaded"] + figures["empty"]
        figures["km_per_vehicle_per_h"] = driving * self.speed * 3.6
        if self.capacity is not None:
            for v in self.vehicles:
                self.advance(v, end)
            figures["min_battery"] = self.lowest
        return figures


def _shift_edges(on: list[tuple[float, float]]) -> list[tuple[float, bool]]:
    """A weekly calendar's changes, ``(hour of the week, on)`` in time order; a shift that
    runs on across Monday 00:00 has no edge there."""
    wraps = bool(on) and on[0][0] == 0.0 and on[-1][1] == HOURS_PER_WEEK
    edges = []
    for a, b in on:
        if not (wraps and a == 0.0):
            edges.append((a, True))
        if not (wraps and b == HOURS_PER_WEEK):
            edges.append((b, False))
    return edges


class Pools:
    """The plant's resource pools and its one list of waiting requests, served first-fit in
    request order. A request is its alternatives ``[({pool: units}, time factor)]``, the time
    it was made and the event that grants it (with the index of the alternative granted).
    Invariant: no waiting request fits (each change that frees units is followed by a scan)."""

    def __init__(self, env: simpy.Environment, specs: list[RefPool],
                 window: tuple[float, float]) -> None:
        self.env, self.warmup = env, window[0]
        self.count = [pool.count_steps()[0][1] for pool in specs]
        self.counted = [_WindowArea(*window) for _ in specs]  # the count in force
        for area, count in zip(self.counted, self.count, strict=True):
            area.value = count
        self.on = [pool.on is None or (bool(pool.on) and pool.on[0][0] == 0.0) for pool in specs]
        self.held = [0] * len(specs)
        self.busy = [_WindowArea(*window) for _ in specs]
        self.wait_total = [0.0] * len(specs)
        self.grants = [0] * len(specs)
        self.waiting: list[tuple[list, float, simpy.Event]] = []

    def ask(self, alternatives: list[tuple[dict[int, int], float]]) -> int | simpy.Event:
        """The index of the alternative granted now, or the event that grants one."""
        now = self.env.now
        if not self.waiting:
            a = self._fitting(alternatives)
            if a is not None:
                self.take(alternatives[a][0], now, now)
                return a
        event = self.env.event()
        self.waiting.append((alternatives, now, event))
        self._scan()
        return event

    def release(self, needs: dict[int, int]) -> None:
        now = self.env.now
        for p, units in needs.items():
            self.busy[p].add(now, -units)
            self.held[p] -= units
        if self.waiting:
            self._scan()

    def resize(self, p: int, count: int) -> None:
        """Pool ``p``'s count becomes ``count``; units held beyond it are kept until
        released."""
        self.counted[p].add(self.env.now, count - self.count[p])
        raised = count > self.count[p]
        self.count[p] = count
        if raised and self.waiting:
            self._scan()

    def shift(self, p: int, on: bool) -> None:
        """Pool ``p``'s shift begins (``on``) or ends; jobs in progress keep their units."""
        self.on[p] = on
        if on and self.waiting:
            self._scan()

    def _fitting(self, alternatives: list[tuple[dict[int, int], float]]) -> int | None:
        for a, (needs, _) in enumerate(alternatives):
            if all((self.count[p] if self.on[p] else 0) - self.held[p] >= units
                   for p, units in needs.items()):
                return a
        return None

    def take(self, needs: dict[int, int], requested: float, now: float) -> None:
        """Grant ``needs`` at ``now`` to a request made at ``requested``."""
        for p, units in needs.items():
            self.busy[p].add(now, units)
            self.held[p] += units
            if now >= self.warmup:
                self.wait_total[p] += now - requested
                self.grants[p] += 1

    def _scan(self) -> None:
        now, waiting = self.env.now, []
        for alternatives, requested, event in self.waiting:
            a = self._fitting(alternatives)
            if a is None:
                waiting.append((alternatives, requested, event))
            else:
                self.take(alternatives[a][0], requested, now)
                event.succeed(a)
        self.waiting = waiting

    def results(self, end: float) -> dict:
        figures = {}
        for p, counted in enumerate(self.counted):
            self.busy[p].add(end, 0)
            counted.add(end, 0)
            figures[p] = {
                "busy": self.busy[p].area / (counted.area or math.nan),
                "mean_wait_h": self.wait_total[p] / self.grants[p] if self.grants[p] else math.nan,
            }
        return figures


class _Job:
    """One job: its order's rank (of entry, from 1) and entry time, its kind, its product (an
    index into the plant's products) and its worth in orders."""

    __slots__ = ("entered", "kind", "order", "product", "worth")

    def __init__(self, order: int, entered: float, kind: str, product: int,
                 worth: float) -> None:
        self.order, self.entered, self.kind = order, entered, kind
        self.product, self.worth = product, worth


def _branches(routes: Routes) -> tuple[list[int], list[float] | tuple[list[float], list]]:
    """Targets and cumulative probabilities of ``routes``; where probabilities change over
    time, the hours at which they change and the cumulative probabilities from each."""
    targets = [target for target, _ in routes]
    if not any(isinstance(p, list) for _, p in routes):
        return targets, list(np.cumsum([p for _, p in routes]))
    steps = _route_steps(routes)
    return targets, ([hour for hour, _ in steps], [list(np.cumsum(ps)) for _, ps in steps])


def _area(window: tuple[float, float],
          edges: list[float] | None) -> _WindowArea | ramp.PeriodArea:
    """A window's area, split over the report periods (``edges``) when there are some."""
    return _WindowArea(*window) if edges is None else ramp.PeriodArea(edges)


class _Station:
    """Run-time state of one station: its gates, its route table and its tallies. Values that
    may differ by product are lists indexed by product. ``edges``: the report periods' edges
    (``None``: no series), over which ``busy``, ``on`` and ``heat`` are split."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: RefStation,
        index: int,
        window: tuple[float, float],
        products: int,
        metered: bool = False,
        edges: list[float] | None = None,
    ) -> None:
        self.env = env
        plan = spec.server_steps()
        count = plan[0][1]
        self.plan = plan if len(plan) > 1 else None  # a server count that changes
        self.machines = ramp.Gate(env, count) if self.plan else simpy.Resource(env, count)
        # servers present: those in force, and those beyond a lowered count that hold a job
        self.on = _area(window, edges)
        self.on.value = count
        self.index = index
        self.fleet, self.alternatives = spec.fleet, spec.alternatives
        self.process = spec.by_product("process", products)
        self.mtbf, self.mttr = spec.by_product("mtbf", products), spec.by_product("mttr", products)
        self.learning = (None if spec.learning is None
                         else spec.by_product("learning", products))
        self.learns_by_product = isinstance(spec.learning, list)
        self.started = [0] * products  # jobs started, per product if it learns by product
        self.split = spec.split
        self.assemble = spec.assemble
        self.buffer = spec.buffer
        if spec.assemble is None:
            if spec.buffer is None:
                self.places = simpy.Resource(env, _UNLIMITED)
            elif self.plan:
                self.places = ramp.Gate(env, spec.buffer + count)
            else:
                self.places = simpy.Resource(env, spec.buffer + count)
        else:  # a gate per kind, and the waiting parts (see ``Replication.gather``)
            self.places = None
            limits = spec.places or {}
            self.kind_places = {
                kind: simpy.Resource(env, _UNLIMITED if limits.get(kind) is None else limits[kind])
                for kind in spec.assemble
            }
            self.match_order, self.into = spec.match == "order", spec.into
            # waiting parts with their places, FIFO: by order, then kind (match "order"), or
            # by kind (match "any")
            self.waiting: dict = {} if self.match_order else {k: deque() for k in spec.assemble}
        routes = spec.routes if spec.routes is not None else [(index + 1, 1.0)]
        if isinstance(routes, dict):
            self.branches, self.table = None, {key: _branches(r) for key, r in routes.items()}
        else:
            self.branches = _branches(routes)
        self.busy = _area(window, edges)
        self.blocked, self.down, self.queue = (_WindowArea(*window) for _ in range(3))
        # waiting at a server: for units (``unit_wait``) or for power (``power_wait``)
        self.unit_wait, self.power_wait = _WindowArea(*window), _WindowArea(*window)
        self.wait_total = 0.0
        self.waits = 0
        self.departures = 0
        if metered:
            self.idle_kw, self.blocked_kw = spec.power_idle, spec.power_blocked
            self.down_kw, self.waiting_kw = spec.power_down, spec.power_waiting
            self.standby_kw = spec.standby()
            # per product, ((share, kW), extra) per step
            self.steps = [
                list(zip(steps, extras, strict=True))
                for steps, extras in zip(spec.profiles(products), _extras(spec, products),
                                         strict=True)
            ]
            self.last_kw = [steps[-1][0][1] for steps in self.steps]
            self.heat = _area(window, edges)
            self.heat.value = count * spec.power_idle  # every server idle at time 0

    def learned(self, product: int) -> float:
        """The learning factor of a job of ``product`` that starts now (counting it)."""
        curve = self.learning[product]
        if curve is None:
            return 1.0
        k = product if self.learns_by_product else 0
        self.started[k] += 1
        rate, floor = curve
        return max(floor, self.started[k] ** math.log2(rate))

    def leaving(self) -> bool:
        """Whether a server that gives its job back now leaves: more servers hold jobs than
        the count in force."""
        return len(self.machines.users) > self.machines.capacity

    def freed_kw(self) -> float:
        """What a server that gives its job back now draws: ``idle``, or nothing if it
        leaves."""
        return 0.0 if self.leaving() else self.idle_kw

    def place_for(self, kind: str) -> simpy.Resource:
        """The gate a job of ``kind`` takes a place at before it moves here."""
        if self.places is not None:
            return self.places
        if kind not in self.kind_places:
            raise ValueError(f"stations[{self.index}] assembles {list(self.kind_places)}: a job "
                             f"of kind {kind!r} was routed to it; check the routes to it")
        return self.kind_places[kind]

    def route(self, job: _Job, rng: np.random.Generator) -> int:
        """Draw ``job``'s target (a draw only when there is a choice)."""
        if self.branches is not None:
            targets, cumulative = self.branches
        elif (job.kind, job.product) in self.table:
            targets, cumulative = self.table[job.kind, job.product]
        else:
            raise ValueError(f"stations[{self.index}] has no route for kind {job.kind!r} and "
                             f"product {job.product}; check its routes")
        if len(targets) == 1:
            return targets[0]
        if isinstance(cumulative, tuple):  # probabilities that change: those in force now
            hours, tables = cumulative
            cumulative = tables[bisect.bisect_right(hours, self.env.now) - 1]
        i = bisect.bisect_right(cumulative, rng.random())
        return targets[min(i, len(targets) - 1)]  # guards a sum of p just below 1


class Replication:
    """One replication of a checked plant (see :func:`check`), drawing from ``rng``; ``run()``
    simulates it and returns its figures (see :func:`run_replication`). ``period_h`` (else
    ``plant.period``) is the report period of the series (``None``: none)."""

    def __init__(self, plant: RefPlant, rng: np.random.Generator,
                 period_h: float | None = None) -> None:
        self.env = _CountingEnvironment()
        self.rng = rng
        self.interarrival = self._arrivals(plant)
        self.warmup, self.horizon = float(plant.warmup), float(plant.horizon)
        window = (self.warmup, self.horizon)
        period = plant.period if period_h is None else period_h
        self.edges = None if period is None else ramp.period_edges(*window, float(period))
        # (steps, apply) of every value that changes over time, followed from the start
        self.plans: list[tuple[Steps, Callable]] = []
        self.exit = len(plant.stations)
        self.metered = plant.metered()
        self.product_ids = plant.product_ids()
        self.shares = None if plant.products is None else list(
            np.cumsum(list(plant.products.values()))
        )
        self.stations = [
            _Station(self.env, s, j, window, len(self.product_ids), self.metered, self.edges)
            for j, s in enumerate(plant.stations)
        ]
        self.plans += [(st.plan, lambda count, st=st: self.set_servers(st, count))
                       for st in self.stations if st.plan]
        self.wip = _area(window, self.edges)
        if self.edges is not None:  # exits and the sum of their cycle times, by period
            self.period_exits = [0] * (len(self.edges) - 1)
            self.period_cycle_times = [0.0] * (len(self.edges) - 1)
        self.wip_orders = _WindowArea(*window)
        self.cycle_times: list[float] = []
        self.product_cycle_times: list[list[float]] = [[] for _ in self.product_ids]
        self.jobs = 0
        # every job inside (for ``parts_inside``, and to check ``wip``), and parts by kind
        self.live: set[_Job] = set()
        self.kinds = plant.part_kinds()
        self.made, self.used, self.gone = Counter(), Counter(), Counter()
        if self.metered:
            self.base_load = plant.base_load or 0.0
            self.cooling_factor = plant.cooling_factor
            heat = sum(st.heat.value for st in self.stations)
            self.demand = _DemandMeter(*window, plant.demand_interval, heat)  # of total heat
            self.period_heat = None if self.edges is None else ramp.PeriodArea(self.edges, heat)
            self.gate = None
            caps = plant.cap_steps()
            if caps is not None:
                standby = sum(st.on.value * st.standby_kw for st in self.stations)
                self.gate = _PowerGate(self.env, _cap_heat(plant, caps[0][1]), standby)
                if len(caps) > 1:
                    self.plans.append((caps, lambda cap: self.gate.set_limit(
                        _cap_heat(plant, cap))))
        self.fleets = [
            _Fleet(self.env, fleet, self._start(plant, f), plant.distance, window)
            for f, fleet in enumerate(plant.fleets)
        ]
        self.pools = Pools(self.env, plant.pools, window) if plant.pools else None
        self.calendars = [(p, pool.on) for p, pool in enumerate(plant.pools) if pool.on]
        self.plans += [(pool.count_steps(), lambda count, p=p: self.pools.resize(p, count))
                       for p, pool in enumerate(plant.pools) if len(pool.count_steps()) > 1]

    def _arrivals(self, plant: RefPlant) -> Sampler:
        """The source's interarrival times: ``plant.interarrival``, or for a plan the time
        drawn from the step in force now (``drawn``) or the time to the next event of the
        Poisson process of the steps' rates from now (``nhpp``)."""
        steps = plant.interarrival
        if callable(steps):
            return steps
        env, hours = self.env, [hour for hour, _ in steps]
        if plant.release == "nhpp":
            rates = [1.0 / mean for _, mean in steps]
            return lambda rng: ramp.nhpp_delay(hours, rates, env.now, rng.exponential())
        samplers = [_as_sampler(value) for _, value in steps]
        return lambda rng: samplers[bisect.bisect_right(hours, env.now) - 1](rng)

    @staticmethod
    def _start(plant: RefPlant, f: int) -> int:
        """Where fleet ``f``'s vehicles start: its home, else the dock of the first station
        (in list order) that uses it."""
        home = plant.fleets[f].home
        if home is not None:
            return home
        return next((j for j, st in enumerate(plant.stations) if st.fleet == f), 0)

    def source(self):
        env, rng, first = self.env, self.rng, self.stations[0]
        while True:
            yield env.timeout(self.interarrival(rng))
            product = 0
            if self.shares is not None:  # the first product whose cumulative share is >= u
                product = min(bisect.bisect_left(self.shares, rng.random()),
                              len(self.shares) - 1)
            place = first.places.request()
            yield place  # a full first station holds the job here, and the source with it
            now = env.now
            self.wip.add(now, 1)
            self.wip_orders.add(now, 1.0)
            self.jobs += 1
            job = _Job(self.jobs, now, ORDER, product, 1.0)
            self.live.add(job)
            env.process(self.job(job, first, place))

    def job(self, job: _Job, st: _Station, place):
        """``job`` from its entry into ``st``, holding ``place`` there, until it exits, is split,
        or waits at an assembly for its set."""
        env, warmup = self.env, self.warmup
        while st is not None:
            if st.assemble is not None:
                self.gather(st, job, place)
                return
            arrived = env.now
            st.queue.add(arrived, 1)
            machine = st.machines.request()
            yield machine
            now = env.now
            st.queue.add(now, -1)
            if now >= warmup:
                st.wait_total += now - arrived
                st.waits += 1
            st, place = yield from self.work(job, st, place, machine)

    def work(self, job: _Job, st: _Station, place, machine):
        """Process ``job`` on its server (``machine``) at ``st`` and move it on. With power
        (``metered``) its processing goes through ``serve``, and each server's draw follows its
        state. Returns the next station and the place taken there, or ``(None, None)`` once
        the job has exited or been split."""
        env, rng, metered, product = self.env, self.rng, self.metered, job.product
        needs, factor, kw = None, 1.0, st.idle_kw if metered else 0.0
        if st.alternatives:
            needs, factor, kw = yield from self.staff(st, kw)
        work = st.process[product](rng) * factor
        if st.learning is not None:  # the n-th job's factor (the product commutes)
            work *= st.learned(product)
        if metered:
            yield from self.serve(st, product, work, kw)
        else:  # written out: the plain model is the benchmark's speed reference
            st.busy.add(env.now, 1)
            mtbf = st.mtbf[product]
            if mtbf is not None:
                mttr = st.mttr[product]
                ttf = rng.exponential(mtbf)
                while ttf < work:
                    yield env.timeout(ttf)
                    work -= ttf
                    now = env.now
                    st.busy.add(now, -1)
                    st.down.add(now, 1)
                    yield env.timeout(rng.exponential(mttr))
                    now = env.now
                    st.down.add(now, -1)
                    st.busy.add(now, 1)
                    ttf = rng.exponential(mtbf)
            yield env.timeout(work)
            st.busy.add(env.now, -1)
        if needs is not None:
            self.pools.release(needs)
        if st.split is not None:
            yield from self.split(job, st, place, machine)
            return None, None
        now = env.now
        target = st.route(job, rng)
        next_place = None
        if st.fleet is not None:
            next_place = yield from self.carry(st, job, machine, place, target)
        elif target == self.exit:
            if metered:
                self.draw(st, now, st.last_kw[product], st.freed_kw())
            self.leave(st, machine, place, now)
        else:
            st.blocked.add(now, 1)
            if metered:
                self.draw(st, now, st.last_kw[product], st.blocked_kw)
            next_place = self.stations[target].place_for(job.kind).request()
            yield next_place  # blocked, holding place and machine, until granted (FIFO)
            now = env.now
            st.blocked.add(now, -1)
            if metered:
                self.draw(st, now, st.blocked_kw, st.freed_kw())
            self.leave(st, machine, place, now)
        if target == self.exit:
            self.exit_plant(job)
            return None, None
        return self.stations[target], next_place

    def leave(self, st: _Station, machine, place, now: float) -> None:
        """The job gives back its server and place (a unit has none) at ``st``."""
        if st.plan is not None and st.leaving():
            self.retire(st, now)
        st.machines.release(machine)
        if place is not None:
            st.places.release(place)
        if now >= self.warmup:
            st.departures += 1

    def exit_plant(self, job: _Job) -> None:
        now = self.env.now
        self.wip.add(now, -1)
        self.wip_orders.add(now, -job.worth)
        self.live.remove(job)
        if job.kind != ORDER:
            self.gone[job.kind] += 1
        if now >= self.warmup:
            self.cycle_times.append(now - job.entered)
            self.product_cycle_times[job.product].append(now - job.entered)
            if self.edges is not None:
                k = ramp.period_of(self.edges, now)
                self.period_exits[k] += 1
                self.period_cycle_times[k] += now - job.entered

    # ----------------------------------------------------------------------- parts

    def split(self, job: _Job, st: _Station, place, machine):
        """Service of ``job`` has ended at split station ``st``: the job becomes its parts,
        whose routes are drawn now, and they leave the server one at a time in order, each on
        a place at its target (or loaded onto a vehicle). The server, blocked meanwhile, and
        the job's place are released when the last has left."""
        env, now = self.env, self.env.now
        kinds = [kind for kind, count in st.split for _ in range(count)]
        parts = [_Job(job.order, job.entered, kind, job.product, job.worth / len(kinds))
                 for kind in kinds]
        self.live.remove(job)
        self.live.update(parts)
        self.made.update(kinds)
        self.wip.add(now, len(parts) - 1)
        targets = [st.route(part, self.rng) for part in parts]
        st.blocked.add(now, 1)
        if self.metered:
            self.draw(st, now, st.last_kw[job.product], st.blocked_kw)
        for part, target in zip(parts, targets, strict=True):
            if st.fleet is not None:
                vehicle, next_place = yield from self.fetch(st, part.kind, target)
                env.process(self.deliver(part, self.fleets[st.fleet], vehicle, target,
                                         next_place))
            elif target == self.exit:
                self.exit_plant(part)
            else:
                next_place = self.stations[target].place_for(part.kind).request()
                yield next_place  # the server keeps the parts after this one meanwhile
                env.process(self.job(part, self.stations[target], next_place))
            if env.now >= self.warmup:
                st.departures += 1
        now = env.now
        st.blocked.add(now, -1)
        if self.metered:
            self.draw(st, now, st.blocked_kw, st.freed_kw())
        if st.plan is not None and st.leaving():
            self.retire(st, now)
        st.machines.release(machine)
        if place is not None:
            st.places.release(place)

    def deliver(self, part: _Job, fleet: _Fleet, vehicle: _Vehicle, target: int, place):
        """A loaded part's trip to ``target``, where it then goes on (or exits)."""
        yield from self.ride(fleet, vehicle, target)
        if target == self.exit:
            self.exit_plant(part)
        else:
            yield from self.job(part, self.stations[target], place)

    def gather(self, st: _Station, part: _Job, place) -> None:
        """``part`` has arrived at assembly ``st``, holding ``place`` (of its kind), and waits;
        if it completes a set, the set goes on in a process of its own (``unit``)."""
        st.queue.add(self.env.now, 1)
        if st.match_order:
            waiting = st.waiting.setdefault(part.order, {k: deque() for k in st.assemble})
        else:
            waiting = st.waiting
        waiting[part.kind].append((part, place))
        if all(len(waiting[kind]) >= n for kind, n in st.assemble.items()):
            members = [waiting[kind].popleft() for kind, n in st.assemble.items()
                       for _ in range(n)]
            if st.match_order and not any(waiting.values()):
                del st.waiting[part.order]
            self.env.process(self.unit(st, members))

    def unit(self, st: _Station, members: list):
        """A complete set of ``(part, place)`` at assembly ``st``: it waits for a server (FIFO
        among the sets), then frees its parts' places and goes on as one job of kind
        ``into``, with the order and product of its first part (the oldest of the first
        kind)."""
        env = self.env
        completed = env.now
        machine = st.machines.request()
        yield machine
        now = env.now
        if now >= self.warmup:
            st.wait_total += now - completed
            st.waits += 1
        parts = [part for part, _ in members]
        for part, place in members:
            st.kind_places[part.kind].release(place)
            self.live.remove(part)
        st.queue.add(now, -len(parts))
        self.used.update(part.kind for part in parts)
        head = parts[0]
        unit = _Job(head.order, head.entered, st.into, head.product,
                    sum(part.worth for part in parts))
        self.live.add(unit)
        self.wip.add(now, 1 - len(parts))
        st, place = yield from self.work(unit, st, None, machine)
        if st is not None:
            yield from self.job(unit, st, place)

    # ----------------------------------------------------------------------- resources

    def staff(self, st: _Station, kw: float):
        """Ask for ``st``'s units for a job on one of its servers (drawing ``kw``), waiting
        (state ``waiting``) until granted. Returns the units held, the time factor and the
        server's draw."""
        got = self.pools.ask(st.alternatives)
        if not isinstance(got, int):
            now = self.env.now
            st.unit_wait.add(now, 1)
            if self.metered:
                kw = self.draw(st, now, kw, st.waiting_kw)
            got = yield got
            st.unit_wait.add(self.env.now, -1)
        needs, factor = st.alternatives[got]
        return needs, factor, kw

    def calendar(self, p: int, on: list[tuple[float, float]]):
        """Pool ``p``'s shifts, week after week."""
        env, week, edges = self.env, 0.0, _shift_edges(on)
        while edges:
            for hour, starts in edges:
                yield env.timeout(week + hour - env.now)
                self.pools.shift(p, starts)
            week += HOURS_PER_WEEK

    # ----------------------------------------------------------------------- transport

    def carry(self, st: _Station, job: _Job, machine, place, target: int):
        """A finished ``job`` at ``st`` for ``target`` (a station, or the exit) by ``st``'s
        fleet. It stays blocked at ``st`` while it waits for a place at ``target``, then
        (holding that place) for a vehicle, and while it is loaded; it leaves ``st`` when
        loading ends. Returns, when unloading ends, the place held at ``target`` (``None`` for
        the exit)."""
        env = self.env
        now = env.now
        st.blocked.add(now, 1)
        if self.metered:
            self.draw(st, now, st.last_kw[job.product], st.blocked_kw)
        vehicle, next_place = yield from self.fetch(st, job.kind, target)
        now = env.now
        st.blocked.add(now, -1)
        if self.metered:
            self.draw(st, now, st.blocked_kw, st.freed_kw())
        self.leave(st, machine, place, now)
        yield from self.ride(self.fleets[st.fleet], vehicle, target)
        return next_place

    def fetch(self, st: _Station, kind: str, target: int):
        """Reserve a place for a job of ``kind`` at ``target`` (none for the exit), then call
        a vehicle of ``st``'s fleet, which drives to ``st``'s dock and loads. Returns the
        vehicle and the place."""
        env, fleet = self.env, self.fleets[st.fleet]
        next_place = None
        if target != self.exit:
            next_place = self.stations[target].place_for(kind).request()
            yield next_place
        requested = env.now
        vehicle = fleet.request(st.index)
        if not isinstance(vehicle, _Vehicle):
            vehicle = yield vehicle
        yield from self.drive(fleet, vehicle, st.index, "empty")
        now = env.now
        if now >= self.warmup:
            fleet.wait_total += now - requested
            fleet.waits += 1
        yield from self.handle(fleet, vehicle, fleet.load_time)
        return vehicle, next_place

    def ride(self, fleet: _Fleet, vehicle: _Vehicle, target: int):
        """A loaded ``vehicle`` drives to ``target``'s dock (place ``J``: the shipping point)
        and unloads."""
        yield from self.drive(fleet, vehicle, target, "loaded")
        yield from self.handle(fleet, vehicle, fleet.unload_time)
        if self.env.now >= self.warmup:
            fleet.trips += 1
        self.unloaded(fleet, vehicle)

    def drive(self, fleet: _Fleet, v: _Vehicle, place: int, state: str):
        """``v`` drives (``state``: ``empty`` or ``loaded``) to ``place``."""
        hours = fleet.hours[v.place][place]
        fleet.set(v, self.env.now, state)
        if hours > 0:
            yield self.env.timeout(hours)
        v.place = place

    def handle(self, fleet: _Fleet, v: _Vehicle, time: Sampler):
        """``v`` loads or unloads for a time drawn from ``time``."""
        hours = time(self.rng)
        fleet.set(v, self.env.now, "handling")
        if hours > 0:
            yield self.env.timeout(hours)

    def unloaded(self, fleet: _Fleet, v: _Vehicle) -> None:
        """``v`` has set a job down: it charges first if its battery is low (a process of its
        own), else it is free at once."""
        if fleet.capacity is not None and v.level_at(self.env.now) < fleet.low:
            self.env.process(self.recharge(fleet, v))
        else:
            self.free(fleet, v)

    def free(self, fleet: _Fleet, v: _Vehicle) -> None:
        """``v`` can work again: it takes the head request if one waits, else drives home (a
        process of its own, unless that takes no time) or is idle where it is."""
        if fleet.hand(v):
            return
        if fleet.home is not None and fleet.hours[v.place][fleet.home] > 0:
            self.env.process(self.go_home(fleet, v))
        else:
            if fleet.home is not None:
                v.place = fleet.home
            fleet.park(v, self.env.now)

    def recharge(self, fleet: _Fleet, v: _Vehicle):
        """``v`` waits for the nearest free charger, drives there and charges to full; its
        charger then goes to the vehicle that waited longest for one, and ``v`` is free."""
        env = self.env
        c = fleet.charger(v)
        if not isinstance(c, int):
            fleet.set(v, env.now, "queued")  # waits where it is for a charger
            c = yield c
        yield from self.drive(fleet, v, fleet.chargers[c], "empty")
        fleet.set(v, env.now, "charging")
        yield env.timeout((fleet.capacity - v.level) / fleet.capacity * fleet.charge_time)
        fleet.advance(v, env.now)
        v.level = fleet.capacity  # full, whatever the rounding
        fleet.unplug(c)
        self.free(fleet, v)

    def go_home(self, fleet: _Fleet, v: _Vehicle):
        """``v`` drives home empty, taking no request on the way, and is idle there."""
        yield from self.drive(fleet, v, fleet.home, "empty")
        fleet.park(v, self.env.now)

    # ----------------------------------------------------------------------- power

    def serve(self, st: _Station, product: int, work: float, kw: float):
        """Process a job on a server of ``st`` that draws ``kw`` (idle, or waiting after a wait
        for units), step by step, asking the gate (if any) before each step; ends with the
        server in its last step's draw."""
        env, gate = self.env, self.gate
        held, busy = 0.0, False  # the server's extra reservation, and whether it is busy
        for (share, step_kw), need in st.steps[product]:
            if gate is not None and need != held:
                grant = gate.ask(held, need)
                held = need
                if grant is not None:  # wait at standby for the power
                    now = env.now
                    if busy:
                        st.busy.add(now, -1)
                        busy = False
                    kw = self.draw(st, now, kw, st.waiting_kw)
                    st.power_wait.add(now, 1)
                    yield grant
                    st.power_wait.add(env.now, -1)
            if not busy:
                st.busy.add(env.now, 1)
                busy = True
            kw = self.draw(st, env.now, kw, step_kw)
            if st.mtbf[product] is None:
                yield env.timeout(share * work)
            else:
                yield from self.process(st, product, share * work, step_kw)
        st.busy.add(env.now, -1)
        if held:
            gate.release(held)

    def process(self, st: _Station, product: int, work: float, kw: float):
        """``work`` hours of processing at draw ``kw`` at a station where ``product`` fails, as
        in ``work``."""
        env, rng = self.env, self.rng
        mtbf, mttr = st.mtbf[product], st.mttr[product]
        ttf = rng.exponential(mtbf)
        while ttf < work:
            yield env.timeout(ttf)
            work -= ttf
            now = env.now
            st.busy.add(now, -1)
            st.down.add(now, 1)
            self.draw(st, now, kw, st.down_kw)
            yield env.timeout(rng.exponential(mttr))
            now = env.now
            st.down.add(now, -1)
            st.busy.add(now, 1)
            self.draw(st, now, st.down_kw, kw)
            ttf = rng.exponential(mtbf)
        yield env.timeout(work)

    def draw(self, st: _Station, now: float, old: float, new: float) -> float:
        """One server of ``st`` goes from drawing ``old`` to ``new`` kW; returns ``new``."""
        if new != old:
            self.heat(st, now, new - old)
        return new

    def heat(self, st: _Station, now: float, delta: float) -> None:
        """``st``'s heat changes by ``delta`` kW at ``now``."""
        st.heat.add(now, delta)
        self.demand.add(now, delta)
        if self.period_heat is not None:
            self.period_heat.add(now, delta)

    # ----------------------------------------------------------------------- ramps

    def set_servers(self, st: _Station, count: int) -> None:
        """``st``'s server count becomes ``count``, and its places ``buffer + count``: added
        servers and places go to the jobs waiting for them at once, idle servers beyond the
        count go at once, busy and blocked ones when their job leaves (``retire``)."""
        now, old = self.env.now, st.machines.capacity
        held = len(st.machines.users)
        present = max(count, held) - max(old, held)
        st.on.add(now, present)
        if self.metered:  # the servers in force that hold no job draw idle
            idle = max(0, count - held) - max(0, old - held)
            if idle:
                self.heat(st, now, idle * st.idle_kw)
            if self.gate is not None and present:
                self.gate.add_standby(present * st.standby_kw)
        st.machines.resize(count)
        if isinstance(st.places, ramp.Gate):
            st.places.resize(st.buffer + count)

    def retire(self, st: _Station, now: float) -> None:
        """A server of ``st`` beyond its count gives back its job and leaves (drawing nothing
        from now: ``freed_kw``)."""
        st.on.add(now, -1)
        if self.metered and self.gate is not None:
            self.gate.add_standby(-st.standby_kw)

    # ----------------------------------------------------------------------- run

    def run(self) -> dict:
        env, horizon = self.env, self.horizon
        for steps, apply in self.plans:
            env.process(ramp.follow(env, steps, apply))
        env.process(self.source())
        for p, on in self.calendars:
            env.process(self.calendar(p, on))
        env.run(until=horizon)
        while env.peek() <= horizon:  # close the window: events at exactly `horizon` count
            env.step()
        return self.results()

    def results(self) -> dict:
        span = self.horizon - self.warmup
        end = self.horizon
        stations = []
        for st in self.stations:
            for area in (st.busy, st.blocked, st.down, st.unit_wait, st.power_wait, st.queue,
                         st.on):
                area.add(end, 0)
            server_time = st.on.area or math.nan  # the integral of the servers in force
            busy, blocked, down = (a.area / server_time for a in (st.busy, st.blocked, st.down))
            waiting = (st.unit_wait.area + st.power_wait.area) / server_time
            figures = {
                "busy": busy,
                "blocked": blocked,
                "down": down,
                "waiting": waiting,
                "idle": 1.0 - busy - blocked - down - waiting,
                "mean_queue": st.queue.area / span,
                "mean_wait_h": st.wait_total / st.waits if st.waits else math.nan,
                "throughput_per_h": st.departures / span,
            }
            if self.metered:
                st.heat.add(end, 0)
                figures["power_wait"] = st.power_wait.area / server_time
                figures["energy_kwh"] = st.heat.area
            stations.append(figures)
        self.wip.add(end, 0)
        self.wip_orders.add(end, 0.0)
        if self.wip.value != len(self.live):
            raise RuntimeError(f"invariant violated: wip counts {self.wip.value} jobs at the "
                               f"horizon but {len(self.live)} are inside")
        ct = np.asarray(self.cycle_times)
        has = ct.size > 0
        blocks = {}
        if self.metered:
            blocks["power"] = self.power_results(stations)
        if self.fleets:
            blocks["transport"] = {f: fleet.results(span) for f, fleet in enumerate(self.fleets)}
        if self.pools is not None:
            blocks["resources"] = self.pools.results(end)
        if self.edges is not None:
            blocks["series"] = self.series_results()
        return {
            "throughput_per_h": ct.size / span,
            "cycle_time_h": float(ct.mean()) if has else math.nan,
            "cycle_time_p50": float(np.percentile(ct, 50)) if has else math.nan,
            "cycle_time_p95": float(np.percentile(ct, 95)) if has else math.nan,
            "wip": self.wip.area / span,
            "wip_orders": self.wip_orders.area / span,
            "products": {
                pid: {
                    "throughput_per_h": len(times) / span,
                    "cycle_time_h": float(np.mean(times)) if times else math.nan,
                }
                for pid, times in zip(self.product_ids, self.product_cycle_times, strict=True)
            },
            **self.parts_results(),
            "exits": int(ct.size),
            "jobs": self.jobs,
            "events": self.env.processed,
            "stations": stations,
            **blocks,
        }

    def parts_results(self) -> dict:
        """``parts_made`` (by splits), ``parts_used`` (by assemblies), ``parts_gone`` (out of
        the plant), all since time 0, and ``parts_inside`` at the horizon (counted over the
        jobs inside), by part kind."""
        inside = Counter(job.kind for job in self.live if job.kind != ORDER)
        kinds = list(dict.fromkeys([*self.kinds, *self.made, *self.gone, *inside]))
        return {
            f"parts_{name}": {kind: int(count[kind]) for kind in kinds}
            for name, count in (("made", self.made), ("used", self.used), ("gone", self.gone),
                                ("inside", inside))
        }

    def series_results(self) -> dict:
        """The figures of each report period (see :func:`run_replication`); call after the
        window's areas are closed."""
        edges = self.edges
        out = {
            "start_h": np.asarray(edges[:-1]),
            "end_h": np.asarray(edges[1:]),
            "exits": np.asarray(self.period_exits, dtype=np.int64),
            "cycle_time_sum_h": np.asarray(self.period_cycle_times),
            "wip_h": np.asarray(self.wip.areas),
            "busy_h": np.asarray([st.busy.areas for st in self.stations]).T,
            "on_h": np.asarray([st.on.areas for st in self.stations]).T,
        }
        if self.metered:
            self.period_heat.add(self.horizon, 0.0)
            out["heat_kwh"] = np.asarray([st.heat.areas for st in self.stations]).T
            out["heat_max_kw"] = np.asarray(self.period_heat.peaks)
        return out

    def power_results(self, stations: list[dict]) -> dict:
        span, base, factor = self.horizon - self.warmup, self.base_load, self.cooling_factor
        energy = base * span + factor * sum(st["energy_kwh"] for st in stations)
        bins = [base + factor * heat for heat in self.demand.close()]
        return {
            "energy_kwh": energy,
            "mean_kw": energy / span,
            "max_kw": base + factor * self.demand.max,
            "peak_kw": max(bins),
            "bins_kw": bins,
        }


def run_replication(plant: RefPlant, seed: int | np.random.SeedSequence,
                    period_h: float | None = None) -> dict:
    """Simulate one replication with its own ``np.random.default_rng(seed)``.

    Returns ``throughput_per_h``, ``cycle_time_h`` (mean), ``cycle_time_p50``,
    ``cycle_time_p95``, ``wip`` (jobs on vehicles included), ``exits`` (in the window),
    ``jobs`` (entered the first station over the whole run), ``events`` (SimPy events
    processed) and ``stations``: one dict per station with ``busy``, ``blocked`` (waiting for
    a vehicle and loading included), ``down``, ``waiting`` (for units or power), ``idle``
    (fractions of server-time, summing to 1), ``mean_queue``, ``mean_wait_h`` and
    ``throughput_per_h``. Figures with no observation in the window (no exit, no service
    start) are NaN. ``mean_wait_h`` is the wait for a server, which a job takes before it
    waits for units or power.

    Parts (docs/parts.md): ``throughput_per_h``, ``cycle_time_h`` and ``exits`` count the jobs
    that leave the plant (parts where parts leave; a cycle time runs from the entry of the
    job's order), ``wip`` counts jobs (every part one) and ``wip_orders`` their worth in
    orders. ``products`` has ``throughput_per_h`` and ``cycle_time_h`` by product id (``all``
    without products). A station's ``throughput_per_h`` counts what leaves it (each part of a
    split); at an assembly ``mean_queue`` counts the waiting parts and ``mean_wait_h`` is the
    wait of a complete set for a server. ``parts_made`` (by splits), ``parts_used`` (by
    assemblies) and ``parts_gone`` (out of the plant), all since time 0, and ``parts_inside``
    (at the horizon) are counts by part kind; they balance, made = used + gone + inside, for a
    kind that only splits make and only assemblies take.

    A plant with power (``RefPlant.metered()``) adds to each station ``power_wait`` (share of
    server-time waiting for power under the cap) and ``energy_kwh`` (its heat), and a
    ``power`` dict: ``energy_kwh`` (base load and cooling included), ``mean_kw``, ``max_kw``
    (the highest draw held for a positive time), ``bins_kw`` (demand-interval averages) and
    ``peak_kw`` (their maximum).

    A plant with fleets adds ``transport``, keyed by fleet index: ``loaded``, ``empty``,
    ``handling``, ``charging`` (waiting for a charger included) and ``idle`` (fractions of
    vehicle-time, summing to 1), ``mean_wait_h`` (request to the vehicle's arrival at the
    pickup dock, over arrivals in the window), ``trips_per_h`` (unloadings in the window),
    ``km_per_vehicle_per_h`` and, with a battery, ``min_battery`` (the lowest level in the
    window, hours). A plant with pools adds ``resources``, keyed by pool index: ``busy``
    (time-average units held over the count) and ``mean_wait_h`` (request to grant, over
    grants in the window, a grant at once waiting 0).

    Busy shares (a station's ``busy``, ``blocked``, ``down``, ``waiting``, ``idle``) are over
    the integral of the station's servers present (in force, or finishing a job beyond a
    lowered count), a pool's ``busy`` over the integral of its count in force (units held
    beyond a lowered count may take it over 1 for a while).

    With a report period, ``period_h`` hours (else ``plant.period``; ``None``: no series), a
    ``series`` dict covers the ``P`` periods that tile ``[warmup, horizon]`` from ``warmup``
    (the last may be shorter): ``start_h`` and ``end_h``, shape ``(P,)``; ``exits`` (int) and
    ``cycle_time_sum_h`` (the sum of their cycle times), shape ``(P,)``, an exit at an inner
    edge in the later period and one at the horizon in the last; ``wip_h``, shape ``(P,)``,
    the integral of ``wip`` (job-hours); ``busy_h`` (busy server-hours) and ``on_h`` (the
    integral of the servers present), shape ``(P, J)`` with ``J`` stations. With power, also
    ``heat_kwh``, shape ``(P, J)``, each station's heat energy, and ``heat_max_kw``, shape
    ``(P,)``, the largest sum of the stations' heats held in the period (the plant draws
    ``base_load + cooling_factor * heat``). Summed over the periods they give the window's
    figures: ``exits``, ``cycle_time_h * exits``, ``wip * span``, ``busy * on``,
    ``energy_kwh`` (up to rounding). :func:`series` stacks them over replications.
    """
    check(plant)
    return Replication(plant, np.random.default_rng(seed), period_h).run()


def run(plant: RefPlant, replications: int, seed: int = 0,
        period_h: float | None = None) -> list[dict]:
    """``replications`` independent replications, seeded by ``SeedSequence(seed).spawn``
    (``period_h``: see :func:`run_replication`)."""
    return [run_replication(plant, s, period_h)
            for s in np.random.SeedSequence(seed).spawn(replications)]


def series(results: list[dict]) -> dict[str, np.ndarray]:
    """The ``series`` of each replication stacked: every figure of
    :func:`run_replication`'s ``series`` with a leading replications axis, shape ``(R, P)`` or
    ``(R, P, J)``; ``start_h`` and ``end_h`` once, shape ``(P,)``."""
    if not results or "series" not in results[0]:
        raise ValueError("no series: run with a report period (RefPlant.period or period_h)")
    first = results[0]["series"]
    return {
        key: first[key] if key in ("start_h", "end_h")
        else np.stack([r["series"][key] for r in results])
        for key in first
    }


# --------------------------------------------------------------------------- summaries


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and 95% Student-t half-width of per-replication values (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.inf
    half = _stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def summarize(results: list[dict]) -> dict:
    """Per-figure ``{"mean", "ci95"}`` across replications, shaped like ``twin run --json``
    (stations, fleets and pools keyed by index)."""

    def figure(values: Sequence[float]) -> dict:
        mean, half = mean_ci(values)
        return {"mean": mean, "ci95": [mean - half, mean + half]}

    out = {
        key: figure([r[key] for r in results])
        for key in ("throughput_per_h", "cycle_time_h", "wip", "wip_orders")
    }
    out["cycle_time_h"]["p50"] = float(np.nanmean([r["cycle_time_p50"] for r in results]))
    out["cycle_time_h"]["p95"] = float(np.nanmean([r["cycle_time_p95"] for r in results]))
    def per_item(block: str) -> dict:
        """Figures of a block of items (a list, or a dict by index), keyed by index."""
        first = results[0][block]
        items = first.keys() if isinstance(first, dict) else range(len(first))
        return {
            i: {key: figure([r[block][i][key] for r in results]) for key in first[i]}
            for i in items
        }

    out["stations"] = per_item("stations")
    out["products"] = per_item("products")
    for block in ("parts_made", "parts_used", "parts_gone", "parts_inside"):
        out[block] = {kind: figure([r[block][kind] for r in results]) for kind in results[0][block]}
    for block in ("transport", "resources"):
        if block in results[0]:
            out[block] = per_item(block)
    if "power" in results[0]:
        out["power"] = {
            key: figure([r["power"][key] for r in results])
            for key in ("energy_kwh", "mean_kw", "max_kw", "peak_kw")
        }
    out["events"] = sum(r["events"] for r in results)
    return out


# --------------------------------------------------------------------------- example


def blocking_line(horizon: float = 2000.0, warmup: float = 200.0) -> RefPlant:
    """Three single-server stations in series, exponential arrivals (mean 1.25 h), exponential
    service (means 1.0, 1.1, 0.9 h) and buffers of 2: the benchmark's blocking line."""
    return RefPlant(
        interarrival=exponential(1.25),
        stations=[RefStation(servers=1, buffer=2, process=exponential(m)) for m in (1.0, 1.1, 0.9)],
        horizon=horizon,
        warmup=warmup,
    )


def _main() -> None:
    plant = blocking_line()
    replications = 8
    t0 = time.perf_counter()
    results = run(plant, replications, seed=0)
    wall = time.perf_counter() - t0
    s = summarize(results)

    def show(f: dict) -> str:
        return f"{f['mean']:.4f} [{f['ci95'][0]:.4f}, {f['ci95'][1]:.4f}]"

    print(
        f"3-station blocking line, {replications} replications of {plant.horizon:g} h "
        f"(warm-up {plant.warmup:g} h)"
    )
    print(f"  throughput_per_h {show(s['throughput_per_h'])}")
    print(
        f"  cycle_time_h     {show(s['cycle_time_h'])}  p50 {s['cycle_time_h']['p50']:.3f}"
        f"  p95 {s['cycle_time_h']['p95']:.3f}"
    )
    print(f"  wip              {show(s['wip'])}")
    for j, st in s["stations"].items():
        print(f"  station {j}: " + "  ".join(f"{k} {v['mean']:.3f}" for k, v in st.items()))
    jobs = sum(r["jobs"] for r in results)
    print(
        f"  {wall:.2f} s wall: {jobs / wall:,.0f} jobs/s, {s['events'] / wall:,.0f} events/s, "
        f"{replications * plant.horizon / wall:,.0f} replication-hours/s"
    )


if __name__ == "__main__":
    _main()
