"""Per-lane statistics from the engine's final state, and summaries across replications.

NumPy only: the engine's arrays are converted with :func:`twin._backend.to_numpy` before they
reach this module.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from twin.config import ALL_PRODUCTS
from twin.engine import codes
from twin.engine.codes import (
    C_BLOCKED,
    C_BUSY,
    C_DOWN,
    C_ENERGY,
    C_ON,
    C_QUEUE,
    C_UNITS,
    C_WAIT,
    HANDOVER,
    SC_CT,
    SC_EXITS,
    SC_HEAT,
    SC_PEAK,
    SC_WIP,
    SERIES_FIXED,
)
from twin.results.parts import parts_per_lane, product_per_lane

STATION_FIELDS = ("busy", "blocked", "down", "waiting", "idle", "mean_queue", "mean_wait_h",
                  "throughput_per_h")
POWER_FIELDS = ("mean_kw", "max_kw", "peak_kw", "energy_mwh", "cost_usd", "energy_cost_usd",
                "demand_cost_usd", "co2_t", "kwh_per_job", "cooling_mwh", "base_mwh")
POWER_STATION_FIELDS = ("energy_mwh", "power_wait", "power_wait_h")
TRANSPORT_FIELDS = ("loaded", "empty", "handling", "charging", "idle", "mean_wait_h",
                    "trips_per_h", "km_per_vehicle_per_h")
RESOURCE_FIELDS = ("busy", "mean_wait_h")
# vehicle statuses in each transport fraction (docs/transport.md)
VEHICLE_TIME = {
    "loaded": (codes.V_LOADED,),
    "empty": (codes.V_TO_PICKUP, codes.V_TO_HOME, codes.V_TO_CHARGER),
    "handling": (codes.V_LOADING, codes.V_UNLOADING),
    "charging": (codes.V_CHARGE_WAIT, codes.V_CHARGING),
    "idle": (codes.V_IDLE,),
}
ON_VEHICLE = (codes.V_LOADED, codes.V_UNLOADING)  # statuses of a vehicle that carries a job
HOURS_PER_MONTH = 365.25 * 24 / 12  # the demand charge is per month; runs pay it pro rata


def _row_quantiles(values: np.ndarray, counts: np.ndarray,
                   qs: tuple[float, ...]) -> list[np.ndarray]:
    """Per-row quantiles (linear interpolation, as numpy's default) of the first counts[i]
    values, one (L,) array per quantile in ``qs``.

    values : (L, E) array; counts : (L,) ints. Rows with no value give NaN.
    """
    L, E = values.shape
    ordered = np.where(np.arange(E)[None, :] < counts[:, None], values, np.inf)
    ordered.sort(axis=1)
    rows = np.arange(L)
    out = []
    for q in qs:
        pos = (np.maximum(counts, 1) - 1) * q
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
        value = ordered[rows, lo] + (pos - lo) * (ordered[rows, hi] - ordered[rows, lo])
        out.append(np.where(counts > 0, value, np.nan))
    return out


def per_lane(raw: dict[str, np.ndarray], params) -> dict[str, np.ndarray]:
    """Figures of each lane (replication) from the engine's final state.

    Parameters
    ----------
    raw : dict of NumPy arrays
        The output of :func:`twin.engine.loop.run`, converted to NumPy.
    params : twin.compile.Params

    Returns
    -------
    dict
        Plant-level arrays of shape (L,) (``throughput_per_h``, ``cycle_time_h``,
        ``cycle_time_p50``, ``cycle_time_p95``, ``wip``, ``exits`` (in the window), ``events``,
        and since time 0 ``jobs_entered``, ``jobs_exited`` and ``jobs_inside`` at the horizon)
        and per-station
        arrays of shape (L, J) under ``station.<field>``.
    """
    J = params.stations
    window = params.horizon - params.warmup
    area = raw["area"][:, :J, :]
    exits = raw["n_exit"].astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p50, p95 = _row_quantiles(raw["ct"], exits, (0.5, 0.95))
        server_time = area[..., C_ON]  # server-hours in force: servers x window, or less
        busy = area[..., C_BUSY] / server_time
        blocked = area[..., C_BLOCKED] / server_time
        down = area[..., C_DOWN] / server_time
        waiting = (area[..., C_WAIT] + area[..., C_UNITS]) / server_time
        out = {
            "throughput_per_h": exits / window,
            "cycle_time_h": np.where(exits > 0, raw["ct_sum"] / np.maximum(exits, 1), np.nan),
            "cycle_time_p50": p50,
            "cycle_time_p95": p95,
            "wip": (area[..., :C_ENERGY].sum(axis=(1, 2)) + _on_vehicles(raw, params)) / window,
            "exits": exits,
            "events": raw["events"].astype(np.int64),
            "jobs_entered": raw["entered"].astype(np.int64),
            "jobs_exited": raw["exited"].astype(np.int64),
            "jobs_inside": _jobs_inside(raw, params),
            "station.busy": busy,
            "station.blocked": blocked,
            "station.down": down,
            "station.waiting": waiting,
            "station.idle": 1.0 - busy - blocked - down - waiting,
            "station.mean_queue": area[..., C_QUEUE] / window,
            "station.mean_wait_h": np.where(raw["starts"][:, :J] > 0,
                                            raw["wait_sum"][:, :J] / raw["starts"][:, :J], np.nan),
            "station.throughput_per_h": raw["departs"][:, :J] / window,
            "station.arrivals_per_h": raw["arrivals"][:, :J] / window,
        }
    if params.power is not None:
        out.update(power_per_lane(raw, params, exits))
    if params.parts.products != (ALL_PRODUCTS,):
        out.update(product_per_lane(raw, params, _row_quantiles))
    out["wip_orders"] = raw["order_area"] / window
    if params.parts.any_parts:
        out.update(parts_per_lane(raw, params))
    if params.fleets is not None:
        out.update(transport_per_lane(raw, params))
    if params.pools is not None:
        out.update(resources_per_lane(raw, params))
    if params.plan is not None and params.plan.periods > 0:
        out.update(series_per_lane(raw, params))
    return out


def period_bounds(params) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each period of the window, hours: (K,) each."""
    plan = params.plan
    start = params.warmup + np.arange(plan.periods) * plan.period
    return start, np.minimum(start + plan.period, params.horizon) - start


def series_per_lane(raw: dict[str, np.ndarray], params) -> dict[str, np.ndarray]:
    """Figures of each period of each lane, ``series.<field>`` of shape (L, K) or (L, K, J),
    from the window's figures the engine wrote at each period's end (twin.engine.plan)."""
    J = params.stations
    at_end = raw["series"]
    so_far = np.diff(at_end, axis=1, prepend=0.0)  # what each period added
    _, length = period_bounds(params)
    busy = so_far[..., SERIES_FIXED:SERIES_FIXED + J]
    on = so_far[..., SERIES_FIXED + J:SERIES_FIXED + 2 * J]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "series.exits": so_far[..., SC_EXITS],
            "series.ct_sum": so_far[..., SC_CT],
            "series.wip": so_far[..., SC_WIP] / length,
            "series.busy": np.where(on > 0.0, busy / on, np.nan),
        }
    if params.power is not None:
        base = params.power.base_kw[params.scenario][:, None]
        factor = params.power.factor[params.scenario][:, None]
        out["series.mean_kw"] = base + factor * so_far[..., SC_HEAT] / length
        out["series.peak_kw"] = base + factor * at_end[..., SC_PEAK]
    return out


