"""`twin.viz.export`: the layout as binary glTF and OpenUSD, one node or prim per station named
by its id and carrying its servers and measured figures; written atomically; unwritable paths
and a missing usd-core are user errors (TwinError)."""

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.errors import TwinError
from twin.results.report import write_results
from twin.viz.export import write_gltf, write_usd
from twin.viz.scene import build, read_summary

trimesh = pytest.importorskip("trimesh")

ROOT = Path(__file__).resolve().parents[1]
OTHER_NODES = {"Floor", "Aisles", "Docks", "Chargers", "Homes", "Shipping"}


@pytest.fixture(scope="module")
def line():
    return twin.load(ROOT / "configs" / "example-line.yaml")


@pytest.fixture(scope="module")
def houston():
    return twin.load(ROOT / "configs" / "houston.yaml")


@pytest.fixture(scope="module")
def line_summary(line, tmp_path_factory):
    """A real `twin run --out` folder of example-line, read back as `twin view` reads it."""
    result = twin.simulate(line, replications=2, horizon=200, warmup=20, seed=1)
    out = tmp_path_factory.mktemp("line-results")
    write_results(out, result)
    return read_summary(out, line)


def fake_summary(plant) -> dict:
    """A summary shaped like `twin run`'s, with made-up figures (Houston runs are slow)."""
    stations = {}
    for j, st in enumerate(plant.stations):
        busy = (j + 1) / (len(plant.stations) + 1)
        stations[st.id] = {"busy": {"mean": busy, "ci95": [busy, busy]},
                           "blocked": {"mean": 0.0, "ci95": [0.0, 0.0]},
                           "down": {"mean": 0.0, "ci95": [0.0, 0.0]},
                           "idle": {"mean": 1 - busy, "ci95": [1 - busy, 1 - busy]},
                           "mean_queue": {"mean": float(j), "ci95": [0.0, 2.0 * j]},
                           "mean_wait_h": {"mean": None, "ci95": None}}
    return {"name": plant.name, "stations": stations, "bottleneck": plant.stations[-1].id}


def glb_json(path: Path) -> dict:
    """The JSON chunk of a .glb file (glTF 2.0 binary container)."""
    data = path.read_bytes()
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    size, kind = struct.unpack("<I4s", data[12:20])
    assert kind == b"JSON"
    return json.loads(data[20:20 + size])


def node_extras(path: Path) -> dict[str, dict]:
    """Every glTF node's extras by node name (and checks that names are unique)."""
    nodes = glb_json(path)["nodes"]
    names = [n.get("name") for n in nodes]
    assert len(names) == len(set(names)), names
    return {n["name"]: n.get("extras", {}) for n in nodes}


def figure_means(summary: dict, sid: str) -> dict:
    return {k: v["mean"] for k, v in summary["stations"][sid].items()}


# ----------------------------------------------------------------------------- glTF


def test_gltf_example_line_with_results(line, line_summary, tmp_path):
    scene = build(line, line_summary, "busy")
    path = write_gltf(scene, tmp_path / "line.glb")
    assert path == tmp_path / "line.glb"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.glb"]  # no temp file left

    loaded = trimesh.load(path, force="scene")
    ids = [s.id for s in line.stations]
    meshes = set(loaded.graph.nodes_geometry)
    assert meshes == {*ids, "Floor"}  # no layout: no aisles, docks, chargers or homes
    # one node per station, its mesh the block (24 flat-shaded vertices per box)
    for sid in ids:
        assert loaded.graph.transforms.parents[sid] == "Plant"
        _, geom = loaded.graph[sid]
        assert len(loaded.geometry[geom].vertices) == 24
    extras = node_extras(path)
    for j, sid in enumerate(ids):
        got = extras[sid]
        assert got["id"] == sid and got["servers"] == line.stations[j].servers
        want = figure_means(line_summary, sid)
        assert set(want) <= set(got)
        for key, mean in want.items():
            assert got[key] == pytest.approx(mean, nan_ok=True)
        assert got["value"] == pytest.approx(want["busy"])
    bottleneck = line_summary["bottleneck"]
    assert extras[bottleneck]["bottleneck"] is True
    meta = glb_json(path)["scenes"][0]["extras"]
    assert meta["color"] == "busy" and meta["bottleneck"] == bottleneck
    assert meta["stations"] == ids


def test_gltf_colours_follow_the_values(line, line_summary, tmp_path):
    from matplotlib import colormaps

    scene = build(line, line_summary, "busy")
    loaded = trimesh.load(write_gltf(scene, tmp_path / "c.glb"), force="scene")
    for j, sid in enumerate(scene.station_ids):
        _, geom = loaded.graph[sid]
        rgba = np.asarray(loaded.geometry[geom].visual.vertex_colors)
        want = np.round(np.asarray(colormaps["viridis"](scene.values[j]))[:3] * 255)
        assert np.abs(rgba[:, :3] - want).max() <= 1


