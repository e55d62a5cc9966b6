"""Inputs that must not be used: the job fails with a clear message and the credits come back.

Invariants locked here (SQLite and PostgreSQL): a URL to a loopback, private, link-local or
IPv4-mapped loopback address is refused when loopback is not allowed; a redirect from the allowed
test server to a private or non-allowed address is refused; a body over the byte cap, a body that
lies about its type, a server that stalls, an image that is too small, a video that is too long,
a truncated file, a 404, a motion clip shorter than the paid duration and an asset deleted before
the worker ran each fail the job with an ``error_message`` naming the field and the reason, set
``credits_refunded`` and restore the balance exactly (one refund row). Another account's
``asset://`` is refused at request time and nothing is charged.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import Harness
from tests.https_server import HTTPSFileServer
from tests.jobs.inputs_support import media_overrides, run_job
from tests.samples import clip_bytes, image_bytes
from videostudio.billing.models import LedgerEntry

I2V: dict[str, Any] = {
    "model_slug": "wan_2_6",
    "prompt": "p",
    "quality_mode": "720p",
    "duration_seconds": 5,
}
PRICE = 80


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, https_files: HTTPSFileServer) -> Any:
    return media_overrides(request, https_files)


async def assert_refunded(harness: Harness, account_id: str, job: dict[str, Any]) -> None:
    assert job["status"] == "failed", job
    assert job["credits_refunded"] is True
    assert job["result_urls"] == []
    assert await harness.balance(account_id) == 1000
    async with harness.ctx.db.read() as session:
        rows = list(
            await session.scalars(select(LedgerEntry).where(LedgerEntry.job_id == job["job_id"]))
        )
    assert sorted(row.amount for row in rows) == [-PRICE, PRICE]


@pytest.mark.no_loopback
@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
    ],
)
async def test_internal_addresses_are_refused(
    harness: Harness, https_files: HTTPSFileServer, host: str, reason: str
) -> None:
    account_id, key = await harness.account(credits=1000)
    url = f"https://{host}:{https_files.port}/a.png"
    job = await run_job(harness, key, **I2V, input_image_urls=[url])
    await assert_refunded(harness, account_id, job)
    assert job["error_message"].startswith("input_image_urls[0]:")
    assert reason in job["error_message"]
    assert "refused" in job["error_message"]


@pytest.mark.parametrize("target", ["https://10.0.0.1/x.png", "https://127.0.0.2:{port}/x.png"])
async def test_redirect_to_an_internal_address_is_refused(
    harness: Harness, https_files: HTTPSFileServer, target: str
) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_redirect("/hop.png", target.format(port=https_files.port))
    job = await run_job(harness, key, **I2V, input_image_urls=[https_files.url("/hop.png")])
    await assert_refunded(harness, account_id, job)
    assert "refused" in job["error_message"]


def noise_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    noise = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.media_settings(image_max_mb=0.2)
async def test_body_over_the_cap(harness: Harness, https_files: HTTPSFileServer) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_file("/huge.png", noise_png(600, 400), "image/png", send_length=False)
    job = await run_job(harness, key, **I2V, input_image_urls=[https_files.url("/huge.png")])
    await assert_refunded(harness, account_id, job)
    assert "larger than" in job["error_message"]


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/lies.png", b"<html>not an image at all</html>", "which is not accepted"),
        ("/tiny.png", image_bytes(200, 150), "too small"),
        ("/cut.png", image_bytes(640, 360)[:-3000], "truncated or corrupt"),
    ],
    ids=["lies-about-type", "too-small", "truncated"],
)
async def test_content_is_checked_after_download(
    harness: Harness, https_files: HTTPSFileServer, path: str, body: bytes, fragment: str
) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_file(path, body, "image/png")
    job = await run_job(harness, key, **I2V, input_image_urls=[https_files.url(path)])
    await assert_refunded(harness, account_id, job)
    assert fragment in job["error_message"], job["error_message"]
    assert job["error_message"].startswith("input_image_urls[0]")


async def test_missing_file(harness: Harness, https_files: HTTPSFileServer) -> None:
    account_id, key = await harness.account(credits=1000)
    job = await run_job(harness, key, **I2V, input_image_urls=[https_files.url("/nope.png")])
    await assert_refunded(harness, account_id, job)
    assert "404" in job["error_message"]


@pytest.mark.media_settings(fetch_timeout_seconds=1)
async def test_stalling_server(harness: Harness, https_files: HTTPSFileServer) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_stall("/stall.png", after_bytes=b"\x89PNG", content_length=100_000)
    job = await run_job(harness, key, **I2V, input_image_urls=[https_files.url("/stall.png")])
    await assert_refunded(harness, account_id, job)
    assert "timed out" in job["error_message"]


@pytest.mark.media_settings(video_max_seconds=2)
async def test_video_too_long(
    harness: Harness, https_files: HTTPSFileServer, tmp_path: Path
) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_file("/long.mp4", clip_bytes(tmp_path, seconds=3), "video/mp4")
    job = await run_job(
        harness,
        key,
        model_slug="wan_2_6_v2v",
        prompt="p",
        quality_mode="720p",
        duration_seconds=5,
        input_video_urls=[https_files.url("/long.mp4")],
    )
    assert job["status"] == "failed"
    assert "too long" in job["error_message"]
    assert job["credits_refunded"] is True
    assert await harness.balance(account_id) == 1000


async def test_motion_clip_shorter_than_paid_duration(
    harness: Harness, https_files: HTTPSFileServer, tmp_path: Path
) -> None:
    account_id, key = await harness.account(credits=1000)
    https_files.add_file("/c.png", image_bytes(400, 600, seed=3), "image/png")
    https_files.add_file("/short.mp4", clip_bytes(tmp_path, seconds=3), "video/mp4")
    job = await run_job(
        harness,
        key,
        model_slug="kling_3_0_motion_control",
        quality_mode="720p",
        duration_seconds=8,
        input_image_urls=[https_files.url("/c.png")],
        input_video_urls=[https_files.url("/short.mp4")],
    )
    assert job["status"] == "failed"
    assert "shorter than duration_seconds 8" in job["error_message"]
    assert job["credits_refunded"] is True
    assert await harness.balance(account_id) == 1000


async def test_asset_deleted_before_the_worker_ran(harness: Harness) -> None:
    account_id, key = await harness.account(credits=1000)
    headers = {"Authorization": f"Bearer {key}"}
    uploaded = await harness.client.post(
        "/api/v1/assets/", files={"file": ("a.png", image_bytes(640, 360))}, headers=headers
    )
    asset_id = uploaded.json()["asset"]["asset_id"]
    response = await harness.generate(key, **I2V, input_image_urls=[asset_id])
    assert response.status_code == 200
    job_id = response.json()["job_ids"][0]
    bare = asset_id.removeprefix("asset://")
    assert (
        await harness.client.delete(f"/api/v1/assets/{bare}/", headers=headers)
    ).status_code == (200)
    from videostudio.jobs.worker import Worker

    await Worker(harness.ctx).run_once()
    job = (await harness.status(key, job_id)).json()["job"]
    await assert_refunded(harness, account_id, job)
    assert job["error_message"] == f"input_image_urls[0]: {asset_id} no longer exists"
