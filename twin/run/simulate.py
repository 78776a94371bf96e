"""The Python API's entry point: compile a plant, run its lanes in chunks, summarise."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin._backend import Backend, get_backend
from twin.compile import PowerPlan, compile_plants
from twin.compile.arrays import engine_params
from twin.compile.flow import (
    certain_overload,
    expected_exits,
    offered_loads,
    service_means,
    visit_ratios,
)
from twin.config import Plant
from twin.errors import TwinError
from twin.results import metrics, series
from twin.results.parts import PARTS_FIELDS, PRODUCT_FIELDS
from twin.run import driver, memory
from twin.run.checkpoints import Checkpoints, run_key
from twin.run.chunks import run_chunks
from twin.run.targets import Target

FINE_BATCHES = 250  # periods of the fine series MSER-5 reads when no period is set


class SimulationError(TwinError):
    """A run that cannot finish meaningfully (overload, deadlock); the message says why."""


@dataclass(frozen=True)
class Periods:
    """The periods of the results per period: each one's start and length (hours, (K,)),
    the nominal period, the throughput target (per hour; None: none) and the release rate of
    the source's plan, ``[(from_h, jobs per hour), ...]``, for the chart."""

    start_h: np.ndarray
    length_h: np.ndarray
    period_h: float
    target_per_h: float | None
    plan: list[tuple[float, float]]


def _periods(plant: Plant, params) -> Periods | None:
    if params.plan.periods == 0:
        return None
    start, length = metrics.period_bounds(params)
    report = plant.report
    target = report.target.throughput if report and report.target else None
    plan = [(at, 1.0 / law.mean()) for at, law in plant.source.steps()]
    return Periods(start, length, params.plan.period, target, plan)


@dataclass
class Result:
    """What one call of :func:`simulate` measured.

    Attributes
    ----------
    lanes : dict of NumPy arrays
        Per-replication figures (see :func:`twin.results.metrics.per_lane`), lane axis first; with
        power, ``power.series_kw`` (R, B) is the plant power of each demand interval.
    power_plan : twin.compile.PowerPlan or None
        The demand-interval bins, tariff and cap behind the power figures (None: no power).
    """

    name: str
    station_ids: tuple[str, ...]
    backend: str
    replications: int
    seed: int
    horizon_h: float
    warmup_h: float
    lanes: dict[str, np.ndarray]
    wall_s: float
    power_plan: PowerPlan | None = None
    fleet_ids: tuple[str, ...] = ()
    pool_ids: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()  # the config's products (none: the plant has none)
    kinds: tuple[str, ...] = ()  # the kinds of jobs, with splits or assemblies (else none)
    periods: Periods | None = None  # the results per period (None: none asked for)
    warmup_method: str = "fixed"  # or "mser-5" (warmup: auto)
    warmup_points: dict | None = None  # with mser-5: the point each series gave, hours

    @property
    def series(self) -> dict | None:
        """The ``series`` block of the summary (None without periods)."""
        if self.periods is None:
            return None
        p = self.periods
        return series.summarize_series(self.lanes, p.start_h, p.length_h, p.period_h,
                                       self.station_ids)

    def target(self, block: dict | None = None) -> dict | None:
        """The ``target`` block of the summary (None without a target)."""
        p = self.periods
        if p is None or p.target_per_h is None:
            return None
        return series.target_block(self.series if block is None else block, self.lanes,
                                   p.start_h, p.length_h, p.target_per_h)

    def summary(self) -> dict:
        """The JSON summary, the object ``twin run --json`` prints (its figures: docs/semantics.md,
        "Statistics")."""
        out = {
            "name": self.name, "backend": self.backend, "replications": self.replications,
            "seed": self.seed, "horizon_h": self.horizon_h, "warmup_h": self.warmup_h,
            "warmup_method": self.warmup_method,
        }
        if self.warmup_points is not None:
            out["warmup_points_h"] = self.warmup_points
        out.update(metrics.summarize(self.lanes, self.station_ids, self.fleet_ids,
                                     self.pool_ids, self.product_ids))
        block = self.series
        if block is not None:
            out["series"] = block
            target = self.target(block)
            if target is not None:
                out["target"] = target
        out["events"] = int(self.lanes["events"].sum())
        out["wall_s"] = round(self.wall_s, 3)
        return out

    def replication_rows(self) -> tuple[list[str], list[list[float]]]:
        """Per-replication table: column names and one row per replication."""
        plant_cols = ["throughput_per_h", "cycle_time_h", "cycle_time_p50", "cycle_time_p95",
                      "wip", "wip_orders", "exits", "events"]
        cols = ["replication"] + plant_cols
        data = [np.arange(self.replications)] + [self.lanes[c] for c in plant_cols]
        for j, sid in enumerate(self.station_ids):
            for f in metrics.STATION_FIELDS:
                cols.append(f"{sid}.{f}")
                data.append(self.lanes[f"station.{f}"][:, j])
        if self.power_plan is not None:
            for f in metrics.POWER_FIELDS:
                cols.append(f"power.{f}")
                data.append(self.lanes[f"power.{f}"])
            for j, sid in enumerate(self.station_ids):
                for f in metrics.POWER_STATION_FIELDS:
                    cols.append(f"{sid}.{f}")
                    data.append(self.lanes[f"power.station.{f}"][:, j])
        for prefix, ids, fields in (("product", self.product_ids, PRODUCT_FIELDS),
                                    ("transport", self.fleet_ids, metrics.TRANSPORT_FIELDS),
                                    ("resources", self.pool_ids, metrics.RESOURCE_FIELDS)):
            for i, name in enumerate(ids):
                for f in fields:
                    cols.append(f"{prefix}.{name}.{f}")
                    data.append(self.lanes[f"{prefix}.{f}"][:, i])
        for d, kind in enumerate(self.kinds):
            for f in PARTS_FIELDS:
                cols.append(f"parts.{kind}.{f}")
                data.append(self.lanes[f"parts.{f}"][:, d])
        rows = np.column_stack([np.asarray(d, dtype=np.float64) for d in data])
        return cols, rows.tolist()

    def power_rows(self) -> tuple[list[str], list[list[float]]]:
        """Plant power by demand interval: bin start and end (h), $/kWh of the first scenario,
        the 5th, 50th and 95th percentiles and mean across replications, then each
        replication's kW."""
        if self.power_plan is None:
            raise ValueError("this plant has no power model")
        plan, series = self.power_plan, self.lanes["power.series_kw"]
        cols = ["bin_start_h", "bin_end_h", "price_usd_per_kwh", "p05_kw", "p50_kw", "p95_kw",
                "mean_kw"] + [f"rep{r}_kw" for r in range(series.shape[0])]
        p05, p50, p95 = np.percentile(series, [5, 50, 95], axis=0)
        data = [plan.bin_start, plan.bin_end, plan.price[0], p05, p50, p95,
                series.mean(axis=0), *series]
        return cols, np.column_stack(data).tolist()


