"""Tests of layout tuning (`twin tune`, twin.tune): a toy line whose optimum is known, common
random numbers within and across batches, resuming an interrupted study (in process and after
Ctrl-C of the command), two workers on one study, best.yaml as the input with only the
variables changed, several objectives with NSGA-II, candidates rejected or failed, every bad
input as one line with exit 2, the search space, and CMA-ES.

Studies live in SQLite, and a study commits hundreds of times: on a disk each commit is a sync
of some milliseconds, so the studies here are kept on /dev/shm (memory) where there is one."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

import twin
from twin import cli
from twin.config import plant_from_dict
from twin.run.simulate import Result, SimulationError, simulate, simulate_batch
from twin.tune import Settings, Tuner, finish
from twin.tune import study as tune_study
from twin.tune.results import pareto_front
from twin.tune.space import Dimension, Space, get_path, set_path
from twin.units import parse_power

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"

# A toy line whose optimum is known: every time is fixed, so every replication is the same and
# a candidate's throughput is exact. prep gives 2 jobs/h per server, test 1 job/h per server; the
# source offers 4 jobs/h (held when prep is full). Throughput >= 2.5 needs test >= 3 and prep >= 2
# (prep 1 caps the line at 2/h); the cheapest such candidate is prep 2, test 3: 80,000 USD.
TOY = """\
# A toy line whose optimum is known: the fewest servers that meet the target.
name: toy-tune
horizon: 30h
warmup: 5h
replications: 2
seed: 3
source:
  interarrival: 15min          # 4 jobs/h, held when the first station is full
stations:
  - id: prep
    servers: 1
    process: 30min             # 2 jobs/h per server
    buffer: 2
  - id: test
    servers: 1
    process: 1h                # 1 job/h per server: the bottleneck
    buffer: 2
tune:
  variables:
    stations.prep.servers: {min: 1, max: 3}
    stations.test.servers: {min: 1, max: 5}
  objectives:
    - minimize: capital_cost
  constraints:
    - {metric: throughput, min: 2.5}
  costs:
    servers: {prep: 10000, test: 20000}
  trials: 24
  batch: 8
  replications: 2
  seed: 1
  reevaluate: {top: 3, replications: 2}
"""
TOY_BEST = {"stations.prep.servers": 2, "stations.test.servers": 3}

# A random line: exponential and lognormal times, so common random numbers matter.
RANDOM_LINE = """\
name: random-line
horizon: 40h
warmup: 4h
replications: 3
seed: 11
source:
  interarrival: {dist: exponential, mean: 30min}
stations:
  - id: a
    servers: 2
    process: {dist: exponential, mean: 40min}
    buffer: 3
  - id: b
    servers: 2
    process: {dist: lognormal, mean: 50min, cv: 0.5}
    buffer: 3
tune:
  variables:
    stations.a.servers: {min: 1, max: 4}
    stations.b.servers: {min: 1, max: 4}
    stations.b.buffer: {min: 1, max: 6}
  objectives:
    - maximize: throughput
  costs:
    servers: {default: 10000}
  trials: 8
  batch: 4
  replications: 2
"""

# Two objectives on the random line: NSGA-II (the sampler `auto` picks for several).
PARETO = RANDOM_LINE.replace("""\
  objectives:
    - maximize: throughput
""", """\
  objectives:
    - maximize: throughput
    - minimize: capital_cost
""").replace("  replications: 2\n", "  replications: 2\n  reevaluate: {top: 4, replications: 2}\n")

# A floor: 'b' may take a place that overlaps 'a'; servers of 'a' are priced against a budget;
# 'a' has an unlimited buffer, so too few servers there overload it.
FLOOR = """\
name: floor-tune
horizon: 20h
warmup: 2h
replications: 2
seed: 5
source:
  interarrival: {dist: exponential, mean: 30min}   # 2 jobs/h
stations:
  - id: a
    servers: 3
    process: {dist: exponential, mean: 1h}
    position: [5, 5]
    footprint: [4, 2]
  - id: b
    servers: 2
    process: {dist: exponential, mean: 1h}
    buffer: 4
    position: [20, 10]
    footprint: [4, 2]
layout:
  floor: [40, 20]
tune:
  variables:
    stations.a.servers: {min: 1, max: 4}
    stations.b.position: {places: [[20, 10], [6, 5], [30, 15]]}
  objectives:
    - maximize: throughput
  constraints:
    - {metric: capital_cost, max: 50000}
  costs:
    servers: {default: 10000}
  trials: 5
  batch: 5
  replications: 2
"""

POWERED = """\
name: powered
horizon: 20h
source:
  interarrival: 1h
stations:
  - id: a
    servers: 2
    process: 1h
    power: {busy: 10MW}
    position: [10, 10]
    footprint: [4, 2]
    dock: [10, 8]
  - id: b
    servers: 1
    process: 30min
    position: [30, 10]
    footprint: [4, 2]
layout:
  floor: [40, 20]
power:
  cap: 30MW
