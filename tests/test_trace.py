"""Exact, hand-computed traces with deterministic times.

Each test writes its timeline in a comment and asserts the figures of every replication to
1e-9. Conventions of docs/semantics.md ("The plant", "Order of events", "Statistics") and of
the engine's docstring that these traces pin down:

* the source's first job is ready after the first interarrival time; a job that finds the
  first station full waits at the source, and the next interarrival time starts when it
  enters;
* blocking after service: a finished job whose next station is full keeps its server;
* simultaneous timed events go to the lowest slot (the source, then stations in config order);
* statistics cover the closed window [warmup, horizon]: an exit at exactly the horizon or at
  exactly the warm-up counts, and events at the horizon are applied;
* ``mean_wait_h`` averages over service starts in the window, NaN when there is none.
"""

from __future__ import annotations

import math

import pytest

import twin

TOL = 1e-9


def make_plant(stations: list[dict], interarrival: str, horizon: float, warmup: float = 0.0):
    return twin.config.plant_from_dict({
        "name": "trace", "horizon": f"{horizon!r}h", "warmup": f"{warmup!r}h",
        "source": {"interarrival": interarrival}, "stations": stations,
    })


def lane_row(result, lane: int) -> dict[str, float]:
    """Every figure of one replication: plant figures by name, station ones as ``id.field``."""
    row = {}
    for key, values in result.lanes.items():
        if key.startswith("station."):
            field = key.removeprefix("station.")
            for j, sid in enumerate(result.station_ids):
                row[f"{sid}.{field}"] = float(values[lane, j])
        else:
            row[key] = float(values[lane])
    return row


def matches(row: dict[str, float], expected: dict[str, float]) -> list[str]:
    """Names of the expected figures that ``row`` gets wrong (NaN expects NaN)."""
    wrong = []
    for key, want in expected.items():
        got = row[key]
        if math.isnan(want) and math.isnan(got):
            continue
        if not abs(got - want) <= TOL:
            wrong.append(f"{key}: got {got!r}, expected {want!r}")
    return wrong


def assert_trace(plant, expected: dict[str, float], backend: str,
                 replications: int = 3):
    result = twin.simulate(plant, replications=replications, seed=7, backend=backend)
    for lane in range(replications):
        wrong = matches(lane_row(result, lane), expected)
        assert not wrong, f"replication {lane}:\n  " + "\n  ".join(wrong)
    # deterministic times: the summary's interval collapses onto the value
    s = result.summary()
    for key in ("throughput_per_h", "wip"):
        assert s[key]["mean"] == pytest.approx(expected[key], abs=TOL)
        assert s[key]["ci95"][1] - s[key]["ci95"][0] == pytest.approx(0.0, abs=TOL)
    return result


def assert_timelines(plant, timelines: dict[str, dict], backend: str, replications: int = 256):
    """Every replication follows exactly one of the hand-computed ``timelines``, and each
    timeline occurs (they are equally likely here: missing one has chance below 4 * 0.75^256)."""
    result = twin.simulate(plant, replications=replications, seed=11, backend=backend)
    seen = {name: 0 for name in timelines}
    for lane in range(replications):
        row = lane_row(result, lane)
        fits = [name for name, expected in timelines.items() if not matches(row, expected)]
        assert len(fits) == 1, (
            f"replication {lane} follows none of the hand-computed timelines: "
            + "; ".join(f"{n}: {matches(row, e)}" for n, e in timelines.items()))
        seen[fits[0]] += 1
    assert all(count > 0 for count in seen.values()), seen


def complete(timelines: dict[str, dict], window: float, stations: tuple[str, ...],
             shared: dict | None = None) -> dict:
    """Add the figures every timeline has in common (``shared``, and: throughput from exits,
    no failures, idle what is neither busy nor blocked)."""
    for timeline in timelines.values():
        timeline.update(shared or {})
        timeline["throughput_per_h"] = timeline["exits"] / window
        for sid in stations:
            timeline.setdefault(f"{sid}.blocked", 0.0)
            timeline[f"{sid}.down"] = 0.0
            timeline[f"{sid}.idle"] = 1.0 - timeline[f"{sid}.busy"] - timeline[f"{sid}.blocked"]
    return timelines


# --------------------------------------------------------------------------- blocking line


