"""Metrics that objectives and constraints name: per-replication values of a candidate's run,
and its capital cost from the config.

A metric is a short name (``throughput``, ``cycle_time``, ``peak_power``, ``energy_cost``,
``capital_cost``, ``time_to_target`` ...) or a path into the JSON summary of `twin run` whose
value has a mean: ``throughput_per_h``, ``power.peak_kw``, ``stations.burn_in.mean_queue``,
``transport.agv.mean_wait_h``, ``resources.technician.busy``."""

from __future__ import annotations

import difflib

import numpy as np

from twin.config import Plant
from twin.config.tuning import Constraint, Costs, quantity
from twin.results import metrics
from twin.run.simulate import Result

SHORT_NAMES = {
    "throughput": "throughput_per_h",
    "cycle_time": "cycle_time_h",
    "peak_power": "power.peak_kw",
    "mean_power": "power.mean_kw",
    "energy": "power.energy_mwh",
    "energy_cost": "power.cost_usd",
    "co2": "power.co2_t",
    "capital_cost": "capital_cost",
    "time_to_target": "time_to_target_h",
    "weeks_to_target": "time_to_target_w",
}
"""Short names and the summary path each stands for. `energy_cost` is the power bill over the
measured window: energy and demand charges (``power.cost_usd``). `time_to_target` (hours) and
`weeks_to_target` are not in the summary: `time_to_target` below measures them per
replication from the results per period."""

PLANT_FIELDS = ("throughput_per_h", "cycle_time_h", "cycle_time_p50", "cycle_time_p95", "wip")
TARGET_FIELDS = ("time_to_target_h", "time_to_target_w")
HOURS_PER_WEEK = 168.0
UNITS = {"throughput_per_h": "/h", "cycle_time_h": "h", "power.peak_kw": "kW",
         "power.mean_kw": "kW", "power.energy_mwh": "MWh", "power.cost_usd": "USD",
         "capital_cost": "USD", "time_to_target_h": "h", "time_to_target_w": "w"}


def canonical(name: str) -> str:
    """The summary path a metric name stands for."""
    return SHORT_NAMES.get(name, name)


def has_power(plant: Plant) -> bool:
    return plant.power is not None or any(s.power is not None for s in plant.stations)


def has_target(plant: Plant) -> bool:
    """Whether the plant has a throughput target per period (`report.target`, which needs
    `report.period`)."""
    return plant.report is not None and plant.report.target is not None


def available(plant: Plant) -> list[str]:
    """Every metric the results of ``plant`` have, as summary paths."""
    names = ["capital_cost", *PLANT_FIELDS]
    if has_target(plant):
        names += TARGET_FIELDS
    if has_power(plant):
        names += [f"power.{f}" for f in metrics.POWER_FIELDS]
    names += [f"stations.{s.id}.{f}" for s in plant.stations for f in metrics.STATION_FIELDS]
    names += [f"transport.{f.id}.{x}" for f in plant.transport for x in metrics.TRANSPORT_FIELDS]
    names += [f"resources.{p.id}.{x}" for p in plant.resources for x in metrics.RESOURCE_FIELDS]
    return names


def check(plant: Plant, name: str) -> str | None:
    """None if the results of ``plant`` have metric ``name``, else why not (one line)."""
    path = canonical(name)
    known = available(plant)
    if path in known:
        return None
    if path.startswith("power.") and not has_power(plant):
        return (f"'{name}' needs power figures, and the plant draws no power; add `power:` to "
                "its stations or the plant, or choose another metric")
    if path in TARGET_FIELDS:
        return (f"'{name}' needs a throughput target per period, and the plant has none; add "
                "`report: {period: 1w, target: {throughput: 1000/w}}` (your period and "
                "target), or choose another metric")
    shorts = [k for k in SHORT_NAMES if canonical(k) in known]
    close = difflib.get_close_matches(path, shorts + known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(shorts)}"
    return f"the results have no metric '{name}'; {hint} (docs/tuning.md lists them)"


def capital_cost(plant: Plant, costs: Costs) -> float:
    """USD: servers, vehicles and pool units at their prices, the floor area and the cap; of
    a schedule, the most it ever has (the plant's `servers` and `count` hold that already)."""
    default = costs.servers.get("default", 0.0)
    total = sum(s.servers * costs.servers.get(s.id, default) for s in plant.stations)
    total += sum(f.count * costs.vehicles.get(f.id, 0.0) for f in plant.transport)
    total += sum(p.count * costs.units.get(p.id, 0.0) for p in plant.resources)
    if plant.layout is not None:
        total += costs.floor_m2 * plant.layout.floor[0] * plant.layout.floor[1]
    if plant.power is not None and plant.power.cap is not None:
        total += costs.power_cap_kw * max(cap for _, cap in plant.power.cap_steps())
    return float(total)


def bounds(constraint: Constraint) -> tuple[float | None, float | None]:
    """A constraint's (min, max) in its metric's unit: as `Constraint.bounds` (a duration in
    hours, a power in kW), but a duration on ``weeks_to_target`` in weeks."""
    if canonical(constraint.metric) != "time_to_target_w":
        return constraint.bounds

    def in_weeks(bound: float | str) -> float:
        value, unit = quantity(bound)
        return value / HOURS_PER_WEEK if unit == "h" else value

    return tuple(None if b is None else in_weeks(b) for b in (constraint.min, constraint.max))


def time_to_target(result: Result) -> np.ndarray:
    """Hours from time 0 to the start of the first period in which each replication's own
    throughput (exits / the period's length) reaches the target, (R,); the horizon for a
    replication that never does (censored: it would reach it later, if at all).

    Reads ``series.exits`` (R, K) and the periods' starts and lengths (K,); the periods start
    at the end of the warm-up."""
    periods = result.periods
    reached = result.lanes["series.exits"] / periods.length_h >= periods.target_per_h
    first = periods.start_h[reached.argmax(axis=1)]
    return np.where(reached.any(axis=1), first, result.horizon_h)


def values(name: str, result: Result, plant: Plant, costs: Costs) -> np.ndarray:
    """Per-replication values of a metric (R,); a config figure is the same in every one."""
    path = canonical(name)
    lanes = result.lanes
    if path == "capital_cost":
        return np.full(result.replications, capital_cost(plant, costs))
    if path in PLANT_FIELDS:
        return np.asarray(lanes[path], dtype=float)
    if path in TARGET_FIELDS:
        hours = time_to_target(result)
        return hours if path == "time_to_target_h" else hours / HOURS_PER_WEEK
    head, _, rest = path.partition(".")
    if head == "power":
        return np.asarray(lanes[path], dtype=float)
    item, _, field = rest.partition(".")
    if head == "stations":
        return lanes[f"station.{field}"][:, result.station_ids.index(item)]
    ids = result.fleet_ids if head == "transport" else result.pool_ids
    return lanes[f"{head}.{field}"][:, ids.index(item)]
