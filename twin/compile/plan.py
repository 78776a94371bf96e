"""Values that change over time, compiled into phases, and the periods of the results per
period (twin.engine.plan states how the engine uses them; docs/ramp.md the rules).

A phase starts at each distinct ``from`` time of a plant's schedules (phase 0 at time 0);
every scheduled value has a row per phase: the value in force from the phase's start. Plants
of one batch may have different change times (tuning moves them): each scenario has its own
phase starts, padded with ``inf`` (and the last phase's values) to the batch's most phases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.compile.parts import route_table
from twin.config import Exponential, Plant
from twin.config.fields import in_force
from twin.config.models import LearningByProduct


@dataclass(frozen=True)
class TimePlan:
    """Phases of a batch of scenarios and what each sets.

    Attributes
    ----------
    start : (S, NK) float64
        Hour each phase starts (phase 0: 0; ``inf`` past a scenario's last phase).
    servers : (S, NK, J + 1) int64
        Servers in force at each station (row J: 0).
    capacity : (S, NK, J + 1) float64
        Places of each station (buffer + servers in force; inf when unlimited; row J: inf).
    kind, row : (S, NK) int64 and par : (S, NK, 5) float64
        The source's interarrival law in each phase (twin.compile.plant.dist_code);
        ``mean`` (S, NK) its mean in hours.
    nhpp : (S,) int64
        1 where the source releases the exact Poisson process of its plan.
    route_cum : (S, NK, J + 1, TG, J + 1) float64
        Cumulative routing probabilities in each phase (twin.compile.parts).
    pool_count : (S, NK, NP) int64 and fleet_count : (S, NK, F) int64
        Units of each pool on shift, vehicles of each fleet in force.
    cap_heat : (S, NK) float64
        The cap in kW of station heat (inf: none).
    learn_exp, learn_floor : (S, J + 1, PR) float64
        log2 of each station's learning rate for each product (0: none) and its floor;
        ``learn_own`` (S, J + 1) int64: 1 where each product learns on its own.
    period : float
        Hours of a period of the results per period (0: none); ``periods`` their number in
        the window.
    """

    start: np.ndarray
    servers: np.ndarray
    capacity: np.ndarray
    kind: np.ndarray
    par: np.ndarray
    row: np.ndarray
    mean: np.ndarray
    nhpp: np.ndarray
    route_cum: np.ndarray
    pool_count: np.ndarray
    fleet_count: np.ndarray
    cap_heat: np.ndarray
    learn_exp: np.ndarray
    learn_floor: np.ndarray
    learn_own: np.ndarray
    period: float
    periods: int

    @property
    def phases(self) -> int:
        return int(self.start.shape[1])

    @property
    def changes(self) -> bool:
        """Whether something changes over time in some scenario."""
        return self.phases > 1 or bool(self.nhpp.any())

    @property
    def learns(self) -> bool:
        return bool((self.learn_exp != 0.0).any())


def periods_in(window: float, period: float) -> int:
    """Periods of ``period`` hours that cover a window of ``window`` hours (the last may be
    shorter; a remainder below a millionth of a period is rounding, not a period)."""
    if period <= 0.0:
        return 0
    return max(1, math.ceil(window / period - 1e-6))


def time_plan(plants: list[Plant], kinds: tuple[str, ...], products: tuple[str, ...],
              tables: list[list[float]], dist_code, power_cap: np.ndarray,
              base_kw: np.ndarray, factor: np.ndarray, window: float,
              period: float) -> TimePlan:
    """The phases of a batch (``tables`` takes the gamma and empirical rows of the plans'
    laws; ``power_cap``, ``base_kw``, ``factor`` (S,) turn plant caps into caps of heat)."""
    S, J, PR = len(plants), len(plants[0].stations), len(products)
    starts = [[0.0] + p.change_times() for p in plants]  # change times are after 0
    NK = max(len(s) for s in starts)
    start = np.full((S, NK), np.inf)
    servers = np.zeros((S, NK, J + 1), np.int64)
    capacity = np.full((S, NK, J + 1), np.inf)
    kind = np.zeros((S, NK), np.int64)
    row = np.zeros((S, NK), np.int64)
    par = np.zeros((S, NK, 5))
    mean = np.zeros((S, NK))
    nhpp = np.zeros(S, np.int64)
    NP, F = len(plants[0].resources), len(plants[0].transport)
    pool_count = np.zeros((S, NK, NP), np.int64)
    fleet_count = np.zeros((S, NK, F), np.int64)
    cap_heat = np.full((S, NK), np.inf)
    learn_exp = np.zeros((S, J + 1, PR))
    learn_floor = np.zeros((S, J + 1, PR))
    learn_own = np.zeros((S, J + 1), np.int64)
    route_cum = None
    for s, p in enumerate(plants):
        times = starts[s] + [starts[s][-1]] * (NK - len(starts[s]))
        start[s, :len(starts[s])] = starts[s]
        nhpp[s] = int(p.source.release == "nhpp")
        caps = p.power.cap_steps() if p.power is not None else None
        routes = []
        for k, at in enumerate(times):
            for j, st in enumerate(p.stations):
                servers[s, k, j] = in_force(st.server_steps(), at)
                if st.buffer is not None and not st.is_assembly:
                    capacity[s, k, j] = st.buffer + servers[s, k, j]
            law = in_force(p.source.steps(), at)
            kind[s, k], par[s, k], row[s, k] = dist_code(law, tables)
            mean[s, k] = law.mean()
            for q, pool in enumerate(p.resources):
                pool_count[s, k, q] = in_force(pool.count_steps(), at)
            for f, fleet in enumerate(p.transport):
                fleet_count[s, k, f] = in_force(fleet.count_steps(), at)
            if caps:
                cap_heat[s, k] = (in_force(caps, at) - base_kw[s]) / factor[s]
            else:
                cap_heat[s, k] = (power_cap[s] - base_kw[s]) / factor[s]
            routes.append(route_table(p, kinds, products, at))
        table = np.stack(routes)
        if route_cum is None:
            route_cum = np.zeros((S,) + table.shape)
        route_cum[s] = table
        for j, st in enumerate(p.stations):
            for r, product in enumerate(products):
                curve = st.learning_for(product)
                if curve is not None and curve.rate < 1.0:
                    learn_exp[s, j, r] = math.log2(curve.rate)
                    learn_floor[s, j, r] = curve.floor
            learn_own[s, j] = int(isinstance(st.learning, LearningByProduct))
        if nhpp[s] and not all(isinstance(law, Exponential) for _, law in p.source.steps()):
            raise ValueError("an exact Poisson release needs exponential interarrival times")
    return TimePlan(start=start, servers=servers, capacity=capacity, kind=kind, par=par,
                    row=row, mean=mean, nhpp=nhpp, route_cum=route_cum, pool_count=pool_count,
                    fleet_count=fleet_count, cap_heat=cap_heat, learn_exp=learn_exp,
                    learn_floor=learn_floor, learn_own=learn_own, period=float(period),
                    periods=periods_in(window, period))

