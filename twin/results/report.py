"""Human-readable results: the rich tables ``twin run`` prints, and the result files."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from twin.files import write_atomic, writing
from twin.results import series


def _fmt(stat: dict, scale: float = 1.0) -> str:
    """'mean [lo, hi]' of a {"mean", "ci95"} figure."""
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    if abs(m * scale) >= 1e4:  # money, energy: whole numbers read better than exponents
        return f"{m * scale:,.0f} [{lo * scale:,.0f}, {hi * scale:,.0f}]"
    return f"{m * scale:.4g} [{lo * scale:.4g}, {hi * scale:.4g}]"


def _pm(stat: dict, percent: bool = False) -> str:
    """'mean±half-width' of a {"mean", "ci95"} figure, compact for table cells."""
    m = stat.get("mean")
    if m is None:
        return "-"
    lo, hi = stat["ci95"]
    if percent:
        return f"{100 * m:.1f}±{50 * (hi - lo):.1f}"
    if abs(m) >= 1e3:
        return f"{m:,.0f}±{(hi - lo) / 2:,.0f}"
    return f"{m:.3g}±{(hi - lo) / 2:.1g}"


def console() -> Console:
    """The console results go to: the terminal's width, or 120 columns when piped."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def print_summary(summary: dict, console: Console) -> None:
    """Print the plant figures, then one row per station, with 95% confidence intervals."""
    console.print(f"[bold]{summary['name']}[/bold]: {summary['replications']} replications, "
                  f"statistics over {summary['warmup_h']:g}-{summary['horizon_h']:g} h "
                  f"({summary['backend']}, {summary['events']:,} events in "
                  f"{summary['wall_s']:.2f} s)")
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
    if "products" in summary or summary["wip_orders"] != summary["wip"]:
        head.add_row("WIP (orders)", _fmt(summary["wip_orders"]))
    head.add_row("bottleneck", summary["bottleneck"])
    console.print(head)

    table = Table(caption="% of server-time; queue in jobs; wait in h; mean±95% CI half-width")
    for name in ("station", "busy %", "blocked %", "down %", "waiting %", "idle %", "queue",
                 "wait h", "jobs/h"):
        table.add_column(name, justify="left" if name == "station" else "right", no_wrap=True)
    for sid, st in summary["stations"].items():
        label = f"[bold]{sid} *[/bold]" if sid == summary["bottleneck"] else sid
        table.add_row(label, *(_pm(st[f], percent=True)
                               for f in ("busy", "blocked", "down", "waiting", "idle")),
                      _pm(st["mean_queue"]), _pm(st["mean_wait_h"]), _pm(st["throughput_per_h"]))
    console.print(table)
    if "products" in summary:
        print_products(summary["products"], console)
    if "transport" in summary:
        print_transport(summary["transport"], console)
    if "resources" in summary:
        print_resources(summary["resources"], console)
    if "power" in summary:
        print_power(summary["power"], console)
    if "series" in summary:
        console.print(series.series_table(summary["series"], summary.get("target"),
                                          series_unit(summary["series"]["period_h"])))
    if summary.get("warmup_method") == "mser-5":
        console.print(f"warm-up {summary['warmup_h']:g} h, chosen by MSER-5 on the "
                      f"throughput and WIP of a run from time 0 (docs/ramp.md)")
    console.print(f"{summary['events']:,} events in {summary['wall_s']:.2f} s  "
                  f"(* bottleneck: the station most often busy or down)")


def print_products(products: dict, console: Console) -> None:
    """Print one row per product: what leaves of it, and its cycle time."""
    table = Table(title="products", caption="jobs of the product that leave the plant; cycle "
                  "time from its order's entry")
    for name in ("product", "jobs/h", "jobs/week", "cycle h", "p50 h", "p95 h"):
        table.add_column(name, justify="left" if name == "product" else "right", no_wrap=True)
    for pid, p in products.items():
        ct = p["cycle_time_h"]
        week = {"mean": None} if p["throughput_per_h"]["mean"] is None else {
            "mean": 168.0 * p["throughput_per_h"]["mean"],
            "ci95": [168.0 * v for v in p["throughput_per_h"]["ci95"]]}
        table.add_row(pid, _pm(p["throughput_per_h"]), _pm(week), _pm(ct),
                      "-" if ct["p50"] is None else f"{ct['p50']:.3g}",
                      "-" if ct["p95"] is None else f"{ct['p95']:.3g}")
    console.print(table)


