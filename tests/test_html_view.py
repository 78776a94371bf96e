"""`twin view --html`: the self-contained WebGL page, drawn by real headless Chromium.

Chromium draws the page with SwiftShader (WebGL on the CPU), takes a screenshot and dumps the
DOM; the tests count pixels of the floor, station, rack and result colours in the screenshot
(faces that look up keep their colour exactly) and read the attributes the page sets once it has
drawn (`data-frames-drawn`) or picked a station (`data-pick-hit`, `data-picked`).

Chromium comes from Debian: ``apt-get install -y chromium`` (`make test` installs it); without
/usr/bin/chromium the browser tests are skipped.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.errors import TwinError
from twin.viz import html as viz_html
from twin.viz import scene as viz_scene
from twin.viz.render import (
    AISLE_COLOR,
    FLOOR_COLOR,
    PLAIN_STATION,
    RACK_COLOR,
    STATE_COLORS,
    hex_rgb,
)

CONFIGS = Path(__file__).parent.parent / "configs"
SIZE = (900, 600)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
         "--enable-unsafe-swiftshader", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--window-size={SIZE[0]},{SIZE[1]}", "--virtual-time-budget=5000")


def chromium() -> str:
    for path in ("/usr/bin/chromium", shutil.which("chromium")):
        if path and Path(path).exists():
            return path
    pytest.skip("Chromium is not installed (/usr/bin/chromium is absent); install it with "
                "`apt-get install -y chromium` to test the --html page in a browser")


def browse(page: Path, tmp: Path, fragment: str = "", screenshot: bool = True
           ) -> tuple[str, np.ndarray | None]:
    """Open ``page`` in headless Chromium: the DOM after the page's scripts ran, and a
    screenshot as an (h, w, 3) array."""
    exe = chromium()
    tmp.mkdir(parents=True, exist_ok=True)
    png = tmp / "shot.png"
    png.unlink(missing_ok=True)
    args = [exe, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--dump-dom"]
    if screenshot:
        args.append(f"--screenshot={png}")
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    run = subprocess.run([*args, url], check=False, capture_output=True, text=True, timeout=90,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, f"chromium failed ({run.returncode}): {run.stderr[-2000:]}"
    image = None
    if screenshot:
        from PIL import Image

        assert png.exists(), f"chromium wrote no screenshot: {run.stderr[-2000:]}"
        image = np.asarray(Image.open(png).convert("RGB"))
        assert image.shape[:2] == (SIZE[1], SIZE[0])
    return run.stdout, image


def body_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<body([^>]*)>", dom)
    assert m, dom[:2000]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


def section(dom: str, element: str) -> str:
    """The inside of ``<div id=element>`` in the dumped DOM (up to the next top-level div)."""
    m = re.search(rf'<div id="{element}"[^>]*>(.*?)</div>\s*<(?:div id=|script)', dom, re.DOTALL)
    assert m, f"no #{element} in the page"
    return m.group(1)


def pixels(image: np.ndarray, colour: str | np.ndarray, tol: int = 3) -> int:
    """How many pixels are within ``tol`` of ``colour`` in each channel."""
    rgb = hex_rgb(colour) if isinstance(colour, str) else np.asarray(colour)
    return int(np.all(np.abs(image.astype(int) - rgb.astype(int)) <= tol, axis=2).sum())


def faces(colour: str, tol: int = 4):
    """Pixels of boxes in ``colour``: their tops and the two sides the first view sees (the
    page's light: 0.5 + 0.6 * max(n . L, 0) with L along (-0.35, -0.55, 1))."""
    light = np.array([-0.35, -0.55, 1.0]) / np.linalg.norm([-0.35, -0.55, 1.0])
    rgb = hex_rgb(colour).astype(float)
    shades = [np.round(rgb * min(1.0, 0.5 + 0.6 * max(float(n @ light), 0.0)))
              for n in np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)]
    return lambda image: sum(pixels(image, s, tol) for s in shades)


