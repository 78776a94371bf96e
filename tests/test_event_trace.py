"""The event trace of one replication (``twin run --trace``): exact rows on a hand-computed
plant, the same lane as in a full run, shifts honoured at every start, and bad flags."""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict

import numpy as np
import pytest

import twin
from tests.test_transport import agv, plant, station
from twin.cli import main
from twin.run import trace

HAND = {"stations": [station("a", 10, "30min", buffer=0, transport="agv"),
                      station("b", 46, "15min")],
            "fleets": [agv(load_time="6min", unload_time="6min", home=[10, 20])]}


def rows_of(kind, rows):
    return [r for r in rows if r.kind == kind]


def test_the_trace_of_the_hand_computed_plant():
    rows = trace.record(plant(**HAND))
    vehicle = [(round(r.time_h, 9), r.state, r.place, r.to_place, r.arrive_h)
               for r in rows_of("vehicle", rows)]
    # (time, state, from, to, arrival) of the AGV's first two trips (see test_transport)
    assert vehicle[:7] == [
        (1.5, "to_pickup", "home:agv", "station:a", 1.5),  # the home is a's dock
        (1.5, "loading", "station:a", "", ""),
        (1.6, "loaded", "station:a", "station:b", pytest.approx(2.6)),
        (2.6, "unloading", "station:b", "", ""),
        # job 2's request waits since 2.5, so the AGV drives straight back for it
        (2.7, "to_pickup", "station:b", "station:a", pytest.approx(3.7)),
        (3.7, "loading", "station:a", "", ""),
        (3.8, "loaded", "station:a", "station:b", pytest.approx(4.8)),
    ]
    a = [(round(r.time_h, 9), r.state, r.job) for r in rows_of("server", rows) if r.id == "a"]
    # job 2 leaves at 3.8, and job 3, held at the source, takes the server at that instant
    assert a[:7] == [(1.0, "busy", 0), (1.5, "handover", 0), (1.6, "idle", ""),
                     (2.0, "busy", 1), (2.5, "handover", 1), (3.8, "idle", ""),
                     (3.8, "busy", 2)]
    exits = [round(r.time_h, 9) for r in rows_of("exit", rows)]
    assert exits == [2.95, 5.15]
    loaded = [r for r in rows_of("vehicle", rows) if r.state == "loaded"]
    assert [r.job for r in loaded] == [0, 1, 2]  # jobs in the order they entered


def time_in_states(rows, key, start: float, end: float, initial) -> dict:
    """Hours each ``(key(row), state)`` spends in ``[start, end]``, rows read as step
    functions from time 0, where every key is in ``initial`` until its first row. ``key``
    gives None for rows of other kinds; ``row.state`` is the state, or ``row.value`` where a
    row has no state (queues)."""
    now: dict = {}
    since: dict = {}
    total: dict = defaultdict(float)

    def close(k, until):
        lo, hi = max(since.get(k, 0.0), start), min(until, end)
        if hi > lo:
            total[k, now.get(k, initial)] += hi - lo

    for row in rows:
        k = key(row)
        if k is not None:
            close(k, row.time_h)
            now[k], since[k] = row.state if row.state != "" else row.value, row.time_h
    for k in list(now):
        close(k, end)
    return total


def test_a_traced_replication_is_that_lane_of_a_full_run():
    """The trace's own step functions, integrated over the window, give the figures the full
    run measured for that lane: exits, every station's busy share and mean queue, and the
    fleet's handling and idle shares."""
    from tests.test_transport import mixed_line

    p = mixed_line(agv(speed=0.5, load_time="2min", unload_time="2min"))
    p = p.model_copy(update={"horizon": 150.0})
    r = twin.simulate(p, replications=3, seed=7)
    rows = trace.record(p, replication=2, seed=7)
    lane = {k: v[2] for k, v in r.lanes.items()}
    a, b = p.warmup, p.horizon
    window = [row for row in rows_of("exit", rows) if row.time_h >= a]
    assert len(window) == lane["exits"]
    servers = time_in_states(rows, lambda x: (x.id, x.index) if x.kind == "server" else None,
                             a, b, "idle")
    queues = time_in_states(rows, lambda x: x.id if x.kind == "queue" else None, a, b, 0)
    for j, st in enumerate(p.stations):
        busy = sum(h for ((sid, _), state), h in servers.items()
                   if sid == st.id and state == "busy")
        assert busy / (st.servers * (b - a)) == pytest.approx(lane["station.busy"][j],
                                                              rel=1e-9), st.id
        queue = sum(n * h for (sid, n), h in queues.items() if sid == st.id)
        assert queue / (b - a) == pytest.approx(lane["station.mean_queue"][j], rel=1e-9), st.id
    fleet = time_in_states(rows, lambda x: x.index if x.kind == "vehicle" else None, a, b,
                           "idle")
    vehicle_hours = p.transport[0].count * (b - a)
    handling = sum(h for (_, state), h in fleet.items() if state in ("loading", "unloading"))
    idle = sum(h for (_, state), h in fleet.items() if state == "idle")
    assert handling / vehicle_hours == pytest.approx(lane["transport.handling"][0], rel=1e-9)
    assert idle / vehicle_hours == pytest.approx(lane["transport.idle"][0], rel=1e-9)
    assert 0.1 < lane["transport.handling"][0] < 0.9  # the fleet worked, and not all the time


