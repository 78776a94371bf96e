"""What each feature of a plant costs the engine: the plant, then without its power model,
without its pools (``requires``), without its vehicles (``transport``), and with stations only.

For each variant it prints the engine's wall time, the events of a replication and the
nanoseconds an event costs one core, so that a slow plant's time can be split into more
events (a feature that adds events) and dearer events (a feature that adds work to each).

    python benchmarks/bench_features.py                       # configs/houston.yaml, 256 lanes
    python benchmarks/bench_features.py configs/wistron.yaml --lanes 64
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path

import yaml

import twin

VARIANTS = {
    "the plant": (),
    "without power": ("power",),
    "without pools (no requires)": ("requires",),
    "without vehicles (no transport)": ("transport",),
    "stations only": ("power", "requires", "transport"),
}
PLANT_KEY = {"power": "power", "requires": "resources", "transport": "transport"}


def without(data: dict, features: tuple[str, ...]) -> dict:
    """The config ``data`` with ``features`` taken out of the plant and of every station."""
    data = copy.deepcopy(data)
    data.pop("tune", None)
    for feature in features:
        data.pop(PLANT_KEY[feature], None)
        for station in data["stations"]:
            station.pop(feature, None)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("config", nargs="?", default=str(root / "configs" / "houston.yaml"))
    parser.add_argument("--lanes", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3,
                        help="time each variant this many times and keep its fastest run")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "auto"])
    args = parser.parse_args(argv)
    data = yaml.safe_load(Path(args.config).read_text())
    print(f"# {Path(args.config).name}, {args.lanes} lanes, backend {args.backend}, "
          f"{os.cpu_count()} cores, fastest of {args.repeat}")
    print("| plant | wall s | events a replication | ns per event per core |")
    print("|---|---:|---:|---:|")
    cores = os.cpu_count() or 1
    for name, features in VARIANTS.items():
        plant = twin.config.plant_from_dict(without(data, features), name)
        twin.simulate(plant, replications=2, seed=0, horizon=24.0, warmup=0.0,
                      backend=args.backend)
        best = min((twin.simulate(plant, replications=args.lanes, seed=1, backend=args.backend)
                    for _ in range(args.repeat)), key=lambda r: r.wall_s)
        events = float(best.lanes["events"].sum())
        print(f"| {name} | {best.wall_s:.3f} | {events / args.lanes:,.0f} | "
              f"{1e9 * best.wall_s * cores / events:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
