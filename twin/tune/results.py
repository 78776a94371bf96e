"""After the search: the best candidates re-run with more replications and fresh random
numbers, how sure their ranking is, and the study's files.

Files in the output folder, each written atomically:
``trials.csv`` (every candidate: variables, objectives, constraint status), ``report.json``,
``best.yaml`` (one objective) or ``pareto-<trial>.yaml`` (one per Pareto-optimal candidate of
several objectives), ``convergence.png`` and, for several objectives, ``pareto.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from twin.files import write_atomic, writing
from twin.results.metrics import mean_ci
from twin.results.report import csv_text
from twin.tune import charts
from twin.tune.study import FAILED, REJECTED, Outcome, Tuner, load_optuna


def pareto_front(points: np.ndarray, directions: list[str]) -> np.ndarray:
    """Indices of the rows of ``points`` (N, D) that no other row dominates."""
    if points.size == 0:
        return np.zeros(0, dtype=int)
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    p = points * signs  # all minimized
    keep = []
    for i in range(len(p)):
        no_worse = (p <= p[i]).all(axis=1)
        better = (p < p[i]).any(axis=1)
        if not (no_worse & better).any():
            keep.append(i)
    return np.array(keep, dtype=int)


def _records(tuner: Tuner) -> list[dict[str, Any]]:
    """Every trial of the study as a flat record, by trial number."""
    states = load_optuna().trial.TrialState
    out = []
    for t in tuner.study.get_trials(deepcopy=False):
        attrs = t.user_attrs
        if t.state == states.COMPLETE:
            state = "complete" if attrs.get("feasible") else "infeasible"
        elif t.state == states.FAIL:
            state = attrs.get("status") if attrs.get("status") in (REJECTED, FAILED) \
                else "interrupted"
        else:
            state = t.state.name.lower()
        out.append({"trial": t.number, "state": state, "reason": attrs.get("reason", ""),
                    "values": attrs.get("values", {}), "means": attrs.get("means", {}),
                    "objectives": ([attrs["means"][o.metric] for o in tuner.tune.objectives]
                                   if t.state == states.COMPLETE else None),
                    "feasible": bool(attrs.get("feasible", False))})
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else value


def trials_table(tuner: Tuner, records: list[dict[str, Any]]) -> tuple[list[str], list[list]]:
    paths, names = tuner.space.paths, tuner.metrics
    cols = ["trial", "state", *paths, *names, "feasible", "reason"]
    rows = [[r["trial"], r["state"], *(_cell(r["values"].get(p)) for p in paths),
             *(_cell(r["means"].get(m)) for m in names),
             r["feasible"] if r["state"] in ("complete", "infeasible") else "", r["reason"]]
            for r in records]
    return cols, rows


def _pick(tuner: Tuner, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates to re-run: the best feasible ones (one objective) or the Pareto-optimal
    ones (several), distinct, at most `reevaluate.top`."""
    top = tuner.tune.reevaluate.top
    seen, ok = set(), []
    for r in records:
        key = json.dumps(r["values"], sort_keys=True)
        if r["state"] == "complete" and key not in seen:
            seen.add(key)
            ok.append(r)
    if not ok:
        return []
    points = np.array([r["objectives"] for r in ok])
    dirs = tuner.directions
    if len(dirs) == 1:
        order = np.argsort(points[:, 0] * (-1.0 if dirs[0] == "maximize" else 1.0),
                           kind="stable")
        return [ok[i] for i in order[:top]]
    front = pareto_front(points, dirs)
    front = front[np.argsort(points[front, 0], kind="stable")]
    if len(front) > top:  # spread along the front
        front = front[np.unique(np.linspace(0, len(front) - 1, top).round().astype(int))]
    return [ok[i] for i in front]


def _stat(values: np.ndarray) -> dict[str, Any]:
    return mean_ci(np.asarray(values, dtype=float))


def finish(tuner: Tuner) -> dict[str, Any]:
    """Re-run the best candidates, judge them, write the files; return the report."""
    records = _records(tuner)
    picked = _pick(tuner, records)
    tune = tuner.tune
    reps, seed = tune.reevaluate.replications, tuner.seed + 1
    outcomes: list[Outcome] = tuner.evaluate([r["values"] for r in picked], reps, seed) \
        if picked else []
    objectives = [(o.metric, o.direction) for o in tune.objectives]
    reran = []
    for r, out in zip(picked, outcomes, strict=True):
        entry = {"trial": r["trial"], "values": r["values"], "search": r["means"],
                 "status": out.status, "reason": out.reason, "feasible": out.feasible,
                 "rerun": {m: _stat(v) for m, v in out.reps.items()}}
        reran.append(entry)
    good = [k for k, out in enumerate(outcomes) if out.feasible]
    report: dict[str, Any] = {
        "study": tuner.study_name, "storage": tuner.storage_url, "config": tuner.config,
        "objectives": [{"metric": m, "direction": d} for m, d in objectives],
        "replications": {"search": tuner.replications, "rerun": reps},
        "seeds": {"search": tuner.seed, "rerun": seed},
        "trials": {s: sum(r["state"] == s for r in records)
                   for s in ("complete", "infeasible", REJECTED, FAILED, "interrupted",
                             "running")},
        "reevaluated": reran, "files": [],
    }
    out_dir = tuner.out
    files: list[Path] = []
    with writing(f"--out {out_dir}", "results there", "folder"):
        out_dir.mkdir(parents=True, exist_ok=True)
        if len(objectives) == 1:
            metric, direction = objectives[0]
            sign = -1.0 if direction == "maximize" else 1.0
            ranked = sorted(good, key=lambda k: sign * outcomes[k].mean(metric))
            report["ranking"] = [reran[k]["trial"] for k in ranked]
            if ranked:
                best = ranked[0]
                report["best"] = reran[best]
                files.append(out_dir / "best.yaml")
                write_atomic(files[-1], tuner.space.dump(picked[best]["values"]))
                reran[best]["file"] = str(files[-1])
            if len(ranked) >= 2:
                a, b = outcomes[ranked[0]], outcomes[ranked[1]]
                diff = _stat(a.reps[metric] - b.reps[metric])  # paired: same random numbers
                low, high = diff["ci95"]
                report["top_two"] = {
                    "trials": [reran[ranked[0]]["trial"], reran[ranked[1]]["trial"]],
                    "difference": diff,
                    "differ": bool(low is not None and (low > 0 or high < 0)),
                }
        else:
            points = np.array([[outcomes[k].mean(m) for m, _ in objectives] for k in good])
            front = [good[i] for i in pareto_front(points, [d for _, d in objectives])]
            report["pareto"] = [reran[k] for k in front]
            for k in front:
                files.append(out_dir / f"pareto-{reran[k]['trial']}.yaml")
                write_atomic(files[-1], tuner.space.dump(picked[k]["values"]))
                reran[k]["file"] = str(files[-1])
        files.append(out_dir / "trials.csv")
        write_atomic(files[-1], csv_text(*trials_table(tuner, records)))
        files += _charts(tuner, records, objectives, outcomes, picked, good)
        files.append(out_dir / "report.json")
        report["files"] = [str(f) for f in files]
        write_atomic(files[-1], json.dumps(report, indent=2, default=str) + "\n")
    return report


