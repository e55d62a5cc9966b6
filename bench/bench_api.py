"""API throughput, as ratios against a trivial endpoint of the same app on the same server.

Starts ``videostudio serve`` (one uvicorn process, SQLite by default, worker off so renders do not
compete) in a temporary directory, then drives it from this process with a small keep-alive HTTP/1.1
client (far cheaper per request than httpx, so the client is not the bottleneck) at a fixed
concurrency for a fixed time per endpoint:

- trivial:  GET /api/v1/health/            (no auth, no database: the baseline)
- status:   GET /api/v1/video-studio/status/{id}/   (auth + one job read)
- generate: POST /api/v1/video-studio/generate/     (auth + validate + debit + insert, one txn)

Targets: status >= 50 % of trivial, generate >= 25 % of trivial. Exit code 1 if a target is missed.
Usage: python bench/bench_api.py [--seconds 5] [--concurrency 16] [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"status": 0.50, "generate": 0.25}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def one_connection(
    port: int, request: bytes, stop_at: float, counts: list[int], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            if match:
                await reader.readexactly(int(match.group(1)))
            if status >= 300:
                errors[0] += 1
            counts[0] += 1
    finally:
        writer.close()


async def measure(port: int, request: bytes, seconds: float, concurrency: int) -> tuple[float, int]:
    counts, errors = [0], [0]
    await asyncio.gather(
        *(one_connection(port, request, time.perf_counter() + 0.5, [0], [0]) for _ in range(4))
    )  # warm-up
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(
        *(one_connection(port, request, stop_at, counts, errors) for _ in range(concurrency))
    )
    return counts[0] / (time.perf_counter() - start), errors[0]


def http(method: str, path: str, key: str | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def cli(env: dict[str, str], cwd: Path, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "videostudio", *args, "--json"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="vs-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "VIDEOSTUDIO_DATA_DIR": str(workdir / "data"),
        "VIDEOSTUDIO_RATE_LIMIT_GENERATE_PER_HOUR": "0",
        "VIDEOSTUDIO_WORKER_ENABLED": "false",
        "VIDEOSTUDIO_LOG_LEVEL": "warning",
    }
    if args.database_url:
        env["VIDEOSTUDIO_DATABASE_URL"] = args.database_url
    created = cli(env, workdir, "accounts", "create", f"bench-{port}", "--credits", "2000000000")
    key = str(created["api_key"])
    server = subprocess.Popen(
        [sys.executable, "-m", "videostudio", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        body = json.dumps(
            {"model_slug": "veo31_lite", "prompt": "benchmark", "aspect_ratio": "16:9"}
        ).encode()
        sample = subprocess.run(
            [
                "curl",
                "-s",
                "-X",
                "POST",
                f"http://127.0.0.1:{port}/api/v1/video-studio/generate/",
                "-H",
                f"Authorization: Bearer {key}",
                "-d",
                body.decode(),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        job_id = json.loads(sample.stdout)["job_ids"][0]
        requests = {
            "trivial": http("GET", "/api/v1/health/"),
            "status": http("GET", f"/api/v1/video-studio/status/{job_id}/", key),
            "generate": http("POST", "/api/v1/video-studio/generate/", key, body),
        }
        results: dict[str, dict[str, float]] = {}
        for name, request in requests.items():
            rate, errors = asyncio.run(measure(port, request, args.seconds, args.concurrency))
            results[name] = {"requests_per_second": round(rate, 1), "errors": errors}
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)

    base = results["trivial"]["requests_per_second"]
    ok = True
    for name, target in TARGETS.items():
        ratio = results[name]["requests_per_second"] / base
        results[name]["ratio_to_trivial"] = round(ratio, 3)
        results[name]["target"] = target
        ok &= ratio >= target and results[name]["errors"] == 0
    engine = "postgresql" if args.database_url and "postgres" in args.database_url else "sqlite"
    if args.json:
        print(json.dumps({"engine": engine, "concurrency": args.concurrency, "results": results}))
    else:
        print(f"engine={engine} concurrency={args.concurrency} seconds={args.seconds}")
        print(f"{'endpoint':<10} {'req/s':>9} {'ratio':>7} {'target':>7} {'errors':>7}")
        for name, row in results.items():
            print(
                f"{name:<10} {row['requests_per_second']:>9.1f} "
                f"{row.get('ratio_to_trivial', 1.0):>7.2f} {row.get('target', 0):>7.2f} "
                f"{int(row['errors']):>7}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
