"""Sandbox composer: every generation mode rendered from real local input files.

The sandbox engine has no model, but each mode must still produce an honest, playable file
that visibly *uses* its inputs, so that uploads, previews, thumbnails, billing by duration and
"last frame" chaining can be exercised end to end. :func:`render_job` composes one H.264/AAC
MP4 (via :func:`videostudio.media.render.encode_clip`, the same encoder set-up as text to
video), a JPEG poster and optionally a PNG of the last frame:

* ``text``: exactly :func:`~videostudio.media.render.render_text_to_video` (same bytes).
* ``image``: a slow pan and zoom (Ken Burns) over the image cover-fitted to the output; the
  first frame is the cover-fitted image itself.
* ``frames``: starts on ``first_frame`` and ends *exactly* on ``last_frame`` (both cover-fitted):
  each drifts gently (the first zooms in, the last settles out of a zoom) under an eased
  crossfade in the middle half. First only: Ken Burns from it. Last only: from the text scene
  to the last image. Neither: the text scene.
* ``multimodal``: reference images in sequence (equal shares of the duration, short eased
  crossfades, a little drift each); reference videos, each given an equal slot and played at
  their own speed (looped when short), blended at 40 % over the images, or shown alone when
  there are no images; a reference ``audio`` is the soundtrack. Nothing visual: the text scene.
* ``remix``: the input video re-timed onto the duration (output frame ``i`` shows source time
  ``i / N * source_duration``) and restyled: posterised luma mapped onto a palette derived from
  the prompt and seed, ink lines on the source's edges, chroma pulled towards the palette.
  Brightness order is kept, so it is clearly different yet recognisably the same footage.
* ``motion``: the motion video at its native timing (frame ``i`` shows ``i / fps`` s), slightly
  dimmed, with the character image on a rounded card that drifts after the centroid of the
  motion (frame-to-frame luma change) and sways gently.

Guarantees:

* **Exact timing.** ``duration_seconds * fps`` frames at constant ``fps``; the AAC track (a
  reference ``audio`` trimmed or looped to the exact length, else the synthesised soundtrack
  when ``sound``, else none) lasts the same. Input videos' own audio is not used.
  ``ComposeResult.has_audio`` is true iff the file has an audio stream.
* **Streamed, flat memory.** Input videos are decoded forward one frame at a time (re-timing
  and looping never seek backwards or buffer); audio is decoded and encoded in AAC-sized frames
  on a helper thread; stills are converted once to yuv420p planes at output size (plus a 1.08 to
  1.15 times larger copy for pan and zoom). Per frame: Pillow crops/scales of single planes
  (split over two threads), uint16 blends and uint8 look-up tables, written straight into the
  encoder's frame buffer. Peak RSS of a 30 s 1080p multimodal render is ~240 MB, the same as
  for 8 s (``bench/bench_modes.py``).
* **Inputs stay recognisable where it matters.** The SANDBOX badge is always burnt in (top
  left). For every kind but ``text`` the caption, timecode and progress bar fade in after 0.5 s
  and out 0.5 s before the end, and a clip that ends on an image codes its last frame as a
  keyframe, so the first and last frames stay close to the inputs (the tests hold them to
  PSNR >= 30 dB outside the badge).
* **Deterministic.** The same spec and the same input bytes give byte-identical output (the
  encoder settings of render.py; every random choice comes from ``sha256(seed, prompt)``).
* **Clear input errors.** A missing, undecodable, truncated or empty input raises
  :class:`InputMediaError` (a ``ValueError``) naming the file, before the output is created
  when the problem is visible up front (all inputs are opened and their first frame decoded
  first); a problem found mid-stream aborts the render the same way. A Motion Control clip
  shorter than the requested duration is refused the same way. A spec that lacks the input its
  kind needs, or has an invalid size/duration/fps, raises a plain ``ValueError``.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from videostudio.media.frames import (
    StillImage,
    VideoClip,
    VideoLoop,
    frame_to_rgb,
    image_size,
    load_image,
)
from videostudio.media.probe import (
    InputMediaError,
    VideoProbe,
    open_input,
    probe_video,
    scan_packets,
)
from videostudio.media.render import (
    AAC_FRAME,
    SAMPLE_RATE,
    AudioSource,
    Overlay,
    Planes,
    RenderSpec,
    Scene,
    Synth,
    encode_clip,
    even_down,
    explicit_ratio,
    frame_planes,
    output_size,
    rgb_to_yuv,
    round_even,
    short_side,
    validate_spec,
)

__all__ = [
    "ComposeResult",
    "ComposeSpec",
    "InputMediaError",
    "fit_output_size",
    "media_size",
    "render_job",
]

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
I16 = npt.NDArray[np.int16]
F32 = npt.NDArray[np.float32]

Kind = Literal["text", "image", "frames", "multimodal", "remix", "motion"]

_MAX_SIDE: Final = 4096
_POSTER_QUALITY: Final = 85
_OVERLAY_CLEAR_S: Final = 0.5  # first/last seconds without caption, timecode and bar
_OVERLAY_FADE_S: Final = 0.25
_KEN_BURNS_ZOOM: Final = 1.15  # image mode: the view narrows to 1/1.15 of the picture
_DRIFT_ZOOM: Final = 1.08  # frames / multimodal: gentler, two pictures share the clip
_SEQUENCE_FADE_S: Final = 0.5
_VIDEO_OVER_IMAGES: Final = 102  # /256: reference videos at 40 % over the image sequence
_MOTION_TOLERANCE_S: Final = 0.1  # a motion clip may be this much shorter than the output
_AUDIO_CACHE_SAMPLES: Final = 20 * SAMPLE_RATE  # loop short tracks from memory (<= 7.7 MB)
_AUDIO_FADE_IN: Final = SAMPLE_RATE // 100  # 10 ms: no click where the track starts
_AUDIO_FADE_OUT: Final = SAMPLE_RATE // 20  # 50 ms: nor where it is cut


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeSpec:
    """What to render. Equal specs with equal input bytes render identical files."""

    kind: Kind
    prompt: str
    width: int
    height: int
    duration_seconds: int
    fps: int = 24
    sound: bool = False  # synthesized soundtrack (ignored when `audio` is set)
    seed: int = 0
    image: Path | None = None  # "image": Ken Burns source; "motion": the character image
    first_frame: Path | None = None  # "frames": start exactly on this (None: the text scene)
    last_frame: Path | None = None  # "frames": end exactly on this (None: free drift)
    reference_images: tuple[Path, ...] = ()
    reference_videos: tuple[Path, ...] = ()
    audio: Path | None = None  # soundtrack to use (trim/loop to duration)
    video: Path | None = None  # "remix": source; "motion": the motion-driving clip


@dataclass(frozen=True)
class ComposeResult:
    """Properties of the written MP4 (known by construction, equal to what a probe reports)."""

    width: int
    height: int
    fps: int
    frame_count: int
    duration_seconds: float  # frame_count / fps
    has_audio: bool
    bytes: int  # size of the MP4


def fit_output_size(
    aspect_ratio: str | None, quality_mode: str | None, source_size: tuple[int, int] | None
) -> tuple[int, int]:
    """Output width, height: like :func:`~videostudio.media.render.output_size`, but a missing,
    "Auto", "adaptive" (or unusable) ``aspect_ratio`` follows ``source_size`` when given.

    The short side is the quality's resolution; the long side follows the source's ratio,
    rounded to an even number and capped at 4096. E.g. (None, "720p", (1080, 1920)) ->
    (720, 1280); ("Auto", "1080p", (4000, 3000)) -> (1440, 1080); an explicit "16:9" wins
    over the source.
    """
    if source_size is None or explicit_ratio(aspect_ratio) is not None:
        return output_size(aspect_ratio, quality_mode)
    src_w, src_h = source_size
    if src_w <= 0 or src_h <= 0:
        return output_size(aspect_ratio, quality_mode)
    short = short_side(quality_mode)
    if src_w >= src_h:
        return min(round_even(short * src_w / src_h), _MAX_SIDE), short
    return short, min(round_even(short * src_h / src_w), _MAX_SIDE)


def media_size(path: Path) -> tuple[int, int]:
    """Width, height of an image (EXIF orientation applied) or of a video's frames (rotation
    tag applied), as shown. Raises :class:`InputMediaError` if it is neither."""
    path = Path(path)
    if not path.is_file():
        raise InputMediaError(f"{path.name}: the file does not exist")
    try:
        return image_size(path)
    except InputMediaError:
        pass
    try:
        info = probe_video(path)
    except InputMediaError as exc:
        raise InputMediaError(
            f"{path.name}: neither a readable image nor a readable video ({exc})"
        ) from exc
    return info.width, info.height


def render_job(
    spec: ComposeSpec,
    out_path: Path,
    *,
    poster_path: Path,
    last_frame_path: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> ComposeResult:
    """Render ``spec`` to the MP4 ``out_path``, a JPEG poster, and optionally a last-frame PNG.

    The poster is the frame at one third of the clip (output size, JPEG quality 85); the PNG
    is the exact composed last frame (output size, RGB). Parent directories are created.
    ``on_progress`` gets strictly increasing fractions from 0.0 (before any work) to 1.0 (after
    every file is written); an exception raised by it aborts the render and propagates, with
    partial files closed but left for the caller to delete. Raises :class:`InputMediaError`
    for unusable inputs and ``ValueError`` for an invalid spec (see the module docstring).
    """
    rspec = RenderSpec(
        prompt=spec.prompt,
        width=spec.width,
        height=spec.height,
        duration_seconds=spec.duration_seconds,
        fps=spec.fps,
        sound=spec.sound,
        seed=spec.seed,
    )
    validate_spec(rspec)
    _check_inputs(spec)
    out_path, poster_path = Path(out_path), Path(poster_path)
    if on_progress is not None:
        on_progress(0.0)

    total = spec.duration_seconds * spec.fps
    plan = _plan(spec, rspec)
    audio: AudioSource | None = None
    try:
        if spec.audio is not None:
            audio = _FileAudio(spec.audio, spec.duration_seconds)
        elif spec.sound:
            audio = Synth(rspec)
        capture = _Capture(
            spec.width, spec.height, total // 3, total - 1 if last_frame_path else None
        )
        out_path.parent.mkdir(parents=True, exist_ok=True)
        size = encode_clip(
            out_path,
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            total=total,
            compose=plan.draw,
            audio=audio,
            on_progress=on_progress,
            inspect=capture,
            force_keyframe=plan.force_keyframe,
        )
    except BaseException:
        if audio is not None:
            audio.close()  # encode_clip has closed it already if it got that far: harmless
        raise
    finally:
        plan.close()

    assert capture.poster is not None
    poster_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(capture.poster, "RGB").save(poster_path, "JPEG", quality=_POSTER_QUALITY)
    if last_frame_path is not None:
        assert capture.last is not None
        last_frame_path = Path(last_frame_path)
        last_frame_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(capture.last, "RGB").save(last_frame_path, "PNG")

    result = ComposeResult(
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        frame_count=total,
        duration_seconds=total / spec.fps,
        has_audio=audio is not None,
        bytes=size,
    )
    if on_progress is not None:
        on_progress(1.0)
    return result


def _check_inputs(spec: ComposeSpec) -> None:
    needs: dict[str, tuple[str, ...]] = {
        "image": ("image",),
        "remix": ("video",),
        "motion": ("video", "image"),
    }
    if spec.kind not in ("text", "image", "frames", "multimodal", "remix", "motion"):
        raise ValueError(f"unknown kind {spec.kind!r}")
    for field in needs.get(spec.kind, ()):
        if getattr(spec, field) is None:
            raise ValueError(f"kind {spec.kind!r} needs spec.{field}")


class _Capture:
    """Keeps RGB copies of the poster frame and the last frame as they are composed."""

    def __init__(self, width: int, height: int, poster: int, last: int | None) -> None:
        self.width, self.height = width, height
        self.poster_index, self.last_index = poster, last
        self.poster: U8 | None = None
        self.last: U8 | None = None

    def __call__(self, frame: av.VideoFrame, index: int) -> None:
        if index == self.poster_index:
            self.poster = frame_to_rgb(frame)
        if index == self.last_index:
            self.last = frame_to_rgb(frame)


# --------------------------------------------------------------------------------------------
# Layers: each renders the full picture for frame ``index`` into yuv420p planes
# --------------------------------------------------------------------------------------------


class _Layer(ABC):
    """A picture source: :meth:`render` writes frame ``index`` over all of ``out``."""

    @abstractmethod
    def render(self, index: int, out: Planes) -> None:
        """Write frame ``index``."""

    def close(self) -> None:  # noqa: B027 - most layers hold nothing to release
        """Release open inputs (decoders)."""


def _scratch(width: int, height: int) -> Planes:
    return (
        np.empty((height, width), dtype=np.uint8),
        np.empty((height // 2, width // 2), dtype=np.uint8),
        np.empty((height // 2, width // 2), dtype=np.uint8),
    )


def _scratch16(width: int, height: int) -> tuple[U16, U16, U16]:
    return (
        np.empty((height, width), dtype=np.uint16),
        np.empty((height // 2, width // 2), dtype=np.uint16),
        np.empty((height // 2, width // 2), dtype=np.uint16),
    )


class _Blender:
    """``dst = (dst * (256 - w) + src * w) >> 8`` per plane, in preallocated uint16 buffers."""

    def __init__(self, width: int, height: int) -> None:
        self._acc = _scratch16(width, height)
        self._tmp = _scratch16(width, height)

    def mix(self, dst: Planes, src: Planes, weight: int) -> None:
        keep, take = np.uint16(256 - weight), np.uint16(weight)
        for d, s, acc, tmp in zip(dst, src, self._acc, self._tmp, strict=True):
            np.multiply(d, keep, out=acc)
            np.multiply(s, take, out=tmp)
            np.add(acc, tmp, out=acc)
            np.right_shift(acc, 8, out=acc)
            np.copyto(d, acc, casting="unsafe")


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _weight256(x: float) -> int:
    return round(256.0 * _smoothstep(x))


class _TextLayer(_Layer):
    """The text-to-video background: scrolling gradient and drifting sprites."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene

    def render(self, index: int, out: Planes) -> None:
        self.scene.draw_background(out, index)