def _charts(tuner: Tuner, records, objectives, outcomes, picked, good) -> list[Path]:
    sim = [r for r in records if r["objectives"] is not None]
    if not sim:
        return []
    numbers = np.array([r["trial"] for r in sim])
    values = np.array([r["objectives"] for r in sim], dtype=float)
    feasible = np.array([r["state"] == "complete" for r in sim])
    title = f"{tuner.plant.name}: study '{tuner.study_name}'"
    files = [charts.convergence_plot(tuner.out / "convergence.png", numbers, values, feasible,
                                     objectives, title)]
    if len(objectives) >= 2:
        front = pareto_front(values[feasible], [d for _, d in objectives])
        front_idx = np.flatnonzero(feasible)[front]
        (mx, _), (my, _) = objectives[:2]
        reran = []
        for k in good:
            sx, sy = _stat(outcomes[k].reps[mx]), _stat(outcomes[k].reps[my])
            reran.append((sx["mean"], sy["mean"], sx["ci95"], sy["ci95"]))
        files.append(charts.pareto_plot(tuner.out / "pareto.png", values, feasible, front_idx,
                                        reran, objectives, title))
    return files


def print_report(report: dict[str, Any], console) -> None:
    """The re-run candidates as a table, and how sure the ranking is."""
    from rich.table import Table

    t = report["trials"]
    console.print(f"[bold]study '{report['study']}'[/]: {t['complete']} feasible, "
                  f"{t['infeasible']} infeasible, {t['rejected']} rejected before simulating, "
                  f"{t['failed']} failed (overloaded or deadlocked)")
    metrics = [o["metric"] for o in report["objectives"]]
    if not report["reevaluated"]:
        console.print("no feasible candidate to report; widen the ranges or relax the "
                      "constraints")
        return
    reps = report["replications"]
    table = Table(title=f"best candidates re-run with {reps['rerun']} replications "
                        f"(search: {reps['search']})")
    table.add_column("trial", justify="right")
    paths = list(report["reevaluated"][0]["values"])
    for p in paths:
        table.add_column(_column(p), overflow="fold")
    for m in metrics:
        table.add_column(f"{m} ± 95% CI", justify="right")
    table.add_column("feasible")
    chosen = {e["trial"] for e in report.get("pareto", [])} | (
        {report["best"]["trial"]} if "best" in report else set())
    for e in report["reevaluated"]:
        cells = [f"{'*' if e['trial'] in chosen else ' '}{e['trial']}"]
        cells += [_short(e["values"][p]) for p in paths]
        for m in metrics:
            s = e["rerun"].get(m)
            cells.append("-" if s is None else _plus_minus(s))
        cells.append("yes" if e["feasible"] else (e["reason"] or "no")[:40])
        table.add_row(*cells)
    console.print(table)
    if "top_two" in report:
        tt = report["top_two"]
        d = tt["difference"]
        verdict = ("they differ" if tt["differ"] else
                   "they do not differ at this precision: more replications, or either one")
        console.print(f"top two (trials {tt['trials'][0]} and {tt['trials'][1]}): "
                      f"{metrics[0]} differs by {_num(d['mean'])} "
                      f"[{_num(d['ci95'][0])}, {_num(d['ci95'][1])}] (paired, common random "
                      f"numbers); {verdict}")
    elif "best" not in report and "pareto" not in report:
        console.print("none of the re-run candidates stayed feasible")
    console.print("files: " + ", ".join(report["files"]))


def _column(path: str) -> str:
    """A variable's column: the end of its path, ``burn_in.servers``, or ``servers.1.from``
    for a step of a schedule."""
    parts = path.split(".")
    keep = 3 if len(parts) >= 3 and parts[-2].isdigit() else 2
    return ".".join(parts[-keep:])


def _short(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _plus_minus(stat: dict[str, Any]) -> str:
    """``5.731 ± 0.071``, or the mean alone when it does not vary."""
    half = (stat["ci95"][1] - stat["ci95"][0]) / 2 if stat["ci95"][0] is not None else 0.0
    return _num(stat["mean"]) if half <= 1e-12 * abs(stat["mean"]) else \
        f"{_num(stat['mean'])} ± {half:.2g}"


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"
