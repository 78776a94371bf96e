"""The 3D view as one self-contained HTML page (`write_html`): a small hand-written WebGL 1
viewer in plain JavaScript with the plant's triangles embedded as base64 arrays, so it opens in
any browser from a file, without a server and without the network.

Geometry is built here with NumPy from a :class:`twin.viz.scene.Scene`, in the colours
`twin.viz.render` uses: boxes for station blocks and racks, a floor quad with grid lines, thin
strips for aisles, small boxes for docks, chargers and vehicle homes, a cone over shipping.
Each vertex carries a flat normal and a colour; the page shades with one directional light
(faces looking up keep their colour exactly). Drag to orbit, wheel to zoom, right-drag or
shift-drag to pan; a click on a station shows its id, servers and measured figures.

The page sets ``data-frames-drawn`` on ``<body>`` once a frame is drawn (``data-error`` when it
cannot draw), so a headless browser can tell a drawn view from a blank one."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from twin.files import write_atomic, writing
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

__all__ = ["write_html"]

AISLE_WIDTH = 1.0  # aisle strips are drawn this wide (a marker, not the aisle's real width)
AISLE_Z = 0.03
GRID_COLOR = "#c4c4bf"
OUTLINE_COLOR = "#555555"
BOTTLENECK_COLOR = "#d62728"
GRID_STEP = 10.0  # metres between floor grid lines on large floors (every metre under 60 m)
# (legend name, Scene attribute, colour, half side m, height m), as twin.viz.render draws them
MARKERS = (("dock", "docks", "#1f77b4", 0.8, 0.6),
           ("charger", "chargers", "#2ca02c", 1.0, 0.6),
           ("vehicle home", "homes", "#ff7f0e", 1.2, 0.6))
SHIPPING = ("shipping", "#d62728", 2.0, 4.0)  # name, colour, radius m, height m
SHARES = ("busy", "blocked", "down", "waiting", "idle")  # figures shown as percentages

_CORNERS = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                     [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
_QUADS = np.array([[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4],
                   [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]])
_QUAD_NORMALS = np.array([[0, 0, -1], [0, 0, 1], [0, -1, 0],
                          [1, 0, 0], [0, 1, 0], [-1, 0, 0]], dtype=float)
_QUAD_TRIANGLES = np.array([0, 1, 2, 0, 2, 3])


def write_html(scene: Scene, path: str | Path) -> Path:
    """Write the interactive page of ``scene`` to ``path`` (through a temporary file in the same
    folder and a rename) and return the path."""
    path = Path(path)
    page = page_text(scene)
    with writing(f"--html {path}"):
        write_atomic(path, page.encode("utf-8"))
    return path


def page_text(scene: Scene) -> str:
    """The whole HTML page of ``scene`` as text."""
    data = json.dumps(_payload(scene), separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")  # nothing in it can close the <script> element
    title = (scene.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return (_PAGE.replace("@TITLE@", title).replace("@DATA@", data)
            .replace("@STYLE@", _STYLE).replace("@SCRIPT@", _SCRIPT))


# ---------------------------------------------------------------------------------- geometry

class _Mesh:
    """Triangles gathered part by part: positions, flat normals, colours, indices."""

    def __init__(self) -> None:
        self.pos: list[np.ndarray] = []
        self.nrm: list[np.ndarray] = []
        self.col: list[np.ndarray] = []
        self.idx: list[np.ndarray] = []
        self.count = 0

    def add(self, pos: np.ndarray, nrm: np.ndarray, col: np.ndarray, idx: np.ndarray) -> None:
        if not len(pos):
            return
        self.pos.append(pos)
        self.nrm.append(nrm)
        self.col.append(col)
        self.idx.append(idx + self.count)
        self.count += len(pos)

    def boxes(self, lo: np.ndarray, hi: np.ndarray, colours: np.ndarray) -> None:
        """Axis-aligned boxes, 4 vertices per face so each face has its own normal."""
        n = len(lo)
        if not n:
            return
        corners = lo[:, None, :] + _CORNERS[None] * (hi - lo)[:, None, :]  # (n, 8, 3)
        pos = corners[:, _QUADS.ravel(), :].reshape(-1, 3)  # (n*24, 3)
        nrm = np.tile(np.repeat(_QUAD_NORMALS, 4, axis=0), (n, 1))
        col = np.repeat(colours, 24, axis=0)
        face = (_QUAD_TRIANGLES[None] + 4 * np.arange(6)[:, None]).ravel()  # (36,)
        idx = (face[None] + 24 * np.arange(n)[:, None]).ravel()
        self.add(pos, nrm, col, idx)

    def quads(self, corners: np.ndarray, colours: np.ndarray) -> None:
        """Flat quads facing up, given their four corners (n, 4, 3) in order round the rim."""
        n = len(corners)
        if not n:
            return
        pos = corners.reshape(-1, 3)
        nrm = np.tile([0.0, 0.0, 1.0], (4 * n, 1))
        idx = (_QUAD_TRIANGLES[None] + 4 * np.arange(n)[:, None]).ravel()
        self.add(pos, nrm, np.repeat(colours, 4, axis=0), idx)

    def cone_down(self, apex: np.ndarray, radius: float, height: float, colour: np.ndarray,
                  sides: int = 16) -> None:
        """A cone standing on its apex at ``apex``, its base ``height`` above it."""
        a = np.linspace(0, 2 * math.pi, sides + 1)
        rim = np.column_stack([apex[0] + radius * np.cos(a), apex[1] + radius * np.sin(a),
                               np.full(sides + 1, apex[2] + height)])
        tri = np.stack([np.broadcast_to(apex, (sides, 3)), rim[1:], rim[:-1]], axis=1)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        outward = tri.mean(axis=1)[:, :2] - apex[:2]  # away from the axis
        normal *= np.where(np.einsum("ij,ij->i", normal[:, :2], outward) < 0, -1.0, 1.0)[:, None]
        centre = np.array([apex[0], apex[1], apex[2] + height])
        top = np.stack([np.broadcast_to(centre, (sides, 3)), rim[:-1], rim[1:]], axis=1)
        pos = np.concatenate([tri, top]).reshape(-1, 3)
        nrm = np.concatenate([np.repeat(normal, 3, axis=0),
                              np.tile([0.0, 0.0, 1.0], (3 * sides, 1))])
        self.add(pos, nrm, np.repeat(colour[None], len(pos), axis=0), np.arange(len(pos)))

    def arrays(self) -> dict[str, str]:
        pos = np.concatenate(self.pos).astype("<f4")
        nrm = np.clip(np.round(np.concatenate(self.nrm) * 127), -127, 127).astype("i1")
        col = np.concatenate(self.col).astype("u1")
        idx = np.concatenate(self.idx).astype("<u4")
        return {"position": _b64(pos), "normal": _b64(nrm), "color": _b64(col),
                "index": _b64(idx), "vertices": len(pos), "indices": len(idx)}


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def viridis(t: np.ndarray) -> np.ndarray:
    """Colours of the colour scale (:data:`twin.viz.render.CMAP`) at ``t`` (clipped to 0..1), as
    bytes: shape ``t.shape + (3,)``, uint8."""
    from matplotlib import colormaps

    rgba = colormaps[CMAP](np.clip(np.asarray(t, dtype=float), 0.0, 1.0))
    return np.round(np.asarray(rgba)[..., :3] * 255).astype(np.uint8)


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def _station_colours(scene: Scene) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Per-station colours (None: plain) and the legend that explains them."""
    if scene.values is None:
        kinds = [("station", PLAIN_STATION)]
        kinds += [("rack", RACK_COLOR)] if len(scene.bay_lo) else []
        kinds += [("aisle", AISLE_COLOR)] if len(scene.aisles) else []
        kinds += [(name, colour) for name, attr, colour, _, _ in MARKERS
                  if len(getattr(scene, attr))]
        if scene.shipping is not None:
            kinds.append((SHIPPING[0], SHIPPING[1]))
        return None, {"kind": "items", "title": "", "items": kinds}
    values = np.asarray(scene.values, dtype=float)
    if scene.color == "state":
        names = scene.state_names or ("idle", "busy", "blocked", "down")
        cols = np.array([hex_rgb(STATE_COLORS[int(v)]) for v in values], dtype=np.uint8)
        items = [(name, STATE_COLORS[k]) for k, name in enumerate(names)]
        return cols, {"kind": "items", "title": scene.value_label, "items": items}
    top = 1.0 if scene.color in ("busy", "blocked") else max(float(np.max(values)), 1e-9)
    cols = viridis(values / top)
    stops = [_hex(c) for c in viridis(np.linspace(0.0, 1.0, 11))]
    low, high = ("0%", "100%") if scene.color in ("busy", "blocked") else ("0", f"{top:.3g}")
    return cols, {"kind": "scale", "title": scene.value_label, "stops": stops, "min": low,
                  "max": high}


