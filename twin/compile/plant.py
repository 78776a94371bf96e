"""Compile validated plant models into the parameter arrays the engine reads.

Units end here: every time is in hours. The engine never sees a config object.

Slots
-----
Every server of every station is a *slot*, and the parameters of all lanes share one slot
layout: slot 0 is the source (a pseudo-server whose "service" is the interarrival time), then
the servers of station 0, station 1, ... each padded to the largest server count any scenario of
the batch gives that station, the vehicles, the pools' shift timers, the plan's timer and
the periods' timer, and a last *trash* slot that is never used (masked writes go there,
so no scatter ever writes one place twice). A slot whose rank at its station is not below the
lane's server count is switched off.

Station-indexed arrays have ``J + 1`` rows: rows ``0..J-1`` are the stations; row ``J`` is the
source for distributions and streams, and *exit* for routing targets and capacities.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from twin.compile.logistics import FleetPlan, PoolPlan, fleet_plan, pool_plan
from twin.compile.parts import PartsPlan, parts_plan
from twin.compile.plan import TimePlan, time_plan
from twin.config import Deterministic, Empirical, Exponential, Gamma, Lognormal, Plant, Triangular
from twin.config import Uniform as UniformDist
from twin.config.fields import in_force
from twin.engine import codes
from twin.engine.codes import STEP0

TIMERS = 2  # slots of the plan's timer and the periods' timer, after the pools' timers


@dataclass(frozen=True)
class PowerPlan:
    """What turns the engine's station heat into plant power, energy and money, per scenario.

    Attributes
    ----------
    base_kw, factor, cap_kw, demand_charge, co2_per_kwh : (S,) float64
        Base load; plant kW per kW of station heat (1 + 1/COP); the cap (inf: none);
        $/kW-month; kg CO2 per kWh.
    price : (S, B) float64
        $/kWh in each demand-interval bin of the window (of the tariff in force there).
    charges : per scenario, ``((from_h, $/kW-month), ...)``
        The demand charge of each step of the tariff (one step without a schedule): each
        applies to the peak of its own part of the window.
    bin_start, bin_end : (B,) float64
        Hours: the bins are the demand intervals from time 0 (Monday 00:00), cut to
        [warmup, horizon].
    """

    base_kw: np.ndarray
    factor: np.ndarray
    cap_kw: np.ndarray
    demand_charge: np.ndarray
    co2_per_kwh: np.ndarray
    price: np.ndarray
    bin_start: np.ndarray
    bin_end: np.ndarray
    interval: float
    charges: tuple[tuple[tuple[float, float], ...], ...] = ()

    @property
    def bins(self) -> int:
        return int(self.bin_start.shape[0])

    @property
    def first_bin(self) -> int:
        """Index, counted from time 0, of the bin holding the warm-up's end."""
        return round(self.bin_start[0] // self.interval) if self.bins else 0


@dataclass(frozen=True)
class Params:
    """Frozen parameter arrays of a batch of scenarios and their lanes (host NumPy).

    Lanes are scenarios x replications, scenario-major. Every array but the lane maps has one
    row per scenario (lanes of a scenario share it); :mod:`twin.compile.arrays` packs them for
    the engine. Shapes use S scenarios, L lanes, J stations, M slots (the source, servers,
    vehicles, shift timers, one unused slot) and T table rows.

    Attributes
    ----------
    horizon, warmup : float
        Hours; statistics cover [warmup, horizon].
    seed : int
    replication, scenario : (L,) int64
        Replication index of each lane (the key of its random streams) and its scenario.
    slot_station : (M,) int64
        Station of each slot (J for the source, vehicles, timers and the unused slot).
    slot_on : (S, M) bool
        Whether each slot is a working server (or the source, or a vehicle) in each scenario.
    servers : (S, J) float64
        Server count of each station.
    capacity : (S, J + 1) float64
        Most jobs a station holds (buffer + servers; inf when unlimited; row J, exit: inf).
    dist_kind : (S, J + 1, PR) int64
        Distribution kind of each station's processing time for each product (row J:
        interarrival, the same for every product), codes of :mod:`twin.engine.codes`.
    dist_par : (S, J + 1, PR, 5) float64
        Compiled distribution parameters: deterministic (value), exponential (mean), uniform
        (low, width), triangular (low, high, F(mode), (high-low)(mode-low), (high-low)(high-mode)),
        lognormal (mu, sigma), gamma (table row in dist_row), empirical (count of values).
    dist_row : (S, J + 1, PR) int64
        Row of ``tables`` for gamma and empirical distributions.
    tables : (T, G) float64
    mtbf, mttr : (S, J + 1, PR) float64
        Hours, for jobs of each product; mtbf is inf where a station has no failures.
    draw, reserve : (S, J + 1, PR, 8 + K) float64
        kW of a server by status, then by busy-profile step (busy steps by the product of its
        job); what the cap counts it at.
    share : (S, J + 1, PR, K) float64
        Share of the processing time of each profile step; ``last_step`` (S, J + 1, PR) the
        last.
    parts : twin.compile.parts.PartsPlan
        Products, kinds, routing by tag, splits and assemblies.
    plan : twin.compile.plan.TimePlan
        Phases of the values that change over time, learning curves, and the periods of
        the results per period.
    """

    horizon: float
    warmup: float
    seed: int
    station_ids: tuple[str, ...]
    replication: np.ndarray
    scenario: np.ndarray
    slot_station: np.ndarray
    slot_on: np.ndarray
    servers: np.ndarray
    capacity: np.ndarray
    dist_kind: np.ndarray
    dist_par: np.ndarray
    dist_row: np.ndarray
    tables: np.ndarray
    mtbf: np.ndarray
    mttr: np.ndarray
    draw: np.ndarray
    reserve: np.ndarray
    share: np.ndarray
    last_step: np.ndarray
    has_power: bool
    has_cap: bool
    power: PowerPlan | None
    parts: PartsPlan
    fleets: FleetPlan | None = None
    pools: PoolPlan | None = None
    vehicle0: int = 0  # first vehicle slot
    timer0: int = 0  # first shift-timer slot (one per pool; then the plan's, the periods')
    plan: TimePlan | None = None

    @property
    def lanes(self) -> int:
        return int(self.replication.shape[0])

    @property
    def stations(self) -> int:
        return len(self.station_ids)

    @property
    def slots(self) -> int:
        return int(self.slot_station.shape[0])

    def take(self, lanes: slice) -> Params:
        """The parameters of a contiguous block of lanes (for running in chunks)."""
        return dataclasses.replace(self, replication=self.replication[lanes],
                                   scenario=self.scenario[lanes])


def dist_code(dist, tables: list[list[float]]) -> tuple[int, list[float], int]:
    """Kind code, parameter vector (``codes.N_DIST_PARAMS`` floats, see :class:`Params`) and
    table row of one distribution model; gamma and empirical laws append their row to
    ``tables``."""
    par = [0.0] * codes.N_DIST_PARAMS
    row = 0
    if isinstance(dist, Deterministic):
        kind, par[0] = codes.DETERMINISTIC, dist.value
    elif isinstance(dist, Exponential):
        kind, par[0] = codes.EXPONENTIAL, dist.mean
    elif isinstance(dist, UniformDist):
        kind, par[0], par[1] = codes.UNIFORM, dist.low, dist.high - dist.low
    elif isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        kind = codes.TRIANGULAR
        par[:] = [a, b, (c - a) / (b - a), (b - a) * (c - a), (b - a) * (b - c)]
    elif isinstance(dist, Lognormal):
        sigma2 = math.log1p(dist.cv**2)
        kind, par[0], par[1] = codes.LOGNORMAL, math.log(dist.mean) - sigma2 / 2, math.sqrt(sigma2)
    elif isinstance(dist, Gamma):
        kind, row = codes.GAMMA, len(tables)
        tables.append(list(gamma_log_quantiles(dist.mean, dist.cv)))
    elif isinstance(dist, Empirical):
        kind, row = codes.EMPIRICAL, len(tables)
        par[0] = float(len(dist.values))
        tables.append(sorted(dist.values))
    else:  # pragma: no cover - the config's union is closed
        raise TypeError(f"unknown distribution {dist!r}")
    return kind, par, row


def gamma_log_quantiles(mean: float, cv: float) -> np.ndarray:
    """Log-quantiles of a gamma law (mean, cv) on the engine's normal-score grid.

    The engine interpolates them linearly in the normal score, which keeps one uniform per
    variate; the upper half is computed from the complementary function so that the tail keeps
    full precision.
    """
    shape, scale = 1.0 / cv**2, mean * cv**2
    z = np.linspace(codes.GAMMA_Z_MIN, codes.GAMMA_Z_MAX, codes.GAMMA_GRID)
    lower = special.gammaincinv(shape, special.ndtr(np.minimum(z, 0.0)))
    upper = special.gammainccinv(shape, special.ndtr(-np.maximum(z, 0.0)))
    q = np.where(z <= 0.0, lower, upper)
    return np.log(np.maximum(q, 1e-300) * scale)


def _power_tables(plants: list[Plant]) -> tuple[np.ndarray, ...]:
    """Per-scenario draw and reservation tables, step shares and last steps (see Params)."""
    S, J = len(plants), len(plants[0].stations)
    products = plants[0].product_ids()
    PR = len(products)
    K = max(len(pw.steps()) if pw else 1 for p in plants for st in p.stations
            for pw in (st.power_for(pr) for pr in products))
    # columns: by server status (codes: IDLE 0, BUSY 1, BLOCKED 2, DOWN 3, OFF 4, WAITING 5
    # for power, HANDOVER 6 waiting for a vehicle, drawn as blocked, WAIT_UNITS 7 waiting for
    # pool units, drawn as waiting), then one per busy-profile step
    draw = np.zeros((S, J + 1, PR, STEP0 + K))
    reserve = np.zeros((S, J + 1, PR, STEP0 + K))
    share = np.zeros((S, J + 1, PR, K))
    share[..., 0] = 1.0
    last = np.zeros((S, J + 1, PR), dtype=np.int64)
    for s, p in enumerate(plants):
        for j, st in enumerate(p.stations):
            for r, product in enumerate(products):
                pw = st.power_for(product)
                if pw is None:
                    continue
                steps, standby = pw.steps(), pw.standby()
                draw[s, j, r, :STEP0] = [pw.idle, 0.0, pw.blocked, pw.down, 0.0, pw.waiting,
                                         pw.blocked, pw.waiting]
                reserve[s, j, r, :STEP0] = [standby, 0.0, standby, 0.0, 0.0, standby,
                                            standby, standby]
                for k, (frac, kw) in enumerate(steps):
                    draw[s, j, r, STEP0 + k] = kw
                    reserve[s, j, r, STEP0 + k] = max(standby, kw)
                    share[s, j, r, k] = frac
                last[s, j, r] = len(steps) - 1
    return draw, reserve, share, last


def demand_bins(step: float, horizon: float, warmup: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end hours of the demand-interval bins of the window [warmup, horizon]: the
    intervals of ``step`` hours from time 0, cut to the window."""
    first, last = math.floor(warmup / step), math.ceil(horizon / step)
    edges = np.arange(first, max(last, first + 1) + 1) * step
    bin_start = np.maximum(edges[:-1], warmup)
    bin_end = np.minimum(edges[1:], horizon)
    keep = bin_end > bin_start
    return bin_start[keep], bin_end[keep]


def _power_plan(plants: list[Plant], horizon: float, warmup: float) -> PowerPlan:
    """Bins of the window at the demand interval, and each scenario's plant-level figures."""
    intervals = {p.power.demand_interval if p.power else 0.25 for p in plants}
    if len(intervals) > 1:
        raise ValueError("all scenarios of a batch must have the same demand interval")
    step = intervals.pop()
    bin_start, bin_end = demand_bins(step, horizon, warmup)
    S = len(plants)
    base, factor, cap = np.zeros(S), np.ones(S), np.full(S, np.inf)
    charge, co2, price = np.zeros(S), np.zeros(S), np.zeros((S, bin_start.shape[0]))
    charges: list[tuple[tuple[float, float], ...]] = [((0.0, 0.0),)] * S
    for s, p in enumerate(plants):
        pw = p.power
        if pw is None:
            continue
        base[s], factor[s], co2[s] = pw.base_load, pw.cooling_factor(), pw.co2_per_kwh
        cap[s] = np.inf if pw.cap is None else pw.cap
        steps = pw.tariff_steps() if pw.tariff is not None else None
        if steps:
            charge[s] = steps[0][1].demand_charge
            charges[s] = tuple((at, tariff.demand_charge) for at, tariff in steps)
            # one price per bin: validation puts every price change (and every `from` of a
            # tariff schedule) on an interval edge
            price[s] = [in_force(steps, t).price_at(t) for t in bin_start]
    return PowerPlan(base_kw=base, factor=factor, cap_kw=cap, demand_charge=charge,
                     co2_per_kwh=co2, price=price, bin_start=bin_start, bin_end=bin_end,
                     interval=step, charges=tuple(charges))


def compile_plants(plants: list[Plant], replications: int, seed: int,
                   horizon: float | None = None, warmup: float | None = None,
                   period: float | None = None) -> Params:
    """Lay out ``len(plants)`` scenarios x ``replications`` lanes, scenario-major.

    All plants must have the same stations (ids and order); server counts, buffers,
    distributions, routing and failures may differ. ``horizon``/``warmup`` (hours) override the
    first plant's, ``period`` (hours; 0: none) its ``report.period``.
    """
    first = plants[0]
    ids = tuple(s.id for s in first.stations)
    for p in plants[1:]:
        if tuple(s.id for s in p.stations) != ids:
            raise ValueError("all scenarios of a batch must have the same stations in one order")
    horizon = first.horizon if horizon is None else horizon
    warmup = first.warmup if warmup is None else warmup
    J, S, R = len(ids), len(plants), replications

    fleets = fleet_plan(plants)
    V = fleets.vehicles if fleets else 0
    n_pools = len(first.resources)
    max_servers = [max(p.stations[j].servers for p in plants) for j in range(J)]
    extra = V + n_pools + TIMERS + 1  # vehicles, pools' timers, the plan's and the periods'
    slot_station = np.concatenate([[J]] + [[j] * c for j, c in enumerate(max_servers)]
                                  + [[J] * extra])
    slot_rank = np.concatenate([[0]] + [list(range(c)) for c in max_servers] + [[0] * extra])
    vehicle0 = 1 + sum(max_servers)
    timer0 = vehicle0 + V

    parts = parts_plan(plants)
    PR = len(parts.products)
    tables: list[list[float]] = []
    servers = np.zeros((S, J))
    capacity = np.full((S, J + 1), np.inf)
    kind = np.zeros((S, J + 1, PR), dtype=np.int64)
    par = np.zeros((S, J + 1, PR, codes.N_DIST_PARAMS))
    row = np.zeros((S, J + 1, PR), dtype=np.int64)
    mtbf = np.full((S, J + 1, PR), np.inf)
    mttr = np.ones((S, J + 1, PR))
    for s, p in enumerate(plants):
        for j, st in enumerate(p.stations):
            servers[s, j] = st.servers
            if st.buffer is not None and not st.is_assembly:
                capacity[s, j] = st.buffer + st.servers
            for r, product in enumerate(parts.products):
                kind[s, j, r], par[s, j, r], row[s, j, r] = dist_code(st.process_for(product),
                                                                      tables)
                failures = st.failures_for(product)
                if failures is not None:
                    mtbf[s, j, r], mttr[s, j, r] = failures.mtbf, failures.mttr
        kind[s, J, :], par[s, J, :], row[s, J, :] = dist_code(p.source.interarrival, tables)

    draw, reserve, share, last_step = _power_tables(plants)
    has_power = any(p.power is not None or any(st.power is not None for st in p.stations)
                    for p in plants)
    plan = _power_plan(plants, horizon, warmup) if has_power else None
    if period is None:
        period = first.report.period if first.report and first.report.period else 0.0
    timeline = time_plan(
        plants, parts.kinds, parts.products, tables, dist_code,
        plan.cap_kw if plan else np.full(S, np.inf), plan.base_kw if plan else np.zeros(S),
        plan.factor if plan else np.ones(S), horizon - warmup, period)
    width = max([len(t) for t in tables], default=1)
    table_arr = np.zeros((max(len(tables), 1), width))
    for i, t in enumerate(tables):
        table_arr[i, : len(t)] = t
    server_slots = slice(1, vehicle0)
    slot_on = np.zeros((S, len(slot_station)), bool)
    slot_on[:, 0] = True
    ranks, stations = slot_rank[None, server_slots], slot_station[server_slots]
    slot_on[:, server_slots] = ranks < servers[:, stations]
    if fleets is not None:
        slot_on[:, vehicle0:timer0] = (
            fleets.rank[None, :] < fleets.count[:, fleets.vehicle_fleet[:-1]])
    return Params(
        horizon=float(horizon), warmup=float(warmup), seed=int(seed), station_ids=ids,
        replication=np.tile(np.arange(R), S), scenario=np.repeat(np.arange(S), R),
        slot_station=slot_station.astype(np.int64), slot_on=slot_on, servers=servers,
        capacity=capacity, dist_kind=kind, dist_par=par, dist_row=row, tables=table_arr,
        parts=parts, mtbf=mtbf, mttr=mttr, draw=draw, reserve=reserve, share=share,
        last_step=last_step, has_power=has_power,
        has_cap=bool(np.isfinite(timeline.cap_heat).any()), power=plan, fleets=fleets,
        pools=pool_plan(plants, slot_station), vehicle0=vehicle0, timer0=timer0,
        plan=timeline,
    )


def compile_plant(plant: Plant, replications: int | None = None, seed: int | None = None,
                  horizon: float | None = None, warmup: float | None = None,
                  period: float | None = None) -> Params:
    """One scenario: ``replications`` lanes of ``plant`` (defaults from the plant itself)."""
    return compile_plants([plant], plant.replications if replications is None else replications,
                          plant.seed if seed is None else seed, horizon, warmup, period)
