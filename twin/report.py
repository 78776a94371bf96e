"""Human-readable results: the rich tables ``twin run`` prints, and atomic result files."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from twin.errors import TwinError


def _fmt(stat: dict, scale: float = 1.0, digits: int = 3) -> str:
    """'mean [lo, hi]' of a {"mean", "ci95"} figure."""
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    return f"{m * scale:.{digits}g} [{lo * scale:.{digits}g}, {hi * scale:.{digits}g}]"


def _pct(stat: dict) -> str:
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    return f"{100 * m:.1f}% ±{100 * (hi - lo) / 2:.1f}"


def print_summary(summary: dict, console: Console) -> None:
    """Print the plant figures, then one row per station, with 95% confidence intervals."""
    head = Table(title=f"{summary['name']}: {summary['replications']} replications, "
                       f"window {summary['warmup_h']:g}-{summary['horizon_h']:g} h, "
                       f"backend {summary['backend']}", title_justify="left")
    head.add_column("figure")
    head.add_column("mean [95% CI]", justify="right")
    ct = summary["cycle_time_h"]
    head.add_row("throughput (jobs/h)", _fmt(summary["throughput_per_h"]))
    head.add_row("throughput (jobs/week)", _fmt(summary["throughput_per_h"], 168.0))
    head.add_row("cycle time (h)", _fmt(ct))
    head.add_row("cycle time p50 / p95 (h)",
                 "-" if ct["p50"] is None else f"{ct['p50']:.3g} / {ct['p95']:.3g}")
    head.add_row("WIP (jobs)", _fmt(summary["wip"]))
    head.add_row("bottleneck", summary["bottleneck"])
    console.print(head)

    table = Table(title="stations (share of server-time; ± half-width of the 95% CI)",
                  title_justify="left")
    for name in ("station", "busy", "blocked", "down", "idle", "queue", "wait (h)", "jobs/h"):
        table.add_column(name, justify="left" if name == "station" else "right")
    for sid, st in summary["stations"].items():
        label = f"[bold]{sid} *[/bold]" if sid == summary["bottleneck"] else sid
        table.add_row(label, _pct(st["busy"]), _pct(st["blocked"]), _pct(st["down"]),
                      _pct(st["idle"]), _fmt(st["mean_queue"]), _fmt(st["mean_wait_h"]),
                      _fmt(st["throughput_per_h"]))
    console.print(table)
    console.print(f"{summary['events']:,} events in {summary['wall_s']:.2f} s  "
                  f"(* bottleneck: the station most often busy or down)")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so
    that a reader never sees a half-written file and an interrupted run leaves the old one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(out_dir: str | os.PathLike, summary: dict, columns: list[str],
                  rows: list[list[float]]) -> list[Path]:
    """Write ``summary.json`` and ``replications.csv`` into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows(rows)
        files = [out / "summary.json", out / "replications.csv"]
        write_atomic(files[0], json.dumps(summary, indent=2) + "\n")
        write_atomic(files[1], buf.getvalue())
    except OSError as err:
        raise TwinError(f"--out {out_dir}: cannot write results there ({err.strerror}); "
                        f"choose a writable folder") from None
    return files
