"""Sandbox renderer: turns a prompt into a real, playable, clearly labelled H.264 MP4.

The sandbox provider has no model behind it, yet everything downstream of it (storage, range
requests, thumbnails, players, billing by duration) needs a *real* file with honest properties.
This module renders one quickly and cheaply:

* **Real media.** H.264 (libx264, yuv420p, BT.709 limited range tags) in an MP4 with
  ``+faststart`` so a browser can start playback before the download finishes. With
  ``RenderSpec.sound`` an AAC-LC stereo 48 kHz track of the same length is added (a soft chord
  and a short melody derived from the prompt); without it there is no audio stream at all.
* **Exact timing.** Exactly ``duration_seconds * fps`` frames at a constant ``fps``, so the
  container probes as exactly ``duration_seconds`` and the frame count can be billed/checked.
* **Visibly derived from the prompt.** A slowly scrolling gradient whose palette comes from a
  hash of ``prompt`` and ``seed``, a few drifting translucent shapes, the prompt as a caption
  (wrapped, ellipsised when long), a running timecode and a progress bar. A "SANDBOX" badge is
  always burnt in so nobody mistakes the clip for real model output.
* **Streamed.** Frames are composed one at a time directly into freshly allocated yuv420p frame
  buffers and handed to the encoder immediately; audio is synthesised in ~0.5 s blocks and
  encoded one AAC frame (1024 samples) at a time, interleaved with the video. Memory use is
  flat whatever the duration: only the precomputed background strip (frame width plus one
  scroll period), the sprites and the text overlays are kept (peak RSS is the same for 8 s and
  15 s clips).
* **Fast.** All expensive work happens once per render: text is rasterised once with Pillow's
  built-in font, the background once, the sprites once, each converted to Y/U/V planes with a
  fixed-point alpha. Per frame the work is a window copy of the background plus uint16 alpha
  blends over small regions, written straight into yuv420p planes (no RGB->YUV conversion per
  frame). libx264 runs with preset ``ultrafast``, CRF 26, a keyframe every 2 s and two *frame*
  threads (x264 encodes frame N while Python composes frame N+1); the AAC encoder runs on a
  helper thread (FFmpeg releases the GIL). An 8 s 720p clip with sound takes about 1 s on two
  cores (see ``bench/bench_sandbox.py``).
* **Deterministic.** The same :class:`RenderSpec` gives **byte-identical files** with the same
  PyAV/FFmpeg/x264/Pillow/numpy builds, not just identical decoded frames: every input is
  derived from ``sha256(seed, prompt)``, the x264 thread count is pinned (its output depends on
  it), the muxer and encoders run in ``bitexact`` mode so no version strings or timestamps end
  up in the metadata, and the main thread alone decides when audio packets are muxed (after
  the video frame they end in), so thread timing cannot change the file layout. Across
  different library builds neither bytes nor exact pixels are promised, only the same scene.

``on_progress`` is called with a fraction in ``[0, 1]`` at the start, every
:data:`PROGRESS_EVERY_FRAMES` frames, and with ``1.0`` once the file is complete. It may raise
to abort the render (e.g. when the caller's job lease is lost): the exception propagates, the
partially written file is closed, and deleting it is left to the caller.

The other generation modes (:mod:`videostudio.media.compose`) reuse this module's pieces rather
than copying them, so every sandbox file is encoded the same way: :func:`encode_clip` (the
encoder set-up, frame loop, deterministic audio interleaving and abort handling, with hooks to
inspect a composed frame or force a keyframe), :class:`Scene` (whose background and overlays
can be drawn separately, overlays with an opacity), :class:`Overlay`, :class:`Synth` and
:class:`AudioPump` (which encodes any :class:`AudioSource`). They are package-internal: not in
``__all__``, no stability promise outside ``videostudio.media``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import queue
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Protocol

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "PROGRESS_EVERY_FRAMES",
    "RenderResult",
    "RenderSpec",
    "badge_rect",
    "output_size",
    "render_text_to_video",
]

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]  # Y (full size), U, V (half size) of a yuv420p picture

PROGRESS_EVERY_FRAMES: Final = 12
"""How often (in frames) ``on_progress`` is called while rendering."""

SAMPLE_RATE: Final = 48_000
AAC_FRAME: Final = 1024  # AAC-LC samples per frame
_AUDIO_BITRATE: Final = 128_000
_SYNTH_BLOCK_FRAMES: Final = 24  # ~0.5 s of audio per synthesis block
_VIDEO_CODEC: Final = "libx264"
_X264_PRESET: Final = "ultrafast"
_X264_CRF: Final = "26"
_X264_THREADS: Final = 2  # pinned: x264 output depends on the thread count
_GOP_SECONDS: Final = 2  # a keyframe every 2 s keeps seeking in players snappy
_CAPTION_MAX_LINES: Final = 3
_ELLIPSIS: Final = "\u2026"
_BADGE_TEXT: Final = "SANDBOX"
_MAX_SIDE: Final = 4096

_RESOLUTIONS: Final[dict[str, int]] = {
    "480p": 480,
    "720p": 720,
    "768p": 768,
    "1080p": 1080,
    "std": 720,
    "pro": 1080,
}
_DEFAULT_SHORT_SIDE: Final = 720
_DEFAULT_RATIO: Final = (16.0, 9.0)
_RATIO_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderSpec:
    """What to render. Equal specs render identical files."""

    prompt: str
    width: int
    height: int
    duration_seconds: int
    fps: int = 24
    sound: bool = False
    seed: int = 0  # callers derive it from a hash of the request; same spec -> same output


@dataclass(frozen=True)
class RenderResult:
    """Properties of the written file (known by construction, equal to what a probe reports)."""

    width: int
    height: int
    fps: int
    frame_count: int
    duration_seconds: float  # frame_count / fps
    has_audio: bool
    bytes: int  # size of the written file


def round_even(value: float) -> int:
    """The nearest even number, at least 2 (yuv420p needs even sizes)."""
    return max(2, math.floor(value / 2.0 + 0.5) * 2)


def _parse_ratio(aspect_ratio: str | None) -> tuple[float, float]:
    return explicit_ratio(aspect_ratio) or _DEFAULT_RATIO


def output_size(aspect_ratio: str | None, quality_mode: str | None) -> tuple[int, int]:
    """Width, height for an aspect ratio and a quality mode.

    Aspect ratios: "16:9", "9:16", "1:1", "4:3", "3:4", "21:9" (any "W:H" parses); "Auto",
    "adaptive", None or anything unparsable -> 16:9. Quality modes: "480p", "720p", "768p",
    "1080p", "std" (= 720p), "pro" (= 1080p); None or unknown -> 720p. The SHORT side equals the
    resolution number; the long side follows the ratio, rounded to an even number.

    Examples: (16:9, 720p) -> (1280, 720), (9:16, 1080p) -> (1080, 1920), (1:1, None) ->
    (720, 720), (4:3, 720p) -> (960, 720), (21:9, 1080p) -> (2520, 1080),
    (16:9, 768p) -> (1366, 768).
    """
    short = short_side(quality_mode)
    a, b = _parse_ratio(aspect_ratio)
    if a >= b:
        return round_even(short * a / b), short
    return short, round_even(short * b / a)


def short_side(quality_mode: str | None) -> int:
    """The short side in pixels for a quality mode (unknown or None -> 720)."""
    return _RESOLUTIONS.get((quality_mode or "").strip().lower(), _DEFAULT_SHORT_SIDE)


def explicit_ratio(aspect_ratio: str | None) -> tuple[float, float] | None:
    """``(w, h)`` when ``aspect_ratio`` names a usable ratio ("16:9"); None for "Auto",
    "adaptive", None, junk, or ratios beyond 1:5 / 5:1."""
    if aspect_ratio is None:
        return None
    match = _RATIO_RE.match(aspect_ratio)
    if match is None:
        return None
    a, b = float(match.group(1)), float(match.group(2))
    if a <= 0 or b <= 0 or not (0.2 <= a / b <= 5.0):
        return None
    return a, b


def render_text_to_video(
    spec: RenderSpec,
    out_path: Path,
    on_progress: Callable[[float], None] | None = None,
) -> RenderResult:
    """Render an H.264 MP4 (yuv420p, libx264) for ``spec`` to ``out_path``.

    Writes ``out_path`` directly (parent directories are created). Exactly
    ``spec.duration_seconds * spec.fps`` frames at ``spec.fps``; an AAC track of the same length
    iff ``spec.sound``. ``on_progress`` gets fractions in ``[0, 1]`` (strictly increasing, from
    ``0.0`` before any work to ``1.0`` after the file is closed); an exception raised by it
    aborts the render and propagates, with the partial file closed but left in place for the
    caller to delete.

    Raises ``ValueError`` for sizes that are not positive and even (yuv420p needs even sizes)
    or larger than 4096, a non-positive duration, or fps outside 1..120.
    """
    validate_spec(spec)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if on_progress is not None:
        on_progress(0.0)

    total = spec.duration_seconds * spec.fps
    scene = Scene(spec)
    size = encode_clip(
        out_path,
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        total=total,
        compose=scene.draw,
        audio=Synth(spec) if spec.sound else None,
        on_progress=on_progress,
    )
    result = RenderResult(
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        frame_count=total,
        duration_seconds=total / spec.fps,
        has_audio=spec.sound,
        bytes=size,
    )
    if on_progress is not None:
        on_progress(1.0)
    return result


# --------------------------------------------------------------------------------------------
# Building blocks shared with compose.py (package-internal: not part of ``__all__``)
# --------------------------------------------------------------------------------------------


class AudioSource(Protocol):
    """A soundtrack handed to :class:`AudioPump`: AAC-sized frames until ``finished``."""

    @property
    def finished(self) -> bool: ...

    def next_frame(self) -> av.AudioFrame:
        """The next frame of at most :data:`AAC_FRAME` fltp stereo samples at 48 kHz."""
        ...

    def close(self) -> None:
        """Release files held open (called from the pump thread when it stops)."""
        ...


def encode_clip(
    out_path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    total: int,
    compose: Callable[[av.VideoFrame, int], None],
    audio: AudioSource | None,
    on_progress: Callable[[float], None] | None,
    inspect: Callable[[av.VideoFrame, int], None] | None = None,
    force_keyframe: Callable[[int], bool] | None = None,
) -> int:
    """Encode ``total`` frames composed by ``compose(frame, index)`` into an MP4; returns bytes.

    ``audio`` (if any) becomes an AAC track encoded on a helper thread and interleaved
    deterministically. ``inspect(frame, index)`` sees each composed frame before it is encoded
    (e.g. to keep a poster); ``force_keyframe(index)`` makes x264 code that frame as an IDR
    (sharper stills where a frame must match an input image). ``on_progress`` gets the periodic
    fractions only (not 0.0 or 1.0: the caller brackets the whole job). On any exception the
    audio thread is stopped, the file closed and the exception re-raised.
    """
    container = av.open(
        str(out_path),
        mode="w",
        format="mp4",
        options={"movflags": "+faststart", "fflags": "+bitexact"},
    )
    pump: AudioPump | None = None
    try:
        video = _add_video_stream(container, width, height, fps)
        astream = _add_audio_stream(container) if audio is not None else None
        # Opens both encoders and writes the header here, on this thread, before the audio
        # thread starts using its encoder.
        container.start_encoding()
        if astream is not None and audio is not None:
            pump = AudioPump(audio, astream)

        video_tb = Fraction(1, fps)
        for index in range(total):
            frame = av.VideoFrame(width, height, "yuv420p")
            compose(frame, index)
            if inspect is not None:
                inspect(frame, index)
            if force_keyframe is not None and force_keyframe(index):
                frame.pict_type = av.video.frame.PictureType.I
            frame.pts = index
            frame.time_base = video_tb
            container.mux(video.encode(frame))
            if pump is not None:
                # Audio up to the end of this frame: keeps the muxer's interleaving queue short
                # and the packet order (hence the file) independent of thread timing.
                container.mux(pump.packets_until((index + 1) / fps))
            done = index + 1
            if on_progress is not None and done % PROGRESS_EVERY_FRAMES == 0 and done < total:
                on_progress(done / total)
        container.mux(video.encode(None))
        if pump is not None:
            container.mux(pump.packets_until(math.inf))
    except BaseException:
        if pump is not None:
            pump.stop()
        elif audio is not None:
            audio.close()
        with contextlib.suppress(Exception):  # the original error matters, not this one
            container.close()
        raise
    container.close()
    return out_path.stat().st_size


def _add_video_stream(
    container: av.container.OutputContainer, width: int, height: int, fps: int
) -> av.VideoStream:
    video = container.add_stream(
        _VIDEO_CODEC,
        rate=fps,
        options={
            "preset": _X264_PRESET,
            "crf": _X264_CRF,
            "g": str(_GOP_SECONDS * fps),
        },
    )
    video.width = width
    video.height = height
    video.pix_fmt = "yuv420p"
    ctx = video.codec_context
    ctx.thread_count = _X264_THREADS
    # PyAV defaults to SLICE threads, which run inside each encode call; FRAME threads let x264
    # encode frame N while Python composes frame N+1 (measured: ~25% faster on 2 cores).
    ctx.thread_type = "FRAME"
    ctx.color_range = int(ColorRange.MPEG)
    ctx.colorspace = int(Colorspace.ITU709)
    ctx.color_primaries = int(ColorPrimaries.BT709)
    ctx.color_trc = int(ColorTrc.BT709)
    ctx.flags |= av.codec.context.Flags.bitexact
    return video


def _add_audio_stream(container: av.container.OutputContainer) -> av.AudioStream:
    audio = container.add_stream("aac", rate=SAMPLE_RATE)
    audio.layout = "stereo"
    audio.format = "fltp"
    audio.bit_rate = _AUDIO_BITRATE
    audio.codec_context.flags |= av.codec.context.Flags.bitexact
    return audio


def validate_spec(spec: RenderSpec) -> None:
    """Raise ``ValueError`` unless the size is even, positive, <= 4096 and duration/fps sane."""
    for name, value in (("width", spec.width), ("height", spec.height)):
        if value <= 0 or value % 2 or value > _MAX_SIDE:
            raise ValueError(f"{name} must be a positive even number <= {_MAX_SIDE}, got {value}")
    if spec.duration_seconds <= 0:
        raise ValueError(f"duration_seconds must be positive, got {spec.duration_seconds}")
    if not 1 <= spec.fps <= 120:
        raise ValueError(f"fps must be in 1..120, got {spec.fps}")


# --------------------------------------------------------------------------------------------
# Colour helpers (BT.709, limited range, matching the stream's colour tags)
# --------------------------------------------------------------------------------------------


def rgb_to_yuv(rgb: npt.NDArray[np.floating]) -> tuple[F32, F32, F32]:
    """RGB floats in [0, 1] (last axis) -> Y, U, V floats in code values (16..235 / 16..240)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    y = 16.0 + 219.0 * luma
    u = 128.0 + 224.0 * (b - luma) / 1.8556
    v = 128.0 + 224.0 * (r - luma) / 1.5748
    return y.astype(np.float32), u.astype(np.float32), v.astype(np.float32)


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    """HSV (all in [0, 1]) -> RGB floats, without colorsys to keep it obviously deterministic."""
    h = (h % 1.0) * 6.0
    i = int(h)
    f = h - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i % 6]


