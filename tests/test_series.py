"""Ramp studies' results: per-period summaries by hand, MSER-5 by hand and on known transients,
the warm-up it sets, the target block, and the CSV, chart and table written from them."""

from __future__ import annotations

import csv
import json
import math
import os
import statistics
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from rich.console import Console
from scipy import stats

PYPLOT_PRELOADED = "matplotlib.pyplot" in sys.modules

from twin.results.series import (  # noqa: E402
    auto_warmup,
    mser5,
    needed_horizon_h,
    plot_series,
    series_table,
    summarize_series,
    target_block,
    write_series_csv,
)

pytestmark = pytest.mark.filterwarnings("error")  # NaN periods must not warn either

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STATIONS = ("kit", "test")


def t_half(values) -> float:
    """Half-width of the Student-t 95% interval of ``values``, by scipy.stats.t."""
    return stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def hand_lanes(power: bool = False) -> tuple[dict, np.ndarray, np.ndarray]:
    """3 replications, 4 periods of 10 h (the last 5 h), 2 stations.

    Period 2: only replication 0 has exits; period 3: none has. Station ``test`` has no server
    in force in period 0 (NaN in every replication), ``kit`` none in replication 2 of period 1.
    """
    exits = np.array([[2, 4, 1, 0], [3, 5, 0, 0], [4, 3, 0, 0]], dtype=np.float64)
    ct_sum = np.array([[6, 8, 5, 0], [9, 10, 0, 0], [8, 6, 0, 0]], dtype=np.float64)
    wip = np.array([[1, 2, 3, 4], [2, 2, 3, 4], [3, 2, 3, 5]], dtype=np.float64)
    busy = np.full((3, 4, 2), 0.5)
    busy[:, 0, 1] = np.nan
    busy[2, 1, 0] = np.nan
    busy[:, 1, 0] = [0.25, 0.75, np.nan]
    lanes = {"series.exits": exits, "series.ct_sum": ct_sum, "series.wip": wip,
             "series.busy": busy}
    if power:
        lanes["series.mean_kw"] = np.array([[900, 1100, 1200, 1300]] * 3, dtype=np.float64)
        lanes["series.peak_kw"] = lanes["series.mean_kw"] + np.array([[100], [200], [300]])
    return lanes, np.array([0.0, 10.0, 20.0, 30.0]), np.array([10.0, 10.0, 10.0, 5.0])


def assert_stat(stat: dict, k: int, values: list[float]) -> None:
    """Period k of a per-period figure is the mean and t interval of ``values`` (by hand)."""
    m = statistics.fmean(values)
    half = t_half(values) if len(values) > 1 else 0.0
    assert stat["mean"][k] == pytest.approx(m, abs=1e-12)
    assert stat["ci95"][k] == pytest.approx([m - half, m + half], abs=1e-12)


def test_json_check_can_fail():
    # negative control for every allow_nan=False check below
    with pytest.raises(ValueError):
        json.dumps({"mean": [float("nan")]}, allow_nan=False)


def test_summary_by_hand():
    lanes, start, length = hand_lanes()
    s = summarize_series(lanes, start, length, 10.0, STATIONS)
    json.dumps(s, allow_nan=False)
    assert s["period_h"] == 10.0 and s["start_h"] == [0.0, 10.0, 20.0, 30.0]
    assert s["length_h"] == [10.0, 10.0, 10.0, 5.0]
    tp = s["throughput_per_h"]
    assert_stat(tp, 0, [0.2, 0.3, 0.4])
    assert_stat(tp, 1, [0.4, 0.5, 0.3])
    assert_stat(tp, 2, [0.1, 0.0, 0.0])
    assert tp["mean"][3] == 0.0 and tp["ci95"][3] == [0.0, 0.0]  # no exit is a throughput of 0
    ct = s["cycle_time_h"]
    assert_stat(ct, 0, [3.0, 3.0, 2.0])
    assert_stat(ct, 1, [2.0, 2.0, 2.0])
    assert ct["mean"][2] == 5.0 and ct["ci95"][2] == [5.0, 5.0]  # one replication with exits
    assert ct["mean"][3] is None and ct["ci95"][3] == [None, None]  # none with exits
    assert_stat(s["wip"], 0, [1.0, 2.0, 3.0])
    assert_stat(s["wip"], 3, [4.0, 4.0, 5.0])
    assert set(s["stations"]) == set(STATIONS)
    kit, test = s["stations"]["kit"]["busy"], s["stations"]["test"]["busy"]
    assert_stat(kit, 1, [0.25, 0.75])  # replication 2 had no server in force
    assert test["mean"][0] is None and test["ci95"][0] == [None, None]
    assert_stat(test, 1, [0.5, 0.5, 0.5])
    assert "mean_kw" not in s and "peak_kw" not in s


