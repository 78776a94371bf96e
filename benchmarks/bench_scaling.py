"""Cost per event against plant size: one station of c servers, c = 10 .. 10,000.

A lane finds its next event in a tournament tree over its slots and the lowest idle server of
a station in a heap, so an event costs O(log c), not O(c). The plant is an M/M/c queue at 80%
load (exponential times of mean 1 h, an unlimited buffer), run long enough for about 600,000
events a lane whatever c, on 64 lanes. It prints nanoseconds per event per core and the ratio
to c = 10; the issue asks that 1,000 servers cost at most 3x what 10 cost.

    python benchmarks/bench_scaling.py
    python benchmarks/bench_scaling.py --servers 10 1000 --lanes 256
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import twin

EVENTS_PER_LANE = 600_000


def station(servers: int) -> twin.Plant:
    """An M/M/c station at 80% load, run for about EVENTS_PER_LANE events."""
    rate = 0.8 * servers  # jobs an hour
    hours = EVENTS_PER_LANE / (2 * rate)  # an arrival and a completion per job
    return twin.config.plant_from_dict({
        "name": f"mmc-{servers}", "horizon": f"{hours!r}h", "warmup": "0h",
        "source": {"interarrival": {"dist": "exponential", "mean": f"{1 / rate!r}h"}},
        "stations": [{"id": "s", "servers": servers,
                      "process": {"dist": "exponential", "mean": "1h"}}]})


def ns_per_event(servers: int, lanes: int, repeat: int) -> tuple[float, int]:
    """Fastest of ``repeat`` runs: nanoseconds per event per core, and the events."""
    plant = station(servers)
    twin.simulate(plant, replications=2, seed=0, horizon=plant.horizon / 50)  # warm up
    best, events = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = twin.simulate(plant, replications=lanes, seed=1, backend="numpy")
        best = min(best, time.perf_counter() - started)
        events = int(result.lanes["events"].sum())
    cores = min(len(os.sched_getaffinity(0)), lanes)
    return best * cores / events * 1e9, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--lanes", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"# M/M/c at 80% load, {args.lanes} lanes, ~{EVENTS_PER_LANE:,} events a lane, "
          f"{len(os.sched_getaffinity(0))} cores, fastest of {args.repeat}")
    print("| servers | events | ns per event per core | x the smallest |")
    print("|---:|---:|---:|---:|")
    first = None
    for c in args.servers:
        ns, events = ns_per_event(c, args.lanes, args.repeat)
        first = first or ns
        print(f"| {c:,} | {events:,} | {ns:.0f} | {ns / first:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