def _on_vehicles(raw: dict[str, np.ndarray], params) -> np.ndarray:
    """Integral over the window of the jobs on vehicles (loaded or unloading), (L,)."""
    if params.fleets is None:
        return np.zeros(raw["n_exit"].shape[0])
    cols = [code - codes.V_IDLE for code in ON_VEHICLE]
    return raw["f_area"][:, :, cols].sum(axis=(1, 2))


def _jobs_inside(raw: dict[str, np.ndarray], params) -> np.ndarray:
    """Jobs in the plant at the end, (L,): in stations, less those counted twice (a place
    reserved at the next station while the job still holds its server), plus those on a
    vehicle to the shipping point (counted at no station)."""
    J = params.stations
    inside = raw["count"][:, :J].sum(axis=1).astype(np.int64)
    if params.fleets is None:
        return inside
    twice = ((raw["status"] == HANDOVER) & (raw["target"] != J)).sum(axis=1)
    V0, V = params.vehicle0, params.fleets.vehicles
    vst = raw["status"][:, V0 : V0 + V]
    shipping = (np.isin(vst, ON_VEHICLE) & (raw["v_to"][:, :V] == J)).sum(axis=1)
    return inside - twice + shipping


def transport_per_lane(raw: dict[str, np.ndarray], params) -> dict[str, np.ndarray]:
    """Fleet figures of each lane, ``transport.<field>`` of shape (L, F)."""
    fleets = params.fleets
    window = params.horizon - params.warmup
    vehicle_time = raw["f_on"]  # vehicle-hours in force: count x window, or less
    area = raw["f_area"]
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, statuses in VEHICLE_TIME.items():
            cols = [code - codes.V_IDLE for code in statuses]
            out[f"transport.{name}"] = area[:, :, cols].sum(axis=2) / vehicle_time
        driving = out["transport.loaded"] + out["transport.empty"]
        out["transport.mean_wait_h"] = np.where(
            raw["f_pickups"] > 0, raw["f_wait"] / np.maximum(raw["f_pickups"], 1), np.nan)
        out["transport.trips_per_h"] = raw["f_trips"] / window
        out["transport.km_per_vehicle_per_h"] = driving * fleets.speed[params.scenario] / 1000.0
        low, fleet_v = raw["v_low"], fleets.vehicle_fleet[:-1]
        out["transport.battery_low_h"] = np.stack(
            [low[:, fleet_v == f].min(axis=1, initial=np.inf) for f in range(len(fleets.ids))],
            axis=1)
    return out


