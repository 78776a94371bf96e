"""Human-readable results: the rich tables ``twin run`` prints, and atomic result files."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from twin.errors import TwinError


def _fmt(stat: dict, scale: float = 1.0) -> str:
    """'mean [lo, hi]' of a {"mean", "ci95"} figure."""
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    return f"{m * scale:.4g} [{lo * scale:.4g}, {hi * scale:.4g}]"


def _pm(stat: dict, percent: bool = False) -> str:
    """'mean±half-width' of a {"mean", "ci95"} figure, compact for table cells."""
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    if percent:
        return f"{100 * m:.1f}±{50 * (hi - lo):.1f}"
    return f"{m:.3g}±{(hi - lo) / 2:.1g}"


def console() -> Console:
    """The console results go to: the terminal's width, or 120 columns when piped."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def print_summary(summary: dict, console: Console) -> None:
    """Print the plant figures, then one row per station, with 95% confidence intervals."""
    console.print(f"[bold]{summary['name']}[/bold]: {summary['replications']} replications, "
                  f"statistics over {summary['warmup_h']:g}-{summary['horizon_h']:g} h "
                  f"({summary['backend']}, {summary['method']} engine)")
    head = Table()
    head.add_column("figure", no_wrap=True)
    head.add_column("mean [95% CI]", justify="right", no_wrap=True)
    ct = summary["cycle_time_h"]
    head.add_row("throughput (jobs/h)", _fmt(summary["throughput_per_h"]))
    head.add_row("throughput (jobs/week)", _fmt(summary["throughput_per_h"], 168.0))
    head.add_row("cycle time (h)", _fmt(ct))
    head.add_row("cycle time p50 / p95 (h)",
                 "-" if ct["p50"] is None else f"{ct['p50']:.4g} / {ct['p95']:.4g}")
    head.add_row("WIP (jobs)", _fmt(summary["wip"]))
    head.add_row("bottleneck", summary["bottleneck"])
    console.print(head)

    table = Table(caption="% of server-time; queue in jobs; wait in h; mean±95% CI half-width")
    for name in ("station", "busy %", "blocked %", "down %", "idle %", "queue", "wait h",
                 "jobs/h"):
        table.add_column(name, justify="left" if name == "station" else "right", no_wrap=True)
    for sid, st in summary["stations"].items():
        label = f"[bold]{sid} *[/bold]" if sid == summary["bottleneck"] else sid
        table.add_row(label, *(_pm(st[f], percent=True) for f in ("busy", "blocked", "down", "idle")),
                      _pm(st["mean_queue"]), _pm(st["mean_wait_h"]), _pm(st["throughput_per_h"]))
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
