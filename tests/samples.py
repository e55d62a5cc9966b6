"""Real media files made on the spot for tests: textured images, short clips and tones.

Everything is generated (no binary fixtures in the repository) and deterministic per seed, so a
test can compare an output frame with the exact image it sent.
"""

from __future__ import annotations

import io
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from videostudio.media.render import RenderSpec, render_text_to_video


def image_array(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A textured RGB image (gradients, a grid and shapes) that differs clearly per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(0.2, 0.8, size=3)
    rgb = np.stack(
        [
            base[0] + 0.3 * np.sin(x / (17 + seed % 7)),
            base[1] + 0.3 * np.cos(y / (23 + seed % 5)),
            base[2] + 0.3 * np.sin((x + y) / 31),
        ],
        axis=-1,
    )
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width - 20)), int(rng.integers(0, height - 20))
        size = int(rng.integers(20, max(21, min(width, height) // 3)))
        colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
        draw.ellipse([x0, y0, x0 + size, y0 + size], fill=colour)
    return np.asarray(image)


def image_bytes(width: int = 640, height: int = 360, seed: int = 0, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image_array(width, height, seed)).save(buffer, format=fmt)
    return buffer.getvalue()


def clip_bytes(
    tmp: Path, seconds: int = 3, width: int = 320, height: int = 180, prompt: str = "clip"
) -> bytes:
    """A real H.264 MP4 (from the sandbox text renderer) of exactly ``seconds``."""
    path = tmp / f"clip-{prompt}-{seconds}-{width}x{height}.mp4"
    if not path.exists():
        spec = RenderSpec(
            prompt=prompt, width=width, height=height, duration_seconds=seconds, sound=False
        )
        render_text_to_video(spec, path)
    return path.read_bytes()


def tone_wav_bytes(seconds: float = 2.0, frequency: float = 440.0, rate: int = 48_000) -> bytes:
    """A mono 16-bit WAV sine tone."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        samples = int(seconds * rate)
        t = np.arange(samples) / rate
        wave = (0.5 * np.sin(2 * math.pi * frequency * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def decoded_frames(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """First frame, last frame (RGB) and the frame count of a video file."""
    first = last = None
    count = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            if first is None:
                first = rgb
            last = rgb
            count += 1
    assert first is not None and last is not None
    return first, last, count