BLOCKING_LINE = [
    {"id": "a", "servers": 1, "buffer": 0, "process": "1h"},
    {"id": "b", "servers": 1, "buffer": 0, "process": "3h"},
]
# Source every 1 h, a takes 1 h, b takes 3 h, no waiting places: a blocks and the source holds.
#
#  t   event                                                       a        b     source
#  1   job1 ready, enters a                                        busy 1   idle  timer -> 2
#  2   job2 ready: a full, held (source first on the tie);
#      a finishes job1 -> b; job2 enters a                         busy 2   busy 1  timer -> 3
#  3   job3 ready: held; a finishes job2, b full: a blocks        blocked  busy 1  held
#  5   b finishes job1: exit (cycle 5 - 1 = 4); job2 a -> b;
#      job3 enters a                                               busy 3   busy 2  timer -> 6
#  6   job4 ready: held; a finishes job3: blocks                   blocked  busy 2  held
#  8   exit job2 (cycle 8 - 2 = 6); job3 -> b; job4 enters a       ...
#  ... period 3 h: exits at 5, 8, 11, 14, 17, 20 (cycles 4, 6, 6, 6, 6, 6), entries into a at
#      1, 2, 5, 8, 11, 14, 17, 20, departures from a at 2, 5, 8, 11, 14, 17, 20.
# At t = 20 = horizon, b finishes job6 (exit, counted), job7 moves to b, job8 enters a.
# Over [0, 20]: a busy [1, 3] + five 1-h spells = 7 h, blocked six 2-h spells = 12 h, idle
# [0, 1]; b busy [2, 20] = 18 h, idle 2 h; WIP 1 on [1, 2] and 2 on [2, 20]: 37 job-hours.
# Nothing ever waits in a buffer: the held job waits at the source, which is no station.


def test_blocking_line(backend):
    plant = make_plant(BLOCKING_LINE, "1h", horizon=20.0)
    assert_trace(plant, {
        "throughput_per_h": 6 / 20, "exits": 6,
        "cycle_time_h": (4 + 5 * 6) / 6, "cycle_time_p50": 6.0, "cycle_time_p95": 6.0,
        "wip": 37 / 20,
        "jobs_entered": 8, "jobs_exited": 6, "jobs_inside": 2,
        "a.busy": 7 / 20, "a.blocked": 12 / 20, "a.down": 0.0, "a.idle": 1 / 20,
        "a.mean_queue": 0.0, "a.mean_wait_h": 0.0, "a.throughput_per_h": 7 / 20,
        "b.busy": 18 / 20, "b.blocked": 0.0, "b.down": 0.0, "b.idle": 2 / 20,
        "b.mean_queue": 0.0, "b.mean_wait_h": 0.0, "b.throughput_per_h": 6 / 20,
    }, backend)


def test_blocking_line_with_warmup(backend):
    # The same timeline measured over [5, 20] (15 h). The exit at exactly t = 5 (job1, cycle
    # 4) and job2's move a -> b at t = 5 fall in the closed window. a: busy [5, 6], [8, 9],
    # [11, 12], [14, 15], [17, 18] = 5 h, blocked the other 10 h; b busy throughout; 2 jobs
    # inside throughout. Counts since time 0 are unaffected by the warm-up.
    plant = make_plant(BLOCKING_LINE, "1h", horizon=20.0, warmup=5.0)
    assert_trace(plant, {
        "throughput_per_h": 6 / 15, "exits": 6,
        "cycle_time_h": (4 + 5 * 6) / 6, "cycle_time_p50": 6.0, "cycle_time_p95": 6.0,
        "wip": 2.0,
        "jobs_entered": 8, "jobs_exited": 6, "jobs_inside": 2,
        "a.busy": 5 / 15, "a.blocked": 10 / 15, "a.idle": 0.0, "a.down": 0.0,
        "a.mean_queue": 0.0, "a.mean_wait_h": 0.0, "a.throughput_per_h": 6 / 15,
        "b.busy": 1.0, "b.blocked": 0.0, "b.down": 0.0, "b.idle": 0.0,
        "b.mean_queue": 0.0, "b.mean_wait_h": 0.0, "b.throughput_per_h": 6 / 15,
    }, backend)


# --------------------------------------------------------------------------- held source