def test_throughput_of_a_short_last_period_is_per_hour():
    lanes, start, length = hand_lanes()
    lanes["series.exits"][:, 3] = [1.0, 2.0, 3.0]  # over the last period's 5 h
    s = summarize_series(lanes, start, length, 10.0, STATIONS)
    assert_stat(s["throughput_per_h"], 3, [0.2, 0.4, 0.6])


def test_power_series_summarised_when_present():
    lanes, start, length = hand_lanes(power=True)
    s = summarize_series(lanes, start, length, 10.0, STATIONS)
    json.dumps(s, allow_nan=False)
    assert_stat(s["mean_kw"], 1, [1100.0] * 3)
    assert_stat(s["peak_kw"], 2, [1300.0, 1400.0, 1500.0])


def test_one_replication_is_json_safe():
    lanes, start, length = hand_lanes(power=True)
    one = {k: v[:1] for k, v in lanes.items()}
    s = summarize_series(one, start, length, 10.0, STATIONS)
    text = json.dumps(s, allow_nan=False)
    assert "NaN" not in text
    assert s["throughput_per_h"]["ci95"][0] == [0.2, 0.2]
    assert s["stations"]["test"]["busy"]["mean"][0] is None
    assert s["cycle_time_h"]["mean"][3] is None


@pytest.mark.parametrize("key, bad", [
    ("series.wip", np.ones((3, 5))),
    ("series.busy", np.ones((3, 4, 3))),
    ("series.exits", np.full((3, 4), 0.5)),
])
def test_wrong_series_say_which(key, bad):
    lanes, start, length = hand_lanes()
    lanes[key] = bad
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        summarize_series(lanes, start, length, 10.0, STATIONS)


# --- MSER-5 ---------------------------------------------------------------------------------

