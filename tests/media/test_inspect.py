"""Tests for content-based media inspection (videostudio.media.inspect).

Contract locked here (every file is real, generated in ``tmp_path`` with Pillow or PyAV; the
file names deliberately lie, because only the content may count):

* JPEG/PNG/WebP/GIF images, MP4/MOV/WebM videos and MP3/WAV/M4A audio are accepted with the
  right ``kind``, ``format``, ``content_type``, ``extension``, byte size, displayed dimensions
  (EXIF orientation for images, the track's display matrix for videos), duration (within
  0.1 s), fps and ``has_audio``/``has_video``; cover art does not make an audio file a video;
  a live-recorded WebM (unknown segment size) and a WAV with "unknown length" headers pass;
* everything else raises :class:`MediaRejected` with a stable ``code``, the HTTP ``status``
  (413 only for ``too_large``) and a sentence naming the input (``label``) and what is
  accepted: random bytes, text, HTML, PDF, an HLS playlist, a BMP and H.264 Matroska are
  ``unsupported_format``; out-of-limit images, videos and audio are ``too_small``/
  ``too_large``/``bad_aspect``/``too_long``/``too_short``; a file of another kind than
  ``expected`` is ``wrong_kind``;
* truncated or garbled files are ``corrupt``: JPEG (baseline and progressive), PNG (also when
  only IEND is missing), an animated GIF cut after its first frame, MP4 cut in half with the
  index at the front (faststart) or at the end, MP4 missing its last 100 bytes, an MP4 whose
  first keyframe was wiped, M4A and WebM cut short;
* decompression bombs (PNG/JPEG headers claiming 100000x100000 / 60000x60000 px) and GIFs with
  more than ``MAX_ANIMATION_FRAMES`` frames are rejected from their structure, immediately,
  without decoding;
* ``sniff_kind`` guesses from magic bytes only; the limits validate themselves and the defaults
  are the documented ones; ``MediaRejected`` survives pickling.

Encoders that a PyAV build may lack (libx264, libvpx, libopus, libmp3lame) make the tests that
need them skip with the reason.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import struct
import time
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.stream import Disposition
from av.video.stream import VideoStream
from PIL import Image

from videostudio.media import inspect as inspect_module
from videostudio.media.inspect import (
    KindLimits,
    MediaInfo,
    MediaKind,
    MediaLimits,
    MediaRejected,
    inspect_media,
    sniff_kind,
)

DEFAULTS = MediaLimits.defaults()
MIB = 1024 * 1024


def _limits(kind: MediaKind, **changes: Any) -> MediaLimits:
    """The defaults with some fields of one kind's limits replaced."""
    return dataclasses.replace(
        DEFAULTS, **{kind: dataclasses.replace(DEFAULTS.for_kind(kind), **changes)}
    )


def _rejected(path: Path, limits: MediaLimits = DEFAULTS, **kwargs: Any) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        inspect_media(path, limits=limits, **kwargs)
    return info.value


def _require_encoder(name: str) -> None:
    if name not in av.codecs_available:
        pytest.skip(f"FFmpeg encoder {name!r} is not available in this PyAV build")


# --------------------------------------------------------------------------------------------
# Generators


def _image(path: Path, size: tuple[int, int], fmt: str, **save: Any) -> Path:
    # Noise so that the encoded file is not trivially small (truncation must cut pixel data).
    rng = np.random.default_rng(size[0] * 7919 + size[1])
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, fmt, **save)
    return path


