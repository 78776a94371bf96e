"""Resource pools: the M/M/c queue a pool makes of its requests, any_of staffing with a time
factor, and shifts (nothing starts off shift; a job in progress finishes), each against an exact
value. docs/transport.md states the rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import twin

TOL = 1e-9
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def plant(stations, pools, interarrival, horizon, warmup=0.0, **extra):
    return twin.config.plant_from_dict({
        "name": "pools", "horizon": f"{horizon!r}h", "warmup": f"{warmup!r}h",
        "source": {"interarrival": interarrival}, "stations": stations, "resources": pools,
        **extra})


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c."""
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    waits = top / (sum(a**n / math.factorial(n) for n in range(c)) + top)
    return waits / (c * mu - lam)


def test_a_pool_is_the_mmc_queue_of_its_requests(backend, stat_seed):
    # a station with far more servers than technicians: each job takes a server at once and
    # then queues for one of 3 technicians, first come first served, for an exponential time
    lam, mu, c = 2.0, 0.8, 3
    p = plant([{"id": "bench", "servers": 40,
                "process": {"dist": "exponential", "mean": f"{1 / mu!r}h"},
                "requires": {"technician": 1}}],
              [{"id": "technician", "count": c}],
              {"dist": "exponential", "mean": f"{1 / lam!r}h"}, 2000.0, 200.0)
    r = twin.simulate(p, replications=32, seed=stat_seed, backend=backend)
    pool = r.summary()["resources"]["technician"]
    expected = erlang_c_wait(lam, mu, c)
    lo, hi = pool["mean_wait_h"]["ci95"]
    assert lo - 0.02 * expected <= expected <= hi + 0.02 * expected
    assert pool["busy"]["mean"] == pytest.approx(lam / (c * mu), rel=0.02)
    # the wait for units is the station's waiting fraction: servers x waiting = lam x Wq
    waiting = r.lanes["station.waiting"][:, 0].mean() * 40
    assert waiting == pytest.approx(lam * expected, rel=0.05)


def test_any_of_takes_the_first_free_alternative_with_its_time_factor(backend):
    # two servers always fed (the source is held): a job takes the technician (1 h) when free,
    # else the humanoid at 2.5 times the time. The technician's jobs end at n + 1 s, the
    # humanoid's at 2.5 n + 2 s: 100 and 40 of them in [10, 110]
    p = plant([{"id": "build", "servers": 2, "buffer": 0, "process": "1h",
                "requires": {"any_of": [{"technician": 1},
                                        {"humanoid": 1, "time_factor": 2.5}]}}],
              [{"id": "technician", "count": 1}, {"id": "humanoid", "count": 1}],
              "1s", 110.0, 10.0)
    r = twin.simulate(p, replications=2, backend=backend)
    assert (r.lanes["exits"] == 140).all()
    np.testing.assert_allclose(r.lanes["resources.busy"], 1.0, atol=TOL)
    np.testing.assert_allclose(r.lanes["resources.mean_wait_h"], 0.0, atol=TOL)
    np.testing.assert_allclose(r.lanes["station.busy"], 1.0, atol=TOL)


def test_all_of_a_set_is_held_together(backend):
    # a job needs 2 technicians and the arm; with 3 technicians only one job runs at a time
    p = plant([{"id": "test", "servers": 3, "buffer": 0, "process": "1h",
                "requires": {"technician": 2, "arm": 1}}],
              [{"id": "technician", "count": 3}, {"id": "arm", "count": 2}], "1s", 50.0, 10.0)
    r = twin.simulate(p, replications=1, backend=backend)
    assert r.lanes["exits"][0] == 40
    busy = r.lanes["resources.busy"][0]
    assert busy == pytest.approx([2 / 3, 1 / 2], abs=TOL)
    assert r.lanes["station.busy"][0, 0] == pytest.approx(1 / 3, abs=TOL)
    assert r.lanes["station.waiting"][0, 0] == pytest.approx(2 / 3, abs=TOL)


