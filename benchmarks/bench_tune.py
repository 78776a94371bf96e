"""Layout tuning speed: candidates evaluated per second, batched against one-by-one, in one run.

A tuner (``twin tune``) proposes K candidate layouts of one plant at a time and simulates each
with M replications. ``Tuner.evaluate`` runs them as K x M lanes of one engine call with common
random numbers (``twin.simulate_batch``). This benchmark builds K candidates of a small plant
(``configs/example-line.yaml`` by default: every station's servers from its own count to two
more, every finite buffer within 2 places of its own, drawn without repeats by a seeded
generator) and times three ways of evaluating them:

batch
    ``simulate_batch(candidates, M, seed)``: K x M lanes in one engine run.
sequential
    What a user writes without batching: ``twin.simulate(candidate, replications=M,
    seed=seed)`` for one candidate after another.
SimPy
    The independent reference model (``reference/twin_reference/simpy_model.py``) running the
    same K x M replications, one after another on one core. It is slow, so by default it runs a
    spread subset of the candidates (``--simpy-candidates``) and its per-candidate time is
    extrapolated to K; the output says when it was.

It checks that batch and sequential give identical per-replication throughput for every
candidate (batching must not change a result), prints candidates/s and lanes/s of each way and
the ratios batch/sequential and batch/SimPy. Then it sweeps the batch size (``--sizes``, K
candidates of M replications each) to show how candidates/s grow with the lanes of one run;
the sweep's ratios set each batch against the per-candidate rates of sequential and SimPy
measured in the first part (both evaluate one candidate at a time, so their rate does not
depend on K).

Timings include what a caller pays: compiling the plants, the engine's runs, the statistics
(the engine's machine code comes from Numba's cache, warmed before timing); building the
candidate plants is not timed (every way needs them). On a shared machine timings are noisy;
the ratios within one run are what count.

    python benchmarks/bench_tune.py                    # K=16, M=8, then K=16, 64, 256
    python benchmarks/bench_tune.py --quick            # a few seconds
    python benchmarks/bench_tune.py --candidates 64 --replications 16 --sizes 64 256 1024
    python benchmarks/bench_tune.py --backend cupy --sizes 256 4096 16384
"""

from __future__ import annotations

import argparse
import copy
import itertools
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml

import twin
from twin.config import Plant, plant_from_dict
from twin.run.simulate import SimulationError, simulate_batch
from twin.units import parse_duration
from twin_reference import simpy_model

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "example-line.yaml"


# --------------------------------------------------------------------------- candidates


def choices(data: dict) -> list[tuple[int, str, list[int]]]:
    """What a tuner may change: ``(station index, field, values)`` for each station's servers
    (its own count to two more) and each finite buffer (within 2 places of its own)."""
    out = []
    for j, st in enumerate(data["stations"]):
        servers = int(st.get("servers", 1))
        out.append((j, "servers", list(range(servers, servers + 3))))
        if st.get("buffer") is not None:
            buffer = int(st["buffer"])
            out.append((j, "buffer", list(range(max(0, buffer - 2), buffer + 3))))
    return out


def candidates(data: dict, k: int, seed: int) -> list[tuple[dict, Plant]]:
    """``k`` candidate layouts (their changed fields, and the plant), drawn without repeats
    while the grid has enough, as a tuner's sampler would propose them."""
    space = choices(data)
    grid = list(itertools.product(*(values for _, _, values in space)))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(grid), size=k, replace=k > len(grid))
    out = []
    for i in picks:
        changed = copy.deepcopy(data)
        values = {}
        for (j, key, _), value in zip(space, grid[i], strict=True):
            changed["stations"][j][key] = int(value)
            values[f"{changed['stations'][j]['id']}.{key}"] = int(value)
        changed["name"] = f"{data.get('name', 'plant')}-candidate"
        out.append((values, plant_from_dict(changed, "benchmark candidate")))
    return out


# --------------------------------------------------------------------------- the three ways


def run_batch(plants: list[Plant], m: int, seed: int, backend: str, workers: int | None):
    started = time.perf_counter()
    results = simulate_batch(plants, m, seed, backend=backend, workers=workers)
    wall = time.perf_counter() - started
    failed = [i for i, r in enumerate(results) if isinstance(r, SimulationError)]
    if failed:
        raise SystemExit(f"candidate {failed[0]} failed in the batch: {results[failed[0]]}")
    return results, wall