def _write_audio(container: Any, stream: Any, seconds: float, start: int = 0) -> None:
    ctx = stream.codec_context
    rate = ctx.sample_rate
    frame_size = ctx.frame_size or 1024
    total = round(seconds * rate)
    fmt = ctx.format.name
    channels = ctx.layout.nb_channels
    t = 0
    while t < total:
        n = min(frame_size, total - t)
        wave = 0.3 * np.sin(2 * np.pi * 440 * np.arange(t, t + n) / rate)
        planar = np.repeat(wave[None, :], channels, axis=0)
        if fmt in ("fltp", "flt"):
            data = planar.astype(np.float32)
        elif fmt in ("s16p", "s16"):
            data = (planar * 32767).astype(np.int16)
        elif fmt in ("s32p", "s32"):
            data = (planar * 2**31 * 0.99).astype(np.int32)
        else:  # pragma: no cover - depends on the encoder build
            raise AssertionError(fmt)
        if not fmt.endswith("p"):
            data = data.T.reshape(1, -1)  # packed: interleaved samples in one plane
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout=ctx.layout.name)
        frame.sample_rate = rate
        frame.pts = t
        for packet in stream.encode(frame):
            container.mux(packet)
        t += n
    for packet in stream.encode(None):
        container.mux(packet)


def _video(
    path: Path,
    *,
    container_format: str = "mp4",
    codec: str = "libx264",
    seconds: float = 2.0,
    fps: int = 24,
    size: tuple[int, int] = (160, 120),
    audio: str | None = None,
    options: dict[str, str] | None = None,
    noise: bool = False,
) -> Path:
    _require_encoder(codec)
    if audio:
        _require_encoder(audio)
    width, height = size
    rng = np.random.default_rng(1)
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        video = out.add_stream(codec, rate=fps)
        assert isinstance(video, VideoStream)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            video.options = {"preset": "ultrafast", "crf": "12" if noise else "30"}
        elif codec.startswith("libvpx"):
            video.options = {"deadline": "realtime", "cpu-used": "8"}
        sound = None
        if audio:
            sound = out.add_stream(audio, rate=48000)
            assert isinstance(sound, AudioStream)
            sound.layout = "stereo"
        for i in range(round(seconds * fps)):
            if noise:
                pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            else:
                pixels = np.full((height, width, 3), (i * 9) % 256, dtype=np.uint8)
                pixels[:, : (i * 3) % width] = 220
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if sound is not None:
            _write_audio(out, sound, seconds)
    return path


