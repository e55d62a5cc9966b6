"""Benchmark the sandbox composer (videostudio.media.compose) in every generation mode.

Usage: python bench/bench_modes.py [--json] [--repeat N] [--long-kind KIND|auto] [--skip-long]

Generates its own inputs first (a 4000x3000 JPEG photo-sized image, a 1200x1600 PNG, an 8 s
1920x1080 H.264 clip at 30 fps, a 5 s MP3), then renders, each in a fresh child process (so the
peak RSS is per render and includes the interpreter and library imports, as in a worker):

* every kind (text, image, frames = first + last image, multimodal = two images + a video +
  the MP3 looped, remix, motion) as an 8 s clip at 1280x720 and at 1920x1080, with sound;
* one 30 s 1920x1080 render of the heaviest kind (the one with the highest peak RSS at 8 s
  1080p, or ``--long-kind``): the gate. Exits 1 if its peak RSS exceeds 400 MB, since
  rendering streams and memory must not grow with the clip's length.

Reports wall time of the ``render_job`` call (input decoding included), the real-time factor
(render seconds / clip seconds), CPU seconds per clip second (user + system, all threads: the
steadier figure on a shared machine), peak RSS (``VmHWM``) and the MP4's size, as a
Markdown table. With ``--repeat N`` every 8 s case runs N times and the fastest run counts.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RSS_LIMIT_MB = 400.0
LONG_SECONDS = 30
CLIP_SECONDS = 8
KINDS = ("text", "image", "frames", "multimodal", "remix", "motion")
SIZES: list[tuple[str, int, int]] = [("720p", 1280, 720), ("1080p", 1920, 1080)]
PROMPT = (
    "A lighthouse on a rocky coast at dusk, waves crashing, seagulls circling, warm light "
    "sweeping across the water, slow cinematic dolly shot"
)


def _import_compose() -> Any:
    try:
        from videostudio.media import compose
    except ImportError:  # running from a checkout without an installed package
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from videostudio.media import compose
    return compose


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _make_image(path: Path, width: int, height: int, seed: int) -> None:
    import numpy as np
    from PIL import Image, ImageDraw

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 100 * np.sin(xx / width * 5.0 + seed)
    g = 127 + 100 * np.sin(yy / height * 4.0 + 2 * seed)
    b = 127 + 100 * np.cos((xx + yy) / (width + height) * 7.0 + 3 * seed)
    rgb = np.stack([r, g, b], -1)
    rgb += np.random.default_rng(seed).normal(0.0, 6.0, rgb.shape).astype(np.float32)  # grain
    img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width * 4 // 5)), int(rng.integers(0, height * 4 // 5))
        x1 = x0 + int(rng.integers(width // 12, width // 5))
        y1 = y0 + int(rng.integers(height // 12, height // 5))
        fill = tuple(int(c) for c in rng.integers(0, 255, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=fill, outline=(255, 255, 255), width=max(2, width // 400))
    if path.suffix == ".jpg":
        img.save(path, quality=92)
    else:
        img.save(path)


def _make_clip(path: Path, width: int, height: int, seconds: int, fps: int = 30) -> None:
    """A moving-pattern H.264 clip (drawn from a few precomputed layers: quick to make)."""
    import av
    import numpy as np

    yy, xx = np.mgrid[0:height, 0:width]
    base = np.empty((height, width, 3), np.uint8)
    base[..., 0] = xx * 255 // width
    base[..., 1] = yy * 255 // height
    base[..., 2] = 70
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        box_w, box_h = width // 6, height // 3
        for i in range(seconds * fps):
            t = i / fps
            rgb = np.roll(base, int(t * width / 10), axis=1)
            x = int((width - box_w) * (0.5 + 0.45 * np.sin(t * 1.3)))
            y = int((height - box_h) * (0.5 + 0.4 * np.sin(t * 0.9 + 1.0)))
            rgb[y : y + box_h, x : x + box_w] = (250, 235, 40)
            frame = av.VideoFrame.from_ndarray(rgb, "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _make_mp3(path: Path, seconds: int) -> None:
    import av
    import numpy as np

    rate = 44_100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "stereo"
        stream.format = "fltp"
        t = np.arange(seconds * rate) / rate
        wave = 0.3 * np.sin(2 * np.pi * 220.0 * t) + 0.2 * np.sin(2 * np.pi * 330.0 * t)
        data = np.stack([wave, wave]).astype(np.float32)
        for start in range(0, data.shape[1], 1152):
            chunk = np.ascontiguousarray(data[:, start : start + 1152])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _make_inputs(folder: Path, long_motion: bool) -> None:
    _make_image(folder / "photo.jpg", 4000, 3000, 1)
    _make_image(folder / "portrait.png", 1200, 1600, 2)
    _make_clip(folder / "clip.mp4", 1920, 1080, CLIP_SECONDS)
    _make_mp3(folder / "music.mp3", 5)
    if long_motion:
        _make_clip(folder / "long.mp4", 1920, 1080, LONG_SECONDS + 1)


# --------------------------------------------------------------------------------------------
# One render (child process)
# --------------------------------------------------------------------------------------------


def _child(kind: str, width: int, height: int, seconds: int, folder: Path) -> None:
    compose = _import_compose()
    photo, portrait = folder / "photo.jpg", folder / "portrait.png"
    clip = folder / ("long.mp4" if kind == "motion" and seconds > CLIP_SECONDS else "clip.mp4")
    inputs: dict[str, Any] = {
        "text": {},
        "image": {"image": photo},
        "frames": {"first_frame": photo, "last_frame": portrait},
        "multimodal": {
            "reference_images": (photo, portrait),
            "reference_videos": (folder / "clip.mp4",),
            "audio": folder / "music.mp3",
        },
        "remix": {"video": folder / "clip.mp4"},
        "motion": {"video": clip, "image": portrait},
    }[kind]
    spec = compose.ComposeSpec(
        kind=kind,
        prompt=PROMPT,
        width=width,
        height=height,
        duration_seconds=seconds,
        sound=True,
        seed=7,
        **inputs,
    )
    rss_before_kb = _peak_rss_kb()
    with tempfile.TemporaryDirectory(prefix="bench-modes-") as tmp:
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = compose.render_job(
            spec,
            Path(tmp) / "clip.mp4",
            poster_path=Path(tmp) / "poster.jpg",
            last_frame_path=Path(tmp) / "last.png",
        )
        wall = time.perf_counter() - started
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    peak_kb = _peak_rss_kb()
    print(
        json.dumps(
            {
                "kind": kind,
                "width": width,
                "height": height,
                "clip_seconds": seconds,
                "frames": result.frame_count,
                "wall_s": wall,
                "rtf": wall / seconds,
                "cpu_per_clip_s": cpu / seconds,
                "peak_rss_mb": peak_kb / 1024,
                "rss_growth_mb": (peak_kb - rss_before_kb) / 1024,
                "file_mb": result.bytes / 1e6,
            }
        )
    )


def _peak_rss_kb() -> int:
    """This process's peak RSS. ``VmHWM`` where /proc has it: unlike ``ru_maxrss``, Linux
    keeps ``ru_maxrss`` across fork/exec, so a child would report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _run_case(kind: str, width: int, height: int, seconds: int, folder: Path) -> dict[str, Any]:
    args = [kind, str(width), str(height), str(seconds), str(folder)]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['kind']} | {r['width']}x{r['height']} | {r['clip_seconds']} | {r['wall_s']:.2f} "
        f"| {r['rtf']:.3f} | {r['cpu_per_clip_s']:.3f} | {r['peak_rss_mb']:.0f} "
        f"| {r['rss_growth_mb']:.0f} | {r['file_mb']:.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeat", type=int, default=1, help="runs per 8 s case; fastest counts")
    parser.add_argument("--long-kind", default="auto", choices=("auto", *KINDS))
    parser.add_argument("--skip-long", action="store_true", help="no 30 s 1080p render")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, width, height, seconds, folder = args.child
        _child(kind, int(width), int(height), int(seconds), Path(folder))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-modes-inputs-") as tmp:
        folder = Path(tmp)
        _make_inputs(folder, long_motion=args.long_kind in ("auto", "motion"))
        results: list[dict[str, Any]] = []
        for _, width, height in SIZES:
            for kind in KINDS:
                runs = [
                    _run_case(kind, width, height, CLIP_SECONDS, folder)
                    for _ in range(max(1, args.repeat))
                ]
                best = min(runs, key=lambda r: float(r["wall_s"]))
                results.append(best)
                print(f"  {kind} {width}x{height}: {best['wall_s']:.2f} s", file=sys.stderr)

        long: dict[str, Any] | None = None
        if not args.skip_long:
            long_kind = args.long_kind
            if long_kind == "auto":
                full_hd = [r for r in results if r["height"] == 1080]
                long_kind = max(full_hd, key=lambda r: float(r["peak_rss_mb"]))["kind"]
            long = _run_case(long_kind, 1920, 1080, LONG_SECONDS, folder)

    ok = long is None or float(long["peak_rss_mb"]) <= RSS_LIMIT_MB
    if args.json:
        print(json.dumps({"cases": results, "long": long, "rss_limit_mb": RSS_LIMIT_MB}, indent=2))
        return 0 if ok else 1
    print(
        "| kind | size | clip s | wall s | RTF | CPU s / clip s | peak RSS MB | +RSS MB | file MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(_row(r))
    if long is not None:
        print(_row(long))
        verdict = "OK" if ok else "FAIL"
        print(
            f"\ngate: {long['kind']} {LONG_SECONDS} s 1080p peak RSS {long['peak_rss_mb']:.0f} MB "
            f"<= {RSS_LIMIT_MB:.0f} MB ... {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