def test_no_unit_of_a_pool_starts_work_off_shift():
    shifts = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "15:30"},
              {"days": ["sat"], "start": "22:00", "end": "04:00"}]
    p = twin.config.plant_from_dict({
        "name": "shifts", "horizon": "500h",
        "source": {"interarrival": {"dist": "exponential", "mean": "40min"}},
        "stations": [{"id": "build", "servers": 3,
                      "process": {"dist": "exponential", "mean": "1.5h"},
                      "requires": {"any_of": [{"technician": 1}, {"robot": 1}]}},
                     {"id": "check", "servers": 2, "process": {"dist": "exponential",
                                                               "mean": "30min"},
                      "requires": {"technician": 1}}],
        "resources": [{"id": "technician", "count": 2, "shifts": shifts},
                      {"id": "robot", "count": 1}]})
    rows = trace.record(p, seed=3)
    from twin.config.logistics import on_hours

    spans = on_hours(p.resources[0].shifts)

    def on_shift(t):
        h = t % 168
        return any(a <= h < b for a, b in spans)

    held, starts, off_starts = 0, 0, 0
    for r in rows:  # the technician's holdings rise only on shift
        if r.kind == "pool" and r.id == "technician":
            if r.value > held:
                starts += 1
                off_starts += not on_shift(r.time_h)
            held = r.value
    assert starts > 100
    assert off_starts == 0
    # and the robot works round the clock: off shift, build starts jobs with it, each start at
    # an instant the robot is granted, while check, which needs a technician, starts none
    off = [(r.id, r.time_h) for r in rows_of("server", rows)
           if r.state == "busy" and not on_shift(r.time_h)]
    robot, held = [], 0
    for r in rows:
        if r.kind == "pool" and r.id == "robot":
            if r.value > held and not on_shift(r.time_h):
                robot.append(r.time_h)
            held = r.value
    assert len(off) > 100
    assert sorted(t for sid, t in off if sid == "build") == robot
    assert [t for sid, t in off if sid == "check"] == []


def test_trace_files_and_bad_flags(tmp_path, capsys):
    config = tmp_path / "plant.yaml"
    import yaml

    config.write_text(yaml.safe_dump(plant(**HAND).model_dump(mode="json", exclude_none=True)))
    out = tmp_path / "trace.csv"
    assert main(["run", str(config), "--replications", "2", "--trace", str(out),
                 "--trace-replication", "1", "--json"]) == 0
    with out.open() as fh:
        table = list(csv.reader(fh))
    assert tuple(table[0]) == trace.COLUMNS
    assert len(table) > 20
    capsys.readouterr()
    assert main(["run", str(config), "--replications", "2", "--trace", str(out),
                 "--trace-replication", "2"]) == 2
    assert "choose one of the 2 replications, 0 to 1" in capsys.readouterr().err
    assert main(["run", str(config), "--trace-replication", "0"]) == 2
    assert "give --trace FILE too" in capsys.readouterr().err
    assert main(["run", str(config), "--trace", str(tmp_path / "no" / "such" / "t.csv")]) == 2
    assert "cannot write the trace there" in capsys.readouterr().err
    if importlib.util.find_spec("pyarrow") is None:
        assert main(["run", str(config), "--trace", str(tmp_path / "t.parquet")]) == 2
        assert "Parquet needs pyarrow" in capsys.readouterr().err
    else:
        assert main(["run", str(config), "--trace", str(tmp_path / "t.parquet")]) == 0
        import pyarrow.parquet as pq

        assert pq.read_table(tmp_path / "t.parquet").num_rows == len(table) - 1
    assert np.isfinite(float(table[1][0]))