def test_shifts_start_nothing_off_shift_and_finish_what_they_started(backend):
    # one technician on weekdays 08:00-16:00, jobs of 1.5 h always waiting: each weekday
    # starts jobs at 8, 9.5, 11, 12.5, 14 and 15.5 (which ends at 17:00), 30 in the week. The
    # server holds a job waiting for the technician from 1 s until 08:00 Monday, from 17:00
    # to 08:00 on four nights, and from 17:00 Friday to the end of the week.
    p = plant([{"id": "bench", "servers": 1, "buffer": 0, "process": "1.5h",
                "requires": {"technician": 1}}],
              [{"id": "technician", "count": 1,
                "shifts": [{"days": WEEKDAYS, "start": "08:00", "end": "16:00"}]}],
              "1s", 168.0)
    r = twin.simulate(p, replications=1, backend=backend)
    assert r.lanes["exits"][0] == 30
    assert r.lanes["resources.busy"][0, 0] == pytest.approx(45 / 168, abs=TOL)
    waiting = (8 - 1 / 3600) + 4 * 15 + (168 - (4 * 24 + 17))
    assert r.lanes["station.waiting"][0, 0] == pytest.approx(waiting / 168, abs=TOL)
    assert r.lanes["station.busy"][0, 0] == pytest.approx(45 / 168, abs=TOL)


def test_night_shifts_cross_midnight_and_the_week_repeats(backend):
    # on 22:00-06:00 starting Sunday night and Monday to Thursday nights, i.e. from Sunday
    # 22:00 into Monday 06:00 (which the week wraps to its start) and so on: 5 nights of 8 h,
    # 40 h a week. Jobs of 1 h always waiting: 40 a week, over two weeks 80.
    p = plant([{"id": "bench", "servers": 1, "buffer": 0, "process": "1h",
                "requires": {"technician": 1}}],
              [{"id": "technician", "count": 1,
                "shifts": [{"days": ["sun", "mon", "tue", "wed", "thu"], "start": "22:00",
                            "end": "06:00"}]}],
              "1s", 336.0)
    r = twin.simulate(p, replications=1, backend=backend)
    # the week starts on shift (Sunday night's shift runs to Monday 06:00): the first job
    # starts at 1 s and ends at 1 h 1 s, so the last of Monday morning's six ends past 06:00
    assert r.lanes["exits"][0] == 80
    assert r.lanes["resources.busy"][0, 0] == pytest.approx(80 / 336, abs=1e-3)


def test_units_are_released_when_processing_ends_not_when_the_job_leaves(backend):
    # the technician frees when test's processing ends even though the job then blocks on a
    # full pack station: blocked time holds no units
    p = plant([{"id": "test", "servers": 2, "buffer": 0, "process": "1h",
                "requires": {"technician": 1}},
               {"id": "pack", "servers": 1, "buffer": 0, "process": "2h"}],
              [{"id": "technician", "count": 1}], "1s", 100.0, 20.0)
    r = twin.simulate(p, replications=1, backend=backend)
    # pack sets the pace (one job per 2 h); test's technician works 1 h of every 2
    assert r.lanes["throughput_per_h"][0] == pytest.approx(0.5, abs=0.02)
    assert r.lanes["resources.busy"][0, 0] == pytest.approx(0.5, abs=0.02)
    assert r.lanes["station.blocked"][0, 0] > 0.2


@pytest.mark.parametrize(("requires", "message"), [
    ({"technician": 0}, "'technician: 0' needs a whole number of units, 1 or more"),
    ({"any_of": [{"technician": 1, "time_factor": -1}]},
     "alternative 1: time_factor -1 must be a number above 0"),
    ({"technican": 1}, "unknown resource 'technican'; did you mean 'technician'?"),
    ({"technician": 1, "time_factor": 2}, "a `time_factor` belongs to an alternative of `any_of`"),
    ({"any_of": []}, "`any_of` needs a list of alternatives"),
    ({"technician": 3}, "needs 3 of 'technician' but the pool has 2"),
])
def test_bad_requires_is_one_line_naming_the_field(requires, message):
    with pytest.raises(twin.ConfigError) as err:
        plant([{"id": "bench", "process": "1h", "requires": requires}],
              [{"id": "technician", "count": 2}], "1h", 10.0)
    text = str(err.value)
    assert "stations[0].requires" in text and message in text
    assert len(text.splitlines()) == 1