tune:
  variables:
    power.cap: {min: 20MW, max: 40MW}
    stations.a.process: {choices: [1h, {dist: exponential, mean: 1h}]}
    stations.b.buffer: {choices: [2, 4, null]}
    stations.a.position: {region: {x: [6, 27], y: [8, 12]}, step: 4}
  objectives:
    - minimize: peak_power
"""


def _shm_dir(prefix: str) -> Path | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix=prefix, dir=shm))
    return None


@pytest.fixture
def work(tmp_path):
    """A fresh folder for configs and studies (in memory where possible)."""
    folder = _shm_dir("twin-tune-")
    if folder is None:
        yield tmp_path
        return
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def trials_csv(out: Path) -> list[dict[str, str]]:
    import csv

    with open(out / "trials.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["tune", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------------------------
# 1, 5. A toy line whose optimum is known; best.yaml
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy study, run once: (config path, output folder, report, tuner)."""
    folder = _shm_dir("twin-tune-toy-") or tmp_path_factory.mktemp("toy")
    config = write(folder, "toy.yaml", TOY)
    tuner = Tuner(config, Settings(out=str(folder / "out")))
    tuner.run()
    report = finish(tuner)
    yield config, folder / "out", report, tuner
    shutil.rmtree(folder, ignore_errors=True)


def test_the_toy_optimum_is_the_cheapest_feasible_candidate_of_the_grid(toy):
    """Check the premise by brute force: every one of the 15 candidates in one batch."""
    _, _, _, tuner = toy
    grid = [{"stations.prep.servers": p, "stations.test.servers": t}
            for p in range(1, 4) for t in range(1, 6)]
    outcomes = tuner.evaluate(grid, 2, tuner.seed)
    assert all(o.status == "ok" for o in outcomes)
    feasible = [o for o in outcomes if o.feasible]
    assert {tuple(o.values.values()) for o in feasible} == {
        (p, t) for p in (2, 3) for t in (3, 4, 5)}
    cheapest = min(feasible, key=lambda o: o.mean("capital_cost"))
    assert cheapest.values == TOY_BEST
    assert cheapest.mean("capital_cost") == 80000
    assert cheapest.mean("throughput") == pytest.approx(3.0, abs=0.05)
    # fixed times: every replication is the same
    assert np.ptp(cheapest.reps["throughput"]) == 0


def test_tuning_finds_the_toy_optimum(toy):
    _, out, report, tuner = toy
    assert report["best"]["values"] == TOY_BEST
    assert report["best"]["feasible"] is True
    assert report["best"]["rerun"]["capital_cost"]["mean"] == 80000
    assert report["best"]["rerun"]["throughput"]["mean"] == pytest.approx(3.0, abs=0.05)
    assert report["best"]["search"]["capital_cost"] == 80000
    assert report["ranking"][0] == report["best"]["trial"]
    assert report["top_two"]["differ"] is True  # the runner-up costs more, exactly
    assert sum(report["trials"].values()) == 24
    saved = json.loads((out / "report.json").read_text())
    assert saved["best"]["values"] == TOY_BEST
    assert saved["best"]["trial"] == report["best"]["trial"]
    best = yaml.safe_load((out / "best.yaml").read_text())
    servers = {s["id"]: s["servers"] for s in best["stations"]}
    assert servers == {"prep": 2, "test": 3}
    rows = trials_csv(out)
    assert len(rows) == 24
    assert [int(r["trial"]) for r in rows] == list(range(24))
    row = rows[report["best"]["trial"]]
    assert (row["state"], row["stations.prep.servers"], row["stations.test.servers"]) == \
        ("complete", "2", "3")
    assert float(row["capital_cost"]) == 80000
    assert (out / "convergence.png").read_bytes()[:8] == PNG
    assert tuner.counted() == 24


def test_best_yaml_differs_from_the_input_only_in_the_variables(toy):
    _, out, _, _ = toy
    text = (out / "best.yaml").read_text()
    given, best = yaml.safe_load(TOY), yaml.safe_load(text)
    for path, value in TOY_BEST.items():
        assert get_path(given, path) == 1
        assert get_path(best, path) == value
        set_path(given, path, value)
    assert best == given
    # the file itself: the input's lines, comments and layout, but for the two server counts
    changed = [(a, b) for a, b in zip(TOY.splitlines(), text.splitlines(), strict=True) if a != b]
    assert len(text.splitlines()) == len(TOY.splitlines())
    assert changed == [("    servers: 1", "    servers: 2"), ("    servers: 1", "    servers: 3")]
    assert "# 1 job/h per server: the bottleneck" in text
    plant = twin.load(out / "best.yaml")
    assert [s.servers for s in plant.stations] == [2, 3]
    assert plant.tune is not None and plant.name == "toy-tune"


