"""The engine compiles once per machine: the first run says so with its time, and the next
run loads the machine code from Numba's disk cache and compiles nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, "-m", "twin.cli", "run", str(ROOT / "configs" / "example-line.yaml"),
       "--replications", "2", "--horizon", "50h", "--warmup", "5h", "--backend", "numpy",
       "--json"]


def test_the_first_run_compiles_and_says_so_and_the_next_compiles_nothing(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}  # an empty cache
    first = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "compiling the engine (first run only)" in first.stderr
    took = re.search(r"compiled the engine in (\d+) s", first.stderr)
    assert took and int(took.group(1)) >= 1
    assert any((tmp_path / "cache").rglob("*.nbc"))  # the machine code, on disk
    second = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "compil" not in second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    a.pop("wall_s"), b.pop("wall_s")
    assert a == b
