"""Engine speed against the SimPy reference model, measured in the same run.

The default plant is the 3-station blocking line of the foundation issue: exponential arrivals
every 1.25 h on average, single servers with exponential times of mean 1.0, 1.1 and 0.9 h, two
buffer places in front of each station, 2,000 h per replication with 200 h of warm-up.

For each lane count it prints replication-hours simulated per second by the engine
(``twin.simulate``: compiling the plant, running it, every statistic; the engine's machine code
comes from Numba's cache, warmed once before timing), events per second, the ratio to the
single-core SimPy model, and the throughput with its 95% confidence interval next to SimPy's.
Both sides are timed by timeit's rule: the fastest of ``--repeat`` (engine) and
``--simpy-repeat`` (SimPy) identical runs, 3 by default (SimPy once with ``--houston``).

``--power`` adds the power model to both sides: draws by state at every station, a two-step
busy profile at the second, base load, cooling and 15-minute demand bins. ``--cap`` adds a
power cap that binds, which the SimPy model enforces too. The table then also compares mean
power.

``--fleet`` swaps in a second plant (``FLEET_LINE``, 100 h per replication with 10 h of
warm-up): five stations with parallel servers, finite buffers, lognormal times, failures and a
rework loop on a 120 m x 40 m floor with four aisles, and two battery AGVs (a home, one
charger) carrying the finished jobs of four stations. ``--resources`` adds a pool of
technicians and one of humanoids (``any_of``) and a forklift to shipping. A second table then
sets the engine's main figures (throughput, vehicle-time loaded, empty, charging and idle, the
wait for a vehicle, pools busy) beside SimPy's.

``--houston`` runs ``configs/houston.yaml`` as ``make run`` does (32 replications of two weeks
by default) and also times the whole ``twin run configs/houston.yaml --json`` command in a
fresh process (start-up, loading the compiled engine, the report) against SimPy.

``--ramp`` runs the first 13 weeks of ``configs/houston-ramp.yaml`` (16 replications; 2 of
SimPy's, which learned release plans, bays over time, learning curves and yields over time):
the ramp's first two release steps and its first change of capacity.

    python benchmarks/bench_engine.py                       # 1 .. 8,192 lanes of the line
    python benchmarks/bench_engine.py --houston             # make run's plant, and the command
    python benchmarks/bench_engine.py --ramp                # the Houston ramp's first quarter
    python benchmarks/bench_engine.py --power --cap --lanes 4096
    python benchmarks/bench_engine.py --fleet --resources --lanes 4096
    python benchmarks/bench_engine.py --backend cupy --lanes 1024 65536 131072
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import twin
from twin.results.metrics import mean_ci
from twin.run import memory
from twin_reference import simpy_model

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


def _placed(sid: str, x: float, y: float, process, **extra) -> dict:
    """An 8 m x 6 m station centred at (x, y), 6 m off the main aisle y = 20 (its dock)."""
    return {"id": sid, "process": process, "position": [x, y], "footprint": [8, 6], **extra}


# Times in minutes: a job every 7 min; the two AGVs are idle 40% of the time and charge 9%.
# The rework station's buffer is unlimited, so the loop test <-> fix cannot deadlock.
FLEET_LINE = {
    "name": "fleet-line-5",
    "horizon": "100h",
    "warmup": "10h",
    "source": {"interarrival": {"dist": "exponential", "mean": "7min"}},
    "layout": {
        "floor": [120, 40],
        "aisles": [[[0, 20], [120, 20]], [[5, 5], [115, 5]], [[5, 5], [5, 35]],
                   [[115, 5], [115, 35]]],
        "shipping": [115, 30],
    },
    "transport": [{
        "id": "agv", "kind": "agv", "count": 2, "speed": 1.0, "load_time": "30s",
        "unload_time": "30s", "home": [60, 20],
        "battery": {"capacity": "4h", "charge_time": "40min", "threshold": 0.3,
                    "chargers": [[5, 30]]},
    }],
    "stations": [
        _placed("kit", 20, 14, {"dist": "exponential", "mean": "9min"}, servers=2, buffer=4,
                transport="agv"),
        _placed("build", 45, 26, {"dist": "lognormal", "mean": "14min", "cv": 0.5}, servers=3,
                buffer=3, failures={"mtbf": "8h", "mttr": "20min"}, transport="agv"),
        _placed("test", 75, 14, {"dist": "exponential", "mean": "7min"}, servers=2, buffer=3,
                next=[{"to": "pack", "p": 0.85}, {"to": "fix", "p": 0.15}], transport="agv"),
        _placed("fix", 100, 26, {"dist": "lognormal", "mean": "12min", "cv": 0.6},
                next="test", transport="agv"),
        _placed("pack", 100, 14, {"dist": "exponential", "mean": "8min"}, servers=2, buffer=3),
    ],
}


def with_resources(line: dict) -> dict:
    """The fleet line with two pools (build staffed by a technician, or else by a humanoid
    taking 25% longer; fix by a technician) and a forklift carrying packed jobs to shipping."""
    needs = {"build": {"any_of": [{"tech": 1}, {"humanoid": 1, "time_factor": 1.25}]},
             "fix": {"tech": 1}}
    stations = [dict(st, requires=needs[st["id"]]) if st["id"] in needs else dict(st)
                for st in line["stations"]]
    stations[-1]["transport"] = "forklift"
    forklift = {"id": "forklift", "kind": "forklift", "count": 1, "speed": 0.6,
                "load_time": "1min", "unload_time": "1min"}
    pools = [{"id": "tech", "count": 2}, {"id": "humanoid", "count": 2}]
    return dict(line, stations=stations, transport=[*line["transport"], forklift],
                resources=pools)


TRANSPORT_FIGURES = ("loaded", "empty", "charging", "idle", "mean_wait_h")
RESOURCE_FIGURES = ("busy", "mean_wait_h")


def _transport_figures(fleet) -> tuple[str, ...]:
    """The compared figures of a fleet: without a battery it never charges."""
    return tuple(k for k in TRANSPORT_FIGURES if fleet.battery is not None or k != "charging")


def engine_figures(plant, lanes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The compared figures of an engine run, one value per replication."""
    out = {"throughput /h": lanes["throughput_per_h"]}
    if "power.mean_kw" in lanes:
        out["mean kW"] = lanes["power.mean_kw"]
    for f, fleet in enumerate(plant.transport or []):
        for key in _transport_figures(fleet):
            out[f"{fleet.id} {key}"] = lanes[f"transport.{key}"][:, f]
    for p, pool in enumerate(plant.resources or []):
        for key in RESOURCE_FIGURES:
            out[f"{pool.id} {key}"] = lanes[f"resources.{key}"][:, p]
    return out