def test_candidate_files_keep_quotes_and_nulls(work):
    """An unquoted '14:00' would read as 840 (YAML 1.1 base 60); `null` stays `null`."""
    text = TOY.replace("    buffer: 2\n  - id: test", "    buffer: null      # unlimited\n"
                       "  - id: test").replace("name: toy-tune", 'name: "14:00"')
    config = write(work, "quoted.yaml", text)
    space = Space(config, twin.load(config))
    assert space.dump({}) == text
    plant = space.plant_for({"stations.test.servers": 4})
    assert plant.name == "14:00"
    assert plant.stations[0].buffer is None


# --------------------------------------------------------------------------------------------
# 2. Common random numbers
# --------------------------------------------------------------------------------------------

A = {"stations.a.servers": 2, "stations.b.servers": 3, "stations.b.buffer": 2}
B = {"stations.a.servers": 1, "stations.b.servers": 1, "stations.b.buffer": 1}
C = {"stations.a.servers": 4, "stations.b.servers": 2, "stations.b.buffer": 6}


def test_equal_candidates_in_a_batch_see_the_same_random_numbers(work):
    tuner = Tuner(write(work, "line.yaml", RANDOM_LINE), Settings(out=str(work / "out")))
    first, other, again = tuner.evaluate([A, B, A], 3, 7)
    assert first.status == again.status == other.status == "ok"
    assert first.reps["throughput"].shape == (3,)
    assert np.array_equal(first.reps["throughput"], again.reps["throughput"])
    assert np.ptp(first.reps["throughput"]) > 0  # random: the replications differ
    assert not np.array_equal(first.reps["throughput"], other.reps["throughput"])
    # a candidate measures the same whichever others share its batch, and wherever it stands
    alone = tuner.evaluate([A], 3, 7)[0]
    behind = tuner.evaluate([C, A], 3, 7)[1]
    for out in (alone, behind):
        assert np.array_equal(out.reps["throughput"], first.reps["throughput"])
    assert np.array_equal(tuner.evaluate([B, C], 3, 7)[0].reps["throughput"],
                          other.reps["throughput"])
    # another seed: other random numbers
    assert not np.array_equal(tuner.evaluate([A], 3, 8)[0].reps["throughput"],
                              first.reps["throughput"])


def test_simulate_batch_equal_scenarios_and_independence(work):
    tuner = Tuner(write(work, "line.yaml", RANDOM_LINE), Settings(out=str(work / "out")))
    pa, pb, pc = (tuner.space.plant_for(v) for v in (A, B, C))
    together = simulate_batch([pa, pc, pa], 3, 7)
    assert all(isinstance(r, Result) for r in together)
    for key, value in together[0].lanes.items():
        assert np.array_equal(value, together[2].lanes[key]), key
    assert not np.array_equal(together[0].lanes["throughput_per_h"],
                              together[1].lanes["throughput_per_h"])
    alone = simulate_batch([pa], 3, 7)[0]
    swapped = simulate_batch([pc, pa], 3, 7)[1]
    run = simulate(pa, replications=3, seed=7)  # one scenario: what simulate gives
    assert (run.replications, run.seed) == (3, 7)
    for other in (alone, swapped, run):
        for key, value in together[0].lanes.items():
            assert np.array_equal(value, other.lanes[key]), key
    # a candidate of single servers gives the same figures alone and beside others
    single = simulate_batch([pb], 3, 7)[0]
    mixed = simulate_batch([pa, pb], 3, 7)[1]
    assert single.lanes.keys() == mixed.lanes.keys()
    for key, value in single.lanes.items():
        assert np.array_equal(value, mixed.lanes[key]), key


def test_simulate_batch_an_overloaded_scenario_does_not_stop_the_others(work):
    tuner = Tuner(write(work, "line.yaml", RANDOM_LINE), Settings(out=str(work / "out")))
    pa = tuner.space.plant_for(A)
    # 'b' with an unlimited buffer and one slow server behind a fast 'a': only the run sees
    # its queue grow, since the full 'a' holds the source back
    data = yaml.safe_load(tuner.space.dump({"stations.a.servers": 4, "stations.b.servers": 1}))
    del data["stations"][1]["buffer"]
    data["stations"][1]["process"] = "2h"
    over = plant_from_dict(data)
    results = simulate_batch([pa, over, pa], 3, 7)
    assert isinstance(results[1], SimulationError)
    assert "station 'b' is overloaded" in str(results[1])
    alone = simulate_batch([pa], 3, 7)[0]
    for r in (results[0], results[2]):
        assert isinstance(r, Result)
        assert np.array_equal(r.lanes["throughput_per_h"], alone.lanes["throughput_per_h"])


# --------------------------------------------------------------------------------------------
# 3. Resume
# --------------------------------------------------------------------------------------------


