"""The command line: exit codes, one-line errors, the JSON summary and result files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import twin
from twin._backend import get_backend
from twin.cli import main
from twin.errors import TwinError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "configs" / "example-line.yaml")
SHORT = ["--replications", "4", "--horizon", "300h", "--warmup", "50h", "--backend", "numpy"]
STAT_KEYS = {"mean", "ci95"}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_is_exactly_the_summary(capsys):
    code, out, _ = run_cli(capsys, "run", EXAMPLE, "--json", *SHORT)
    assert code == 0
    summary = json.loads(out)  # exactly one JSON document on stdout
    assert out.count("\n") == 1
    for key in ("name", "backend", "replications", "seed", "horizon_h", "warmup_h",
                "throughput_per_h", "cycle_time_h", "wip", "stations", "events", "wall_s"):
        assert key in summary
    assert summary["name"] == "example-line" and summary["backend"] == "numpy"
    assert summary["replications"] == 4 and summary["horizon_h"] == 300.0
    assert summary["warmup_h"] == 50.0
    assert STAT_KEYS <= set(summary["throughput_per_h"])
    assert {"p50", "p95"} <= set(summary["cycle_time_h"])
    assert set(summary["stations"]) == {"assemble", "test", "rework"}
    for st in summary["stations"].values():
        assert set(st) == {"busy", "blocked", "down", "waiting", "idle", "mean_queue",
                           "mean_wait_h", "throughput_per_h"}
        fractions = sum(st[f]["mean"] for f in ("busy", "blocked", "down", "idle"))
        assert fractions == pytest.approx(1.0, abs=1e-9)
    assert summary["bottleneck"] in summary["stations"]


def test_run_prints_a_table_with_the_bottleneck(capsys):
    code, out, _ = run_cli(capsys, "run", EXAMPLE, *SHORT)
    assert code == 0
    assert "throughput (jobs/h)" in out and "bottleneck" in out
    for station in ("assemble", "test", "rework"):
        assert station in out


def test_out_writes_summary_and_replications_atomically(capsys, tmp_path):
    out_dir = tmp_path / "results"
    code, _, _ = run_cli(capsys, "run", EXAMPLE, "--out", str(out_dir), *SHORT)
    assert code == 0
    summary = json.loads((out_dir / "summary.json").read_text())
    lines = (out_dir / "replications.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["replication", "throughput_per_h"]
    assert "test.busy" in header
    assert len(lines) == 1 + summary["replications"]
    assert not list(out_dir.glob(".*tmp"))  # no temporary file left behind


def test_validate_ok_is_one_line(capsys):
    code, out, _ = run_cli(capsys, "validate", EXAMPLE)
    assert code == 0
    assert out.count("\n") == 1 and "ok" in out and "3 stations" in out


@pytest.mark.parametrize("config", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(capsys, config):
    assert run_cli(capsys, "validate", str(config))[0] == 0


def test_schema_is_json(capsys):
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert "stations" in json.dumps(schema)


@pytest.mark.parametrize("argv, words", [
    (["run", "missing.yaml"], ["missing.yaml"]),
    (["run", EXAMPLE, "--horizon", "100"], ["--horizon", "unit"]),
    (["run", EXAMPLE, "--warmup", "3000h"], ["warm-up", "horizon"]),
    (["run", EXAMPLE, "--replications", "0"], ["--replications"]),
    (["run", EXAMPLE, "--seed", "-1"], ["--seed"]),
    (["run", EXAMPLE, "--workers", "0"], ["--workers"]),
    (["run", EXAMPLE, "--method", "serial"], ["--method"]),
    (["run", EXAMPLE, "--backend", "cuda-sim"], ["cuda-sim", "NUMBA_ENABLE_CUDASIM=1"]),
    (["run", EXAMPLE, "--backend", "tpu"], ["backend"]),
    (["run"], ["config"]),
    (["frobnicate"], ["frobnicate"]),
])
def test_bad_arguments_exit_2_with_one_clear_line(capsys, argv, words):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0]


def test_bad_config_names_file_field_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(EXAMPLE).read_text().replace("mean: 1.6h", "mean: 1.6"))
    code, _, err = run_cli(capsys, "run", str(bad))
    assert code == 2
    assert "bad.yaml:" in err and "stations[0].process.mean" in err and "unit" in err


def test_unwritable_out_is_exit_2(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run_cli(capsys, "run", EXAMPLE, "--out", str(blocker / "sub"), *SHORT)
    assert code == 2 and "--out" in err


def test_overloaded_plant_is_exit_2_naming_the_station(capsys, tmp_path):
    cfg = tmp_path / "over.yaml"
    cfg.write_text("name: over\nhorizon: 200h\nsource:\n  interarrival: 1h\nstations:\n"
                   "  - id: slow\n    servers: 1\n    process: {dist: exponential, mean: 1.5h}\n")
    code, _, err = run_cli(capsys, "run", str(cfg), "--backend", "numpy")
    assert code == 2
    assert "'slow'" in err and "offered load 1.50" in err


@pytest.mark.parametrize("find, put, field, fits", [
    ("servers: 3", "servers: 100000000", "stations[1].servers", "servers would fit"),
    ("horizon: 2000h", "horizon: 100000000w", "horizon", "hours would fit"),
    ("buffer: 2", "buffer: 10000000000", "stations[1].buffer", "places would fit"),
])
def test_a_plant_too_big_for_memory_stops_at_once(capsys, tmp_path, find, put, field, fits):
    """The memory plan stops it before anything is compiled or allocated: exit 2, one line
    naming the file, the field, the bytes it needs, and what would fit."""
    text = Path(EXAMPLE).read_text()
    assert find in text
    cfg = tmp_path / "big.yaml"
    cfg.write_text(text.replace(find, put, 1))
    started = time.monotonic()
    code, _, err = run_cli(capsys, "run", str(cfg), "--backend", "numpy")
    assert time.monotonic() - started < 10
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{cfg}: {field}: " in err and " GB of engine memory" in err and fits in err
    most = int(err.split("at most ")[1].split()[0].replace(",", ""))
    assert most > 0
    most = int(0.9 * most)  # (free memory moves a little between two looks)
    # and what it says would fit does: a replication of that size passes the plan
    from twin.run import memory

    plant = twin.load(cfg)
    size = {"stations[1].servers": "servers", "stations[1].buffer": "buffer"}
    if field == "horizon":
        plant = plant.model_copy(update={"horizon": float(most)})
    else:
        stations = list(plant.stations)
        stations[1] = stations[1].model_copy(update={size[field]: most})
        plant = plant.model_copy(update={"stations": stations})
    assert memory.lanes_at_once([plant], 1, plant.horizon, plant.warmup,
                                get_backend("numpy")) == 1


def test_cupy_without_a_gpu_is_exit_2(capsys):
    try:
        get_backend("cupy")
    except TwinError:
        code, _, err = run_cli(capsys, "run", EXAMPLE, *SHORT[:-2], "--backend", "cupy")
        assert code == 2 and "GPU" in err
    else:
        pytest.skip("a GPU is usable here, so --backend cupy is valid")


def test_console_script_runs_headless():
    proc = subprocess.run([sys.executable, "-m", "twin.cli", "run", EXAMPLE, "--json", *SHORT],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["name"] == "example-line"


def test_deadlocked_loop_is_exit_2_naming_the_full_stations(capsys, tmp_path):
    cfg = tmp_path / "loop.yaml"
    cfg.write_text(
        "name: loop\nhorizon: 500h\nsource:\n  interarrival: {dist: exponential, mean: 1h}\n"
        "stations:\n"
        "  - id: test\n    servers: 1\n    buffer: 0\n"
        "    process: {dist: exponential, mean: 30min}\n"
        "    next: [{to: exit, p: 0.5}, {to: rework, p: 0.5}]\n"
        "  - id: rework\n    servers: 1\n    buffer: 0\n"
        "    process: {dist: exponential, mean: 30min}\n"
        "    next: test\n")
    code, _, err = run_cli(capsys, "run", str(cfg), "--replications", "8", "--backend", "numpy")
    assert code == 2
    assert "deadlock" in err and "test, rework" in err


POWERED = """\
name: powered
horizon: 60h
warmup: 6h
source: {interarrival: {dist: exponential, mean: 1h}}
stations:
  - id: build
    servers: 2
    process: {dist: exponential, mean: 1.2h}
    power: {idle: 1kW, busy: 4kW}
  - id: burn
    servers: 4
    process: {dist: lognormal, mean: 3h, cv: 0.1}
    buffer: 2
    power: {idle: 2kW, waiting: 2kW, busy: [{share: 0.2, power: 40kW}, {share: 0.8, power: 125kW}]}