def simpy_figures(plant, reps: list[dict]) -> dict[str, np.ndarray]:
    """The same figures of SimPy replications (fleets and pools keyed by index)."""
    out = {"throughput /h": [r["throughput_per_h"] for r in reps]}
    if "power" in reps[0]:
        out["mean kW"] = [r["power"]["mean_kw"] for r in reps]
    for f, fleet in enumerate(plant.transport or []):
        for key in _transport_figures(fleet):
            out[f"{fleet.id} {key}"] = [r["transport"][f][key] for r in reps]
    for p, pool in enumerate(plant.resources or []):
        for key in RESOURCE_FIGURES:
            out[f"{pool.id} {key}"] = [r["resources"][p][key] for r in reps]
    return {name: np.asarray(values, dtype=float) for name, values in out.items()}


def _ci(values) -> tuple[float, float]:
    """Mean and half-width of the 95% interval (NaN, NaN where no replication has a value)."""
    ci = mean_ci(np.asarray(values))
    if ci["mean"] is None:
        return math.nan, math.nan
    return ci["mean"], (ci["ci95"][1] - ci["ci95"][0]) / 2


def agrees(mine: np.ndarray, ref: np.ndarray) -> bool:
    """Whether the engine's replications and SimPy's agree on a figure: two confidence
    intervals, their half-widths combined, with margin; one engine replication must fall
    within the spread of single SimPy replications."""
    m, m_half = _ci(mine)
    r, r_half = _ci(ref)
    if math.isnan(m) or math.isnan(r):  # no replication has the figure (no trip: no wait)
        return math.isnan(m) and math.isnan(r)
    if np.asarray(mine).size > 1:
        return abs(m - r) <= math.hypot(m_half, r_half) * 1.5
    return abs(m - r) <= 3.0 * math.hypot(float(np.nanstd(ref, ddof=1)), r_half)


