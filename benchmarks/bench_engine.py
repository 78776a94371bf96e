"""Engine speed against the SimPy reference model, measured in the same run.

The plant is the 3-station blocking line of the foundation issue: exponential arrivals every
1.25 h on average, single servers with exponential times of mean 1.0, 1.1 and 0.9 h, two buffer
places in front of each station, 2,000 h per replication with 200 h of warm-up.

For each lane count it prints replication-hours simulated per second by the event-stepped engine
and by the max-plus serial fast path (both exact; they give the same figures), the ratio to the
single-core SimPy model, and the throughput with its 95% confidence interval next to SimPy's.

``--power`` adds the power model to both sides: draws by state at every station, a two-step
busy profile at the second, base load, cooling and 15-minute demand bins (the fast path does not
apply then). ``--cap`` adds a power cap that binds, which the SimPy model enforces too. The
table then also compares mean power.

    python benchmarks/bench_engine.py                       # NumPy, 1 .. 8,192 lanes
    python benchmarks/bench_engine.py --power --lanes 4096  # with the power model
    python benchmarks/bench_engine.py --backend cupy --lanes 1024 65536 1048576
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import twin
from benchmarks import simpy_model
from twin.metrics import mean_ci

LINE = {
    "name": "blocking-line-3",
    "horizon": "2000h",
    "warmup": "200h",
    "source": {"interarrival": {"dist": "exponential", "mean": "1.25h"}},
    "stations": [
        {"id": "s1", "servers": 1, "process": {"dist": "exponential", "mean": "1h"}, "buffer": 2},
        {"id": "s2", "servers": 1, "process": {"dist": "exponential", "mean": "1.1h"}, "buffer": 2},
        {"id": "s3", "servers": 1, "process": {"dist": "exponential", "mean": "0.9h"}, "buffer": 2},
    ],
}


POWER = {"idle": "2kW", "busy": "10kW", "blocked": "4kW"}
PROFILE = [{"share": 0.2, "power": "30kW"}, {"share": 0.8, "power": "120kW"}]
PLANT_POWER = {"base_load": "100kW", "cooling": {"cop": 4}}
CAP = "265kW"  # binds: s2 under stress leaves room for only one of s1 and s3 busy


def with_power(line: dict, cap: bool) -> dict:
    """The benchmark line drawing power (a profile at s2), optionally under a cap that binds."""
    stations = [dict(st, power=dict(POWER)) for st in line["stations"]]
    stations[1]["power"]["busy"] = PROFILE
    stations[1]["power"]["waiting"] = "4kW"
    power = dict(PLANT_POWER, **({"cap": CAP} if cap else {}))
    return dict(line, stations=stations, power=power)


def _ci(values) -> tuple[float, float]:
    ci = mean_ci(np.asarray(values))
    return ci["mean"], (ci["ci95"][1] - ci["ci95"][0]) / 2


def run_simpy(plant, replications: int, seed: int, repeat: int = 1) -> dict:
    """SimPy's speed: the fastest of ``repeat`` identical runs (timeit's rule: the minimum is
    the run least disturbed by the machine), which makes the engine's ratio conservative."""
    ref = simpy_model.from_plant(plant)
    wall = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        reps = simpy_model.run(ref, replications, seed)
        wall = min(wall, time.perf_counter() - started)
    values = [r["throughput_per_h"] for r in reps]
    mean, half = _ci(values)
    kw = _ci([r["power"]["mean_kw"] for r in reps]) if "power" in reps[0] else (None, None)
    return {"wall": wall, "rate": replications * plant.horizon / wall, "thr": mean, "half": half,
            "sd": float(np.std(values, ddof=1)), "kw": kw[0], "kw_half": kw[1]}


def run_engine(plant, lanes: int, backend: str, method: str, seed: int,
               workers: int | None) -> dict:
    result = twin.simulate(plant, replications=lanes, seed=seed, backend=backend, method=method,
                           workers=workers)
    mean, half = _ci(result.lanes["throughput_per_h"])
    kw = _ci(result.lanes["power.mean_kw"]) if "power.mean_kw" in result.lanes else (None, None)
    return {"wall": result.wall_s, "rate": lanes * plant.horizon / result.wall_s, "thr": mean,
            "half": half, "method": result.method, "backend": result.backend, "kw": kw[0],
            "kw_half": kw[1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, nargs="+", default=[1, 64, 1024, 4096, 8192])
    parser.add_argument("--methods", nargs="+", default=["event", "serial"],
                        choices=["event", "serial"])
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "auto"])
    parser.add_argument("--simpy-replications", type=int, default=16)
    parser.add_argument("--simpy-repeat", type=int, default=3,
                        help="time SimPy this many times and keep its fastest run")
    parser.add_argument("--horizon", default=None, help="override the 2000h horizon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None,
                        help="most engine processes (default: every core, as twin run)")
    parser.add_argument("--power", action="store_true", help="add the power model (see above)")
    parser.add_argument("--cap", action="store_true", help="with --power: a cap that binds")
    args = parser.parse_args(argv)

    data = with_power(LINE, args.cap) if args.power else dict(LINE)
    if args.horizon:
        data["horizon"] = args.horizon
    plant = twin.config.plant_from_dict(data, "benchmark line")
    # warm up imports and caches so the first timed run is not penalised
    twin.simulate(plant, replications=2, seed=0, backend=args.backend, horizon=50.0, warmup=0.0)

    ref = run_simpy(plant, args.simpy_replications, args.seed, args.simpy_repeat)
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, backend {args.backend}, "
          f"workers {args.workers or 'every core'} of {os.cpu_count()} cores")
    print(f"# SimPy reference (fastest of {args.simpy_repeat}): {args.simpy_replications} "
          f"replications of {plant.horizon:g} h in {ref['wall']:.2f} s = {ref['rate']:,.0f} replication-h/s; throughput "
          f"{ref['thr']:.4f} ±{ref['half']:.4f} /h")
    print()
    if ref["kw"] is not None:
        print(f"# SimPy mean power {ref['kw']:.2f} ±{ref['kw_half']:.2f} kW")
    print("| method | lanes | wall s | replication-h/s | x SimPy | throughput /h (95% CI) | "
          "mean kW | agrees with SimPy |")
    print("|---|---:|---:|---:|---:|---|---:|---|")
    methods = [m for m in args.methods if not (args.power and m == "serial")]
    for method in methods:
        for lanes in args.lanes:
            r = run_engine(plant, lanes, args.backend, method, args.seed, args.workers)
            gap = abs(r["thr"] - ref["thr"])
            if lanes > 1:  # two confidence intervals: their half-widths, combined, with margin
                agrees = gap <= math.hypot(r["half"], ref["half"]) * 1.5
            else:  # one replication: within the spread of single SimPy replications
                agrees = gap <= 3.0 * math.hypot(ref["sd"], ref["half"])
            if r["kw"] is not None and lanes > 1:
                gap = abs(r["kw"] - ref["kw"])
                agrees = agrees and gap <= math.hypot(r["kw_half"], ref["kw_half"]) * 1.5
            kw = "-" if r["kw"] is None else f"{r['kw']:.2f}"
            print(f"| {r['method']} ({r['backend']}) | {lanes:,} | {r['wall']:.2f} | "
                  f"{r['rate']:,.0f} | {r['rate'] / ref['rate']:.1f} | {r['thr']:.4f} "
                  f"±{r['half']:.4f} | {kw} | {'yes' if agrees else 'NO'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