def test_gltf_houston_layout(houston, tmp_path):
    scene = build(houston)
    path = write_gltf(scene, tmp_path / "houston.glb")
    loaded = trimesh.load(path, force="scene")
    ids = [s.id for s in houston.stations]
    assert set(loaded.graph.nodes_geometry) == {*ids, *OTHER_NODES}
    extras = node_extras(path)
    assert [n for n in extras if n in ids] == ids  # one node each, in config order
    for j, sid in enumerate(ids):
        assert extras[sid] == {"id": sid, "servers": houston.stations[j].servers}
        racks = int(np.sum(scene.bay_station == j))
        _, geom = loaded.graph[sid]
        assert len(loaded.geometry[geom].vertices) == 24 * (1 + racks)  # block and its racks
    assert int(np.sum([extras[s].get("servers", 0) for s in ids])) == int(scene.servers.sum())
    assert extras["Docks"]["count"] == len(scene.docks)
    assert extras["Chargers"]["count"] == len(scene.chargers)
    assert extras["Homes"]["count"] == len(scene.homes)
    # the root turns z-up into glTF's y-up: the plant stands up along +y
    lo, hi = loaded.bounds
    assert hi[1] == pytest.approx(float(scene.hi[:, 2].max()), abs=1e-3)
    assert lo[1] == pytest.approx(-0.05, abs=1e-3)
    assert (hi[0] - lo[0]) == pytest.approx(scene.floor[0], rel=0.02)


def test_gltf_houston_state_colouring(houston, tmp_path):
    summary = fake_summary(houston)
    scene = build(houston, summary, "state")
    extras = node_extras(write_gltf(scene, tmp_path / "state.glb"))
    for j, st in enumerate(houston.stations):
        got = extras[st.id]
        busy = (j + 1) / (len(houston.stations) + 1)
        assert got["busy"] == pytest.approx(busy)
        assert got["mean_wait_h"] is None  # a figure without a mean stays (as null)
        assert got["state"] == ("busy" if busy > 0.5 else "idle")
        assert got["value"] == scene.values[j]
    assert extras[houston.stations[-1].id]["bottleneck"] is True


def test_gltf_replaces_an_old_file(line, tmp_path):
    path = tmp_path / "plant.glb"
    path.write_bytes(b"old")
    write_gltf(build(line), path)
    assert path.read_bytes()[:4] == b"glTF"
    assert [p.name for p in tmp_path.iterdir()] == ["plant.glb"]


def test_gltf_unwritable_path(line, tmp_path):
    scene = build(line)
    missing = tmp_path / "no-such-folder" / "plant.glb"
    with pytest.raises(TwinError) as err:
        write_gltf(scene, missing)
    message = str(err.value)
    assert message.startswith(f"--gltf {missing}: cannot write it (")
    assert message.endswith("); choose a writable path") and "\n" not in message
    folder = tmp_path / "a-folder.glb"
    folder.mkdir()
    with pytest.raises(TwinError, match="cannot write it"):
        write_gltf(scene, folder)
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []  # no temp file left
    with pytest.raises(TwinError, match=r"\.glb"):
        write_gltf(scene, tmp_path / "plant.gltf")


# ----------------------------------------------------------------------------- OpenUSD


@pytest.fixture(scope="module")
def pxr():
    return pytest.importorskip("pxr")


def stage_of(pxr, path: Path):
    stage = pxr.Usd.Stage.Open(str(path))
    assert stage is not None
    return stage


def test_usd_example_line_with_results(pxr, line, line_summary, tmp_path):
    from pxr import UsdGeom

    scene = build(line, line_summary, "busy")
    path = write_usd(scene, tmp_path / "line.usda")
    assert path == tmp_path / "line.usda"
    assert path.read_text().startswith("#usda 1.0")
    assert [p.name for p in tmp_path.iterdir()] == ["line.usda"]
    stage = stage_of(pxr, path)
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert stage.GetDefaultPrim().GetPath() == "/Plant"
    assert stage.GetPrimAtPath("/Plant/Floor").IsValid()
    stations = stage.GetPrimAtPath("/Plant/Stations")
    ids = [s.id for s in line.stations]
    assert [c.GetName() for c in stations.GetChildren()] == ids
    for j, sid in enumerate(ids):
        prim = stations.GetChild(sid)
        assert prim.IsA(UsdGeom.Xform)
        assert prim.GetAttribute("twin:id").Get() == sid
        assert prim.GetAttribute("twin:servers").Get() == line.stations[j].servers
        for key, mean in figure_means(line_summary, sid).items():
            assert prim.GetAttribute(f"twin:{key}").Get() == pytest.approx(mean)
        assert prim.GetAttribute("twin:value").Get() == pytest.approx(scene.values[j])
        block = UsdGeom.Cube(prim.GetChild("Block"))
        box = block.ComputeWorldBound(0, UsdGeom.Tokens.default_).ComputeAlignedRange()
        assert np.allclose(box.GetMin(), scene.lo[j]) and np.allclose(box.GetMax(), scene.hi[j])
        colour = np.array(block.GetDisplayColorAttr().Get()[0])
        assert colour.shape == (3,) and np.all((0 <= colour) & (colour <= 1))
    root = stage.GetPrimAtPath("/Plant")
    assert root.GetAttribute("twin:color").Get() == "busy"
    assert root.GetAttribute("twin:bottleneck").Get() == line_summary["bottleneck"]