@dataclass(frozen=True)
class _Move:
    """An eased pan and zoom: ``zoom0``/``centre0`` at frame ``start`` (and before) to
    ``zoom1``/``centre1`` at frame ``end`` (and after); centres are fractions of the picture."""

    zoom0: float
    zoom1: float
    centre0: tuple[float, float]
    centre1: tuple[float, float]
    start: int
    end: int


class _StillLayer(_Layer):
    def __init__(self, still: StillImage, move: _Move) -> None:
        self.still, self.move = still, move

    def render(self, index: int, out: Planes) -> None:
        m = self.move
        u = (index - m.start) / (m.end - m.start) if m.end > m.start else 1.0
        e = _smoothstep(u)
        if e <= 0.0:  # the endpoints exactly, with no float drift
            zoom, (cx, cy) = m.zoom0, m.centre0
        elif e >= 1.0:
            zoom, (cx, cy) = m.zoom1, m.centre1
        else:
            zoom = m.zoom0 + (m.zoom1 - m.zoom0) * e
            cx = m.centre0[0] + (m.centre1[0] - m.centre0[0]) * e
            cy = m.centre0[1] + (m.centre1[1] - m.centre0[1]) * e
        self.still.render(out, zoom, cx, cy)


class _Crossfade(_Layer):
    """``a``, then an eased crossfade to ``b`` over frames ``start..end``, then ``b``."""

    def __init__(self, a: _Layer, b: _Layer, start: int, end: int, width: int, height: int):
        self.a, self.b, self.start, self.end = a, b, start, end
        self._other = _scratch(width, height)
        self._blender = _Blender(width, height)

    def render(self, index: int, out: Planes) -> None:
        span = max(1, self.end - self.start)
        weight = _weight256((index - self.start) / span)
        if weight <= 0:
            self.a.render(index, out)
        elif weight >= 256:
            self.b.render(index, out)
        else:
            self.a.render(index, out)
            self.b.render(index, self._other)
            self._blender.mix(out, self._other, weight)

    def close(self) -> None:
        self.a.close()
        self.b.close()