HELD_STATION = [{"id": "a", "servers": 1, "buffer": 1, "process": "2.5h"}]
# Source every 1 h; one server taking 2.5 h and one waiting place (room for 2 jobs).
#
#  t    event                                               in service  buffer   source
#  1    job1 ready, starts                                  job1        -        timer -> 2
#  2    job2 ready, waits                                   job1        job2     timer -> 3
#  3    job3 ready: a full, held                            job1        job2     held
#  3.5  job1 exits (cycle 2.5); job2 starts (waited 1.5);
#       job3 enters the buffer                              job2        job3     timer -> 4.5
#  4.5  job4 ready: held
#  6    job2 exits (cycle 4); job3 starts (waited 2.5);
#       job4 enters                                         job3        job4     timer -> 7
#  7    job5 ready: held
#  8.5  job3 exits (cycle 5); job4 starts (waited 2.5);
#       job5 enters                                         job4        job5     timer -> 9.5
#  9.5  job6 ready: held; horizon 10.
# Over [0, 10]: the server is busy from 1 on (9 h); the buffer holds job2 [2, 3.5], job3
# [3.5, 6], job4 [6, 8.5], job5 [8.5, 10] = 8 job-hours; service starts at 1, 3.5, 6, 8.5
# after waits 0, 1.5, 2.5, 2.5; WIP 1 on [1, 2] and 2 on [2, 10] (the held job is not
# inside) = 17 job-hours. Cycle times 2.5, 4, 5: median 4, 95th percentile 4 + 0.9 * 1.


def test_held_source(backend):
    plant = make_plant(HELD_STATION, "1h", horizon=10.0)
    assert_trace(plant, {
        "throughput_per_h": 3 / 10, "exits": 3,
        "cycle_time_h": (2.5 + 4 + 5) / 3, "cycle_time_p50": 4.0, "cycle_time_p95": 4.9,
        "wip": 17 / 10,
        "jobs_entered": 5, "jobs_exited": 3, "jobs_inside": 2,
        "a.busy": 0.9, "a.blocked": 0.0, "a.down": 0.0, "a.idle": 0.1,
        "a.mean_queue": 0.8, "a.mean_wait_h": (0 + 1.5 + 2.5 + 2.5) / 4,
        "a.throughput_per_h": 3 / 10,
    }, backend)


def test_held_source_with_warmup(backend):
    # The same timeline over [4, 10] (6 h): exits at 6 and 8.5 (cycles 4 and 5); the buffer
    # holds job3 [4, 6], job4 [6, 8.5], job5 [8.5, 10] = 6 job-hours; starts at 6 and 8.5,
    # both after 2.5 h; the server is busy and 2 jobs are inside throughout.
    plant = make_plant(HELD_STATION, "1h", horizon=10.0, warmup=4.0)
    assert_trace(plant, {
        "throughput_per_h": 2 / 6, "exits": 2,
        "cycle_time_h": 4.5, "cycle_time_p50": 4.5, "cycle_time_p95": 4.95,
        "wip": 2.0, "jobs_entered": 5, "jobs_exited": 3, "jobs_inside": 2,
        "a.busy": 1.0, "a.blocked": 0.0, "a.down": 0.0, "a.idle": 0.0,
        "a.mean_queue": 1.0, "a.mean_wait_h": 2.5, "a.throughput_per_h": 2 / 6,
    }, backend)


# --------------------------------------------------------------------------- rework loop


