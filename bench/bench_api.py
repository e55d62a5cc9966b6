"""API throughput, as ratios against a trivial endpoint of the same app on the same server.

Starts ``videostudio serve`` (one uvicorn process, SQLite by default, worker off so renders do not
compete) in a temporary directory, then drives it from this process with a small keep-alive HTTP/1.1
client (far cheaper per request than httpx, so the client is not the bottleneck) at a fixed
concurrency for a fixed time per endpoint:

- trivial:  GET /api/v1/health/            (no auth, no database: the baseline)
- status:   GET /api/v1/video-studio/status/{id}/   (auth + one job read)
- generate: POST /api/v1/video-studio/generate/     (auth + validate + debit + insert, one txn)

Targets: status >= 50 % of trivial, generate >= 25 % of trivial. Exit code 1 if a target is missed.
Also reported: the server process's CPU milliseconds per request (from /proc), and the trivial
endpoint's CPU per request divided by each endpoint's. On a 2-core machine where the load generator
competes with the server, that CPU ratio is the steadier of the two figures.
Usage: python bench/bench_api.py [--seconds 5] [--rounds 3] [--concurrency 16]
       [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    port: int, request: bytes, seconds: float, concurrency: int, server_pid: int
) -> tuple[float, int, float]:
    """Requests per second, errors, and the server's CPU milliseconds per request."""
    counts, errors = [0], [0]
    await asyncio.gather(
        *(one_connection(port, request, time.perf_counter() + 0.5, [0], [0]) for _ in range(4))
    )  # warm-up
    cpu_before = cpu_seconds(server_pid)
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(
        *(one_connection(port, request, stop_at, counts, errors) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - start
    cpu_ms = (cpu_seconds(server_pid) - cpu_before) * 1000 / max(1, counts[0])
    return counts[0] / elapsed, errors[0], cpu_ms


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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", nargs="*", default=None, help="endpoints to measure besides trivial"
    )
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
        if args.only:
            requests = {k: v for k, v in requests.items() if k == "trivial" or k in args.only}
        # Interleaved rounds, median per endpoint: a 2-core machine is noisy, and interleaving
        # keeps slow drift (other processes, the growing jobs table) from favouring one endpoint.
        rates: dict[str, list[float]] = {name: [] for name in requests}
        cpu: dict[str, list[float]] = {name: [] for name in requests}
        errors: dict[str, int] = dict.fromkeys(requests, 0)
        for _ in range(args.rounds):
            for name, request in requests.items():
                rate, failed, cpu_ms = asyncio.run(
                    measure(port, request, args.seconds, args.concurrency, server.pid)
                )
                rates[name].append(rate)
                cpu[name].append(cpu_ms)
                errors[name] += failed
        results: dict[str, dict[str, object]] = {
            name: {
                "requests_per_second": round(statistics.median(values), 1),
                "rounds": [round(v, 1) for v in values],
                "server_cpu_ms_per_request": round(statistics.median(cpu[name]), 3),
                "errors": errors[name],
            }
            for name, values in rates.items()
        }
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)

    base = statistics.median(rates["trivial"])
    ok = True
    for name, target in TARGETS.items():
        if name not in rates:
            continue
        ratio = statistics.median(rates[name]) / base
        results[name]["ratio_to_trivial"] = round(ratio, 3)
        results[name]["target"] = target
        ok &= ratio >= target and errors[name] == 0
    engine = "postgresql" if args.database_url and "postgres" in args.database_url else "sqlite"
    if args.json:
        print(json.dumps({"engine": engine, "concurrency": args.concurrency, "results": results}))
    else:
        print(
            f"engine={engine} concurrency={args.concurrency} seconds={args.seconds}x{args.rounds}"
        )
        print(
            f"{'endpoint':<10} {'req/s':>9} {'ratio':>7} {'target':>7} {'errors':>7} "
            f"{'cpu ms/req':>10} {'cpu ratio':>9}  rounds"
        )
        base_cpu = statistics.median(cpu["trivial"])
        for name, values in rates.items():
            ratio = statistics.median(values) / base
            cpu_ms = statistics.median(cpu[name])
            print(
                f"{name:<10} {statistics.median(values):>9.1f} {ratio:>7.2f} "
                f"{TARGETS.get(name, 0):>7.2f} {errors[name]:>7} {cpu_ms:>10.3f} "
                f"{base_cpu / cpu_ms:>9.2f}  " + " ".join(f"{v:.0f}" for v in values)
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