def in_force_hours(params, counts: np.ndarray) -> np.ndarray:
    """Unit-hours in force over the window of a count that the plan sets per phase,
    ``counts`` (S, NK, N) -> (L, N): the count of each phase times its hours in the window."""
    plan = params.plan
    ends = np.concatenate([plan.start[:, 1:], np.full((plan.start.shape[0], 1), np.inf)],
                          axis=1)
    hours = (np.minimum(ends, params.horizon) - np.maximum(plan.start, params.warmup))
    hours = np.maximum(np.nan_to_num(hours, nan=0.0, neginf=0.0), 0.0)  # (S, NK)
    return np.einsum("sk,skn->sn", hours, counts)[params.scenario]


def resources_per_lane(raw: dict[str, np.ndarray], params) -> dict[str, np.ndarray]:
    """Pool figures of each lane, ``resources.<field>`` of shape (L, NP)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "resources.busy": raw["p_area"] / in_force_hours(params, params.plan.pool_count),
            "resources.mean_wait_h": np.where(
                raw["p_grants"] > 0, raw["p_wait"] / np.maximum(raw["p_grants"], 1), np.nan),
        }


def power_series(raw: dict[str, np.ndarray], params) -> np.ndarray:
    """Plant power (kW) averaged over each demand interval of the window, per lane: (L, B).

    Exact: the engine keeps each bin's integral of the stations' heat; the plant adds the base
    load and the cooling of that heat.
    """
    plan = params.power
    lengths = plan.bin_end - plan.bin_start
    part, jump = raw["bins"][..., 0], raw["bins"][..., 1]
    series = np.cumsum(jump, axis=1)  # in place from here: (L, B) arrays are large
    series -= jump  # a change counts from the bin after its own: the level of each bin
    series *= lengths
    series += part  # the heat of each bin, kWh
    series /= lengths
    series *= plan.factor[params.scenario, None]
    series += plan.base_kw[params.scenario, None]
    return series


def power_per_lane(raw: dict[str, np.ndarray], params, exits: np.ndarray) -> dict[str, np.ndarray]:
    """Power figures of each lane: plant ``power.<field>`` (L,) and ``power.station.<field>``
    (L, J). See docs/power.md for what each counts."""
    plan, J = params.power, params.stations
    sc = params.scenario
    window = params.horizon - params.warmup
    base, factor = plan.base_kw[sc], plan.factor[sc]
    heat_kwh = raw["area"][:, :J, C_ENERGY]
    heat_total = heat_kwh.sum(axis=1)
    energy = base * window + factor * heat_total
    series = power_series(raw, params)
    lengths = plan.bin_end - plan.bin_start
    peak = series.max(axis=1)
    energy_cost = np.zeros(sc.shape[0])
    for s in np.unique(sc):  # each scenario's lanes (consecutive) and prices: one product
        lanes = np.flatnonzero(sc == s)
        mine = slice(lanes[0], lanes[-1] + 1)
        energy_cost[mine] = series[mine] @ (lengths * plan.price[s])
    demand_cost = demand_costs(series, plan, sc, params.warmup, params.horizon)
    server_time = raw["area"][:, :J, C_ON]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "power.mean_kw": energy / window,
            "power.max_kw": base + factor * raw["heat_max"],
            "power.peak_kw": peak,
            "power.energy_mwh": energy / 1000.0,
            "power.cost_usd": energy_cost + demand_cost,
            "power.energy_cost_usd": energy_cost,
            "power.demand_cost_usd": demand_cost,
            "power.co2_t": energy * plan.co2_per_kwh[sc] / 1000.0,
            "power.kwh_per_job": np.where(exits > 0, energy / np.maximum(exits, 1), np.nan),
            "power.cooling_mwh": (factor - 1.0) * heat_total / 1000.0,
            "power.base_mwh": base * window / 1000.0,
            "power.series_kw": series,
            "power.station.energy_mwh": heat_kwh / 1000.0,
            "power.station.power_wait": raw["area"][:, :J, C_WAIT] / server_time,
            "power.station.power_wait_h": np.where(
                raw["grants"][:, :J] > 0, raw["pw_sum"][:, :J] / raw["grants"][:, :J], np.nan),
        }


def demand_costs(series: np.ndarray, plan, sc: np.ndarray, warmup: float,
                 horizon: float) -> np.ndarray:
    """Demand charges of each lane, (L,): each step of the tariff charges its $/kW-month on
    the peak demand-interval average of its own part of the window, for that part's
    length."""
    out = np.zeros(sc.shape[0])
    for s in np.unique(sc):
        lanes = sc == s
        steps = plan.charges[s] if plan.charges else ((0.0, plan.demand_charge[s]),)
        for k, (at, charge) in enumerate(steps):
            end = steps[k + 1][0] if k + 1 < len(steps) else math.inf
            lo, hi = max(at, warmup), min(end, horizon)
            bins = (plan.bin_start >= lo) & (plan.bin_start < hi)
            if charge == 0.0 or hi <= lo or not bins.any():
                continue
            peak = series[np.ix_(lanes, bins)].max(axis=1)
            out[lanes] += charge * peak * (hi - lo) / HOURS_PER_MONTH
    return out


def mean_ci(values: np.ndarray, confidence: float = 0.95) -> dict[str, object]:
    """Mean and Student-t confidence interval of per-replication values (NaNs dropped).

    Returns ``{"mean": m, "ci95": [lo, hi]}``; with one value the interval is [m, m]; with none,
    every number is None.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "ci95": [None, None]}
    m = float(v.mean())
    if v.size == 1:
        return {"mean": m, "ci95": [m, m]}
    half = float(special.stdtrit(v.size - 1, 0.5 + confidence / 2) * v.std(ddof=1)
                 / math.sqrt(v.size))
    return {"mean": m, "ci95": [m - half, m + half]}


