"""Cheap facts about an input video, and the one error type for unusable input media.

The sandbox composer (:mod:`videostudio.media.compose`) and its caller need a clip's size,
frame rate and duration *before* rendering: to pick an output aspect ratio, to re-time a remix
onto the requested duration, and to refuse a Motion Control clip that is shorter than the
requested output. :func:`probe_video` answers from the container header and stream parameters
and decodes exactly one frame. That one frame is deliberately decoded: it proves the stream is
really decodable (a header alone says little about an upload), and it carries the display
matrix, so the reported size is the size the clip is *shown* at (a phone clip recorded
sideways with a 90 degree rotation tag reports its portrait size, as players show it).

Every failure to read an input, whatever FFmpeg or the OS reports, comes out as
:class:`InputMediaError` with a sentence naming the file and the problem, so callers can show
it to the user verbatim and never see a low-level exception. It is a ``ValueError`` because the
input value is what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

__all__ = ["InputMediaError", "VideoProbe", "display_rotation", "probe_video", "scan_packets"]


class InputMediaError(ValueError):
    """An input file cannot be used: unreadable, undecodable, truncated, empty or too short.

    ``str(error)`` is a complete, human-readable sentence that names the file.
    """


@dataclass(frozen=True)
class VideoProbe:
    """What a video input is, as shown (width and height follow its rotation tag)."""

    width: int
    height: int
    fps: float  # average frame rate
    duration_seconds: float  # of the video stream (the container's when the stream has none)
    frame_count: int  # declared by the container, else estimated from duration and fps
    has_audio: bool
    video_codec: str  # FFmpeg decoder name, e.g. "h264"


def probe_video(path: Path) -> VideoProbe:
    """Probe ``path`` from its header, decoding only its first frame.

    Raises :class:`InputMediaError` when the file cannot be opened as a media container, has no
    video stream, has no usable size, or its first frame cannot be decoded.
    """
    path = Path(path)
    container = open_input(path, "video")
    with container:
        if not container.streams.video:
            raise InputMediaError(f"{path.name}: the file has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            raise InputMediaError(f"{path.name}: the video stream has no picture size")
        fps = _rate(stream.average_rate) or _rate(stream.guessed_rate) or _rate(stream.base_rate)
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        if duration <= 0.0 and container.duration is not None:
            duration = container.duration / 1_000_000
        frames = int(stream.frames or 0)
        if duration <= 0.0 and frames and fps:
            duration = frames / fps
        if not frames and duration > 0.0 and fps:
            frames = max(1, round(duration * fps))
        first = first_video_frame(container, path)
        if duration <= 0.0:  # header silent (some raw/streamed formats): read packet times
            duration, counted = scan_packets(path)
            frames = frames or counted
        if display_rotation(first) % 180:
            width, height = height, width
        return VideoProbe(
            width=width,
            height=height,
            fps=fps,
            duration_seconds=max(0.0, duration),
            frame_count=frames,
            has_audio=bool(container.streams.audio),
            video_codec=str(ctx.name),
        )


def open_input(path: Path, what: str) -> av.container.InputContainer:
    """Open ``path`` for reading; any failure becomes :class:`InputMediaError`."""
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except FileNotFoundError as exc:
        raise InputMediaError(f"{path.name}: the {what} file does not exist") from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputMediaError(
            f"{path.name}: not a readable {what} file (the data is not a media format FFmpeg "
            f"recognises, or it is damaged: {_reason(exc)})"
        ) from exc


def first_video_frame(container: av.container.InputContainer, path: Path) -> av.VideoFrame:
    """Decode the first frame of the first video stream, or raise :class:`InputMediaError`."""
    try:
        for frame in container.decode(video=0):
            return frame
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputMediaError(f"{path.name}: the video cannot be decoded ({_reason(exc)})") from exc
    raise InputMediaError(f"{path.name}: the video stream holds no decodable frame")


def display_rotation(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter-turn rotation to show ``frame`` upright: 0, 90, 180 or 270."""
    try:
        degrees = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):
        return 0
    if not math.isfinite(degrees):
        return 0
    return (round(degrees / 90.0) * 90) % 360


def scan_packets(path: Path) -> tuple[float, int]:
    """Span (first timestamp to end of the last packet, seconds) and count of the video
    packets, read by demuxing only: the whole file is read but nothing is decoded.

    This is how a truncated upload is caught before rendering: its header still declares the
    full duration, but its packets stop early.
    """
    start, end, count = math.inf, 0.0, 0
    with open_input(path, "video") as container:
        if not container.streams.video:
            raise InputMediaError(f"{path.name}: the file has no video stream")
        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                count += 1
                if packet.pts is not None and packet.time_base is not None:
                    start = min(start, float(packet.pts * packet.time_base))
                    span = packet.pts + (packet.duration or 0)
                    end = max(end, float(span * packet.time_base))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise InputMediaError(f"{path.name}: the video is damaged ({_reason(exc)})") from exc
    return (end - start if count and math.isfinite(start) else 0.0), count


def _rate(value: Fraction | None) -> float:
    if value is None or value <= 0:
        return 0.0
    return float(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    text = str(exc).strip()
    return text or type(exc).__name__