def _format(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return str(value)
        if key in SHARES:
            return f"{value:.1%}"
        return f"{value:.4g}"
    return str(value)


def _payload(scene: Scene) -> dict[str, Any]:
    mesh, lines = _Mesh(), []  # lines: (segments (n, 2, 3), colour)
    w, d = scene.floor
    mesh.quads(np.array([[[0, 0, 0], [w, 0, 0], [w, d, 0], [0, d, 0]]], dtype=float),
               hex_rgb(FLOOR_COLOR)[None])
    step = 1.0 if max(w, d) < 60 else GRID_STEP
    grid = [[[x, 0.0, 0.01], [x, d, 0.01]] for x in np.arange(step, w, step)]
    grid += [[[0.0, y, 0.01], [w, y, 0.01]] for y in np.arange(step, d, step)]
    if grid:
        lines.append((np.array(grid), GRID_COLOR))
    rim = np.array([[0, 0], [w, 0], [w, d], [0, d], [0, 0]], dtype=float)
    lines.append((np.stack([np.column_stack([rim[:-1], np.full(4, 0.05)]),
                            np.column_stack([rim[1:], np.full(4, 0.05)])], axis=1),
                  OUTLINE_COLOR))
    if len(scene.aisles):
        a, b = scene.aisles[:, 0], scene.aisles[:, 1]
        along = b - a
        length = np.linalg.norm(along, axis=1, keepdims=True)
        along = np.where(length > 0, along / np.maximum(length, 1e-12), [[1.0, 0.0]])
        side = np.column_stack([-along[:, 1], along[:, 0]]) * AISLE_WIDTH / 2
        a, b = a - along * AISLE_WIDTH / 2, b + along * AISLE_WIDTH / 2  # square ends
        rims = np.stack([a - side, b - side, b + side, a + side], axis=1)
        rims = np.concatenate([rims, np.full((*rims.shape[:2], 1), AISLE_Z)], axis=2)
        mesh.quads(rims, np.repeat(hex_rgb(AISLE_COLOR)[None], len(rims), axis=0))

    J = len(scene.station_ids)
    colours, legend = _station_colours(scene)
    plain = np.repeat(hex_rgb(PLAIN_STATION)[None], J, axis=0)
    mesh.boxes(scene.lo, scene.hi, plain if colours is None else colours)
    if len(scene.bay_lo):
        rack = (np.repeat(hex_rgb(RACK_COLOR)[None], len(scene.bay_lo), axis=0) if colours is None
                else colours[scene.bay_station])
        mesh.boxes(scene.bay_lo, scene.bay_hi, rack)
    for _, attr, colour, half, height in MARKERS:
        pts = np.asarray(getattr(scene, attr), dtype=float).reshape(-1, 2)
        if len(pts):
            lo = np.column_stack([pts - half, np.zeros(len(pts))])
            hi = np.column_stack([pts + half, np.full(len(pts), height)])
            mesh.boxes(lo, hi, np.repeat(hex_rgb(colour)[None], len(pts), axis=0))
    if scene.shipping is not None:
        sx, sy = (float(v) for v in np.asarray(scene.shipping).ravel()[:2])
        mesh.cone_down(np.array([sx, sy, 0.0]), SHIPPING[2], SHIPPING[3], hex_rgb(SHIPPING[1]))

    # what a click can hit: each station's block up to the tops of its racks
    pick_hi = scene.hi.astype(float).copy()
    if len(scene.bay_lo):
        np.maximum.at(pick_hi[:, 2], scene.bay_station, scene.bay_hi[:, 2])
    if scene.bottleneck in scene.station_ids:
        j = scene.station_ids.index(scene.bottleneck)
        lo, hi = scene.lo[j] - 0.8, pick_hi[j] + 0.8
        lo[2] = max(lo[2], 0.0)
        c = lo + _CORNERS * (hi - lo)
        edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4),
                 (0, 4), (1, 5), (2, 6), (3, 7)]
        lines.append((np.array([[c[p], c[q]] for p, q in edges]), BOTTLENECK_COLOR))

    line_pos = np.concatenate([seg.reshape(-1, 3) for seg, _ in lines]).astype("<f4")
    line_col = np.concatenate([np.repeat(hex_rgb(col)[None], 2 * len(seg), axis=0)
                               for seg, col in lines]).astype("u1")

    stations = []
    for j, sid in enumerate(scene.station_ids):
        figures = scene.figures.get(sid, {}) if scene.figures else {}
        stations.append({
            "id": sid,
            "servers": int(scene.servers[j]),
            "lo": [round(float(v), 4) for v in scene.lo[j]],
            "hi": [round(float(v), 4) for v in pick_hi[j]],
            "label": scene.value_text(j) if scene.values is not None else "",
            "figures": [[str(k), _format(str(k), v)] for k, v in figures.items()],
            "bottleneck": sid == scene.bottleneck,
        })

    # the camera looks at what stands on the floor from the front left, above, like `--camera iso`
    pts = [scene.lo, pick_hi]
    for attr in ("docks", "chargers", "homes"):
        xy = np.asarray(getattr(scene, attr), dtype=float).reshape(-1, 2)
        if len(xy):
            pts.append(np.column_stack([xy, np.zeros(len(xy))]))
    if scene.shipping is not None:
        pts.append(np.array([[*np.asarray(scene.shipping, dtype=float).ravel()[:2], 0.0]]))
    allpts = np.concatenate(pts)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    centre = (lo + hi) / 2
    centre[2] = 0.0
    radius = float(np.linalg.norm(hi - lo)) / 2 + 3.0

    return {
        "title": scene.title,
        "name": scene.name,
        "mesh": mesh.arrays(),
        "lines": {"position": _b64(line_pos), "color": _b64(line_col),
                  "vertices": len(line_pos)},
        "stations": stations,
        "legend": legend,
        "coloured": scene.values is not None,
        "bottleneck": scene.bottleneck if scene.bottleneck in scene.station_ids else None,
        "floor": [float(w), float(d)],
        "camera": {"target": [round(float(v), 4) for v in centre], "radius": radius,
                   "direction": [-0.55, -1.0, 0.9], "lo": [round(float(v), 4) for v in lo],
                   "hi": [round(float(v), 4) for v in hi]},
    }


