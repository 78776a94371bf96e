"""Ramp studies: figures per period, the warm-up found by MSER-5, a throughput target, and the
series as a CSV file, a chart and a table.

The engine side hands over per-lane arrays for the lanes of ONE scenario, L replications by K
back-to-back periods (the last may be shorter than the others) and J stations:

========================  =========  ==============================================================
``series.exits``          (L, K)     jobs that left the plant in the period (whole numbers)
``series.ct_sum``         (L, K)     sum of those jobs' cycle times (h)
``series.wip``            (L, K)     time-average number of jobs inside over the period
``series.busy``           (L, K, J)  busy share of the servers in force over the period (NaN: none)
``series.mean_kw``        (L, K)     plant power, mean over the period (kW); only with power
``series.peak_kw``        (L, K)     plant power, largest held in the period (kW); only with power
========================  =========  ==============================================================

with ``start_h`` and ``length_h``, shape (K,), the start and length of each period (h). Across
replications every figure is a mean and a Student-t 95% interval
(:func:`twin.results.metrics.mean_ci`), kept as JSON-safe lists: ``None``, never NaN.

NumPy only, like the rest of :mod:`twin.results`; the chart is drawn on matplotlib's Agg canvas
without pyplot, as in :mod:`twin.results.plots`, and matplotlib loads only when it is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.table import Table

from twin.files import write_atomic, writing
from twin.results.metrics import mean_ci
from twin.results.report import csv_text

BATCH = 5  # MSER-5: the series is read as means of 5 consecutive observations
MIN_BATCHES = 4  # fewer batches leave MSER nothing to compare
POWER_SERIES = ("mean_kw", "peak_kw")  # present only when the plant has a power model
# unit of the chart and table: hours per unit, and its name
UNITS = {"h": (1.0, "h"), "d": (24.0, "day"), "w": (168.0, "week")}


def summarize_series(lanes: dict[str, np.ndarray], start_h: np.ndarray, length_h: np.ndarray,
                     period_h: float, station_ids: Sequence[str]) -> dict[str, object]:
    """The summary's ``series`` block: each figure's mean and 95% interval per period.

    Parameters
    ----------
    lanes : dict of ndarray
        ``series.*`` arrays of one scenario (module docstring): (L, K), busy (L, K, J).
    start_h, length_h : ndarray, shape (K,)
        Start and length of each period (h).
    period_h : float
        The nominal period (h); every period but the last is this long.
    station_ids : sequence of str, length J

    Returns
    -------
    dict
        ``{"period_h", "start_h": [K], "length_h": [K], "throughput_per_h", "wip",
        "cycle_time_h", ["mean_kw", "peak_kw",] "stations": {id: {"busy"}}}`` where each figure
        is ``{"mean": [K], "ci95": [[lo, hi], ...K]}``. Throughput is exits / period length;
        cycle time is that of the jobs leaving in the period, averaged over the replications
        with an exit then (``None`` where none has one); busy shares skip replications with no
        server in force.
    """
    start, length = _check_series(lanes, start_h, length_h, station_ids)
    out: dict[str, object] = {
        "period_h": float(period_h),
        "start_h": start.tolist(),
        "length_h": length.tolist(),
        "throughput_per_h": _per_period(lanes["series.exits"] / length),
        "wip": _per_period(lanes["series.wip"]),
        "cycle_time_h": _per_period(_cycle_time(lanes)),
    }
    out.update({f: _per_period(lanes[f"series.{f}"]) for f in _power_fields(lanes)})
    out["stations"] = {sid: {"busy": _per_period(lanes["series.busy"][:, :, j])}
                       for j, sid in enumerate(station_ids)}
    return out


def _check_series(lanes: dict[str, np.ndarray], start_h, length_h,
                  station_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``start_h`` and ``length_h`` as float arrays, after checking that every series has the
    shape the module docstring gives; ValueError naming the array otherwise."""
    start = np.asarray(start_h, dtype=np.float64)
    length = np.asarray(length_h, dtype=np.float64)
    if start.ndim != 1 or start.size == 0 or start.shape != length.shape:
        raise ValueError(f"start_h {start.shape} and length_h {length.shape}: need two equal, "
                         f"non-empty 1-D arrays (one value per period)")
    if not np.all(length > 0):
        raise ValueError("length_h: every period must have a positive length")
    for key in ("series.exits", "series.ct_sum", "series.wip", "series.busy"):
        if key not in lanes:
            raise ValueError(f"lanes: no '{key}' (the engine's series output is incomplete)")
    L, K, J = lanes["series.exits"].shape[0], start.size, len(station_ids)
    shapes = {key: (L, K) for key in ("series.exits", "series.ct_sum", "series.wip",
                                      *(f"series.{f}" for f in _power_fields(lanes)))}
    shapes["series.busy"] = (L, K, J)
    for key, shape in shapes.items():
        if np.shape(lanes[key]) != shape:
            axes = "replications, periods" + (", stations" if len(shape) == 3 else "")
            raise ValueError(f"lanes['{key}'] has shape {np.shape(lanes[key])}, expected "
                             f"{shape} ({axes})")
    exits = lanes["series.exits"]
    if L == 0 or not np.all((exits >= 0) & (exits == np.floor(exits))):
        raise ValueError("lanes['series.exits']: need at least one replication, and whole, "
                         "non-negative numbers of exits")
    return start, length