def test_a_study_interrupted_mid_batch_resumes_where_it_stopped(work):
    config = write(work, "line.yaml", RANDOM_LINE)
    settings = {"out": str(work / "out"), "trials": 8, "batch": 4}
    tuner = Tuner(config, Settings(**settings))
    batches = []

    def stop_in_second_batch(frac: float) -> None:
        if len(batches) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tuner.run(on_batch=lambda *a: batches.append(a), progress=stop_in_second_batch)
    states = optuna.trial.TrialState
    before = {t.number: t for t in tuner.study.get_trials()}
    assert [before[n].state for n in range(8)] == [states.COMPLETE] * 4 + [states.RUNNING] * 4
    assert tuner.counted() == 8  # in flight: counted while its process lives

    again = Tuner(config, Settings(**settings, resume=True))
    again.run()
    assert again.counted() == 8
    trials = {t.number: t for t in again.study.get_trials()}
    assert len(trials) == 12
    for n in range(4):  # finished before the interruption: kept as they were
        assert trials[n].state == states.COMPLETE
        assert trials[n].params == before[n].params
        assert trials[n].values == before[n].values
        assert trials[n].user_attrs == before[n].user_attrs
    for n in range(4, 8):  # in flight: marked failed, asked again first
        assert trials[n].state == states.FAIL
        assert "status" not in trials[n].user_attrs
        retry = trials[n + 4]
        assert retry.state == states.COMPLETE
        assert retry.user_attrs["retry_of"] == n
        assert retry.params == before[n].params
        assert retry.user_attrs["values"] == before[n].user_attrs["values"]
        assert retry.user_attrs["owner"] == again.owner
    # a retried candidate measures what it would have measured uninterrupted
    retried = trials[4]
    fresh = again.evaluate([retried.user_attrs["values"]], again.replications, again.seed)[0]
    assert trials[8].values[0] == fresh.mean("throughput")

    report = finish(again)
    assert report["trials"]["complete"] + report["trials"]["infeasible"] == 8
    assert report["trials"]["interrupted"] == 4
    rows = trials_csv(work / "out")
    assert [r["state"] for r in rows[4:8]] == ["interrupted"] * 4
    # resumed again with the study full: nothing more runs
    third = Tuner(config, Settings(**settings, resume=True))
    third.run()
    assert len(third.study.get_trials()) == 12