def bottleneck(lanes: dict[str, np.ndarray], station_ids: tuple[str, ...]) -> str:
    """The station whose servers are most often working or under repair (busy + down)."""
    active = np.nanmean(lanes["station.busy"] + lanes["station.down"], axis=0)
    return station_ids[int(np.argmax(active))]


def summarize_power(lanes: dict[str, np.ndarray],
                    station_ids: tuple[str, ...]) -> dict[str, object]:
    """The summary's ``power`` block: plant figures and, per station, energy and power wait."""
    out: dict[str, object] = {f: mean_ci(lanes[f"power.{f}"]) for f in POWER_FIELDS}
    out["stations"] = {
        sid: {f: mean_ci(lanes[f"power.station.{f}"][:, j]) for f in POWER_STATION_FIELDS}
        for j, sid in enumerate(station_ids)
    }
    return out


def summarize_blocks(lanes: dict[str, np.ndarray], prefix: str, ids: tuple[str, ...],
                     fields: tuple[str, ...]) -> dict[str, object]:
    """Per-item figures ``{id: {field: {"mean", "ci95"}}}`` from ``<prefix>.<field>`` (L, N)."""
    return {name: {f: mean_ci(lanes[f"{prefix}.{f}"][:, i]) for f in fields}
            for i, name in enumerate(ids)}


