"""Content-based inspection of user-supplied media (uploads and downloaded URLs).

Why decoding, not names, is the authority
-----------------------------------------
A file name, an extension or a claimed ``Content-Type`` is whatever the client (or the server
behind a URL) chose to say: an HTML error page served as ``photo.png``, a PDF renamed to
``.mp4``, a video uploaded as an "image", or a download cut short by a dropped connection all
look fine by name. Providers then fail minutes later with an opaque error, after credits were
reserved and a queue slot was spent. So this module looks only at the bytes: it identifies the
format from its magic numbers, then parses and *decodes* the content with the same libraries
that will read it later (Pillow for images, PyAV/FFmpeg for video and audio).

What :func:`inspect_media` guarantees when it returns a :class:`MediaInfo`
------------------------------------------------------------------------
* The file is one of the accepted formats *by content* (JPEG, PNG, WebP, GIF images; MP4, MOV,
  WebM videos; MP3, WAV, M4A audio) and its format is in ``limits.for_kind(kind).formats``;
  ``format``, ``content_type`` and ``extension`` are derived from the content, so storing and
  serving the file under them is honest.
* The file size is within the kind's ``max_bytes``; image sides, aspect ratio and media
  duration are within the limits (checked on the *displayed* size: EXIF orientation for images,
  the display-matrix rotation for videos).
* Images decode completely (first frame of an animation); a truncated or garbled image is
  rejected. The dimensions are checked from the header *before* anything is decoded, against
  ``max_side`` or, without one, a local pixel cap (:data:`IMAGE_PIXEL_CAP`), so a
  decompression bomb (a tiny PNG claiming 100000x100000 px) is rejected without allocating its
  pixels and without relying on Pillow's process-wide ``MAX_IMAGE_PIXELS``.
* Videos have a real (non cover-art) video stream and audio files an audio stream and no video
  stream. Every packet is demuxed (cheap: no decoding) so the reported duration is the one the
  media data really has, not a header's claim, and truncation is detected: an ISO BMFF box, a
  Matroska/WebM segment or a GIF block running past the end of the file, a header duration the
  packets do not reach, or a demuxer error. The first frames and the frames from the last
  keyframe on are decoded for videos; audio is decoded in full (it is small). Memory stays
  flat: packets are not collected (only the few after the last keyframe are kept) and frames
  are discarded after decoding.

Anything wrong with the *content* raises :class:`MediaRejected` (a ``ValueError``) whose
``str()`` is a complete sentence for an API error or a job's ``error_message``, with a stable
``code`` and the HTTP ``status`` to answer. Problems that are not about the content (the path
does not exist, the disk fails while reading) propagate unchanged.

Hardening: the format is sniffed from magic bytes and only the matching parser runs (Pillow
is restricted to that one plugin; FFmpeg is forced to the mov, matroska, mp3 or wav demuxer
and to the ``file`` protocol), so playlist/concat tricks that make FFmpeg open other files or
URLs never get a parser. Video frames are capped at 8K (:data:`VIDEO_PIXEL_CAP`) whatever the
limits, GIF frames are counted without decoding, and packet counts are bounded.

Caveats: a WAV or a constant-bitrate MP3 cut short is a shorter but valid recording and is
accepted as such (neither format reliably records its intended length). Damage *inside* a
long group of pictures that leaves the container intact is not always seen: only the first
frames and the last keyframe with a few packets after it are decoded (decoding every frame
would cost seconds per file); truncation, the realistic failure of uploads and downloads, is
detected structurally. Truncated JPEGs are detected with Pillow's default
``ImageFile.LOAD_TRUNCATED_IMAGES = False``; an application that flips that global weakens the
check for JPEG (PNG is still verified chunk by chunk). No global state is changed, so the
function is safe to call from worker threads. PyAV leaves FFmpeg's log silent by default; if
the application enabled it, messages produced on the calling thread during an inspection are
captured and dropped so hostile files cannot flood the log.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Final, Literal

import av
import av.logging
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition
from av.video.stream import VideoStream
from PIL import ExifTags, Image

__all__ = [
    "AUDIO_FORMATS",
    "IMAGE_FORMATS",
    "IMAGE_PIXEL_CAP",
    "MAX_ANIMATION_FRAMES",
    "VIDEO_FORMATS",
    "VIDEO_PIXEL_CAP",
    "KindLimits",
    "MediaInfo",
    "MediaKind",
    "MediaLimits",
    "MediaRejected",
    "RejectCode",
    "inspect_media",
    "sniff_kind",
]

MediaKind = Literal["image", "video", "audio"]
RejectCode = Literal[
    "unsupported_format",
    "too_large",
    "too_small",
    "too_long",
    "too_short",
    "bad_aspect",
    "corrupt",
    "wrong_kind",
]

IMAGE_FORMATS: Final = frozenset({"jpeg", "png", "webp", "gif"})
VIDEO_FORMATS: Final = frozenset({"mp4", "mov", "webm"})
AUDIO_FORMATS: Final = frozenset({"mp3", "wav", "m4a"})
_FORMATS_BY_KIND: Final[dict[MediaKind, frozenset[str]]] = {
    "image": IMAGE_FORMATS,
    "video": VIDEO_FORMATS,
    "audio": AUDIO_FORMATS,
}

IMAGE_PIXEL_CAP: Final = 64_000_000
"""Most pixels an image may have when its limits set no ``max_side`` (about 8000x8000)."""

VIDEO_PIXEL_CAP: Final = 8192 * 4320
"""Most pixels per video frame whatever the limits (8K): a decoder keeps a dozen or more
reference frames, so a forged 16384x16384 header would otherwise cost gigabytes."""

VIDEO_SIDE_CAP: Final = 8192

MAX_ANIMATION_FRAMES: Final = 10_000
"""Animated GIF/WebP/PNG with more frames are rejected (only the first frame is used)."""

# A "30 s" phone clip at 29.97 fps lasts 30.03 s; durations this close to a limit pass.
_DURATION_GRACE_S: Final = 0.05
# A header duration the packets fall short of by more than this is a truncated file.
_TRUNCATION_MIN_S: Final = 0.5
_TRUNCATION_FRACTION: Final = 0.05
# Within this, a header duration confirmed by the packets is the one reported.
_HEADER_AGREEMENT_S: Final = 0.25
# Decode at least this many frames at the start of a video (when it has them) ...
_HEAD_FRAMES: Final = 3
# ... feeding at most this many packets (B-frame and thread delays hold frames back).
_HEAD_PACKETS: Final = 32
# Packets decoded from the last keyframe on (the keyframe itself plus a few after it).
_TAIL_PACKETS: Final = 4
# Sanity cap: 30 s at 240 fps plus audio is ~10k packets; 200k is a hostile file.
_MAX_PACKETS: Final = 200_000
# ISO BMFF top-level boxes walked before giving up the truncation check (not an error).
_MAX_TOP_LEVEL_BOXES: Final = 10_000
# JPEG header bytes scanned for the frame header (EXIF/ICC/XMP segments come first).
_JPEG_HEADER_SCAN: Final = 4 * 1024 * 1024
_SNIFF_BYTES: Final = 512

_CONTENT_TYPES: Final[dict[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
}
_EXTENSIONS: Final[dict[str, str]] = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "mp4": "mp4",
    "mov": "mov",
    "webm": "webm",
    "mp3": "mp3",
    "wav": "wav",
    "m4a": "m4a",
}
_DISPLAY_NAMES: Final[dict[str, str]] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "gif": "GIF",
    "mp4": "MP4",
    "mov": "MOV",
    "webm": "WebM",
    "mp3": "MP3",
    "wav": "WAV",
    "m4a": "M4A",
}
_KIND_ORDER: Final[tuple[MediaKind, ...]] = ("image", "video", "audio")
_KIND_PLURAL: Final[dict[MediaKind, str]] = {
    "image": "images",
    "video": "videos",
    "audio": "audio",
}
_KIND_WITH_ARTICLE: Final[dict[MediaKind, str]] = {
    "image": "an image",
    "video": "a video",
    "audio": "an audio file",
}
_WEBM_VIDEO_CODECS: Final = frozenset({"vp8", "vp9", "av1"})
_WEBM_AUDIO_CODECS: Final = frozenset({"opus", "vorbis"})
# Pillow plugins allowed to parse each sniffed image format: never let Pillow guess among
# its ~40 parsers for untrusted bytes. "MPO" is what Pillow calls camera JPEGs that carry a
# second (depth/preview) picture; they are ordinary JPEGs to every viewer.
_PIL_PLUGINS: Final[dict[str, list[str]]] = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "gif": ["GIF"],
    "webp": ["WEBP"],
}
_PIL_FORMAT_NAMES: Final[dict[str, str]] = {
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
}
# FFmpeg demuxer forced for each sniffed container: FFmpeg's own probing would also consider
# playlist and concat formats that open *other* files or URLs named inside the upload.
_DEMUXERS: Final[dict[str, str]] = {
    "isobmff": "mov",
    "matroska": "matroska",
    "mp3": "mp3",
    "wav": "wav",
}
_AV_OPTIONS: Final[dict[str, str]] = {"protocol_whitelist": "file"}

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_AUDIO_BRANDS: Final = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
# Boxes that may legitimately appear at the top level of an MP4/MOV. Only these are trusted
# to say where the file should end: some cameras append a proprietary, non-box trailer.
_TOP_LEVEL_BOXES: Final = frozenset(
    {
        b"ftyp", b"styp", b"moov", b"mdat", b"moof", b"mfra", b"free", b"skip", b"wide",
        b"uuid", b"meta", b"sidx", b"ssix", b"pdin", b"emsg", b"prft", b"pnot", b"junk",
    }
)  # fmt: skip
_QUICKTIME_FIRST_BOXES: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_JPEG_SOF_MARKERS: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_EXIF_ORIENTATION: Final = int(ExifTags.Base.Orientation)


# --------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class KindLimits:
    """What one kind of media may be. ``None`` disables a bound."""

    max_bytes: int
    formats: frozenset[str]
    min_side: int | None = None
    max_side: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        # Accept any iterable of names (a set literal in a config) but store a frozenset so
        # the instance stays hashable and immutable.
        object.__setattr__(self, "formats", frozenset(self.formats))
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        for low, high, what in (
            (self.min_side, self.max_side, "side"),
            (self.min_aspect, self.max_aspect, "aspect"),
            (self.min_seconds, self.max_seconds, "seconds"),
        ):
            if low is not None and low < 0:
                raise ValueError(f"min_{what} must not be negative")
            if high is not None and high <= 0:
                raise ValueError(f"max_{what} must be positive")
            if low is not None and high is not None and low > high:
                raise ValueError(f"min_{what} must not exceed max_{what}")


@dataclass(frozen=True)
class MediaLimits:
    """Limits per kind; :meth:`defaults` holds the service-wide defaults."""

    image: KindLimits
    video: KindLimits
    audio: KindLimits

    def __post_init__(self) -> None:
        for kind in _KIND_ORDER:
            unknown = self.for_kind(kind).formats - _FORMATS_BY_KIND[kind]
            if unknown:
                known = ", ".join(sorted(_FORMATS_BY_KIND[kind]))
                raise ValueError(f"unknown {kind} format(s) {sorted(unknown)} (known: {known})")

    def for_kind(self, kind: MediaKind) -> KindLimits:
        if kind == "image":
            return self.image
        if kind == "video":
            return self.video
        return self.audio

    @classmethod
    def defaults(cls) -> MediaLimits:
        """Service defaults.

        Images: JPEG/PNG/WebP/GIF up to 30 MB, each side 300-6000 px, aspect 0.4-2.5.
        Videos: MP4/MOV/WebM up to 100 MB, 2-30 s. Audio: MP3/WAV/M4A up to 15 MB, 0.5-15 s;
        the 0.5 s minimum rejects empty or click-length exports, which cannot drive a
        generation, without getting in the way of any real voice or music clip.
        """
        mib = 1024 * 1024
        return cls(
            image=KindLimits(
                max_bytes=30 * mib,
                formats=IMAGE_FORMATS,
                min_side=300,
                max_side=6000,
                min_aspect=0.4,
                max_aspect=2.5,
            ),
            video=KindLimits(
                max_bytes=100 * mib, formats=VIDEO_FORMATS, min_seconds=2.0, max_seconds=30.0
            ),
            audio=KindLimits(
                max_bytes=15 * mib, formats=AUDIO_FORMATS, min_seconds=0.5, max_seconds=15.0
            ),
        )

    @property
    def largest_max_bytes(self) -> int:
        """The largest byte cap of any kind: a download of unknown kind may stop there."""
        return max(self.image.max_bytes, self.video.max_bytes, self.audio.max_bytes)


@dataclass(frozen=True)
class MediaInfo:
    """What the content of an accepted file really is."""

    kind: MediaKind
    format: str
    content_type: str
    extension: str
    bytes: int
    width: int | None
    height: int | None
    duration_seconds: float | None
    fps: float | None
    has_audio: bool
    has_video: bool


class MediaRejected(ValueError):
    """The content is not acceptable; ``str(exc)`` is a complete human sentence.

    ``status`` is 413 for ``too_large`` (byte size or pixel dimensions beyond the limits) and
    400 for every other code. ``unsupported_format`` is deliberately 400, not 415: 415 is about
    the request's own Content-Type (multipart or JSON, which was fine), not about a file inside
    it, and for URL inputs there is no request body at all.
    """

    code: RejectCode
    status: int

    def __init__(self, code: RejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = 413 if code == "too_large" else 400

    def __reduce__(self) -> tuple[type[MediaRejected], tuple[RejectCode, str]]:
        # Survive pickling (process pools, task queues): the default would call
        # ``MediaRejected(message)`` and fail.
        return (type(self), (self.code, str(self)))


# --------------------------------------------------------------------------------------------
# Sniffing: a cheap first guess from magic bytes


@dataclass(frozen=True)
class _Sniffed:
    family: str  # one of _PIL_PLUGINS / _DEMUXERS keys, or "foreign"
    kind: MediaKind | None
    description: str = ""  # for foreign formats: "a HEIC image", "an HTML page", ...
    brand: bytes = b""  # ISO BMFF major brand


_UNKNOWN: Final = _Sniffed("foreign", None)


def _is_mp3_frame_header(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF:
        return False
    b1, b2 = head[1], head[2]
    return (
        (b1 & 0xE0) == 0xE0  # frame sync (11 bits)
        and ((b1 >> 3) & 0x03) != 0x01  # MPEG version: not "reserved"
        and ((b1 >> 1) & 0x03) == 0x01  # layer III
        and (b2 >> 4) not in (0x00, 0x0F)  # bitrate: not "free", not "bad"
        and ((b2 >> 2) & 0x03) != 0x03  # sample rate: not "reserved"
    )


def _sniff_bytes(head: bytes) -> _Sniffed:
    if head.startswith(b"\xff\xd8\xff"):
        return _Sniffed("jpeg", "image")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _Sniffed("png", "image")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _Sniffed("gif", "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _Sniffed("webp", "image")
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return _Sniffed("wav", "audio")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return _Sniffed("foreign", "video", "an AVI video")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return _Sniffed("foreign", "image", "a HEIC/HEIF image")
        if brand in _AVIF_BRANDS:
            return _Sniffed("foreign", "image", "an AVIF image")
        kind: MediaKind = "audio" if brand in _AUDIO_BRANDS else "video"
        return _Sniffed("isobmff", kind, brand=brand)
    if head[4:8] in _QUICKTIME_FIRST_BOXES:
        # Old QuickTime files start straight with a box, without "ftyp".
        return _Sniffed("isobmff", "video", brand=b"qt  ")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _Sniffed("matroska", "video")
    if head.startswith(b"ID3") or _is_mp3_frame_header(head):
        return _Sniffed("mp3", "audio")
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return _Sniffed("foreign", "audio", "an AAC (ADTS) audio stream")
    if head.startswith(b"OggS"):
        return _Sniffed("foreign", "audio", "an Ogg audio file")
    if head.startswith(b"fLaC"):
        return _Sniffed("foreign", "audio", "a FLAC audio file")
    if head.startswith(b"BM") and len(head) >= 26 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return _Sniffed("foreign", "image", "a BMP image")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _Sniffed("foreign", "image", "a TIFF image")
    if head.startswith(b"FLV\x01"):
        return _Sniffed("foreign", "video", "an FLV video")
    if head.startswith(b"%PDF-"):
        return _Sniffed("foreign", None, "a PDF document")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _Sniffed("foreign", None, "a ZIP archive")
    if head.startswith(b"\x1f\x8b"):
        return _Sniffed("foreign", None, "a gzip archive")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return _Sniffed("foreign", None, "an HTML page")
    if b"<svg" in text:
        return _Sniffed("foreign", "image", "an SVG image")
    if text.startswith(b"<?xml"):
        return _Sniffed("foreign", None, "an XML document")
    if text.startswith((b"{", b"[")):
        return _Sniffed("foreign", None, "a JSON document")
    return _UNKNOWN


def _read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_SNIFF_BYTES)


def sniff_kind(path: Path) -> MediaKind | None:
    """Guess the kind from the first bytes (no parsing, no decoding); ``None`` if unknown.

    Only good for choosing a byte limit early (e.g. while a download is streaming in); an
    M4A can turn out to hold video and a ``.webm`` only audio. :func:`inspect_media` decides.
    Returns ``None`` when the file cannot be read.
    """
    try:
        head = _read_head(Path(path))
    except OSError:
        return None
    return _sniff_bytes(head).kind


# --------------------------------------------------------------------------------------------
# Messages


def _human_bytes(n: int) -> str:
    mib = 1024 * 1024
    if n >= mib:
        value, unit = n / mib, "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return f"{n} bytes"
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _accepted_text(limits: MediaLimits, kinds: tuple[MediaKind, ...]) -> str:
    parts = []
    for kind in kinds:
        formats = limits.for_kind(kind).formats
        names = [_DISPLAY_NAMES[f] for f in _DISPLAY_NAMES if f in formats]
        if names:
            parts.append(f"{', '.join(names)} {_KIND_PLURAL[kind]}")
    return "; ".join(parts) if parts else "none"


def _unsupported(
    label: str, limits: MediaLimits, expected: MediaKind | None, what: str | None = None
) -> MediaRejected:
    kinds = (expected,) if expected else _KIND_ORDER
    accepted = _accepted_text(limits, kinds)
    if expected is None:
        target = "a supported image, video or audio file"
    else:
        target = f"a supported {'audio file' if expected == 'audio' else expected}"
    if what:
        return MediaRejected(
            "unsupported_format",
            f"{label} is {what}, which is not accepted (accepted: {accepted})",
        )
    return MediaRejected("unsupported_format", f"{label} is not {target} (accepted: {accepted})")


def _wrong_kind(label: str, actual: MediaKind, expected: MediaKind) -> MediaRejected:
    return MediaRejected(
        "wrong_kind",
        f"{label} is {_KIND_WITH_ARTICLE[actual]}, not {_KIND_WITH_ARTICLE[expected]}",
    )


def _corrupt(label: str, detail: str) -> MediaRejected:
    return MediaRejected("corrupt", f"{label} is truncated or corrupt ({detail})")


def _check_bytes(label: str, size: int, kind: MediaKind | None, limits: MediaLimits) -> None:
    cap = limits.for_kind(kind).max_bytes if kind else limits.largest_max_bytes
    if size > cap:
        scope = f" for {_KIND_PLURAL[kind]}" if kind else ""
        actual, maximum = _human_bytes(size), _human_bytes(cap)
        if actual == maximum:  # "30 MB (maximum 30 MB)" would read as a contradiction
            actual, maximum = f"{size:,} bytes", f"{cap:,} bytes"
        raise MediaRejected(
            "too_large", f"{label} is too large: {actual} (maximum {maximum}{scope})"
        )


def _check_sides(label: str, kind: MediaKind, width: int, height: int, limits: KindLimits) -> None:
    noun = "image" if kind == "image" else "video frame"
    if limits.max_side is not None and max(width, height) > limits.max_side:
        raise MediaRejected(
            "too_large",
            f"{label} is too large: {width}x{height} px "
            f"(each side of the {noun} must be at most {limits.max_side} px)",
        )
    if limits.min_side is not None and min(width, height) < limits.min_side:
        raise MediaRejected(
            "too_small",
            f"{label} is too small: {width}x{height} px "
            f"(each side of the {noun} must be at least {limits.min_side} px)",
        )
    aspect = width / height
    low = limits.min_aspect if limits.min_aspect is not None else 0.0
    high = limits.max_aspect if limits.max_aspect is not None else math.inf
    # Compare at the displayed precision so "2.50" is never rejected as outside "0.40-2.50".
    if round(aspect, 2) < low or round(aspect, 2) > high:
        bounds = (
            f"{low:.2f}-{high:.2f}"
            if limits.min_aspect is not None and limits.max_aspect is not None
            else (f"at least {low:.2f}" if limits.min_aspect is not None else f"at most {high:.2f}")
        )
        raise MediaRejected(
            "bad_aspect",
            f"{label} has an aspect ratio (width / height) of {aspect:.2f} "
            f"({width}x{height} px), outside the accepted {bounds}",
        )


def _check_duration(label: str, kind: MediaKind, seconds: float, limits: KindLimits) -> None:
    noun = "video" if kind == "video" else "audio"
    if limits.max_seconds is not None and seconds > limits.max_seconds + _DURATION_GRACE_S:
        raise MediaRejected(
            "too_long",
            f"{label} is too long: {seconds:.1f} s "
            f"(maximum {_seconds(limits.max_seconds)} of {noun})",
        )
    if limits.min_seconds is not None and seconds < limits.min_seconds - _DURATION_GRACE_S:
        raise MediaRejected(
            "too_short",
            f"{label} is too short: {seconds:.1f} s "
            f"(minimum {_seconds(limits.min_seconds)} of {noun})",
        )


# --------------------------------------------------------------------------------------------
# Entry point


def inspect_media(
    path: Path,
    *,
    limits: MediaLimits,
    expected: MediaKind | None = None,
    label: str = "file",
) -> MediaInfo:
    """Identify, bound-check and decode ``path``; raise :class:`MediaRejected` if unacceptable.

    ``expected`` is the kind the caller needs (a video-input field gets ``"video"``): another
    kind is ``wrong_kind``. ``label`` names the input in messages (``"input_image_urls[0]"``).
    Order of checks, cheapest first: byte size, format from magic bytes, header dimensions
    and durations, then parsing/demuxing, then decoding. OS errors that are not about the
    content (missing file, I/O failure) propagate.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("corrupt", f"{label} is empty (0 bytes)")
    head = _read_head(path)
    sniffed = _sniff_bytes(head)
    # Size first, with the cap of the kind the bytes announce (else the caller's, else the
    # largest): a 2 GB upload is refused before any parser touches it.
    _check_bytes(label, size, sniffed.kind or expected, limits)

    if sniffed.family == "foreign":
        if expected is not None and sniffed.kind is not None and sniffed.kind != expected:
            raise _wrong_kind(label, sniffed.kind, expected)
        raise _unsupported(label, limits, expected, sniffed.description or None)

    with av.logging.Capture(local=True):
        if sniffed.family in _PIL_PLUGINS:
            info = _inspect_image(path, head, size, sniffed.family, limits, expected, label)
        else:
            info = _inspect_av(path, size, sniffed, limits, expected, label)
    return info


