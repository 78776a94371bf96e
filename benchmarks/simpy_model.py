"""Independent SimPy reference model of the plant semantics in DESIGN.md.

Two uses: tests compare its statistics with the vectorized engine's on lines with failures,
blocking and rework, and ``benchmarks/bench_engine.py`` times it as the speed reference. It
shares no code with ``twin``: a plant is described by the small dataclasses below
(``from_plant`` converts a ``twin.config.Plant`` by duck typing), and every rule of DESIGN.md
"Semantics" is written out again here, in SimPy's process-interaction style.

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

Statistics
----------
All figures are exact integrals of piecewise-constant counts clipped to ``[warmup, horizon]``,
not samples. Events at exactly ``horizon`` are still processed, so the window is closed at both
ends (an exit at ``horizon`` counts). Simultaneous events run in SimPy's order (scheduling time,
then creation order); ties only occur with non-continuous distributions. With power, station
heats and the plant draw are integrated the same way, and ``_DemandMeter`` also averages the
draw over demand intervals (aligned to multiples of ``demand_interval`` from time 0, the first
and the last clipped to the window).

Times are in hours. One replication uses one ``numpy.random.Generator`` for every draw.
"""

from __future__ import annotations

import bisect
import math
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import simpy
from scipy import stats as _stats

Sampler = Callable[[np.random.Generator], float]
"""Draws one duration in hours from the generator it is given."""

# A Resource needs a finite capacity; this stands for "unlimited buffer".
_UNLIMITED = sys.maxsize


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
    a ``dist`` field naming one of DESIGN.md's distributions and its parameters in hours."""
    if isinstance(spec, (int, float)):
        return deterministic(float(spec))

    def field(name: str) -> object:
        return spec[name] if isinstance(spec, Mapping) else getattr(spec, name)

    dist = field("dist")
    dist = getattr(dist, "value", dist)  # an Enum member names itself by its value
    if dist not in _DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {dist!r}; expected one of {sorted(_DISTRIBUTIONS)}")
    make, names = _DISTRIBUTIONS[dist]
    if dist == "empirical":
        return make(field("values"))
    return make(*(float(field(name)) for name in names))


# --------------------------------------------------------------------------- plant description


@dataclass
class RefStation:
    """One station. ``routes``: ``(target index, probability)`` pairs drawn when service ends,
    target ``J`` (the number of stations) meaning exit; ``None`` means the next station in list
    order, and exit after the last. ``buffer=None`` is an unlimited buffer."""

    servers: int
    buffer: int | None
    process: Sampler
    routes: list[tuple[int, float]] | None = None
    mtbf: float | None = None
    mttr: float | None = None
    # Power per server in kW by state; ``busy_steps`` is the busy profile as ``(share, kW)``
    # steps (shares sum to 1). All zero and ``busy_steps=None``: the station has no power.
    power_idle: float = 0.0
    busy_steps: list[tuple[float, float]] | None = None
    power_blocked: float = 0.0
    power_down: float = 0.0
    power_waiting: float = 0.0

    def metered(self) -> bool:
        """Whether the station has power (a draw of 0 in every state is still "power")."""
        return self.busy_steps is not None or any(
            (self.power_idle, self.power_blocked, self.power_down, self.power_waiting)
        )

    def steps(self) -> list[tuple[float, float]]:
        return self.busy_steps if self.busy_steps is not None else [(1.0, 0.0)]

    def standby(self) -> float:
        """The most a server draws while not processing: what the cap keeps for it."""
        return max(self.power_idle, self.power_blocked, self.power_down, self.power_waiting)


@dataclass
class RefPlant:
    """A line: source interarrival times, stations, and the statistics window in hours.

    Plant power: ``base_load`` in kW (``None``: no plant power block), ``cooling_factor`` kW
    drawn per kW of station heat (1 + 1/COP, or 1 without cooling), ``cap`` in kW (``None``:
    no cap) and the ``demand_interval`` in hours."""

    interarrival: Sampler
    stations: list[RefStation]
    horizon: float
    warmup: float = 0.0
    base_load: float | None = None
    cooling_factor: float = 1.0
    cap: float | None = None
    demand_interval: float = 0.25

    def metered(self) -> bool:
        """Whether the plant has power: a plant block, or any station with power."""
        return (
            self.base_load is not None
            or self.cap is not None
            or self.cooling_factor != 1.0
            or any(st.metered() for st in self.stations)
        )


