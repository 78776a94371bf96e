"""How fast `twin view` renders a large plant off-screen: 500 stations and 5,000 bays (the
issue's target: a screenshot in under 5 s on this CPU), against the same scene drawn the naive
way, one pyvista actor per station and per rack, in the same run.

    python benchmarks/bench_viewer.py                  # 500 stations x 10 bays
    python benchmarks/bench_viewer.py --stations 1000 --bays 20 --size 1920x1080
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time
from pathlib import Path

from twin.config import plant_from_dict
from twin.viz import render
from twin.viz import scene as viz_scene

TARGET_S = 5.0


def big_plant(stations: int, bays: int) -> dict:
    """A line of ``stations`` stations of ``bays`` bays each (2 rows), on a floor with a grid
    of aisles between the rows of stations."""
    per_row = math.ceil(math.sqrt(stations * 2))
    cols = max(1, math.ceil(bays / 2))
    w, d = 1.5 * cols + 2.0, 6.0
    pitch_x, pitch_y = w + 6.0, d + 6.0
    rows = math.ceil(stations / per_row)
    items = []
    for j in range(stations):
        r, c = divmod(j, per_row)
        items.append({"id": f"s{j}", "servers": bays, "process": "1h", "buffer": 2,
                      "position": [6.0 + c * pitch_x + w / 2, 6.0 + r * pitch_y + d / 2],
                      "footprint": [w, d], "bays": {"rows": 2, "columns": cols},
                      "height": 2.4})
    floor = [12.0 + per_row * pitch_x, 12.0 + rows * pitch_y]
    return {"name": f"bench-{stations}x{bays}", "horizon": "10h",
            "source": {"interarrival": "1h"}, "stations": items,
            "layout": {"floor": floor, "grid": {"spacing": [pitch_x, pitch_y], "margin": 3.0}}}


def naive_screenshot(scene, path: Path, size: tuple[int, int]) -> None:
    """The reference: one actor per station block and per rack."""
    import pyvista as pv

    p = pv.Plotter(off_screen=True, window_size=list(size))
    w, d = scene.floor
    p.add_mesh(pv.Plane(center=(w / 2, d / 2, 0), i_size=w, j_size=d), color="lightgrey")
    for lo, hi in zip(scene.lo, scene.hi, strict=True):
        p.add_mesh(pv.Box(bounds=(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])), color="steelblue")
    for lo, hi in zip(scene.bay_lo, scene.bay_hi, strict=True):
        p.add_mesh(pv.Box(bounds=(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])), color="black")
    render.set_camera(p, scene, "iso")
    p.screenshot(str(path))
    p.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--bays", type=int, default=10, help="bays per station")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the one-actor-per-object reference (slow)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    started = time.perf_counter()
    plant = plant_from_dict(big_plant(args.stations, args.bays), "bench")
    t_load = time.perf_counter() - started
    print(f"# {platform.machine()}, {platform.python_version()}; plant of {len(plant.stations)} "
          f"stations and {sum(s.servers for s in plant.stations)} bays, {w}x{h} pixels; "
          f"config validated in {t_load:.2f} s (not timed below)")
    with tempfile.TemporaryDirectory() as tmp:
        # VTK's off-screen context starts once per process: timed apart
        tw = time.perf_counter()
        render.screenshot(viz_scene.build(plant_from_dict(big_plant(2, 2), "w")),
                          Path(tmp) / "warm.png", (64, 64), "iso")
        t_start = time.perf_counter() - tw
        t0 = time.perf_counter()
        scene = viz_scene.build(plant)
        t1 = time.perf_counter()
        render.screenshot(scene, Path(tmp) / "merged.png", (w, h), "iso")
        t2 = time.perf_counter()
        merged = t2 - t0
        rows = [("merged meshes (twin view)", t1 - t0, t2 - t1, merged)]
        if not args.no_reference:
            t3 = time.perf_counter()
            naive_screenshot(scene, Path(tmp) / "naive.png", (w, h))
            t4 = time.perf_counter()
            rows.append(("one actor per object (reference)", 0.0, t4 - t3, t4 - t3))
    print("\n| way | scene s | render + PNG s | total s |\n|---|---:|---:|---:|")
    for name, a, b, c in rows:
        print(f"| {name} | {a:.2f} | {b:.2f} | {c:.2f} |")
    verdict = "under" if merged < TARGET_S else "OVER"
    print(f"\n# twin view: {merged:.2f} s, {verdict} the {TARGET_S:g} s target")
    if len(rows) > 1:
        print(f"# merged meshes are {rows[1][3] / merged:.1f}x faster than one actor per object")
    print(f"# {len(scene.lo)} station blocks and {len(scene.bay_lo)} racks; starting the "
          f"off-screen context and a first tiny render took {t_start:.2f} s more, once per "
          f"process")


if __name__ == "__main__":
    main()
