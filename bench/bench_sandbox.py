"""Benchmark the sandbox renderer (videostudio.media.render).

Usage: python bench/bench_sandbox.py [--json] [--repeat N]

Renders, each in a fresh child process (so peak RSS is per clip and the first-render costs are
included, as in a freshly started worker):

* 8 s 1280x720 with sound  -- the gated case: exits 1 if it takes more than 2.0 s wall time
* 8 s 1920x1080 with sound
* 15 s 1280x720 with sound -- same peak RSS as the 8 s clip shows memory does not grow with length

Reports wall time of the render call, real-time factor (render seconds / clip seconds), frames
rendered per second, peak RSS (``ru_maxrss``) and its growth during the render, and file size.
With ``--repeat N`` every case runs N times and the fastest run is reported (the gate uses it too).
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

GATE_CASE = "720p-8s"
GATE_SECONDS = 2.0
CASES: list[tuple[str, int, int, int]] = [
    ("720p-8s", 1280, 720, 8),
    ("1080p-8s", 1920, 1080, 8),
    ("720p-15s", 1280, 720, 15),
]
PROMPT = (
    "A lighthouse on a rocky coast at dusk, waves crashing, seagulls circling, warm light "
    "sweeping across the water, slow cinematic dolly shot"
)


def _child(width: int, height: int, seconds: int) -> None:
    """Render one clip and print its measurements as JSON (runs in a fresh process)."""
    try:
        from videostudio.media.render import RenderSpec, render_text_to_video
    except ImportError:  # running from a checkout without an installed package
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from videostudio.media.render import RenderSpec, render_text_to_video

    spec = RenderSpec(
        prompt=PROMPT, width=width, height=height, duration_seconds=seconds, sound=True, seed=7
    )
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        started = time.perf_counter()
        result = render_text_to_video(spec, Path(tmp) / "clip.mp4")
        wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "width": width,
                "height": height,
                "clip_seconds": seconds,
                "frames": result.frame_count,
                "wall_s": wall,
                "rtf": wall / seconds,
                "fps": result.frame_count / wall,
                "peak_rss_mb": peak_kb / 1024,
                "rss_growth_mb": (peak_kb - rss_before_kb) / 1024,
                "file_mb": result.bytes / 1e6,
            }
        )
    )


def _run_case(width: int, height: int, seconds: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(width), str(height), str(seconds)],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest counts")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    results: dict[str, dict[str, Any]] = {}
    for name, width, height, seconds in CASES:
        runs = [_run_case(width, height, seconds) for _ in range(max(1, args.repeat))]
        best = min(runs, key=lambda r: float(r["wall_s"]))
        best["all_wall_s"] = [round(float(r["wall_s"]), 3) for r in runs]
        results[name] = best

    gate_wall = float(results[GATE_CASE]["wall_s"])
    ok = gate_wall <= GATE_SECONDS
    if args.json:
        payload = {
            "gate": {"case": GATE_CASE, "limit_s": GATE_SECONDS, "wall_s": gate_wall, "ok": ok},
            "cases": results,
        }
        print(json.dumps(payload, indent=2))
    else:
        header = (
            f"{'case':<10} {'size':>9} {'frames':>6} {'wall s':>7} {'RTF':>6} "
            f"{'fps':>6} {'peak RSS MB':>11} {'+RSS MB':>8} {'file MB':>8}"
        )
        print(header)
        print("-" * len(header))
        for name, r in results.items():
            print(
                f"{name:<10} {r['width']:>4}x{r['height']:<4} {r['frames']:>6} "
                f"{r['wall_s']:>7.3f} {r['rtf']:>6.3f} {r['fps']:>6.0f} "
                f"{r['peak_rss_mb']:>11.1f} {r['rss_growth_mb']:>8.1f} {r['file_mb']:>8.2f}"
            )
        verdict = "OK" if ok else "FAIL"
        print(f"\ngate: {GATE_CASE} {gate_wall:.3f} s <= {GATE_SECONDS:.1f} s ... {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