# --------------------------------------------------------------------------------------------
# Images


def _image_header_size(path: Path, family: str, head: bytes) -> tuple[int, int] | None:
    """Width and height from the format's header, without Pillow; ``None`` if not found."""
    try:
        if family == "png" and head[12:16] == b"IHDR":
            w, h = struct.unpack(">II", head[16:24])
            return int(w), int(h)
        if family == "gif":
            w, h = struct.unpack("<HH", head[6:10])
            return int(w), int(h)
        if family == "webp":
            chunk = head[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                h = int.from_bytes(head[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L" and head[20] == 0x2F:
                bits = int.from_bytes(head[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
                w, h = struct.unpack("<HH", head[26:30])
                return int(w) & 0x3FFF, int(h) & 0x3FFF
            return None
        if family == "jpeg":
            with path.open("rb") as f:
                return _jpeg_header_size(f)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_header_size(f: IO[bytes]) -> tuple[int, int] | None:
    """Walk the JPEG marker segments up to the first frame header (SOFn)."""
    if f.read(2) != b"\xff\xd8":
        return None
    garbage = 0
    while f.tell() < _JPEG_HEADER_SCAN:
        byte = f.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            # Decoders skip stray bytes between segments; give up (and leave the check to the
            # second guard, on Pillow's parse) rather than crawl a long run of them.
            garbage += 1
            if garbage > 4096:
                return None
            continue
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code == 0x01 or 0xD0 <= code <= 0xD8:
            continue  # stand-alone markers carry no length
        if code in (0xD9, 0xDA):
            return None  # end of image / start of scan before any frame header
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            return None
        if code in _JPEG_SOF_MARKERS:
            body = f.read(5)
            if len(body) < 5:
                return None
            _precision, h, w = struct.unpack(">BHH", body)
            return int(w), int(h)
        f.seek(length - 2, 1)
    return None


def _gif_frame_count(path: Path, cap: int) -> tuple[int, bool]:
    """Count a GIF's frames without decoding, stopping after ``cap + 1``.

    Returns ``(frames, truncated)``: ``truncated`` when the file ends inside a block. (Only
    the first frame is decoded later, so a GIF cut after it would otherwise pass.)
    """
    frames = 0
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pos = 13  # signature (6) + logical screen descriptor (7)
        try:
            if data[10] & 0x80:
                pos += 3 << ((data[10] & 0x07) + 1)  # global color table
            while frames <= cap:
                block = data[pos]
                if block == 0x21:  # extension: label, then data sub-blocks
                    pos += 2
                elif block == 0x2C:  # image descriptor (+ local color table), LZW code size
                    frames += 1
                    flags = data[pos + 9]
                    pos += 10 + (3 << ((flags & 0x07) + 1) if flags & 0x80 else 0) + 1
                else:
                    break  # trailer (0x3B), or garbage that Pillow's decode will judge
                while (length := data[pos]) != 0:  # data sub-blocks up to the terminator
                    pos += length + 1
                pos += 1
        except IndexError:
            return frames, True
    return frames, False


def _image_pixel_guard(label: str, width: int, height: int, limits: KindLimits) -> None:
    """Refuse dimensions that must not be decoded; runs before any pixel is allocated."""
    if width <= 0 or height <= 0:
        raise _corrupt(label, f"the image header declares {width}x{height} px")
    if limits.max_side is not None:
        if max(width, height) > limits.max_side:
            raise MediaRejected(
                "too_large",
                f"{label} is too large: {width}x{height} px "
                f"(each side of the image must be at most {limits.max_side} px)",
            )
    elif width * height > IMAGE_PIXEL_CAP:
        raise MediaRejected(
            "too_large",
            f"{label} is too large: {width}x{height} px "
            f"(at most {IMAGE_PIXEL_CAP // 1_000_000} megapixels)",
        )


def _inspect_image(
    path: Path,
    head: bytes,
    size: int,
    family: str,
    limits: MediaLimits,
    expected: MediaKind | None,
    label: str,
) -> MediaInfo:
    if expected is not None and expected != "image":
        # The magic numbers of these four formats are unambiguous: no need to decode first.
        raise _wrong_kind(label, "image", expected)
    kl = limits.image
    if family not in kl.formats:
        raise _unsupported(label, limits, expected, f"a {_DISPLAY_NAMES[family]} image")
    header = _image_header_size(path, family, head)
    if header is not None:
        _image_pixel_guard(label, *header, kl)

    plugins = _PIL_PLUGINS[family]
    try:
        if family == "png":
            # verify() checks every chunk's CRC through IEND without decompressing: it catches
            # damage after the image data that load() would never look at.
            with Image.open(path, formats=plugins) as probe:
                probe.verify()
        with Image.open(path, formats=plugins) as img:
            if img.format not in _PIL_FORMAT_NAMES:
                raise _corrupt(label, "could not decode the image")
            # Pillow's own view of the size (a GIF frame may enlarge the canvas); checked
            # again before load() allocates anything.
            _image_pixel_guard(label, img.width, img.height, kl)
            # WebP and APNG state their frame count in a header; Pillow counts GIF frames by
            # walking the whole file (seconds for a 30 MB file of 1x1 frames): count those
            # ourselves and stop at the cap.
            if family == "gif":
                frames, truncated = _gif_frame_count(path, MAX_ANIMATION_FRAMES)
                if truncated:
                    raise _corrupt(label, "the GIF ends inside a block")
            else:
                frames = int(getattr(img, "n_frames", 1))
            if frames > MAX_ANIMATION_FRAMES:
                raise MediaRejected(
                    "too_large",
                    f"{label} is an animation with more than {MAX_ANIMATION_FRAMES} frames",
                )
            img.load()  # the first frame: what a still-image input uses
            width, height = img.size
            orientation = img.getexif().get(_EXIF_ORIENTATION)
    except MediaRejected:
        raise
    except Image.DecompressionBombError as exc:
        # Only reachable when the limits allow more than twice Pillow's global
        # MAX_IMAGE_PIXELS (max_side above ~13000): still a size problem, not corruption.
        raise MediaRejected(
            "too_large", f"{label} is too large: too many pixels to decode ({exc})"
        ) from exc
    except MemoryError:
        raise
    except Exception as exc:  # any parser failure on untrusted bytes means bad content
        raise _corrupt(label, "could not decode the image") from exc

    # Report and check the size as displayed: ImageOps.exif_transpose swaps the sides for
    # orientations 5-8 (transpose, rotate 90/270, transverse).
    if isinstance(orientation, int) and orientation in (5, 6, 7, 8):
        width, height = height, width
    _check_sides(label, "image", width, height, kl)
    return MediaInfo(
        kind="image",
        format=family,
        content_type=_CONTENT_TYPES[family],
        extension=_EXTENSIONS[family],
        bytes=size,
        width=width,
        height=height,
        duration_seconds=None,
        fps=None,
        has_audio=False,
        has_video=False,
    )


# --------------------------------------------------------------------------------------------
# Video and audio


def _isobmff_truncation(path: Path, size: int) -> str | None:
    """Walk the top-level boxes; describe the problem if the file ends inside one.

    A download cut short leaves its last box (``mdat`` or ``moov``) claiming more bytes than
    the file has. This is exact, costs a few reads, and catches what demuxing alone cannot
    when the index sits at the front ("faststart") and simply points past the end.
    """
    pos = 0
    with path.open("rb") as f:
        for _ in range(_MAX_TOP_LEVEL_BOXES):
            if size - pos < 8:
                return None  # end reached (a few padding bytes are tolerated)
            f.seek(pos)
            header = f.read(16)
            box_size, box_type = struct.unpack(">I4s", header[:8])
            header_len = 8
            if box_size == 1:
                if len(header) < 16:
                    return "the file ends inside a box header"
                (box_size,) = struct.unpack(">Q", header[8:16])
                header_len = 16
            elif box_size == 0:
                return None  # "extends to the end of the file"
            if box_type not in _TOP_LEVEL_BOXES:
                return None  # unknown trailer (some cameras append one): stop, no verdict
            if box_size < header_len:
                return f"invalid '{box_type.decode('latin-1')}' box size"
            if pos + box_size > size:
                missing = pos + box_size - size
                return (
                    f"the file ends {_human_bytes(missing)} before the end of its "
                    f"'{box_type.decode('latin-1')}' box"
                )
            pos += box_size
    return None


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int, bool]:
    """Read an EBML variable-length integer: ``(value, next_pos, all_ones)``."""
    first = data[pos]
    length = 9 - first.bit_length()  # 1 + number of leading zero bits
    if not 1 <= length <= 8 or pos + length > len(data):
        raise ValueError("bad EBML varint")
    value = int.from_bytes(data[pos : pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    all_ones = value == (1 << (7 * length)) - 1
    return value, pos + length, all_ones


def _matroska_truncation(path: Path, size: int) -> str | None:
    """Compare the Segment element's declared size with the file size.

    A finished Matroska/WebM file declares its Segment size; a download cut short ends before
    it. Live recordings (browser MediaRecorder) declare an "unknown" size and are not judged.
    """
    with path.open("rb") as f:
        data = f.read(4096)
    pos = 0
    try:
        for _ in range(8):  # EBML header, maybe Void/CRC elements, then the Segment
            element, pos, _ = _ebml_vint(data, pos, keep_marker=True)
            length, pos, unknown = _ebml_vint(data, pos, keep_marker=False)
            if element == 0x18538067:  # Segment
                if unknown:
                    return None
                if pos + length > size:
                    missing = _human_bytes(pos + length - size)
                    return f"the file ends {missing} before the end of its Segment"
                return None
            if unknown:
                return None
            pos += length
    except (ValueError, IndexError):
        return None  # odd layout: leave it to the demuxer
    return None


@dataclass
class _Track:
    """Running timing of one stream's packets, in its time base."""

    time_base: float
    start: int | None = None
    end: int | None = None
    packets: int = 0

    def add(self, packet: Packet[Any], fallback_duration: int) -> None:
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            return
        duration = packet.duration or fallback_duration
        self.packets += 1
        if self.start is None or ts < self.start:
            self.start = ts
        if self.end is None or ts + duration > self.end:
            self.end = ts + duration

    @property
    def end_seconds(self) -> float | None:
        return None if self.end is None else self.end * self.time_base

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        # Negative starts are encoder priming / B-frame delay hidden by an edit list.
        return max(0.0, (self.end - max(self.start, 0)) * self.time_base)


def _header_end(container: InputContainer, stream: VideoStream | AudioStream) -> float | None:
    """Where the header says the stream ends (seconds), if it says so reliably."""
    tb = stream.time_base
    if stream.duration and tb is not None:
        start = stream.start_time or 0
        return float((start + stream.duration) * tb)
    # Matroska keeps the duration at the segment level only. MP3 without a Xing/VBRI header
    # gets an estimate from the first frame's bitrate there, which can be far off: ignore.
    if container.format.name.startswith("matroska") and container.duration:
        start_us = container.start_time or 0
        return (start_us + container.duration) / 1_000_000
    return None


def _codec_name(stream: VideoStream | AudioStream) -> str:
    # The codec's canonical (descriptor) name: "av1" even when the decoder is libdav1d.
    try:
        return str(stream.codec_context.codec.canonical_name)
    except Exception:  # no decoder in this FFmpeg build for an exotic codec id
        return "unknown"


def _decode(stream: VideoStream | AudioStream, packet: Packet[Any] | None) -> list[av.frame.Frame]:
    return list(stream.codec_context.decode(packet))


def _inspect_av(
    path: Path,
    size: int,
    sniffed: _Sniffed,
    limits: MediaLimits,
    expected: MediaKind | None,
    label: str,
) -> MediaInfo:
    family = sniffed.family
    if family == "isobmff":
        problem = _isobmff_truncation(path, size)
    elif family == "matroska":
        problem = _matroska_truncation(path, size)
    else:
        problem = None
    if problem:
        raise _corrupt(label, problem)
    noun = "audio file" if sniffed.kind == "audio" else "video"
    try:
        container = av.open(
            str(path.resolve()),  # absolute: a relative "x:y" could name an FFmpeg protocol
            mode="r",
            format=_DEMUXERS[family],
            container_options=_AV_OPTIONS,
        )
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt(label, f"could not read the {noun}") from exc
    with container:
        return _inspect_container(container, size, sniffed, limits, expected, label)


def _inspect_container(
    container: InputContainer,
    size: int,
    sniffed: _Sniffed,
    limits: MediaLimits,
    expected: MediaKind | None,
    label: str,
) -> MediaInfo:
    family = sniffed.family
    # Cover art (ID3 APIC, MP4 "covr") shows up as a one-picture video stream: not video.
    videos = [
        s
        for s in container.streams.video
        if not s.disposition & Disposition.attached_pic and s.codec_context is not None
    ]
    audios = [s for s in container.streams.audio if s.codec_context is not None]
    if family in ("mp3", "wav"):
        videos = []
    if not videos and not audios:
        raise _corrupt(label, "it has no video or audio stream")
    kind: MediaKind = "video" if videos else "audio"
    _check_bytes(label, size, kind, limits)
    if expected is not None and kind != expected:
        raise _wrong_kind(label, kind, expected)

    primary: VideoStream | AudioStream = videos[0] if videos else audios[0]
    fmt = _container_format(label, family, sniffed.brand, kind, videos, audios, limits, expected)
    kl = limits.for_kind(kind)
    if fmt not in kl.formats:
        what = f"a {_DISPLAY_NAMES[fmt]} {'audio file' if kind == 'audio' else 'video'}"
        raise _unsupported(label, limits, expected, what)

    width = height = None
    if isinstance(primary, VideoStream):
        width, height = primary.codec_context.width, primary.codec_context.height
        if width <= 0 or height <= 0:
            raise _corrupt(label, "the video stream has no frame size")
        if max(width, height) > VIDEO_SIDE_CAP or width * height > VIDEO_PIXEL_CAP:
            raise MediaRejected(
                "too_large",
                f"{label} is too large: {width}x{height} px video frames "
                f"(at most {VIDEO_SIDE_CAP} px per side and 8K resolution)",
            )
        if kl.max_side is not None and max(width, height) > kl.max_side:
            _check_sides(label, kind, width, height, kl)  # raises too_large before decoding

    header_end = _header_end(container, primary)
    header_start = 0.0
    if primary.start_time is not None and primary.time_base is not None:
        header_start = float(primary.start_time * primary.time_base)
    if header_end is not None and kl.max_seconds is not None:
        # A header that already claims too much is rejected before reading the packets.
        claimed = max(0.0, header_end - max(header_start, 0.0))
        if claimed > kl.max_seconds + _DURATION_GRACE_S:
            _check_duration(label, kind, claimed, kl)

    scan = _scan_packets(container, primary, kind, kl, label)
    seconds = scan.track.seconds
    if seconds is None or scan.track.packets == 0:
        raise _corrupt(label, f"it has no {'video frames' if kind == 'video' else 'audio'}")
    if scan.stopped_early:
        _check_duration(label, kind, seconds, kl)  # too long: raises
    header_seconds = None if header_end is None else max(0.0, header_end - max(header_start, 0.0))
    if header_end is not None and scan.track.end_seconds is not None:
        missing = header_end - scan.track.end_seconds
        if missing > max(_TRUNCATION_MIN_S, _TRUNCATION_FRACTION * header_end):
            raise _corrupt(
                label,
                f"its media data ends at {scan.track.end_seconds:.1f} s "
                f"but the file declares {header_end:.1f} s",
            )
    if header_seconds is not None and abs(header_seconds - seconds) <= _HEADER_AGREEMENT_S:
        # The packets confirm the header; the header is the more precise of the two (it
        # excludes encoder priming/padding, e.g. an MP3's LAME delay, and sub-frame ends).
        seconds = header_seconds
    _check_duration(label, kind, seconds, kl)

    fps: float | None = None
    if isinstance(primary, VideoStream):
        _decode_video_tail(primary, scan, label)
        assert width is not None and height is not None
        if scan.rotation % 180 == 90:
            width, height = height, width
        _check_sides(label, kind, width, height, kl)
        rate = primary.average_rate or primary.guessed_rate
        if rate:
            fps = round(float(rate), 3)
        elif seconds > 0:
            fps = round(scan.track.packets / seconds, 3)
    elif scan.frames == 0:
        raise _corrupt(label, "could not decode the audio")

    return MediaInfo(
        kind=kind,
        format=fmt,
        content_type=_CONTENT_TYPES[fmt],
        extension=_EXTENSIONS[fmt],
        bytes=size,
        width=width,
        height=height,
        duration_seconds=round(seconds, 3),
        fps=fps,
        has_audio=bool(audios),
        has_video=kind == "video",
    )


def _container_format(
    label: str,
    family: str,
    brand: bytes,
    kind: MediaKind,
    videos: list[VideoStream],
    audios: list[AudioStream],
    limits: MediaLimits,
    expected: MediaKind | None,
) -> str:
    if family == "isobmff":
        if kind == "audio":
            return "m4a"
        return "mov" if brand == b"qt  " else "mp4"
    accepted = _accepted_text(limits, (expected,) if expected else _KIND_ORDER)
    if family == "matroska":
        # WebM is Matroska restricted to royalty-free codecs; an MKV with H.264/AAC is not
        # playable where WebM is promised (browsers), so it is not relabelled as WebM.
        codecs = [_codec_name(s) for s in videos] + [_codec_name(s) for s in audios]
        allowed = _WEBM_VIDEO_CODECS | _WEBM_AUDIO_CODECS
        if any(c not in allowed for c in codecs) or any(
            _codec_name(s) not in _WEBM_VIDEO_CODECS for s in videos
        ):
            raise MediaRejected(
                "unsupported_format",
                f"{label} is a Matroska (MKV) file with {', '.join(c.upper() for c in codecs)}, "
                "not a WebM file (WebM needs VP8, VP9 or AV1 video and Opus or Vorbis audio; "
                f"accepted: {accepted})",
            )
        return "webm"
    if family == "wav":
        codec = _codec_name(audios[0])
        if not codec.startswith("pcm_"):
            raise MediaRejected(
                "unsupported_format",
                f"{label} is a WAV file with {codec.upper()} audio; only uncompressed (PCM) WAV "
                f"is accepted (accepted: {accepted})",
            )
        return "wav"
    if family == "mp3":
        codec = _codec_name(audios[0])
        if codec != "mp3":
            raise MediaRejected(
                "unsupported_format",
                f"{label} is an MPEG audio file with {codec.upper()} audio, not MP3 "
                f"(accepted: {accepted})",
            )
        return "mp3"
    raise AssertionError(family)


@dataclass
class _Scan:
    track: _Track
    frames: int = 0  # frames decoded (head for video, everything decoded for audio)
    rotation: int = 0
    tail: list[Packet[Any]] | None = None
    stopped_early: bool = False  # demuxing stopped once the stream was already too long


def _scan_packets(
    container: InputContainer,
    primary: VideoStream | AudioStream,
    kind: MediaKind,
    kl: KindLimits,
    label: str,
) -> _Scan:
    """Demux every packet of the primary stream, decoding only a bounded part.

    Video: the first packets are decoded (at least one frame must come out, no keyframe may
    be flagged corrupt) and the packets from the last keyframe on (at most
    :data:`_TAIL_PACKETS`) are kept for :func:`_decode_video_tail`. Audio: decoded in full as
    it streams by (a few milliseconds per second of audio), until the maximum duration is
    exceeded. Stops early once the stream is already too long.
    """
    tb = primary.time_base
    if tb is None:
        raise _corrupt(label, "the stream has no time base")
    track = _Track(time_base=float(tb))
    scan = _Scan(track=track, tail=[] if kind == "video" else None)
    fallback = 0
    if isinstance(primary, VideoStream):
        rate = primary.average_rate or primary.guessed_rate
        if rate:
            fallback = max(1, round(1 / (rate * tb)))
    elif primary.codec_context.frame_size and primary.codec_context.sample_rate:
        fps = Fraction(primary.codec_context.sample_rate, primary.codec_context.frame_size)
        fallback = max(1, round(1 / (fps * tb)))
    stop_after = None if kl.max_seconds is None else kl.max_seconds + _DURATION_GRACE_S + 1.0
    head_packets = 0
    noun = "video" if kind == "video" else "audio"
    # MP4/MOV and Matroska record every packet's exact size, so a short read ("corrupt" flag)
    # means the data ends inside a packet. WAV and MP3 are read in fixed-size chunks: a short
    # last chunk is normal (a WAV streamed with an unknown length, an odd final frame).
    indexed = container.format.name.startswith(("mov", "matroska"))
    try:
        for packet in container.demux(primary):
            if packet.size == 0:
                continue  # PyAV's end-of-stream marker
            if packet.is_corrupt and indexed:
                raise _corrupt(label, f"the demuxer flagged damaged {noun} data")
            track.add(packet, fallback)
            if track.packets > _MAX_PACKETS:
                raise _corrupt(label, f"implausibly many {noun} packets")
            if kind == "video":
                if head_packets < _HEAD_PACKETS and scan.frames < _HEAD_FRAMES:
                    head_packets += 1
                    _count_frames(scan, _decode(primary, packet), label)
                _keep_tail(scan, packet)
            elif stop_after is None or (track.seconds or 0.0) <= stop_after:
                scan.frames += len(_decode(primary, packet))
            if stop_after is not None and (track.seconds or 0.0) > stop_after:
                scan.stopped_early = True
                break  # already too long: the exact length no longer matters
        if kind == "video" and scan.frames < _HEAD_FRAMES:
            _count_frames(scan, _decode(primary, None), label)  # drain delayed frames
        elif kind == "audio":
            scan.frames += len(_decode(primary, None))
    except MediaRejected:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt(label, f"could not decode the {noun}") from exc
    if kind == "video" and scan.frames == 0:
        raise _corrupt(label, "could not decode the video")
    return scan


def _count_frames(scan: _Scan, frames: list[av.frame.Frame], label: str) -> None:
    for frame in frames:
        if not isinstance(frame, av.VideoFrame):
            continue
        if frame.key_frame and frame.is_corrupt:
            raise _corrupt(label, "a keyframe of the video decodes with errors")
        if scan.frames == 0:
            scan.rotation = int(frame.rotation or 0)
        scan.frames += 1


def _keep_tail(scan: _Scan, packet: Packet[Any]) -> None:
    assert scan.tail is not None
    if packet.is_keyframe:
        scan.tail = [packet]  # the previous keyframe's packets are released here
    elif scan.tail and len(scan.tail) < _TAIL_PACKETS:
        scan.tail.append(packet)


def _decode_video_tail(stream: VideoStream, scan: _Scan, label: str) -> None:
    """Decode from the last keyframe: a file garbled near its end still fails here."""
    if not scan.tail:
        return  # no keyframe flag at all (rare muxers); the head decode already passed
    probe = _Scan(track=scan.track)
    try:
        # Reset the decoder: the head decode left it mid-stream or drained.
        stream.codec_context.flush_buffers()
        for packet in scan.tail:
            _count_frames(probe, _decode(stream, packet), label)
        _count_frames(probe, _decode(stream, None), label)
    except MediaRejected:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise _corrupt(label, "could not decode the end of the video") from exc
    if probe.frames == 0:
        raise _corrupt(label, "could not decode the end of the video")