power:
  base_load: 50kW
  cooling: {cop: 4}
  cap: 500kW
  tariff: {energy: 0.08, demand_charge: 12}
"""


def test_power_run_prints_the_power_block_and_writes_series_and_charts(capsys, tmp_path):
    config = tmp_path / "powered.yaml"
    config.write_text(POWERED)
    out_dir = tmp_path / "results"
    code, out, _ = run_cli(capsys, "run", str(config), "--out", str(out_dir), "--replications",
                           "3", "--backend", "numpy")
    assert code == 0
    assert "peak demand (MW)" in out and "power wait %" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    power = summary["power"]
    for key in ("mean_kw", "max_kw", "peak_kw", "energy_mwh", "cost_usd", "co2_t",
                "kwh_per_job"):
        assert set(power[key]) == STAT_KEYS
    assert set(power["stations"]) == {"build", "burn"}
    assert set(power["stations"]["burn"]) == {"energy_mwh", "power_wait", "power_wait_h"}
    assert power["max_kw"]["ci95"][1] <= 500.0
    lines = (out_dir / "power_kw.csv").read_text().splitlines()
    assert lines[0].split(",")[:3] == ["bin_start_h", "bin_end_h", "price_usd_per_kwh"]
    assert len(lines) == 1 + (60 - 6) * 4  # 15-minute intervals
    assert len(lines[1].split(",")) == 7 + 3
    for name in ("power.png", "load_duration.png", "energy_by_station.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (out_dir / "replications.csv").read_text().splitlines()[0].split(",")
    assert "power.energy_mwh" in header and "burn.power_wait" in header


def test_a_cap_too_small_to_start_a_job_is_exit_2(capsys, tmp_path):
    config = tmp_path / "capped.yaml"
    config.write_text(POWERED.replace("cap: 500kW", "cap: 150kW"))
    code, _, err = run_cli(capsys, "run", str(config))
    assert code == 2
    assert err.count("\n") == 1
    assert "capped.yaml:18: power.cap:" in err and "burn" in err and "raise the cap" in err