def _wait_for_complete(storage: str, name: str, proc: subprocess.Popen, timeout: float) -> int:
    """Poll the study until a trial is complete; return how many are."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            done = len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
        except Exception:  # noqa: BLE001 - the file or the study is not there yet
            done = 0
        if done:
            return done
        time.sleep(0.05)
    raise AssertionError("no trial finished in time")


def test_ctrl_c_of_twin_tune_then_resume(work, capsys):
    # long runs (each batch of 3 candidates about a second), so that Ctrl-C falls mid-study
    config = write(work, "slow.yaml", TOY.replace("horizon: 30h", "horizon: 200000h"))
    out = work / "out"
    storage = f"sqlite:///{out / 'study.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin.cli", "tune", str(config), "--out", str(out),
         "--trials", "9", "--batch", "3"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_complete(storage, "toy-tune", proc, timeout=60)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted: the finished trials are saved in " + storage in stderr
    assert "--resume" in stderr
    assert not (out / "report.json").exists()
    study = optuna.load_study(study_name="toy-tune", storage=storage)
    kept = {t.number: t.values for t in study.get_trials(
        states=(optuna.trial.TrialState.COMPLETE,))}
    assert 1 <= len(kept) < 9  # stopped after its first told trial, before the last
    # in flight: the candidates asked and chosen (one asked but not yet suggested has none)
    in_flight = [t.number for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                 if t.params]

    code, stdout, _ = run_cli(capsys, config, "--out", out, "--trials", 9, "--batch", 3,
                              "--resume", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["trials"]["complete"] + report["trials"]["infeasible"] == 9
    study = optuna.load_study(study_name="toy-tune", storage=storage)
    complete = {t.number: t.values for t in study.get_trials(
        states=(optuna.trial.TrialState.COMPLETE,))}
    assert len(complete) == 9
    assert all(complete[n] == v for n, v in kept.items())
    # every candidate that was in flight at the interruption was asked again
    retried = {t.user_attrs.get("retry_of") for t in study.get_trials()}
    assert set(in_flight) <= retried
    assert (out / "report.json").exists() and (out / "best.yaml").exists()


# --------------------------------------------------------------------------------------------
# 4. Two workers on one study
# --------------------------------------------------------------------------------------------


def test_two_workers_share_one_study(work, capsys):
    # batches long enough that neither worker can finish the study before the other starts
    config = write(work, "toy.yaml", TOY.replace("horizon: 30h", "horizon: 60h"))
    storage = f"sqlite:///{work / 'shared.db'}"
    args = ["tune", str(config), "--worker", "--storage", storage, "--study", "shared",
            "--trials", "8", "--batch", "2", "--out", str(work / "out")]
    procs = [subprocess.Popen([sys.executable, "-m", "twin.cli", *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "worker done: study 'shared' has" in err
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) >= 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    owners = {t.user_attrs["owner"] for t in trials}
    pids = {int(o.split(":")[1]) for o in owners}
    assert pids == {p.pid for p in procs}
    assert not (work / "out" / "report.json").exists()  # workers write no report

    code, stdout, err = run_cli(capsys, config, "--storage", storage, "--study", "shared",
                                "--trials", 8, "--out", work / "out", "--resume", "--json")
    assert code == 0, err
    assert len(optuna.load_study(study_name="shared", storage=storage).get_trials()) == \
        len(trials)
    report = json.loads((work / "out" / "report.json").read_text())
    assert json.loads(stdout)["best"]["trial"] == report["best"]["trial"]
    # the report covers both workers' trials: its best is the cheapest feasible of them all
    feasible = [t for t in trials if t.user_attrs["feasible"]]
    assert report["best"]["search"]["capital_cost"] == min(t.values[0] for t in feasible)
    assert report["trials"]["complete"] == len(feasible)
    assert report["trials"]["complete"] + report["trials"]["infeasible"] == len(trials)


# --------------------------------------------------------------------------------------------
# 6. Several objectives
# --------------------------------------------------------------------------------------------


def test_pareto_front_by_hand():
    points = np.array([[1, 1], [2, 3], [3, 5], [2, 4], [1, 2], [3, 5]], dtype=float)
    # throughput up, cost down: (2, 4) loses to (2, 3), (1, 2) to (1, 1); equal points stay
    assert pareto_front(points, ["maximize", "minimize"]).tolist() == [0, 1, 2, 5]
    assert pareto_front(points, ["minimize", "minimize"]).tolist() == [0]
    assert pareto_front(points, ["maximize", "maximize"]).tolist() == [2, 5]
    assert pareto_front(np.array([[4.0], [2.0], [2.0]]), ["minimize"]).tolist() == [1, 2]
    assert pareto_front(np.zeros((0, 2)), ["minimize", "minimize"]).tolist() == []


def test_two_objectives_give_a_pareto_front(work):
    config = write(work, "pareto.yaml", PARETO)
    out = work / "out"
    tuner = Tuner(config, Settings(out=str(out)))
    tuner.open()
    assert isinstance(tuner.study.sampler, optuna.samplers.NSGAIISampler)
    tuner.run()
    report = finish(tuner)
    assert "best" not in report
    front = report["pareto"]
    assert len(front) >= 2
    means = [(e["rerun"]["throughput"]["mean"], e["rerun"]["capital_cost"]["mean"])
             for e in front]
    for i, (x, c) in enumerate(means):
        for j, (x2, c2) in enumerate(means):
            if i != j:
                assert not (x2 >= x and c2 <= c and (x2 > x or c2 < c)), (front[i], front[j])
    for e in front:
        path = out / f"pareto-{e['trial']}.yaml"
        assert e["file"] == str(path)
        plant = twin.load(path)
        a, b = plant.stations
        assert (a.servers, b.servers, b.buffer) == tuple(e["values"].values())
        assert e["rerun"]["capital_cost"]["mean"] == 10000 * (a.servers + b.servers)
    names = sorted(p.name for p in out.glob("pareto-*.yaml"))
    assert names == sorted(f"pareto-{e['trial']}.yaml" for e in front)
    for chart in ("pareto.png", "convergence.png"):
        assert (out / chart).read_bytes()[:8] == PNG
        assert str(out / chart) in report["files"]
    assert not (out / "best.yaml").exists()


# --------------------------------------------------------------------------------------------
# 7. Candidates rejected before simulating, and failed ones
# --------------------------------------------------------------------------------------------


def test_rejected_and_failed_candidates(work, monkeypatch):
    simulated = []

    def spy(plants, *args, **kwargs):
        simulated.append([(p.stations[0].servers, list(p.stations[1].position)) for p in plants])
        return simulate_batch(plants, *args, **kwargs)

    monkeypatch.setattr(tune_study, "simulate_batch", spy)
    out = work / "out"
    tuner = Tuner(write(work, "floor.yaml", FLOOR), Settings(out=str(out)))
    study = tuner.open()
    # servers of 'a', index of b's place: fine; b overlaps a; over budget; overloaded; fine
    for a, place in [(3, 0), (3, 1), (4, 0), (1, 2), (3, 2)]:
        study.enqueue_trial({"stations.a.servers": a, "stations.b.position": place})
    tuner.run()
    assert simulated == [[(3, [20.0, 10.0]), (1, [30.0, 15.0]), (3, [30.0, 15.0])]]
    report = finish(tuner)
    assert report["trials"] == {"complete": 2, "infeasible": 0, "rejected": 2, "failed": 1,
                                "interrupted": 0, "running": 0}
    rows = trials_csv(out)
    assert [r["state"] for r in rows] == ["complete", "rejected", "rejected", "failed",
                                          "complete"]
    assert rows[1]["stations.b.position"] == "[6.0, 5.0]"
    assert rows[1]["reason"].startswith("stations[1].position: stations 'a' at [5, 5]")
    assert "overlap" in rows[1]["reason"]
    assert rows[2]["reason"] == "capital cost 60,000 USD is above the budget 50,000"
    assert rows[3]["reason"].startswith("station 'a' is overloaded: offered load 2.00")
    for row in rows[1:4]:  # nothing measured
        assert row["throughput"] == row["capital_cost"] == row["feasible"] == ""
    for row in (rows[0], rows[4]):
        assert row["feasible"] == "True" and float(row["capital_cost"]) == 50000
        assert 0 < float(row["throughput"]) <= 2.5
    trials = study.get_trials()
    assert [t.user_attrs["status"] for t in trials] == ["ok", "rejected", "rejected", "failed",
                                                       "ok"]
    assert report["best"]["values"]["stations.a.servers"] == 3


# --------------------------------------------------------------------------------------------
# 8. Bad input: one line, exit 2, naming the file and the field
# --------------------------------------------------------------------------------------------


def one_line_error(capsys, *args) -> str:
    code, _, err = run_cli(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("old, new, field, says", [
    ("stations.test.servers: {min: 1, max: 5}", "stations.tset.servers: {min: 1, max: 5}",
     "tune.variables.stations.tset.servers",
     "`stations` has no item `tset`; its ids are: prep, test"),
    ("stations.test.servers: {min: 1, max: 5}", "stations.test.nservers: {min: 1, max: 5}",
     "tune.variables.stations.test.nservers", "has no field `nservers`"),
    ("stations.test.servers: {min: 1, max: 5}", "stations.test.servers: {min: 5, max: 1}",
     "tune.variables.stations.test.servers", "the range [5, 1] is empty"),
    ("stations.test.servers: {min: 1, max: 5}", "stations.test.servers: {min: 0, max: 5}",
     "tune.variables.stations.test.servers", "the value 0 is not valid there"),
    ("minimize: capital_cost", "minimize: peak_power", "tune.objectives[0]",
     "'peak_power' needs power figures, and the plant draws no power"),
    ("minimize: capital_cost", "minimize: thruput", "tune.objectives[0]",
     "the results have no metric 'thruput'"),
    ("{metric: throughput, min: 2.5}", "{metric: throughput, min: 3, max: 2}",
     "tune.constraints[0]", "no value can meet both"),
])
def test_bad_tune_sections(work, capsys, old, new, field, says):
    assert old in TOY
    config = write(work, "bad.yaml", TOY.replace(old, new))
    line = one_line_error(capsys, config, "--out", work / "out")
    assert str(config) in line
    assert field in line
    assert says in line
    assert not (work / "out").exists()


def test_a_config_without_a_tune_section(work, capsys):
    config = write(work, "plain.yaml", TOY.split("tune:")[0])
    line = one_line_error(capsys, config, "--out", work / "out")
    assert line == f"error: {config}: no `tune:` section; add one with `variables` and " \
                   "`objectives` (see docs/tuning.md)"


def test_an_unwritable_out_folder(work, capsys):
    config = write(work, "toy.yaml", TOY)
    blocker = write(work, "a-file", "")
    line = one_line_error(capsys, config, "--out", blocker / "sub")
    assert f"--out {blocker}" in line and "cannot write there" in line


def test_studies_that_exist_or_do_not(work, capsys):
    config = write(work, "toy.yaml", TOY)
    out = work / "out"
    storage = f"sqlite:///{out / 'study.db'}"
    line = one_line_error(capsys, config, "--out", out, "--resume")
    assert line == f"error: --resume: no study 'toy-tune' in {storage}; run without --resume " \
                   "to start it"
    code, _, err = run_cli(capsys, config, "--out", out, "--trials", 2, "--batch", 2, "--json")
    assert code == 0, err
    line = one_line_error(capsys, config, "--out", out, "--trials", 2)
    assert line == f"error: study 'toy-tune' already exists in {storage}; add --resume to " \
                   "continue it, or --study NAME for a new one"
    changed = write(work, "toy.yaml", TOY.replace("process: 1h ", "process: 50min"))
    line = one_line_error(capsys, changed, "--out", out, "--resume")
    assert line == f"error: study 'toy-tune' in {storage} was made from another plant or tune " \
                   f"section than {changed}; use --study NAME for a new study"
    # only how long to search changed: the same study
    longer = write(work, "toy.yaml", TOY.replace("trials: 24", "trials: 3"))
    code, stdout, err = run_cli(capsys, longer, "--out", out, "--resume", "--json")
    assert code == 0, err
    assert sum(json.loads(stdout)["trials"].values()) == 3


# --------------------------------------------------------------------------------------------
# 9. The search space
# --------------------------------------------------------------------------------------------


@pytest.fixture
def powered(work):
    config = write(work, "powered.yaml", POWERED)
    return Space(config, twin.load(config))


def test_region_positions_are_grid_points_inside_the_region(powered):
    (dim,) = [d for d in powered.dimensions if d.path == "stations.a.position"]
    assert dim.kind == "region"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(40):
        trial = study.ask()
        x, y = dim.suggest(trial)
        seen.add((x, y))
        xs, ys = (trial.distributions[f"stations.a.position.{a}"] for a in "xy")
        assert (xs.low, xs.high, ys.low, ys.high) == (0, 5, 0, 1)  # x 6..26, y 8..12, step 4
    assert seen <= {(6.0 + 4 * i, 8.0 + 4 * j) for i in range(6) for j in range(2)}
    assert len(seen) > 6
    fixed = optuna.trial.FixedTrial({"stations.a.position.x": 5, "stations.a.position.y": 1})
    assert dim.suggest(fixed) == [26.0, 12.0]


def test_places_pick_from_the_list(work):
    config = write(work, "floor.yaml", FLOOR)
    space = Space(config, twin.load(config))
    (dim,) = [d for d in space.dimensions if d.kind == "places"]
    for index, place in enumerate([[20, 10], [6, 5], [30, 15]]):
        assert dim.suggest(optuna.trial.FixedTrial({dim.path: index})) == place
    trial = optuna.create_study().ask()
    dim.suggest(trial)
    assert trial.distributions[dim.path].choices == (0, 1, 2)


def test_quantity_ranges_are_written_back_with_units(powered):
    (dim,) = [d for d in powered.dimensions if d.path == "power.cap"]
    assert dim.kind == "quantity"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    caps = []
    for _ in range(10):
        written = dim.suggest(study.ask())
        assert isinstance(written, str)
        assert written.rstrip("kMW") != written  # a power with its unit, not a bare number
        kw = parse_power(written)
        assert 20000 <= kw <= 40000
        caps.append(kw)
        assert f"  cap: {written}\n" in powered.dump({"power.cap": written})
        assert powered.plant_for({"power.cap": written}).power.cap == pytest.approx(kw)
    assert len(set(caps)) == 10  # continuous


def test_choices(powered):
    dims = {d.path: d for d in powered.dimensions}
    process, buffer = dims["stations.a.process"], dims["stations.b.buffer"]
    assert process.kind == buffer.kind == "choice"
    assert [buffer.suggest(optuna.trial.FixedTrial({buffer.path: c})) for c in (2, 4, None)] \
        == [2, 4, None]
    # a mapping among the choices: Optuna picks its index, the file gets the mapping
    exp = process.suggest(optuna.trial.FixedTrial({process.path: 1}))
    assert exp == {"dist": "exponential", "mean": "1h"}
    assert process.suggest(optuna.trial.FixedTrial({process.path: 0})) == "1h"
    plant = powered.plant_for({process.path: exp, buffer.path: None})
    assert plant.stations[0].process.mean() == 1.0
    assert plant.stations[1].buffer is None
    assert powered.plant_for({buffer.path: 4}).stations[1].buffer == 4


def test_moving_a_station_moves_its_dock(powered):
    doc = {"stations": [{"id": "a", "position": [10, 10], "dock": [10, 8]},
                        {"id": "b", "position": [30, 10]}]}
    set_path(doc, "stations.a.position", [18, 12])
    assert doc["stations"][0] == {"id": "a", "position": [18, 12], "dock": [18.0, 10.0]}
    set_path(doc, "stations.b.position", [25, 5])
    assert doc["stations"][1] == {"id": "b", "position": [25, 5]}  # no dock: none added
    set_path(doc, "stations.1.servers", 3)
    assert doc["stations"][1]["servers"] == 3
    plant = powered.plant_for({"stations.a.position": [22, 12]})
    assert list(plant.stations[0].position) == [22, 12]
    assert list(plant.stations[0].dock) == [22, 10]
    assert list(plant.stations[1].position) == [30, 10]


def test_dimension_kinds():
    from twin.config.tuning import Variable

    def kind(**spec) -> str:
        return Dimension("x", Variable(**spec)).kind

    assert kind(min=1, max=4) == "int"
    assert kind(min=0.5, max=2) == "float"
    assert kind(min="1h", max="2h") == "quantity"
    assert kind(choices=[1, 2]) == "choice"
    assert kind(places=[[1, 2]]) == "places"
    assert kind(region={"x": [0, 1], "y": [0, 1]}, step=1) == "region"


# --------------------------------------------------------------------------------------------
# 10. CMA-ES
# --------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Constraints have been set, but CmaEsSampler")
def test_cmaes_on_one_objective(work, capsys):
    config = write(work, "toy.yaml", TOY)
    tuner = Tuner(config, Settings(out=str(work / "probe"), sampler="cmaes", batch=4))
    assert isinstance(tuner.open().sampler, optuna.samplers.CmaEsSampler)
    code, stdout, err = run_cli(capsys, config, "--sampler", "cmaes", "--trials", 8,
                                "--batch", 4, "--out", work / "out", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["trials"]["complete"] + report["trials"]["infeasible"] == 8
    rows = trials_csv(work / "out")
    assert len(rows) == 8
    assert all(1 <= int(r["stations.prep.servers"]) <= 3 for r in rows)
    assert all(1 <= int(r["stations.test.servers"]) <= 5 for r in rows)


def test_cmaes_refuses_several_objectives(work, capsys):
    config = write(work, "pareto.yaml", PARETO)
    line = one_line_error(capsys, config, "--sampler", "cmaes", "--out", work / "out")
    assert line == "error: --sampler cmaes: CMA-ES optimizes one objective; use nsga2 or tpe " \
                   "for several"


def test_cmaes_is_told_a_penalty_for_broken_constraints(work):
    config = write(work, "toy.yaml", TOY)
    tuner = Tuner(config, Settings(out=str(work / "probe"), sampler="cmaes", batch=4))
    # one objective, minimized: a candidate 10% short of its throughput minimum is told
    # 80,000 + 10 x (1 + 80,000) x 0.1 = 160,001; a feasible one its true value
    assert tuner.penalized([80000.0], [0.1, -0.5]) == [pytest.approx(160001.0)]
    assert tuner.penalized([80000.0], [-0.1]) == [80000.0]
    tuner.run()
    states = optuna.trial.TrialState
    done = tuner.study.get_trials(states=(states.COMPLETE,))
    assert {t.user_attrs["feasible"] for t in done} == {True, False}  # both kinds were told
    for t in done:
        means = t.user_attrs["means"]
        if t.user_attrs["feasible"]:
            assert t.values[0] == means["capital_cost"]
        else:
            assert t.values[0] > means["capital_cost"]  # penalized for the sampler only
            assert "throughput" in t.user_attrs["reason"]
            assert "below its min 2.5" in t.user_attrs["reason"]


def test_a_quantity_step_is_in_the_unit_of_the_range():
    from twin.config.tuning import Variable
    from twin.units import in_unit_of, unit_factor

    assert in_unit_of(31477.41752, "30MW") == "31.4774MW"
    assert in_unit_of(0.75, "20min") == "45min"
    assert unit_factor("30MW") == 1000.0 and unit_factor("5min") == pytest.approx(1 / 60)
    dim = Dimension("power.cap", Variable(min="30MW", max="46MW", step=0.5))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    written = [dim.suggest(study.ask()) for _ in range(20)]
    megawatts = [parse_power(w) / 1000 for w in written]
    assert all(w.endswith("MW") for w in written)
    assert all(30 <= mw <= 46 and (mw * 2) == int(mw * 2) for mw in megawatts)
    assert len(set(megawatts)) > 5


def test_ctrl_c_waits_until_an_asked_trial_has_its_owner():
    import signal as sig

    reached = []
    with pytest.raises(KeyboardInterrupt), tune_study.deferred_interrupt():
        os.kill(os.getpid(), sig.SIGINT)
        time.sleep(0.05)
        reached.append("the block ran to its end")
    assert reached == ["the block ran to its end"]
    assert sig.getsignal(sig.SIGINT) is sig.default_int_handler


def test_a_trial_asked_but_never_claimed_is_recovered_once_old(work, monkeypatch):
    config = write(work, "toy.yaml", TOY)
    tuner = Tuner(config, Settings(out=str(work / "out"), trials=2, batch=2))
    study = tuner.open()
    orphan = study.ask()  # a process killed right after ask(), before it set its owner
    orphan.suggest_int("stations.prep.servers", 1, 3)
    assert tuner.recover() == 0  # too young: it may be another process's, about to be claimed
    monkeypatch.setattr(tune_study, "ORPHAN_S", 0.0)
    assert tuner.recover() == 1
    states = {t.number: t.state for t in study.get_trials()}
    assert states[orphan.number] == optuna.trial.TrialState.FAIL
    assert optuna.trial.TrialState.WAITING in states.values()  # asked again first
    tuner.settings.resume = True
    tuner.run()
    assert tuner.counted() == 2


MIX = """\
name: mix
horizon: 300h
warmup: 30h
products: {gb200: 0.5, gb300: 0.3, other: 0.2}
source: {interarrival: {dist: exponential, mean: 1h}}
stations:
  - id: test
    servers: 2
    process: {by_product: {gb200: 1h, gb300: 1.5h, other: 0.5h}}
tune:
  variables:
    products.gb300: {min: 0.1, max: 0.9}
  objectives:
    - maximize: products.gb300.throughput_per_h
"""


def test_a_product_share_is_a_variable_and_the_others_keep_their_proportions(work):
    config = write(work, "mix.yaml", MIX)
    space = Space(config, twin.load(config))
    (dim,) = space.dimensions
    assert dim.kind == "float"
    plant = space.plant_for({"products.gb300": 0.8})
    assert plant.products == pytest.approx({"gb200": 0.2 * 5 / 7, "gb300": 0.8,
                                            "other": 0.2 * 2 / 7})
    low, high = (twin.simulate(space.plant_for({"products.gb300": v}), replications=8,
                               seed=3).summary()["products"]["gb300"]["throughput_per_h"]
                 for v in (0.1, 0.8))
    assert high["mean"] > 4 * low["mean"]


def test_a_product_share_needs_a_range(work, capsys):
    config = write(work, "mix.yaml", MIX.replace("{min: 0.1, max: 0.9}", "{choices: [0.2]}"))
    assert cli.main(["tune", str(config)]) == 2
    assert "tune.variables.products.gb300" in capsys.readouterr().err