def _power_fields(lanes: dict[str, np.ndarray]) -> tuple[str, ...]:
    return tuple(f for f in POWER_SERIES if f"series.{f}" in lanes)


def _cycle_time(lanes: dict[str, np.ndarray]) -> np.ndarray:
    """Mean cycle time of the jobs leaving in each period, (L, K); NaN where none left."""
    exits = lanes["series.exits"]
    out = np.full(exits.shape, np.nan)
    np.divide(lanes["series.ct_sum"], exits, out=out, where=exits > 0)
    return out


def _per_period(values: np.ndarray) -> dict[str, list]:
    """``{"mean": [K], "ci95": [[lo, hi], ...]}`` of (L, K) values, by :func:`mean_ci` per
    column (non-finite values dropped; None where nothing is left)."""
    stats = [mean_ci(values[:, k]) for k in range(values.shape[1])]
    return {"mean": [s["mean"] for s in stats], "ci95": [s["ci95"] for s in stats]}


def mser5(y) -> int | None:
    """Truncation point of a series by MSER-5 (White 1997; White, Cobb & Spratt 2000).

    The series is cut into m = len(y) // 5 batches of 5 consecutive observations from the start
    (a remainder at the end is dropped), with batch means Z_0 .. Z_{m-1}. For each candidate
    d = 0 .. m // 2 the marginal standard error rule computes

        MSER(d) = sum_{i >= d} (Z_i - mean(Z_d, ..., Z_{m-1}))^2 / (m - d)^2,

    the squared half-width (up to a constant) of the interval of the mean left after deleting
    the first d batches. Deleting a biased start narrows it; deleting steady data widens it. The
    point is 5 d* observations, d* the first minimiser (differences within rounding count as
    ties, so a constant series gives 0).

    References: K. P. White, Jr. (1997), "An effective truncation heuristic for bias reduction
    in simulation output", Simulation 69(6):323-334; K. P. White, Jr., M. J. Cobb and
    S. C. Spratt (2000), "A comparison of five steady-state truncation heuristics for
    simulation", Proc. Winter Simulation Conference, 755-760.

    Parameters
    ----------
    y : array_like, shape (n,)
        Observations of equally long batches in time order (here: the across-replication mean
        of a figure in each period), all finite.

    Returns
    -------
    int or None
        Observations of ``y`` to delete; None when m < 4, or when the minimum falls at the end
        of the searched first half (d* = m // 2): the series still drifts there, and a longer
        run is needed to see where it settles.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError(f"mser5: need a 1-D series of finite values, got shape {y.shape} with "
                         f"{np.count_nonzero(~np.isfinite(y))} non-finite")
    m = y.size // BATCH
    if m < MIN_BATCHES:
        return None
    z = y[: m * BATCH].reshape(m, BATCH).mean(axis=1)
    stat = np.array([np.sum((z[d:] - z[d:].mean()) ** 2) / (m - d) ** 2
                     for d in range(m // 2 + 1)])
    rounding = (m * np.finfo(np.float64).eps * np.abs(z).max()) ** 2
    d = int(np.flatnonzero(stat <= stat.min() + rounding)[0])
    return None if d >= m // 2 else BATCH * d


def auto_warmup(lanes_series: dict[str, np.ndarray], start_h,
                length_h) -> tuple[float | None, dict[str, float | None]]:
    """Warm-up (h) found by MSER-5 on the across-replication mean of throughput and of WIP,
    the two figures an empty start biases most; the later of the two points.

    A shorter last period is left out (its mean is noisier than the others' and MSER-5 wants
    equally long batches).

    Parameters
    ----------
    lanes_series : dict of ndarray
        ``series.exits`` and ``series.wip``, shape (L, K).
    start_h, length_h : ndarray, shape (K,)

    Returns
    -------
    warmup_h : float or None
        The start of the later point's period (0.0 when both points are 0); None when either
        series is too short for MSER-5 (see :func:`needed_horizon_h`).
    diagnostics : dict
        ``{"throughput": h or None, "wip": h or None}``: each series' own point.
    """
    start = np.asarray(start_h, dtype=np.float64)
    length = np.asarray(length_h, dtype=np.float64)
    full = start.size - int(start.size > 1 and length[-1] < length[0] * (1.0 - 1e-9))
    series = {
        "throughput": (lanes_series["series.exits"][:, :full] / length[:full]).mean(axis=0),
        "wip": np.asarray(lanes_series["series.wip"])[:, :full].mean(axis=0),
    }
    points = {name: mser5(y) for name, y in series.items()}
    diagnostics = {name: None if p is None else (float(start[p]) if p > 0 else 0.0)
                   for name, p in points.items()}
    if None in diagnostics.values():
        return None, diagnostics
    return max(diagnostics.values()), diagnostics


def needed_horizon_h(horizon_h: float, period_h: float) -> float:
    """The horizon to ask for when :func:`auto_warmup` found no point: twice the current one,
    and at least the 20 periods MSER-5 needs (4 batches of 5), in whole periods.

    MSER-5 searches the first half of the series, so a failed search means that one series
    still drifts at about half the horizon; doubling it puts that time in the searched half.
    (Where only one series found a point, that point lies in the first half, so twice it
    would ask for less than the current horizon: doubling the horizon is the useful rule.)
    A plant that never settles (overloaded, WIP growing without limit) fails again at any
    horizon.
    """
    periods = max(2.0 * horizon_h / period_h, float(BATCH * MIN_BATCHES))
    return math.ceil(periods - 1e-9) * period_h


def target_block(series_summary: dict, lanes: dict[str, np.ndarray], start_h, length_h,
                 target_per_h: float) -> dict[str, object]:
    """When the plant reaches a throughput target: the summary's ``series.target`` block.

    Parameters
    ----------
    series_summary : dict
        The output of :func:`summarize_series`.
    lanes : dict of ndarray
        ``series.exits``, shape (L, K).
    start_h, length_h : ndarray, shape (K,)
    target_per_h : float
        Throughput target (jobs/h).

    Returns
    -------
    dict
        ``throughput_per_h``: the target; ``period``, ``start_h``: the first period whose mean
        throughput reaches it, and its start (None: never); ``reached_share``: share of the
        replications whose own throughput reached it in some period up to that one (by the end
        when the mean never does); ``first_period_per_rep``: mean and 95% interval of each
        replication's first reaching period, over the ``count`` replications that reached it.
    """
    mean = [-math.inf if m is None else m for m in series_summary["throughput_per_h"]["mean"]]
    reached_mean = np.flatnonzero(np.asarray(mean) >= target_per_h)
    period = int(reached_mean[0]) if reached_mean.size else None
    reached = lanes["series.exits"] / np.asarray(length_h, dtype=np.float64) >= target_per_h
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), np.nan)
    last = reached.shape[1] - 1 if period is None else period
    return {
        "throughput_per_h": float(target_per_h),
        "period": period,
        "start_h": None if period is None else float(np.asarray(start_h)[period]),
        "reached_share": float(np.mean(first <= last)),
        "first_period_per_rep": {**mean_ci(first), "count": int(np.isfinite(first).sum())},
    }


def write_series_csv(path: str | Path, lanes: dict[str, np.ndarray], start_h, length_h,
                     station_ids: Sequence[str]) -> Path:
    """Write the series as CSV, atomically: one row per (period, replication), periods in
    order and replications within each.

    Columns: ``period``, ``start_h``, ``length_h``, ``replication`` (both from 0), ``exits``,
    ``throughput_per_h``, ``cycle_time_h`` (``nan`` without exits), ``wip``, with power
    ``mean_kw`` and ``peak_kw``, then ``busy.<station>`` for each station. Returns the path.
    """
    start, length = _check_series(lanes, start_h, length_h, station_ids)
    exits = lanes["series.exits"]
    L, K = exits.shape
    period, replication = np.divmod(np.arange(K * L), L)
    figures = {
        "throughput_per_h": exits / length,
        "cycle_time_h": _cycle_time(lanes),
        "wip": lanes["series.wip"],
        **{f: lanes[f"series.{f}"] for f in _power_fields(lanes)},
    }
    columns = ["period", "start_h", "length_h", "replication", "exits", *figures,
               *(f"busy.{sid}" for sid in station_ids)]
    values = np.column_stack([period, start[period], length[period], replication,
                              exits.T.ravel(),
                              *(np.asarray(v, dtype=np.float64).T.ravel()
                                for v in figures.values()),
                              np.asarray(lanes["series.busy"]).transpose(1, 0, 2)
                              .reshape(K * L, len(station_ids))])
    rows = values.tolist()
    for row in rows:  # counts as integers, not "3.0"
        row[0], row[3], row[4] = int(row[0]), int(row[3]), int(row[4])
    out = Path(path)
    with writing(out, "the series CSV", "path"):
        write_atomic(out, csv_text(columns, rows))
    return out


def plot_series(path: str | Path, series_summary: dict, target_per_h: float | None = None,
                plan: Sequence[tuple[float, float]] | None = None, unit: str = "w",
                name: str = "") -> Path:
    """Write ``series.png`` (at ``path``, atomically): output per period with its 95% band, the
    target, the planned release rate, and, with power, a second panel of mean and peak power.

    Parameters
    ----------
    path : path of the PNG file (its folder is created if needed)
    series_summary : dict
        The output of :func:`summarize_series`.
    target_per_h : float, optional
        Throughput target (jobs/h), drawn as a horizontal line.
    plan : sequence of (from_h, rate_per_h), optional
        Release plan: from each ``from_h`` on, jobs released per hour; drawn as a step line.
    unit : {"w", "d", "h"}
        Time unit of both axes: output in racks per week, day or hour, time in that unit.
    name : str
        Plant name, at the head of the chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from twin.results.plots import DPI, save_png

    hours, unit_name = _unit(unit)
    start = np.asarray(series_summary["start_h"], dtype=np.float64)
    end = start[-1] + series_summary["length_h"][-1]
    edges = np.append(start, end) / hours
    power = [f for f in POWER_SERIES if f in series_summary]
    fig = Figure(figsize=(9.0, 6.5 if power else 4.5), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2 if power else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    _mean_and_band(ax, edges, series_summary["throughput_per_h"], hours, "tab:blue", "output")
    if target_per_h is not None:
        ax.axhline(target_per_h * hours, color="tab:red", linestyle="--", linewidth=1.2,
                   label=f"target {target_per_h * hours:.4g} racks/{unit_name}")
    if plan:
        from_h = np.array([p[0] for p in plan], dtype=np.float64)
        rate = np.array([p[1] for p in plan], dtype=np.float64)
        shown = from_h < end
        steps = np.append(from_h[shown], end) / hours
        ax.stairs(rate[shown] * hours, steps, baseline=None, color="tab:green", linewidth=1.2,
                  label="planned releases")
    ax.set_ylabel(f"racks/{unit_name}")
    ax.set_title(f"{name + ': ' if name else ''}output per period "
                 f"({series_summary['period_h']:g} h periods, mean and 95% CI)")
    if power:
        ax = axes[1]
        scale, power_unit = _power_unit(series_summary)
        for f, color, label in (("mean_kw", "tab:orange", "mean power"),
                                ("peak_kw", "tab:purple", "peak power")):
            if f in series_summary:
                _mean_and_band(ax, edges, series_summary[f], scale, color, label)
        ax.set_ylabel(f"plant power ({power_unit})")
    for ax in axes:
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(bottom=0.0)
        ax.grid(alpha=0.3)
        # beside the axes, where it hides no data
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    axes[-1].set_xlabel(f"time ({unit_name}s)" if unit != "h" else "time (h)")
    out = Path(path)
    with writing(out, "the series chart", "path"):
        out.parent.mkdir(parents=True, exist_ok=True)
        save_png(fig, out)
    return out


def _unit(unit: str) -> tuple[float, str]:
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r}: choose one of {', '.join(UNITS)}")
    return UNITS[unit]