def summarize_products(lanes: dict[str, np.ndarray],
                       product_ids: tuple[str, ...]) -> dict[str, object]:
    """The summary's ``products`` block: each product's throughput and cycle time."""
    out = {}
    for p, pid in enumerate(product_ids):
        cycle = mean_ci(lanes["product.cycle_time_h"][:, p])
        cycle["p50"] = mean_ci(lanes["product.cycle_time_p50"][:, p])["mean"]
        cycle["p95"] = mean_ci(lanes["product.cycle_time_p95"][:, p])["mean"]
        out[pid] = {"throughput_per_h": mean_ci(lanes["product.throughput_per_h"][:, p]),
                    "cycle_time_h": cycle}
    return out


def summarize(lanes: dict[str, np.ndarray], station_ids: tuple[str, ...],
              fleet_ids: tuple[str, ...] = (), pool_ids: tuple[str, ...] = (),
              product_ids: tuple[str, ...] = ()) -> dict[str, object]:
    """Plant and station figures as ``{"mean", "ci95"}`` across the given lanes; a
    ``products`` block when ``product_ids`` are given."""
    cycle = mean_ci(lanes["cycle_time_h"])
    cycle["p50"] = mean_ci(lanes["cycle_time_p50"])["mean"]
    cycle["p95"] = mean_ci(lanes["cycle_time_p95"])["mean"]
    power = {"power": summarize_power(lanes, station_ids)} if "power.mean_kw" in lanes else {}
    return {
        "throughput_per_h": mean_ci(lanes["throughput_per_h"]),
        "cycle_time_h": cycle,
        "wip": mean_ci(lanes["wip"]),
        "wip_orders": mean_ci(lanes["wip_orders"]),
        **({"products": summarize_products(lanes, product_ids)} if product_ids else {}),
        "stations": {
            sid: {f: mean_ci(lanes[f"station.{f}"][:, j]) for f in STATION_FIELDS}
            for j, sid in enumerate(station_ids)
        },
        "bottleneck": bottleneck(lanes, station_ids),
        **power,
        **({"transport": summarize_blocks(lanes, "transport", fleet_ids, TRANSPORT_FIELDS)}
           if fleet_ids else {}),
        **({"resources": summarize_blocks(lanes, "resources", pool_ids, RESOURCE_FIELDS)}
           if pool_ids else {}),
    }
