"""The GPU build of the engine, on machines without a GPU.

* Under Numba's CUDA simulator the GPU kernels run, as plain Python, the very lane functions
  the GPU would, on state laid out as on the GPU (lanes fastest): on a small plant of every
  feature they give, lane for lane, what the CPU build gives.
* The kernels compile for a Hopper GPU (sm_90) down to machine code (PTX by NVVM, then a cubin
  by nvJitLink), which needs numba-cuda's toolkit packages but no GPU or driver.

On a machine with a GPU, benchmarks/gpu_check.sh runs the engine there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tests.batches import assert_same_lanes
from tests.gpu_plants import CASES, run_all

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_kernels_under_the_cuda_simulator_equal_the_cpu_build(tmp_path):
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run([sys.executable, "-m", "tests.gpu_plants", str(tmp_path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    cpu = run_all("numpy")
    for name in CASES:
        with np.load(tmp_path / f"{name}.npz") as saved:
            simulated = {key: saved[key] for key in saved.files}
        assert cpu[name]["events"].sum() > 100, name
        assert_same_lanes(simulated, cpu[name], rtol=1e-12)


def _toolkit():
    """numba-cuda's compiler packages (NVVM, nvJitLink), or skip."""
    try:
        from cuda.bindings import nvjitlink
        from numba import cuda
        from numba.cuda.cudadrv import nvvm

        nvvm.NVVM()
    except Exception as err:  # noqa: BLE001 - any missing piece of the toolkit
        pytest.skip(f"numba-cuda's NVVM and nvJitLink are not installed ({err}); "
                    "the dev extras bring them")
    return cuda, nvjitlink


def test_gpu_kernels_compile_for_hopper(monkeypatch):
    cuda, nvjitlink = _toolkit()
    import numba.cuda.dispatcher as dispatcher

    # numba-cuda asks the current device for its compute capability when it compiles the lane
    # functions a kernel calls; there is none here, so say it is an H100/H200
    monkeypatch.setattr(dispatcher, "get_current_device",
                        lambda: types.SimpleNamespace(compute_capability=(9, 0)))
    from numba import typeof

    from twin._backend import get_backend
    from twin.compile import compile_plant
    from twin.compile.arrays import engine_params
    from twin.engine import gpu
    from twin.run.targets import Target

    params = compile_plant(CASES["fleet-pools-shifts"](), 2, 0)
    target = Target(get_backend("numpy"))
    state = target.allocate(engine_params(params, 64))
    args = tuple(np.asfortranarray(a) for a in state.arrays.values()) + \
        target.device_params(state.params) + (state.params.consts,)
    for kernel, extra in ((gpu.init_kernel, ()), (gpu.advance_kernel, (1.0,))):
        ptx, _ = cuda.compile_ptx(kernel, tuple(typeof(a) for a in args + extra), cc=(9, 0))
        link = nvjitlink.create(1, ["-arch=sm_90"])
        data = ptx.encode()
        nvjitlink.add_data(link, nvjitlink.InputType.PTX, data, len(data), kernel.__name__)
        nvjitlink.complete(link)
        assert nvjitlink.get_linked_cubin_size(link) > 10_000
        nvjitlink.destroy(link)