def run_sequential(plants: list[Plant], m: int, seed: int, backend: str,
                   workers: int | None):
    started = time.perf_counter()
    results = [twin.simulate(p, replications=m, seed=seed, backend=backend, workers=workers)
               for p in plants]
    return results, time.perf_counter() - started


def run_simpy(plants: list[Plant], m: int, seed: int) -> tuple[list[list[dict]], float]:
    started = time.perf_counter()
    reps = [simpy_model.run(simpy_model.from_plant(p), m, seed) for p in plants]
    return reps, time.perf_counter() - started


def same_figures(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Whether two runs' per-lane figures are all identical (NaN equal to NaN)."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        x, y = np.asarray(value), np.asarray(b[key])
        if x.shape != y.shape:
            return False
        nan = x.dtype.kind in "fc"
        if not np.array_equal(x, y, equal_nan=nan):
            return False
    return True


def spread(k: int, n: int) -> list[int]:
    """``n`` of the indices ``0 .. k-1``, evenly spread (all of them when ``n`` is 0 or >= k)."""
    if n <= 0 or n >= k:
        return list(range(k))
    return sorted({round(i * (k - 1) / (n - 1)) for i in range(n)}) if n > 1 else [0]


def _ci(values) -> tuple[float, float]:
    """Mean and 95% half-width of per-replication values."""
    return simpy_model.mean_ci(np.asarray(values, dtype=float))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG),
                        help="the plant whose layouts are tuned (default: example-line)")
    parser.add_argument("--candidates", type=int, default=None, help="K (default 16)")
    parser.add_argument("--replications", type=int, default=None, help="M (default 8)")
    parser.add_argument("--horizon", default=None, help="hours per replication, e.g. 1000h "
                        "(default 1000h)")
    parser.add_argument("--warmup", default=None, help="default: 10%% of the horizon")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "auto"])
    parser.add_argument("--workers", type=int, default=None,
                        help="most CPU cores of the engine (default: every core, as twin tune)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--simpy-candidates", type=int, default=None,
                        help="run SimPy on this many of the K candidates and extrapolate "
                             "(0: all; default 4)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None,
                        help="batch sizes K to sweep with M replications each (default "
                             "16 64 256; none: no sweep)")
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds: K=4, M=4, 200h, SimPy on 2, sweep 4 16")
    args = parser.parse_args(argv)
    quick = args.quick
    k = args.candidates or (4 if quick else 16)
    m = args.replications or (4 if quick else 8)
    horizon = args.horizon or ("200h" if quick else "1000h")
    n_simpy = args.simpy_candidates if args.simpy_candidates is not None else (2 if quick
                                                                                 else 4)
    sizes = args.sizes if args.sizes is not None else ([4, 16] if quick else [16, 64, 256])
    if k < 1 or m < 1 or any(s < 1 for s in sizes):
        parser.error("--candidates, --replications and --sizes must be at least 1")

    data = yaml.safe_load(Path(args.config).read_text())
    data.pop("tune", None)  # the candidates are the benchmark's own
    data["horizon"] = horizon
    data["warmup"] = args.warmup or f"{parse_duration(horizon) / 10!r}h"
    base = plant_from_dict(data, args.config)
    drawn = candidates(data, max([k, *sizes]), args.seed)
    plants = [p for _, p in drawn[:k]]

    # warm up imports and caches so the first timed run is not penalised
    twin.simulate(base, replications=2, seed=0, backend=args.backend,
                  horizon=min(50.0, base.horizon / 20), warmup=0.0)
    simulate_batch(plants[:2], 2, 0, backend=args.backend, horizon=min(50.0, base.horizon / 20),
                   warmup=0.0)

    batch, t_batch = run_batch(plants, m, args.seed, args.backend, args.workers)
    seq, t_seq = run_sequential(plants, m, args.seed, args.backend, args.workers)
    subset = spread(k, n_simpy)
    ref, t_ref_subset = run_simpy([plants[i] for i in subset], m, args.seed)
    t_ref = t_ref_subset * k / len(subset)
    extrapolated = len(subset) < k

    print(f"# {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, backend {batch[0].backend}, "
          f"workers {args.workers or 'every core'} of {os.cpu_count()} cores")
    space = ", ".join(f"{data['stations'][j]['id']}.{key} {v[0]}..{v[-1]}"
                      for j, key, v in choices(data))
    print(f"# plant {base.name} ({Path(args.config).name}), {base.horizon:g} h per replication "
          f"with {base.warmup:g} h warm-up; candidates vary {space}")
    print(f"# K={k} candidates x M={m} replications = {k * m:,} lanes, seed {args.seed}")

    # batching must not change a result: replication r of candidate i, alone or in the batch
    thr_same = [np.array_equal(b.lanes["throughput_per_h"], s.lanes["throughput_per_h"])
                for b, s in zip(batch, seq, strict=True)]
    all_same = [same_figures(b.lanes, s.lanes) for b, s in zip(batch, seq, strict=True)]
    print(f"# check: batch and sequential per-replication throughput identical for "
          f"{sum(thr_same)}/{k} candidates ({'OK' if all(thr_same) else 'MISMATCH'}); "
          f"every per-lane figure identical for {sum(all_same)}/{k}")
    for i, ok in enumerate(thr_same):
        if not ok:
            diff = np.max(np.abs(batch[i].lanes["throughput_per_h"]
                                 - seq[i].lanes["throughput_per_h"]))
            print(f"#   candidate {i} {drawn[i][0]}: differs by up to {diff:.3g} /h")
    # SimPy draws other random numbers: its means agree within confidence intervals only
    rows = []
    for n, i in enumerate(subset):
        e_mean, e_half = _ci(batch[i].lanes["throughput_per_h"])
        s_mean, s_half = _ci([r["throughput_per_h"] for r in ref[n]])
        ok = abs(e_mean - s_mean) <= 1.5 * math.hypot(e_half, s_half)
        rows.append(f"{i}: {e_mean:.4f}±{e_half:.4f} vs {s_mean:.4f}±{s_half:.4f}"
                    f"{'' if ok else ' (DISAGREE)'}")
    print("# throughput /h, engine vs SimPy, candidate " + "; ".join(rows))
    print()

    def rate(wall: float, n: int) -> tuple[float, float]:
        return n / wall, n * m / wall

    ways = [("batch (simulate_batch, one run)", t_batch, ""),
            ("sequential (simulate per candidate)", t_seq, ""),
            ("SimPy (one replication at a time)", t_ref,
             f" (extrapolated from {len(subset)} candidates, {t_ref_subset:.2f} s)"
             if extrapolated else "")]
    print("| way | candidates | lanes | wall s | candidates/s | lanes/s | batch speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, wall, note in ways:
        cps, lps = rate(wall, k)
        print(f"| {name} | {k:,} | {k * m:,} | {wall:.2f}{note} | {cps:,.2f} | {lps:,.1f} | "
              f"{wall / t_batch:.1f} |")
    print()
    print(f"# batch/sequential {t_seq / t_batch:.1f}x, batch/SimPy {t_ref / t_batch:.1f}x "
          f"(candidates/s ratios, K={k}, M={m})", flush=True)

    if not sizes:
        return 0
    per_seq, per_ref = t_seq / k, t_ref / k  # seconds per candidate, one at a time
    print()
    print(f"# sweep: K candidates x M={m} replications as one batch; sequential and SimPy at "
          f"their per-candidate rates above ({1 / per_seq:,.2f} and {1 / per_ref:,.2f} "
          f"candidates/s)")
    print("| K | lanes | wall s | candidates/s | lanes/s | x sequential | x SimPy |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        _, wall = run_batch([p for _, p in drawn[:size]], m, args.seed, args.backend,
                            args.workers)
        cps, lps = rate(wall, size)
        print(f"| {size:,} | {size * m:,} | {wall:.2f} | {cps:,.2f} | {lps:,.1f} | "
              f"{cps * per_seq:.1f} | {cps * per_ref:.1f} |", flush=True)
    return 0 if all(thr_same) else 1


if __name__ == "__main__":
    sys.exit(main())