def run_simpy(plant, replications: int, seed: int, repeat: int = 1) -> dict:
    """SimPy's speed: the fastest of ``repeat`` identical runs (timeit's rule: the minimum is
    the run least disturbed by the machine), which makes the engine's ratio conservative."""
    ref = simpy_model.from_plant(plant)
    wall = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        reps = simpy_model.run(ref, replications, seed)
        wall = min(wall, time.perf_counter() - started)
    figures = simpy_figures(plant, reps)
    mean, half = _ci(figures["throughput /h"])
    kw = _ci(figures["mean kW"]) if "mean kW" in figures else (None, None)
    return {"wall": wall, "rate": replications * plant.horizon / wall, "thr": mean, "half": half,
            "kw": kw[0], "kw_half": kw[1], "figures": figures,
            "events": float(np.mean([r["events"] for r in reps]))}


def run_engine(plant, lanes: int, backend: str, seed: int, workers: int | None,
               repeat: int = 1) -> dict:
    """The engine's run of ``lanes`` replications, the fastest of ``repeat`` identical ones."""
    result = min((twin.simulate(plant, replications=lanes, seed=seed, backend=backend,
                                workers=workers) for _ in range(repeat)),
                 key=lambda r: r.wall_s)
    mean, half = _ci(result.lanes["throughput_per_h"])
    kw = _ci(result.lanes["power.mean_kw"]) if "power.mean_kw" in result.lanes else (None, None)
    return {"wall": result.wall_s, "rate": lanes * plant.horizon / result.wall_s, "thr": mean,
            "half": half, "backend": result.backend, "kw": kw[0], "kw_half": kw[1],
            "figures": engine_figures(plant, result.lanes),
            "events": float(result.lanes["events"].mean()),
            "events_per_s": float(result.lanes["events"].sum()) / result.wall_s,
            "most_events": int(result.lanes["events"].max())}


