"""The 3D view as files other tools open: binary glTF (`write_gltf`, through trimesh) for web
viewers, Blender and game engines, and OpenUSD (`write_usd`, through the optional usd-core
package) for Omniverse and usdview. One node or prim per station, named by its id and carrying
its servers and measured figures, so a digital-twin tool can pick a station and read them.

Geometry is built here with NumPy from a :class:`twin.viz.scene.Scene`: flat-shaded prisms
(station blocks, racks, aisle strips, round markers for docks, chargers and vehicle homes).
Lengths in metres. glTF is +Y up, so the glTF file's root node `Plant` turns the scene's +Z
up into +Y; in USD the stage says up axis Z. Both files are written through a temporary file in
the same folder and a rename, so a reader never sees half a file."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import TwinError
from twin.files import atomic_path, write_atomic, writing
from twin.viz.render import (
    AISLE_COLOR,
    CMAP,
    FLOOR_COLOR,
    PLAIN_STATION,
    RACK_COLOR,
    STATE_COLORS,
    hex_rgb,
)
from twin.viz.scene import Scene

__all__ = ["write_gltf", "write_usd"]

FLOOR_THICKNESS = 0.05  # the floor slab lies under z = 0
AISLE_WIDTH = 1.0  # aisle strips are drawn this wide (a marker, not the aisle's real width)
AISLE_HEIGHT = 0.02
MARKER_SIDES = 16
# (node name, Scene attribute, colour, radius m, height m), as twin.viz.render draws them
MARKERS = (("Docks", "docks", "#1f77b4", 0.8, 0.6),
           ("Chargers", "chargers", "#2ca02c", 1.0, 0.6),
           ("Homes", "homes", "#ff7f0e", 1.2, 0.6))
SHIPPING = ("#d62728", 2.0, 1.0)
# the glTF root: scene (x, y, z) with z up -> glTF (x, z, -y) with y up
Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])


# ----------------------------------------------------------------------------- geometry


def _prisms(base: np.ndarray, z0: np.ndarray | float, z1: np.ndarray | float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Vertical prisms over polygons ``base`` (n, k, 2), counter-clockwise seen from above,
    from heights ``z0`` to ``z1``: flat-shaded triangles (every face has its own vertices).
    Returns vertices (6kn, 3) and triangles (n(4k-4), 3)."""
    base = np.asarray(base, dtype=float)
    n, k, _ = base.shape
    if n == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    z0 = np.broadcast_to(np.asarray(z0, dtype=float), (n,))
    z1 = np.broadcast_to(np.asarray(z1, dtype=float), (n,))
    bottom = np.concatenate([base, np.repeat(z0[:, None, None], k, axis=1)], axis=2)
    top = np.concatenate([base, np.repeat(z1[:, None, None], k, axis=1)], axis=2)
    nxt = np.roll(np.arange(k), -1)
    sides = np.stack([bottom, bottom[:, nxt], top[:, nxt], top], axis=2).reshape(n, 4 * k, 3)
    verts = np.concatenate([sides, top, bottom], axis=1)  # (n, 6k, 3)
    q = 4 * np.arange(k)[:, None]
    i = np.arange(1, k - 1)
    zero = np.zeros(k - 2, dtype=np.int64)
    local = np.concatenate([q + [0, 1, 2], q + [0, 2, 3],
                            np.column_stack([zero, i, i + 1]) + 4 * k,   # top, facing up
                            np.column_stack([zero, i + 1, i]) + 5 * k])  # bottom, facing down
    faces = local[None] + 6 * k * np.arange(n)[:, None, None]
    return verts.reshape(-1, 3), faces.reshape(-1, 3).astype(np.int64)


