"""End to end, as a new user does it: ``videostudio serve`` in a fresh directory, then curl.

Invariant locked here: the real command starts on the embedded default (SQLite, local media,
in-process worker), prints an operator key once, accepts the seed document's generate example over
real HTTP, and the job completes with a playable MP4 of the requested size and duration served
from its absolute result URL. Jobs and credits survive a restart of the process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest

SEED_EXAMPLE = {
    "model_slug": "veo31_lite",
    "prompt": "A lighthouse on a cliff at dawn, waves crashing, cinematic",
    "aspect_ratio": "16:9",
    "duration_seconds": 8,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, workdir: Path, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "VIDEOSTUDIO_RATE_LIMIT_GENERATE_PER_HOUR": "24"}
        env.pop("VIDEOSTUDIO_DATABASE_URL", None)
        self.log = workdir / f"serve-{port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "videostudio", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/api/v1/health/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("server did not start:\n" + self.log.read_text())

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def curl(*args: str) -> dict[str, object]:
    out = subprocess.run(["curl", "-sS", *args], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


@pytest.mark.slow
def test_serve_and_curl_the_seed_example(workdir: Path) -> None:
    server = Server(workdir, free_port())
    try:
        match = re.search(r"API key \(shown once, keep it\): (vs_live_\S+)", server.output())
        assert match, server.output()
        key = match.group(1)
        created = curl(
            "-X",
            "POST",
            server.base + "/api/v1/video-studio/generate/",
            "-H",
            f"Authorization: Bearer {key}",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(SEED_EXAMPLE),
        )
        assert created["success"] is True, created
        assert created["credits_remaining_total"] == 1000 - 40
        job_id = created["job_ids"][0]  # type: ignore[index]
        deadline = time.monotonic() + 60
        while True:
            job = curl(
                server.base + f"/api/v1/video-studio/status/{job_id}/",
                "-H",
                f"Authorization: {key}",
            )["job"]
            assert isinstance(job, dict)
            if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert job["status"] == "completed", job
        assert job["provider_meta"]["sandbox"] is True
        url = job["result_urls"][0]
        assert url.startswith(server.base + "/media/results/")
        video = workdir / "result.mp4"
        subprocess.run(["curl", "-sSf", "-o", str(video), url], check=True)
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (1280, 720)
            assert stream.codec_context.name == "h264"
            frames = sum(1 for _ in container.decode(stream))
        assert frames == 8 * 24
    finally:
        server.stop()
    # Restart on the same directory: no second operator, the job and balance are still there.
    again = Server(workdir, free_port())
    try:
        assert "Created operator account" not in again.output()
        job = curl(
            again.base + f"/api/v1/video-studio/status/{job_id}/",
            "-H",
            f"Authorization: Token {key}",
        )
        assert job["job"]["status"] == "completed"  # type: ignore[index]
        account = curl(again.base + "/api/v1/account/", "-H", f"Authorization: {key}")
        assert account["account"]["credits_balance"] == 960  # type: ignore[index]
    finally:
        again.stop()
