"""How many burn-in bays and how many MW does the Houston line need for N racks a week?

The worked example of docs/power.md. For each weekly rate it scales configs/houston.yaml (the
source rate, and in proportion every station's servers except burn-in's, its finite buffer and
an assembly's places per kind), then tries burn-in bay counts and reports, for each,
throughput, cycle time, burn-in utilisation and the plant's power with 95% confidence
intervals. It prints the Little's-law first cut of the domain notes next to what the simulator
says. The study is about bays and megawatts, so it leaves out the floor plan, the vehicles and
the staffing of houston.yaml (sized for 1,000 racks/week, they would need sizing of their own
at other rates): hand-overs, tray carts' included, are instant and no station waits for
people.

    python examples/power_study.py                 # 1,000 and 2,000 racks/week, ~15 s on 2 cores
    python examples/power_study.py --rates 1000 --bays 150 160 168 --replications 8
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import twin

HOUSTON = Path(__file__).resolve().parents[1] / "configs" / "houston.yaml"
BASE_RATE = 1000.0  # racks/week houston.yaml is sized for


def scaled_places(buffer: int | dict[str, int | None] | None, factor: float):
    """A buffer (places, or places per kind at an assembly) times ``factor``, rounded up;
    unlimited stays unlimited. The places must grow with the rate: at an assembly that matches
    by order, the parts waiting for their sets grow with it, and too few places deadlock."""
    if isinstance(buffer, dict):
        return {kind: scaled_places(places, factor) for kind, places in buffer.items()}
    return None if buffer is None else math.ceil(buffer * factor)


def scaled(plant, rate: float, bays: int, cap_mw: float | None = None):
    """houston.yaml at ``rate`` racks/week with ``bays`` burn-in bays and a cap (None: none)."""
    factor = rate / BASE_RATE
    stations = []
    for st in plant.stations:
        station = st.model_dump(exclude={"transport", "requires"})
        station["servers"] = bays if st.id == "burn_in" else max(1, math.ceil(st.servers * factor))
        station["buffer"] = scaled_places(st.buffer, factor)
        stations.append(station)
    mean = plant.source.interarrival.mean() / factor
    data = plant.model_dump(exclude={"layout", "transport", "resources", "tune"})
    data.update(stations=stations, name=f"houston-{rate:g}",
                source={"interarrival": {"dist": "exponential", "mean": f"{mean!r}h"}})
    data["power"]["cap"] = None if cap_mw is None else f"{cap_mw!r}MW"
    return twin.config.plant_from_dict(data, f"houston at {rate:g} racks/week")


def littles_law(rate: float) -> str:
    """The domain notes' first cut: bays busy = racks/h x bay hours; burn-in racks x 125 kW."""
    per_h = rate / 168
    bays_busy = per_h * 32
    in_burn_in = per_h * 24
    it_mw = in_burn_in * 0.125
    return (f"{rate:g} racks/week = {per_h:.2f} racks/h; x 32 h of bay time = {bays_busy:.0f} "
            f"bays busy, {bays_busy / 0.85:.0f} at 85%; {in_burn_in:.0f} racks in burn-in x "
            f"125 kW = {it_mw:.1f} MW of IT load, {it_mw * 1.25:.1f} MW with cooling (COP 4)")


def fmt(stat: dict, scale: float = 1.0, digits: int = 1) -> str:
    m, (lo, hi) = stat["mean"], stat["ci95"]
    return f"{m * scale:.{digits}f} ±{(hi - lo) / 2 * scale:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[1000.0, 2000.0])
    parser.add_argument("--bays", type=int, nargs="+", default=None,
                        help="burn-in bays to try (default: around 1.0x the Little's-law load)")
    parser.add_argument("--caps", type=float, nargs="*", default=[30.0, 32.0, 40.0, 45.0, 50.0],
                        help="MW: caps to try at each rate with its largest bay count, those "
                             "below that rate's uncapped largest draw (the bay sweep runs "
                             "without a cap)")
    parser.add_argument("--replications", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = twin.load(HOUSTON)
    for rate in args.rates:
        print(f"\n### {rate:g} racks/week\n")
        print(f"Little's law: {littles_law(rate)}.\n")
        load = rate / 168 * 24 * 1.04  # racks in burn-in, 4% coming back as tray-swap retests
        bays = args.bays or sorted({round(load * f) for f in (1.04, 1.08, 1.13, 1.2)})
        runs = [(n, None) for n in bays]
        largest = 0.0
        print("| burn-in bays | cap MW | racks/week | cycle time h | burn-in busy % | burn-in "
              "power wait % | mean MW | peak MW | largest MW | MWh/week | $/week | kWh/rack |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        while runs:
            n, cap = runs.pop(0)
            if cap is not None and cap * 1000 >= largest:
                continue  # a cap above every draw of the uncapped runs changes nothing
            result = twin.simulate(scaled(base, rate, n, cap), replications=args.replications,
                                   seed=args.seed)
            s = result.summary()
            pw = s["power"]
            if cap is None:
                largest = max(largest, pw["max_kw"]["ci95"][1])
                if n == max(bays):
                    runs += [(n, c) for c in args.caps]
            burn = s["stations"]["burn_in"]
            window_weeks = (s["horizon_h"] - s["warmup_h"]) / 168
            print(f"| {n} | {'none' if cap is None else f'{cap:g}'} | "
                  f"{fmt(s['throughput_per_h'], 168)} | {fmt(s['cycle_time_h'])} | "
                  f"{fmt(burn['busy'], 100)} | {fmt(pw['stations']['burn_in']['power_wait'], 100)}"
                  f" | {fmt(pw['mean_kw'], 1e-3, 2)} | {fmt(pw['peak_kw'], 1e-3, 2)} | "
                  f"{fmt(pw['max_kw'], 1e-3, 2)} | {fmt(pw['energy_mwh'], 1 / window_weeks, 0)} | "
                  f"{fmt(pw['cost_usd'], 1 / window_weeks, 0)} | {fmt(pw['kwh_per_job'], 1, 0)} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
