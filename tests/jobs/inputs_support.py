"""Shared fixtures and helpers for end-to-end tests of jobs with input media.

The tests serve their inputs from a real local HTTPS server (the ``https_files`` fixture); the
app trusts its CA and allows its loopback address (unless a test is marked ``no_loopback``;
``media_settings(...)`` marks add settings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Harness
from tests.https_server import HTTPSFileServer
from videostudio.jobs.worker import Worker

LOOPBACK = "127.0.0.1/32,::1/128"


def media_overrides(request: pytest.FixtureRequest, https_files: HTTPSFileServer) -> Any:
    """Settings for a test module's ``settings_overrides`` fixture."""
    overrides: dict[str, Any] = {
        "fetch_ca_bundle": https_files.ca_path,
        "fetch_allow_networks": LOOPBACK,
        "fetch_timeout_seconds": 5,
    }
    if request.node.get_closest_marker("no_loopback") is not None:
        overrides["fetch_allow_networks"] = ""
    marker = request.node.get_closest_marker("media_settings")
    if marker is not None:
        overrides.update(marker.kwargs)
    return overrides


async def run_job(harness: Harness, key: str, **body: Any) -> dict[str, Any]:
    """Generate one job, run the worker until it settles, and return its status object."""
    response = await harness.generate(key, **body)
    assert response.status_code == 200, response.text
    job_id = response.json()["job_ids"][0]
    await Worker(harness.ctx).run_once()
    status = await harness.status(key, job_id)
    assert status.status_code == 200
    job: dict[str, Any] = status.json()["job"]
    return job


def media_path(harness: Harness, url: str) -> Path:
    return harness.ctx.settings.media_dir / url.split("/media/", 1)[1]
