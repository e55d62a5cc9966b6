"""Retention: ``videostudio media prune`` deletes what has expired and nothing else.

Invariants locked here (SQLite and PostgreSQL): results of jobs finished before
``RESULT_RETENTION_DAYS`` lose their files (video, poster, last frame) while the job keeps its row,
money and history entry, with empty ``result_urls`` and ``provider_meta.media_expired_at``; newer
results are untouched; assets older than ``ASSET_RETENTION_DAYS`` are deleted (0 keeps them);
unreferenced files older than a day are removed, fresh ones kept (they may belong to a render in
progress); a dry run reports the same numbers and deletes nothing; the report's byte count is what
was freed on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.conftest import Harness
from tests.samples import image_bytes
from videostudio import flows
from videostudio.assets.models import Asset
from videostudio.db import utcnow
from videostudio.jobs.models import Job
from videostudio.jobs.worker import Worker


def disk_files(harness: Harness) -> set[str]:
    root = harness.ctx.settings.media_dir
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and ".tmp" not in path.parts
    }


async def finished_job(harness: Harness, key: str, days_ago: float) -> dict[str, Any]:
    response = await harness.generate(
        key,
        model_slug="seedance_2",
        prompt="p",
        quality_mode="480p",
        duration_seconds=4,
        return_last_frame=True,
    )
    job_id = response.json()["job_ids"][0]
    await Worker(harness.ctx).run_once()
    async with harness.ctx.db.write() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(completed_at=utcnow() - timedelta(days=days_ago))
        )
    job: dict[str, Any] = (await harness.status(key, job_id)).json()["job"]
    assert job["status"] == "completed"
    return job


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"result_retention_days": 30, "asset_retention_days": 7}


@pytest.mark.slow
async def test_prune_expired_results_assets_and_orphans(harness: Harness) -> None:
    account_id, key = await harness.account(credits=1000)
    old = await finished_job(harness, key, days_ago=31)
    new = await finished_job(harness, key, days_ago=1)
    headers = {"Authorization": f"Bearer {key}"}
    uploaded = await harness.client.post(
        "/api/v1/assets/", files={"file": ("a.png", image_bytes(640, 360))}, headers=headers
    )
    asset = uploaded.json()["asset"]
    async with harness.ctx.db.write() as session:
        await session.execute(update(Asset).values(created_at=utcnow() - timedelta(days=8)))
    media = harness.ctx.settings.media_dir
    orphan_old = media / "results" / "orphanOLDxxxxxxxxxxxxxxxx.mp4"
    orphan_new = media / "results" / "orphanNEWxxxxxxxxxxxxxxxx.mp4"
    for path in (orphan_old, orphan_new):
        path.write_bytes(b"x" * 1000)
    stale = time.time() - 2 * 86400
    os.utime(orphan_old, (stale, stale))

    def keys(job: dict[str, Any]) -> set[str]:
        urls = [*job["result_urls"], job["thumbnail_url"], job["last_frame_url"]]
        return {url.split("/media/", 1)[1] for url in urls}

    old_keys, new_keys = keys(old), keys(new)
    asset_key = asset["url"].split("/media/", 1)[1]
    before = disk_files(harness)
    expected_gone = old_keys | {asset_key, "results/orphanOLDxxxxxxxxxxxxxxxx.mp4"}
    expected_bytes = sum((media / key).stat().st_size for key in expected_gone)

    dry = await flows.prune_media(harness.ctx, dry_run=True)
    assert disk_files(harness) == before
    assert (dry.expired_jobs, dry.expired_assets, dry.orphan_files) == (1, 1, 1)
    assert (dry.files, dry.bytes) == (5, expected_bytes)

    report = await flows.prune_media(harness.ctx)
    assert (report.expired_jobs, report.expired_assets, report.orphan_files) == (1, 1, 1)
    assert (report.files, report.bytes) == (5, expected_bytes)
    assert disk_files(harness) == before - expected_gone
    assert new_keys <= disk_files(harness)
    assert "results/orphanNEWxxxxxxxxxxxxxxxx.mp4" in disk_files(harness)

    pruned = (await harness.status(key, old["job_id"])).json()["job"]
    assert pruned["status"] == "completed"
    assert pruned["result_urls"] == [] and pruned["thumbnail_url"] is None
    assert pruned["last_frame_url"] is None
    assert pruned["credits_charged"] == old["credits_charged"]
    assert "media_expired_at" in pruned["provider_meta"]
    kept = (await harness.status(key, new["job_id"])).json()["job"]
    assert kept == new
    gone = await harness.client.get(f"/api/v1/assets/{asset['asset_id']}/", headers=headers)
    assert gone.status_code == 404
    assert await harness.balance(account_id) == 1000 - 2 * old["credits_charged"]

    again = await flows.prune_media(harness.ctx)
    assert (again.files, again.bytes, again.expired_jobs) == (0, 0, 0)


def test_cli_prune_reports_json(tmp_path: Path) -> None:
    env = {**os.environ, "VIDEOSTUDIO_DATA_DIR": str(tmp_path / "data")}
    env.pop("VIDEOSTUDIO_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "videostudio", "media", "prune", "--dry-run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    assert data["files"] == 0 and data["bytes"] == 0


async def test_assets_queued_jobs_need_are_kept(harness: Harness) -> None:
    _, key = await harness.account(credits=1000)
    headers = {"Authorization": f"Bearer {key}"}
    uploaded = await harness.client.post(
        "/api/v1/assets/", files={"file": ("a.png", image_bytes(640, 360))}, headers=headers
    )
    asset = uploaded.json()["asset"]
    response = await harness.generate(
        key,
        model_slug="wan_2_6",
        prompt="p",
        quality_mode="720p",
        duration_seconds=5,
        input_image_urls=[asset["asset_id"]],
    )
    assert response.status_code == 200
    async with harness.ctx.db.write() as session:
        await session.execute(update(Asset).values(created_at=utcnow() - timedelta(days=8)))
    report = await flows.prune_media(harness.ctx)
    assert report.expired_assets == 0
    kept = await harness.client.get(f"/api/v1/assets/{asset['asset_id']}/", headers=headers)
    assert kept.status_code == 200
    await Worker(harness.ctx).run_once()
    job = (await harness.status(key, response.json()["job_ids"][0])).json()["job"]
    assert job["status"] == "completed"
    assert (await flows.prune_media(harness.ctx)).expired_assets == 1