# ---------------------------------------------------------------------------------- the page

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>@STYLE@</style>
</head>
<body>
<canvas id="view"></canvas>
<div id="labels"></div>
<div id="title"></div>
<div id="help">drag: orbit &middot; right-drag or shift-drag: pan &middot; wheel: zoom &middot;
click a station for its figures &middot; R: reset view</div>
<div id="legend"></div>
<div id="panel" hidden></div>
<div id="error" hidden></div>
<script type="application/json" id="scene-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""

_STYLE = """
html, body { margin: 0; height: 100%; overflow: hidden; background: #ffffff;
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
#view { position: absolute; left: 0; top: 0; width: 100%; height: 100%; display: block;
  cursor: grab; }
#labels { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none;
  overflow: hidden; }
.label { position: absolute; left: 0; top: 0; padding: 1px 5px; border-radius: 3px;
  background: rgba(255,255,255,0.72); border: 1px solid rgba(0,0,0,0.25); font-size: 11px;
  white-space: nowrap; text-align: center; transform: translate(-50%, -100%); }
.label.bottleneck { border: 2px solid #d62728; }
.label b { display: block; font-weight: 600; }
#title { position: absolute; left: 12px; top: 8px; font-size: 16px; font-weight: 600;
  background: rgba(255,255,255,0.75); padding: 2px 6px; border-radius: 3px; }
#help { position: absolute; left: 12px; bottom: 8px; font-size: 11px; color: #555;
  background: rgba(255,255,255,0.75); padding: 2px 6px; border-radius: 3px; }
#legend { position: absolute; left: 50%; bottom: 30px; transform: translateX(-50%);
  background: rgba(255,255,255,0.85); padding: 4px 10px; border-radius: 4px;
  border: 1px solid #ccc; text-align: center; font-size: 12px; }
#legend .bar { width: 260px; height: 12px; margin: 3px auto 1px; border: 1px solid #999; }
#legend .ends { display: flex; justify-content: space-between; width: 262px; margin: 0 auto; }
#legend .item { display: inline-block; margin: 0 6px; white-space: nowrap; }
#legend .swatch { display: inline-block; width: 11px; height: 11px; margin-right: 4px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,0.3); }
#panel { position: absolute; right: 10px; top: 10px; width: 250px; max-height: 80%;
  overflow: auto; background: rgba(255,255,255,0.94); border: 1px solid #bbb; border-radius: 4px;
  padding: 8px 10px; box-shadow: 0 1px 4px rgba(0,0,0,0.2); }
#panel h2 { margin: 0 0 4px; font-size: 15px; }
#panel table { border-collapse: collapse; width: 100%; }
#panel td { padding: 1px 4px; border-bottom: 1px solid #eee; }
#panel td.v { text-align: right; font-variant-numeric: tabular-nums; }
#panel .close { float: right; cursor: pointer; border: none; background: none; font-size: 16px; }
#error { position: absolute; left: 20%; top: 40%; width: 60%; padding: 12px; background: #fff3f3;
  border: 1px solid #d62728; text-align: center; }
"""