def _overload_message(plant: Plant, station: int, how: str) -> str:
    st = plant.stations[station]
    load = offered_loads(plant)[station]
    rate = visit_ratios(plant)[station] / plant.source.interarrival.mean()
    hold = service_means(plant)[station]
    return (f"station '{st.id}' is overloaded: offered load {load:.2f} per server "
            f"({rate:.3g} jobs/h x {hold:.3g} h over {st.servers} servers, "
            f"failures included); {how}. Add servers, shorten its processing, slow the source "
            f"or give it a finite buffer")


def _certain_overload(plant: Plant) -> SimulationError | None:
    """The error of a plant that overloads whatever the random numbers (see
    :func:`twin.compile.flow.certain_overload`), before anything runs; None if it need not."""
    overload = certain_overload(plant)
    if overload is None:
        return None
    how = "every station feeding it has an unlimited buffer, so its queue grows without bound"
    return SimulationError(_overload_message(plant, overload[0], how))


def _engine_error(plant: Plant, err: driver.Overload | driver.Deadlock) -> SimulationError:
    """The engine's Overload or Deadlock in a lane of ``plant``, said for the user."""
    if isinstance(err, driver.Overload):
        how = f"its queue reached {err.queue} jobs by t={err.time:.0f}h"
        return SimulationError(_overload_message(plant, err.station, how))
    names = ", ".join(plant.stations[j].id for j in err.full) or "none"
    return SimulationError(
        f"deadlock in replication {err.lane} at t={err.time:.1f}h: full stations ({names}) "
        f"block each other around a routing loop. Give a station in the loop a larger or "
        f"unlimited buffer")


