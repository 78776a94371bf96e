"""Drawing a :class:`twin.viz.scene.Scene` with pyvista: one merged mesh per kind of object
(all station blocks, all racks, all aisles), so a plant of thousands of bays is a handful of
actors. Off-screen where there is no display (VTK's EGL or OSMesa path)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from twin.files import write_atomic, writing
from twin.viz.scene import Scene

CAMERAS = ("iso", "top", "front")
BACKGROUND = "white"
FLOOR_COLOR = "#d9d9d6"
AISLE_COLOR = "#f2c14e"
PLAIN_STATION = "#8fa9c4"
RACK_COLOR = "#3b4a5a"
STATE_COLORS = ("#b8c2cc", "#2e9e5b", "#e0533d", "#7f3fbf")  # idle, busy, blocked, down
CMAP = "viridis"
GRID_STEP = 10.0  # metres between floor grid lines on large floors


def hex_rgb(hex_colour: str) -> np.ndarray:
    """``"#rrggbb"`` as a (3,) array of bytes (uint8)."""
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _pv():
    import pyvista  # loaded only by `twin view`

    return pyvista


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def boxes(lo: np.ndarray, hi: np.ndarray):
    """Axis-aligned boxes as one PolyData: 8 points and 6 quads each, built with NumPy."""
    pv = _pv()
    n = len(lo)
    corners = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                        [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
    size = hi - lo
    points = (lo[:, None, :] + corners[None] * size[:, None, :]).reshape(-1, 3)
    quads = np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4],
                      [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]])
    cells = (quads[None] + 8 * np.arange(n)[:, None, None]).reshape(-1, 4)
    faces = np.column_stack([np.full(len(cells), 4), cells]).ravel()
    return pv.PolyData(points, faces=faces)


def _segments(segs: np.ndarray, z: float):
    pv = _pv()
    pts = np.concatenate([segs.reshape(-1, 2), np.full((len(segs) * 2, 1), z)], axis=1)
    lines = np.column_stack([np.full(len(segs), 2), np.arange(0, 2 * len(segs), 2),
                             np.arange(1, 2 * len(segs), 2)]).ravel()
    return pv.PolyData(pts, lines=lines)


def plotter(scene: Scene, size: tuple[int, int] = (1600, 1000), off_screen: bool = True,
            labels: bool = True, title: str | None = None):
    """A pyvista Plotter with the whole scene on it, titled ``title`` (default: the scene's)."""
    pv = _pv()
    p = pv.Plotter(off_screen=off_screen, window_size=list(size))
    p.set_background(BACKGROUND)
    w, d = scene.floor
    floor = pv.Plane(center=(w / 2, d / 2, -0.05), i_size=w, j_size=d)
    p.add_mesh(floor, color=FLOOR_COLOR, name="floor")
    p.add_mesh(_grid(w, d), color="#c4c4bf", line_width=1, name="grid")
    p.add_mesh(_outline(w, d), color="#555555", line_width=2, name="outline")
    if len(scene.aisles):
        p.add_mesh(_segments(scene.aisles, 0.02), color=AISLE_COLOR, line_width=4,
                   name="aisles")
    blocks = boxes(scene.lo, scene.hi)
    colour = _station_colour(scene)
    if colour is None:
        p.add_mesh(blocks, color=PLAIN_STATION, name="stations", show_edges=False)
    else:
        blocks.cell_data["value"] = np.repeat(colour["values"], 6)
        p.add_mesh(blocks, scalars="value", name="stations", **colour["style"])
    if len(scene.bay_lo):
        racks = boxes(scene.bay_lo, scene.bay_hi)
        if colour is None:
            p.add_mesh(racks, color=RACK_COLOR, name="racks")
        else:
            racks.cell_data["value"] = np.repeat(colour["values"][scene.bay_station], 6)
            p.add_mesh(racks, scalars="value", name="racks", show_scalar_bar=False,
                       **{k: v for k, v in colour["style"].items() if k != "scalar_bar_args"})
    for name, pts, col, r in (("docks", scene.docks, "#1f77b4", 0.8),
                              ("chargers", scene.chargers, "#2ca02c", 1.0),
                              ("homes", scene.homes, "#ff7f0e", 1.2)):
        if len(pts):
            xyz = np.column_stack([pts, np.full(len(pts), 0.3)])
            p.add_mesh(pv.PolyData(xyz).glyph(geom=pv.Cylinder(radius=r, height=0.6,
                                                                 direction=(0, 0, 1)),
                                              scale=False, orient=False),
                       color=col, name=name)
    if scene.shipping is not None:
        p.add_mesh(pv.Cone(center=(*scene.shipping, 2.0), direction=(0, 0, -1), height=4,
                           radius=2), color="#d62728", name="shipping")
    if scene.bottleneck in scene.station_ids:
        j = scene.station_ids.index(scene.bottleneck)
        p.add_mesh(pv.Box(bounds=_bounds(scene.lo[j] - 0.8, scene.hi[j] + 0.8)).extract_all_edges(),
                   color="#d62728", line_width=5, name="bottleneck")
    if labels:
        tops = np.column_stack([(scene.lo[:, :2] + scene.hi[:, :2]) / 2,
                                np.maximum(scene.hi[:, 2], 2.5) + 1.0])
        text = [f"{sid}\n{scene.value_text(j)}" if scene.values is not None else sid
                for j, sid in enumerate(scene.station_ids)]
        p.add_point_labels(tops, text, font_size=11, point_size=1, shape_opacity=0.6,
                           always_visible=True, name="labels", show_points=False)
    p.add_text(scene.title if title is None else title, position="upper_left", font_size=12,
               color="black", name="title")
    return p


def _station_colour(scene: Scene) -> dict | None:
    if scene.values is None:
        return None
    bar = {"title": scene.value_label, "color": "black", "vertical": False,
           "position_x": 0.3, "position_y": 0.02, "width": 0.4, "height": 0.04,
           "title_font_size": 14, "label_font_size": 12}
    if scene.color == "state":
        from matplotlib.colors import ListedColormap

        return {"values": scene.values,
                "style": {"cmap": ListedColormap(STATE_COLORS), "clim": [-0.5, 3.5],
                          "categories": True, "scalar_bar_args": {**bar, "n_labels": 0,
                                                                  "title": "idle busy blocked "
                                                                  "down"}}}
    clim = [0.0, 1.0] if scene.color in ("busy", "blocked") else \
        [0.0, max(float(np.max(scene.values)), 1e-9)]
    return {"values": scene.values, "style": {"cmap": CMAP, "clim": clim,
                                              "scalar_bar_args": bar}}


def _grid(w: float, d: float):
    """Floor lines every GRID_STEP metres (every metre on floors under 60 m)."""
    step = 1.0 if max(w, d) < 60 else GRID_STEP
    xs, ys = np.arange(step, w, step), np.arange(step, d, step)
    segs = [[[x, 0.0], [x, d]] for x in xs] + [[[0.0, y], [w, y]] for y in ys]
    return _segments(np.array(segs, dtype=float).reshape(-1, 2, 2), 0.01)


def _outline(w: float, d: float):
    segs = np.array([[[0, 0], [w, 0]], [[w, 0], [w, d]], [[w, d], [0, d]], [[0, d], [0, 0]]],
                    dtype=float)
    return _segments(segs, 0.05)


def _bounds(lo: np.ndarray, hi: np.ndarray) -> tuple[float, ...]:
    return (lo[0], hi[0], lo[1], hi[1], max(lo[2], 0.0), hi[2])


def content_bounds(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """The box around the stations, docks, chargers, homes and shipping (not the empty floor)."""
    pts = [scene.lo, scene.hi]
    for xy in (scene.docks, scene.chargers, scene.homes):
        if len(xy):
            pts.append(np.column_stack([xy, np.zeros(len(xy))]))
    if scene.shipping is not None:
        pts.append(np.array([[*scene.shipping, 0.0]]))
    allpts = np.concatenate(pts)
    return allpts.min(axis=0), allpts.max(axis=0)


def set_camera(p, scene: Scene, camera: str) -> None:
    """Look at what stands on the floor: from above, from the front (low y), or at an angle."""
    lo, hi = content_bounds(scene)
    centre = (lo + hi) / 2
    centre[2] = 0.0
    direction = {"top": (0.0, -1e-3, 1.0), "front": (0.0, -1.0, 0.35)}.get(
        camera, (-0.55, -1.0, 0.9))
    direction = np.array(direction) / np.linalg.norm(direction)
    span = float(np.linalg.norm(hi[:2] - lo[:2])) + 10.0
    p.camera_position = [tuple(centre + direction * span), tuple(centre),
                         (0, 1, 0) if camera == "top" else (0, 0, 1)]
    p.reset_camera(bounds=(lo[0] - 5, hi[0] + 5, lo[1] - 5, hi[1] + 5, 0.0, max(hi[2], 3.0)))
    p.camera.zoom(1.4 if camera != "top" else 1.1)
    p.reset_camera_clipping_range()


def screenshot(scene: Scene, path: str | Path, size: tuple[int, int], camera: str) -> Path:
    """Render off-screen and write a PNG (through a temporary file and a rename)."""
    p = plotter(scene, size=size, off_screen=True)
    set_camera(p, scene, camera)
    try:
        image = p.screenshot(return_img=True)
    finally:
        p.close()
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    path = Path(path)
    with writing(f"--screenshot {path}"):
        write_atomic(path, buf.getvalue())
    return path
