"""What the 3D view shows, as plain arrays (NumPy only): the floor, the aisles, each station's
block, its bays and racks, docks, chargers and vehicle homes, and the value each station is
coloured by. `twin.viz.render` draws it with pyvista; exporters can write it as they are.

Lengths in metres: x along the hall, y across it, z up. Stations without a position (plants with
no `layout`) are laid out on a simple grid in config order."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.config import Plant
from twin.config.geometry import aisle_segments, plant_geometry
from twin.config.layout import station_rectangle
from twin.errors import TwinError

COLORS = ("state", "busy", "blocked", "queue", "power")
STATES = ("idle", "busy", "blocked", "down")  # `state`: the one a station spends most time in
RACK = (0.6, 1.2)  # an NVL72 rack's footprint in metres (width, depth)
SLAB = 0.15  # height of a station's floor plate when its bays are drawn
GRID_GAP = 4.0  # metres between stations laid out on a grid (plants without a layout)


@dataclass
class Scene:
    """Everything the view draws; arrays have one row per item."""

    name: str
    floor: tuple[float, float]
    station_ids: list[str]
    lo: np.ndarray  # (J, 3) lower corner of each station's block
    hi: np.ndarray  # (J, 3) upper corner
    servers: np.ndarray  # (J,)
    bay_lo: np.ndarray  # (B, 3) rack boxes in the bays
    bay_hi: np.ndarray
    bay_station: np.ndarray  # (B,) station index of each bay
    aisles: np.ndarray  # (A, 2, 2) aisle segments on the floor
    docks: np.ndarray  # (D, 2)
    chargers: np.ndarray  # (C, 2)
    homes: np.ndarray  # (H, 2)
    shipping: np.ndarray | None
    color: str | None = None  # what `values` mean; None: no results
    values: np.ndarray | None = None  # (J,) per station
    value_label: str = ""
    state_names: tuple[str, ...] = ()  # for `state`: values index these
    bottleneck: str | None = None
    figures: dict[str, dict[str, float]] = field(default_factory=dict)  # per station, for picks

    @property
    def title(self) -> str:
        what = f": {self.value_label}" if self.color else ""
        return f"{self.name}{what}"

    def value_text(self, j: int) -> str:
        """Station ``j``'s value as its label shows it under the id: a state name, a share as
        a percentage, or a number."""
        v = float(self.values[j])
        if self.color == "state":
            return self.state_names[int(v)]
        if self.color in ("busy", "blocked"):
            return f"{v:.0%}"
        return f"{v:.3g}"


def build(plant: Plant, summary: dict[str, Any] | None = None, color: str | None = None,
          source: str = "--results") -> Scene:
    """The scene of ``plant``, coloured by ``color`` from a `twin run` summary if given."""
    ids = [s.id for s in plant.stations]
    lo, hi = _blocks(plant)
    bay_lo, bay_hi, bay_station = _bays(plant, lo, hi)
    has_bays = np.zeros(len(ids), bool)
    has_bays[bay_station] = True
    hi = hi.copy()
    hi[has_bays, 2] = SLAB  # a floor plate under drawn bays
    if plant.layout is not None:
        floor = (float(plant.layout.floor[0]), float(plant.layout.floor[1]))
        segments, _ = aisle_segments(plant.layout)
        geometry = plant_geometry(plant)
        docks = geometry.points[[i for i, p in enumerate(geometry.places)
                                 if p.startswith("station:")]]
        chargers = geometry.points[[i for i, p in enumerate(geometry.places)
                                    if p.startswith("charger:")]].reshape(-1, 2)
        homes = geometry.points[[i for i, p in enumerate(geometry.places)
                                 if p.startswith("home:")]].reshape(-1, 2)
        docks = docks[~np.isnan(docks[:, 0])]
        shipping = None if plant.layout.shipping is None else np.array(plant.layout.shipping)
        aisles = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
    else:
        floor = (float(hi[:, 0].max() + GRID_GAP), float(hi[:, 1].max() + GRID_GAP))
        docks = chargers = homes = np.zeros((0, 2))
        shipping, aisles = None, np.zeros((0, 2, 2))
    scene = Scene(plant.name, floor, ids, lo, hi, np.array([s.servers for s in plant.stations]),
                  bay_lo, bay_hi, bay_station, aisles, docks, chargers, homes, shipping)
    if summary is not None:
        _colour(scene, plant, summary, color or "busy", source)
    elif color is not None:
        raise TwinError(f"--color {color}: colours come from results; add --results DIR (a "
                        f"folder written by `twin run CONFIG --out DIR`)")
    return scene


def read_summary(folder: str | Path, plant: Plant) -> dict[str, Any]:
    """The summary.json of a `twin run --out` folder, checked to be from ``plant``."""
    path = Path(folder) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TwinError(f"--results {folder}: no summary.json there; give a folder written by "
                        f"`twin run CONFIG --out DIR`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinError(f"--results {path}: cannot be read as JSON ({err}); run `twin run "
                        f"--out` again") from None
    stations = summary.get("stations") if isinstance(summary, dict) else None
    ids = [s.id for s in plant.stations]
    if not isinstance(stations, dict) or list(stations) != ids:
        theirs = ", ".join(stations) if isinstance(stations, dict) else "none"
        raise TwinError(f"--results {folder}: these results are from plant "
                        f"'{summary.get('name', '?') if isinstance(summary, dict) else '?'}' "
                        f"(stations {theirs}), not from '{plant.name}'; run `twin run` on this "
                        f"config with --out")
    return summary


def _colour(scene: Scene, plant: Plant, summary: dict[str, Any], color: str,
            source: str) -> None:
    stations = summary["stations"]
    mean = {sid: {k: (v.get("mean") if isinstance(v, dict) else v) for k, v in fig.items()}
            for sid, fig in stations.items()}
    scene.figures = mean
    scene.color, scene.bottleneck = color, summary.get("bottleneck")
    ids = scene.station_ids
    if color == "state":
        scene.state_names = STATES
        scene.values = np.array([float(np.argmax([mean[s].get(k) or 0.0 for k in STATES]))
                                 for s in ids])
        scene.value_label = "state the station spends most time in"
    elif color in ("busy", "blocked"):
        scene.values = np.array([mean[s].get(color) or 0.0 for s in ids])
        scene.value_label = f"{color} share of server time"
    elif color == "queue":
        scene.values = np.array([mean[s].get("mean_queue") or 0.0 for s in ids])
        scene.value_label = "mean jobs waiting"
    else:
        power = summary.get("power")
        if not isinstance(power, dict) or "stations" not in power:
            raise TwinError(f"--color power: {source} has no power figures (the plant draws no "
                            f"power); choose state, busy, blocked or queue")
        window = float(summary["horizon_h"]) - float(summary["warmup_h"])
        scene.values = np.array([(power["stations"][s]["energy_mwh"]["mean"] or 0.0) * 1000
                                 / window for s in ids])
        scene.value_label = "mean station power, kW"


def _blocks(plant: Plant) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of each station's block; stations without a position are laid
    out on a grid, each as big as its footprint (or 4 m square)."""
    J = len(plant.stations)
    lo, hi = np.zeros((J, 3)), np.zeros((J, 3))
    unplaced = []
    for j, st in enumerate(plant.stations):
        rect = station_rectangle(st)
        if rect is None:
            unplaced.append(j)
            continue
        size = np.maximum(rect[1] - rect[0], 1.0)  # a point station still shows
        centre = (rect[0] + rect[1]) / 2
        lo[j, :2], hi[j, :2] = centre - size / 2, centre + size / 2
        hi[j, 2] = st.height
    if unplaced:
        per_row = max(1, math.ceil(math.sqrt(len(unplaced))))
        x = y = GRID_GAP
        row_depth = 0.0
        for k, j in enumerate(unplaced):
            st = plant.stations[j]
            w, d = st.footprint if st.footprint is not None else (4.0, 4.0)
            if k and k % per_row == 0:
                x, y, row_depth = GRID_GAP, y + row_depth + GRID_GAP, 0.0
            lo[j] = (x, y, 0.0)
            hi[j] = (x + w, y + d, st.height)
            x += w + GRID_GAP
            row_depth = max(row_depth, d)
    return lo, hi


def _bays(plant: Plant, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rack-sized boxes at the centres of each station's bays (rows x columns cells of its
    footprint), as many as it has servers and bays."""
    los, his, owner = [], [], []
    for j, st in enumerate(plant.stations):
        if st.bays is None:
            continue
        rows, cols = st.bays.rows, st.bays.columns
        n = min(st.servers, rows * cols)
        k = np.arange(n)
        width, depth = hi[j, 0] - lo[j, 0], hi[j, 1] - lo[j, 1]
        cx = lo[j, 0] + (k % cols + 0.5) * width / cols
        cy = lo[j, 1] + (k // cols + 0.5) * depth / rows
        rw = min(RACK[0], 0.8 * width / cols)
        rd = min(RACK[1], 0.8 * depth / rows)
        top = 0.9 * st.height
        los.append(np.column_stack([cx - rw / 2, cy - rd / 2, np.full(n, SLAB)]))
        his.append(np.column_stack([cx + rw / 2, cy + rd / 2, np.full(n, top)]))
        owner.append(np.full(n, j))
    if not los:
        return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=int)
    return np.concatenate(los), np.concatenate(his), np.concatenate(owner).astype(int)
