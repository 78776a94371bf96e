"""Replay of a run's event trace (`twin.viz.replay`): reading and checking the trace, the plant's
state at any time (servers, queues, vehicles along the aisles; busy servers and loads by product
and kind), videos and the player, and `--color product|part`."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from tests.test_transport import agv, plant, station
from twin.config import plant_from_dict
from twin.config.geometry import plant_geometry
from twin.errors import TwinError
from twin.run import trace

pv = pytest.importorskip("pyvista")
replay = pytest.importorskip("twin.viz.replay")

# an L of aisles: along y = 20, and up x = 100 to c's dock at (100, 50)
L_FLOOR = {"floor": [140, 70], "aisles": [[[0, 20], [130, 20]], [[100, 20], [100, 60]]],
           "shipping": [130, 20]}


def small_plant():
    """a and b on the long aisle, c up the short one; one AGV (180 m/h) carries jobs from a to
    b and from b to c, so its drives to c turn the corner at (100, 20). Jobs queue at a."""
    c = station("c", 110, "10min")
    c.update(position=[110, 50], dock=[100, 50])
    return plant([station("a", 10, "25min", buffer=4, transport="agv"),
                  station("b", 46, "15min", servers=2, transport="agv"), c],
                 [agv(load_time="3min", unload_time="3min", home=[10, 20], speed=0.05)],
                 interarrival="20min", horizon=8.0, layout=L_FLOOR)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    p = small_plant()
    rows = trace.record(p)
    path = tmp_path_factory.mktemp("replay") / "trace.csv"
    trace.write(str(path), rows)
    return p, rows, path, replay.read_trace(path, p, "small.yaml")


def drives(rows):
    return [r for r in rows if r.kind == "vehicle" and r.arrive_h != ""]


def test_vehicles_drive_along_the_aisles(recorded):
    p, rows, _, tr = recorded
    geo = plant_geometry(p)
    place = {name: i for i, name in enumerate(geo.places)}
    moving = [r for r in drives(rows) if r.arrive_h > r.time_h + 1e-9]
    assert {(r.place, r.to_place) for r in moving} >= {("station:a", "station:b"),
                                              ("station:b", "station:c")}
    for r in moving:
        t0, t1 = r.time_h, r.arrive_h
        start, end = np.array([r.x, r.y]), np.array([r.to_x, r.to_y])
        length = geo.distance[place[r.place], place[r.to_place]]
        assert length / (t1 - t0) == pytest.approx(180.0)  # the AGV's speed in m/h
        np.testing.assert_allclose(replay.state_at(tr, t0).vehicles[0], start, atol=1e-9)
        np.testing.assert_allclose(replay.state_at(tr, t1).vehicles[0], end, atol=1e-9)
        for share in (0.25, 0.5, 0.9):
            st = replay.state_at(tr, t0 + share * (t1 - t0))
            pos = st.vehicles[0]
            assert st.moving[0]
            # a point on a shortest path: as far from each end as the share of the drive says
            # at most, and on the floor's aisles
            assert np.linalg.norm(pos - start) <= share * length + 1e-6
            assert np.linalg.norm(pos - end) <= (1 - share) * length + 1e-6
            assert pos[1] == pytest.approx(20) or pos[0] == pytest.approx(100)
    to_c = next(r for r in moving if r.to_place == "station:c")
    t0, t1 = to_c.time_h, to_c.arrive_h
    # b (46, 20) -> corner (100, 20) -> c's dock (100, 50): 84 m; 63 m in, it is at (100, 29)
    np.testing.assert_allclose(replay.state_at(tr, t0 + 0.75 * (t1 - t0)).vehicles[0],
                               [100, 29], atol=1e-9)
    np.testing.assert_allclose(replay.state_at(tr, t0 + 0.5 * (t1 - t0)).vehicles[0],
                               [88, 20], atol=1e-9)


def test_queues_and_servers_match_the_rows(recorded):
    p, rows, _, tr = recorded
    ids = [s.id for s in p.stations]
    last = {}
    for r in rows:
        if r.kind == "queue":
            last[(r.time_h, r.id)] = r.value
    assert last, "the plant should queue"
    for (t, sid), value in last.items():
        assert replay.state_at(tr, t).queue[ids.index(sid)] == value
    servers = {}  # (station, index) -> state, replayed by hand
    checked = 0
    for i, r in enumerate(rows):
        if r.kind == "server":
            servers[(r.id, r.index)] = r.state
        if i + 1 < len(rows) and rows[i + 1].time_h > r.time_h:  # the state between two times
            t = (r.time_h + rows[i + 1].time_h) / 2
            st = replay.state_at(tr, t)
            for j, sid in enumerate(ids):
                busy = sum(1 for (s, _), v in servers.items() if s == sid and v == "busy")
                assert st.count(j, "busy") == busy
            assert st.servers.sum(axis=1).tolist() == [1, 2, 1]
            checked += 1
    assert checked > 10
    assert replay.state_at(tr, 100.0).exits == sum(r.kind == "exit" for r in rows)
    assert replay.clock(31.5) == "day 2 07:30"


def test_a_video_has_its_frames_and_they_change(recorded, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v3 as iio

    from twin.viz.scene import build

    p, _, _, tr = recorded
    scene = build(p)
    fps, speed = 4, 2.0
    expected = math.ceil(tr.end_h / speed * fps)
    out, n = replay.write_video(scene, tr, tmp_path / "replay.mp4", fps=fps, speed=speed,
                                size=(240, 160), camera="top")
    assert n == expected
    images = list(iio.imiter(out, plugin="FFMPEG"))
    assert len(images) == n
    assert images[0].shape == (160, 240, 3)
    assert np.abs(images[0].astype(int) - images[n // 2].astype(int)).sum() > 0
    assert [f.name for f in tmp_path.iterdir()] == ["replay.mp4"]  # no temporary left
    out, n = replay.write_video(scene, tr, tmp_path / "replay.mp4", fps=fps, speed=speed,
                                size=(240, 160), max_frames=5)
    assert n == 5 and len(list(iio.imiter(out, plugin="FFMPEG"))) == 5


def test_a_gif_and_the_player(recorded, tmp_path):
    from PIL import Image, ImageSequence

    from twin.viz.scene import build

    p, _, _, tr = recorded
    scene = build(p)
    out, n = replay.write_video(scene, tr, tmp_path / "replay.gif", fps=2, speed=2.0,
                                size=(160, 120))
    assert n == math.ceil(tr.end_h / 2.0 * 2)
    with Image.open(out) as gif:  # Pillow merges equal frames, adding up their durations
        durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert sum(durations) == n * 500  # every frame shown for 1/fps s, merged or not
    assert len(durations) > 1  # the picture changes
    player = replay.play(scene, tr, size=(200, 150), off_screen=True, show=False)
    try:
        player.seek(3.0)
        assert player.replay.t == 3.0
        player.toggle(True)
        player.tick()
        assert player.replay.t > 3.0
    finally:
        player.replay.close()


def test_the_replay_legend_stands_alone_over_a_view_coloured_by_results(recorded):
    """`twin view --results DIR --replay TRACE`: the replay colours stations by server state,
    so the results' colour bar, title and bottleneck outline give way to its own legend."""
    import twin
    from twin.viz.scene import STATES, build

    p, _, _, tr = recorded
    summary = twin.simulate(p, replications=2, seed=1).summary()
    scene = build(p, summary, "busy")
    assert scene.bottleneck in scene.station_ids  # the results do name one
    r = replay.Replay(scene, tr, size=(400, 250))
    try:
        shown = r.plotter
        assert dict(shown.scalar_bars) == {}
        assert "bottleneck" not in shown.actors
        title = shown.actors["title"].GetText(2)  # the upper left corner
        assert title == f"{p.name}: replay, stations and racks by server state"
        box = shown.legend
        labels = [box.GetEntryString(i) for i in range(box.GetNumberOfEntries())]
        assert labels == [f"server {s}" for s in STATES] + ["job waiting"] + [
            f"vehicle {v}" for v in replay.VEHICLE_NAMES]
        x, y = box.GetPosition()
        width, height = box.GetPosition2()
        assert x + width <= 1.0 and y >= 0.0 and y + height < 0.4  # the lower right corner
    finally:
        r.close()