_SCRIPT = r"""
"use strict";
(function () {
  var DATA = JSON.parse(document.getElementById("scene-data").textContent);
  var canvas = document.getElementById("view");
  var body = document.body;
  var framesDrawn = 0;

  function fail(message) {
    var box = document.getElementById("error");
    box.textContent = message;
    box.hidden = false;
    body.setAttribute("data-error", message);
  }

  function decode(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  // ---- title and legend
  document.getElementById("title").textContent = DATA.title;
  (function legend() {
    var box = document.getElementById("legend"), L = DATA.legend;
    if (L.title) {
      var t = document.createElement("div"); t.textContent = L.title; box.appendChild(t);
    }
    if (L.kind === "scale") {
      var bar = document.createElement("div");
      bar.className = "bar";
      bar.style.background = "linear-gradient(to right, " + L.stops.join(", ") + ")";
      box.appendChild(bar);
      var ends = document.createElement("div");
      ends.className = "ends";
      var lo = document.createElement("span"), hi = document.createElement("span");
      lo.textContent = L.min; hi.textContent = L.max;
      lo.className = "min"; hi.className = "max";
      ends.appendChild(lo); ends.appendChild(hi);
      box.appendChild(ends);
    } else {
      L.items.forEach(function (it) {
        var s = document.createElement("span"), sw = document.createElement("span");
        s.className = "item"; sw.className = "swatch"; sw.style.background = it[1];
        s.appendChild(sw); s.appendChild(document.createTextNode(it[0]));
        box.appendChild(s);
      });
    }
  })();

  // ---- labels
  var labelLayer = document.getElementById("labels");
  var labels = DATA.stations.map(function (st) {
    var el = document.createElement("div");
    el.className = "label" + (st.bottleneck ? " bottleneck" : "");
    var b = document.createElement("b");
    b.textContent = st.id;
    el.appendChild(b);
    if (st.label) el.appendChild(document.createTextNode(st.label));
    labelLayer.appendChild(el);
    var top = Math.max(st.hi[2], 2.5) + 1.0;
    return { el: el, at: [(st.lo[0] + st.hi[0]) / 2, (st.lo[1] + st.hi[1]) / 2, top] };
  });

  // ---- WebGL
  var gl = null;
  try {
    gl = canvas.getContext("webgl", { antialias: true, preserveDrawingBuffer: true }) ||
         canvas.getContext("experimental-webgl", { preserveDrawingBuffer: true });
  } catch (e) { gl = null; }
  if (!gl) { fail("This browser cannot draw WebGL, so the 3D view is not shown."); return; }

  function shader(type, src) {
    var s = gl.createShader(type);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  var VS = [
    "attribute vec3 aPos; attribute vec3 aNormal; attribute vec3 aColor;",
    "uniform mat4 uMVP; uniform vec3 uLight; uniform float uLit;",
    "varying vec3 vColor;",
    "void main() {",
    "  float k = 0.5 + 0.6 * max(dot(normalize(aNormal), uLight), 0.0);",
    "  k = mix(1.0, min(k, 1.0), uLit);",
    "  vColor = aColor * k;",
    "  gl_Position = uMVP * vec4(aPos, 1.0);",
    "}"].join("\n");
  var FS = "precision mediump float; varying vec3 vColor; " +
    "void main() { gl_FragColor = vec4(vColor, 1.0); }";
  var prog;
  try {
    prog = gl.createProgram();
    gl.attachShader(prog, shader(gl.VERTEX_SHADER, VS));
    gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FS));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
  } catch (e) { fail("The 3D view could not start: " + e.message); return; }
  gl.useProgram(prog);
  var loc = {
    pos: gl.getAttribLocation(prog, "aPos"), normal: gl.getAttribLocation(prog, "aNormal"),
    color: gl.getAttribLocation(prog, "aColor"), mvp: gl.getUniformLocation(prog, "uMVP"),
    light: gl.getUniformLocation(prog, "uLight"), lit: gl.getUniformLocation(prog, "uLit")
  };

  function buffer(target, data) {
    var b = gl.createBuffer();
    gl.bindBuffer(target, b);
    gl.bufferData(target, data, gl.STATIC_DRAW);
    return b;
  }
  var M = DATA.mesh;
  var mPos = new Float32Array(decode(M.position)), mNrm = new Int8Array(decode(M.normal));
  var mCol = new Uint8Array(decode(M.color)), mIdx = new Uint32Array(decode(M.index));
  var indexType = null, indexed = true;
  if (gl.getExtension("OES_element_index_uint")) indexType = gl.UNSIGNED_INT;
  else if (M.vertices <= 65536) { mIdx = new Uint16Array(mIdx); indexType = gl.UNSIGNED_SHORT; }
  else {  // no 32-bit indices: draw unindexed triangles
    indexed = false;
    var p = new Float32Array(mIdx.length * 3), n = new Int8Array(mIdx.length * 3),
        c = new Uint8Array(mIdx.length * 3);
    for (var i = 0; i < mIdx.length; i++) for (var k = 0; k < 3; k++) {
      p[3 * i + k] = mPos[3 * mIdx[i] + k]; n[3 * i + k] = mNrm[3 * mIdx[i] + k];
      c[3 * i + k] = mCol[3 * mIdx[i] + k];
    }
    mPos = p; mNrm = n; mCol = c;
  }
  var mesh = {
    pos: buffer(gl.ARRAY_BUFFER, mPos), normal: buffer(gl.ARRAY_BUFFER, mNrm),
    color: buffer(gl.ARRAY_BUFFER, mCol),
    index: indexed ? buffer(gl.ELEMENT_ARRAY_BUFFER, mIdx) : null, count: mIdx.length
  };
  var lines = {
    pos: buffer(gl.ARRAY_BUFFER, new Float32Array(decode(DATA.lines.position))),
    color: buffer(gl.ARRAY_BUFFER, new Uint8Array(decode(DATA.lines.color))),
    count: DATA.lines.vertices
  };

  // ---- camera: orbit about a target, z up
  var cam = {};
  function resetCamera() {
    var d = DATA.camera.direction, len = Math.hypot(d[0], d[1], d[2]);
    cam.target = DATA.camera.target.slice();
    cam.moved = false;
    cam.yaw = Math.atan2(d[1], d[0]);
    cam.pitch = Math.asin(d[2] / len);
    cam.fov = 40 * Math.PI / 180;
    var aspect = Math.max(canvas.clientWidth / Math.max(canvas.clientHeight, 1), 0.2);
    var half = Math.min(cam.fov / 2, Math.atan(Math.tan(cam.fov / 2) * aspect));
    cam.dist = DATA.camera.radius / Math.sin(half);
    // then closer or further until the box round the content just fills the view
    var lo = DATA.camera.lo, hi = DATA.camera.hi;
    for (var it = 0; it < 12; it++) {
      matrices(canvas.clientWidth, canvas.clientHeight);
      var m = 0;
      for (var c = 0; c < 8; c++) {
        var q = clip([c & 1 ? hi[0] : lo[0], c & 2 ? hi[1] : lo[1], c & 4 ? hi[2] : lo[2]]);
        if (q[2] <= 1e-6) { m = 2; break; }
        m = Math.max(m, Math.abs(q[0] / q[2]), Math.abs(q[1] / q[2]));
      }
      cam.dist *= Math.min(Math.max(m / 0.88, 0.5), 2.0);
    }
  }
  function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  function cross(a, b) {
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  }
  function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  function norm(a) {
    var l = Math.hypot(a[0], a[1], a[2]) || 1; return [a[0] / l, a[1] / l, a[2] / l];
  }
  function basis() {
    var back = [Math.cos(cam.pitch) * Math.cos(cam.yaw), Math.cos(cam.pitch) * Math.sin(cam.yaw),
                Math.sin(cam.pitch)];
    var eye = [cam.target[0] + back[0] * cam.dist, cam.target[1] + back[1] * cam.dist,
               cam.target[2] + back[2] * cam.dist];
    var fwd = [-back[0], -back[1], -back[2]];
    var right = norm(cross(fwd, [0, 0, 1]));
    var up = cross(right, fwd);
    return { eye: eye, fwd: fwd, right: right, up: up };
  }
  var viewProj = null, frame = null;
  function matrices(w, h) {
    var B = basis(), aspect = w / Math.max(h, 1);
    var near = Math.max(cam.dist * 0.02, 0.05), far = cam.dist + DATA.camera.radius * 4 + 50;
    var f = 1 / Math.tan(cam.fov / 2);
    // column-major view matrix rows: right, up, -fwd
    var e = B.eye, r = B.right, u = B.up, z = [-B.fwd[0], -B.fwd[1], -B.fwd[2]];
    var V = [r[0], u[0], z[0], 0, r[1], u[1], z[1], 0, r[2], u[2], z[2], 0,
             -dot(r, e), -dot(u, e), -dot(z, e), 1];
    var P = [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1,
             0, 0, 2 * far * near / (near - far), 0];
    var out = new Float32Array(16);
    for (var c = 0; c < 4; c++) for (var rr = 0; rr < 4; rr++) {
      var s = 0;
      for (var k = 0; k < 4; k++) s += P[k * 4 + rr] * V[c * 4 + k];
      out[c * 4 + rr] = s;
    }
    frame = B;
    viewProj = out;
    return out;
  }
  function clip(p) {  // x, y and w in clip space
    var m = viewProj;
    return [m[0] * p[0] + m[4] * p[1] + m[8] * p[2] + m[12],
            m[1] * p[0] + m[5] * p[1] + m[9] * p[2] + m[13],
            m[3] * p[0] + m[7] * p[1] + m[11] * p[2] + m[15]];
  }
  function project(p) {  // CSS pixels in the canvas, or null behind the eye
    var q = clip(p);
    if (q[2] <= 1e-6) return null;
    return [(q[0] / q[2] * 0.5 + 0.5) * canvas.clientWidth,
            (0.5 - q[1] / q[2] * 0.5) * canvas.clientHeight];
  }

  function attrib(location, buf, size, type, normalized) {
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
  }
  var LIGHT = norm([-0.35, -0.55, 1.0]);
  function draw() {
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(canvas.clientWidth * dpr)),
        h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    gl.viewport(0, 0, w, h);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    gl.uniformMatrix4fv(loc.mvp, false, matrices(w, h));
    gl.uniform3fv(loc.light, LIGHT);
    gl.uniform1f(loc.lit, 1.0);
    attrib(loc.pos, mesh.pos, 3, gl.FLOAT, false);
    attrib(loc.normal, mesh.normal, 3, gl.BYTE, true);
    attrib(loc.color, mesh.color, 3, gl.UNSIGNED_BYTE, true);
    gl.enable(gl.POLYGON_OFFSET_FILL);
    gl.polygonOffset(1, 1);
    if (mesh.index) {
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, mesh.index);
      gl.drawElements(gl.TRIANGLES, mesh.count, indexType, 0);
    } else {
      gl.drawArrays(gl.TRIANGLES, 0, mesh.count);
    }
    gl.disable(gl.POLYGON_OFFSET_FILL);
    gl.uniform1f(loc.lit, 0.0);
    gl.disableVertexAttribArray(loc.normal);
    gl.vertexAttrib3f(loc.normal, 0, 0, 1);
    attrib(loc.pos, lines.pos, 3, gl.FLOAT, false);
    attrib(loc.color, lines.color, 3, gl.UNSIGNED_BYTE, true);
    gl.drawArrays(gl.LINES, 0, lines.count);
    placeLabels();
    framesDrawn += 1;
    body.setAttribute("data-frames-drawn", String(framesDrawn));
  }
  function placeLabels() {
    for (var i = 0; i < labels.length; i++) {
      var L = labels[i], q = project(L.at);
      if (!q || q[0] < -200 || q[1] < -100 || q[0] > canvas.clientWidth + 200 ||
          q[1] > canvas.clientHeight + 100) { L.el.style.display = "none"; continue; }
      L.el.style.display = "";
      L.el.style.left = q[0].toFixed(1) + "px";
      L.el.style.top = q[1].toFixed(1) + "px";
    }
  }
  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  }

  // ---- picking: a ray from the eye through the pixel against each station's box
  function pick(px, py) {
    var B = basis(), w = canvas.clientWidth, h = canvas.clientHeight;
    var t = Math.tan(cam.fov / 2), sx = (2 * px / w - 1) * t * (w / h), sy = (1 - 2 * py / h) * t;
    var dir = norm([B.fwd[0] + B.right[0] * sx + B.up[0] * sy,
                    B.fwd[1] + B.right[1] * sx + B.up[1] * sy,
                    B.fwd[2] + B.right[2] * sx + B.up[2] * sy]);
    var best = -1, bestT = Infinity;
    DATA.stations.forEach(function (st, j) {
      var t0 = -Infinity, t1 = Infinity;
      for (var a = 0; a < 3; a++) {
        if (Math.abs(dir[a]) < 1e-12) {
          if (B.eye[a] < st.lo[a] || B.eye[a] > st.hi[a]) return;
          continue;
        }
        var ta = (st.lo[a] - B.eye[a]) / dir[a], tb = (st.hi[a] - B.eye[a]) / dir[a];
        t0 = Math.max(t0, Math.min(ta, tb));
        t1 = Math.min(t1, Math.max(ta, tb));
      }
      if (t1 >= Math.max(t0, 0) && t0 < bestT) { bestT = Math.max(t0, 0); best = j; }
    });
    return best;
  }
  var panel = document.getElementById("panel");
  function show(j) {
    panel.textContent = "";
    if (j < 0) { panel.hidden = true; body.removeAttribute("data-picked"); return; }
    var st = DATA.stations[j];
    var close = document.createElement("button");
    close.className = "close"; close.textContent = "\u00d7"; close.title = "close";
    close.onclick = function () { show(-1); };
    panel.appendChild(close);
    var h = document.createElement("h2");
    h.textContent = st.id;
    panel.appendChild(h);
    var rows = [["servers", String(st.servers)]];
    if (st.bottleneck) rows.push(["bottleneck", "yes"]);
    rows = rows.concat(st.figures);
    var table = document.createElement("table");
    rows.forEach(function (r) {
      var tr = document.createElement("tr"), a = document.createElement("td"),
          b = document.createElement("td");
      a.textContent = r[0]; b.textContent = r[1]; b.className = "v";
      tr.appendChild(a); tr.appendChild(b); table.appendChild(tr);
    });
    panel.appendChild(table);
    if (!DATA.coloured) {
      var note = document.createElement("p");
      note.textContent = "No results loaded: view with --results DIR for measured figures.";
      panel.appendChild(note);
    }
    panel.hidden = false;
    body.setAttribute("data-picked", st.id);
  }

  // ---- mouse
  var drag = null;
  canvas.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  canvas.addEventListener("mousedown", function (e) {
    drag = { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY,
             pan: e.button === 2 || e.button === 1 || e.shiftKey };
    canvas.style.cursor = "grabbing";
    e.preventDefault();
  });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX; drag.y = e.clientY;
    if (drag.pan) {
      var B = basis(), s = 2 * cam.dist * Math.tan(cam.fov / 2) / Math.max(canvas.clientHeight, 1);
      for (var a = 0; a < 3; a++) cam.target[a] += (-dx * B.right[a] + dy * B.up[a]) * s;
    } else {
      cam.yaw -= dx * 0.008;
      cam.pitch = Math.min(1.55, Math.max(0.03, cam.pitch + dy * 0.008));
    }
    cam.moved = true;
    redraw();
  });
  window.addEventListener("mouseup", function (e) {
    if (!drag) return;
    var moved = Math.abs(e.clientX - drag.x0) + Math.abs(e.clientY - drag.y0);
    var wasPan = drag.pan;
    drag = null;
    canvas.style.cursor = "grab";
    if (moved < 4 && !wasPan && e.target === canvas) {
      var r = canvas.getBoundingClientRect();
      show(pick(e.clientX - r.left, e.clientY - r.top));
    }
  });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var delta = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
    cam.dist = Math.min(DATA.camera.radius * 20,
                        Math.max(1.0, cam.dist * Math.exp(delta * 0.0015)));
    cam.moved = true;
    redraw();
  }, { passive: false });
  window.addEventListener("keydown", function (e) {
    if (e.key === "r" || e.key === "R") { resetCamera(); redraw(); }
    if (e.key === "Escape") show(-1);
  });
  window.addEventListener("resize", function () {
    if (!cam.moved) {  // until the user moves it, the view keeps the plant framed
      resetCamera();
      fromAddress();
    }
    redraw();
  });

  // #station=ID in the address opens that station's panel, picked through its top face;
  // #pick=X,Y picks what is under that point of the page (CSS pixels), as a click would
  function fromAddress() {
    var p = /^#pick=(-?[0-9.]+),(-?[0-9.]+)$/.exec(window.location.hash);
    if (p) {
      var at = pick(parseFloat(p[1]), parseFloat(p[2]));
      body.setAttribute("data-pick-hit", at < 0 ? "" : DATA.stations[at].id);
      show(at);
      return;
    }
    var m = /^#station=(.+)$/.exec(window.location.hash);
    if (!m) return;
    var id = decodeURIComponent(m[1]);
    for (var j = 0; j < DATA.stations.length; j++) {
      var st = DATA.stations[j];
      if (st.id !== id) continue;
      var q = project([(st.lo[0] + st.hi[0]) / 2, (st.lo[1] + st.hi[1]) / 2, st.hi[2]]);
      var hit = q ? pick(q[0], q[1]) : -1;
      body.setAttribute("data-pick-hit", hit < 0 ? "" : DATA.stations[hit].id);
      show(hit < 0 ? j : hit);
    }
  }

  resetCamera();
  try { draw(); } catch (e) { fail("The 3D view could not draw: " + e.message); return; }
  fromAddress();
  window.addEventListener("hashchange", fromAddress);
})();
"""