def time_command(config: str, backend: str) -> tuple[float, int]:
    """Wall time of a whole ``twin run CONFIG --json`` in a fresh process, and its lanes."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "twin.cli", "run", config, "--json",
                           "--backend", backend], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads(done.stdout)["replications"]


def print_figures(r: dict, ref: dict, lanes: int) -> None:
    """The engine's compared figures beside SimPy's, with their 95% confidence intervals."""
    print()
    print(f"| figure | engine, {lanes:,} lanes | SimPy | agrees |")
    print("|---|---|---|---|")
    for name, values in r["figures"].items():
        (m, m_half), (s, s_half) = _ci(values), _ci(ref["figures"][name])
        ok = agrees(values, ref["figures"][name])
        print(f"| {name} | {m:.4f} ±{m_half:.4f} | {s:.4f} ±{s_half:.4f} | "
              f"{'yes' if ok else 'NO'} |")
    # the engine takes one event a step, and steps until the busiest lane is done
    print(f"| events per replication | {r['events']:,.0f} (most {r['most_events']:,}) | "
          f"{ref['events']:,.0f} (SimPy's own count) | |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, nargs="+", default=None,
                        help="lane counts (default: 1 .. 8,192, or 32 with --houston)")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "auto"])
    parser.add_argument("--simpy-replications", type=int, default=None,
                        help="SimPy's replications (default 16, or 8 with --houston)")
    parser.add_argument("--simpy-repeat", type=int, default=3,
                        help="time SimPy this many times and keep its fastest run")
    parser.add_argument("--repeat", type=int, default=3,
                        help="time the engine this many times at each lane count and keep "
                             "its fastest run")
    parser.add_argument("--horizon", default=None, help="override the plant's horizon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None,
                        help="most CPU cores of the engine (default: every core, as twin run)")
    parser.add_argument("--power", action="store_true", help="add the power model (see above)")
    parser.add_argument("--cap", action="store_true", help="with --power: a cap that binds")
    parser.add_argument("--fleet", action="store_true",
                        help="the fleet line (see above) instead of the blocking line")
    parser.add_argument("--resources", action="store_true",
                        help="with --fleet: pools of technicians and humanoids, and a forklift")
    parser.add_argument("--houston", action="store_true",
                        help="configs/houston.yaml, and the whole twin run command")
    parser.add_argument("--ramp", action="store_true",
                        help="configs/houston-ramp.yaml, its first 13 weeks unless --horizon")
    args = parser.parse_args(argv)
    if args.resources and not args.fleet:
        parser.error("--resources needs --fleet")
    houston = Path(__file__).resolve().parents[1] / "configs" / "houston.yaml"
    if args.houston:
        plant = twin.load(houston)
        lanes = args.lanes or [plant.replications]
        simpy_reps, repeat = args.simpy_replications or 8, 1
    elif args.ramp:
        plant = twin.load(houston.with_name("houston-ramp.yaml"))
        plant = plant.model_copy(update={"horizon": 13 * 168.0})
        lanes = args.lanes or [plant.replications]
        simpy_reps, repeat = args.simpy_replications or 2, 1
    else:
        data = dict(FLEET_LINE) if args.fleet else dict(LINE)
        if args.resources:
            data = with_resources(data)
        if args.power:
            data = with_power(data, args.cap)
        plant = twin.config.plant_from_dict(data, "benchmark line")
        lanes = args.lanes or [1, 64, 1024, 4096, 8192]
        simpy_reps, repeat = args.simpy_replications or 16, args.simpy_repeat
    if args.horizon:
        plant = plant.model_copy(update={"horizon": twin.units.parse_duration(args.horizon)})
    # warm up imports and the compiled engine so that the first timed run is not penalised
    twin.simulate(plant, replications=2, seed=0, backend=args.backend,
                  horizon=min(50.0, plant.horizon / 20), warmup=0.0)

    ref = run_simpy(plant, simpy_reps, args.seed, repeat)
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, backend {args.backend}, "
          f"{args.workers or 'every'} of {os.cpu_count()} cores")
    print(f"# engine: fastest of {args.repeat} runs at each lane count")
    print(f"# SimPy reference (fastest of {repeat}, one core): {simpy_reps} "
          f"replications of {plant.horizon:g} h in {ref['wall']:.2f} s = "
          f"{ref['rate']:,.0f} replication-h/s, {ref['events'] * ref['rate'] / plant.horizon:,.0f}"
          f" of its events/s; throughput {ref['thr']:.4f} ±{ref['half']:.4f} /h")
    if ref["kw"] is not None:
        print(f"# SimPy mean power {ref['kw']:.2f} ±{ref['kw_half']:.2f} kW")
    print()
    print("| plant | lanes | wall s | replication-h/s | engine events/s | x SimPy | "
          "throughput /h (95% CI) | mean kW | agrees with SimPy |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---|")
    last = None
    for n in lanes:
        r = run_engine(plant, n, args.backend, args.seed, args.workers, args.repeat)
        ok = all(agrees(values, ref["figures"][name]) for name, values in r["figures"].items())
        kw = "-" if r["kw"] is None else f"{r['kw']:.2f}"
        print(f"| {plant.name} ({r['backend']}) | {n:,} | {r['wall']:.3f} | {r['rate']:,.0f} | "
              f"{r['events_per_s']:,.0f} | {r['rate'] / ref['rate']:.1f} | {r['thr']:.4f} "
              f"±{r['half']:.4f} | {kw} | {'yes' if ok else 'NO'} |", flush=True)
        if last is None or n >= last[1]:
            last = (r, n)
    if args.houston:
        dims = memory.estimate_dims([plant], plant.horizon - plant.warmup, plant.horizon,
                                    plant.warmup)
        print(f"\n# one Houston lane's state: {memory.state_bytes(dims) / 1024:,.0f} KiB "
              f"(parameters: {memory.param_bytes(dims, 1) / 1024:,.0f} KiB a scenario)")
        wall, reps = time_command(str(houston), args.backend)
        simpy_wall = reps * plant.horizon / ref["rate"]
        print(f"\n# the whole `twin run {houston.name} --json` ({reps} replications): {wall:.2f} s "
              f"against SimPy's {simpy_wall:.1f} s for them: {simpy_wall / wall:.1f}x", flush=True)
    if (args.fleet or args.houston or args.ramp) and last is not None:
        print_figures(last[0], ref, last[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