def test_a_trace_of_another_plant_or_no_trace(recorded, tmp_path):
    p, _, path, _ = recorded
    other = small_plant().model_copy(update={"stations": [
        s.model_copy(update={"id": f"x{s.id}"}) for s in small_plant().stations]})
    with pytest.raises(TwinError, match=r"this trace is from another plant \(station 'a' is "
                                        r"not in other.yaml\).*twin run other.yaml --trace"):
        replay.read_trace(path, other, "other.yaml")
    with pytest.raises(TwinError, match="no such file"):
        replay.read_trace(tmp_path / "none.csv", p)
    bad = tmp_path / "bad.csv"
    bad.write_text("time_h,kind\n1,server\n")
    with pytest.raises(TwinError, match="not a twin trace"):
        replay.read_trace(bad, p)
    with path.open() as fh:
        table = list(csv.reader(fh))
    table[1][0] = "soon"
    with bad.open("w", newline="") as fh:
        csv.writer(fh).writerows(table)
    with pytest.raises(TwinError, match="line 2: time_h 'soon' is not a number"):
        replay.read_trace(bad, p)
    with pytest.raises(TwinError, match="is a folder"):
        replay.read_trace(tmp_path, p)


def test_twin_view_replays_to_a_video_from_the_command_line(recorded, tmp_path, capsys):
    import yaml

    from twin import cli

    p, _, path, _ = recorded
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(p.model_dump(mode="json", exclude_none=True)))
    out = tmp_path / "replay.gif"
    code = cli.main(["view", str(config), "--replay", str(path), "--video", str(out),
                     "--size", "160x120", "--speed", "2", "--fps", "2"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{out}: 9 frames" in err  # 8 h at 2 h a second, 2 frames a second: 0, 1, ..., 8 h
    assert out.stat().st_size > 0
    # --frames caps the count: the video covers the trace faster, and says so
    args = ["view", str(config), "--replay", str(path), "--video", str(out), "--size", "160x120",
            "--speed", "2", "--fps", "2"]
    code = cli.main([*args, "--frames", "3"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{out}: 3 frames, " in err
    assert "(--frames 3; --frames 9 plays it at --speed 2)" in err
    assert cli.main([*args, "--frames", "0"]) == 2
    assert "--frames 0: must be 1 or more" in capsys.readouterr().err
    # a video needs a trace; a trace of another plant is refused
    assert cli.main(["view", str(config), "--video", str(out)]) == 2
    assert "give --replay TRACE too" in capsys.readouterr().err
    other = tmp_path / "other.yaml"
    other.write_text((Path(__file__).parent.parent / "configs" / "example-line.yaml").read_text())
    assert cli.main(["view", str(other), "--replay", str(path), "--video", str(out)]) == 2
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1 and "another plant" in line


# ------------------------------------------------------------------------------ parts, products

# Orders every 4 h, of product x or y, are kitted (1 h) into two `a` and one `b`; an AGV carries
# each part to its cell (`a`: 1 h at sa, `b`: 3 h at sb), and two servers assemble a set into a
# unit (5 h), so both products are busy and carried at once at times.
PARTS_PLANT = {
    "name": "p", "horizon": "40h", "products": {"x": 0.5, "y": 0.5},
    "source": {"interarrival": "4h"},
    "layout": {"floor": [120, 40], "aisles": [[[0, 20], [120, 20]]], "shipping": [115, 20]},
    "stations": [
        {"id": "kit", "process": "1h", "split": {"a": 2, "b": 1},
         "next": {"by_part": {"a": "sa", "b": "sb"}}, "transport": "agv",
         "position": [10, 10], "footprint": [8, 6]},
        {"id": "sa", "process": "1h", "next": "asm", "position": [35, 10], "footprint": [8, 6]},
        {"id": "sb", "process": "3h", "next": "asm", "position": [55, 10], "footprint": [8, 6]},
        {"id": "asm", "servers": 2, "process": "5h", "assemble": {"a": 2, "b": 1},
         "into": "unit", "position": [85, 10], "footprint": [8, 6]},
    ],
    "transport": [{"id": "agv", "kind": "agv", "count": 2, "speed": 0.05,
                   "load_time": "2min", "unload_time": "2min"}],
}


@pytest.fixture(scope="module")
def parts_recorded(tmp_path_factory):
    p = plant_from_dict(PARTS_PLANT)
    rows = trace.record(p)
    path = tmp_path_factory.mktemp("parts") / "trace.csv"
    trace.write(str(path), rows)
    return p, rows, path, replay.read_trace(path, p, "p.yaml")


def between_rows(rows):
    """(row index, time) halfway between each row and the next later one."""
    for i, r in enumerate(rows[:-1]):
        if rows[i + 1].time_h > r.time_h:
            yield i, (r.time_h + rows[i + 1].time_h) / 2


def test_busy_servers_and_loads_by_product_and_kind_match_the_rows(parts_recorded):
    p, rows, _, tr = parts_recorded
    assert tr.products == ["x", "y"] and tr.parts == ["order", "a", "b", "unit"]
    ids = [s.id for s in p.stations]
    servers, vehicles = {}, {}  # the last row of each server and vehicle, replayed by hand
    seen = set()
    checked = 0
    for i, r in enumerate(rows):
        if r.kind == "server":
            servers[(r.id, r.index)] = r
        if r.kind == "vehicle":
            vehicles[r.index] = r
        if i + 1 == len(rows) or rows[i + 1].time_h == r.time_h:
            continue  # check between this time and the next
        st = replay.state_at(tr, (r.time_h + rows[i + 1].time_h) / 2)
        busy = [s for s in servers.values() if s.state == "busy"]
        for j, sid in enumerate(ids):
            for k, name in enumerate(tr.products):
                n = sum(1 for s in busy if s.id == sid and s.product == name)
                assert st.busy_by_product[j, k] == n, (r.time_h, sid, name)
                seen |= {("busy", name)} if n else set()
            for k, name in enumerate(tr.parts):
                n = sum(1 for s in busy if s.id == sid and s.part == name)
                assert st.busy_by_part[j, k] == n, (r.time_h, sid, name)
        for v in range(tr.vehicle.keys):
            row = vehicles.get(v)
            on_board = row is not None and row.state in ("loading", "loaded", "unloading")
            product = tr.products.index(row.product) if on_board else -1
            part = tr.parts.index(row.part) if on_board else -1
            assert (st.vehicle_product[v], st.vehicle_part[v]) == (product, part), r.time_h
            seen |= {("carried", row.product)} if on_board else set()
        checked += 1
    assert checked > 50
    assert seen == {(what, name) for what in ("busy", "carried") for name in ("x", "y")}
    assert {(r.id, r.part) for r in rows if r.kind == "server" and r.state == "busy"} == {
        ("kit", "order"), ("sa", "a"), ("sb", "b"), ("asm", "unit")}


def test_an_old_trace_without_parts_and_products_still_replays(parts_recorded, tmp_path):
    p, rows, path, tr = parts_recorded
    with path.open(newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][-2:] == ["part", "product"]
    old = tmp_path / "old.csv"
    with old.open("w", newline="") as fh:
        csv.writer(fh).writerows(line[:-2] for line in table)
    before = replay.read_trace(old, p)
    assert before.products == [] and before.parts == []
    for _, t in list(between_rows(rows))[::10]:
        st, was = replay.state_at(tr, t), replay.state_at(before, t)
        np.testing.assert_array_equal(was.servers, st.servers)
        np.testing.assert_array_equal(was.queue, st.queue)
        np.testing.assert_allclose(was.vehicles, st.vehicles)
        assert was.busy_by_product.shape == (4, 0) and (was.vehicle_product == -1).all()
    with pytest.raises(TwinError, match=r"^--color product: the trace .*old.csv has no products "
                                        r".*leave out --color, or record the trace again"):
        replay.color_names(before, "product")
    with pytest.raises(TwinError, match=r"^--color part: .* has no parts"):
        replay.color_names(before, "part")
    assert replay.color_names(tr, "part") == ["order", "a", "b", "unit"]


def test_a_trace_with_a_product_the_plant_lacks_is_from_another_plant(parts_recorded):
    p, rows, _, _ = parts_recorded
    table = {c: ["" if v == "" else str(v) for v in col]
             for c, col in zip(trace.COLUMNS, zip(*rows, strict=True), strict=True)}
    table["product"] = ["z" if v == "x" else v for v in table["product"]]
    with pytest.raises(TwinError, match=r"another plant \(product 'z' is not in plant 'p'\)"):
        replay.trace_from_table(table, p)


def drawn_colours(r, scene) -> list[int]:
    """Which of a replay's station colours (the four state colours, then its product or kind
    colours) each station block is drawn in, from the rendered frame: the nearest in hue to
    the pixel at a fifth of the block's width and a quarter of its depth (clear of the label
    at its centre; lighting darkens the colours, but keeps their hue)."""
    from twin.viz.render import STATE_COLORS, hex_rgb

    image = r.image()
    colours = np.array([hex_rgb(c) for c in [*STATE_COLORS, *r.tag_colors]], dtype=float)
    colours /= np.linalg.norm(colours, axis=1, keepdims=True)
    found = []
    for j in range(len(scene.station_ids)):
        point = scene.lo[j] + np.array([0.2, 0.25, 1.0]) * (scene.hi[j] - scene.lo[j])
        r.plotter.renderer.SetWorldPoint(*point, 1.0)
        r.plotter.renderer.WorldToDisplay()
        x, y, _ = r.plotter.renderer.GetDisplayPoint()
        pixel = image[image.shape[0] - 1 - round(y), round(x)].astype(float)
        found.append(int(np.argmax(colours @ (pixel / np.linalg.norm(pixel)))))
    return found


def test_colour_by_product_draws_busy_servers_and_loads_in_their_products_colours(
        parts_recorded):
    from twin.viz.scene import STATES, build

    p, rows, _, tr = parts_recorded
    scene = build(p)
    # a time when both products are busy (x at one station, y at another)
    t = next(t for _, t in between_rows(rows)
             if (replay.state_at(tr, t).busy_by_product.sum(axis=0) > 0).all())
    plain = replay.Replay(scene, tr, size=(640, 400), camera="top")
    coloured = replay.Replay(scene, tr, size=(640, 400), camera="top", color="product")
    try:
        st = coloured.update(t)
        plain.update(t)
        stations, racks, loads = coloured.colour_codes(st)
        before, _, _ = plain.colour_codes(st)
        assert set(before) <= {0, 1, 2, 3}  # without --color: the four state colours
        for j in range(len(scene.station_ids)):
            if st.busy_by_product[j].any() and before[j] == 1:  # busy: the product's colour
                assert stations[j] == len(STATES) + np.argmax(st.busy_by_product[j])
            else:
                assert stations[j] == before[j]
        assert {len(STATES) + k for k in (0, 1)} <= set(stations)
        # a loaded vehicle takes its load's colour, the others keep theirs
        loaded = st.vehicle_state == replay.VEHICLE_STATES.index("loaded")
        np.testing.assert_array_equal(
            loads, np.where(loaded, len(replay.VEHICLE_COLORS) + st.vehicle_product,
                            replay.VEHICLE_GROUP[st.vehicle_state]))
        box = coloured.plotter.legend
        labels = [box.GetEntryString(i) for i in range(box.GetNumberOfEntries())]
        assert labels == ["server idle", "x: busy or loaded", "y: busy or loaded",
                          "server blocked", "server down", "job waiting", "vehicle idle",
                          "vehicle driving empty", "vehicle loading, unloading",
                          "vehicle charging", "vehicle off"]
        title = coloured.plotter.actors["title"].GetText(2)
        assert title == "p: replay, stations and racks by server state, busy ones by product"
        text = coloured.plotter.actors["clock"].GetText(3)
        waiting = int(st.queue[3])
        assert f"{waiting} parts waiting at assemblies" in text
        busy = st.busy_by_product.sum(axis=0)
        assert f"busy: x {busy[0]}, y {busy[1]}" in text
        # the frames show it: each block in its colour (the busy ones green without --color)
        assert drawn_colours(coloured, scene) == stations.tolist()
        assert drawn_colours(plain, scene) == before.tolist()
        assert stations.tolist() != before.tolist()
    finally:
        plain.close()
        coloured.close()


def test_twin_view_colours_a_replay_by_product_and_refuses_what_it_cannot(
        parts_recorded, recorded, tmp_path, capsys):
    import yaml

    from twin import cli

    _, rows, path, _ = parts_recorded
    config = tmp_path / "p.yaml"
    config.write_text(yaml.safe_dump(PARTS_PLANT))
    out = tmp_path / "parts.gif"
    args = ["view", str(config), "--replay", str(path), "--video", str(out), "--size",
            "160x120", "--speed", "10", "--fps", "1"]
    code = cli.main([*args, "--color", "product"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.stat().st_size > 0

    def one_error_line(*argv):
        code = cli.main(["view", *map(str, argv)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2, err
        assert len(err) == 1, err
        return err[0]

    line = one_error_line(*args[1:], "--color", "products")
    assert "argument --color: invalid choice: 'products'" in line and "'product'" in line
    line = one_error_line(config, "--color", "product", "--screenshot", tmp_path / "a.png")
    assert line.startswith("error: --color product: colours the replay") and \
        "give --replay TRACE too" in line
    # a trace without the two columns, and a plant without products or parts
    with path.open(newline="") as fh:
        table = list(csv.reader(fh))
    old = tmp_path / "old.csv"
    with old.open("w", newline="") as fh:
        csv.writer(fh).writerows(line[:-2] for line in table)
    line = one_error_line(config, "--replay", old, "--video", out, "--color", "product")
    assert line.startswith("error: --color product: the trace") and "has no products" in line
    assert cli.main([*args[:3], str(old), *args[4:]]) == 0  # it replays all the same
    capsys.readouterr()
    small, _, small_trace, _ = recorded
    small_config = tmp_path / "small.yaml"
    small_config.write_text(yaml.safe_dump(small.model_dump(mode="json", exclude_none=True)))
    line = one_error_line(small_config, "--replay", small_trace, "--video", out, "--color",
                          "part")
    assert "--color part: the trace" in line and "has no parts" in line
    assert not (tmp_path / "a.png").exists()