class _Sequence(_Layer):
    """Layers in equal consecutive slots, with eased crossfades centred on the cuts."""

    def __init__(self, layers: list[_Layer], total: int, fade: int, width: int, height: int):
        self.layers = layers
        n = len(layers)
        self.bounds = [round(k * total / n) for k in range(n + 1)]
        self.half = fade / 2.0
        self._other = _scratch(width, height)
        self._blender = _Blender(width, height)

    def render(self, index: int, out: Planes) -> None:
        k = max(j for j in range(len(self.layers)) if self.bounds[j] <= index)
        pair: tuple[int, int, float] | None = None
        if self.half > 0:
            if k > 0 and index < self.bounds[k] + self.half:
                pair = (k - 1, k, self.bounds[k])
            elif k + 1 < len(self.layers) and index >= self.bounds[k + 1] - self.half:
                pair = (k, k + 1, self.bounds[k + 1])
        if pair is None:
            self.layers[k].render(index, out)
            return
        a, b, cut = pair
        weight = _weight256((index - (cut - self.half)) / (2.0 * self.half))
        if weight <= 0:
            self.layers[a].render(index, out)
        elif weight >= 256:
            self.layers[b].render(index, out)
        else:
            self.layers[a].render(index, out)
            self.layers[b].render(index, self._other)
            self._blender.mix(out, self._other, weight)

    def close(self) -> None:
        for layer in self.layers:
            layer.close()