def mser_by_hand(y: list[float]) -> list[float]:
    """MSER(d) for d = 0 .. m // 2 on batch means of 5, in plain Python."""
    m = len(y) // 5
    z = [statistics.fmean(y[5 * i: 5 * i + 5]) for i in range(m)]
    out = []
    for d in range(m // 2 + 1):
        rest = z[d:]
        mean = statistics.fmean(rest)
        out.append(sum((v - mean) ** 2 for v in rest) / (m - d) ** 2)
    return out


def batches(means: list[float]) -> list[float]:
    """5 observations per batch mean, spread by -2 .. 2 around it."""
    return [z + e for z in means for e in (-2.0, -1.0, 0.0, 1.0, 2.0)]


def test_mser5_by_hand():
    # batch means 0, 10, 10.5, 9.5, 10 (m = 5, d = 0 .. 2):
    # MSER(0) = (64 + 4 + 6.25 + 2.25 + 4) / 5^2 = 3.22
    # MSER(1) = (0 + 0.25 + 0.25 + 0) / 4^2 = 0.03125   <- minimum: drop 1 batch, 5 values
    # MSER(2) = (0.25 + 0.25 + 0) / 3^2 = 0.0556
    y = batches([0.0, 10.0, 10.5, 9.5, 10.0])
    assert mser_by_hand(y) == pytest.approx([3.22, 0.03125, 0.5 / 9])
    assert mser5(y) == 5
    # the remainder at the end is dropped: two wild values after the 25 change nothing
    assert mser5(y + [1e6, -1e6]) == 5


def test_mser5_none_when_the_minimum_is_at_the_half():
    # batch means 0, 5, 10, 10, 10: MSER(0) = 80 / 25 = 3.2, MSER(1) = 18.75 / 16, MSER(2) = 0
    y = batches([0.0, 5.0, 10.0, 10.0, 10.0])
    assert mser_by_hand(y) == pytest.approx([3.2, 18.75 / 16, 0.0])
    assert mser5(y) is None


def test_mser5_agrees_with_the_hand_rule_on_random_series():
    rng = np.random.default_rng(3)
    checked = 0
    for n in (20, 23, 27, 30):
        for _ in range(25):
            y = (rng.normal(size=n) + 3.0 * np.exp(-np.arange(n) / rng.uniform(1, 8))).tolist()
            by_hand = mser_by_hand(y)
            d = by_hand.index(min(by_hand))
            assert mser5(y) == (None if d >= len(y) // 5 // 2 else 5 * d)
            checked += d < len(y) // 5 // 2
    assert checked > 20  # both outcomes were exercised


def test_mser5_too_few_batches():
    assert mser5(batches([0.0, 10.0, 10.0])) is None  # m = 3
    assert mser5(batches([0.0, 10.0, 10.1, 9.9])) == 5  # m = 4: d = 0 .. 2


def test_mser5_constant_series_needs_no_warmup():
    # rounding makes MSER(d) differ by ~1e-30 between d; that must not pick a later point
    for value in (0.1, 0.3, 1 / 3, 123.456):
        assert mser5(np.full(50, value)) == 0


@pytest.mark.parametrize("seed", range(20))
def test_mser5_cuts_an_initial_transient(seed):
    # empty start: rises to 10 with time constant 8 periods, noise sd 0.5, 200 periods
    rng = np.random.default_rng(seed)
    t = np.arange(200.0)
    y = 10.0 - 10.0 * np.exp(-t / 8.0) + rng.normal(0.0, 0.5, t.size)
    point = mser5(y)
    assert point is not None and 16 <= point < 100  # past 2 time constants, before the middle
    assert abs(y[point:].mean() - 10.0) < abs(y.mean() - 10.0)


def test_mser5_none_on_a_series_that_keeps_rising():
    rng = np.random.default_rng(0)
    t = np.arange(200.0)
    assert mser5(0.05 * t + rng.normal(0.0, 0.5, t.size)) is None


def test_mser5_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        mser5([1.0] * 19 + [math.nan])


# --- warm-up ----------------------------------------------------------------------------

# MSER(d) = 0.06 / 7^2 at d = 1, then 0.06 / 6^2, 0.048 / 5^2, 0.04 / 4^2: drop the first batch
TP_BATCHES = [0.0, 1.0, 1.1, 0.9, 1.1, 0.9, 1.1, 0.9]


def ramp_lanes(wip: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray]:
    """2 replications of 10 h periods: 5 periods per value of TP_BATCHES (exits = 10 x value),
    4 more at 1/h, then a last period of 4 h with a wild 100/h (left out by auto_warmup);
    ``wip`` (45,) in every replication."""
    exits = np.concatenate([np.repeat(10.0 * np.array(TP_BATCHES), 5), [10.0] * 4, [400.0]])
    K = exits.size
    lanes = {"series.exits": np.tile(exits, (2, 1)), "series.wip": np.tile(wip, (2, 1))}
    length = np.full(K, 10.0)
    length[-1] = 4.0
    return lanes, 10.0 * np.arange(K), length


def test_auto_warmup_takes_the_later_point():
    # throughput: MSER-5 drops 1 batch (5 periods, 50 h); WIP constant: 0
    lanes, start, length = ramp_lanes(np.full(45, 3.0))
    warmup, diag = auto_warmup(lanes, start, length)
    assert diag == {"throughput": 50.0, "wip": 0.0}
    assert warmup == 50.0
    # with the short last period in, its 100/h would fill a ninth batch and spoil the search
    assert mser5(lanes["series.exits"][0] / length) != 5
    # WIP settles later (empty for 10 periods): its point wins
    wip = np.concatenate([np.zeros(10), 4.0 + np.tile([0.1, -0.1], 18)[:35]])
    assert mser5(wip[:44]) == 10
    lanes, start, length = ramp_lanes(wip)
    warmup, diag = auto_warmup(lanes, start, length)
    assert diag == {"throughput": 50.0, "wip": 100.0} and warmup == 100.0


def test_auto_warmup_none_when_a_series_keeps_drifting():
    lanes, start, length = ramp_lanes(np.arange(45.0))
    warmup, diag = auto_warmup(lanes, start, length)
    assert warmup is None and diag == {"throughput": 50.0, "wip": None}
    json.dumps(diag, allow_nan=False)


def test_needed_horizon():
    assert needed_horizon_h(2000.0, 100.0) == 4000.0  # twice, already whole periods
    assert needed_horizon_h(5000.0, 168.0) == 60 * 168.0  # 59.5 periods rounded up
    assert needed_horizon_h(1000.0, 168.0) == 20 * 168.0  # MSER-5's 20 periods at least


# --- target ------------------------------------------------------------------------------

def target_lanes() -> tuple[dict, np.ndarray, np.ndarray]:
    """4 replications, periods of 8 h (the last 4 h): throughputs exact in binary."""
    exits = np.array([[2, 4, 5, 5, 2],   # /8: .25 .5 .625 .625, last .5  -> 0.5 first in 1
                      [1, 3, 4, 5, 2],   # -> 0.5 first in 2
                      [0, 3, 4, 4, 2],   # -> 0.5 first in 2
                      [0, 2, 3, 3, 1]],  # never 0.5
                     dtype=np.float64)
    lanes = {"series.exits": exits, "series.ct_sum": exits, "series.wip": exits,
             "series.busy": np.full((4, 5, 2), 0.5)}
    return lanes, 8.0 * np.arange(5), np.array([8.0, 8.0, 8.0, 8.0, 4.0])


def test_target_block_by_hand():
    lanes, start, length = target_lanes()
    s = summarize_series(lanes, start, length, 8.0, STATIONS)
    # mean throughput: 3/32, 12/32, 16/32 = 0.5 exactly in period 2
    block = target_block(s, lanes, start, length, 0.5)
    json.dumps(block, allow_nan=False)
    first = block.pop("first_period_per_rep")
    assert block == {"throughput_per_h": 0.5, "period": 2, "start_h": 16.0,
                     "reached_share": 0.75}
    half = stats.t.ppf(0.975, 2) * math.sqrt(1 / 3) / math.sqrt(3)
    assert first["count"] == 3 and first["mean"] == pytest.approx(5 / 3)
    assert first["ci95"] == pytest.approx([5 / 3 - half, 5 / 3 + half])


def test_target_the_mean_never_reaches():
    lanes, start, length = target_lanes()
    s = summarize_series(lanes, start, length, 8.0, STATIONS)
    # 0.6/h: replication 0 in period 2, 1 in period 3; the mean peaks at 17/32
    block = target_block(s, lanes, start, length, 0.6)
    assert block["period"] is None and block["start_h"] is None
    assert block["reached_share"] == 0.5  # by the end
    first = block["first_period_per_rep"]
    assert first["count"] == 2 and first["mean"] == 2.5
    # nobody reaches 1/h: no NaN in the JSON
    block = target_block(s, lanes, start, length, 1.0)
    json.dumps(block, allow_nan=False)
    assert block["reached_share"] == 0.0
    assert block["first_period_per_rep"] == {"mean": None, "ci95": [None, None], "count": 0}


# --- files -------------------------------------------------------------------------------

@pytest.mark.parametrize("power", [False, True], ids=["no power", "power"])
def test_csv_rows_and_columns(tmp_path, power):
    lanes, start, length = hand_lanes(power)
    path = write_series_csv(tmp_path / "series.csv", lanes, start, length, STATIONS)
    assert os.listdir(tmp_path) == ["series.csv"]  # no temporary file left
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["period", "start_h", "length_h", "replication", "exits",
                       "throughput_per_h", "cycle_time_h", "wip",
                       *(["mean_kw", "peak_kw"] if power else []), "busy.kit", "busy.test"]
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(body) == 4 * 3
    assert [(r["period"], r["replication"]) for r in body[:4]] == [
        ("0", "0"), ("0", "1"), ("0", "2"), ("1", "0")]
    row = body[3 * 3 + 0]  # period 3, replication 0: 0 exits in its 5 h
    assert (row["start_h"], row["length_h"], row["exits"]) == ("30.0", "5.0", "0")
    assert float(row["throughput_per_h"]) == 0.0 and row["cycle_time_h"] == "nan"
    row = body[1 * 3 + 1]  # period 1, replication 1: 5 exits, 10 h of cycle time
    assert float(row["throughput_per_h"]) == 0.5 and float(row["cycle_time_h"]) == 2.0
    assert float(row["wip"]) == 2.0 and float(row["busy.kit"]) == 0.75
    assert body[2]["busy.test"] == "nan"  # period 0: no test server in force
    if power:
        assert float(body[2]["peak_kw"]) == 1200.0


def record_axes(monkeypatch) -> list[list[dict]]:
    """As each figure is saved: per axes, its labels and the labels and heights of its lines."""
    seen = []
    save = Figure.savefig

    def recording(fig, *args, **kwargs):
        seen.append([{"x": ax.get_xlabel(), "y": ax.get_ylabel(),
                      "legend": [t.get_text() for t in ax.get_legend().get_texts()],
                      "hlines": [float(line.get_ydata()[0]) for line in ax.lines]}
                     for ax in fig.axes])
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return seen


def test_plot_with_power_target_and_plan(tmp_path, monkeypatch):
    preloaded = PYPLOT_PRELOADED or "matplotlib.pyplot" in sys.modules
    charts = record_axes(monkeypatch)
    lanes, start, length = hand_lanes(power=True)
    s = summarize_series(lanes, start, length, 10.0, STATIONS)
    out = tmp_path / "new" / "series.png"
    assert plot_series(out, s, target_per_h=0.25, plan=[(0.0, 0.2), (15.0, 0.3), (99.0, 1.0)],
                       unit="d", name="Plant A") == out
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert os.listdir(out.parent) == ["series.png"]
    (top, bottom), = charts
    assert top["y"] == "racks/day" and bottom["x"] == "time (days)"
    assert bottom["y"] == "plant power (MW)"  # 1,300 kW
    assert top["legend"] == ["output: 95% CI", "output", "target 6 racks/day",
                             "planned releases"]
    assert top["hlines"] == [pytest.approx(0.25 * 24)]
    assert bottom["legend"] == ["mean power", "peak power: 95% CI", "peak power"]  # no band
    if not preloaded:
        assert "matplotlib.pyplot" not in sys.modules, "series charts went through pyplot"


def test_matplotlib_loads_only_for_the_chart():
    """Summaries, CSV and table leave matplotlib unloaded (0.8 s of import for ``twin run``);
    in a process of its own, where no other test has loaded it."""
    script = ("import sys\n"
              "import twin.results.series\n"
              "sys.exit(3 if 'matplotlib' in sys.modules else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr or "twin.results.series imported matplotlib"


def test_plot_one_replication_without_power(tmp_path, monkeypatch):
    charts = record_axes(monkeypatch)
    lanes, start, length = hand_lanes()
    s = summarize_series({k: v[:1] for k, v in lanes.items()}, start, length, 10.0, STATIONS)
    out = plot_series(tmp_path / "series.png", s)
    assert out.read_bytes()[:8] == PNG_MAGIC
    (only,), = charts
    assert only["y"] == "racks/week" and only["x"] == "time (weeks)"
    assert only["legend"] == ["output"]
    with pytest.raises(ValueError, match="unit 'm'"):
        plot_series(tmp_path / "other.png", s, unit="m")


# --- table -------------------------------------------------------------------------------

def rendered(table) -> str:
    """The table as plain text, runs of white space (the caption's line breaks) as one space."""
    with open(os.devnull, "w") as sink:
        console = Console(width=200, record=True, file=sink)
        console.print(table)
    return " ".join(console.export_text().split())


def test_table_marks_the_target_period():
    lanes, start, length = target_lanes()
    s = summarize_series(lanes, start, length, 8.0, STATIONS)
    table = series_table(s, target_block(s, lanes, start, length, 0.5), unit="h")
    text = rendered(table)
    assert table.row_count == 5
    assert "2 *" in text and "0.500±" in text  # period 2: 16/32 per h
    assert "first period whose mean output reaches 0.5 racks/h" in text
    assert "MW" not in text and "kW" not in text
    text = rendered(series_table(s, target_block(s, lanes, start, length, 0.6)))
    assert "*" not in text and "never reaches 100.8 racks/week" in text


def test_table_shows_a_subset_of_many_periods():
    rng = np.random.default_rng(2)
    L, K = 3, 50
    exits = rng.integers(0, 20, (L, K)).astype(np.float64)
    lanes = {"series.exits": exits, "series.ct_sum": 5.0 * exits,
             "series.wip": rng.random((L, K)), "series.busy": rng.random((L, K, 2)),
             "series.mean_kw": np.full((L, K), 2500.0), "series.peak_kw": np.full((L, K), 3e3)}
    start, length = 24.0 * np.arange(K), np.full(K, 24.0)
    s = summarize_series(lanes, start, length, 24.0, STATIONS)
    target = {"throughput_per_h": 0.5, "period": 7}
    table = series_table(s, target, unit="d", max_rows=20)
    shown = list(range(0, 50, 3)) + [7, 49]
    assert table.row_count == len(shown)
    text = rendered(table)
    assert "19 of 50 periods shown: one in 3, the last and the target's" in text
    assert "7 *" in text and "MW mean" in text and "3.00±0.00" in text
    assert series_table(s, max_rows=50).row_count == 50