def _audio(
    path: Path,
    *,
    container_format: str,
    codec: str,
    seconds: float = 2.0,
    rate: int = 44100,
) -> Path:
    _require_encoder(codec)
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "mono"
        _write_audio(out, stream, seconds)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bomb(path: Path, width: int, height: int) -> Path:
    """A valid-looking PNG whose IHDR claims ``width`` x ``height`` with a few bytes of IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + _png_chunk(b"IEND", b"")
    )
    return path


def _truncate(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    cut = path.with_name(f"cut_{path.name}")
    cut.write_bytes(data[: int(len(data) * fraction)])
    return cut


# --------------------------------------------------------------------------------------------
# Limits and the exception


def test_default_limits() -> None:
    assert DEFAULTS.image == KindLimits(
        max_bytes=30 * MIB,
        formats=frozenset({"jpeg", "png", "webp", "gif"}),
        min_side=300,
        max_side=6000,
        min_aspect=0.4,
        max_aspect=2.5,
    )
    assert DEFAULTS.video.formats == {"mp4", "mov", "webm"}
    assert (DEFAULTS.video.max_bytes, DEFAULTS.video.min_seconds) == (100 * MIB, 2.0)
    assert DEFAULTS.video.max_seconds == 30.0
    assert DEFAULTS.audio.formats == {"mp3", "wav", "m4a"}
    assert (DEFAULTS.audio.max_bytes, DEFAULTS.audio.max_seconds) == (15 * MIB, 15.0)
    assert DEFAULTS.audio.min_seconds == 0.5
    assert DEFAULTS.largest_max_bytes == 100 * MIB
    assert DEFAULTS.for_kind("audio") is DEFAULTS.audio
    assert MediaLimits.defaults() == DEFAULTS


def test_limits_validate_themselves() -> None:
    with pytest.raises(ValueError, match="unknown image format"):
        _limits("image", formats=frozenset({"jpeg", "bmp"}))
    with pytest.raises(ValueError, match="min_side must not exceed max_side"):
        KindLimits(max_bytes=1, formats=frozenset(), min_side=10, max_side=5)
    with pytest.raises(ValueError, match="max_bytes"):
        KindLimits(max_bytes=0, formats=frozenset())
    # A plain set is accepted and frozen.
    loose: Any = {"png"}
    assert KindLimits(max_bytes=1, formats=loose).formats == frozenset({"png"})


def test_rejection_status_and_pickling() -> None:
    assert MediaRejected("too_large", "x is too large").status == 413
    for code in ("unsupported_format", "corrupt", "wrong_kind", "too_long", "bad_aspect"):
        assert MediaRejected(code, "m").status == 400
    exc = pickle.loads(pickle.dumps(MediaRejected("corrupt", "file is truncated")))
    assert (exc.code, exc.status, str(exc)) == ("corrupt", 400, "file is truncated")
    assert isinstance(exc, ValueError)


# --------------------------------------------------------------------------------------------
# Images


@pytest.mark.parametrize(
    ("fmt", "name", "content_type", "extension"),
    [
        ("JPEG", "jpeg", "image/jpeg", "jpg"),
        ("PNG", "png", "image/png", "png"),
        ("WEBP", "webp", "image/webp", "webp"),
        ("GIF", "gif", "image/gif", "gif"),
    ],
)
def test_accepts_images(
    tmp_path: Path, fmt: str, name: str, content_type: str, extension: str
) -> None:
    # The misleading name proves only the content counts.
    path = _image(tmp_path / "upload.bin", (640, 480), fmt)
    info = inspect_media(path, limits=DEFAULTS, expected="image")
    assert info == MediaInfo(
        kind="image",
        format=name,
        content_type=content_type,
        extension=extension,
        bytes=path.stat().st_size,
        width=640,
        height=480,
        duration_seconds=None,
        fps=None,
        has_audio=False,
        has_video=False,
    )


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_images_use_the_first_frame(tmp_path: Path, fmt: str) -> None:
    frames = [Image.new("RGB", (400, 300), color) for color in ("red", "green", "blue")]
    path = tmp_path / "anim"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    info = inspect_media(path, limits=DEFAULTS)
    assert (info.kind, info.width, info.height) == ("image", 400, 300)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_with_too_many_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(inspect_module, "MAX_ANIMATION_FRAMES", 2)
    frames = [Image.new("RGB", (400, 300), color) for color in ("red", "green", "blue")]
    path = tmp_path / "anim"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100)
    exc = _rejected(path)
    assert exc.code == "too_large"
    assert str(exc) == "file is an animation with more than 2 frames"


def test_exif_rotation_swaps_reported_size(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (800, 400), "red").save(path, exif=exif)
    info = inspect_media(path, limits=DEFAULTS)
    assert (info.width, info.height) == (400, 800)
    # Checks apply to the displayed shape: stored 1100x400 (2.75, too wide) displays 400x1100
    # (0.36, too tall).
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (1100, 400), "red").save(path, exif=exif)
    exc = _rejected(path)
    assert exc.code == "bad_aspect"
    assert "0.36" in str(exc)


def test_image_too_small(tmp_path: Path) -> None:
    path = _image(tmp_path / "small.png", (200, 150), "PNG")
    exc = _rejected(path, label="input_image_urls[0]")
    assert (exc.code, exc.status) == ("too_small", 400)
    assert str(exc) == (
        "input_image_urls[0] is too small: 200x150 px "
        "(each side of the image must be at least 300 px)"
    )


def test_image_too_large_in_pixels(tmp_path: Path) -> None:
    path = _image(tmp_path / "big.jpg", (700, 400), "JPEG")
    exc = _rejected(path, _limits("image", max_side=600))
    assert (exc.code, exc.status) == ("too_large", 413)
    assert "700x400 px" in str(exc)
    assert "at most 600 px" in str(exc)


def test_image_bad_aspect(tmp_path: Path) -> None:
    path = _image(tmp_path / "banner.webp", (960, 300), "WEBP")
    exc = _rejected(path)
    assert exc.code == "bad_aspect"
    assert "3.20" in str(exc)
    assert "outside the accepted 0.40-2.50" in str(exc)


def test_image_over_the_byte_cap(tmp_path: Path) -> None:
    path = _image(tmp_path / "noise.png", (320, 320), "PNG")
    exc = _rejected(path, _limits("image", max_bytes=1000))
    assert (exc.code, exc.status) == ("too_large", 413)
    assert "maximum 1000 bytes for images" in str(exc)


def test_image_format_not_in_limits(tmp_path: Path) -> None:
    path = _image(tmp_path / "a.gif", (400, 400), "GIF")
    exc = _rejected(path, _limits("image", formats=frozenset({"jpeg", "png"})))
    assert exc.code == "unsupported_format"
    assert str(
        exc
    ) == "file is a GIF image, which is not accepted (accepted: JPEG, PNG images; " + (
        "MP4, MOV, WebM videos; MP3, WAV, M4A audio)"
    )


@pytest.mark.parametrize(("fmt", "save"), [("JPEG", {}), ("JPEG", {"progressive": True})])
def test_truncated_jpeg(tmp_path: Path, fmt: str, save: dict[str, Any]) -> None:
    path = _truncate(_image(tmp_path / "photo.jpg", (640, 480), fmt, **save))
    exc = _rejected(path, label="input_image_urls[0]")
    assert exc.code == "corrupt"
    assert str(exc) == ("input_image_urls[0] is truncated or corrupt (could not decode the image)")


def test_truncated_png(tmp_path: Path) -> None:
    full = _image(tmp_path / "pic.png", (640, 480), "PNG")
    assert _rejected(_truncate(full)).code == "corrupt"
    # Missing only the final IEND chunk: the pixels decode, the chunk walk does not end.
    cut = tmp_path / "no_iend.png"
    cut.write_bytes(full.read_bytes()[:-12])
    assert _rejected(cut).code == "corrupt"


def test_png_decompression_bomb_is_rejected_from_the_header(tmp_path: Path) -> None:
    path = _png_bomb(tmp_path / "bomb.png", 100_000, 100_000)
    started = time.perf_counter()
    exc = _rejected(path)
    assert (exc.code, exc.status) == ("too_large", 413)
    assert "100000x100000 px" in str(exc)
    # Without max_side the local pixel cap still applies (not Pillow's global setting).
    exc = _rejected(path, _limits("image", max_side=None))
    assert exc.code == "too_large"
    assert "megapixels" in str(exc)
    assert time.perf_counter() - started < 1.0


def test_jpeg_decompression_bomb_is_rejected_from_the_header(tmp_path: Path) -> None:
    data = bytearray(_image(tmp_path / "x.jpg", (320, 320), "JPEG").read_bytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    exc = _rejected(path, _limits("image", max_side=None))
    assert exc.code == "too_large"
    assert "60000x60000 px" in str(exc)


# --------------------------------------------------------------------------------------------
# Not media at all


ACCEPTED_ALL = "(accepted: JPEG, PNG, WebP, GIF images; MP4, MOV, WebM videos; MP3, WAV, M4A audio)"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "random.bin",
            np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
            f"file is not a supported image, video or audio file {ACCEPTED_ALL}",
        ),
        (
            "notes.png",
            b"just some text\nthat claims to be a picture\n",
            f"file is not a supported image, video or audio file {ACCEPTED_ALL}",
        ),
        (
            "page.jpg",
            b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>",
            f"file is an HTML page, which is not accepted {ACCEPTED_ALL}",
        ),
        (
            "doc.mp4",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
            f"file is a PDF document, which is not accepted {ACCEPTED_ALL}",
        ),
        (
            "playlist.mp4",
            b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n",
            f"file is not a supported image, video or audio file {ACCEPTED_ALL}",
        ),
    ],
)
def test_non_media_is_unsupported(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    exc = _rejected(path)
    assert (exc.code, exc.status) == ("unsupported_format", 400)
    assert str(exc) == message


def test_unsupported_message_names_the_expected_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(b"hello")
    exc = _rejected(path, expected="video", label="input_video_urls[0]")
    assert (
        str(exc) == "input_video_urls[0] is not a supported video (accepted: MP4, MOV, WebM videos)"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    exc = _rejected(path)
    assert exc.code == "corrupt"
    assert str(exc) == "file is empty (0 bytes)"


def test_known_but_unaccepted_image_format(tmp_path: Path) -> None:
    path = _image(tmp_path / "scan.bmp", (400, 400), "BMP")
    exc = _rejected(path)
    assert exc.code == "unsupported_format"
    assert str(exc).startswith("file is a BMP image, which is not accepted")
    # ... and a BMP is still an image, not a video.
    assert _rejected(path, expected="video").code == "wrong_kind"


# --------------------------------------------------------------------------------------------
# Kind mismatches


def test_image_given_as_video(tmp_path: Path) -> None:
    path = _image(tmp_path / "clip.mp4", (640, 480), "JPEG")
    exc = _rejected(path, expected="video", label="input_video_urls[0]")
    assert (exc.code, exc.status) == ("wrong_kind", 400)
    assert str(exc) == "input_video_urls[0] is an image, not a video"


def test_video_given_as_audio(tmp_path: Path) -> None:
    path = _video(tmp_path / "song.mp3", audio="aac")
    exc = _rejected(path, expected="audio", label="input_audio_url")
    assert exc.code == "wrong_kind"
    assert str(exc) == "input_audio_url is a video, not an audio file"


def test_audio_given_as_video_or_image(tmp_path: Path) -> None:
    path = _audio(tmp_path / "voice.mp4", container_format="mp4", codec="aac")
    assert str(_rejected(path, expected="video")) == "file is an audio file, not a video"
    assert str(_rejected(path, expected="image")) == "file is an audio file, not an image"


# --------------------------------------------------------------------------------------------
# Videos


def _check_av(
    info: MediaInfo, *, kind: str, fmt: str, content_type: str, extension: str, seconds: float
) -> None:
    assert (info.kind, info.format, info.content_type, info.extension) == (
        kind,
        fmt,
        content_type,
        extension,
    )
    assert info.duration_seconds is not None
    assert abs(info.duration_seconds - seconds) <= 0.1


def test_accepts_mp4_without_audio(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip", seconds=2.5)
    info = inspect_media(path, limits=DEFAULTS, expected="video")
    _check_av(info, kind="video", fmt="mp4", content_type="video/mp4", extension="mp4", seconds=2.5)
    assert (info.width, info.height, info.fps) == (160, 120, 24.0)
    assert (info.has_video, info.has_audio) == (True, False)
    assert info.bytes == path.stat().st_size


def test_accepts_faststart_mp4_with_audio(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", audio="aac", fps=30, options={"movflags": "+faststart"})
    info = inspect_media(path, limits=DEFAULTS)
    _check_av(info, kind="video", fmt="mp4", content_type="video/mp4", extension="mp4", seconds=2.0)
    assert (info.fps, info.has_audio, info.has_video) == (30.0, True, True)


def test_accepts_mov(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", container_format="mov", audio="aac")
    info = inspect_media(path, limits=DEFAULTS)
    _check_av(
        info, kind="video", fmt="mov", content_type="video/quicktime", extension="mov", seconds=2.0
    )
    assert info.has_audio


@pytest.mark.parametrize("codec", ["libvpx-vp9", "libvpx"])
def test_accepts_webm(tmp_path: Path, codec: str) -> None:
    path = _video(tmp_path / "clip.mp4", container_format="webm", codec=codec, audio="libopus")
    info = inspect_media(path, limits=DEFAULTS)
    _check_av(
        info, kind="video", fmt="webm", content_type="video/webm", extension="webm", seconds=2.0
    )
    assert (info.width, info.height, info.has_audio) == (160, 120, True)


def test_matroska_with_h264_is_not_webm(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.webm", container_format="matroska", audio="aac")
    exc = _rejected(path)
    assert exc.code == "unsupported_format"
    assert "Matroska (MKV) file with H264, AAC, not a WebM file" in str(exc)


def test_video_too_long(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", seconds=2.0)
    exc = _rejected(path, _limits("video", min_seconds=None, max_seconds=1.0), label="video")
    assert (exc.code, exc.status) == ("too_long", 400)
    assert str(exc) == "video is too long: 2.0 s (maximum 1 s of video)"


def test_video_too_short(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", seconds=1.0)
    exc = _rejected(path)
    assert exc.code == "too_short"
    assert str(exc) == "file is too short: 1.0 s (minimum 2 s of video)"


def test_video_over_the_byte_cap(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", noise=True)
    exc = _rejected(path, _limits("video", max_bytes=10_000))
    assert (exc.code, exc.status) == ("too_large", 413)
    assert "for videos" in str(exc)


def test_video_side_limits_apply_when_set(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", size=(320, 96))
    exc = _rejected(path, _limits("video", max_aspect=2.0))
    assert exc.code == "bad_aspect"
    assert "3.33" in str(exc)


@pytest.mark.parametrize("faststart", [False, True], ids=["index-at-end", "faststart"])
def test_mp4_truncated_in_half(tmp_path: Path, faststart: bool) -> None:
    options = {"movflags": "+faststart"} if faststart else {}
    full = _video(tmp_path / "clip.mp4", seconds=3.0, noise=True, audio="aac", options=options)
    inspect_media(full, limits=DEFAULTS)  # the intact file is fine
    exc = _rejected(_truncate(full), label="input_video_urls[0]")
    assert exc.code == "corrupt"
    assert str(exc).startswith("input_video_urls[0] is truncated or corrupt (")


def test_mp4_cut_just_before_the_end(tmp_path: Path) -> None:
    full = _video(
        tmp_path / "clip.mp4", seconds=3.0, noise=True, options={"movflags": "+faststart"}
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[:-100])
    assert _rejected(cut).code == "corrupt"


def test_mp4_with_wiped_media_data(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", seconds=2.0, noise=True)
    data = bytearray(path.read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 100 : mdat + 100 + 20_000] = bytes(20_000)  # the first keyframe's slices
    path.write_bytes(bytes(data))
    exc = _rejected(path)
    assert exc.code == "corrupt"


def test_webm_truncated_in_half(tmp_path: Path) -> None:
    full = _video(tmp_path / "clip.webm", container_format="webm", codec="libvpx-vp9", noise=True)
    exc = _rejected(_truncate(full))
    assert exc.code == "corrupt"


# --------------------------------------------------------------------------------------------
# Audio


def test_accepts_wav(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.mp3", container_format="wav", codec="pcm_s16le", seconds=3.0)
    info = inspect_media(path, limits=DEFAULTS, expected="audio")
    _check_av(info, kind="audio", fmt="wav", content_type="audio/wav", extension="wav", seconds=3.0)
    assert (info.width, info.height, info.fps) == (None, None, None)
    assert (info.has_audio, info.has_video) == (True, False)


def test_accepts_mp3(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.wav", container_format="mp3", codec="libmp3lame", seconds=3.0)
    info = inspect_media(path, limits=DEFAULTS, expected="audio")
    _check_av(
        info, kind="audio", fmt="mp3", content_type="audio/mpeg", extension="mp3", seconds=3.0
    )


@pytest.mark.parametrize("container_format", ["mp4", "ipod"])
def test_accepts_m4a(tmp_path: Path, container_format: str) -> None:
    path = _audio(tmp_path / "a.mp4", container_format=container_format, codec="aac", seconds=3.0)
    info = inspect_media(path, limits=DEFAULTS, expected="audio")
    _check_av(info, kind="audio", fmt="m4a", content_type="audio/mp4", extension="m4a", seconds=3.0)
    assert not info.has_video


def test_cover_art_does_not_make_audio_a_video(tmp_path: Path) -> None:
    _require_encoder("libmp3lame")
    cover = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(cover, "JPEG")
    path = tmp_path / "song.mp3"
    with av.open(str(path), "w", format="mp3") as out:
        sound = out.add_stream("libmp3lame", rate=44100)
        sound.layout = "mono"
        picture = out.add_stream("mjpeg")
        picture.width, picture.height, picture.pix_fmt = 64, 64, "yuvj420p"
        picture.disposition = Disposition.attached_pic
        packet = av.Packet(cover.getvalue())
        packet.stream, packet.pts, packet.dts = picture, 0, 0
        out.mux(packet)
        _write_audio(out, sound, 2.0)
    with av.open(str(path)) as check:  # the picture really is in the file
        assert len(check.streams.video) == 1
    info = inspect_media(path, limits=DEFAULTS, expected="audio")
    assert (info.kind, info.format, info.has_video) == ("audio", "mp3", False)


def test_audio_too_long(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.wav", container_format="wav", codec="pcm_s16le", seconds=2.0)
    exc = _rejected(path, _limits("audio", max_seconds=1.0), label="input_audio_url")
    assert exc.code == "too_long"
    assert str(exc) == "input_audio_url is too long: 2.0 s (maximum 1 s of audio)"


def test_audio_too_short(tmp_path: Path) -> None:
    path = _audio(tmp_path / "a.wav", container_format="wav", codec="pcm_s16le", seconds=0.2)
    exc = _rejected(path)
    assert exc.code == "too_short"
    assert str(exc) == "file is too short: 0.2 s (minimum 0.5 s of audio)"


def test_truncated_m4a(tmp_path: Path) -> None:
    full = _audio(tmp_path / "a.m4a", container_format="mp4", codec="aac", seconds=3.0)
    assert _rejected(_truncate(full, 0.7)).code == "corrupt"


def test_wav_with_unknown_length_header_is_accepted(tmp_path: Path) -> None:
    # Streaming recorders write 0xFFFFFFFF (or 0) as RIFF/data sizes: a valid file.
    path = _audio(tmp_path / "a.wav", container_format="wav", codec="pcm_s16le", seconds=2.0)
    data = bytearray(path.read_bytes())
    data[4:8] = b"\xff\xff\xff\xff"
    at = data.find(b"data")
    data[at + 4 : at + 8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data) + b"\x00")  # and an odd final byte
    info = inspect_media(path, limits=DEFAULTS)
    assert info.duration_seconds is not None
    assert abs(info.duration_seconds - 2.0) <= 0.1


def test_webm_audio_only_is_not_an_accepted_audio_format(tmp_path: Path) -> None:
    path = _audio(
        tmp_path / "a.webm", container_format="webm", codec="libopus", seconds=1.0, rate=48000
    )
    exc = _rejected(path)
    assert exc.code == "unsupported_format"
    assert str(exc).startswith("file is a WebM audio file, which is not accepted")


# --------------------------------------------------------------------------------------------
# Sniffing


def test_sniff_kind(tmp_path: Path) -> None:
    cases: dict[str, tuple[Path, MediaKind | None]] = {
        "jpeg": (_image(tmp_path / "a", (8, 8), "JPEG"), "image"),
        "webp": (_image(tmp_path / "b", (8, 8), "WEBP"), "image"),
        "mp4": (_video(tmp_path / "c.mp4", seconds=0.5), "video"),
        "wav": (_audio(tmp_path / "d", container_format="wav", codec="pcm_s16le"), "audio"),
        "m4a": (_audio(tmp_path / "e", container_format="ipod", codec="aac"), "audio"),
    }
    text = tmp_path / "f.png"
    text.write_text("hello")
    cases["text"] = (text, None)
    for name, (path, kind) in cases.items():
        assert sniff_kind(path) == kind, name
    assert sniff_kind(tmp_path / "missing") is None


def test_whole_inspection_is_fast(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", seconds=4.0, noise=True, size=(320, 240), audio="aac")
    started = time.perf_counter()
    info = inspect_media(path, limits=DEFAULTS)
    assert time.perf_counter() - started < 1.0
    assert info.fps == float(Fraction(24))


def test_gif_frame_count_is_capped_without_walking_the_whole_file(tmp_path: Path) -> None:
    # 1x1 frames of 15 bytes: Pillow's own n_frames would walk every one of them.
    screen = b"GIF89a" + struct.pack("<HHBBB", 400, 300, 0x80, 0, 0) + bytes(3) + b"\xff" * 3
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    path = tmp_path / "frames.gif"
    path.write_bytes(screen + frame * (inspect_module.MAX_ANIMATION_FRAMES + 1) + b"\x3b")
    exc = _rejected(path)
    assert exc.code == "too_large"
    assert str(exc) == (
        f"file is an animation with more than {inspect_module.MAX_ANIMATION_FRAMES} frames"
    )
    path.write_bytes(screen + frame * 3 + b"\x3b")
    info = inspect_media(path, limits=DEFAULTS)
    assert (info.format, info.width, info.height) == ("gif", 400, 300)


def test_portrait_phone_video_reports_displayed_size(tmp_path: Path) -> None:
    # Phones store portrait clips as landscape frames plus a 90-degree display matrix in the
    # track header; the displayed size is what aspect limits are about.
    path = _video(tmp_path / "clip.mp4", size=(320, 180))
    data = bytearray(path.read_bytes())
    tkhd = data.find(b"tkhd")
    assert data[tkhd + 4] == 0  # version 0 layout
    matrix = tkhd + 4 + 4 + 4 * 5 + 8 + 2 * 4
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    info = inspect_media(path, limits=DEFAULTS)
    assert (info.width, info.height) == (180, 320)
    exc = _rejected(path, _limits("video", min_aspect=1.0))
    assert exc.code == "bad_aspect"
    assert "0.56 (180x320 px)" in str(exc)


def test_very_short_video_still_decodes(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.mp4", seconds=2 / 24)  # two frames
    info = inspect_media(path, limits=_limits("video", min_seconds=None))
    assert info.duration_seconds is not None
    assert abs(info.duration_seconds - 2 / 24) < 0.01


def test_webm_cut_near_the_end(tmp_path: Path) -> None:
    full = _video(tmp_path / "clip.webm", container_format="webm", codec="libvpx-vp9", noise=True)
    exc = _rejected(_truncate(full, 0.97))
    assert exc.code == "corrupt"
    assert "before the end of its Segment" in str(exc)


def test_live_recorded_webm_with_unknown_segment_size_is_accepted(tmp_path: Path) -> None:
    # Browser MediaRecorder output: the Segment size is "unknown" (all ones), no duration.
    path = _video(tmp_path / "clip.webm", container_format="webm", codec="libvpx-vp9")
    data = bytearray(path.read_bytes())
    segment = data.find(bytes.fromhex("18538067"))
    assert data[segment + 4] == 0x01  # FFmpeg writes an 8-byte size
    data[segment + 4 : segment + 12] = bytes.fromhex("01ffffffffffffff")
    path.write_bytes(bytes(data))
    info = inspect_media(path, limits=DEFAULTS)
    assert info.format == "webm"
    assert info.duration_seconds is not None
    assert abs(info.duration_seconds - 2.0) <= 0.1


def test_truncated_animated_gif(tmp_path: Path) -> None:
    # The first frame is intact, so decoding alone would not notice.
    frames = [_image(tmp_path / f"{i}.png", (400, 300), "PNG") for i in range(3)]
    images = [Image.open(p).convert("RGB") for p in frames]
    path = tmp_path / "anim.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=100)
    exc = _rejected(_truncate(path, 0.8))
    assert exc.code == "corrupt"
    assert str(exc) == "file is truncated or corrupt (the GIF ends inside a block)"
