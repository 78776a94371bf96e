"""Power and energy charts as PNG files: plant power over time, its load duration curve, and
energy per station.

NumPy only, like :mod:`twin.results.report`. Figures are drawn on matplotlib's Agg canvas directly
(``Figure`` + ``FigureCanvasAgg``), never through pyplot, so that importing this module selects
no backend, opens no window and leaves matplotlib's global state alone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from twin.files import write_atomic, writing
from twin.results.metrics import mean_ci

DPI = 120
BAND = (5.0, 95.0)  # percentiles of the shaded band across replications
MAX_SHARE_POINTS = 2000  # load duration curves are resampled onto at most this many intervals


def load_duration(series_kw: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Load duration curve of each replication: bin powers from highest to lowest, weighted by
    how long each bin lasts.

    Parameters
    ----------
    series_kw : ndarray, shape (R, B)
        Mean plant power in each bin (kW), one row per replication.
    lengths : ndarray, shape (B,)
        Length of each bin (any time unit, all positive).

    Returns
    -------
    share : ndarray, shape (R, B + 1)
        Edges on the share-of-time axis, from 0 to 1: sorted bin k of replication r spans
        ``share[r, k]`` to ``share[r, k + 1]``.
    kw : ndarray, shape (R, B)
        Bin powers of each replication, highest first (ties keep time order).
    """
    series = np.asarray(series_kw, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    order = np.argsort(-series, axis=1, kind="stable")
    kw = np.take_along_axis(series, order, axis=1)
    cum = np.cumsum(lengths[order], axis=1)
    share = np.concatenate([np.zeros((series.shape[0], 1)), cum / lengths.sum()], axis=1)
    share[:, -1] = 1.0  # exactly, whatever the rounding of the cumulative sum
    return share, kw


def power_plots(out_dir: Path, bin_start_h: np.ndarray, bin_end_h: np.ndarray,
                series_kw: np.ndarray, cap_kw: float | None, station_ids: Sequence[str],
                station_energy_mwh: np.ndarray, title: str) -> list[Path]:
    """Write ``power.png``, ``load_duration.png`` and ``energy_by_station.png`` into ``out_dir``
    (created if needed), each atomically, and return their paths in that order.

    Parameters
    ----------
    out_dir : Path
        Folder the PNG files go to.
    bin_start_h, bin_end_h : ndarray, shape (B,)
        Start and end of each demand interval (h), in time order and back to back
        (``bin_end_h[k] == bin_start_h[k + 1]``); the first and last may be shorter than the rest.
    series_kw : ndarray, shape (R, B)
        Mean plant power over each interval (kW), one row per replication.
    cap_kw : float or None
        Plant power cap (kW), drawn as a dashed line; None draws none.
    station_ids : sequence of str, length J
        Station names in config order.
    station_energy_mwh : ndarray, shape (R, J)
        Energy each station used (MWh), one row per replication.
    title : str
        Plant name, at the head of every chart.
    """
    start = np.asarray(bin_start_h, dtype=np.float64)
    end = np.asarray(bin_end_h, dtype=np.float64)
    series = np.asarray(series_kw, dtype=np.float64)
    energy = np.asarray(station_energy_mwh, dtype=np.float64)
    _check_inputs(start, end, series, station_ids, energy)

    peak_kw = max(float(series.max()), cap_kw or 0.0)
    unit, per_kw = ("MW", 1e-3) if peak_kw > 1000.0 else ("kW", 1.0)
    cap = None if cap_kw is None else cap_kw * per_kw
    out = Path(out_dir)
    files = [out / "power.png", out / "load_duration.png", out / "energy_by_station.png"]
    figures = [
        _power_figure(start, end, series * per_kw, cap, unit, title),
        _load_duration_figure(end - start, series * per_kw, cap, unit, title),
        _energy_figure(station_ids, energy, title),
    ]
    with writing(out, "the power charts there", "folder"):
        out.mkdir(parents=True, exist_ok=True)
        for fig, path in zip(figures, files, strict=True):
            save_png(fig, path)
    return files


def _check_inputs(start: np.ndarray, end: np.ndarray, series: np.ndarray,
                  station_ids: Sequence[str], energy: np.ndarray) -> None:
    """Raise ValueError, saying which argument is wrong, unless the shapes and bins agree."""
    if start.ndim != 1 or start.size == 0 or start.shape != end.shape:
        raise ValueError(f"bin_start_h {start.shape} and bin_end_h {end.shape}: need two equal, "
                         f"non-empty 1-D arrays")
    if series.ndim != 2 or series.shape[0] == 0 or series.shape[1] != start.size:
        raise ValueError(f"series_kw {series.shape}: need (replications, {start.size} bins)")
    if np.any(end <= start) or not np.allclose(end[:-1], start[1:]):
        raise ValueError("bin_start_h/bin_end_h: bins must have positive length and follow each "
                         "other without gaps or overlaps")
    if energy.ndim != 2 or energy.shape[0] == 0 or energy.shape[1] != len(station_ids):
        raise ValueError(f"station_energy_mwh {energy.shape}: need (replications, "
                         f"{len(station_ids)} stations)")


def _power_figure(start: np.ndarray, end: np.ndarray, series: np.ndarray, cap: float | None,
                  unit: str, title: str) -> Figure:
    """Median plant power over time, as steps, with the 5-95% band across replications."""
    in_days = end[-1] - start[0] > 72.0
    edges = np.append(start, end[-1]) / (24.0 if in_days else 1.0)
    fig, ax = figure((9.0, 4.5))
    _median_and_band(ax, edges, series)
    _cap_line(ax, cap)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(f"time ({'days' if in_days else 'h'})")
    ax.set_ylabel(f"plant power ({unit})")
    ax.set_title(f"{title}: plant power")
    _finish(ax)
    return fig


def _load_duration_figure(lengths: np.ndarray, series: np.ndarray, cap: float | None, unit: str,
                          title: str) -> Figure:
    """Median load duration curve across replications, with the 5-95% band.

    Each replication's curve is a step function of the share of time; with bins of unequal
    length the steps fall at different shares, so every curve is read on one common set of
    intervals (the union of all step edges, or a uniform grid when that union is large).
    """
    share, kw = load_duration(series, lengths)
    edges = np.unique(share)
    if edges.size > MAX_SHARE_POINTS + 1:
        edges = np.linspace(0.0, 1.0, MAX_SHARE_POINTS + 1)
    mid = (edges[:-1] + edges[1:]) / 2
    idx = np.stack([np.searchsorted(row, mid, side="right") - 1 for row in share])
    on_grid = np.take_along_axis(kw, np.clip(idx, 0, kw.shape[1] - 1), axis=1)
    fig, ax = figure((7.0, 4.5))
    _median_and_band(ax, 100.0 * edges, on_grid)
    _cap_line(ax, cap)
    ax.set_xlim(0.0, 100.0)
    ax.set_xlabel("share of time (%)")
    ax.set_ylabel(f"plant power ({unit})")
    ax.set_title(f"{title}: load duration")
    _finish(ax)
    return fig


def _energy_figure(station_ids: Sequence[str], energy: np.ndarray, title: str) -> Figure:
    """Mean energy per station with Student-t 95% intervals, first station at the top."""
    stats = [mean_ci(energy[:, j]) for j in range(energy.shape[1])]
    means = np.array([s["mean"] for s in stats], dtype=np.float64)
    half = np.array([(s["ci95"][1] - s["ci95"][0]) / 2 for s in stats], dtype=np.float64)
    reps = energy.shape[0]
    fig, ax = figure((7.0, 1.5 + 0.35 * max(len(station_ids), 1)))
    ax.barh(np.arange(len(station_ids)), means, xerr=half if reps > 1 else None,
            tick_label=list(station_ids), color="tab:blue", ecolor="black", capsize=3)
    ax.invert_yaxis()
    ax.set_xlim(left=0.0)
    ax.set_xlabel("energy (MWh)" + (f": mean and 95% CI over {reps} replications" if reps > 1
                                    else ", 1 replication"))
    ax.set_title(f"{title}: energy by station")
    ax.grid(axis="x", alpha=0.3)
    return fig


def figure(size: tuple[float, float]):
    """A new figure of ``size`` inches at :data:`DPI` on its own Agg canvas (no pyplot), and
    its one axes."""
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _median_and_band(ax, edges: np.ndarray, values: np.ndarray) -> None:
    """Step line of the median over axis 0 of ``values`` (R, N) on ``edges`` (N + 1,), and,
    with more than one replication, the band between the BAND percentiles."""
    lo, med, hi = np.percentile(values, [BAND[0], 50.0, BAND[1]], axis=0)
    reps = values.shape[0]
    if reps > 1:
        ax.stairs(hi, edges, baseline=lo, fill=True, color="tab:blue", alpha=0.25, linewidth=0,
                  label=f"{BAND[0]:g}-{BAND[1]:g}% of {reps} replications")
    ax.stairs(med, edges, baseline=None, color="tab:blue", linewidth=1.5,
              label=f"median of {reps} replications" if reps > 1 else "1 replication")


def _cap_line(ax, cap: float | None) -> None:
    if cap is not None:
        ax.axhline(cap, color="tab:red", linestyle="--", linewidth=1.2, label="cap")


def _finish(ax) -> None:
    ax.set_ylim(bottom=0.0)
    ax.grid(alpha=0.3)
    # Below the axes, where it hides no data ("best" would scan every point: slow on long runs).
    ax.figure.legend(loc="outside lower center", ncols=3, frameon=False)


def save_png(fig: Figure, path: Path) -> None:
    """Render ``fig`` as PNG and write it atomically (:func:`twin.files.write_atomic`)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    write_atomic(path, buf.getvalue())