def test_usd_houston(pxr, houston, tmp_path):
    from pxr import UsdGeom

    summary = fake_summary(houston)
    scene = build(houston, summary, "queue")
    stage = stage_of(pxr, write_usd(scene, tmp_path / "houston.usda"))
    ids = [s.id for s in houston.stations]
    stations = stage.GetPrimAtPath("/Plant/Stations")
    assert [c.GetName() for c in stations.GetChildren()] == ids
    for j, sid in enumerate(ids):
        prim = stations.GetChild(sid)
        assert prim.GetAttribute("twin:mean_queue").Get() == pytest.approx(float(j))
        assert np.isnan(prim.GetAttribute("twin:mean_wait_h").Get())
        assert prim.GetAttribute("twin:value").Get() == pytest.approx(float(j))
        racks = int(np.sum(scene.bay_station == j))
        rack_prim = prim.GetChild("Racks")
        if racks:
            points = UsdGeom.Mesh(rack_prim).GetPointsAttr().Get()
            assert len(points) == 24 * racks
        else:
            assert not rack_prim.IsValid()
    for name in ("Aisles", "Docks", "Chargers", "Homes", "Shipping"):
        assert stage.GetPrimAtPath(f"/Plant/{name}").IsA(UsdGeom.Mesh), name


def test_usd_binary_and_plain(pxr, houston, tmp_path):
    scene = build(houston)
    stage = stage_of(pxr, write_usd(scene, tmp_path / "h.usdc"))
    assert stage.GetPrimAtPath("/Plant/Stations/burn_in").GetAttribute("twin:servers").Get() \
        == houston.stations[[s.id for s in houston.stations].index("burn_in")].servers
    assert (tmp_path / "h.usdc").read_bytes()[:8] == b"PXR-USDC"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.usdc"]  # no temp folder left
    write_usd(scene, tmp_path / "h.usd")
    assert (tmp_path / "h.usd").read_text().startswith("#usda 1.0")


def test_usd_unwritable_path(pxr, line, tmp_path):
    scene = build(line)
    for name in ("plant.usda", "plant.usdc"):
        missing = tmp_path / "no-such-folder" / name
        with pytest.raises(TwinError) as err:
            write_usd(scene, missing)
        message = str(err.value)
        assert message.startswith(f"--usd {missing}: cannot write it (")
        assert message.endswith("); choose a writable path") and "\n" not in message
    folder = tmp_path / "a-folder.usda"
    folder.mkdir()
    with pytest.raises(TwinError, match="cannot write it"):
        write_usd(scene, folder)
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder.usda"]
    with pytest.raises(TwinError, match=r"\.usda"):
        write_usd(scene, tmp_path / "plant.obj")


def test_usd_without_usd_core(line, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pxr", None)  # `import pxr` now fails
    with pytest.raises(TwinError) as err:
        write_usd(build(line), tmp_path / "plant.usda")
    assert str(err.value) == "--usd needs the usd-core package: pip install -e '.[usd]'"
    assert not (tmp_path / "plant.usda").exists()


def test_usd_station_id_starting_with_a_digit(pxr, line, tmp_path):
    scene = build(line)
    scene.station_ids = ["1st_" + sid for sid in scene.station_ids]  # valid ids, not prim names
    stage = stage_of(pxr, write_usd(scene, tmp_path / "digits.usda"))
    children = stage.GetPrimAtPath("/Plant/Stations").GetChildren()
    assert [c.GetName() for c in children] == ["_" + sid for sid in scene.station_ids]
    assert [c.GetAttribute("twin:id").Get() for c in children] == scene.station_ids
    extras = node_extras(write_gltf(scene, tmp_path / "digits.glb"))
    assert all(extras[sid]["id"] == sid for sid in scene.station_ids)