def _observed_overload(plant: Plant, lanes: dict[str, np.ndarray]) -> SimulationError | None:
    """The error of an unlimited station that was surely offered more work than it can do;
    None if there is none.

    The offered load seen in the run is the station's arrival rate times its processing time
    (failures included) per server; when its whole 95% confidence interval is at or above 1,
    the queue was growing for the whole run and its figures mean nothing.
    """
    means = service_means(plant)
    for j, st in enumerate(plant.stations):
        if st.buffer is not None or st.is_assembly:  # an assembly's arrivals are parts
            continue
        load = lanes["station.arrivals_per_h"][:, j] * means[j] / st.servers
        ci = metrics.mean_ci(load)
        if ci["ci95"][0] is not None and ci["ci95"][0] >= 1.0:
            how = (f"the run offered it {ci['mean']:.2f} [{ci['ci95'][0]:.2f}, "
                   f"{ci['ci95'][1]:.2f}] per server, so its queue grew without bound")
            return SimulationError(_overload_message(plant, j, how))
    return None


def simulate(plant: Plant, replications: int | None = None, seed: int | None = None,
             backend: str = "auto", horizon: float | None = None, warmup: float | str | None = None,
             progress: Callable[[float], None] | None = None,
             checkpoint_dir: str | os.PathLike | None = None,
             workers: int | None = None) -> Result:
    """Simulate ``replications`` independent replications of ``plant``.

    Parameters
    ----------
    plant : twin.config.Plant
        A validated plant (``twin.load``).
    replications, seed : int, optional
        Default to the plant's own.
    backend : {"auto", "numpy", "cupy"}
    horizon, warmup : float, optional
        Hours; default to the plant's. ``warmup="auto"`` (or ``warmup: auto`` in the config)
        runs the plant once from time 0 and lets MSER-5 pick the warm-up, then runs it with
        that warm-up (twice the work; docs/ramp.md).
    progress : callable, optional
        Called with the fraction done (0..1) as the run goes.
    checkpoint_dir : path, optional
        Keep partial results there as the run goes; calling again with the same arguments
        after an interruption resumes where it stopped and gives the same result.
    workers : int, optional
        Most CPU cores the engine uses on NumPy (default: every core). The result does not
        depend on it.

    Raises
    ------
    SimulationError
        The plant is overloaded (a queue would grow without bound) or deadlocks.
    """
    (outcome,) = _simulate_scenarios(
        [plant], plant.replications if replications is None else replications,
        plant.seed if seed is None else seed, backend, horizon, warmup, progress,
        checkpoint_dir, workers)
    if isinstance(outcome, SimulationError):
        raise outcome
    return outcome


def simulate_batch(plants: list[Plant], replications: int, seed: int, backend: str = "auto",
                   horizon: float | None = None, warmup: float | str | None = None,
                   progress: Callable[[float], None] | None = None,
                   workers: int | None = None) -> list[Result | SimulationError]:
    """Simulate several scenarios of one plant together: ``len(plants) x replications`` lanes
    of one engine run, with common random numbers (replication r of every scenario sees the
    same random numbers, so two equal scenarios give equal results).

    The plants must have the same stations in one order; server counts, buffers, distances,
    fleet sizes, pool counts and power caps may differ. A scenario that overloads or deadlocks
    does not stop the others: its entry is the :class:`SimulationError` that says why, and the
    rest are run again without it (their figures do not depend on which others share the run).
    """
    return _simulate_scenarios(plants, replications, seed, backend, horizon, warmup, progress,
                               None, workers)


