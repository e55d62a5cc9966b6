"""Smoke: generate -> worker -> status completed with a real MP4, on both engines."""

from __future__ import annotations

import av

from tests.conftest import Harness
from videostudio.jobs.worker import Worker


async def test_generate_then_complete(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    response = await harness.generate(
        key, model_slug="kling_3_0", prompt="a fox", quality_mode="std", duration_seconds=3
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["credits_remaining_total"] == 40
    job_id = body["job_ids"][0]
    assert await Worker(harness.ctx).run_once() == 1
    status = (await harness.status(key, job_id)).json()["job"]
    assert status["status"] == "completed", status
    url = status["result_urls"][0]
    media = await harness.client.get(url)
    assert media.status_code == 200
    path = harness.ctx.settings.media_dir / url.split("/media/")[1]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1280, 720)


async def test_jobs_of_a_batch_are_different_videos(harness: Harness) -> None:
    _, key = await harness.account(credits=1000)
    body = {"model_slug": "kling_3_0", "prompt": "a fox", "quality_mode": "std"}
    alone = (await harness.generate(key, **body, duration_seconds=3)).json()["job_ids"]
    batch = (await harness.generate(key, **body, duration_seconds=3, batch_size=2)).json()
    await Worker(harness.ctx).run_once()
    seeds = []
    for job_id in [*alone, *batch["job_ids"]]:
        job = (await harness.status(key, job_id)).json()["job"]
        assert job["status"] == "completed"
        seeds.append(job["provider_meta"]["seed"])
    # The first job of a batch is the request sent alone; the others differ.
    assert seeds[0] == seeds[1] != seeds[2]