def _to_u8(values: npt.NDArray[np.floating]) -> U8:
    out: U8 = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------------
# Overlays: RGBA images converted once to fixed-point premultiplied Y/U/V planes
# --------------------------------------------------------------------------------------------


class Overlay:
    """A translucent image blended per frame as ``(bg * (256 - a) + fg * a) >> 8``.

    Luma works at full resolution, chroma at half resolution (yuv420p); positions are even so
    both grids line up. All math is uint16 into preallocated scratch buffers.
    """

    def __init__(self, rgba: npt.NDArray[np.floating]) -> None:
        h, w = rgba.shape[0], rgba.shape[1]
        if h % 2 or w % 2:  # pad to even with transparent pixels
            padded = np.zeros((h + h % 2, w + w % 2, 4), dtype=np.float64)
            padded[:h, :w] = rgba
            rgba = padded
            h, w = rgba.shape[0], rgba.shape[1]
        alpha = np.clip(rgba[..., 3].astype(np.float64), 0.0, 1.0)
        y, u, v = rgb_to_yuv(rgba[..., :3])
        a256 = np.rint(alpha * 256.0)
        self.h, self.w = h, w
        self.inv_y: U16 = (256 - a256).astype(np.uint16)
        self.pre_y: U16 = np.rint(y * a256).astype(np.uint16)
        # Chroma: average alpha and premultiplied chroma over each 2x2 block.
        a_c = alpha.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        u_pm = (u * alpha).reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        v_pm = (v * alpha).reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        self.inv_c: U16 = (256 - np.rint(a_c * 256.0)).astype(np.uint16)
        self.pre_u: U16 = np.rint(u_pm * 256.0).astype(np.uint16)
        self.pre_v: U16 = np.rint(v_pm * 256.0).astype(np.uint16)
        self._buf_y: U16 = np.empty((h, w), dtype=np.uint16)
        self._buf_c: U16 = np.empty((h // 2, w // 2), dtype=np.uint16)

    def blend(self, planes: Planes, x: int, y: int) -> None:
        """Blend onto ``planes`` (Y, U, V views) with the top-left corner at even ``(x, y)``."""
        py, pu, pv = planes
        frame_h, frame_w = py.shape
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + self.w, frame_w), min(y + self.h, frame_h)
        if x1 <= x0 or y1 <= y0:
            return
        sx, sy = x0 - x, y0 - y
        _blend_region(
            py[y0:y1, x0:x1],
            self.inv_y[sy : sy + y1 - y0, sx : sx + x1 - x0],
            self.pre_y[sy : sy + y1 - y0, sx : sx + x1 - x0],
            self._buf_y[: y1 - y0, : x1 - x0],
        )
        cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, x1 // 2, y1 // 2
        csx, csy = sx // 2, sy // 2
        inv_c = self.inv_c[csy : csy + cy1 - cy0, csx : csx + cx1 - cx0]
        buf_c = self._buf_c[: cy1 - cy0, : cx1 - cx0]
        pre_u = self.pre_u[csy : csy + cy1 - cy0, csx : csx + cx1 - cx0]
        pre_v = self.pre_v[csy : csy + cy1 - cy0, csx : csx + cx1 - cx0]
        _blend_region(pu[cy0:cy1, cx0:cx1], inv_c, pre_u, buf_c)
        _blend_region(pv[cy0:cy1, cx0:cx1], inv_c, pre_v, buf_c)


def _blend_region(dst: U8, inv: U16, pre: U16, buf: U16) -> None:
    np.multiply(dst, inv, out=buf)
    np.add(buf, pre, out=buf)
    np.right_shift(buf, 8, out=buf)
    np.copyto(dst, buf, casting="unsafe")


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _text_width(font: _Font, text: str) -> float:
    return float(font.getlength(text))


def _displayable(text: str, font: _Font) -> str:
    """Fold characters the built-in font lacks to ones it has ("café" -> "cafe", "—" -> "-").

    Pillow's embedded font covers little beyond ASCII; whatever cannot be folded is left as is
    and shows up as the font's "missing glyph" box, which is honest enough for a sandbox.
    """

    def signature(ch: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(ch)
        return mask.size, bytes(mask)

    missing = signature("\U0010fffd")  # a private-use code point: certainly not in the font
    folded: dict[str, str] = {}
    for ch in set(text):
        if ch.isspace() or signature(ch) != missing:
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and base != ch and all(signature(c) != missing for c in base):
            folded[ch] = base
        elif unicodedata.category(ch) == "Pd":  # dashes
            folded[ch] = "-"
    return "".join(folded.get(ch, ch) for ch in text)


def _wrap(text: str, font: _Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by pixel width; overlong words are split; overflow ends in an ellipsis."""
    words = text.split()
    lines: list[str] = []
    current = ""
    overflow = False
    i = 0
    while i < len(words):
        word = words[i]
        candidate = f"{current} {word}" if current else word
        if _text_width(font, candidate) <= max_width:
            current = candidate
            i += 1
            continue
        if not current:  # a single word wider than the line: split it by characters
            cut = max(1, _fit_chars(word, font, max_width))
            current, words[i] = word[:cut], word[cut:]
            if not words[i]:
                i += 1
        if len(lines) == max_lines - 1:
            overflow = True
            break
        lines.append(current)
        current = ""
    if current and not overflow:
        lines.append(current)
    elif overflow:
        last = current
        while last and _text_width(font, last.rstrip() + _ELLIPSIS) > max_width:
            last = last[:-1]
        lines.append(last.rstrip() + _ELLIPSIS)
    return lines or [""]


def _fit_chars(word: str, font: _Font, max_width: float) -> int:
    lo, hi = 0, len(word)
    while lo < hi:  # largest prefix that fits
        mid = (lo + hi + 1) // 2
        if _text_width(font, word[:mid]) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _panel(
    lines: list[str],
    font: _Font,
    size: int,
    text_rgb: tuple[int, int, int],
    box_rgba: tuple[int, int, int, int],
) -> npt.NDArray[np.float64]:
    """Rasterise a rounded box with ``lines`` of text; returns RGBA floats in [0, 1]."""
    pad_x, pad_y = max(4, size // 2), max(3, size // 3)
    line_h = int(size * 1.25)
    text_w = max(math.ceil(_text_width(font, line)) for line in lines)
    w = text_w + 2 * pad_x
    h = line_h * len(lines) + 2 * pad_y
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=max(2, size // 3), fill=box_rgba)
    for n, line in enumerate(lines):
        draw.text((pad_x, pad_y + n * line_h), line, font=font, fill=(*text_rgb, 255))
    return np.asarray(img, dtype=np.float64) / 255.0


# --------------------------------------------------------------------------------------------
# Scene
# --------------------------------------------------------------------------------------------


def _digest(spec: RenderSpec, salt: str) -> bytes:
    return hashlib.sha256(f"{salt}\x00{spec.seed}\x00{spec.prompt}".encode()).digest()


class Scene:
    """Everything precomputed for one render; :meth:`draw` composes one frame in place."""

    def __init__(self, spec: RenderSpec, *, background: bool = True) -> None:
        """``background=False`` skips the gradient strip and sprites (overlays only)."""
        self.w, self.h, self.fps = spec.width, spec.height, spec.fps
        self.total = spec.duration_seconds * spec.fps
        digest = _digest(spec, "video")
        rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))
        base_hue = digest[16] / 256.0
        hues = [base_hue, base_hue + 0.18 + 0.2 * rng.random(), base_hue + 0.5 + 0.2 * rng.random()]
        self.palette = [
            _hsv(hh, 0.55 + 0.35 * rng.random(), 0.55 + 0.4 * rng.random()) for hh in hues
        ]
        short = min(self.w, self.h)
        if background:  # the overlays draw no random numbers: identical either way
            self._build_background(rng)
            self._build_sprites(rng, short)
        self._build_caption(spec.prompt, short)
        self._build_badge(short)
        self._build_timecode(spec, short)
        self._build_progress(short)

    # -- background: a horizontally periodic diagonal gradient, scrolled by a window ----------

    def _build_background(self, rng: np.random.Generator) -> None:
        w, h = self.w, self.h
        period = w  # even, so chroma lines up; the strip is w + period wide
        theta = 2.0 * np.pi * np.arange(period, dtype=np.float64) / period
        phase2 = 2.0 * np.pi * rng.random()
        colours = np.array(self.palette, dtype=np.float64)  # (3, 3)
        weights = np.stack(
            [(0.5 + 0.5 * np.cos(theta - 2.0 * np.pi * k / 3.0)) ** 2 for k in range(3)], axis=1
        )
        weights /= weights.sum(axis=1, keepdims=True)
        lut_rgb = weights @ colours
        lut_rgb *= (0.82 + 0.18 * np.cos(2.0 * theta + phase2))[:, None]
        lut_y, lut_u, lut_v = rgb_to_yuv(np.clip(lut_rgb, 0.0, 1.0))

        slant = 0.35 + 0.5 * rng.random()
        strip_w = w + period
        row_shift = np.rint(np.arange(h) * slant).astype(np.int64) % period
        tiled_y = np.tile(lut_y, 3)
        rows_y = np.lib.stride_tricks.sliding_window_view(tiled_y, strip_w)[row_shift]
        vignette = (0.72 + 0.28 * np.sin(np.pi * (np.arange(h) + 0.5) / h)).astype(np.float32)
        self.bg_y: U8 = _to_u8(16.0 + (rows_y - 16.0) * vignette[:, None])

        chroma_shift = row_shift[::2]
        half_idx = (np.arange(strip_w // 2) * 2)[None, :] + chroma_shift[:, None]
        half_idx %= period
        self.bg_u: U8 = _to_u8(lut_u[half_idx])
        self.bg_v: U8 = _to_u8(lut_v[half_idx])
        self.period = period
        # Scroll by whole chroma pixels every frame (no judder): 2 luma px/frame at 1280 wide.
        self.scroll_step_c = max(1, round(w / 1280))

    # -- sprites: a few soft discs and rings drifting on Lissajous paths -----------------------

    def _build_sprites(self, rng: np.random.Generator, short: int) -> None:
        self.sprites: list[tuple[Overlay, float, float, float, float, float, float]] = []
        count = 5
        for k in range(count):
            radius = int(short * (0.05 + 0.07 * rng.random())) + 2
            size = 2 * radius + 4
            yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
            dist = np.hypot(xx - size / 2 + 0.5, yy - size / 2 + 0.5)
            if k % 2 == 0:  # soft disc
                alpha = np.clip(radius - dist, 0.0, 1.5) / 1.5 * 0.55
            else:  # ring
                thick = max(2.0, radius * 0.18)
                alpha = np.clip(thick - np.abs(dist - (radius - thick)), 0.0, 1.0) * 0.8
            hue_src = self.palette[k % 3]
            lightened = np.clip(np.array(hue_src) * 0.35 + 0.65, 0.0, 1.0)
            rgba = np.empty((size, size, 4), dtype=np.float64)
            rgba[..., :3] = lightened
            rgba[..., 3] = alpha
            fx = 0.04 + 0.10 * rng.random()
            fy = 0.03 + 0.09 * rng.random()
            self.sprites.append(
                (
                    Overlay(rgba),
                    fx,
                    fy,
                    2.0 * np.pi * rng.random(),
                    2.0 * np.pi * rng.random(),
                    0.30 + 0.12 * rng.random(),
                    0.22 + 0.12 * rng.random(),
                )
            )

    # -- caption: the prompt, wrapped, in a translucent box near the bottom -------------------

    def _build_caption(self, prompt: str, short: int) -> None:
        size = max(10, short // 22)
        font = _font(size)
        text = _displayable(" ".join(prompt.split()), font) or "(empty prompt)"
        max_lines = _CAPTION_MAX_LINES if self.h >= 240 else 2
        inner = self.w * 0.86 - size
        lines = _wrap(text, font, inner, max_lines)
        rgba = _panel(lines, font, size, (255, 255, 255), (10, 10, 14, 150))
        self.caption = Overlay(rgba)
        self.caption_x = even_down((self.w - self.caption.w) / 2)
        self.caption_y = even_down(self.h - self.caption.h - max(8, short // 18))

    # -- badge: "SANDBOX" in the top-left corner -----------------------------------------------

    def _build_badge(self, short: int) -> None:
        self.badge = Overlay(_badge_panel(short))
        self.badge_x = self.badge_y = _badge_margin(short)

    # -- timecode: opaque panel in the top-right, digits copied from prerendered tiles --------

    def _build_timecode(self, spec: RenderSpec, short: int) -> None:
        size = max(9, short // 34)
        font = _font(size)
        total_s = spec.duration_seconds
        self.min_digits = max(2, len(str(total_s // 60)))
        self.frame_digits = max(2, len(str(spec.fps - 1)))
        end = f"{total_s // 60:0{self.min_digits}d}:{total_s % 60:02d}"
        template = (
            "0" * self.min_digits + ":00:" + "0" * self.frame_digits + " / " + end
        )  # current time is MM:SS:FF, then the total
        digit_w = math.ceil(max(_text_width(font, d) for d in "0123456789"))
        widths = [digit_w if c.isdigit() else math.ceil(_text_width(font, c)) for c in template]
        pad_x, pad_y = max(4, size // 2), max(3, size // 3)
        cell_h = int(size * 1.25)
        panel_w = _even_up(sum(widths) + 2 * pad_x)
        panel_h = _even_up(cell_h + 2 * pad_y)
        box_luma = 40
        box_rgb = (box_luma / 255.0,) * 3

        base = Image.new("L", (panel_w, panel_h), 0)
        draw = ImageDraw.Draw(base)
        x_positions: list[int] = []
        x = pad_x
        for cw in widths:
            x_positions.append(x)
            x += cw
        n_dynamic = self.min_digits + 1 + 2 + 1 + self.frame_digits
        for ch, px in zip(template[n_dynamic:], x_positions[n_dynamic:], strict=True):
            draw.text((px, pad_y), ch, font=font, fill=255)
        for idx in range(n_dynamic):
            if not template[idx].isdigit():
                draw.text((x_positions[idx], pad_y), template[idx], font=font, fill=255)

        def shade(alpha_img: Image.Image) -> U8:
            a = np.asarray(alpha_img, dtype=np.float32) / 255.0
            y_box, _, _ = rgb_to_yuv(np.array(box_rgb, dtype=np.float32))
            return _to_u8(float(y_box) + (235.0 - float(y_box)) * a)

        self.tc_base_y: U8 = shade(base)
        self.tc_digit_tiles: list[U8] = []
        for d in "0123456789":
            tile = Image.new("L", (digit_w, cell_h), 0)
            ImageDraw.Draw(tile).text(
                ((digit_w - _text_width(font, d)) / 2, 0), d, font=font, fill=255
            )
            self.tc_digit_tiles.append(shade(tile))
        self.tc_digit_x = [x_positions[i] for i in range(n_dynamic) if template[i].isdigit()]
        self.tc_pad_y = pad_y
        self.tc_cell_h = cell_h
        self.tc_x = even_down(self.w - panel_w - max(4, short // 40))
        self.tc_y = even_down(max(4, short // 40))
        self.tc_w, self.tc_h = panel_w, panel_h
        if self.tc_x < 0 or self.tc_w > self.w or self.tc_y + self.tc_h > self.h:
            self.tc_w = 0  # frame too small for a timecode; the progress bar still shows time

    # -- progress bar at the very bottom ------------------------------------------------------

    def _build_progress(self, short: int) -> None:
        self.bar_h = _even_up(max(2, short // 120))
        fill_y, fill_u, fill_v = rgb_to_yuv(
            np.clip(np.array(self.palette[1], dtype=np.float64) * 0.4 + 0.6, 0.0, 1.0)
        )
        self.bar_fill = (int(np.rint(fill_y)), int(np.rint(fill_u)), int(np.rint(fill_v)))
        self.bar_track = (30, 128, 128)

    # -- per frame -------------------------------------------------------------------------------

    def draw(self, frame: av.VideoFrame, index: int) -> None:
        """The full text-to-video frame: background, sprites and every overlay."""
        planes = frame_planes(frame, self.w, self.h)
        self.draw_background(planes, index)
        self.caption.blend(planes, self.caption_x, self.caption_y)
        self.badge.blend(planes, self.badge_x, self.badge_y)
        if self.tc_w:
            self._draw_timecode(planes, index)
        self._draw_progress(planes, index)

    def draw_background(self, planes: Planes, index: int) -> None:
        """The scrolling gradient and drifting sprites (needs ``background=True``)."""
        w, h = self.w, self.h
        py, pu, pv = planes
        off_c = (index * self.scroll_step_c) % (self.period // 2)
        off = 2 * off_c
        np.copyto(py, self.bg_y[:, off : off + w])
        np.copyto(pu, self.bg_u[:, off_c : off_c + w // 2])
        np.copyto(pv, self.bg_v[:, off_c : off_c + w // 2])

        t = index / self.fps
        for sprite, fx, fy, px, py_phase, ax, ay in self.sprites:
            cx = w * (0.5 + ax * math.sin(2.0 * math.pi * fx * t + px))
            cy = h * (0.45 + ay * math.sin(2.0 * math.pi * fy * t + py_phase))
            sprite.blend(planes, even_down(cx - sprite.w / 2), even_down(cy - sprite.h / 2))

    def draw_overlays(self, planes: Planes, index: int, opacity: int = 256) -> None:
        """Caption, timecode and progress bar at ``opacity``/256, then the badge (always opaque).

        A faded overlay is drawn fully and blended back over a snapshot of the rectangles it
        touches, so fading costs a few small region copies rather than a full-frame blend.
        """
        if opacity > 0:
            rects = self._overlay_rects() if opacity < 256 else []
            saved = [
                [
                    plane[y // d : (y + rh) // d, x // d : (x + rw) // d].copy()
                    for plane, d in zip(planes, (1, 2, 2), strict=True)
                ]
                for x, y, rw, rh in rects
            ]
            self.caption.blend(planes, self.caption_x, self.caption_y)
            if self.tc_w:
                self._draw_timecode(planes, index)
            self._draw_progress(planes, index)
            for (x, y, rw, rh), before in zip(rects, saved, strict=True):
                for plane, d, old in zip(planes, (1, 2, 2), before, strict=True):
                    region = plane[y // d : (y + rh) // d, x // d : (x + rw) // d]
                    mixed = old.astype(np.uint16) * (256 - opacity) + region * np.uint16(opacity)
                    np.copyto(region, mixed >> 8, casting="unsafe")
        self.badge.blend(planes, self.badge_x, self.badge_y)

    def _overlay_rects(self) -> list[tuple[int, int, int, int]]:
        """Even-aligned ``(x, y, w, h)`` rectangles covering the caption, timecode and bar."""
        rects: list[tuple[int, int, int, int]] = []
        x0, y0 = max(self.caption_x, 0), max(self.caption_y, 0)
        x1 = min(self.caption_x + self.caption.w, self.w)
        y1 = min(self.caption_y + self.caption.h, self.h)
        if x1 > x0 and y1 > y0:
            rects.append((x0, y0, x1 - x0, y1 - y0))
        if self.tc_w:
            rects.append((self.tc_x, self.tc_y, self.tc_w, self.tc_h))
        rects.append((0, self.h - self.bar_h, self.w, self.bar_h))
        return rects

    def _draw_timecode(self, planes: Planes, index: int) -> None:
        py, pu, pv = planes
        x, y, tw, th = self.tc_x, self.tc_y, self.tc_w, self.tc_h
        region = py[y : y + th, x : x + tw]
        np.copyto(region, self.tc_base_y)
        pu[y // 2 : (y + th) // 2, x // 2 : (x + tw) // 2] = 128
        pv[y // 2 : (y + th) // 2, x // 2 : (x + tw) // 2] = 128
        seconds, frames = divmod(index, self.fps)
        minutes, seconds = divmod(seconds, 60)
        digits = f"{minutes:0{self.min_digits}d}{seconds:02d}{frames:0{self.frame_digits}d}"
        ty = self.tc_pad_y
        for dx, ch in zip(self.tc_digit_x, digits, strict=True):
            tile = self.tc_digit_tiles[ord(ch) - 48]
            region[ty : ty + self.tc_cell_h, dx : dx + tile.shape[1]] = tile

    def _draw_progress(self, planes: Planes, index: int) -> None:
        py, pu, pv = planes
        bh = self.bar_h
        filled = even_down(self.w * (index + 1) / self.total) if index + 1 < self.total else self.w
        for plane, div, k in ((py, 1, 0), (pu, 2, 1), (pv, 2, 2)):
            rows = plane[(self.h - bh) // div :]
            rows[:, : filled // div] = self.bar_fill[k]
            rows[:, filled // div :] = self.bar_track[k]


def even_down(value: float) -> int:
    """The even number at or below ``value``."""
    return math.floor(value / 2.0) * 2


def _even_up(value: float) -> int:
    return math.ceil(value / 2.0) * 2


def plane_view(frame: av.VideoFrame, index: int, width: int, height: int) -> U8:
    """A writable ``(height, width)`` view of one plane of ``frame`` (no copy, padding cut)."""
    plane = frame.planes[index]
    flat: U8 = np.frombuffer(memoryview(plane), dtype=np.uint8)
    return flat[: plane.line_size * height].reshape(height, plane.line_size)[:, :width]


def frame_planes(frame: av.VideoFrame, width: int, height: int) -> Planes:
    """Y, U, V views of a yuv420p ``frame`` of even ``width`` x ``height``."""
    return (
        plane_view(frame, 0, width, height),
        plane_view(frame, 1, width // 2, height // 2),
        plane_view(frame, 2, width // 2, height // 2),
    )


def _badge_margin(short: int) -> int:
    return even_down(max(4, short // 40))


def _badge_panel(short: int) -> npt.NDArray[np.float64]:
    size = max(9, short // 34)
    return _panel([_BADGE_TEXT], _font(size), size, (20, 16, 0), (255, 196, 0, 235))


def badge_rect(width: int, height: int) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` of the SANDBOX badge burnt into every frame of that size (top-left)."""
    short = min(width, height)
    panel = _badge_panel(short)
    margin = _badge_margin(short)
    return margin, margin, _even_up(panel.shape[1]), _even_up(panel.shape[0])


# --------------------------------------------------------------------------------------------
# Audio: a soft pad chord plus a plucked pentatonic melody, synthesised one AAC frame at a time
# --------------------------------------------------------------------------------------------


class Synth:
    """Prompt-derived music, synthesised in blocks of :data:`_SYNTH_BLOCK_FRAMES` AAC frames."""

    def __init__(self, spec: RenderSpec) -> None:
        digest = _digest(spec, "audio")
        rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))
        self.total = spec.duration_seconds * SAMPLE_RATE
        self.position = 0  # samples handed out so far
        self._block: npt.NDArray[np.float32] = np.empty((2, 0), dtype=np.float32)
        self._block_start = 0
        root = 45 + digest[16] % 12  # A2 .. G#3
        third = 4 if digest[17] % 2 else 3  # major or minor
        chord = [root, root + third, root + 7, root + 12]
        self.pad_freqs = [_midi_hz(n) for n in chord]
        self.pad_gain = [0.09, 0.07, 0.07, 0.04]
        bpm = 72 + int(digest[18]) % 40
        self.beat = 60.0 / bpm
        scale = [0, 2, 4, 7, 9] if third == 4 else [0, 3, 5, 7, 10]
        n_notes = math.ceil(spec.duration_seconds / self.beat) + 1
        picks = rng.integers(0, len(scale) * 2, size=n_notes)
        self.melody_hz: F64 = np.array(
            [_midi_hz(root + 24 + scale[p % len(scale)] + 12 * (p // len(scale))) for p in picks],
            dtype=np.float64,
        )
        rests = rng.random(n_notes) < 0.25
        self.melody_gain: F64 = np.where(rests, 0.0, 0.10)
        self.fade_in = min(0.3, spec.duration_seconds / 4)
        self.fade_out = min(0.6, spec.duration_seconds / 4)
        self.duration = float(spec.duration_seconds)

    @property
    def finished(self) -> bool:
        return self.position >= self.total

    def close(self) -> None:
        """Nothing to release (part of the :class:`AudioSource` protocol)."""

    def next_frame(self) -> av.AudioFrame:
        """The next AAC-sized frame (the last one may be shorter)."""
        start = self.position - self._block_start
        if start >= self._block.shape[1]:
            self._block_start = self.position
            self._block = self._synth(self.position, _SYNTH_BLOCK_FRAMES * AAC_FRAME)
            start = 0
        n = min(AAC_FRAME, self.total - self.position)
        chunk = np.ascontiguousarray(self._block[:, start : start + n])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.position
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self.position += n
        return frame

    def _synth(self, first: int, count: int) -> npt.NDArray[np.float32]:
        n = min(count, self.total - first)
        t: F64 = (first + np.arange(n, dtype=np.float64)) / SAMPLE_RATE
        two_pi_t = 2.0 * np.pi * t
        left = np.zeros(n, dtype=np.float64)
        right = np.zeros(n, dtype=np.float64)
        for f, g in zip(self.pad_freqs, self.pad_gain, strict=True):
            left += g * np.sin(two_pi_t * f)
            right += g * np.sin(two_pi_t * (f * 1.003))  # slight detune: stereo width
        tremolo = 0.85 + 0.15 * np.sin(two_pi_t * 0.25)
        left *= tremolo
        right *= tremolo

        note = np.minimum((t / self.beat).astype(np.int64), len(self.melody_hz) - 1)
        local = t - note * self.beat
        env = np.minimum(local / 0.012, 1.0) * np.exp(-local / 0.28) * self.melody_gain[note]
        phase = 2.0 * np.pi * self.melody_hz[note] * local
        pluck = env * (np.sin(phase) + 0.3 * np.sin(2.0 * phase))
        left += 0.8 * pluck
        right += pluck

        master = np.clip(
            np.minimum(t / self.fade_in, (self.duration - t) / self.fade_out), 0.0, 1.0
        )
        block: npt.NDArray[np.float32] = (np.stack([left, right]) * master).astype(np.float32)
        return block


def _midi_hz(note: int) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12.0))


class AudioPump:
    """Produces and encodes the audio track on a helper thread.

    FFmpeg's encoder releases the GIL, so the audio work overlaps with composing and encoding the
    video. Packets come back in encoder order through a bounded queue (flat memory); the main
    thread decides when to mux them, which keeps the file layout independent of thread timing.
    The encoder must already be open (``container.start_encoding()``) before this starts. The
    source is closed on the helper thread when it finishes, fails or is stopped.
    """

    def __init__(self, source: AudioSource, stream: av.AudioStream) -> None:
        self._source = source
        self._stream = stream
        self._queue: queue.Queue[list[av.Packet[Any]] | BaseException | None] = queue.Queue(
            maxsize=48
        )
        self._halt = threading.Event()
        self._pending: deque[av.Packet[Any]] = deque()
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="sandbox-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._source.finished:
                if self._halt.is_set():
                    return
                self._put(self._stream.encode(self._source.next_frame()))
            self._put(self._stream.encode(None))  # flush the encoder's last packets
            self._put(None)
        except BaseException as exc:  # handed to the main thread
            self._put(exc)
        finally:
            self._source.close()

    def _put(self, item: list[av.Packet[Any]] | BaseException | None) -> None:
        while not self._halt.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def packets_until(self, seconds: float) -> list[av.Packet[Any]]:
        """Encoded packets that start before ``seconds`` (blocks until they exist)."""
        out: list[av.Packet[Any]] = []
        while True:
            while self._pending:
                packet = self._pending[0]
                pts, time_base = packet.pts, packet.time_base
                if pts is not None and time_base is not None and pts * time_base >= seconds:
                    return out
                out.append(self._pending.popleft())
            if self._finished:
                self._thread.join()
                return out
            item = self._queue.get()
            if item is None:
                self._finished = True
            elif isinstance(item, BaseException):
                self._finished = True
                raise item
            else:
                self._pending.extend(item)

    def stop(self) -> None:
        """Abandon the track (render aborted) and wait for the thread to exit."""
        self._halt.set()
        self._thread.join()
