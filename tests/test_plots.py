"""Power charts: the load duration curve by hand, and the PNG files on small synthetic runs."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

# Read before twin.results.plots is imported, so that the pyplot check below sees what that
# module does; hence the imports after it.
PYPLOT_PRELOADED = "matplotlib.pyplot" in sys.modules

from twin.errors import TwinError  # noqa: E402
from twin.results.plots import load_duration, power_plots  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")  # edge cases must not warn either

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMES = ["power.png", "load_duration.png", "energy_by_station.png"]


def _bins(n: int, first_h: float = 0.5, last_h: float = 0.25):
    """Back-to-back 1 h bins, the first and last shorter, as a clipped window has."""
    lengths = np.ones(n)
    lengths[0], lengths[-1] = (first_h, last_h) if n > 1 else (first_h, first_h)
    end = 10.0 + np.cumsum(lengths)
    return end - lengths, end


def _write(out: Path, reps: int = 4, bins: int = 12, stations=("kit", "test", "pack"),
           scale_kw: float = 400.0, cap_kw: float | None = 700.0, zero_energy: bool = False):
    """power_plots on random data; ``zero_energy`` zeroes every station but the second."""
    rng = np.random.default_rng(7)
    start, end = _bins(bins)
    series = scale_kw * (1.0 + rng.random((reps, bins)))
    energy = rng.random((reps, len(stations))) * 3.0
    if zero_energy:
        energy[:, ::2] = 0.0
    return power_plots(out, start, end, series, cap_kw, list(stations), energy, "Plant A")


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert len(data) > 5000, f"{path.name} is only {len(data)} bytes: an empty image?"
    return struct.unpack(">II", data[16:24])


def _assert_written(out: Path, files: list[Path]) -> None:
    """The returned paths are exactly the files in ``out``: no temporary file left behind."""
    assert [p.name for p in files] == NAMES
    assert all(p.parent == out for p in files)
    assert sorted(os.listdir(out)) == sorted(NAMES)
    for p in files:
        _png_size(p)


def test_load_duration_by_hand():
    # Rep 0: 1 kW for 1 h, 3 kW for 2 h, 2 kW for 1 h -> 3 (0-50%), 2 (50-75%), 1 (75-100%).
    # Rep 1: a tie keeps time order, so the 2 h bin comes first among the two 5 kW bins.
    series = np.array([[1.0, 3.0, 2.0], [0.0, 5.0, 5.0]])
    share, kw = load_duration(series, np.array([1.0, 2.0, 1.0]))
    np.testing.assert_array_equal(kw, [[3.0, 2.0, 1.0], [5.0, 5.0, 0.0]])
    np.testing.assert_allclose(share, [[0.0, 0.5, 0.75, 1.0], [0.0, 0.5, 0.75, 1.0]])


def test_load_duration_keeps_the_time_weighted_mean():
    rng = np.random.default_rng(1)
    series, lengths = rng.random((5, 30)) * 100.0, rng.random(30) + 0.1
    share, kw = load_duration(series, lengths)
    assert share.shape == (5, 31) and kw.shape == (5, 30)
    assert np.all(share[:, 0] == 0.0) and np.all(share[:, -1] == 1.0)
    assert np.all(np.diff(kw, axis=1) <= 0.0)
    np.testing.assert_allclose((kw * np.diff(share, axis=1)).sum(axis=1),
                               series @ lengths / lengths.sum())


def test_writes_three_pngs_without_pyplot(tmp_path):
    preloaded = PYPLOT_PRELOADED or "matplotlib.pyplot" in sys.modules  # by an earlier test
    files = _write(tmp_path)
    _assert_written(tmp_path, files)
    assert _png_size(files[0]) == (9 * 120, int(4.5 * 120))  # 120 dpi
    # pyplot is what picks and switches the global backend (reading rcParams["backend"] would
    # itself import it); the check means something only when nothing imported pyplot before.
    if not preloaded:
        assert "matplotlib.pyplot" not in sys.modules, "twin.results.plots went through pyplot"


def test_plots_never_import_pyplot_in_a_fresh_process(tmp_path):
    """The same check in a process of its own, where no other test (the viewer's, say) can have
    loaded pyplot first."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from twin.results.plots import power_plots\n"
        f"files = power_plots(Path({str(tmp_path)!r}), np.array([0.0, 1.0]), np.array([1.0, 2.0]),"
        " 400 * np.ones((3, 2)), 700.0, ['a', 'b'], np.ones((3, 2)), 'P')\n"
        "assert len(files) == 3\n"
        "sys.exit(3 if 'matplotlib.pyplot' in sys.modules else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr or "twin.results.plots imported matplotlib.pyplot"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)


def _record_axes(monkeypatch) -> list[dict]:
    """As each chart is saved, its first axes' labels, its cap lines' heights and the top of
    its data, in the order the charts are written."""
    seen = []
    save = Figure.savefig

    def recording(fig, *args, **kwargs):
        ax = fig.axes[0]
        seen.append({"x": ax.get_xlabel(), "y": ax.get_ylabel(), "top": ax.dataLim.ymax,
                     "cap": [float(line.get_ydata()[0]) for line in ax.lines
                             if line.get_label() == "cap"]})
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return seen


@pytest.mark.parametrize("case, units", [
    ({"reps": 1, "stations": ("only",)}, ("h", "kW")),
    ({"bins": 1}, ("h", "kW")),
    ({"scale_kw": 0.0, "cap_kw": None, "zero_energy": True}, ("h", "kW")),
    ({"scale_kw": 2000.0, "cap_kw": 3500.0, "bins": 100}, ("days", "MW")),  # a 4-day window
], ids=["R=1", "B=1", "zero power and energy", "MW and days"])
def test_edge_cases_write_clean_pngs(tmp_path, monkeypatch, case, units):
    charts = _record_axes(monkeypatch)
    out = tmp_path / "new" / "folder"
    _assert_written(out, _write(out, **case))
    power, duration, _ = charts
    time_unit, power_unit = units
    assert power["x"] == f"time ({time_unit})"
    assert power["y"] == duration["y"] == f"plant power ({power_unit})"
    # the series and the cap are drawn in that unit: _write's series stay under 2 x scale_kw
    per_kw = 1e-3 if power_unit == "MW" else 1.0
    cap_kw = case.get("cap_kw", 700.0)
    top = max(2.0 * case.get("scale_kw", 400.0), cap_kw or 0.0) * per_kw
    for chart in (power, duration):
        assert chart["cap"] == ([] if cap_kw is None else [pytest.approx(cap_kw * per_kw)])
        assert chart["top"] <= top


def test_failed_render_leaves_no_temp_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="render failed"):
        _write(tmp_path)
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_is_a_user_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(TwinError, match="cannot write the power charts"):
        _write(tmp_path / "file")


@pytest.mark.parametrize("start, end, series, why", [
    ([0.0, 1.0], [1.0, 2.0], np.ones((2, 3)), "series_kw"),
    ([0.0, 2.0], [1.0, 3.0], np.ones((2, 2)), "without gaps"),
    ([0.0, 1.0], [1.0, 1.0], np.ones((2, 2)), "positive length"),
], ids=["shape", "gap", "empty bin"])
def test_bad_bins_raise(tmp_path, start, end, series, why):
    with pytest.raises(ValueError, match=why):
        power_plots(tmp_path, np.array(start), np.array(end), series, None, ["a"],
                    np.ones((2, 1)), "Plant C")