def _checked(plant: RefPlant) -> None:
    n = len(plant.stations)
    if n == 0:
        raise ValueError("plant has no stations")
    if not 0 <= plant.warmup < plant.horizon:
        raise ValueError(f"need 0 <= warmup < horizon, got {plant.warmup} and {plant.horizon}")
    for j, st in enumerate(plant.stations):
        where = f"stations[{j}]"
        if st.servers < 1:
            raise ValueError(f"{where}.servers must be >= 1, got {st.servers}")
        if st.buffer is not None and st.buffer < 0:
            raise ValueError(f"{where}.buffer must be >= 0 or None, got {st.buffer}")
        if (st.mtbf is None) != (st.mttr is None):
            raise ValueError(f"{where}: give both mtbf and mttr, or neither")
        if st.mtbf is not None and not (st.mtbf > 0 and st.mttr > 0):
            raise ValueError(f"{where}: mtbf and mttr must be > 0")
        if st.routes is not None:
            if not st.routes:
                raise ValueError(f"{where}.routes is empty")
            for target, p in st.routes:
                if not 0 <= target <= n or p < 0:
                    raise ValueError(f"{where}.routes has a bad entry ({target}, {p})")
            total = sum(p for _, p in st.routes)
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"{where}.routes probabilities sum to {total}, not 1")
        if st.metered():
            _checked_station_power(st, where)
    if plant.metered():
        _checked_plant_power(plant)


def _checked_station_power(st: RefStation, where: str) -> None:
    draws = (st.power_idle, st.power_blocked, st.power_down, st.power_waiting)
    if min(draws) < 0:
        raise ValueError(f"{where}: power draws must be >= 0")
    steps = st.steps()
    if not steps or any(share <= 0 or kw < 0 for share, kw in steps):
        raise ValueError(f"{where}.busy_steps needs steps of share > 0 and power >= 0")
    total = sum(share for share, _ in steps)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"{where}.busy_steps shares sum to {total}, not 1")


def _checked_plant_power(plant: RefPlant) -> None:
    if (plant.base_load or 0.0) < 0 or plant.cooling_factor < 1 or plant.demand_interval <= 0:
        raise ValueError("need base_load >= 0, cooling_factor >= 1 and demand_interval > 0")
    if plant.cap is not None:
        extras = [max(_extras(st)) for st in plant.stations]
        j = int(np.argmax(extras))
        if extras[j] > _headroom(plant):
            need = (plant.base_load or 0.0) + plant.cooling_factor * (
                _standby_total(plant) + extras[j]
            )
            raise ValueError(
                f"cap {plant.cap:g} kW is below the {need:g} kW the plant needs to start a job "
                f"at stations[{j}] with every other server at standby: that job would never "
                "start"
            )


def from_plant(plant: object) -> RefPlant:
    """Convert a ``twin.config.Plant`` (duck-typed: ``horizon``, ``warmup``,
    ``source.interarrival``, ``stations[j].servers/buffer/process/failures`` and
    ``routes(j) -> [(target, p)]``, all times in hours) into a ``RefPlant``."""
    stations = []
    for j, st in enumerate(plant.stations):
        failures = getattr(st, "failures", None)
        stations.append(
            RefStation(
                servers=int(st.servers),
                buffer=None if st.buffer is None else int(st.buffer),
                process=sampler(st.process),
                routes=[(int(target), float(p)) for target, p in plant.routes(j)],
                mtbf=None if failures is None else float(failures.mtbf),
                mttr=None if failures is None else float(failures.mttr),
                **_station_power(getattr(st, "power", None)),
            )
        )
    return RefPlant(
        interarrival=sampler(plant.source.interarrival),
        stations=stations,
        horizon=float(plant.horizon),
        warmup=float(getattr(plant, "warmup", 0.0) or 0.0),
        **_plant_power(getattr(plant, "power", None)),
    )


def _station_power(power: object) -> dict:
    """RefStation power fields of a station's ``power`` (``idle``, ``blocked``, ``down``,
    ``waiting`` in kW and ``steps() -> [(share, kW)]``); none when it is ``None``."""
    if power is None:
        return {}
    return {
        "power_idle": float(power.idle),
        "busy_steps": [(float(share), float(kw)) for share, kw in power.steps()],
        "power_blocked": float(power.blocked),
        "power_down": float(power.down),
        "power_waiting": float(power.waiting),
    }


