"""The engine compiles once per machine: the first run says so with its time, and the next
run loads the machine code from Numba's disk cache and compiles nothing. The cache is keyed
by the engine's sources, so that an edit to any engine module compiles afresh."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from twin.engine import jit

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
    folder = tmp_path / "cache" / f"engine-{jit.engine_stamp()}"
    assert any(folder.rglob("*.nbc"))  # the machine code, on disk, under the sources' hash
    assert not any(p for p in (tmp_path / "cache").iterdir() if p != folder)
    second = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "compil" not in second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    a.pop("wall_s"), b.pop("wall_s")
    assert a == b


def test_an_edit_to_any_engine_module_moves_the_cache(tmp_path, monkeypatch):
    # Numba checks only a cached function's own file; the kernels inline every lane function
    # of every module, so the folder of the cache is named by a hash of all of them
    engine = tmp_path / "engine"
    shutil.copytree(jit.SOURCES, engine, ignore=shutil.ignore_patterns("__pycache__"))
    assert jit.engine_stamp(engine) == jit.engine_stamp()
    flow = engine / "flow.py"
    flow.write_text(flow.read_text() + "\n# an edit\n")
    edited = jit.engine_stamp(engine)
    assert edited != jit.engine_stamp()
    (engine / "lists.py").rename(engine / "lists2.py")  # a renamed module counts too
    assert jit.engine_stamp(engine) not in (edited, jit.engine_stamp())
    monkeypatch.setattr(jit, "SOURCES", engine)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(jit, "engine_stamp", lambda folder=engine: "abc")
    assert jit.cache_dir() == str(tmp_path / "cache" / "engine-abc")
    assert (tmp_path / "cache" / "engine-abc").is_dir()
