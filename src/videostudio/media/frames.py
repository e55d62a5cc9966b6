"""Input pictures for the sandbox composer: still images and streamed video, as yuv420p planes.

Everything the composer (:mod:`videostudio.media.compose`) draws from an input passes through
here, already framed for the output: *cover-fitted* (scaled to fill the output, centred, the
overflow cropped) and converted once to BT.709 limited-range Y/U/V planes, the encoder's own
format, so the per-frame work is plane copies, crops and blends, never a colour conversion.

* **Stills** (:class:`StillImage`) are decoded with Pillow, EXIF orientation applied, alpha
  composited over black. JPEGs are decoded at a reduced DCT scale when the output is much
  smaller than the photo (``Image.draft``), so a 24-megapixel upload costs a fraction of a full
  decode. A still keeps its exact cover-fit at output size (so a clip can start or end on
  *exactly* the input) and, for pan and zoom, a cover-fit ``max_zoom`` times larger whose
  planes are cropped and scaled per frame by Pillow (sub-pixel boxes: smooth, not steppy;
  swscale would be faster but only crops on whole pixels, which makes slow pans judder). Pillow
  releases the GIL while scaling, so half of each frame is scaled on a helper thread.
* **Video** (:class:`VideoClip`) is decoded strictly forward, one frame at a time, with a
  time-to-frame lookup that only ever moves forward: re-timing and looping never seek and
  never buffer, so memory stays flat whatever the input's length. Frames that the output
  skips are decoded (H.264 needs them) but never converted. The display matrix is honoured.
  A clip that ends well before its header says is reported as truncated.

Every decoding failure becomes :class:`~videostudio.media.probe.InputMediaError` naming the
file and the problem.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, Interpolation, VideoReformatter
from PIL import Image, ImageOps, UnidentifiedImageError

from videostudio.media.probe import (
    InputMediaError,
    VideoProbe,
    display_rotation,
    open_input,
    probe_video,
)
from videostudio.media.render import Planes, frame_planes, rgb_to_yuv, round_even

__all__ = [
    "StillImage",
    "VideoClip",
    "VideoLoop",
    "cover_box",
    "frame_to_rgb",
    "image_size",
    "load_image",
    "rgb_to_planes",
]

U8 = npt.NDArray[np.uint8]

_EXIF_ORIENTATION: Final = 0x0112
_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})  # EXIF orientations that rotate by 90 degrees
_IMAGE_ERRORS: Final = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    MemoryError,
)
_STRIPE_ROWS: Final = 128  # even, so stripes split into whole chroma rows
_TIME_EPS: Final = 1e-4  # seconds; absorbs float rounding between pts*time_base and i/fps


# --------------------------------------------------------------------------------------------
# Colour conversion (BT.709, limited range; matches render.py and the stream's tags)
# --------------------------------------------------------------------------------------------


def rgb_to_planes(rgb: U8) -> Planes:
    """``(H, W, 3)`` uint8 RGB with even H, W -> contiguous Y ``(H, W)``, U, V ``(H/2, W/2)``.

    Chroma is the 2x2 mean (centred siting); averaging RGB first is exact because the
    RGB -> U/V map is linear, and four times cheaper. Converted in stripes of rows so the
    float temporaries stay small (a few MB) whatever the picture size.
    """
    h, w = rgb.shape[0], rgb.shape[1]
    if h % 2 or w % 2:
        raise ValueError(f"plane conversion needs even sizes, got {w}x{h}")
    y = np.empty((h, w), np.uint8)
    u = np.empty((h // 2, w // 2), np.uint8)
    v = np.empty((h // 2, w // 2), np.uint8)
    for top in range(0, h, _STRIPE_ROWS):
        rows = rgb[top : top + _STRIPE_ROWS]
        scaled = rows.astype(np.float32) * np.float32(1.0 / 255.0)
        y[top : top + rows.shape[0]] = _u8(rgb_to_yuv(scaled)[0])
        mean = scaled.reshape(rows.shape[0] // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
        _, su, sv = rgb_to_yuv(mean)
        u[top // 2 : (top + rows.shape[0]) // 2] = _u8(su)
        v[top // 2 : (top + rows.shape[0]) // 2] = _u8(sv)
    return y, u, v


def frame_to_rgb(frame: av.VideoFrame) -> U8:
    """A composed yuv420p frame (BT.709 limited range) -> ``(H, W, 3)`` uint8 RGB.

    swscale with accurate rounding and full horizontal chroma interpolation: within 0.1 % of
    an exact float conversion with bilinear chroma, at a few milliseconds for 1080p.
    """
    rgb = frame.to_ndarray(
        format="rgb24",
        src_colorspace=Colorspace.ITU709,
        dst_colorspace=Colorspace.ITU709,
        src_color_range=ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=Interpolation.BILINEAR
        | Interpolation.ACCURATE_RND
        | Interpolation.FULL_CHR_H_INT,
        threads=1,
    )
    return np.asarray(rgb, dtype=np.uint8)


def _u8(values: npt.NDArray[np.floating]) -> U8:
    out: U8 = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------------
# Still images
# --------------------------------------------------------------------------------------------


def cover_box(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[float, float, float, float]:
    """The centred crop of a ``src_w x src_h`` picture with the aspect ratio of ``dst``."""
    scale = max(dst_w / src_w, dst_h / src_h)
    crop_w, crop_h = min(src_w, dst_w / scale), min(src_h, dst_h / scale)
    x0, y0 = max(0.0, (src_w - crop_w) / 2.0), max(0.0, (src_h - crop_h) / 2.0)
    return x0, y0, min(float(src_w), x0 + crop_w), min(float(src_h), y0 + crop_h)


def image_size(path: Path) -> tuple[int, int]:
    """Width, height of the image as shown (EXIF rotation applied), from its header only."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            w, h = img.size
            if _orientation(img) in _SWAPS_AXES:
                w, h = h, w
            return w, h
    except FileNotFoundError as exc:
        raise InputMediaError(f"{path.name}: the image file does not exist") from exc
    except _IMAGE_ERRORS as exc:
        raise InputMediaError(f"{path.name}: not a readable image ({_why(exc)})") from exc


