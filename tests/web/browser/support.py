"""Helpers of the browser tests: a live ``videostudio serve`` and page checks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("VIDEOSTUDIO_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
NARROW = {"width": 375, "height": 812}
# Test-runner switches that are not server settings: kept out of the server's environment so it
# does not warn about unknown VIDEOSTUDIO_* variables.
RUNNER_ONLY = ("VIDEOSTUDIO_REQUIRE_BROWSER", "VIDEOSTUDIO_WRITE_SCREENSHOTS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``videostudio serve`` in ``workdir``; ``key`` is the operator's (100,000 credits)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VIDEOSTUDIO_RATE_LIMIT_GENERATE_PER_HOUR": "0",
            "VIDEOSTUDIO_STARTER_CREDITS": "100000",
            "VIDEOSTUDIO_WORKER_POLL_INTERVAL_SECONDS": "0.1",
        }
        for name in ("VIDEOSTUDIO_DATABASE_URL", "VIDEOSTUDIO_PUBLIC_BASE_URL", *RUNNER_ONLY):
            self.env.pop(name, None)
        self.log = workdir / "serve.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "videostudio", "serve", "--port", str(self.port)],
            cwd=workdir,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.base + "/api/v1/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError("server did not start:\n" + self.log.read_text())
            time.sleep(0.1)
        match = re.search(r"API key \(shown once, keep it\): (vs_live_\S+)", self.log.read_text())
        assert match, self.log.read_text()
        self.key = match.group(1)

    def cli(self, *args: str) -> dict[str, Any]:
        """An admin command against this server's data, e.g. ``cli("accounts", "create", "x")``."""
        out = subprocess.run(
            [sys.executable, "-m", "videostudio", *args, "--json"],
            cwd=self.workdir,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(out.stdout))

    def account(self, name: str, credits: int) -> str:
        """A new account's API key."""
        return str(self.cli("accounts", "create", name, "--credits", str(credits))["api_key"])

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def wait_for_job(
        self, job_id: str, key: str | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.api("GET", f"/api/v1/video-studio/status/{job_id}/", key).json()["job"]
            if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
                return dict(job)
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def unlabelled_controls(page: Any) -> list[str]:
    """Form controls and buttons a screen reader could not name (empty list = all labelled)."""
    return list(
        page.evaluate(
            """() => {
              const out = [];
              const visible = (el) => el.getClientRects().length > 0;
              for (const el of document.querySelectorAll('input, select, textarea, button')) {
                if (el.type === 'hidden' || !visible(el) && el.type !== 'file') continue;
                const name = (el.labels && [...el.labels].map(l => l.textContent.trim()).join(' '))
                  || el.getAttribute('aria-label')
                  || (el.getAttribute('aria-labelledby') || '').split(' ')
                       .map(id => document.getElementById(id)?.textContent || '').join(' ').trim()
                  || (el.tagName === 'BUTTON' ? el.textContent.trim() : '');
                if (!name) out.push(el.outerHTML.slice(0, 120));
              }
              return out;
            }"""
        )
    )


def page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))
