"""Replay of a run's event trace (`twin.viz.replay`): reading and checking the trace, the plant's
state at any time (servers, queues, vehicles along the aisles), videos and the player."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from tests.test_transport import agv, plant, station
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