def load_image(path: Path, cover: tuple[int, int] | None = None) -> Image.Image:
    """Decode ``path`` to an upright RGB image (EXIF orientation applied, alpha over black).

    With ``cover`` (the largest size the image will be cover-fitted to), a JPEG is decoded at
    the smallest DCT scale that still covers it. Raises :class:`InputMediaError` for anything
    that is not a complete, decodable image.
    """
    path = Path(path)
    try:
        img = Image.open(path)
    except FileNotFoundError as exc:
        raise InputMediaError(f"{path.name}: the image file does not exist") from exc
    except _IMAGE_ERRORS as exc:
        raise InputMediaError(
            f"{path.name}: not a readable image (expected PNG, JPEG, WebP, GIF, BMP or TIFF; "
            f"{_why(exc)})"
        ) from exc
    try:
        with img:
            if cover is not None and img.format == "JPEG":
                want_w, want_h = cover
                if _orientation(img) in _SWAPS_AXES:
                    want_w, want_h = want_h, want_w
                scale = max(want_w / img.width, want_h / img.height)
                if scale < 0.5:  # draft only ever reduces by powers of two, never below this
                    img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
            img.load()
            # exif_transpose returns a new image even without an orientation tag, so closing
            # ``img`` (the file) on leaving this block cannot invalidate what is returned.
            upright = ImageOps.exif_transpose(img)
            return _flatten_rgb(upright)
    except _IMAGE_ERRORS as exc:
        raise InputMediaError(
            f"{path.name}: the image is damaged or truncated and cannot be decoded ({_why(exc)})"
        ) from exc


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block is no reason to refuse the picture itself
        return 1


