"""Compile validated plant models into the parameter arrays the engine reads.

Units end here: every time is in hours. The engine never sees a config object.

Slots
-----
Every server of every station is a *slot*, and the parameters of all lanes share one slot
layout: slot 0 is the source (a pseudo-server whose "service" is the interarrival time), then
the servers of station 0, station 1, ... each padded to the largest server count any scenario of
the batch gives that station, and a last *trash* slot that is never used (masked writes go there,
so no scatter ever writes one place twice). A slot whose rank at its station is not below the
lane's server count is switched off.

Station-indexed arrays have ``J + 1`` rows: rows ``0..J-1`` are the stations; row ``J`` is the
source for distributions and streams, and *exit* for routing targets and capacities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from twin.config import Deterministic, Empirical, Exponential, Gamma, Lognormal, Plant, Triangular
from twin.config import Uniform as UniformDist
from twin.engine import rng

STREAMS_PER_STATION = 4  # service, routing, time-to-failure, repair (see twin.engine.core)


@dataclass(frozen=True)
class Params:
    """Frozen parameter arrays of a batch of lanes (host NumPy; the engine moves them to xp).

    Shapes use L lanes, J stations, M slots (source, servers, trash) and T table rows.

    Attributes
    ----------
    horizon, warmup : float
        Hours; statistics cover [warmup, horizon].
    seed : int
    replication : (L,) int64
        Replication index of each lane (the key of its random streams).
    slot_station : (M,) int64
        Station of each slot (J for the source and the trash slot).
    slot_on : (L, M) bool
        Whether each slot is a working server (or the source) in each lane.
    servers : (L, J) float64
        Server count of each station in each lane.
    capacity : (L, J + 1) float64
        Most jobs a station holds (buffer + servers; inf when unlimited; row J, exit: inf).
    dist_kind : (L, J + 1) int64
        Distribution kind of each station's processing time (row J: interarrival), codes of
        :mod:`twin.engine.rng`.
    dist_par : (L, J + 1, 5) float64
        Compiled distribution parameters: deterministic (value), exponential (mean), uniform
        (low, width), triangular (low, high, F(mode), (high-low)(mode-low), (high-low)(high-mode)),
        lognormal (mu, sigma), gamma (table row in dist_row), empirical (count of values).
    dist_row : (L, J + 1) int64
        Row of ``tables`` for gamma and empirical distributions.
    tables : (T, G) float64
    route_cum : (L, J + 1, J + 1) float64
        Cumulative routing probabilities from each station (row J: the source, all to station 0)
        over targets 0..J-1 and exit (J); the last column is exactly 1.
    mtbf, mttr : (L, J + 1) float64
        Hours; mtbf is inf where a station has no failures.
    kinds_present : tuple of int
    has_failures, has_routing_draws : bool
    """

    horizon: float
    warmup: float
    seed: int
    station_ids: tuple[str, ...]
    replication: np.ndarray
    slot_station: np.ndarray
    slot_on: np.ndarray
    servers: np.ndarray
    capacity: np.ndarray
    dist_kind: np.ndarray
    dist_par: np.ndarray
    dist_row: np.ndarray
    tables: np.ndarray
    route_cum: np.ndarray
    mtbf: np.ndarray
    mttr: np.ndarray
    kinds_present: tuple[int, ...]
    has_failures: bool
    has_routing_draws: bool

    @property
    def lanes(self) -> int:
        return int(self.replication.shape[0])

    @property
    def stations(self) -> int:
        return len(self.station_ids)

    @property
    def slots(self) -> int:
        return int(self.slot_station.shape[0])

    @property
    def n_streams(self) -> int:
        return STREAMS_PER_STATION * (self.stations + 1)

    def take(self, lanes: slice) -> Params:
        """The parameters of a contiguous block of lanes (for running in chunks)."""
        per_lane = ("replication", "slot_on", "servers", "capacity", "dist_kind",
                    "dist_par", "dist_row", "route_cum", "mtbf", "mttr")
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields.update({name: fields[name][lanes] for name in per_lane})
        return Params(**fields)


def _dist_code(dist, tables: list[list[float]]) -> tuple[int, list[float], int]:
    """Kind code, parameter vector and table row of one distribution model."""
    par = [0.0] * rng.N_DIST_PARAMS
    row = 0
    if isinstance(dist, Deterministic):
        kind, par[0] = rng.DETERMINISTIC, dist.value
    elif isinstance(dist, Exponential):
        kind, par[0] = rng.EXPONENTIAL, dist.mean
    elif isinstance(dist, UniformDist):
        kind, par[0], par[1] = rng.UNIFORM, dist.low, dist.high - dist.low
    elif isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        kind = rng.TRIANGULAR
        par[:] = [a, b, (c - a) / (b - a), (b - a) * (c - a), (b - a) * (b - c)]
    elif isinstance(dist, Lognormal):
        sigma2 = math.log1p(dist.cv**2)
        kind, par[0], par[1] = rng.LOGNORMAL, math.log(dist.mean) - sigma2 / 2, math.sqrt(sigma2)
    elif isinstance(dist, Gamma):
        kind, row = rng.GAMMA, len(tables)
        tables.append(list(gamma_log_quantiles(dist.mean, dist.cv)))
    elif isinstance(dist, Empirical):
        kind, row = rng.EMPIRICAL, len(tables)
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
    z = np.linspace(rng.GAMMA_Z_MIN, rng.GAMMA_Z_MAX, rng.GAMMA_GRID)
    lower = special.gammaincinv(shape, special.ndtr(np.minimum(z, 0.0)))
    upper = special.gammainccinv(shape, special.ndtr(-np.maximum(z, 0.0)))
    q = np.where(z <= 0.0, lower, upper)
    return np.log(np.maximum(q, 1e-300) * scale)


def compile_plants(plants: list[Plant], replications: int, seed: int,
                   horizon: float | None = None, warmup: float | None = None) -> Params:
    """Lay out ``len(plants)`` scenarios x ``replications`` lanes, scenario-major.

    All plants must have the same stations (ids and order); server counts, buffers,
    distributions, routing and failures may differ. ``horizon``/``warmup`` (hours) override the
    first plant's.
    """
    first = plants[0]
    ids = tuple(s.id for s in first.stations)
    for p in plants[1:]:
        if tuple(s.id for s in p.stations) != ids:
            raise ValueError("all scenarios of a batch must have the same stations in one order")
    horizon = first.horizon if horizon is None else horizon
    warmup = first.warmup if warmup is None else warmup
    J, S, R = len(ids), len(plants), replications

    max_servers = [max(p.stations[j].servers for p in plants) for j in range(J)]
    slot_station = np.concatenate([[J]] + [[j] * c for j, c in enumerate(max_servers)] + [[J]])
    slot_rank = np.concatenate([[0]] + [list(range(c)) for c in max_servers] + [[1]])

    tables: list[list[float]] = []
    servers = np.zeros((S, J))
    capacity = np.full((S, J + 1), np.inf)
    kind = np.zeros((S, J + 1), dtype=np.int64)
    par = np.zeros((S, J + 1, rng.N_DIST_PARAMS))
    row = np.zeros((S, J + 1), dtype=np.int64)
    route = np.zeros((S, J + 1, J + 1))
    mtbf = np.full((S, J + 1), np.inf)
    mttr = np.ones((S, J + 1))
    for s, p in enumerate(plants):
        for j, st in enumerate(p.stations):
            servers[s, j] = st.servers
            if st.buffer is not None:
                capacity[s, j] = st.buffer + st.servers
            kind[s, j], par[s, j], row[s, j] = _dist_code(st.process, tables)
            for target, prob in p.routes(j):
                route[s, j, target] += prob
            if st.failures is not None:
                mtbf[s, j], mttr[s, j] = st.failures.mtbf, st.failures.mttr
        kind[s, J], par[s, J], row[s, J] = _dist_code(p.source.interarrival, tables)
        route[s, J, 0] = 1.0
    route_cum = np.cumsum(route, axis=-1)
    route_cum[..., -1] = 1.0

    width = max([len(t) for t in tables], default=1)
    table_arr = np.zeros((max(len(tables), 1), width))
    for i, t in enumerate(tables):
        table_arr[i, : len(t)] = t

    lane_scenario = np.repeat(np.arange(S), R)
    slot_on = slot_rank[None, :] < np.concatenate(
        [np.ones((S, 1)), servers[:, slot_station[1:-1]], np.zeros((S, 1))], axis=1)
    slot_on[:, -1] = False
    has_draws = bool(((route > 0) & (route < 1)).any())
    return Params(
        horizon=float(horizon), warmup=float(warmup), seed=int(seed), station_ids=ids,
        replication=np.tile(np.arange(R), S),
        slot_station=slot_station.astype(np.int64), slot_on=slot_on[lane_scenario],
        servers=servers[lane_scenario], capacity=capacity[lane_scenario],
        dist_kind=kind[lane_scenario], dist_par=par[lane_scenario], dist_row=row[lane_scenario],
        tables=table_arr, route_cum=route_cum[lane_scenario], mtbf=mtbf[lane_scenario],
        mttr=mttr[lane_scenario], kinds_present=tuple(sorted(set(kind.ravel().tolist()))),
        has_failures=bool(np.isfinite(mtbf).any()), has_routing_draws=has_draws,
    )


def compile_plant(plant: Plant, replications: int | None = None, seed: int | None = None,
                  horizon: float | None = None, warmup: float | None = None) -> Params:
    """One scenario: ``replications`` lanes of ``plant`` (defaults from the plant itself)."""
    return compile_plants([plant], plant.replications if replications is None else replications,
                          plant.seed if seed is None else seed, horizon, warmup)