class _Over(_Layer):
    """``top`` blended at a constant ``alpha``/256 over ``base``."""

    def __init__(self, base: _Layer, top: _Layer, alpha: int, width: int, height: int) -> None:
        self.base, self.top, self.alpha = base, top, alpha
        self._other = _scratch(width, height)
        self._blender = _Blender(width, height)

    def render(self, index: int, out: Planes) -> None:
        self.base.render(index, out)
        self.top.render(index, self._other)
        self._blender.mix(out, self._other, self.alpha)

    def close(self) -> None:
        self.base.close()
        self.top.close()


class _Playlist(_Layer):
    """Videos in equal consecutive slots, each from its start at native speed, looped.

    Only the current slot's decoder is open; a slot's video is opened when the slot starts.
    """

    def __init__(
        self, videos: list[tuple[Path, VideoProbe]], total: int, fps: int, width: int, height: int
    ) -> None:
        self.videos = videos
        n = len(videos)
        self.bounds = [round(k * total / n) for k in range(n + 1)]
        self.fps, self.width, self.height = fps, width, height
        self._slot = -1
        self._loop: VideoLoop | None = None

    def render(self, index: int, out: Planes) -> None:
        k = max(j for j in range(len(self.videos)) if self.bounds[j] <= index)
        if k != self._slot or self._loop is None:
            self.close()
            path, info = self.videos[k]
            self._loop = VideoLoop(path, self.width, self.height, info)
            self._slot = k
        planes = self._loop.frame_at((index - self.bounds[k]) / self.fps)
        for dst, src in zip(out, planes, strict=True):
            np.copyto(dst, src)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


