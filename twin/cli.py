"""``twin``: the command line, a thin layer over the Python API.

Exit status: 0 success; 2 a bad config, flag or file (one line per problem, no traceback);
1 anything else. ``TWIN_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from twin import config
from twin._backend import BACKENDS
from twin.errors import TwinError
from twin.files import writing
from twin.results import report
from twin.run import trace
from twin.run.memory import MemoryPlanError
from twin.run.simulate import simulate
from twin.units import parse_duration
from twin.viz.replay import DEFAULT_FRAMES  # no pyvista: that loads only in _cmd_view

PARTIAL = ".partial"  # folder under --out that keeps an interrupted run's partial results


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for a bad config
        raise TwinError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _duration(flag: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except (ValueError, TypeError) as err:
        raise TwinError(f"{flag} {text!r}: {err}") from None


class _LazyProgress:
    """A progress bar on stderr that appears only once a run has taken more than a second."""

    def __init__(self, label: str):
        self.label, self.started, self.bar, self.task = label, time.monotonic(), None, None

    def __call__(self, frac: float) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0:
                return
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=1.0)
        self.bar.update(self.task, completed=min(frac, 1.0))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    plant = config.load_plant(args.config)
    if args.replications is not None and args.replications < 1:
        raise TwinError(f"--replications {args.replications}: must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise TwinError(f"--workers {args.workers}: must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise TwinError(f"--seed {args.seed}: must be 0 or more")
    horizon = _duration("--horizon", args.horizon)
    auto = args.warmup == "auto"
    warmup = "auto" if auto else _duration("--warmup", args.warmup)
    end = horizon if horizon is not None else plant.horizon
    start = 0.0 if auto else warmup if warmup is not None else plant.warmup
    if start >= end:
        raise TwinError(f"--warmup/--horizon: the warm-up ({start:g} h) must be shorter than the "
                        f"horizon ({end:g} h)")
    replications = args.replications if args.replications is not None else plant.replications
    if args.trace_replication is not None and args.trace is None:
        raise TwinError("--trace-replication: give --trace FILE too")
    if args.trace_replication is not None and not 0 <= args.trace_replication < replications:
        raise TwinError(f"--trace-replication {args.trace_replication}: choose one of the "
                        f"{replications} replications, 0 to {replications - 1}")
    partial = Path(args.out) / PARTIAL if args.out else None
    if partial is not None:
        with writing(f"--out {args.out}", "results there", "folder"):
            partial.mkdir(parents=True, exist_ok=True)
    bar = _LazyProgress(f"simulating {plant.name}")
    try:
        result = simulate(plant, replications=args.replications, seed=args.seed,
                          backend=args.backend, horizon=horizon, warmup=warmup, progress=bar,
                          checkpoint_dir=partial, workers=args.workers)
    except KeyboardInterrupt:
        bar.close()
        hint = (f"; partial results are in {partial}: run the same command again to resume"
                if partial is not None else "")
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
    except MemoryPlanError as err:  # it names a field of the file
        raise TwinError(f"{args.config}: {err}") from None
    finally:
        bar.close()
    summary = result.summary()
    written = []
    if args.out:
        written = report.write_results(args.out, result)
        shutil.rmtree(partial, ignore_errors=True)
    if args.trace:
        rows = trace.record(plant, args.trace_replication or 0, args.seed, horizon,
                            result.warmup_h)
        written.append(trace.write(args.trace, rows))
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        report.print_summary(summary, report.console())
        if written:
            names = ", ".join(str(path) for path in written)
            report.console().print(f"results written: {names}")
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from twin import tune  # Optuna loads only here

    settings = tune.Settings(
        trials=args.trials, batch=args.batch, replications=args.replications, seed=args.seed,
        sampler=args.sampler, backend=args.backend, workers=args.workers, storage=args.storage,
        study=args.study, out=args.out, resume=args.resume, worker=args.worker)
    if args.seed is not None and args.seed < 0:
        raise TwinError(f"--seed {args.seed}: must be 0 or more")
    if args.workers is not None and args.workers < 1:
        raise TwinError(f"--workers {args.workers}: must be at least 1")
    tuner = tune.Tuner(args.config, settings)
    tuner.open()
    out = report.console()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[best]}"),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task(f"tuning {tuner.plant.name}", total=tuner.trials,
                        completed=min(tuner.counted(), tuner.trials), best=tuner.best_text())
    try:
        with bar:
            def batch_done(done: int, total: int, best: str) -> None:
                bar.update(task, completed=done, best=best)

            def simulating(frac: float) -> None:  # within a batch, as its lanes run
                before, k = tuner.in_flight
                bar.update(task, completed=before + frac * k)

            tuner.run(on_batch=batch_done, progress=simulating)
    except KeyboardInterrupt:
        print(f"interrupted: the finished trials are saved in {tuner.storage_url}; run the "
              f"same command with --resume to continue", file=sys.stderr)
        return 130
    if args.worker:
        print(f"worker done: study '{tuner.study_name}' has {tuner.counted()} of "
              f"{tuner.trials} trials", file=sys.stderr)
        return 0
    result = tune.finish(tuner)
    if args.json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        tune.print_report(result, out)
    return 0


def _cmd_view(args: argparse.Namespace) -> int:
    from twin.viz import app  # pyvista loads only here

    files = app.view(args.config, results=args.results, color=args.color,
                     screenshot=args.screenshot, camera=args.camera, size=args.size,
                     gltf=args.gltf, usd=args.usd, html=args.html, replay=args.replay,
                     video=args.video, speed=args.speed, fps=args.fps, frames=args.frames)
    if files:
        print("written: " + ", ".join(str(f) for f in files), file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    plant = config.load_plant(args.config)
    servers = sum(st.servers for st in plant.stations)
    print(f"{args.config}: ok: '{plant.name}', {len(plant.stations)} stations, {servers} servers, "
          f"horizon {plant.horizon:g} h, warm-up {plant.warmup:g} h, "
          f"{plant.replications} replications")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(config.json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="twin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    run = sub.add_parser("run", help="simulate a plant headless and print its results")
    run.add_argument("config", help="plant YAML file")
    run.add_argument("--replications", type=int, help="replications (default: the config's)")
    run.add_argument("--seed", type=int, help="random seed (default: the config's)")
    run.add_argument("--horizon", help="length of each replication, e.g. 2w or 500h")
    run.add_argument("--warmup", help="warm-up excluded from statistics, e.g. 3d, or auto "
                                      "(MSER-5 picks it)")
    run.add_argument("--backend", default="auto", metavar="{" + ",".join(BACKENDS) + "}",
                     help="where the engine runs (auto: a GPU with CuPy when one is usable, "
                          "else the CPU with NumPy)")
    run.add_argument("--workers", type=int,
                     help="most CPU cores the engine uses (default: every core)")
    run.add_argument("--json", action="store_true", help="print the JSON summary only")
    run.add_argument("--trace", metavar="FILE",
                     help="write the event trace of one replication (CSV, or .parquet) for "
                          "replay in the viewer")
    run.add_argument("--trace-replication", type=int, metavar="R",
                     help="which replication --trace records (default 0)")
    run.add_argument("--out", metavar="DIR",
                     help="write summary.json and replications.csv (with power also "
                          "power_kw.csv and PNG charts); an interrupted run keeps its partial "
                          "results there and the same command resumes it")
    run.set_defaults(func=_cmd_run)

    tun = sub.add_parser("tune", help="search a plant's `tune` variables for the best "
                         "objectives with Optuna, batches of candidates as lanes of one run")
    tun.add_argument("config", help="plant YAML file with a `tune:` section")
    tun.add_argument("--trials", type=int, help="candidates in the study (default: the config's)")
    tun.add_argument("--batch", type=int, help="candidates simulated together (K)")
    tun.add_argument("--replications", type=int, help="replications per candidate (M)")
    tun.add_argument("--seed", type=int, help="seed of the sampler and the simulations")
    tun.add_argument("--sampler", choices=("auto", "tpe", "cmaes", "nsga2", "random"),
                     help="Optuna sampler (default: the config's, else TPE for one objective "
                          "and NSGA-II for several)")
    tun.add_argument("--backend", default="auto", metavar="{" + ",".join(BACKENDS) + "}",
                     help="where the engine runs")
    tun.add_argument("--workers", type=int, help="most CPU cores the engine uses")
    tun.add_argument("--storage", metavar="URL",
                     help="Optuna storage (default: sqlite:///DIR/study.db); a PostgreSQL or "
                          "MySQL URL lets several machines work on one study")
    tun.add_argument("--study", metavar="NAME", help="study name (default: the plant's name)")
    tun.add_argument("--out", metavar="DIR",
                     help="folder for best.yaml, trials.csv, report.json and charts "
                          "(default: tune-NAME)")
    tun.add_argument("--resume", action="store_true",
                     help="continue the study (candidates that were in flight run again)")
    tun.add_argument("--worker", action="store_true",
                     help="only evaluate candidates of a shared study, then stop; run one per "
                          "machine or GPU, and a plain run (with --resume) for the report")
    tun.add_argument("--json", action="store_true", help="print the report as JSON only")
    tun.set_defaults(func=_cmd_tune)

    viw = sub.add_parser("view", help="3D view of a plant's layout, coloured by results; "
                         "off-screen files where there is no display")
    viw.add_argument("config", help="plant YAML file")
    viw.add_argument("--results", metavar="DIR", help="colour by what `twin run --out DIR` "
                     "measured")
    viw.add_argument("--color", choices=("state", "busy", "blocked", "queue", "power",
                                          "product", "part"),
                     help="what the colour shows: a figure of --results (default busy), or in "
                          "a --replay busy servers and loaded vehicles by their job's product "
                          "or part kind")
    viw.add_argument("--screenshot", metavar="FILE.png", help="render off-screen to a PNG")
    viw.add_argument("--gltf", metavar="FILE.glb", help="write the layout as binary glTF, one "
                     "node per station")
    viw.add_argument("--usd", metavar="FILE.usda", help="write the layout as OpenUSD, one prim "
                     "per station (needs the usd extra)")
    viw.add_argument("--html", metavar="FILE.html", help="write a self-contained interactive "
                     "page (WebGL, no server, no network)")
    viw.add_argument("--replay", metavar="TRACE", help="replay a trace from `twin run CONFIG "
                     "--trace FILE`: a time slider in the window, or --video")
    viw.add_argument("--video", metavar="FILE.mp4", help="render the replay to MP4 or GIF")
    viw.add_argument("--speed", type=float, default=1.0, help="simulated hours per second of "
                     "video (default 1)")
    viw.add_argument("--fps", type=float, default=24.0, help="video frames per second")
    viw.add_argument("--frames", type=int, metavar="N", help="most frames in the video "
                     f"(default {DEFAULT_FRAMES}, about a minute's rendering); a longer replay "
                     "keeps N frames over the whole trace, so it plays faster than --speed")
    viw.add_argument("--camera", choices=("iso", "top", "front"), default="iso")
    viw.add_argument("--size", default="1600x1000", metavar="WxH", help="image size in pixels")
    viw.set_defaults(func=_cmd_view)

    val = sub.add_parser("validate", help="check a plant file and print a one-line summary")
    val.add_argument("config")
    val.set_defaults(func=_cmd_validate)

    sch = sub.add_parser("schema", help="print the JSON Schema of plant files")
    sch.set_defaults(func=_cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except TwinError as err:
        for line in str(err).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # anything else is our bug: say so in one line unless debugging
        if os.environ.get("TWIN_DEBUG"):
            raise
        print(f"error: internal error: {type(err).__name__}: {err} "
              f"(rerun with TWIN_DEBUG=1 for a traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