def assert_drawn(dom: str) -> dict[str, str]:
    attrs = body_attrs(dom)
    assert "data-error" not in attrs, attrs["data-error"]
    assert int(attrs.get("data-frames-drawn", "0")) >= 1, f"the page drew no frame: {attrs}"
    return attrs


def fake_summary(plant, busy: dict[str, float]) -> dict:
    """A summary.json as `twin run --out` writes it, with chosen figures."""
    stations = {}
    for st in plant.stations:
        b = busy[st.id]
        stations[st.id] = {"busy": {"mean": b, "ci95": [b, b]},
                           "blocked": {"mean": 0.05, "ci95": [0.05, 0.05]},
                           "down": {"mean": 0.0, "ci95": [0.0, 0.0]},
                           "idle": {"mean": 0.95 - b, "ci95": [0.95 - b, 0.95 - b]},
                           "mean_queue": {"mean": 10 * b, "ci95": [10 * b, 10 * b]}}
    return {"name": plant.name, "horizon_h": 100.0, "warmup_h": 10.0, "stations": stations,
            "bottleneck": max(busy, key=busy.get)}


@pytest.fixture(scope="module")
def houston():
    return twin.load(CONFIGS / "houston.yaml")


def test_page_is_self_contained_and_small(houston, tmp_path):
    scene = viz_scene.build(houston)
    path = viz_html.write_html(scene, tmp_path / "houston.html")
    assert path == tmp_path / "houston.html"
    assert [p.name for p in tmp_path.iterdir()] == ["houston.html"]  # no temporary file left
    page = path.read_text(encoding="utf-8")
    assert len(page.encode()) < 2_000_000
    for external in ("http://", "https://", "src=", "href=", "@import", "url("):
        assert external not in page, f"the page refers to something outside it: {external}"
    # a floor of 2,000 racks and cells still fits (Houston has about 1,100)
    copies = -(-2000 // len(scene.bay_lo))
    many = dataclasses.replace(
        scene, bay_lo=np.concatenate([scene.bay_lo] * copies),
        bay_hi=np.concatenate([scene.bay_hi] * copies),
        bay_station=np.concatenate([scene.bay_station] * copies))
    assert len(many.bay_lo) >= 2000
    assert len(viz_html.page_text(many).encode()) < 2_000_000


def test_houston_draws_a_plant_floor(houston, tmp_path):
    scene = viz_scene.build(houston)
    page = viz_html.write_html(scene, tmp_path / "houston.html")
    dom, image = browse(page, tmp_path / "chromium")
    assert_drawn(dom)
    total = image.shape[0] * image.shape[1]
    assert pixels(image, FLOOR_COLOR) > 0.25 * total, "the floor is not drawn"
    assert pixels(image, PLAIN_STATION) > 0.01 * total, "no station blocks"
    assert faces(RACK_COLOR)(image) > 300, "no racks"
    assert pixels(image, AISLE_COLOR, tol=6) > 300, "no aisles"
    assert pixels(image, "#ffffff", tol=0) < 0.8 * total
    assert "<title>houston</title>" in dom
    for sid in scene.station_ids:
        assert re.search(rf'<div class="label[^"]*"[^>]*><b>{sid}</b>', dom), f"no label for {sid}"
    legend = section(dom, "legend")
    for kind in ("station", "rack", "aisle", "dock", "charger", "shipping"):
        assert kind in legend


def test_results_colour_the_stations(houston, tmp_path):
    ids = [s.id for s in houston.stations]
    busy = {sid: 0.1 + 0.8 * j / (len(ids) - 1) for j, sid in enumerate(ids)}
    scene = viz_scene.build(houston, fake_summary(houston, busy), "busy")
    page = viz_html.write_html(scene, tmp_path / "busy.html")
    dom, image = browse(page, tmp_path / "chromium", fragment="station=burn_in")
    attrs = assert_drawn(dom)
    total = image.shape[0] * image.shape[1]
    assert pixels(image, FLOOR_COLOR) > 0.2 * total  # the floor shows between the stations
    assert pixels(image, PLAIN_STATION) < 50, "stations are drawn uncoloured"
    expected = viz_html.viridis(np.array([busy[s] for s in ids]))
    seen = [pixels(image, c, tol=4) for c in expected]
    assert sum(n > 100 for n in seen) >= len(ids) - 3, dict(zip(ids, seen, strict=True))
    assert "<title>houston: busy share of server time</title>" in dom
    assert re.search(r'class="min">0%<.*class="max">100%<', dom), "no colour scale legend"
    assert "linear-gradient" in dom
    assert re.search(r'<div class="label bottleneck"[^>]*><b>final_qa_pack</b>90%</div>', dom)
    # the pick: a ray through burn_in's top face hits burn_in and the panel shows its figures
    assert attrs.get("data-pick-hit") == "burn_in" and attrs.get("data-picked") == "burn_in"
    panel = section(dom, "panel")
    assert "<h2>burn_in</h2>" in panel
    servers = int(houston.stations[ids.index("burn_in")].servers)
    assert f'<td>servers</td><td class="v">{servers}</td>' in panel
    assert f'<td>busy</td><td class="v">{busy["burn_in"]:.1%}</td>' in panel


def test_plant_without_layout_coloured_by_state(tmp_path):
    plant = twin.load(CONFIGS / "example-line.yaml")
    ids = [s.id for s in plant.stations]
    busy = {ids[0]: 0.2, ids[1]: 0.7, ids[2]: 0.9}  # the first idles most, the others are busy
    scene = viz_scene.build(plant, fake_summary(plant, busy), "state")
    page = viz_html.write_html(scene, tmp_path / "line.html")
    dom, image = browse(page, tmp_path / "chromium", fragment=f"station={ids[0]}")
    attrs = assert_drawn(dom)
    total = image.shape[0] * image.shape[1]
    assert pixels(image, FLOOR_COLOR) > 0.2 * total
    assert pixels(image, STATE_COLORS[0]) > 0.02 * total, "no idle station"
    assert pixels(image, STATE_COLORS[1]) > 0.02 * total, "no busy station"
    assert pixels(image, PLAIN_STATION) < 50
    assert attrs.get("data-pick-hit") == ids[0]
    legend = section(dom, "legend")
    for state in ("idle", "busy", "blocked", "down"):
        assert state in legend
    # a click on empty space (the sky above the floor) picks nothing
    dom, _ = browse(page, tmp_path / "chromium", fragment="pick=5,5", screenshot=False)
    attrs = assert_drawn(dom)
    assert attrs.get("data-pick-hit") == "" and "data-picked" not in attrs


def test_plain_plant_without_layout(tmp_path):
    plant = twin.load(CONFIGS / "example-line.yaml")
    page = viz_html.write_html(viz_scene.build(plant), tmp_path / "line.html")
    dom, image = browse(page, tmp_path / "chromium")
    assert_drawn(dom)
    total = image.shape[0] * image.shape[1]
    assert pixels(image, FLOOR_COLOR) > 0.2 * total
    assert pixels(image, PLAIN_STATION) > 0.05 * total
    assert faces(RACK_COLOR)(image) < 50  # no bays, so no racks


def test_unwritable_path_is_a_twin_error(houston, tmp_path):
    scene = viz_scene.build(houston)
    for bad in (tmp_path / "missing" / "view.html", tmp_path):
        with pytest.raises(TwinError) as err:
            viz_html.write_html(scene, bad)
        message = str(err.value)
        assert "\n" not in message
        assert message.startswith(f"--html {bad}: cannot write it (")
        assert message.endswith("); choose a writable path")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_names_cannot_break_out_of_the_page():
    plant = twin.load(CONFIGS / "example-line.yaml")
    scene = viz_scene.build(plant)
    scene.name = "</script><script>alert(1)</script>"
    page = viz_html.page_text(scene)
    assert page.count("</script>") == 2  # the data's and the viewer's
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
