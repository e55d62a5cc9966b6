"""Tests for the sandbox renderer (videostudio.media.render).

Invariants locked here (every rendered file is decoded back with PyAV):

* the file is an MP4 with one H.264 yuv420p video stream of exactly ``width`` x ``height``;
* it holds exactly ``duration_seconds * 24`` frames (container count and decoded count) at
  24 fps, and the stream duration is exactly ``duration_seconds``;
* an AAC audio stream exists iff ``sound``, and its duration is within 0.1 s of the video's;
* ``RenderResult`` matches the probe (size, fps, frame count, duration, audio, bytes on disk);
* rendering is deterministic: the same spec twice gives byte-identical files and identical
  decoded frames; a different prompt (or seed) gives visibly different frames;
* ``on_progress`` receives strictly increasing fractions in [0, 1], starting at 0.0 and ending
  with 1.0; an exception raised by it aborts the render, propagates unchanged, and leaves the
  partial file closed (no open descriptor, no audio thread left running);
* parent directories of ``out_path`` are created; invalid sizes are rejected;
* ``output_size`` maps aspect ratio x quality mode as documented (short side = resolution);
* ``badge_rect`` is where the SANDBOX badge is drawn (the composer's tests mask it out).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from videostudio.media.render import (
    RenderResult,
    RenderSpec,
    badge_rect,
    output_size,
    render_text_to_video,
)

PROMPT = "A red fox trotting through fresh snow at dawn, soft golden light"
SMALL = {"width": 320, "height": 180}


def _spec(**overrides: object) -> RenderSpec:
    fields: dict[str, object] = {"prompt": PROMPT, **SMALL, "duration_seconds": 2}
    fields.update(overrides)
    return RenderSpec(**fields)  # type: ignore[arg-type]


def _frames_digest(path: Path, indices: set[int]) -> str:
    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in indices:
                digest.update(frame.to_ndarray().tobytes())
    return digest.hexdigest()


def _first_frame_rgb(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24").astype(np.int16)


@dataclass(frozen=True)
class Probe:
    format: str
    codec: str
    pix_fmt: str | None
    width: int
    height: int
    frames: int  # as the container declares it
    decoded: int  # as counted by decoding every frame
    rate: Fraction | None
    duration: Fraction  # video stream duration, seconds
    audio_streams: int
    audio_codec: str | None = None
    audio_rate: int | None = None
    audio_duration: float | None = None


def _probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        audio_fields: dict[str, object] = {}
        if container.streams.audio:
            audio = container.streams.audio[0]
            assert audio.duration is not None and audio.time_base is not None
            audio_fields = {
                "audio_codec": audio.codec_context.name,
                "audio_rate": audio.codec_context.sample_rate,
                "audio_duration": float(audio.duration * audio.time_base),
            }
        return Probe(
            format=container.format.name,
            codec=video.codec_context.name,
            pix_fmt=video.codec_context.pix_fmt,
            width=video.codec_context.width,
            height=video.codec_context.height,
            frames=video.frames,
            decoded=sum(1 for _ in container.decode(video=0)),
            rate=video.average_rate,
            duration=video.duration * video.time_base,
            audio_streams=len(container.streams.audio),
            **audio_fields,  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------------------------
# output_size
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "quality", "expected"),
    [
        ("16:9", "720p", (1280, 720)),
        ("9:16", "1080p", (1080, 1920)),
        ("1:1", None, (720, 720)),
        ("4:3", "720p", (960, 720)),
        ("3:4", "720p", (720, 960)),
        ("21:9", "1080p", (2520, 1080)),
        ("16:9", "768p", (1366, 768)),
        ("16:9", "480p", (854, 480)),
        ("16:9", "std", (1280, 720)),
        ("16:9", "pro", (1920, 1080)),
        ("9:16", None, (720, 1280)),
        ("16:9", "ultra-8k", (1280, 720)),
        ("Auto", "1080p", (1920, 1080)),
        ("adaptive", "720p", (1280, 720)),
        (None, None, (1280, 720)),
        ("nonsense", "480p", (854, 480)),
    ],
)
def test_output_size_table(
    ratio: str | None, quality: str | None, expected: tuple[int, int]
) -> None:
    assert output_size(ratio, quality) == expected


def test_output_size_is_always_even() -> None:
    for ratio in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "Auto", "adaptive", None):
        for quality in ("480p", "720p", "768p", "1080p", "std", "pro", None):
            width, height = output_size(ratio, quality)
            assert width % 2 == 0 and height % 2 == 0, (ratio, quality)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_720p_with_sound_probes_exactly(tmp_path: Path) -> None:
    spec = _spec(width=1280, height=720, duration_seconds=2, sound=True, seed=42)
    out = tmp_path / "clip.mp4"
    result = render_text_to_video(spec, out)

    info = _probe(out)
    assert "mp4" in info.format
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert (info.width, info.height) == (1280, 720)
    assert info.frames == 48
    assert info.decoded == 48
    assert info.rate == 24
    assert info.duration == 2
    assert info.audio_streams == 1
    assert info.audio_codec == "aac"
    assert info.audio_rate == 48_000
    assert info.audio_duration is not None
    assert abs(info.audio_duration - 2.0) <= 0.1

    assert result == RenderResult(
        width=1280,
        height=720,
        fps=24,
        frame_count=48,
        duration_seconds=2.0,
        has_audio=True,
        bytes=out.stat().st_size,
    )


@pytest.mark.slow
def test_without_sound_has_no_audio_stream(tmp_path: Path) -> None:
    out = tmp_path / "silent.mp4"
    result = render_text_to_video(_spec(duration_seconds=3), out)
    info = _probe(out)
    assert info.audio_streams == 0
    assert not result.has_audio
    assert (info.width, info.height) == (320, 180)
    assert info.frames == info.decoded == 72
    assert info.rate == 24
    assert info.duration == 3
    assert result.frame_count == 72 and result.duration_seconds == 3.0


@pytest.mark.slow
def test_portrait_size_and_audio_duration(tmp_path: Path) -> None:
    out = tmp_path / "portrait.mp4"
    render_text_to_video(_spec(width=180, height=320, duration_seconds=3, sound=True), out)
    info = _probe(out)
    assert (info.width, info.height) == (180, 320)
    assert info.frames == info.decoded == 72
    assert info.audio_duration is not None
    assert abs(info.audio_duration - 3.0) <= 0.1


@pytest.mark.slow
def test_same_spec_gives_identical_output(tmp_path: Path) -> None:
    spec = _spec(sound=True, seed=7)
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_text_to_video(spec, first)
    render_text_to_video(spec, second)
    picks = {0, 1, 23, 47}
    assert _frames_digest(first, picks) == _frames_digest(second, picks)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.slow
def test_different_prompts_give_visibly_different_frames(tmp_path: Path) -> None:
    fox, city = tmp_path / "fox.mp4", tmp_path / "city.mp4"
    render_text_to_video(_spec(duration_seconds=1), fox)
    render_text_to_video(
        _spec(prompt="Neon city skyline in the rain, a train passing", duration_seconds=1), city
    )
    diff = float(np.abs(_first_frame_rgb(fox) - _first_frame_rgb(city)).mean())
    assert diff > 20.0, diff


@pytest.mark.slow
def test_different_seed_changes_the_frames(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_text_to_video(_spec(duration_seconds=1, seed=1), a)
    render_text_to_video(_spec(duration_seconds=1, seed=2), b)
    assert float(np.abs(_first_frame_rgb(a) - _first_frame_rgb(b)).mean()) > 5.0


@pytest.mark.slow
def test_long_and_empty_prompts_render(tmp_path: Path) -> None:
    long_prompt = " ".join(["supercalifragilisticexpialidocious"] * 5 + ["word"] * 400)
    for name, prompt in (("long", long_prompt), ("empty", ""), ("unicode", "雪の中の狐 🦊 café")):
        out = tmp_path / f"{name}.mp4"
        result = render_text_to_video(_spec(prompt=prompt, duration_seconds=1), out)
        assert result.frame_count == 24
        assert _probe(out).decoded == 24


@pytest.mark.slow
def test_progress_is_increasing_and_ends_at_one(tmp_path: Path) -> None:
    seen: list[float] = []
    render_text_to_video(_spec(duration_seconds=3, sound=True), tmp_path / "p.mp4", seen.append)
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert all(0.0 <= value <= 1.0 for value in seen)
    assert all(a < b for a, b in itertools.pairwise(seen))
    assert len(seen) >= 72 // 12  # periodic, not just start and end


class _LeaseLost(Exception):
    pass


def _open_fds_to(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return 0
    count = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == str(path):
                count += 1
        except OSError:
            continue
    return count


@pytest.mark.slow
@pytest.mark.parametrize("sound", [False, True])
def test_raising_progress_aborts_and_closes_the_file(tmp_path: Path, sound: bool) -> None:
    out = tmp_path / "nested" / "dir" / "aborted.mp4"
    calls: list[float] = []

    def on_progress(fraction: float) -> None:
        calls.append(fraction)
        if fraction >= 0.25:
            raise _LeaseLost("lease lost")

    with pytest.raises(_LeaseLost, match="lease lost"):
        render_text_to_video(_spec(duration_seconds=4, sound=sound), out, on_progress)

    assert calls[-1] < 0.5  # stopped early, not after rendering everything
    assert out.exists()  # left for the caller to delete
    assert _open_fds_to(out) == 0
    assert not any(t.name == "sandbox-audio" and t.is_alive() for t in threading.enumerate())
    out.unlink()


@pytest.mark.slow
def test_raising_at_start_creates_nothing(tmp_path: Path) -> None:
    def refuse(_: float) -> None:
        raise _LeaseLost("no lease")

    out = tmp_path / "never.mp4"
    with pytest.raises(_LeaseLost):
        render_text_to_video(_spec(), out, refuse)
    assert not out.exists()


@pytest.mark.slow
def test_creates_parent_directories(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "c.mp4"
    render_text_to_video(_spec(duration_seconds=1), out)
    assert out.is_file() and out.stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), [(320, 180), (1280, 720), (180, 320)])
def test_badge_rect_is_where_the_badge_is(tmp_path: Path, width: int, height: int) -> None:
    out = tmp_path / "badge.mp4"
    render_text_to_video(_spec(width=width, height=height, duration_seconds=1), out)
    rgb = _first_frame_rgb(out)
    x, y, w, h = badge_rect(width, height)
    assert x >= 0 and y >= 0 and x + w <= width // 3 and y + h <= height // 4  # small, top left

    def amber(region: np.ndarray) -> float:
        r, g, b = region[..., 0], region[..., 1], region[..., 2]
        return float(((r > 170) & (g > 120) & (b < 110)).mean())

    assert amber(rgb[y : y + h, x : x + w]) > 0.5
    assert amber(rgb[y + h + 4 : y + 2 * h + 4, x : x + w]) < 0.1  # nothing below it


@pytest.mark.parametrize(
    "overrides",
    [
        {"width": 321},
        {"height": 0},
        {"width": -2},
        {"width": 8192},
        {"duration_seconds": 0},
        {"fps": 0},
    ],
)
def test_invalid_specs_are_rejected(tmp_path: Path, overrides: dict[str, object]) -> None:
    out = tmp_path / "bad.mp4"
    callback: Callable[[float], None] = lambda _: None  # noqa: E731
    with pytest.raises(ValueError):
        render_text_to_video(_spec(**overrides), out, callback)
    assert not out.exists()