def _plant_power(power: object) -> dict:
    """RefPlant power fields of a plant's ``power`` (``base_load``, ``cap`` in kW,
    ``demand_interval`` in hours, ``cooling_factor()``); none when it is ``None``."""
    if power is None:
        return {}
    return {
        "base_load": float(power.base_load),
        "cooling_factor": float(power.cooling_factor()),
        "cap": None if power.cap is None else float(power.cap),
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


def _extras(st: RefStation) -> list[float]:
    """Reservation above standby of a server in each busy step: ``max(sb, p_k) - sb``."""
    sb = st.standby()
    return [max(sb, kw) - sb for _, kw in st.steps()]


def _standby_total(plant: RefPlant) -> float:
    return sum(st.servers * st.standby() for st in plant.stations)


def _headroom(plant: RefPlant) -> float:
    """The most the reservations above standby may sum to under the cap (tolerance 1e-9)."""
    cap = plant.cap * (1 + 1e-9)
    return (cap - (plant.base_load or 0.0)) / plant.cooling_factor - _standby_total(plant)


class _PowerGate:
    """The cap: the sum of reservations above standby, and the plant-wide FIFO queue of
    requests that did not fit, each ``(extra it needs, event to trigger when granted)``."""

    def __init__(self, env: simpy.Environment, headroom: float) -> None:
        self.env = env
        self.headroom = headroom
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

    def _grant(self) -> None:
        queue = self.queue
        while queue and self.extra + queue[0][0] <= self.headroom:
            need, grant = queue.popleft()
            self.extra += need
            grant.succeed()


class _Station:
    """Run-time state of one station: its gates, its route table and its tallies."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: RefStation,
        index: int,
        window: tuple[float, float],
        metered: bool = False,
    ) -> None:
        places = _UNLIMITED if spec.buffer is None else spec.buffer + spec.servers
        self.places = simpy.Resource(env, places)
        self.machines = simpy.Resource(env, spec.servers)
        self.servers = spec.servers
        self.process = spec.process
        self.mtbf, self.mttr = spec.mtbf, spec.mttr
        routes = spec.routes if spec.routes is not None else [(index + 1, 1.0)]
        self.targets = [target for target, _ in routes]
        self.cumulative = list(np.cumsum([p for _, p in routes]))
        self.busy, self.blocked, self.down, self.queue = (_WindowArea(*window) for _ in range(4))
        self.wait_total = 0.0
        self.waits = 0
        self.departures = 0
        if metered:
            self.idle_kw, self.blocked_kw = spec.power_idle, spec.power_blocked
            self.down_kw, self.waiting_kw = spec.power_down, spec.power_waiting
            self.steps = list(zip(spec.steps(), _extras(spec)))  # ((share, kW), extra) per step
            self.last_kw = self.steps[-1][0][1]
            self.heat, self.waiting = _WindowArea(*window), _WindowArea(*window)
            self.heat.value = spec.servers * spec.power_idle  # every server idle at time 0

    def route(self, rng: np.random.Generator) -> int:
        if len(self.targets) == 1:
            return self.targets[0]
        i = bisect.bisect_right(self.cumulative, rng.random())
        return self.targets[min(i, len(self.targets) - 1)]  # guards a sum of p just below 1


class _Replication:
    def __init__(self, plant: RefPlant, rng: np.random.Generator) -> None:
        self.env = _CountingEnvironment()
        self.rng = rng
        self.interarrival = plant.interarrival
        self.warmup, self.horizon = float(plant.warmup), float(plant.horizon)
        window = (self.warmup, self.horizon)
        self.exit = len(plant.stations)
        self.metered = plant.metered()
        self.stations = [
            _Station(self.env, s, j, window, self.metered) for j, s in enumerate(plant.stations)
        ]
        self.wip = _WindowArea(*window)
        self.cycle_times: list[float] = []
        self.jobs = 0
        if self.metered:
            self.base_load = plant.base_load or 0.0
            self.cooling_factor = plant.cooling_factor
            heat = sum(st.heat.value for st in self.stations)
            self.demand = _DemandMeter(*window, plant.demand_interval, heat)  # of total heat
            self.gate = None if plant.cap is None else _PowerGate(self.env, _headroom(plant))

    def source(self):
        env, rng, first = self.env, self.rng, self.stations[0]
        while True:
            yield env.timeout(self.interarrival(rng))
            place = first.places.request()
            yield place  # a full first station holds the job here, and the source with it
            self.wip.add(env.now, 1)
            self.jobs += 1
            env.process(self.job(place))

    def job(self, place):
        """One job from its entry into the first station to its exit. With power (``metered``)
        its processing goes through ``serve``, and each server's draw follows its state."""
        env, rng, warmup, metered = self.env, self.rng, self.warmup, self.metered
        entered = env.now
        st = self.stations[0]
        while True:
            arrived = env.now
            st.queue.add(arrived, 1)
            machine = st.machines.request()
            yield machine
            now = env.now
            st.queue.add(now, -1)
            if now >= warmup:
                st.wait_total += now - arrived
                st.waits += 1
            if metered:
                yield from self.serve(st, st.process(rng))
            else:  # written out: the plain model is the benchmark's speed reference
                st.busy.add(now, 1)
                work = st.process(rng)
                if st.mtbf is not None:
                    ttf = rng.exponential(st.mtbf)
                    while ttf < work:
                        yield env.timeout(ttf)
                        work -= ttf
                        now = env.now
                        st.busy.add(now, -1)
                        st.down.add(now, 1)
                        yield env.timeout(rng.exponential(st.mttr))
                        now = env.now
                        st.down.add(now, -1)
                        st.busy.add(now, 1)
                        ttf = rng.exponential(st.mtbf)
                yield env.timeout(work)
                st.busy.add(env.now, -1)
            now = env.now
            target = st.route(rng)
            if target == self.exit:
                if metered:
                    self.draw(st, now, st.last_kw, st.idle_kw)
                st.machines.release(machine)
                st.places.release(place)
                self.wip.add(now, -1)
                if now >= warmup:
                    st.departures += 1
                    self.cycle_times.append(now - entered)
                return
            st.blocked.add(now, 1)
            if metered:
                self.draw(st, now, st.last_kw, st.blocked_kw)
            next_place = self.stations[target].places.request()
            yield next_place  # blocked, holding place and machine, until granted (FIFO)
            now = env.now
            st.blocked.add(now, -1)
            if metered:
                self.draw(st, now, st.blocked_kw, st.idle_kw)
            st.machines.release(machine)
            st.places.release(place)
            if now >= warmup:
                st.departures += 1
            place, st = next_place, self.stations[target]

    # ----------------------------------------------------------------------- power

    def serve(self, st: _Station, work: float):
        """Process a job that has just taken an idle server of ``st``, step by step, asking
        the gate (if any) before each step; ends with the server in its last step's draw."""
        env, gate = self.env, self.gate
        kw, held, busy = st.idle_kw, 0.0, False  # the server's draw, extra reservation, state
        for (share, step_kw), need in st.steps:
            if gate is not None and need != held:
                grant = gate.ask(held, need)
                held = need
                if grant is not None:  # wait at standby for the power
                    now = env.now
                    if busy:
                        st.busy.add(now, -1)
                        busy = False
                    kw = self.draw(st, now, kw, st.waiting_kw)
                    st.waiting.add(now, 1)
                    yield grant
                    st.waiting.add(env.now, -1)
            if not busy:
                st.busy.add(env.now, 1)
                busy = True
            kw = self.draw(st, env.now, kw, step_kw)
            if st.mtbf is None:
                yield env.timeout(share * work)
            else:
                yield from self.process(st, share * work, step_kw)
        st.busy.add(env.now, -1)
        if held:
            gate.release(held)

    def process(self, st: _Station, work: float, kw: float):
        """``work`` hours of processing at draw ``kw`` at a station with failures, as in
        ``job``."""
        env, rng = self.env, self.rng
        ttf = rng.exponential(st.mtbf)
        while ttf < work:
            yield env.timeout(ttf)
            work -= ttf
            now = env.now
            st.busy.add(now, -1)
            st.down.add(now, 1)
            self.draw(st, now, kw, st.down_kw)
            yield env.timeout(rng.exponential(st.mttr))
            now = env.now
            st.down.add(now, -1)
            st.busy.add(now, 1)
            self.draw(st, now, st.down_kw, kw)
            ttf = rng.exponential(st.mtbf)
        yield env.timeout(work)

    def draw(self, st: _Station, now: float, old: float, new: float) -> float:
        """One server of ``st`` goes from drawing ``old`` to ``new`` kW; returns ``new``."""
        if new != old:
            st.heat.add(now, new - old)
            self.demand.add(now, new - old)
        return new

    # ----------------------------------------------------------------------- run

    def run(self) -> dict:
        env, horizon = self.env, self.horizon
        env.process(self.source())
        env.run(until=horizon)
        while env.peek() <= horizon:  # close the window: events at exactly `horizon` count
            env.step()
        return self.results()

    def results(self) -> dict:
        span = self.horizon - self.warmup
        end = self.horizon
        stations = []
        for st in self.stations:
            fractions = {}
            for name in ("busy", "blocked", "down"):
                area = getattr(st, name)
                area.add(end, 0)
                fractions[name] = area.area / (span * st.servers)
            fractions["idle"] = 1.0 - fractions["busy"] - fractions["blocked"] - fractions["down"]
            st.queue.add(end, 0)
            figures = {
                **fractions,
                "mean_queue": st.queue.area / span,
                "mean_wait_h": st.wait_total / st.waits if st.waits else math.nan,
                "throughput_per_h": st.departures / span,
            }
            if self.metered:
                st.waiting.add(end, 0)
                st.heat.add(end, 0)
                figures["power_wait"] = st.waiting.area / (span * st.servers)
                figures["idle"] -= figures["power_wait"]
                figures["energy_kwh"] = st.heat.area
            stations.append(figures)
        self.wip.add(end, 0)
        ct = np.asarray(self.cycle_times)
        has = ct.size > 0
        power = {"power": self.power_results(stations)} if self.metered else {}
        return {
            "throughput_per_h": ct.size / span,
            "cycle_time_h": float(ct.mean()) if has else math.nan,
            "cycle_time_p50": float(np.percentile(ct, 50)) if has else math.nan,
            "cycle_time_p95": float(np.percentile(ct, 95)) if has else math.nan,
            "wip": self.wip.area / span,
            "exits": int(ct.size),
            "jobs": self.jobs,
            "events": self.env.processed,
            "stations": stations,
            **power,
        }

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


def run_replication(plant: RefPlant, seed: int | np.random.SeedSequence) -> dict:
    """Simulate one replication with its own ``np.random.default_rng(seed)``.

    Returns ``throughput_per_h``, ``cycle_time_h`` (mean), ``cycle_time_p50``,
    ``cycle_time_p95``, ``wip``, ``exits`` (in the window), ``jobs`` (entered the first station
    over the whole run), ``events`` (SimPy events processed) and ``stations``: one dict per
    station with ``busy``, ``blocked``, ``down``, ``idle`` (fractions of server-time),
    ``mean_queue``, ``mean_wait_h`` and ``throughput_per_h``. Figures with no observation in
    the window (no exit, no service start) are NaN.

    A plant with power (``RefPlant.metered()``) adds to each station ``power_wait`` (share of
    server-time waiting for power under the cap; ``idle`` then excludes it) and
    ``energy_kwh`` (its heat), and a ``power`` dict: ``energy_kwh`` (base load and cooling
    included), ``mean_kw``, ``max_kw`` (the highest draw held for a positive time),
    ``bins_kw`` (demand-interval averages) and ``peak_kw`` (their maximum). ``mean_wait_h``
    stays the wait for a server, which a job takes before it waits for power.
    """
    _checked(plant)
    return _Replication(plant, np.random.default_rng(seed)).run()


def run(plant: RefPlant, replications: int, seed: int = 0) -> list[dict]:
    """``replications`` independent replications, seeded by ``SeedSequence(seed).spawn``."""
    return [run_replication(plant, s) for s in np.random.SeedSequence(seed).spawn(replications)]


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
    (stations keyed by index)."""

    def figure(values: Sequence[float]) -> dict:
        mean, half = mean_ci(values)
        return {"mean": mean, "ci95": [mean - half, mean + half]}

    out = {
        key: figure([r[key] for r in results])
        for key in ("throughput_per_h", "cycle_time_h", "wip")
    }
    out["cycle_time_h"]["p50"] = float(np.nanmean([r["cycle_time_p50"] for r in results]))
    out["cycle_time_h"]["p95"] = float(np.nanmean([r["cycle_time_p95"] for r in results]))
    out["stations"] = {
        j: {
            key: figure([r["stations"][j][key] for r in results])
            for key in results[0]["stations"][j]
        }
        for j in range(len(results[0]["stations"]))
    }
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