class _Remix(_Layer):
    """The source re-timed onto ``total`` frames and restyled (see :class:`_Restyle`)."""

    def __init__(self, clip: VideoClip, duration: float, total: int, restyle: _Restyle) -> None:
        self.clip, self.duration, self.total, self.restyle = clip, duration, total, restyle
        self._serial = -1
        self._styled: Planes | None = None

    def render(self, index: int, out: Planes) -> None:
        planes = self.clip.frame_at(index * self.duration / self.total)
        if planes is not None and self.clip.serial != self._serial:
            self._styled = self.restyle(planes)  # once per source frame, not per output frame
            self._serial = self.clip.serial
        assert self._styled is not None  # frame 0 (t = 0) always exists
        for dst, src in zip(out, self._styled, strict=True):
            np.copyto(dst, src)

    def close(self) -> None:
        self.clip.close()


class _Restyle:
    """Posterise + palette + ink: a cel-shaded look that keeps the footage's brightness order.

    Luma is cut into five bands on increasing levels, mixed 70/30 with the source luma (flat
    cel areas that keep some texture; the result stays monotonic in the source, hence
    correlated with it). Band changes are eased over a few code values so that coding noise
    on a smooth gradient does not fray the band edges. Each band's colour comes from the
    prompt palette and pulls the chroma three quarters of the way towards it; edges of the
    source luma (central differences) are inked dark. Per frame: uint8 look-ups, int16 math.
    """

    _LEVELS: Final = (34, 78, 122, 168, 214)

    def __init__(self, palette: list[tuple[float, float, float]], width: int, height: int):
        n = len(self._LEVELS)
        dark, mid, light = (np.array(c, dtype=np.float64) for c in palette)
        band_rgb = np.stack([dark * 0.45, dark, mid, light, light * 0.4 + 0.6])
        _, u_band, v_band = rgb_to_yuv(np.clip(band_rgb, 0.0, 1.0))
        codes = np.arange(256, dtype=np.float64)
        pos = np.clip((codes - 16.0) * n / 220.0 - 0.5, 0.0, n - 1.0)  # band centres at k
        k = np.minimum(pos.astype(np.int64), n - 2)
        frac = np.clip((pos - k - 0.4) / 0.2, 0.0, 1.0)  # eased step in the middle fifth
        step = frac * frac * (3.0 - 2.0 * frac)

        def ramp(values: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
            table = np.asarray(values, dtype=np.float64)
            out: npt.NDArray[np.float64] = table[k] + (table[k + 1] - table[k]) * step
            return out

        levels = ramp(np.array(self._LEVELS, dtype=np.float64))
        self.y_lut: U8 = np.rint(0.7 * levels + 0.3 * codes).astype(np.uint8)
        self.u_lut: U16 = np.rint(3.0 * ramp(u_band)).astype(np.uint16)
        self.v_lut: U16 = np.rint(3.0 * ramp(v_band)).astype(np.uint16)
        edge = np.arange(256, dtype=np.float64)
        self.ink_lut: U8 = np.clip((edge - 14.0) * 3.0, 0, 150).astype(np.uint8)
        self.width, self.height = width, height

    def __call__(self, planes: Planes) -> Planes:
        y, u, v = planes
        # Edge strength = max(|horizontal|, |vertical|) central difference, all in uint8:
        # |a - b| as max - min never wraps, so nothing needs widening (1 byte per pixel).
        edge = np.zeros(y.shape, dtype=np.uint8)
        left, right = y[:, :-2], y[:, 2:]
        np.subtract(np.maximum(left, right), np.minimum(left, right), out=edge[:, 1:-1])
        above, below = y[:-2], y[2:]
        vertical = np.maximum(above, below)
        vertical -= np.minimum(above, below)
        np.maximum(edge[1:-1], vertical, out=edge[1:-1])
        ink = np.take(self.ink_lut, edge)
        out_y = np.take(self.y_lut, y)
        np.minimum(ink, out_y - np.uint8(16), out=ink)  # ink never goes below video black
        out_y -= ink
        sub = y[::2, ::2]
        chroma: list[U8] = []
        for lut, plane in ((self.u_lut, u), (self.v_lut, v)):
            mixed = np.take(lut, sub)  # 3 x the palette's chroma, uint16
            mixed += plane
            mixed >>= 2
            chroma.append(mixed.astype(np.uint8))
        return out_y, chroma[0], chroma[1]


class _Motion(_Layer):
    """The motion clip at native timing, dimmed, with a character card riding on its motion.

    The card's target is the centroid of the frame-to-frame luma change (on a 1/8 grid), so
    it drifts towards where things move; it is eased towards the target (no jitter), scaled
    to stay on screen, and sways slowly on top.
    """

    def __init__(self, clip: VideoClip, card: Overlay, fps: int, width: int, height: int) -> None:
        self.clip, self.card, self.fps = clip, card, fps
        self.width, self.height = width, height
        self._dim: U8 = np.rint(16.0 + (np.arange(256) - 16.0) * 0.78).clip(0, 255).astype(np.uint8)
        self._prev: I16 | None = None
        self._serial = -1
        self._target = (0.5, 0.5)
        self._pos = (0.5, 0.5)

    def render(self, index: int, out: Planes) -> None:
        t = index / self.fps
        planes = self.clip.frame_at(t)
        if planes is None:
            end = self.clip.end_time or 0.0
            raise InputMediaError(
                f"{self.clip.path.name}: the motion video ends at {end:.2f} s, but "
                f"{t:.2f} s of motion are needed; it must be at least as long as the clip"
            )
        if self.clip.serial != self._serial:
            self._serial = self.clip.serial
            self._track(planes[0])
        np.take(self._dim, planes[0], out=out[0])
        np.copyto(out[1], planes[1])
        np.copyto(out[2], planes[2])

        px, py = self._pos
        px += (self._target[0] - px) * 0.12
        py += (self._target[1] - py) * 0.12
        self._pos = (px, py)
        sway_x = 0.015 * math.sin(2.0 * math.pi * t / 3.1)
        sway_y = 0.012 * math.sin(2.0 * math.pi * t / 2.3 + 1.0)
        cw, ch = self.card.w, self.card.h
        margin = max(4, min(self.width, self.height) // 40)
        cx = self.width * (0.5 + 0.6 * (px - 0.5) + sway_x)
        cy = self.height * (0.5 + 0.5 * (py - 0.5) + sway_y)
        x = min(max(cx - cw / 2.0, margin), self.width - cw - margin)
        y = min(max(cy - ch / 2.0, margin), self.height - ch - margin)
        self.card.blend(out, even_down(x), even_down(y))

    def _track(self, luma: U8) -> None:
        small = luma[::8, ::8].astype(np.int16)
        if self._prev is not None and self._prev.shape == small.shape:
            change = np.abs(small - self._prev).astype(np.float64)
            mass = float(change.sum())
            if mass > 2.0 * change.size:  # ignore noise-level changes
                rows = (np.arange(change.shape[0]) + 0.5) / change.shape[0]
                cols = (np.arange(change.shape[1]) + 0.5) / change.shape[1]
                self._target = (
                    float(change.sum(axis=0) @ cols) / mass,
                    float(change.sum(axis=1) @ rows) / mass,
                )
        self._prev = small

    def close(self) -> None:
        self.clip.close()


def _card(img: Image.Image, width: int, height: int) -> Overlay:
    """The character image on a rounded, white-rimmed card, ~60 % of the frame height."""
    aspect = img.width / img.height
    card_h = 0.6 * height
    card_w = card_h * aspect
    if card_w > 0.44 * width:
        card_w = 0.44 * width
        card_h = card_w / aspect
    cw, ch = max(8, even_down(card_w)), max(8, even_down(card_h))
    short = min(width, height)
    rim = max(2, short // 160)
    radius = max(3, min(cw, ch) // 10)
    inner = img.resize(
        (cw - 2 * rim, ch - 2 * rim), Image.Resampling.LANCZOS, reducing_gap=3.0
    ).convert("RGBA")
    card = Image.new("RGBA", (cw, ch), (255, 255, 255, 255))
    card.paste(inner, (rim, rim))
    ss = 4  # supersampled mask: antialiased rounded corners
    mask = Image.new("L", (cw * ss, ch * ss), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, cw * ss - 1, ch * ss - 1), radius=radius * ss, fill=255
    )
    card.putalpha(mask.resize((cw, ch), Image.Resampling.BOX))
    return Overlay(np.asarray(card, dtype=np.float64) / 255.0)


# --------------------------------------------------------------------------------------------
# Plans: the layer tree and overlay policy for one spec
# --------------------------------------------------------------------------------------------


class _Plan:
    """Composes each frame: the layer tree, then overlays (badge always, the rest faded)."""

    def __init__(
        self,
        scene: Scene,
        layer: _Layer | None,
        total: int,
        fps: int,
        keyframe_last: bool,
    ) -> None:
        self.scene, self.layer, self.total, self.fps = scene, layer, total, fps
        self.keyframe_last = keyframe_last

    def draw(self, frame: av.VideoFrame, index: int) -> None:
        if self.layer is None:  # the plain text scene: exactly text to video
            self.scene.draw(frame, index)
            return
        planes = frame_planes(frame, self.scene.w, self.scene.h)
        self.layer.render(index, planes)
        self.scene.draw_overlays(planes, index, self._overlay_opacity(index))

    def _overlay_opacity(self, index: int) -> int:
        t, end = index / self.fps, self.total / self.fps
        fade_in = (t - _OVERLAY_CLEAR_S) / _OVERLAY_FADE_S
        fade_out = (end - _OVERLAY_CLEAR_S - t) / _OVERLAY_FADE_S
        return round(256.0 * min(1.0, max(0.0, min(fade_in, fade_out))))

    def force_keyframe(self, index: int) -> bool:
        # The last frame of an image-based clip must match its image: an IDR frame codes it
        # from scratch, at the quality of a first frame.
        return self.keyframe_last and index == self.total - 1

    def close(self) -> None:
        if self.layer is not None:
            self.layer.close()


def _rng(spec: ComposeSpec) -> np.random.Generator:
    digest = hashlib.sha256(f"compose\x00{spec.seed}\x00{spec.prompt}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))


def _drift(rng: np.random.Generator, zoom: float) -> tuple[float, float]:
    """A centre offset in a random direction that a view at ``zoom`` can always reach."""
    reach = 0.8 * (0.5 - 0.5 / zoom)
    angle = 2.0 * math.pi * float(rng.random())
    return 0.5 + reach * math.cos(angle), 0.5 + reach * math.sin(angle)


def _plan(spec: ComposeSpec, rspec: RenderSpec) -> _Plan:
    """Open every input (decoding first frames: bad inputs fail here) and build the layers."""
    w, h, fps = spec.width, spec.height, spec.fps
    total = spec.duration_seconds * fps
    last = max(1, total - 1)
    rng = _rng(spec)
    centre = (0.5, 0.5)
    kind = spec.kind
    layer: _Layer | None = None
    keyframe_last = False
    scene: Scene | None = None  # overlays, and the text background where one is drawn

    if kind == "image":
        assert spec.image is not None
        still = StillImage.from_path(spec.image, w, h, _KEN_BURNS_ZOOM)
        layer = _StillLayer(
            still, _Move(1.0, _KEN_BURNS_ZOOM, centre, _drift(rng, _KEN_BURNS_ZOOM), 0, last)
        )
    elif kind == "frames" and (spec.first_frame is not None or spec.last_frame is not None):
        first: _Layer | None = None
        if spec.first_frame is not None:
            zoom = _KEN_BURNS_ZOOM if spec.last_frame is None else _DRIFT_ZOOM
            still = StillImage.from_path(spec.first_frame, w, h, zoom)
            first = _StillLayer(still, _Move(1.0, zoom, centre, _drift(rng, zoom), 0, last))
        if spec.last_frame is None:
            layer = first
        else:
            still = StillImage.from_path(spec.last_frame, w, h, _DRIFT_ZOOM)
            end = _StillLayer(
                still, _Move(_DRIFT_ZOOM, 1.0, _drift(rng, _DRIFT_ZOOM), centre, 0, last)
            )
            if first is None:
                scene = Scene(rspec)
                first = _TextLayer(scene)
            layer = _Crossfade(first, end, round(0.25 * last), round(0.75 * last), w, h)
            keyframe_last = True
    elif kind == "multimodal" and (spec.reference_images or spec.reference_videos):
        playlist: _Layer | None = None
        if spec.reference_videos:
            videos = [(Path(p), _checked_video(Path(p))) for p in spec.reference_videos]
            playlist = _Playlist(videos, total, fps, w, h)
        if spec.reference_images:
            n = len(spec.reference_images)
            bounds = [round(k * total / n) for k in range(n + 1)]
            fade = min(round(_SEQUENCE_FADE_S * fps), (total // n) // 3)
            stills: list[_Layer] = []
            for k, path in enumerate(spec.reference_images):
                still = StillImage.from_path(path, w, h, _DRIFT_ZOOM)
                span0 = max(0, bounds[k] - fade // 2)
                span1 = min(last, bounds[k + 1] + fade // 2)
                drift = _drift(rng, _DRIFT_ZOOM)
                move = (
                    _Move(1.0, _DRIFT_ZOOM, centre, drift, span0, span1)
                    if k % 2 == 0
                    else _Move(_DRIFT_ZOOM, 1.0, drift, centre, span0, span1)
                )
                stills.append(_StillLayer(still, move))
            layer = stills[0] if n == 1 else _Sequence(stills, total, fade, w, h)
            if playlist is not None:
                layer = _Over(layer, playlist, _VIDEO_OVER_IMAGES, w, h)
        else:
            layer = playlist
    elif kind == "remix":
        assert spec.video is not None
        info = _checked_video(spec.video)
        clip = VideoClip(spec.video, w, h, info)
        palette = Scene(rspec, background=False).palette
        layer = _Remix(clip, info.duration_seconds, total, _Restyle(palette, w, h))
    elif kind == "motion":
        assert spec.video is not None and spec.image is not None
        info = _checked_video(spec.video)
        needed = float(spec.duration_seconds)
        if info.duration_seconds < needed - _MOTION_TOLERANCE_S:
            raise InputMediaError(
                f"{spec.video.name}: the motion video is {info.duration_seconds:.2f} s long, "
                f"shorter than the requested {spec.duration_seconds} s"
            )
        with load_image(spec.image, cover=(w, h)) as img:
            card = _card(img, w, h)
        layer = _Motion(VideoClip(spec.video, w, h, info), card, fps, w, h)

    if scene is None:  # the gradient strip and sprites are only built when drawn
        scene = Scene(rspec, background=layer is None)
    return _Plan(scene, layer, total, fps, keyframe_last)


def _checked_video(path: Path) -> VideoProbe:
    """Probe ``path`` and demux it once: refuse a file whose packets stop well before the
    duration its header declares (a truncated upload), before any rendering starts."""
    info = probe_video(path)
    span, count = scan_packets(path)
    if count == 0:
        raise InputMediaError(f"{path.name}: the video holds no frames")
    step = 1.0 / info.fps if info.fps > 0 else 1.0 / 24.0
    if info.duration_seconds > 0 and span < info.duration_seconds - max(0.25, 3 * step):
        raise InputMediaError(
            f"{path.name}: the video data stops at {span:.2f} s although its header says "
            f"{info.duration_seconds:.2f} s; the file looks truncated"
        )
    if info.duration_seconds <= 0:
        info = replace(info, duration_seconds=span)
    if info.duration_seconds <= 0:
        raise InputMediaError(f"{path.name}: the video has no known duration")
    return info


# --------------------------------------------------------------------------------------------
# Audio from a file: decoded, resampled to 48 kHz stereo, trimmed or looped to the duration
# --------------------------------------------------------------------------------------------


class _FileAudio:
    """An :class:`~videostudio.media.render.AudioSource` playing an input file's first track.

    Decoding streams in FFmpeg-sized blocks through a resampler (any rate/layout -> 48 kHz
    stereo fltp). When the track ends before the clip does it starts again: from memory when
    the whole track was short enough to keep (<= 20 s), otherwise by decoding the file afresh,
    so memory stays bounded either way. Short fades at the very start and end avoid clicks.
    The first block is decoded on construction, so an unusable file fails before rendering.
    """

    def __init__(self, path: Path, seconds: int) -> None:
        self.path = Path(path)
        self.total = seconds * SAMPLE_RATE
        self.position = 0
        self._blocks: deque[F32] = deque()
        self._offset = 0  # samples of _blocks[0] already handed out
        self._buffered = 0
        self._cache: list[F32] | None = []
        self._cached = 0
        self._pass_samples = 0
        self._whole: F32 | None = None  # the complete track, once known to be short
        self._decoder: Generator[F32, None, None] | None = self._decode_pass()
        self._fill(1)

    @property
    def finished(self) -> bool:
        return self.position >= self.total

    def next_frame(self) -> av.AudioFrame:
        n = min(AAC_FRAME, self.total - self.position)
        self._fill(n)
        parts: list[F32] = []
        need = n
        while need:
            block = self._blocks[0]
            take = min(need, block.shape[1] - self._offset)
            parts.append(block[:, self._offset : self._offset + take])
            self._offset += take
            need -= take
            if self._offset == block.shape[1]:
                self._blocks.popleft()
                self._offset = 0
        self._buffered -= n
        chunk = np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)
        positions = self.position + np.arange(n, dtype=np.float64)
        gain = np.minimum(
            np.minimum(positions / _AUDIO_FADE_IN, (self.total - positions) / _AUDIO_FADE_OUT),
            1.0,
        )
        if gain.min() < 1.0:
            chunk = (chunk * gain.astype(np.float32)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.position
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self.position += n
        return frame

    def close(self) -> None:
        if self._decoder is not None:
            self._decoder.close()  # runs the generator's finally: closes the container
            self._decoder = None

    def _fill(self, n: int) -> None:
        while self._buffered < n:
            block = self._pull()
            self._blocks.append(block)
            self._buffered += block.shape[1]

    def _pull(self) -> F32:
        """The next block of the endless (looped) track."""
        while True:
            if self._whole is not None:
                return self._whole
            assert self._decoder is not None
            block = next(self._decoder, None)
            if block is not None:
                self._pass_samples += block.shape[1]
                if self._cache is not None:
                    self._cache.append(block)
                    self._cached += block.shape[1]
                    if self._cached > _AUDIO_CACHE_SAMPLES:
                        self._cache = None
                return block
            if self._pass_samples == 0:
                raise InputMediaError(f"{self.path.name}: the audio track holds no sound")
            self.close()
            if self._cache is not None:  # the whole track is in memory: loop from there
                self._whole = np.ascontiguousarray(np.concatenate(self._cache, axis=1))
                self._cache = None
            else:
                self._pass_samples = 0
                self._decoder = self._decode_pass()

    def _decode_pass(self) -> Generator[F32, None, None]:
        container = open_input(self.path, "audio")
        try:
            if not container.streams.audio:
                raise InputMediaError(f"{self.path.name}: the file has no audio track")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        if out.samples:
                            yield out.to_ndarray().astype(np.float32, copy=False)
                for out in resampler.resample(None):
                    if out.samples:
                        yield out.to_ndarray().astype(np.float32, copy=False)
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                if isinstance(exc, InputMediaError):
                    raise
                raise InputMediaError(
                    f"{self.path.name}: the audio is damaged and cannot be decoded ({exc})"
                ) from exc
        finally:
            container.close()
