"""`twin view`: an interactive window where there is a display, files otherwise."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from twin.config import load_plant
from twin.errors import TwinError
from twin.viz import render
from twin.viz.replay import REPLAY_COLORS
from twin.viz.scene import Scene, build, read_summary

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


def parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text or "")
    if not match:
        raise TwinError(f"--size {text!r}: write the image size as WIDTHxHEIGHT in pixels, such "
                        "as 1600x1000")
    w, h = int(match[1]), int(match[2])
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise TwinError(f"--size {text}: each side must be 16 to 8192 pixels")
    return w, h


def view(config: str, results: str | None = None, color: str | None = None,
         screenshot: str | None = None, camera: str = "iso", size: str = "1600x1000",
         gltf: str | None = None, usd: str | None = None, html: str | None = None,
         replay: str | None = None, video: str | None = None, speed: float = 1.0,
         fps: float = 24.0, frames: int | None = None,
         window: bool | None = None) -> list[Path]:
    """Show or write the view of a plant file; returns the files written.

    ``replay`` (a trace from ``twin run CONFIG --trace FILE``) plays the run in the window with
    a time slider, or renders it to ``video`` (MP4 or GIF) at ``speed`` simulated hours per
    second of video, in at most ``frames`` frames (default
    :data:`twin.viz.replay.DEFAULT_FRAMES`; a longer run plays faster). ``color`` is a figure
    of ``results`` (:data:`twin.viz.scene.COLORS`) or, with a replay, one of
    :data:`twin.viz.replay.REPLAY_COLORS`: busy servers and loaded vehicles by their job's
    product or kind."""
    plant = load_plant(config)
    width_height = parse_size(size)
    if video is not None and replay is None:
        raise TwinError("--video: give --replay TRACE too (record one with `twin run CONFIG "
                        "--trace FILE`)")
    if not speed > 0 or not fps > 0:
        raise TwinError(f"--speed {speed} / --fps {fps}: both must be above 0")
    replay_color = color if color in REPLAY_COLORS else None
    if replay_color is not None and replay is None:
        raise TwinError(f"--color {color}: colours the replay of a run by its jobs' {color}; "
                        "give --replay TRACE too (record one with `twin run CONFIG --trace "
                        "FILE`)")
    summary = read_summary(results, plant) if results is not None else None
    scene = build(plant, summary, None if replay_color else color)
    trace = None
    if replay is not None:
        from twin.viz.replay import color_names, read_trace

        trace = read_trace(replay, plant, config)
        color_names(trace, replay_color)  # a trace without products or parts: say so now
    outputs = (("--screenshot", screenshot), ("--gltf", gltf), ("--usd", usd),
               ("--html", html), ("--video", video))
    for flag, path in outputs:
        if path is not None:
            _check_writable(flag, Path(path))
    files: list[Path] = []
    if gltf is not None:
        from twin.viz.export import write_gltf

        files.append(write_gltf(scene, gltf))
    if usd is not None:
        from twin.viz.export import write_usd

        files.append(write_usd(scene, usd))
    if html is not None:
        from twin.viz.html import write_html

        files.append(write_html(scene, html))
    if screenshot is not None:
        files.append(render.screenshot(scene, screenshot, width_height, camera))
    if video is not None:
        from twin.viz.replay import DEFAULT_FRAMES, frames_at_speed, write_video

        most = DEFAULT_FRAMES if frames is None else frames
        path, count = write_video(scene, trace, video, fps=fps, speed=speed, size=width_height,
                                  camera=camera, max_frames=most, color=replay_color)
        span = trace.end_h - trace.start_h
        wanted = frames_at_speed(span, fps, speed)
        note = "" if count == wanted else (
            f", {span / (count / fps):.3g} h a second over the {span:.4g} h of the trace "
            f"(--frames {most}; --frames {wanted} plays it at --speed {speed:g})")
        print(f"{video}: {count} frames{note}", file=sys.stderr)
        files.append(path)
    if window is None:
        window = not files and render.has_display()
    if window:
        if trace is not None:
            from twin.viz.replay import play

            play(scene, trace, size=width_height, camera=camera, color=replay_color)
        else:
            _interactive(scene, width_height, camera)
    elif not files:  # no display and nothing asked: a picture all the same
        name = f"{plant.name}-view.png"
        files.append(render.screenshot(scene, name, width_height, camera))
        print(f"no display: wrote {name} (give --screenshot FILE to choose)", file=sys.stderr)
    return files


def _check_writable(flag: str, path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TwinError(f"{flag} {path}: the folder {folder} does not exist; create it or choose "
                        "another path")
    if path.is_dir():
        raise TwinError(f"{flag} {path}: is a folder; give a file name")


def _interactive(scene: Scene, size: tuple[int, int], camera: str) -> None:
    """A window: orbit and zoom with the mouse; click a station to see its figures."""
    p = render.plotter(scene, size=size, off_screen=False)
    render.set_camera(p, scene, camera)

    def picked(point) -> None:
        j = station_at(scene, point[0], point[1])
        text = "" if j is None else describe(scene, j)
        p.add_text(text, position="lower_left", font_size=10, color="black", name="picked")

    p.track_click_position(picked, side="left")
    p.show(title=f"twin view: {scene.name}")


def station_at(scene: Scene, x: float, y: float) -> int | None:
    """The station whose footprint holds the floor point (x, y), if any."""
    inside = (scene.lo[:, 0] <= x) & (x <= scene.hi[:, 0]) & \
        (scene.lo[:, 1] <= y) & (y <= scene.hi[:, 1])
    hits = np.flatnonzero(inside)
    return int(hits[0]) if hits.size else None


def describe(scene: Scene, j: int) -> str:
    """A station's id, servers and measured figures, one per line."""
    sid = scene.station_ids[j]
    lines = [f"{sid}: {int(scene.servers[j])} servers"]
    for key, value in scene.figures.get(sid, {}).items():
        if isinstance(value, (int, float)):
            lines.append(f"  {key}: {value:.4g}")
    if scene.bottleneck == sid:
        lines.append("  (bottleneck)")
    return "\n".join(lines)