REWORK_LOOP = [
    {"id": "test", "process": "1h", "next": [{"to": "exit", "p": 0.5}, {"to": "rework", "p": 0.5}]},
    {"id": "rework", "process": "1.5h", "next": "test"},
]
# Source every 3 h; test takes 1 h, then exit or rework (1.5 h) and back to test; horizon 7 h.
# Times are deterministic and only the routing is random: within the horizon each replication
# follows one of four timelines, decided by test's first two routing draws.
#
# job1 ready at 3, tested [3, 4]; first draw at 4:
#   exit:   job1 exits at 4 (cycle 1). job2 (ready at 6) is tested [6, 7]; second draw at
#           t = 7 = horizon:
#           exit   (EE): job2 exits at 7 (cycle 1), counted.
#           rework (ER): job2 moves to rework at 7 and starts there (a start with wait 0).
#   rework: job1 reworked [4, 5.5], tested again [5.5, 6.5]; job2 enters at 6 and waits in
#           test's buffer until 6.5; second draw (job1's) at 6.5:
#           exit   (RE): job1 exits at 6.5 (cycle 3.5); job2 tested [6.5, 7.5].
#           rework (RR): job1 reworked [6.5, 8]; job2 tested [6.5, 7.5].
W = 7.0
REWORK_TIMELINES = complete({
    "EE": {"exits": 2, "cycle_time_h": 1.0, "cycle_time_p50": 1.0, "cycle_time_p95": 1.0,
           "wip": 2 / W, "test.busy": 2 / W, "rework.busy": 0.0, "test.mean_queue": 0.0,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": math.nan,
           "test.throughput_per_h": 2 / W, "rework.throughput_per_h": 0.0,
           "jobs_entered": 2, "jobs_exited": 2, "jobs_inside": 0},
    "ER": {"exits": 1, "cycle_time_h": 1.0, "cycle_time_p50": 1.0, "cycle_time_p95": 1.0,
           "wip": 2 / W, "test.busy": 2 / W, "rework.busy": 0.0, "test.mean_queue": 0.0,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": 0.0,
           "test.throughput_per_h": 2 / W, "rework.throughput_per_h": 0.0,
           "jobs_entered": 2, "jobs_exited": 1, "jobs_inside": 1},
    # job1 inside [3, 6.5], job2 [6, 7]; test busy [3, 4] + [5.5, 7]; starts at test at 3,
    # 5.5 (job1 back, straight to the idle server) and 6.5 (job2, after 0.5 h)
    "RE": {"exits": 1, "cycle_time_h": 3.5, "cycle_time_p50": 3.5, "cycle_time_p95": 3.5,
           "wip": 4.5 / W, "test.busy": 2.5 / W, "rework.busy": 1.5 / W,
           "test.mean_queue": 0.5 / W, "test.mean_wait_h": 0.5 / 3, "rework.mean_wait_h": 0.0,
           "test.throughput_per_h": 2 / W, "rework.throughput_per_h": 1 / W,
           "jobs_entered": 2, "jobs_exited": 1, "jobs_inside": 1},
    "RR": {"exits": 0, "cycle_time_h": math.nan, "cycle_time_p50": math.nan,
           "cycle_time_p95": math.nan,
           "wip": 5 / W, "test.busy": 2.5 / W, "rework.busy": 2 / W,
           "test.mean_queue": 0.5 / W, "test.mean_wait_h": 0.5 / 3, "rework.mean_wait_h": 0.0,
           "test.throughput_per_h": 2 / W, "rework.throughput_per_h": 1 / W,
           "jobs_entered": 2, "jobs_exited": 0, "jobs_inside": 2},
}, W, ("test", "rework"))


def test_rework_loop(backend):
    assert_timelines(make_plant(REWORK_LOOP, "3h", horizon=W), REWORK_TIMELINES, backend)


# --------------------------------------------------------------------------- self-loop


SELF_LOOP = [
    {"id": "a", "process": "1h", "buffer": 3,
     "next": [{"to": "exit", "p": 0.5}, {"to": "a", "p": 0.5}]},
]
# Source every 1 h; one server (1 h), after which a job exits or goes round again, joining the
# back of the queue (FIFO: behind the jobs already waiting); horizon 3 h. The buffer is finite
# only because the run refuses an unlimited one at this offered load (2); it never fills.
#
#  1  job1 enters, served [1, 2]
#  2  job2 ready and queued (the source first on the tie); a done with job1, first draw:
#       E: job1 exits (cycle 1).  R: job1 queues behind job2.
#     either way job2 is served [2, 3] (after no wait)
#  3  job3 ready and queued; a done with job2, second draw:
#       EE: job2 exits (cycle 1); job3 served.     ER: job2 queues behind job3; job3 served.
#       RE: job2 exits (cycle 1); job1, waiting since 2, served.
#       RR: job2 queues behind job1 and job3; job1 served.
# A job going round again counts as a departure (and an arrival) of the station.
W_SELF = 3.0
SELF_LOOP_TIMELINES = complete({
    "EE": {"exits": 2, "cycle_time_h": 1.0, "wip": 2 / W_SELF, "a.mean_queue": 0.0,
           "a.mean_wait_h": 0.0, "jobs_entered": 3, "jobs_exited": 2, "jobs_inside": 1},
    "ER": {"exits": 1, "cycle_time_h": 1.0, "wip": 2 / W_SELF, "a.mean_queue": 0.0,
           "a.mean_wait_h": 0.0, "jobs_entered": 3, "jobs_exited": 1, "jobs_inside": 2},
    # job1 waits [2, 3]: starts at 1, 2, 3 after 0, 0 and 1 h
    "RE": {"exits": 1, "cycle_time_h": 1.0, "wip": 3 / W_SELF, "a.mean_queue": 1 / W_SELF,
           "a.mean_wait_h": 1 / 3, "jobs_entered": 3, "jobs_exited": 1, "jobs_inside": 2},
    "RR": {"exits": 0, "cycle_time_h": math.nan, "wip": 3 / W_SELF, "a.mean_queue": 1 / W_SELF,
           "a.mean_wait_h": 1 / 3, "jobs_entered": 3, "jobs_exited": 0, "jobs_inside": 3},
}, W_SELF, ("a",), shared={"a.busy": 2 / W_SELF, "a.throughput_per_h": 2 / W_SELF})