def _power_unit(series_summary: dict) -> tuple[float, str]:
    """MW above 1,000 kW, as the power charts do; kW below."""
    values = [v for f in POWER_SERIES if f in series_summary
              for v in series_summary[f]["mean"] if v is not None]
    return (1e-3, "MW") if values and max(values) > 1000.0 else (1.0, "kW")


def _as_array(values: list, scale: float) -> np.ndarray:
    """A summary list (None for no value) times ``scale``, None as NaN."""
    return np.array([np.nan if v is None else v * scale for v in values], dtype=np.float64)


def _mean_and_band(ax, edges: np.ndarray, stat: dict, scale: float, color: str,
                   label: str) -> None:
    """Step line of a per-period ``{"mean", "ci95"}`` figure times ``scale`` with its band."""
    mean = _as_array(stat["mean"], scale)
    lo = _as_array([ci[0] for ci in stat["ci95"]], scale)
    hi = _as_array([ci[1] for ci in stat["ci95"]], scale)
    if np.any(hi > lo):
        ax.stairs(hi, edges, baseline=lo, fill=True, color=color, alpha=0.25, linewidth=0,
                  label=f"{label}: 95% CI")
    ax.stairs(mean, edges, baseline=None, color=color, linewidth=1.5, label=label)


def series_table(summary_series: dict, target: dict | None = None, unit: str = "w",
                 max_rows: int = 20) -> Table:
    """A rich table of the series for ``twin run``: one row per period, or a readable subset.

    Parameters
    ----------
    summary_series : dict
        The output of :func:`summarize_series`.
    target : dict, optional
        The output of :func:`target_block`: its first period is marked with ``*``.
    unit : {"w", "d", "h"}
        Period starts in weeks, days or hours, output in racks per that unit.
    max_rows : int
        With more periods, every k-th period is shown (k = ceil(periods / max_rows)), and
        always the target's period and the last; the caption says so.
    """
    hours, unit_name = _unit(unit)
    K = len(summary_series["start_h"])
    marked = None if target is None else target["period"]
    shown = list(range(K))
    step = math.ceil(K / max_rows)
    if step > 1:
        shown = sorted({*range(0, K, step), K - 1, *([marked] if marked is not None else [])})
    power = [f for f in POWER_SERIES if f in summary_series]
    scale, power_unit = _power_unit(summary_series)
    table = Table(title=f"output per period ({summary_series['period_h']:g} h)")
    names = ["period", f"start ({unit_name})", f"racks/{unit_name}", "WIP", "cycle h",
             *(f"{power_unit} {f.removesuffix('_kw')}" for f in power)]
    for col in names:
        table.add_column(col, justify="right", no_wrap=True)
    for k in shown:
        cells = [_cell(summary_series["throughput_per_h"], k, hours),
                 _cell(summary_series["wip"], k), _cell(summary_series["cycle_time_h"], k),
                 *(_cell(summary_series[f], k, scale) for f in power)]
        start = f"{summary_series['start_h'][k] / hours:.4g}"
        if k == marked:
            table.add_row(f"[bold]{k} *[/bold]", start, *cells, style="bold")
        else:
            table.add_row(str(k), start, *cells)
    notes = ["mean±95% CI half-width"]
    if target is not None:
        goal = f"{target['throughput_per_h'] * hours:.4g} racks/{unit_name}"
        notes.append(f"* first period whose mean output reaches {goal}" if marked is not None
                     else f"the mean output never reaches {goal}")
    if step > 1:
        notes.append(f"{len(shown)} of {K} periods shown: one in {step}, the last"
                     + (" and the target's" if marked is not None else ""))
    table.caption = "; ".join(notes)
    return table


def _cell(stat: dict, k: int, scale: float = 1.0) -> str:
    """'mean±half-width' of period k of a per-period figure, both to the decimals that give the
    mean 3 significant digits; '-' where it has none."""
    m = stat["mean"][k]
    if m is None:
        return "-"
    lo, hi = stat["ci95"][k]
    m, half = m * scale, (hi - lo) * scale / 2
    size = max(abs(m), half)
    decimals = 2 if size == 0 else max(0, 2 - math.floor(math.log10(size)))
    return f"{m:,.{decimals}f}±{half:,.{decimals}f}"