def _boxes(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.asarray(lo, dtype=float).reshape(-1, 3), np.asarray(hi, dtype=float).reshape(-1, 3)
    base = np.stack([lo[:, :2], np.column_stack([hi[:, 0], lo[:, 1]]), hi[:, :2],
                     np.column_stack([lo[:, 0], hi[:, 1]])], axis=1)
    return _prisms(base, lo[:, 2], hi[:, 2])


def _strips(segments: np.ndarray, width: float, z0: float, z1: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """Flat boxes ``width`` wide along floor segments (A, 2, 2); zero-length ones are left out."""
    seg = np.asarray(segments, dtype=float).reshape(-1, 2, 2)
    p, q = seg[:, 0], seg[:, 1]
    length = np.linalg.norm(q - p, axis=1)
    keep = length > 1e-9
    p, q, length = p[keep], q[keep], length[keep]
    d = (q - p) / length[:, None] if len(p) else np.zeros((0, 2))
    side = np.column_stack([-d[:, 1], d[:, 0]]) * width / 2
    return _prisms(np.stack([p - side, q - side, q + side, p + side], axis=1), z0, z1)


def _discs(xy: np.ndarray, radius: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Round posts (MARKER_SIDES-gons) standing on the floor at points ``xy`` (n, 2)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    angle = 2 * np.pi * np.arange(MARKER_SIDES) / MARKER_SIDES
    ring = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return _prisms(xy[:, None, :] + ring[None], 0.0, height)


def _join(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    verts, faces, offset = [], [], 0
    for v, f in parts:
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(verts), np.concatenate(faces)


# ----------------------------------------------------------------------------- colours


def _rgb(hex_colour: str) -> np.ndarray:
    """``"#rrggbb"`` as (3,) floats in 0..1, as glTF and USD colours are given."""
    return hex_rgb(hex_colour) / 255


def _station_rgb(scene: Scene) -> np.ndarray | None:
    """(J, 3) colours in 0..1 by the scene's values, as `twin view` draws them; None without."""
    if scene.values is None:
        return None
    values = np.asarray(scene.values, dtype=float)
    if scene.color == "state":
        table = np.array([_rgb(c) for c in STATE_COLORS])
        return table[np.clip(np.nan_to_num(values).astype(int), 0, len(table) - 1)]
    from matplotlib import colormaps  # loaded only when there is something to colour

    top = 1.0 if scene.color in ("busy", "blocked") else max(float(np.nanmax(values)), 1e-9)
    return np.asarray(colormaps[CMAP](np.clip(np.nan_to_num(values) / top, 0.0, 1.0)))[:, :3]


def _station_parts(scene: Scene, j: int, rgb: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices, triangles and per-vertex RGB of station ``j``: its block, then its racks."""
    block = _boxes(scene.lo[j], scene.hi[j])
    racks = np.flatnonzero(scene.bay_station == j)
    block_rgb = _rgb(PLAIN_STATION) if rgb is None else rgb[j]
    rack_rgb = _rgb(RACK_COLOR) if rgb is None else 0.75 * rgb[j]  # a shade darker
    parts, colours = [block], [np.tile(block_rgb, (len(block[0]), 1))]
    if racks.size:
        rack = _boxes(scene.bay_lo[racks], scene.bay_hi[racks])
        parts.append(rack)
        colours.append(np.tile(rack_rgb, (len(rack[0]), 1)))
    verts, faces = _join(parts)
    return verts, faces, np.concatenate(colours)


def _number(value: Any) -> float | int | None:
    """A JSON-safe figure: finite numbers as they are, anything else (None, NaN) as None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(float(value)):
        return float(value)
    return None


def _station_info(scene: Scene, j: int) -> dict[str, Any]:
    """What a station node carries: figures, then id, servers and the colour value."""
    sid = scene.station_ids[j]
    info: dict[str, Any] = {k: _number(v) for k, v in scene.figures.get(sid, {}).items()}
    info["id"] = sid
    info["servers"] = int(scene.servers[j])
    if scene.values is not None:
        info["value"] = _number(scene.values[j])
        if scene.color == "state" and scene.state_names:
            info["state"] = scene.state_names[int(scene.values[j])]
    if scene.bottleneck == sid:
        info["bottleneck"] = True
    return info


# ----------------------------------------------------------------------------- glTF


def write_gltf(scene: Scene, path: str | os.PathLike) -> Path:
    """Write ``scene`` as binary glTF (.glb): a root node `Plant` (turning z-up into glTF's
    y-up) holding `Floor`, one node per station named by its id (its block and racks, with
    ``extras`` id, servers, every measured figure and the colour value), and `Aisles`, `Docks`,
    `Chargers`, `Homes` and `Shipping` where the plant has them. Stations are coloured by the
    scene's values (vertex colours); returns the path written."""
    import trimesh

    path = Path(path)
    if path.suffix.lower() != ".glb":
        raise TwinError(f"--gltf {path}: give a file name ending .glb (binary glTF)")
    meta = {"name": scene.name, "units": "m", "color": scene.color,
            "value_label": scene.value_label, "bottleneck": scene.bottleneck,
            "stations": list(scene.station_ids)}
    out = trimesh.Scene(metadata={k: v for k, v in meta.items() if v not in (None, "")})
    out.graph.update(frame_from=out.graph.base_frame, frame_to="Plant", matrix=Z_UP_TO_Y_UP,
                     metadata={"up": "the plant's z (metres) is glTF's y"})

    def add(name: str, verts: np.ndarray, faces: np.ndarray, rgb: np.ndarray,
            extras: dict[str, Any] | None = None) -> None:
        colours = np.broadcast_to(rgb, (len(verts), 3))
        rgba = np.column_stack([np.round(colours * 255), np.full(len(verts), 255)])
        mesh = trimesh.Trimesh(verts, faces, vertex_colors=rgba.astype(np.uint8), process=False)
        out.add_geometry(mesh, node_name=name, geom_name=name, parent_node_name="Plant",
                         metadata=extras)

    w, d = scene.floor
    add("Floor", *_boxes([0.0, 0.0, -FLOOR_THICKNESS], [w, d, 0.0]), _rgb(FLOOR_COLOR),
        {"size_m": [w, d]})
    rgb = _station_rgb(scene)
    for j, sid in enumerate(scene.station_ids):
        verts, faces, colours = _station_parts(scene, j, rgb)
        add(sid, verts, faces, colours, _station_info(scene, j))
    if len(scene.aisles):
        verts, faces = _strips(scene.aisles, AISLE_WIDTH, 0.0, AISLE_HEIGHT)
        if len(verts):
            add("Aisles", verts, faces, _rgb(AISLE_COLOR),
                {"segments": len(scene.aisles), "drawn_width_m": AISLE_WIDTH})
    for name, attr, colour, radius, height in MARKERS:
        xy = getattr(scene, attr)
        if len(xy):
            add(name, *_discs(xy, radius, height), _rgb(colour),
                {"count": len(xy), "points": np.asarray(xy, dtype=float).tolist()})
    if scene.shipping is not None:
        colour, radius, height = SHIPPING
        add("Shipping", *_discs(scene.shipping, radius, height), _rgb(colour),
            {"point": np.asarray(scene.shipping, dtype=float).tolist()})
    data = out.export(file_type="glb", include_normals=True)
    with writing(f"--gltf {path}"):
        write_atomic(path, data)
    return path


# ----------------------------------------------------------------------------- OpenUSD


def _prim_name(sid: str) -> str:
    """A station id as a USD prim name (ids are [a-z0-9_]+; a prim name cannot start with a
    digit, so such ids get a leading underscore; `twin:id` keeps the id itself)."""
    return f"_{sid}" if sid[:1].isdigit() else sid


def _attr_name(key: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in key)
    return f"_{name}" if not name or name[0].isdigit() else name


def write_usd(scene: Scene, path: str | os.PathLike) -> Path:
    """Write ``scene`` as OpenUSD (ASCII for .usda and .usd, binary crate for .usdc): `/Plant`
    with `Floor`, `Stations/<id>` (an Xform holding a `Block` cube and a `Racks` mesh, with
    custom attributes twin:id, twin:servers, twin:<figure> for every measured figure and
    twin:value when coloured), `Aisles`, `Docks`, `Chargers`, `Homes` and `Shipping`. Metres,
    up axis Z. Needs the usd-core package; returns the path written."""
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, Vt
    except ImportError:
        raise TwinError("--usd needs the usd-core package: pip install -e '.[usd]'") from None

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".usda", ".usd", ".usdc"):
        raise TwinError(f"--usd {path}: give a file name ending .usda (or .usd, .usdc)")
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    root = UsdGeom.Xform.Define(stage, "/Plant")
    stage.SetDefaultPrim(root.GetPrim())
    S = Sdf.ValueTypeNames

    def custom(prim, name: str, type_name, value) -> None:
        prim.CreateAttribute(f"twin:{name}", type_name, custom=True).Set(value)

    custom(root.GetPrim(), "name", S.String, scene.name)
    custom(root.GetPrim(), "units", S.String, "m")
    if scene.color is not None:
        custom(root.GetPrim(), "color", S.String, scene.color)
        custom(root.GetPrim(), "valueLabel", S.String, scene.value_label)
    if scene.bottleneck is not None:
        custom(root.GetPrim(), "bottleneck", S.String, scene.bottleneck)

    def colour_of(gprim, rgb) -> None:
        gprim.CreateDisplayColorAttr(Vt.Vec3fArray([Gf.Vec3f(*map(float, rgb))]))

    def cube(where: str, lo, hi, rgb) -> None:
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        c = UsdGeom.Cube.Define(stage, where)
        c.CreateSizeAttr(1.0)
        c.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(-0.5, -0.5, -0.5), Gf.Vec3f(0.5, 0.5, 0.5)]))
        c.AddTranslateOp().Set(Gf.Vec3d(*((lo + hi) / 2).tolist()))
        c.AddScaleOp().Set(Gf.Vec3f(*np.maximum(hi - lo, 1e-6).tolist()))
        colour_of(c, rgb)

    def mesh(where: str, verts: np.ndarray, faces: np.ndarray, rgb) -> None:
        m = UsdGeom.Mesh.Define(stage, where)
        m.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(verts, np.float32)))
        m.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, np.int32)))
        m.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(
            np.ascontiguousarray(faces.ravel(), np.int32)))
        m.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
        m.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*verts.min(axis=0).tolist()),
                                          Gf.Vec3f(*verts.max(axis=0).tolist())]))
        colour_of(m, rgb)

    w, d = scene.floor
    cube("/Plant/Floor", [0.0, 0.0, -FLOOR_THICKNESS], [w, d, 0.0], _rgb(FLOOR_COLOR))
    UsdGeom.Xform.Define(stage, "/Plant/Stations")
    rgb = _station_rgb(scene)
    for j, sid in enumerate(scene.station_ids):
        where = f"/Plant/Stations/{_prim_name(sid)}"
        prim = UsdGeom.Xform.Define(stage, where).GetPrim()
        custom(prim, "id", S.String, sid)
        custom(prim, "servers", S.Int, int(scene.servers[j]))
        for key, value in scene.figures.get(sid, {}).items():
            number = _number(value)
            custom(prim, _attr_name(key), S.Double, math.nan if number is None else float(number))
        if scene.values is not None:
            custom(prim, "value", S.Double, float(scene.values[j]))
            if scene.color == "state" and scene.state_names:
                custom(prim, "state", S.String, scene.state_names[int(scene.values[j])])
        if scene.bottleneck == sid:
            custom(prim, "bottleneck", S.Bool, True)
        block_rgb = _rgb(PLAIN_STATION) if rgb is None else rgb[j]
        cube(f"{where}/Block", scene.lo[j], scene.hi[j], block_rgb)
        racks = np.flatnonzero(scene.bay_station == j)
        if racks.size:
            rack_rgb = _rgb(RACK_COLOR) if rgb is None else 0.75 * rgb[j]
            mesh(f"{where}/Racks", *_boxes(scene.bay_lo[racks], scene.bay_hi[racks]), rack_rgb)
    if len(scene.aisles):
        verts, faces = _strips(scene.aisles, AISLE_WIDTH, 0.0, AISLE_HEIGHT)
        if len(verts):
            mesh("/Plant/Aisles", verts, faces, _rgb(AISLE_COLOR))
    for name, attr, colour, radius, height in MARKERS:
        xy = getattr(scene, attr)
        if len(xy):
            mesh(f"/Plant/{name}", *_discs(xy, radius, height), _rgb(colour))
    if scene.shipping is not None:
        colour, radius, height = SHIPPING
        mesh("/Plant/Shipping", *_discs(scene.shipping, radius, height), _rgb(colour))

    layer = stage.GetRootLayer()
    with writing(f"--usd {path}"):
        if suffix == ".usdc":
            _export_atomic(layer, path)
        else:  # ASCII, whatever the suffix
            write_atomic(path, layer.ExportToString())
    return path


def _export_atomic(layer, path: Path) -> None:
    """Export a USD layer to ``path`` through a temporary file of the same suffix (USD picks
    the file format by it) and a rename."""
    from pxr import Tf

    with atomic_path(path) as tmp:
        try:
            done = layer.Export(str(tmp))
        except Tf.ErrorException as err:
            raise OSError(0, str(err).strip().splitlines()[-1]) from None
        if not done:
            raise OSError(0, "USD could not export the layer")
