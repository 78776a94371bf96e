"""Charts of a study as PNG files: convergence (every candidate's objective and the best so far)
and the Pareto front of two objectives, with the re-run candidates' confidence intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from twin.results.plots import DPI, figure, save_png


def convergence_plot(path: Path, numbers: np.ndarray, values: np.ndarray, feasible: np.ndarray,
                     objectives: list[tuple[str, str]], title: str) -> Path:
    """One panel per objective: each simulated candidate by trial number (feasible in colour,
    infeasible in grey) and the best feasible value so far."""
    fig = Figure(figsize=(7.5, 2.6 * len(objectives) + 0.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(objectives), 1, squeeze=False, sharex=True)[:, 0]
    for i, (ax, (metric, direction)) in enumerate(zip(axes, objectives, strict=True)):
        y = values[:, i] if values.size else values
        if not feasible.all():
            ax.scatter(numbers[~feasible], y[~feasible], s=14, marker="x", color="0.6",
                       label="infeasible")
        ax.scatter(numbers[feasible], y[feasible], s=16, color="tab:blue", label="feasible")
        if feasible.any():
            order = np.argsort(numbers)
            best = np.where(feasible[order], y[order], np.nan)
            pick = np.fmax.accumulate if direction == "maximize" else np.fmin.accumulate
            ax.step(numbers[order], pick(best), where="post", color="tab:red",
                    label="best so far")
        ax.set_ylabel(f"{metric}\n({direction})")
        _large_numbers(ax.yaxis, y)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("trial")
    axes[0].set_title(title)
    axes[0].legend(loc="best", fontsize="small")
    save_png(fig, path)
    return path


def pareto_plot(path: Path, values: np.ndarray, feasible: np.ndarray, front: np.ndarray,
                reran: list[tuple[float, float, list, list]], objectives: list[tuple[str, str]],
                title: str) -> Path:
    """The first two objectives of every simulated candidate, the Pareto-optimal ones joined,
    and the re-run candidates with their 95% confidence intervals."""
    fig, ax = figure((7.0, 5.0))
    (mx, dx), (my, dy) = objectives[:2]
    if (~feasible).any():
        ax.scatter(values[~feasible, 0], values[~feasible, 1], s=14, marker="x", color="0.6",
                   label="infeasible")
    ax.scatter(values[feasible, 0], values[feasible, 1], s=16, color="tab:blue", alpha=0.6,
               label="feasible")
    if front.size:
        pts = values[front]
        pts = pts[np.argsort(pts[:, 0])]
        ax.plot(pts[:, 0], pts[:, 1], "-o", color="tab:orange", markersize=5,
                label="Pareto front (search)")
    for k, (x, y, cx, cy) in enumerate(reran):
        ax.errorbar(x, y, xerr=[[x - cx[0]], [cx[1] - x]], yerr=[[y - cy[0]], [cy[1] - y]],
                    fmt="s", color="tab:red", markersize=6, capsize=3,
                    label="re-run, 95% CI" if k == 0 else None)
    ax.set_xlabel(f"{mx} ({dx})")
    ax.set_ylabel(f"{my} ({dy})")
    _large_numbers(ax.xaxis, values[:, 0])
    _large_numbers(ax.yaxis, values[:, 1])
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    save_png(fig, path)
    return path


def _large_numbers(axis, values: np.ndarray) -> None:
    """Ticks such as ``84 M`` instead of an offset ``1e8`` for costs and the like."""
    if values.size and np.nanmax(np.abs(values)) >= 1e5:
        axis.set_major_formatter(EngFormatter(places=0 if np.nanmax(np.abs(values)) >= 1e7
                                              else 1))