def _flatten_rgb(img: Image.Image) -> Image.Image:
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(black, rgba).convert("RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: keep the top byte
        grey = np.asarray(img, dtype=np.uint32) >> 8
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
    return img.convert("RGB") if img.mode != "RGB" else img


def _fit(img: Image.Image, width: int, height: int) -> U8:
    box = cover_box(img.width, img.height, width, height)
    fitted = img.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    out: U8 = np.asarray(fitted, dtype=np.uint8)
    return out


class StillImage:
    """An image framed for one output size: its exact cover-fit and a pan-and-zoom source.

    :meth:`render` shows the view at ``zoom`` (1 = the whole cover-fit, up to ``max_zoom``)
    centred at ``(cx, cy)`` (fractions of the cover-fit, clamped so the view stays inside).
    ``zoom == 1`` centred gives the exact cover-fit planes, so first/last frames can equal the
    input exactly. Memory: the exact planes plus ``max_zoom**2`` times one frame.
    """

    def __init__(self, img: Image.Image, width: int, height: int, max_zoom: float) -> None:
        self.width, self.height = width, height
        self.max_zoom = max(1.0, max_zoom)
        self.exact: Planes = rgb_to_planes(_fit(img, width, height))
        self._src: tuple[Image.Image, Image.Image, Image.Image] | None = None
        self._src_w = self._src_h = 0
        if self.max_zoom > 1.0:
            sw = round_even(width * self.max_zoom)
            sh = round_even(height * self.max_zoom)
            y, u, v = rgb_to_planes(_fit(img, sw, sh))
            self._src = (Image.fromarray(y, "L"), Image.fromarray(u, "L"), Image.fromarray(v, "L"))
            self._src_w, self._src_h = sw, sh

    @classmethod
    def from_path(cls, path: Path, width: int, height: int, max_zoom: float) -> StillImage:
        cover = (math.ceil(width * max(1.0, max_zoom)), math.ceil(height * max(1.0, max_zoom)))
        with load_image(path, cover=cover) as img:
            return cls(img, width, height, max_zoom)

    def render(self, out: Planes, zoom: float, cx: float, cy: float) -> None:
        centred = abs(cx - 0.5) < 1e-9 and abs(cy - 0.5) < 1e-9
        if self._src is None or (zoom <= 1.0 + 1e-9 and centred):
            for dst, exact in zip(out, self.exact, strict=True):
                np.copyto(dst, exact)
            return
        zoom = min(max(zoom, 1.0), self.max_zoom)
        bw, bh = self._src_w / zoom, self._src_h / zoom
        x0 = min(max(cx * self._src_w - bw / 2.0, 0.0), self._src_w - bw)
        y0 = min(max(cy * self._src_h - bh / 2.0, 0.0), self._src_h - bh)
        y_src, u_src, v_src = self._src
        out_y, out_u, out_v = out
        # Pillow's resize releases the GIL: the top half of Y and U are scaled here while a
        # helper thread scales the bottom half of Y and V (about 2x faster per frame when a
        # core is free). The split is fixed, so the output is as deterministic as ever.
        split = max(2, self.height // 4 * 2)
        y_mid = y0 + bh * split / self.height
        chroma_box = (x0 / 2.0, y0 / 2.0, (x0 + bw) / 2.0, (y0 + bh) / 2.0)

        def top() -> None:
            _resize_into(out_y[:split], y_src, (x0, y0, x0 + bw, y_mid))
            _resize_into(out_u, u_src, chroma_box)

        def bottom() -> None:
            if split < self.height:
                _resize_into(out_y[split:], y_src, (x0, y_mid, x0 + bw, y0 + bh))
            _resize_into(out_v, v_src, chroma_box)

        helper = _resize_pool().submit(bottom)
        try:
            top()
        finally:
            helper.result()


def _resize_into(dst: U8, src: Image.Image, box: tuple[float, float, float, float]) -> None:
    size = (dst.shape[1], dst.shape[0])
    np.copyto(dst, np.asarray(src.resize(size, Image.Resampling.BILINEAR, box=box)))


_POOL_LOCK = threading.Lock()
_POOL: list[ThreadPoolExecutor] = []


def _resize_pool() -> ThreadPoolExecutor:
    """One helper thread for the whole process, created on first use."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-resize"))
        return _POOL[0]


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


# --------------------------------------------------------------------------------------------
# Video, streamed forward
# --------------------------------------------------------------------------------------------


class VideoClip:
    """One forward pass over a video, cover-fitted to ``width`` x ``height``.

    :meth:`frame_at` returns the planes of the last frame shown at or before ``t`` seconds
    (relative to the first frame), for non-decreasing ``t``; ``None`` once ``t`` is past the
    end of the clip. :attr:`serial` changes whenever a different source frame is returned,
    so callers can cache work derived from it. The first frame is decoded on construction
    (an undecodable file fails before any output is written).
    """

    def __init__(self, path: Path, width: int, height: int, info: VideoProbe | None = None) -> None:
        self.path = Path(path)
        self.width, self.height = width, height
        info = info if info is not None else probe_video(self.path)
        self.declared_duration = info.duration_seconds
        self._frame_step = 1.0 / info.fps if info.fps > 0 else 1.0 / 24.0
        self._last_raw: float | None = None
        self._origin = 0.0
        self._container = open_input(self.path, "video")
        try:
            stream = self._container.streams.video[0]
            # Decoder threads are safe for determinism: H.264 decoding is bit-exact.
            stream.thread_type = "AUTO"
            self._frames: Iterator[av.VideoFrame] = self._container.decode(stream)
            self._reformatter = VideoReformatter()
            first = self._read()
            if first is None:
                raise InputMediaError(f"{self.path.name}: the video holds no decodable frame")
            self._origin = first[1]
            self._current: tuple[av.VideoFrame, float] = (first[0], 0.0)
            self._next = self._read()
            self.end_time: float | None = None  # known once the last frame has been read
            self._check_end()
        except BaseException:
            self._container.close()
            raise
        self._planes: Planes | None = None
        self.serial = 0

    def close(self) -> None:
        self._container.close()

    def frame_at(self, t: float) -> Planes | None:
        moved = False
        while self._next is not None and self._next[1] <= t + _TIME_EPS:
            self._current = self._next
            self._next = self._read()
            moved = True
        if moved:
            self._check_end()
        if self.end_time is not None and t >= self.end_time - _TIME_EPS:
            return None
        if moved or self._planes is None:
            self._planes = self._convert(self._current[0])
            self.serial += 1
        return self._planes

    def _check_end(self) -> None:
        if self._next is not None:
            return
        self.end_time = self._current[1] + self._frame_step
        declared = self.declared_duration
        if declared > 0 and self.end_time < declared - max(0.25, 3 * self._frame_step):
            raise InputMediaError(
                f"{self.path.name}: the video stops at {self.end_time:.2f} s although its header "
                f"says {declared:.2f} s; the file looks truncated"
            )

    def _read(self) -> tuple[av.VideoFrame, float] | None:
        """The next decoded frame and its time relative to the first frame."""
        try:
            frame = next(self._frames, None)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise InputMediaError(
                f"{self.path.name}: the video is damaged and cannot be decoded ({_why(exc)})"
            ) from exc
        if frame is None:
            return None
        if frame.pts is not None and frame.time_base is not None:
            raw = float(frame.pts * frame.time_base)
        else:  # no timestamps: assume a constant rate
            raw = 0.0 if self._last_raw is None else self._last_raw + self._frame_step
        self._last_raw = raw
        return frame, raw - self._origin

    def _convert(self, frame: av.VideoFrame) -> Planes:
        """Cover-fit ``frame`` (rotation applied) to the output size, as owned planes."""
        quarter_turns = display_rotation(frame) // 90
        src_w, src_h = frame.width, frame.height
        shown_w, shown_h = (src_h, src_w) if quarter_turns % 2 else (src_w, src_h)
        scale = max(self.width / shown_w, self.height / shown_h)
        fit_w = max(self.width, _even_up(shown_w * scale))
        fit_h = max(self.height, _even_up(shown_h * scale))
        enc_w, enc_h = (fit_h, fit_w) if quarter_turns % 2 else (fit_w, fit_h)
        src_range = frame.color_range or (
            ColorRange.JPEG if frame.format.name.startswith("yuvj") else ColorRange.MPEG
        )
        if (
            frame.format.name == "yuv420p"
            and src_range == ColorRange.MPEG
            and (frame.width, frame.height) == (enc_w, enc_h)
        ):
            scaled = frame  # already what we need: a swscale pass would be a slow copy
        else:
            scaled = self._reformatter.reformat(
                frame,
                width=enc_w,
                height=enc_h,
                format="yuv420p",
                dst_colorspace=Colorspace.ITU709,
                interpolation=Interpolation.BILINEAR,
                src_color_range=src_range,
                dst_color_range=ColorRange.MPEG,
                threads=1,
            )
        views = frame_planes(scaled, enc_w, enc_h)
        if quarter_turns:
            views = (
                np.rot90(views[0], quarter_turns),
                np.rot90(views[1], quarter_turns),
                np.rot90(views[2], quarter_turns),
            )
        x0 = (fit_w - self.width) // 4 * 2  # even offsets keep luma and chroma aligned
        y0 = (fit_h - self.height) // 4 * 2
        y = np.ascontiguousarray(views[0][y0 : y0 + self.height, x0 : x0 + self.width])
        cw, ch = self.width // 2, self.height // 2
        u = np.ascontiguousarray(views[1][y0 // 2 : y0 // 2 + ch, x0 // 2 : x0 // 2 + cw])
        v = np.ascontiguousarray(views[2][y0 // 2 : y0 // 2 + ch, x0 // 2 : x0 // 2 + cw])
        return y, u, v


class VideoLoop:
    """A video played at its own speed from its start, restarting when it ends.

    Restarting reopens the file (a fresh forward pass), so nothing is buffered between loops.
    """

    def __init__(self, path: Path, width: int, height: int, info: VideoProbe | None = None) -> None:
        self.path, self.width, self.height = Path(path), width, height
        self._info = info if info is not None else probe_video(self.path)
        self._clip = VideoClip(self.path, width, height, self._info)
        self._offset = 0.0

    def frame_at(self, t: float) -> Planes:
        while True:
            planes = self._clip.frame_at(t - self._offset)
            if planes is not None:
                return planes
            period = self._clip.end_time or 0.0
            if period <= 0.0:  # cannot happen for a clip with a frame; guards an endless loop
                raise InputMediaError(f"{self.path.name}: the video has no duration")
            self._offset += period * max(1, math.floor((t - self._offset) / period))
            self._clip.close()
            self._clip = VideoClip(self.path, self.width, self.height, self._info)

    def close(self) -> None:
        self._clip.close()


def _even_up(value: float) -> int:
    return max(2, math.ceil(value / 2.0 - 1e-9) * 2)