def print_transport(transport: dict, console: Console) -> None:
    """Print one row per fleet: how its vehicles spend their time, waits, trips, distance."""
    table = Table(title="transport", caption="% of vehicle-time; wait: request to pickup")
    for name in ("fleet", "loaded %", "empty %", "handling %", "charging %", "idle %",
                 "wait h", "trips/h", "km/vehicle/h"):
        table.add_column(name, justify="left" if name == "fleet" else "right", no_wrap=True)
    for fid, f in transport.items():
        table.add_row(fid, *(_pm(f[k], percent=True)
                             for k in ("loaded", "empty", "handling", "charging", "idle")),
                      _pm(f["mean_wait_h"]), _pm(f["trips_per_h"]),
                      _pm(f["km_per_vehicle_per_h"]))
    console.print(table)


def print_resources(resources: dict, console: Console) -> None:
    """Print one row per pool: units held and the wait for them."""
    table = Table(title="resources", caption="busy: % of the pool's units held; wait: request "
                                             "to grant")
    for name in ("pool", "busy %", "wait h"):
        table.add_column(name, justify="left" if name == "pool" else "right", no_wrap=True)
    for pid, r in resources.items():
        table.add_row(pid, _pm(r["busy"], percent=True), _pm(r["mean_wait_h"]))
    console.print(table)


def print_power(power: dict, console: Console) -> None:
    """Print the power block: plant figures, then energy and power wait per station."""
    head = Table(title="power (window; cost and CO2 pro rata)")
    head.add_column("figure", no_wrap=True)
    head.add_column("mean [95% CI]", justify="right", no_wrap=True)
    rows = [("mean power (MW)", "mean_kw", 1e-3), ("largest draw (MW)", "max_kw", 1e-3),
            ("peak demand (MW)", "peak_kw", 1e-3), ("energy (MWh)", "energy_mwh", 1.0),
            ("  of which cooling (MWh)", "cooling_mwh", 1.0), ("cost ($)", "cost_usd", 1.0),
            ("  demand charge ($)", "demand_cost_usd", 1.0), ("CO2 (t)", "co2_t", 1.0),
            ("energy per job (kWh)", "kwh_per_job", 1.0)]
    for label, key, scale in rows:
        head.add_row(label, _fmt(power[key], scale))
    console.print(head)
    table = Table(caption="energy of the station's own draw (no cooling); power wait: % of "
                          "server-time, and hours per job that waited")
    for name in ("station", "energy MWh", "power wait %", "wait h/job"):
        table.add_column(name, justify="left" if name == "station" else "right", no_wrap=True)
    for sid, st in power["stations"].items():
        table.add_row(sid, _pm(st["energy_mwh"]), _pm(st["power_wait"], percent=True),
                      _pm(st["power_wait_h"]))
    console.print(table)


def csv_text(columns: list[str], rows: list[list[float]]) -> str:
    """A table as CSV text: a header line of ``columns``, then one line per row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def write_results(out_dir: str | os.PathLike, result) -> list[Path]:
    """Write what a run measured into ``out_dir`` (created if needed): ``summary.json`` and
    ``replications.csv``; with power, also ``power_kw.csv`` (the demand-interval series) and
    the charts ``power.png``, ``load_duration.png`` and ``energy_by_station.png``."""
    from twin.results import plots  # matplotlib loads only when charts are written

    out = Path(out_dir)
    with writing(f"--out {out_dir}", "results there", "folder"):
        out.mkdir(parents=True, exist_ok=True)
        files = [out / "summary.json", out / "replications.csv"]
        write_atomic(files[0], json.dumps(result.summary(), indent=2) + "\n")
        write_atomic(files[1], csv_text(*result.replication_rows()))
        plan = result.power_plan
        if plan is not None:
            files.append(out / "power_kw.csv")
            write_atomic(files[-1], csv_text(*result.power_rows()))
            caps = plan.cap_kw[np.isfinite(plan.cap_kw)]
            files += plots.power_plots(
                out, plan.bin_start, plan.bin_end, result.lanes["power.series_kw"],
                float(caps.min()) if caps.size else None, result.station_ids,
                result.lanes["power.station.energy_mwh"], result.name)
        periods = result.periods
        if periods is not None:
            block = result.series
            files.append(series.write_series_csv(out / "series.csv", result.lanes,
                                                 periods.start_h, periods.length_h,
                                                 result.station_ids))
            files.append(series.plot_series(out / "series.png", block, periods.target_per_h,
                                            periods.plan, series_unit(periods.period_h),
                                            result.name))
    return files


def series_unit(period_h: float) -> str:
    """The unit the per-period output is shown in: per week, day or hour."""
    return "w" if period_h >= 168.0 else "d" if period_h >= 24.0 else "h"
