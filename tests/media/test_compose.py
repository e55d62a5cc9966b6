"""Tests for the sandbox composer (videostudio.media.compose, .frames, .probe).

Every input is a real file made here (textured PNG/JPEG images, short H.264 clips, WAV and MP3
tones) and every output is decoded back with PyAV. The contract locked here:

* every kind renders exactly ``duration_seconds * fps`` frames at ``fps`` and the requested
  size, has an AAC track iff a reference audio is given or ``sound`` is set (input videos' own
  audio is ignored), with the audio duration within 0.1 s of the video's, and
  ``ComposeResult`` matches the file;
* ``text`` is byte-identical to ``render_text_to_video``;
* ``image``: the first frame is the input cover-fitted to the output, then the view moves;
* ``frames``: the first frame is the first image and the last frame the last image (each
  cover-fitted), the middle is neither; a last image alone starts from the text scene;
* image-to-output closeness is PSNR >= ``PSNR_MIN_DB`` (30 dB) in RGB, computed over the frame
  *minus the SANDBOX badge's rectangle* (``render.badge_rect``): the badge is burnt into every
  frame by design and alone would cap the PSNR at about 25 dB;
* ``multimodal``: reference images appear in order, reference videos are blended in (or shown
  in sequence when alone), a reference audio becomes the soundtrack (440 Hz in -> 440 Hz out,
  looped when shorter, trimmed when longer), audio alone leaves the text scene's frames;
* ``remix``: re-timed onto the duration, visibly different from the source yet correlated with
  the source frame at the mapped time (more than with a distant one);
* ``motion``: follows the motion clip's native timing (a flash at 1.0 s shows at 1.0 s), a
  motion clip shorter than the duration raises ``InputMediaError``;
* a JPEG poster at output size resembling the frame at 1/3, a PNG of the last frame equal to
  the decoded last frame (within coding noise);
* same spec and inputs -> byte-identical MP4, poster and PNG;
* missing, garbage or truncated inputs raise ``InputMediaError`` naming the file, without
  creating the output; a spec missing its kind's input raises ``ValueError``;
* ``on_progress`` is increasing from 0.0 to 1.0 and may abort the render, leaving no open
  file or audio thread behind;
* EXIF orientation and alpha of images and the rotation tag of videos are honoured;
  ``fit_output_size``, ``media_size`` and ``probe_video`` report what is shown.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace, Interpolation
from PIL import Image, ImageDraw, ImageOps

from videostudio.media.compose import (
    ComposeResult,
    ComposeSpec,
    InputMediaError,
    fit_output_size,
    media_size,
    render_job,
)
from videostudio.media.probe import probe_video
from videostudio.media.render import RenderSpec, badge_rect, render_text_to_video

PSNR_MIN_DB = 30.0  # first/last frame vs the cover-fitted input image, badge excluded
W, H = 320, 180
PROMPT = "A paper boat drifting down a rainy street, reflections of neon signs"

RGB = np.ndarray


# --------------------------------------------------------------------------------------------
# Input files, made once per module
# --------------------------------------------------------------------------------------------


def _textured(width: int, height: int, seed: int) -> Image.Image:
    """Smooth colour gradients plus outlined shapes: distinct per seed, realistic to code."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 100 * np.sin(xx / width * 3.0 + seed)
    g = 127 + 100 * np.sin(yy / height * 2.5 + 2 * seed)
    b = 127 + 100 * np.cos((xx + yy) / (width + height) * 4.0 + 3 * seed)
    img = Image.fromarray(np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        x0 = int(rng.integers(0, width * 3 // 4))
        y0 = int(rng.integers(0, height * 3 // 4))
        x1 = x0 + int(rng.integers(width // 10, width // 4))
        y1 = y0 + int(rng.integers(height // 10, height // 4))
        fill = tuple(int(c) for c in rng.integers(0, 255, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=fill, outline=(255, 255, 255), width=3)
    return img


def _write_clip(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    *,
    fps: int = 24,
    flash_at: float | None = None,
    with_audio: bool = False,
    hue: int = 0,
) -> None:
    """An H.264 clip: a gradient with a block moving left to right; optional white flash."""
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        audio = None
        if with_audio:
            audio = container.add_stream("aac", rate=48_000)
            audio.layout = "mono"
        for i in range(round(seconds * fps)):
            t = i / fps
            rgb = np.empty((height, width, 3), np.uint8)
            rgb[..., 0] = (xx * 255 // width + hue * 80) % 256
            rgb[..., 1] = yy * 255 // height
            rgb[..., 2] = 60 + hue * 60
            cx = int(width * (0.15 + 0.7 * t / seconds))
            rgb[(np.abs(xx - cx) < width // 10) & (np.abs(yy - height // 2) < height // 5)] = (
                250,
                240,
                30,
            )
            if flash_at is not None and abs(t - flash_at) < 0.5 / fps:
                rgb[:] = 255
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            n = round(seconds * 48_000)
            samples = (0.3 * np.sin(2 * np.pi * 300 * np.arange(n) / 48_000)).astype(np.float32)
            for start in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(
                    samples[None, start : start + 1024].copy(), format="fltp", layout="mono"
                )
                af.sample_rate = 48_000
                af.pts = start
                container.mux(audio.encode(af))
            container.mux(audio.encode(None))


def _write_tone(path: Path, seconds: float, freq: float, codec: str, rate: int) -> None:
    """A mono sine tone; pcm_s16le (WAV) or libmp3lame (MP3)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        fmt = "s16" if codec == "pcm_s16le" else "fltp"
        stream.format = fmt
        n = round(seconds * rate)
        wave = 0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)
        data = (wave * 32767).astype(np.int16) if fmt == "s16" else wave.astype(np.float32)
        step = 1152
        for start in range(0, n, step):
            chunk = np.ascontiguousarray(data[None, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@dataclass(frozen=True)
class Inputs:
    first_png: Path  # 480x360 landscape
    last_jpg: Path  # 300x400 portrait JPEG: cover-cropped into landscape outputs
    third_png: Path
    alpha_png: Path  # left half transparent
    exif_jpg: Path  # stored sideways, EXIF orientation 6
    motion_mp4: Path  # 320x240, 3 s, white flash at 1.0 s
    source_mp4: Path  # 320x240, 2 s at 30 fps, with its own audio track
    tone_wav: Path  # 440 Hz, 1 s, 44.1 kHz
    tone_mp3: Path  # 660 Hz, 4 s
    truncated_png: Path
    truncated_mp4: Path  # faststart MP4 cut in half: header says 3 s, data stops at ~1.5 s
    garbage: Path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    d = tmp_path_factory.mktemp("inputs")
    _textured(480, 360, 1).save(d / "first.png")
    _textured(300, 400, 2).save(d / "last.jpg", quality=95)
    _textured(400, 300, 3).save(d / "third.png")

    rgba = _textured(320, 240, 4).convert("RGBA")
    alpha = np.full((240, 320), 255, np.uint8)
    alpha[:, :160] = 0
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(d / "alpha.png")

    upright = _textured(300, 400, 5)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    upright.transpose(Image.Transpose.ROTATE_90).save(d / "exif.jpg", quality=95, exif=exif)

    _write_clip(d / "motion.mp4", 320, 240, 3.0, flash_at=1.0)
    _write_clip(d / "source.mp4", 320, 240, 2.0, fps=30, with_audio=True, hue=1)
    _write_tone(d / "tone.wav", 1.0, 440.0, "pcm_s16le", 44_100)
    _write_tone(d / "tone.mp3", 4.0, 660.0, "libmp3lame", 44_100)

    png = (d / "first.png").read_bytes()
    (d / "truncated.png").write_bytes(png[: len(png) // 2])
    render_text_to_video(RenderSpec("truncate me", 320, 180, 3), d / "whole.mp4")
    mp4 = (d / "whole.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(mp4[: len(mp4) // 2])
    (d / "garbage.bin").write_bytes(b"\x00not media at all\xff" * 300)
    return Inputs(
        first_png=d / "first.png",
        last_jpg=d / "last.jpg",
        third_png=d / "third.png",
        alpha_png=d / "alpha.png",
        exif_jpg=d / "exif.jpg",
        motion_mp4=d / "motion.mp4",
        source_mp4=d / "source.mp4",
        tone_wav=d / "tone.wav",
        tone_mp3=d / "tone.mp3",
        truncated_png=d / "truncated.png",
        truncated_mp4=d / "truncated.mp4",
        garbage=d / "garbage.bin",
    )


# --------------------------------------------------------------------------------------------
# Decoding helpers
# --------------------------------------------------------------------------------------------


def _to_rgb(frame: av.VideoFrame) -> RGB:
    """BT.709 limited range -> RGB, as the encoder tagged it (not swscale's BT.601 default)."""
    return frame.to_ndarray(
        format="rgb24",
        src_colorspace=Colorspace.ITU709,
        dst_colorspace=Colorspace.ITU709,
        src_color_range=ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=Interpolation.BILINEAR
        | Interpolation.ACCURATE_RND
        | Interpolation.FULL_CHR_H_INT,
    )


@dataclass
class Decoded:
    width: int
    height: int
    rate: Fraction | None
    declared_frames: int
    duration: Fraction
    frames: list[RGB]
    audio_streams: int
    audio_duration: float | None
    audio: np.ndarray | None  # (channels, samples) float32 at audio_rate
    audio_rate: int | None


def _decode(path: Path, with_audio_samples: bool = False) -> Decoded:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        audio_duration = None
        audio_rate = None
        if container.streams.audio:
            stream = container.streams.audio[0]
            assert stream.duration is not None and stream.time_base is not None
            audio_duration = float(stream.duration * stream.time_base)
            audio_rate = stream.codec_context.sample_rate
        info = Decoded(
            width=video.codec_context.width,
            height=video.codec_context.height,
            rate=video.average_rate,
            declared_frames=video.frames,
            duration=video.duration * video.time_base,
            frames=[_to_rgb(f) for f in container.decode(video=0)],
            audio_streams=len(container.streams.audio),
            audio_duration=audio_duration,
            audio=None,
            audio_rate=audio_rate,
        )
    if with_audio_samples and info.audio_streams:
        with av.open(str(path)) as container:
            chunks = [f.to_ndarray() for f in container.decode(audio=0)]
        info.audio = np.concatenate(chunks, axis=1)
    return info


def _video_frames(path: Path) -> Iterator[tuple[float, RGB]]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield float(frame.time or 0.0), _to_rgb(frame)


def _fitted(path: Path, width: int = W, height: int = H) -> RGB:
    """The input image as the contract frames it: upright, over black, cover-fitted."""
    with Image.open(path) as img:
        upright = ImageOps.exif_transpose(img)
        if upright.mode == "RGBA":
            black = Image.new("RGBA", upright.size, (0, 0, 0, 255))
            upright = Image.alpha_composite(black, upright)
        fit = ImageOps.fit(upright.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        return np.asarray(fit)


def _badge_mask(width: int = W, height: int = H) -> np.ndarray:
    x, y, bw, bh = badge_rect(width, height)
    mask = np.ones((height, width), bool)
    mask[y : y + bh, x : x + bw] = False
    return mask


def _psnr(a: RGB, b: RGB, mask: np.ndarray | None = None) -> float:
    diff = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2
    mse = float(diff[mask].mean() if mask is not None else diff.mean())
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _luma(rgb: RGB) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])


def _corr(a: RGB, b: RGB) -> float:
    return float(np.corrcoef(_luma(a).ravel(), _luma(b).ravel())[0, 1])


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    mono = samples.mean(axis=0)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1.0 / rate)[int(np.argmax(spectrum))])


def _spec(kind: str, **fields: object) -> ComposeSpec:
    base: dict[str, object] = {
        "kind": kind,
        "prompt": PROMPT,
        "width": W,
        "height": H,
        "duration_seconds": 3,
        "seed": 5,
    }
    base.update(fields)
    return ComposeSpec(**base)  # type: ignore[arg-type]


def _render(
    tmp_path: Path, spec: ComposeSpec, name: str = "out", last: bool = True
) -> tuple[ComposeResult, Path]:
    out = tmp_path / f"{name}.mp4"
    result = render_job(
        spec,
        out,
        poster_path=tmp_path / f"{name}.jpg",
        last_frame_path=tmp_path / f"{name}.png" if last else None,
    )
    return result, out


def _check_container(result: ComposeResult, info: Decoded, spec: ComposeSpec) -> None:
    total = spec.duration_seconds * spec.fps
    assert (info.width, info.height) == (spec.width, spec.height)
    assert info.rate == spec.fps
    assert info.declared_frames == len(info.frames) == total
    assert info.duration == spec.duration_seconds
    assert result.frame_count == total
    assert result.duration_seconds == spec.duration_seconds
    assert (result.width, result.height, result.fps) == (spec.width, spec.height, spec.fps)
    assert result.has_audio == (info.audio_streams == 1)
    if info.audio_streams:
        assert info.audio_rate == 48_000
        assert info.audio_duration is not None
        assert abs(info.audio_duration - spec.duration_seconds) <= 0.1


# --------------------------------------------------------------------------------------------
# Sizes and probes (fast)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "quality", "source", "expected"),
    [
        ("16:9", "720p", None, (1280, 720)),
        ("16:9", "720p", (1080, 1920), (1280, 720)),  # an explicit ratio wins
        ("9:16", "1080p", (4000, 3000), (1080, 1920)),
        (None, "720p", (1080, 1920), (720, 1280)),
        ("Auto", "1080p", (4000, 3000), (1440, 1080)),
        ("adaptive", "480p", (1000, 1000), (480, 480)),
        ("auto-ish junk", "720p", (1001, 999), (722, 720)),
        (None, "720p", (10_000, 100), (4096, 720)),  # long side capped
        (None, "720p", (100, 10_000), (720, 4096)),
        (None, None, None, (1280, 720)),
        ("Auto", "1080p", None, (1920, 1080)),
        (None, "720p", (0, 0), (1280, 720)),  # unusable source size: the default
    ],
)
def test_fit_output_size(
    ratio: str | None,
    quality: str | None,
    source: tuple[int, int] | None,
    expected: tuple[int, int],
) -> None:
    size = fit_output_size(ratio, quality, source)
    assert size == expected
    assert size[0] % 2 == 0 and size[1] % 2 == 0


def test_media_size_honours_exif_and_video_rotation(inputs: Inputs, tmp_path: Path) -> None:
    assert media_size(inputs.first_png) == (480, 360)
    assert media_size(inputs.last_jpg) == (300, 400)
    assert media_size(inputs.exif_jpg) == (300, 400)  # stored 400x300, shown upright
    assert media_size(inputs.motion_mp4) == (320, 240)

    rotated = tmp_path / "rotated.mp4"
    with av.open(str(rotated), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.set_display_rotation(90)
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.zeros((240, 320, 3), np.uint8), "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert media_size(rotated) == (240, 320)
    assert (probe_video(rotated).width, probe_video(rotated).height) == (240, 320)

    with pytest.raises(InputMediaError, match=r"garbage\.bin"):
        media_size(inputs.garbage)
    with pytest.raises(InputMediaError, match="does not exist"):
        media_size(tmp_path / "missing.png")


def test_probe_video_reads_the_header(inputs: Inputs) -> None:
    probe = probe_video(inputs.source_mp4)
    assert (probe.width, probe.height) == (320, 240)
    assert probe.fps == pytest.approx(30.0)
    assert probe.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert probe.frame_count == 60
    assert probe.has_audio
    assert probe.video_codec == "h264"
    assert not probe_video(inputs.motion_mp4).has_audio
    with pytest.raises(InputMediaError, match=r"garbage\.bin"):
        probe_video(inputs.garbage)


# --------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_text_kind_equals_render_text_to_video(tmp_path: Path) -> None:
    spec = _spec("text", duration_seconds=2, sound=True)
    result, out = _render(tmp_path, spec)
    reference = tmp_path / "reference.mp4"
    render_text_to_video(RenderSpec(PROMPT, W, H, 2, sound=True, seed=spec.seed), reference)
    assert out.read_bytes() == reference.read_bytes()
    assert result.has_audio and result.bytes == out.stat().st_size


@pytest.mark.slow
def test_image_starts_on_the_fitted_image_then_moves(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("image", image=inputs.first_png)
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    assert info.audio_streams == 0 and not result.has_audio

    target = _fitted(inputs.first_png)
    mask = _badge_mask()
    assert _psnr(info.frames[0], target, mask) >= PSNR_MIN_DB
    # Ken Burns: the view has moved by the end, yet it is still this picture.
    last = info.frames[-1]
    assert _psnr(last, target, mask) < PSNR_MIN_DB - 5
    assert _corr(last, target) > 0.3


@pytest.mark.slow
def test_image_alpha_over_black_and_exif_orientation(inputs: Inputs, tmp_path: Path) -> None:
    _, out = _render(tmp_path, _spec("image", image=inputs.alpha_png, duration_seconds=1), "a")
    first = _decode(out).frames[0]
    left = first[H // 4 : 3 * H // 4, 20 : W // 2 - 20]
    assert float(left.mean()) < 25.0  # transparent pixels composited over black
    assert _psnr(first, _fitted(inputs.alpha_png), _badge_mask()) >= PSNR_MIN_DB

    _, out = _render(tmp_path, _spec("image", image=inputs.exif_jpg, duration_seconds=1), "e")
    assert _psnr(_decode(out).frames[0], _fitted(inputs.exif_jpg), _badge_mask()) >= PSNR_MIN_DB


@pytest.mark.slow
def test_frames_start_and_end_exactly_on_the_images(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("frames", first_frame=inputs.first_png, last_frame=inputs.last_jpg, sound=True)
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    assert result.has_audio  # the synthesised soundtrack

    first, last = _fitted(inputs.first_png), _fitted(inputs.last_jpg)
    mask = _badge_mask()
    assert _psnr(info.frames[0], first, mask) >= PSNR_MIN_DB
    assert _psnr(info.frames[-1], last, mask) >= PSNR_MIN_DB
    middle = info.frames[len(info.frames) // 2]  # mid-crossfade: neither picture
    assert _psnr(middle, first, mask) < PSNR_MIN_DB - 5
    assert _psnr(middle, last, mask) < PSNR_MIN_DB - 5

    png = np.asarray(Image.open(tmp_path / "out.png"))
    assert png.shape == (H, W, 3)
    assert _psnr(png, last, mask) >= PSNR_MIN_DB  # the composed last frame, before coding


@pytest.mark.slow
def test_frames_portrait_output(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec(
        "frames",
        width=180,
        height=320,
        duration_seconds=2,
        first_frame=inputs.last_jpg,
        last_frame=inputs.first_png,
    )
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    mask = _badge_mask(180, 320)
    assert _psnr(info.frames[0], _fitted(inputs.last_jpg, 180, 320), mask) >= PSNR_MIN_DB
    assert _psnr(info.frames[-1], _fitted(inputs.first_png, 180, 320), mask) >= PSNR_MIN_DB


@pytest.mark.slow
def test_last_frame_only_starts_from_the_text_scene(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("frames", last_frame=inputs.last_jpg, duration_seconds=2)
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    target = _fitted(inputs.last_jpg)
    assert _psnr(info.frames[-1], target, _badge_mask()) >= PSNR_MIN_DB
    assert _psnr(info.frames[0], target, _badge_mask()) < 20.0

    _, text = _render(tmp_path, _spec("text", duration_seconds=2), "text")
    text_first = _decode(text).frames[0]
    # Same generated background (the text clip also carries caption and timecode at t = 0).
    assert _psnr(info.frames[0], text_first) > 20.0


@pytest.mark.slow
def test_first_frame_only_drifts_like_image(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("frames", first_frame=inputs.third_png, duration_seconds=2)
    _, out = _render(tmp_path, spec)
    frames = _decode(out).frames
    target = _fitted(inputs.third_png)
    assert _psnr(frames[0], target, _badge_mask()) >= PSNR_MIN_DB
    assert _psnr(frames[-1], target, _badge_mask()) < PSNR_MIN_DB - 5


@pytest.mark.slow
def test_multimodal_images_video_and_audio(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec(
        "multimodal",
        reference_images=(inputs.first_png, inputs.third_png),
        reference_videos=(inputs.motion_mp4,),
        audio=inputs.tone_wav,
        sound=True,  # ignored: the reference audio is the soundtrack
    )
    result, out = _render(tmp_path, spec)
    info = _decode(out, with_audio_samples=True)
    _check_container(result, info, spec)
    assert result.has_audio

    a, b = _fitted(inputs.first_png), _fitted(inputs.third_png)
    early, late = info.frames[18], info.frames[54]  # middle of each image's slot
    assert _corr(early, a) > _corr(early, b) + 0.2
    assert _corr(late, b) > _corr(late, a) + 0.2
    # The reference video is blended in: frames differ from the plain image sequence.
    _, plain = _render(
        tmp_path, _spec("multimodal", reference_images=spec.reference_images), "plain"
    )
    plain_early = _decode(plain).frames[18]
    assert _psnr(early, plain_early) < 25.0

    # The 1 s 440 Hz WAV, looped to 3 s: 440 Hz everywhere, including the last second.
    assert info.audio is not None and info.audio_rate is not None
    rate = info.audio_rate
    assert abs(_dominant_hz(info.audio[:, rate // 2 : rate * 5 // 2], rate) - 440.0) < 5.0
    tail = info.audio[:, 2 * rate + rate // 10 : 3 * rate - rate // 10]
    assert abs(_dominant_hz(tail, rate) - 440.0) < 5.0
    assert float(np.sqrt((tail**2).mean())) > 0.1


@pytest.mark.slow
def test_multimodal_long_mp3_is_trimmed(tmp_path: Path, inputs: Inputs) -> None:
    spec = _spec("multimodal", audio=inputs.tone_mp3, duration_seconds=2)
    result, out = _render(tmp_path, spec)
    info = _decode(out, with_audio_samples=True)
    _check_container(result, info, spec)
    assert info.audio is not None and info.audio_rate is not None
    assert abs(_dominant_hz(info.audio, info.audio_rate) - 660.0) < 5.0
    # Audio alone: the text scene's frames, untouched.
    _, text = _render(tmp_path, _spec("text", duration_seconds=2), "text")
    assert np.array_equal(info.frames[30], _decode(text).frames[30])


@pytest.mark.slow
def test_multimodal_videos_alone_play_in_sequence(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec(
        "multimodal",
        reference_videos=(inputs.motion_mp4, inputs.source_mp4),
        duration_seconds=2,
    )
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    assert not result.has_audio  # the videos' own audio is not used
    motion0 = ImageOps.fit(Image.fromarray(next(_video_frames(inputs.motion_mp4))[1]), (W, H))
    source0 = ImageOps.fit(Image.fromarray(next(_video_frames(inputs.source_mp4))[1]), (W, H))
    first, second = info.frames[0], info.frames[24]  # slot starts: 0 s and 1 s
    # A video input is coded twice (its own H.264, then ours), hence a lower bound than stills'.
    assert _psnr(first, np.asarray(motion0), _badge_mask()) >= 26.0
    assert _corr(second, np.asarray(source0)) > _corr(second, np.asarray(motion0))


@pytest.mark.slow
def test_remix_is_retimed_restyled_and_recognisable(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("remix", video=inputs.source_mp4)  # 2 s source -> 3 s output
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    assert info.audio_streams == 0  # the source's own audio track is ignored

    source = [
        (t, np.asarray(ImageOps.fit(Image.fromarray(f), (W, H))))
        for t, f in _video_frames(inputs.source_mp4)
    ]
    total = len(info.frames)
    for i in (6, 36, 66):
        t = i / total * 2.0
        matched = max((s for s in source if s[0] <= t + 1e-6), key=lambda s: s[0])[1]
        distant = source[-1][1] if t < 1.0 else source[0][1]
        out_frame = info.frames[i]
        assert float(np.abs(out_frame.astype(int) - matched).mean()) > 25.0  # restyled
        assert _corr(out_frame, matched) > 0.6  # yet the same picture
        assert _corr(out_frame, matched) > _corr(out_frame, distant) + 0.05  # at that time


@pytest.mark.slow
def test_motion_follows_the_clip_timing(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("motion", video=inputs.motion_mp4, image=inputs.first_png, sound=True)
    result, out = _render(tmp_path, spec)
    info = _decode(out)
    _check_container(result, info, spec)
    assert result.has_audio  # synthesised: the motion clip has none
    brightness = [float(_luma(f).mean()) for f in info.frames]
    flash = int(np.argmax(brightness))
    assert abs(flash - 24) <= 1, flash  # the 1.0 s flash shows at 1.0 s, not stretched
    assert brightness[flash] > np.median(brightness) + 40
    # The character card is composited: the centre no longer shows the motion clip there.
    motion0 = ImageOps.fit(Image.fromarray(next(_video_frames(inputs.motion_mp4))[1]), (W, H))
    centre = (slice(H // 2 - 20, H // 2 + 20), slice(W // 2 - 20, W // 2 + 20))
    covered = info.frames[0][centre].astype(int) - np.asarray(motion0)[centre]
    assert float(np.abs(covered).mean()) > 20.0


@pytest.mark.slow
def test_motion_clip_shorter_than_duration_is_refused(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("motion", video=inputs.motion_mp4, image=inputs.first_png, duration_seconds=5)
    with pytest.raises(InputMediaError, match=r"motion\.mp4.*shorter than the requested 5 s"):
        _render(tmp_path, spec)
    assert not (tmp_path / "out.mp4").exists()


# --------------------------------------------------------------------------------------------
# Outputs beside the video, determinism, progress
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_poster_and_last_frame_png(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec("frames", first_frame=inputs.first_png, last_frame=inputs.last_jpg)
    _, out = _render(tmp_path, spec)
    frames = _decode(out).frames
    with Image.open(tmp_path / "out.jpg") as poster:
        assert poster.format == "JPEG"
        assert poster.size == (W, H)
        poster_rgb = np.asarray(poster.convert("RGB"))
    assert _psnr(poster_rgb, frames[len(frames) // 3]) >= 28.0
    with Image.open(tmp_path / "out.png") as png:
        assert png.format == "PNG" and png.mode == "RGB" and png.size == (W, H)
        last = np.asarray(png)
    assert _psnr(last, frames[-1]) >= 35.0  # the same frame, up to H.264 coding noise


@pytest.mark.slow
def test_same_spec_gives_identical_files(inputs: Inputs, tmp_path: Path) -> None:
    spec = _spec(
        "multimodal",
        reference_images=(inputs.first_png, inputs.last_jpg),
        reference_videos=(inputs.source_mp4,),
        audio=inputs.tone_mp3,
        duration_seconds=2,
    )
    _render(tmp_path, spec, "a")
    _render(tmp_path, spec, "b")
    for ext in ("mp4", "jpg", "png"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes(), ext

    remix = _spec("remix", video=inputs.motion_mp4, duration_seconds=2)
    _, first = _render(tmp_path, remix, "r1", last=False)
    _, second = _render(tmp_path, remix, "r2", last=False)
    assert first.read_bytes() == second.read_bytes()
    _, other = _render(
        tmp_path,
        _spec("remix", video=inputs.motion_mp4, duration_seconds=2, seed=6),
        "r3",
        last=False,
    )
    assert other.read_bytes() != first.read_bytes()  # the palette follows the seed


class _LeaseLost(Exception):
    pass


@pytest.mark.slow
def test_progress_increases_and_can_abort(inputs: Inputs, tmp_path: Path) -> None:
    seen: list[float] = []
    spec = _spec("image", image=inputs.first_png, audio=inputs.tone_wav)
    render_job(spec, tmp_path / "p.mp4", poster_path=tmp_path / "p.jpg", on_progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert all(a < b for a, b in itertools.pairwise(seen))
    assert len(seen) >= 72 // 12

    def abort(fraction: float) -> None:
        if fraction >= 0.3:
            raise _LeaseLost("lease lost")

    out = tmp_path / "aborted.mp4"
    with pytest.raises(_LeaseLost):
        render_job(spec, out, poster_path=tmp_path / "aborted.jpg", on_progress=abort)
    assert out.exists()  # partial, left for the caller
    assert not (tmp_path / "aborted.jpg").exists()
    assert not any(t.name == "sandbox-audio" and t.is_alive() for t in threading.enumerate())


# --------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------


def _bad_specs(inputs: Inputs, missing: Path) -> list[tuple[ComposeSpec, str]]:
    return [
        (_spec("image", image=inputs.truncated_png), r"truncated\.png.*(damaged|truncated)"),
        (_spec("image", image=inputs.garbage), r"garbage\.bin: not a readable image"),
        (_spec("image", image=missing), r"missing\.png: the image file does not exist"),
        (_spec("frames", last_frame=inputs.tone_wav), r"tone\.wav: not a readable image"),
        (_spec("remix", video=inputs.garbage), r"garbage\.bin"),
        (_spec("remix", video=inputs.truncated_mp4), r"truncated\.mp4.*looks truncated"),
        (
            _spec("multimodal", reference_videos=(inputs.truncated_mp4,)),
            r"truncated\.mp4.*looks truncated",
        ),
        (_spec("motion", video=inputs.first_png, image=inputs.first_png), r"first\.png"),
        (_spec("multimodal", audio=inputs.garbage), r"garbage\.bin"),
        (_spec("multimodal", audio=inputs.motion_mp4), r"motion\.mp4: the file has no audio"),
    ]


@pytest.mark.slow
def test_bad_inputs_raise_input_media_error(inputs: Inputs, tmp_path: Path) -> None:
    for spec, pattern in _bad_specs(inputs, tmp_path / "missing.png"):
        out = tmp_path / "bad.mp4"
        with pytest.raises(InputMediaError, match=pattern) as caught:
            render_job(spec, out, poster_path=tmp_path / "bad.jpg")
        assert isinstance(caught.value, ValueError)
        assert not out.exists(), spec


@pytest.mark.parametrize(
    "spec",
    [
        _spec("image"),
        _spec("remix"),
        _spec("motion", video=Path("x.mp4")),
        _spec("text", width=321),
        _spec("text", duration_seconds=0),
    ],
)
def test_invalid_specs_raise_value_error(spec: ComposeSpec, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        render_job(spec, tmp_path / "x.mp4", poster_path=tmp_path / "x.jpg")
    assert not isinstance(caught.value, InputMediaError)
    assert not (tmp_path / "x.mp4").exists()