def test_self_loop_rejoins_the_back_of_the_queue(backend):
    plant = make_plant(SELF_LOOP, "1h", horizon=W_SELF)
    assert_timelines(plant, SELF_LOOP_TIMELINES, backend)


# --------------------------------------------------------------------------- blocking order


BLOCKING_ORDER = [
    {"id": "test", "process": "1h", "buffer": 0,
     "next": [{"to": "exit", "p": 0.5}, {"to": "rework", "p": 0.5}]},
    {"id": "rework", "process": "30min", "next": "test"},
]
# Source every 1 h; test (no waiting place) 1 h, then exit or rework (unlimited buffer, so
# the loop cannot deadlock) 0.5 h and back to test; horizon 3.5 h. Both the held source and
# the rework station wait for test's one place: blocked jobs move in the order in which they
# became blocked, not by slot (the source has the lowest slot).
#
#  t    event
#  1    job1 enters test, tested [1, 2]
#  2    job2 ready: test full, held (blocked order #1: the source, first on the tie);
#       test done with job1, first draw:
#         E: job1 exits (cycle 1);   R: job1 reworked [2, 2.5]
#       either way test is free and job2 enters it at 2, tested [2, 3]
#  2.5  (R) rework done, test full: rework blocks (order #2)
#  3    job3 ready: test full, held (order #3); test done with job2, second draw:
#       EE: job2 exits; job3 enters test.
#       ER: job2 -> rework [3, 3.5], then blocked at 3.5 (test full); job3 enters test.
#       RE: job2 exits; rework (blocked before the source) moves job1 into test [3, 4]; the
#           source stays held.
#       RR: job2 joins rework's buffer; rework moves job1 into test [3, 4] and starts job2
#           [3, 3.5] (wait 0), blocked at 3.5; the source stays held.
# A slot-ordered engine would let job3 in first in RE and RR and keep job1 blocked.
W_ORDER = 3.5
BLOCKING_ORDER_TIMELINES = complete({
    "EE": {"exits": 2, "cycle_time_h": 1.0, "cycle_time_p50": 1.0, "cycle_time_p95": 1.0,
           "wip": 2.5 / W_ORDER, "jobs_entered": 3, "jobs_exited": 2, "jobs_inside": 1,
           "test.busy": 2.5 / W_ORDER, "rework.busy": 0.0,
           "test.throughput_per_h": 2 / W_ORDER, "rework.throughput_per_h": 0.0,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": math.nan,
           "test.mean_queue": 0.0, "rework.mean_queue": 0.0},
    "ER": {"exits": 1, "cycle_time_h": 1.0, "cycle_time_p50": 1.0, "cycle_time_p95": 1.0,
           "wip": 3 / W_ORDER, "jobs_entered": 3, "jobs_exited": 1, "jobs_inside": 2,
           "test.busy": 2.5 / W_ORDER, "rework.busy": 0.5 / W_ORDER,
           "test.throughput_per_h": 2 / W_ORDER, "rework.throughput_per_h": 0.0,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": 0.0,
           "test.mean_queue": 0.0, "rework.mean_queue": 0.0},
    # job1 inside [1, 3.5], job2 [2, 3]
    "RE": {"exits": 1, "cycle_time_h": 1.0, "cycle_time_p50": 1.0, "cycle_time_p95": 1.0,
           "wip": 3.5 / W_ORDER, "jobs_entered": 2, "jobs_exited": 1, "jobs_inside": 1,
           "test.busy": 2.5 / W_ORDER, "rework.busy": 0.5 / W_ORDER,
           "rework.blocked": 0.5 / W_ORDER,
           "test.throughput_per_h": 2 / W_ORDER, "rework.throughput_per_h": 1 / W_ORDER,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": 0.0,
           "test.mean_queue": 0.0, "rework.mean_queue": 0.0},
    # job1 inside [1, 3.5], job2 [2, 3.5]
    "RR": {"exits": 0, "cycle_time_h": math.nan, "cycle_time_p50": math.nan,
           "cycle_time_p95": math.nan,
           "wip": 4 / W_ORDER, "jobs_entered": 2, "jobs_exited": 0, "jobs_inside": 2,
           "test.busy": 2.5 / W_ORDER, "rework.busy": 1 / W_ORDER,
           "rework.blocked": 0.5 / W_ORDER,
           "test.throughput_per_h": 2 / W_ORDER, "rework.throughput_per_h": 1 / W_ORDER,
           "test.mean_wait_h": 0.0, "rework.mean_wait_h": 0.0,
           "test.mean_queue": 0.0, "rework.mean_queue": 0.0},
}, W_ORDER, ("test", "rework"))