def _simulate_scenarios(plants: list[Plant], replications: int, seed: int, backend: str,
                        horizon: float | None, warmup: float | str | None,
                        progress: Callable[[float], None] | None,
                        checkpoint_dir: str | os.PathLike | None,
                        workers: int | None) -> list[Result | SimulationError]:
    """What :func:`simulate` and :func:`simulate_batch` share: the window check, the overload
    and deadlock checks, and one run of every scenario still standing (again without any that
    failed) split into one :class:`Result` per scenario."""
    started = time.perf_counter()
    be = get_backend(backend)
    first = plants[0]
    horizon = first.horizon if horizon is None else horizon
    auto = warmup == "auto" or (warmup is None and first.warmup_auto)
    points = None
    if auto:
        warmup, points = _auto_warmup(plants, replications, seed, be, horizon, progress,
                                      workers)
        if progress is not None:  # the second half of the progress: the run itself
            progress = _later_half(progress)
    warmup = first.warmup if warmup is None else warmup
    if warmup >= horizon:
        raise TwinError(f"warmup ({float(warmup)}h) must be shorter than the horizon "
                        f"({float(horizon)}h)")
    _use_cores(be, workers)
    out: list[Result | SimulationError | None] = [_certain_overload(p) for p in plants]
    while todo := [i for i, r in enumerate(out) if r is None]:
        batch = [plants[i] for i in todo]
        size = memory.lanes_at_once(batch, len(batch) * replications, horizon, warmup, be)
        params = compile_plants(batch, replications, seed, horizon, warmup)
        try:
            lanes = _run_params(params, batch, be, size, checkpoint_dir, progress)
        except (driver.Overload, driver.Deadlock) as err:
            i = todo[err.lane // replications]
            out[i] = _engine_error(plants[i], err)
            continue
        wall = time.perf_counter() - started
        for k, i in enumerate(todo):
            mine = {key: v[k * replications: (k + 1) * replications] for key, v in lanes.items()}
            out[i] = _observed_overload(plants[i], mine) or Result(
                name=plants[i].name, station_ids=params.station_ids, backend=be.name,
                replications=replications, seed=params.seed, horizon_h=params.horizon,
                warmup_h=params.warmup, lanes=mine, wall_s=wall, power_plan=params.power,
                fleet_ids=params.fleets.ids if params.fleets else (),
                pool_ids=params.pools.ids if params.pools else (),
                product_ids=tuple(plants[i].products or ()),
                kinds=params.parts.kinds if params.parts.any_parts else (),
                periods=_periods(plants[i], params),
                warmup_method="mser-5" if auto else "fixed", warmup_points=points)
    return out


def _first_half(progress: Callable[[float], None]) -> Callable[[float], None]:
    return lambda frac: progress(0.5 * frac)


def _later_half(progress: Callable[[float], None]) -> Callable[[float], None]:
    return lambda frac: progress(0.5 + 0.5 * frac)


def _auto_warmup(plants: list[Plant], replications: int, seed: int, be: Backend,
                 horizon: float, progress, workers) -> tuple[float, dict]:
    """``warmup: auto``: run the plants from time 0 with results per period (the config's
    period, or a fine one of the horizon / FINE_BATCHES) and let MSER-5 pick the warm-up on
    the across-replication means of throughput and WIP (twin.results.series.auto_warmup);
    the latest point over the scenarios, with that scenario's points. A scenario that
    overloads or deadlocks is left out here (the run after says why). Raises TwinError
    (exit 2) when the run is too short for MSER-5 to find a point."""
    first = plants[0]
    period = first.report.period if first.report and first.report.period else 0.0
    period = period or horizon / FINE_BATCHES
    stage = None if progress is None else _first_half(progress)
    _use_cores(be, workers)
    todo = [p for p in plants if _certain_overload(p) is None]
    while todo:
        size = memory.lanes_at_once(todo, len(todo) * replications, horizon, 0.0, be)
        params = compile_plants(todo, replications, seed, horizon, 0.0, period)
        try:
            lanes = _run_params(params, todo, be, size, None, stage)
        except (driver.Overload, driver.Deadlock) as err:
            todo.pop(err.lane // replications)
            continue
        break
    else:
        return 0.0, {}
    start, length = metrics.period_bounds(params)
    best, points = 0.0, {}
    for k, plant in enumerate(todo):
        mine = {key: v[k * replications: (k + 1) * replications] for key, v in lanes.items()}
        at, found = series.auto_warmup(mine, start, length)
        if at is None:
            need = series.needed_horizon_h(horizon, period)
            raise TwinError(
                f"warmup: auto: MSER-5 finds no warm-up in the first half of the {horizon:g} h "
                f"run of '{plant.name}' (throughput or WIP still drifts); give a horizon of "
                f"at least {need:g} h, or a warm-up duration")
        if at >= best:
            best, points = at, found
    return best, points


def _use_cores(backend: Backend, workers: int | None) -> None:
    """On the CPU, run the engine on ``workers`` cores (every core by default)."""
    if backend.gpu:
        return
    import numba

    cores = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(cores if workers is None else max(1, min(workers, cores)))


def _run_params(params, plants: list[Plant], be: Backend, size: int, checkpoint_dir,
                progress) -> dict[str, np.ndarray]:
    """Run every lane of ``params`` in chunks of ``size`` lanes and return the per-lane
    figures; raises the engine's Overload and Deadlock."""
    window = params.horizon - params.warmup
    engine = engine_params(params, max(expected_exits(p, window) for p in plants))
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    saved = Checkpoints(folder) if folder is not None else None
    if saved is not None:
        size = saved.claim(run_key(plants[0], params, be.name), size)
    budget = int(be.free_bytes() * memory.MEMORY_SHARE)
    return run_chunks(params, engine, Target(be), size, budget, saved, progress)
