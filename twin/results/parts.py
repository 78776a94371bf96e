"""Figures of products, orders and parts from the engine's final state (docs/parts.md, "What
is counted")."""

from __future__ import annotations

import numpy as np

from twin.engine import codes

HELD = (codes.BUSY, codes.BLOCKED, codes.DOWN, codes.WAITING, codes.HANDOVER,
        codes.WAIT_UNITS)  # server statuses that hold a job
PARTS_FIELDS = ("made", "used", "gone", "inside")  # per kind, since time 0 / at the horizon
PRODUCT_FIELDS = ("throughput_per_h", "cycle_time_h", "cycle_time_p50", "cycle_time_p95")


def product_per_lane(raw: dict[str, np.ndarray], params, quantiles) -> dict[str, np.ndarray]:
    """``product.<field>`` (L, PR): the exits in the window of each product, per hour, and
    their cycle times (mean, median, 95th percentile); ``quantiles`` is
    :func:`twin.results.metrics._row_quantiles`."""
    PR = len(params.parts.products)
    window = params.horizon - params.warmup
    exits = raw["n_exit"].astype(np.int64)
    stored = np.arange(raw["ct"].shape[1])[None, :] < exits[:, None]
    product = raw["ct_tag"][:, : raw["ct"].shape[1]] % PR
    out = {f"product.{f}": np.full((exits.shape[0], PR), np.nan) for f in PRODUCT_FIELDS}
    for p in range(PR):
        mine = stored & (product == p)
        count = mine.sum(axis=1)
        # this product's cycle times first in each row, then the quantiles of the first count
        ordered = np.where(mine, raw["ct"], np.inf)
        ordered.sort(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            p50, p95 = quantiles(ordered, count, (0.5, 0.95))
            # summed in exit order, as the engine sums them: the same whatever the padding
            total = np.cumsum(np.where(mine, raw["ct"], 0.0), axis=1)[:, -1]
            mean = np.where(count > 0, total / count, np.nan)
        out["product.throughput_per_h"][:, p] = count / window
        out["product.cycle_time_h"][:, p] = mean
        out["product.cycle_time_p50"][:, p] = p50
        out["product.cycle_time_p95"][:, p] = p95
    return out


def parts_per_lane(raw: dict[str, np.ndarray], params) -> dict[str, np.ndarray]:
    """``parts.made``, ``parts.used``, ``parts.gone`` (counters since time 0) and
    ``parts.inside`` (found in the plant at the horizon: on servers, in buffers, on
    vehicles), each (L, KD) by kind, and ``wip_orders`` (L,)."""
    window = params.horizon - params.warmup
    return {"parts.made": raw["made"].astype(np.int64),
            "parts.used": raw["used"].astype(np.int64),
            "parts.gone": raw["gone"].astype(np.int64),
            "parts.inside": _inside(raw, params),
            "wip_orders": raw["order_area"] / window}


def _inside(raw: dict[str, np.ndarray], params) -> np.ndarray:
    """Jobs of each kind in the plant, (L, KD), counted where they are."""
    parts, PR = params.parts, len(params.parts.products)
    L, KD = raw["n_exit"].shape[0], len(parts.kinds)
    inside = np.zeros((L, KD), np.int64)
    lanes = np.arange(L)
    station = params.slot_station
    for m in range(params.vehicle0):  # the source (holding an order only when blocked), servers
        held = np.isin(raw["status"][:, m], HELD if m else (codes.BLOCKED,))
        j = station[m]
        total = parts.split_total[params.scenario, j] if j < params.stations else 0
        splitting = held & (total > 0) & np.isin(raw["status"][:, m],
                                                 (codes.BLOCKED, codes.HANDOVER))
        kind = raw["job_tag"][:, m] // PR
        np.add.at(inside, (lanes[held & ~splitting], kind[held & ~splitting]), 1)
        for lane in np.flatnonzero(splitting):
            _unsent(inside[lane], parts, params.scenario[lane], j, raw["split_next"][lane, m])
    _queued(inside, raw, params)
    if params.fleets is not None:
        V0, V = params.vehicle0, params.fleets.vehicles
        on = np.isin(raw["status"][:, V0:V0 + V], (codes.V_LOADED, codes.V_UNLOADING))
        rows, cols = np.nonzero(on)
        np.add.at(inside, (rows, raw["v_tag"][rows, cols] // PR), 1)
    return inside


def _unsent(row: np.ndarray, parts, scenario: int, j: int, sent: int) -> None:
    """Add the parts a splitting server still holds (part ``sent`` on) to ``row``."""
    index = 0
    for kind, count in zip(parts.split_kind[scenario, j], parts.split_count[scenario, j],
                           strict=True):
        if kind < 0:
            break
        row[kind] += max(0, min(count, index + count - sent))
        index += count


def _queued(inside: np.ndarray, raw: dict[str, np.ndarray], params) -> None:
    """Add the jobs waiting in the stations' buffers (parts by kind at an assembly)."""
    PR = len(params.parts.products)
    start, size = raw["q_start"], raw["q_size"]
    for lane in range(inside.shape[0]):
        for j in range(params.stations):
            length = raw["q_len"][lane, j]
            if length == 0:
                continue
            places = (raw["q_head"][lane, j] + np.arange(length)) % size[j]
            entries = raw["queue"][lane, start[j] + places]
            if params.parts.assembly[params.scenario[lane], j]:
                inside[lane] += entries[:, codes.QUEUE_FIXED:].sum(axis=0).astype(np.int64)
            else:
                np.add.at(inside[lane], entries[:, codes.Q_TAG].astype(np.int64) // PR, 1)