def test_blocked_jobs_move_in_blocking_order(backend):
    plant = make_plant(BLOCKING_ORDER, "1h", horizon=W_ORDER)
    assert_timelines(plant, BLOCKING_ORDER_TIMELINES, backend)


# --------------------------------------------------------------------------- backward routing


BACKWARD = [
    {"id": "a", "process": "1h", "buffer": 0, "next": "c"},
    {"id": "b", "process": "2h", "buffer": 0, "next": "exit"},
    {"id": "c", "process": "1h", "buffer": 0, "next": "b"},
]
# Jobs go a -> c -> b -> exit: c routes back up the config list. Source every 1 h. b (2 h)
# is the bottleneck; c blocks on it, a blocks on c, the source holds.
#
#  t  event                                                   a        b        c
#  1  job1 enters a                                           busy1    idle     idle
#  2  job2 ready: held; a done, job1 -> c; job2 enters a      busy2    idle     busy1
#  3  job3 ready: held; (tie: a before c) a done, c full:
#     a blocks; c done, job1 -> b; job2 a -> c; job3 enters a busy3    busy1    busy2
#     (a's blocked job moves once c frees the place, in the same instant)
#  4  job4 held; a done -> blocks; c done -> b full, blocks   blocked  busy1    blocked
#  5  b done: job1 exits (cycle 4); job2 c -> b; job3 a -> c;
#     job4 enters a                                           busy4    busy2    busy3
#  6  job5 held; a done -> blocks; c done -> blocks           blocked  busy2    blocked
#  7  job2 exits (cycle 5); job3 -> b, job4 -> c, job5 -> a   ...
#  ... period 2 h. Entries into a at 1, 2, 3, 5, 7, 9, 11, 13; exits at 5, 7, 9, 11, 13:
#  cycles 4, 5, 6, 6, 6 (the line fills up, then every job spends 6 h); horizon 13.
# Over [0, 13]: a busy [1, 4] then [5, 6], [7, 8], [9, 10], [11, 12] = 7 h, blocked [4, 5],
# [6, 7], [8, 9], [10, 11], [12, 13] = 5 h, idle 1 h. c busy [2, 4], then 1 h in each 2 h
# from 5 on ([5, 6], ..., [11, 12]) = 6 h, blocked [4, 5], [6, 7], ..., [12, 13] = 5 h, idle
# [0, 2] = 2 h. b busy [3, 13] = 10 h. WIP: 1 on [1, 2], 2 on [2, 3], 3 on [3, 13] = 33.
# Departures: a at 2, 3, 5, 7, 9, 11, 13 (7); c at 3, 5, 7, 9, 11, 13 (6); b 5 exits.


def test_backward_routing_line(backend):
    plant = make_plant(BACKWARD, "1h", horizon=13.0)
    assert_trace(plant, {
        "throughput_per_h": 5 / 13, "exits": 5,
        "cycle_time_h": (4 + 5 + 6 + 6 + 6) / 5, "cycle_time_p50": 6.0, "cycle_time_p95": 6.0,
        "wip": 33 / 13,
        "jobs_entered": 8, "jobs_exited": 5, "jobs_inside": 3,
        "a.busy": 7 / 13, "a.blocked": 5 / 13, "a.idle": 1 / 13, "a.throughput_per_h": 7 / 13,
        "c.busy": 6 / 13, "c.blocked": 5 / 13, "c.idle": 2 / 13, "c.throughput_per_h": 6 / 13,
        "b.busy": 10 / 13, "b.blocked": 0.0, "b.idle": 3 / 13, "b.throughput_per_h": 5 / 13,
        "a.mean_queue": 0.0, "b.mean_queue": 0.0, "c.mean_queue": 0.0,
        "a.mean_wait_h": 0.0, "b.mean_wait_h": 0.0, "c.mean_wait_h": 0.0,
        "a.down": 0.0, "b.down": 0.0, "c.down": 0.0,
    }, backend)

