"""`twin view`: off-screen screenshots against reference images kept in the repository, the
colouring by results, picking, and bad input.

Reference images live in tests/reference/. A missing one fails; to make or renew them after a
deliberate change of the view, run ``TWIN_WRITE_REFERENCE=1 pytest tests/test_viewer.py``, look
at every written image, and commit them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import twin
from twin import cli
from twin.errors import TwinError
from twin.viz import app
from twin.viz import scene as viz_scene

pv = pytest.importorskip("pyvista")

REFERENCE = Path(__file__).parent / "reference"
CONFIGS = Path(__file__).parent.parent / "configs"
TOLERANCE = 100.0  # pyvista.compare_images error: 0 for identical renders; VTK's own tests use 500


def fake_summary(plant, busy: dict[str, float], power: bool = False) -> dict:
    """A summary.json as `twin run --out` writes it, with chosen figures."""
    stations = {}
    for st in plant.stations:
        b = busy.get(st.id, 0.5)
        stations[st.id] = {"busy": {"mean": b, "ci95": [b, b]},
                           "blocked": {"mean": 0.1, "ci95": [0.1, 0.1]},
                           "down": {"mean": 0.0, "ci95": [0.0, 0.0]},
                           "idle": {"mean": 0.9 - b, "ci95": [0.9 - b, 0.9 - b]},
                           "mean_queue": {"mean": 10 * b, "ci95": [10 * b, 10 * b]}}
    out = {"name": plant.name, "horizon_h": 100.0, "warmup_h": 10.0, "stations": stations,
           "bottleneck": max(busy, key=busy.get) if busy else plant.stations[0].id}
    if power:
        out["power"] = {"stations": {st.id: {"energy_mwh": {"mean": 0.09 * (j + 1)}}
                                     for j, st in enumerate(plant.stations)}}
    return out


def write_results(folder: Path, summary: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def check_against_reference(image: Path, name: str) -> None:
    ref = REFERENCE / name
    if os.environ.get("TWIN_WRITE_REFERENCE"):
        REFERENCE.mkdir(exist_ok=True)
        ref.write_bytes(image.read_bytes())
    assert ref.exists(), (f"reference image {ref} is missing: run TWIN_WRITE_REFERENCE=1 pytest "
                          f"{__file__}, look at it, and commit it")
    error = pv.compare_images(pv.read(str(image)), pv.read(str(ref)))
    assert error < TOLERANCE, f"{image} differs from {ref}: error {error:.0f} >= {TOLERANCE}"


def test_the_example_line_coloured_by_busy_matches_its_reference(tmp_path):
    plant = twin.load(CONFIGS / "example-line.yaml")
    results = write_results(tmp_path / "res", fake_summary(
        plant, {"assemble": 0.62, "test": 0.81, "rework": 0.05}))
    shot = tmp_path / "line.png"
    code = cli.main(["view", str(CONFIGS / "example-line.yaml"), "--results", str(results),
                     "--color", "busy", "--screenshot", str(shot), "--size", "800x560"])
    assert code == 0
    from PIL import Image

    assert Image.open(shot).size == (800, 560)
    check_against_reference(shot, "view-example-line-busy.png")


def test_houston_matches_its_reference(tmp_path):
    shot = tmp_path / "houston.png"
    files = app.view(str(CONFIGS / "houston.yaml"), screenshot=str(shot), size="960x600",
                     camera="iso")
    assert files == [shot]
    check_against_reference(shot, "view-houston.png")


def test_the_reference_check_can_fail(tmp_path):
    """Another colouring of the same plant is far outside the tolerance."""
    plant = twin.load(CONFIGS / "example-line.yaml")
    results = write_results(tmp_path / "res", fake_summary(
        plant, {"assemble": 0.05, "test": 0.05, "rework": 0.95}))
    shot = tmp_path / "other.png"
    app.view(str(CONFIGS / "example-line.yaml"), results=str(results), color="busy",
             screenshot=str(shot), size="800x560")
    ref = REFERENCE / "view-example-line-busy.png"
    if not ref.exists():
        pytest.fail(f"reference image {ref} is missing")
    assert pv.compare_images(pv.read(str(shot)), pv.read(str(ref))) > TOLERANCE


def test_cameras_and_sizes_give_different_pictures(tmp_path):
    config = str(CONFIGS / "example-line.yaml")
    shots = {}
    for camera in ("iso", "top", "front"):
        shots[camera] = tmp_path / f"{camera}.png"
        app.view(config, screenshot=str(shots[camera]), camera=camera, size="320x240")
    from PIL import Image

    images = {k: np.asarray(Image.open(v)) for k, v in shots.items()}
    assert all(img.shape[:2] == (240, 320) for img in images.values())
    assert not np.array_equal(images["iso"], images["top"])
    assert not np.array_equal(images["top"], images["front"])


def test_colours_follow_the_results():
    plant = twin.load(CONFIGS / "example-line.yaml")
    summary = fake_summary(plant, {"assemble": 0.3, "test": 0.9, "rework": 0.1}, power=True)
    scene = viz_scene.build(plant, summary, "busy")
    assert scene.values.tolist() == [0.3, 0.9, 0.1]
    assert scene.bottleneck == "test"
    assert viz_scene.build(plant, summary, "queue").values.tolist() == [3.0, 9.0, 1.0]
    assert viz_scene.build(plant, summary, "blocked").values.tolist() == [0.1, 0.1, 0.1]
    # state: the one with the largest share (idle 0.6 > busy 0.3 for assemble)
    state = viz_scene.build(plant, summary, "state")
    assert [state.state_names[int(v)] for v in state.values] == ["idle", "busy", "idle"]
    # power: energy over the measured window, in kW (0.09 MWh over 90 h = 1 kW)
    assert viz_scene.build(plant, summary, "power").values == pytest.approx([1.0, 2.0, 3.0])


def test_houston_scene_has_every_bay_as_a_rack():
    plant = twin.load(CONFIGS / "houston.yaml")
    scene = viz_scene.build(plant)
    expected = sum(min(s.servers, s.bays.rows * s.bays.columns)
                   for s in plant.stations if s.bays is not None)
    assert len(scene.bay_lo) == expected > 300
    burn = scene.station_ids.index("burn_in")
    mine = scene.bay_station == burn
    assert mine.sum() == 168
    # every rack stands inside its station's footprint
    assert (scene.bay_lo[:, :2] >= scene.lo[scene.bay_station, :2] - 1e-9).all()
    assert (scene.bay_hi[:, :2] <= scene.hi[scene.bay_station, :2] + 1e-9).all()
    assert len(scene.chargers) == 6 and len(scene.homes) == 2
    assert scene.floor == (400.0, 230.0)


def test_stations_without_a_layout_stand_on_a_grid_apart():
    plant = twin.load(CONFIGS / "example-line.yaml")
    scene = viz_scene.build(plant)
    lo, hi = scene.lo, scene.hi
    for a in range(len(lo)):
        for b in range(a + 1, len(lo)):
            apart = (hi[a, 0] <= lo[b, 0]) or (hi[b, 0] <= lo[a, 0]) or \
                (hi[a, 1] <= lo[b, 1]) or (hi[b, 1] <= lo[a, 1])
            assert apart
    assert (lo[:, :2] > 0).all() and (hi[:, 0] < scene.floor[0]).all()


def test_picking_a_station_names_its_figures():
    plant = twin.load(CONFIGS / "example-line.yaml")
    scene = viz_scene.build(plant, fake_summary(plant, {"test": 0.9}), "busy")
    j = scene.station_ids.index("test")
    x, y = (scene.lo[j, :2] + scene.hi[j, :2]) / 2
    assert app.station_at(scene, x, y) == j
    assert app.station_at(scene, -5.0, -5.0) is None
    text = app.describe(scene, j)
    assert text.splitlines()[0] == "test: 3 servers"
    assert "busy: 0.9" in text and "(bottleneck)" in text


@pytest.mark.parametrize("config, extra", [
    ("example-line", set()),  # no floor plan: stations on a grid, no bays
    ("houston", {"racks", "aisles", "docks", "chargers", "homes", "shipping"}),
])
def test_the_interactive_window_builds_off_screen(config, extra):
    plant = twin.load(CONFIGS / f"{config}.yaml")
    scene = viz_scene.build(plant)
    from twin.viz import render

    p = render.plotter(scene, size=(200, 150), off_screen=True)
    render.set_camera(p, scene, "iso")
    names = set(p.actors)
    p.close()
    assert any(n.startswith("labels") for n in names)
    drawn = {n for n in names if not n.startswith("labels")}
    assert drawn == {"floor", "grid", "outline", "stations", "title"} | extra


def one_error_line(capsys, *argv) -> str:
    code = cli.main(["view", *map(str, argv)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    return err[0]


def test_bad_input_is_exit_2_with_one_line(tmp_path, capsys):
    line_cfg = CONFIGS / "example-line.yaml"
    houston = CONFIGS / "houston.yaml"
    plant = twin.load(line_cfg)
    other = write_results(tmp_path / "line-results", fake_summary(plant, {"test": 0.5}))
    # a results folder from another plant
    line = one_error_line(capsys, houston, "--results", other, "--screenshot",
                          tmp_path / "x.png")
    assert "from plant 'example-line'" in line and "not from 'houston'" in line
    # a folder without results
    line = one_error_line(capsys, line_cfg, "--results", tmp_path, "--screenshot",
                          tmp_path / "x.png")
    assert "no summary.json there" in line
    # an unwritable output path: its folder does not exist
    line = one_error_line(capsys, line_cfg, "--screenshot", tmp_path / "nope" / "x.png")
    assert line.startswith("error: --screenshot ") and "does not exist" in line
    # a size that is not WxH
    line = one_error_line(capsys, line_cfg, "--size", "big", "--screenshot", tmp_path / "x.png")
    assert "WIDTHxHEIGHT" in line
    # a colour without results; power colours without power figures
    line = one_error_line(capsys, line_cfg, "--color", "busy", "--screenshot",
                          tmp_path / "x.png")
    assert "add --results DIR" in line
    line = one_error_line(capsys, line_cfg, "--results", other, "--color", "power",
                          "--screenshot", tmp_path / "x.png")
    assert "no power figures" in line
    assert not (tmp_path / "x.png").exists()


def test_no_display_and_no_file_writes_a_picture(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    files = app.view(str(CONFIGS / "example-line.yaml"), size="200x150")
    assert files == [Path("example-line-view.png")]
    assert (tmp_path / "example-line-view.png").stat().st_size > 1000
    assert "no display" in capsys.readouterr().err


def test_output_paths_that_cannot_be_files(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(TwinError, match="does not exist"):
        app.view(str(CONFIGS / "example-line.yaml"), screenshot=str(tmp_path / "a-file" / "x.png"),
                 size="200x150")
    with pytest.raises(TwinError, match="is a folder"):
        app.view(str(CONFIGS / "example-line.yaml"), screenshot=str(tmp_path), size="200x150")
