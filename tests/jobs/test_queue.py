"""The jobs table as a durable queue.

Invariants locked here:
- a job whose worker died (lease expired) is claimed again and completes; the dead worker's late
  completion is refused, so a job never completes twice;
- concurrent workers never claim the same job;
- jobs survive a restart of the service (a new app on the same database runs them);
- a clean shutdown hands unfinished jobs back as ``pending`` at once, even with every slot busy;
- a job that keeps killing its worker fails after ``max_attempts`` and is refunded once;
- a worker that loses its lease mid-render stops and discards its output;
- a worker never claims its own expired lease (no second run of a job it is still running);
- malformed job ids are a plain 404, never a database error.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import Harness, make_settings
from videostudio.db import utcnow
from videostudio.jobs import service as jobs
from videostudio.jobs.models import Job
from videostudio.jobs.worker import Worker
from videostudio.providers.base import (
    JobSpec,
    ProgressCallback,
    Provider,
    ProviderStatus,
    ProviderUpdate,
)
from videostudio.web.app import create_app


async def job_row(harness: Harness, job_id: str) -> Job:
    async with harness.ctx.db.read() as session:
        row = await session.get(Job, job_id)
    assert row is not None
    return row


async def submit(harness: Harness, key: str, **extra: Any) -> str:
    body = {
        "model_slug": "kling_3_0",
        "prompt": "queue",
        "quality_mode": "std",
        "duration_seconds": 3,
    }
    body.update(extra)
    response = await harness.generate(key, **body)
    assert response.status_code == 200, response.text
    return str(response.json()["job_ids"][0])


async def claim(harness: Harness, worker_id: str, lease: float = 30) -> list[Job]:
    async with harness.ctx.db.write() as session:
        return await jobs.claim(session, worker_id=worker_id, limit=10, lease_seconds=lease)


async def expire_lease(harness: Harness, job_id: str) -> None:
    async with harness.ctx.db.write() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_expired_lease_is_reclaimed_and_completes_once(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    assert [j.id for j in await claim(harness, "dead-worker")] == [job_id]
    assert await claim(harness, "other") == []  # leased: nobody else may take it
    await expire_lease(harness, job_id)
    worker = Worker(harness.ctx, worker_id="survivor")
    assert await worker.run_once() == 1
    row = await job_row(harness, job_id)
    assert row.status == "completed" and row.attempts == 2
    async with harness.ctx.db.write() as session:
        late = await jobs.complete(
            session, job_id=job_id, worker_id="dead-worker", result_keys=[], provider_meta={}
        )
    assert late is False
    assert (await job_row(harness, job_id)).result_keys == row.result_keys


async def test_concurrent_claims_never_share_a_job(harness: Harness) -> None:
    _, key = await harness.account(credits=1000)
    ids = {await submit(harness, key) for _ in range(6)}
    results = await asyncio.gather(*(claim(harness, f"w{i}") for i in range(4)))
    claimed = [job.id for batch in results for job in batch]
    assert len(claimed) == len(set(claimed)) == 6
    assert set(claimed) == ids


async def test_jobs_survive_a_restart(harness: Harness, tmp_path: Path) -> None:
    _, key = await harness.account(credits=200)
    pending_id = await submit(harness, key)
    crashed_id = await submit(harness, key, prompt="crashed mid-render")
    async with harness.ctx.db.write() as session:
        await jobs.claim(session, worker_id="crashed", limit=1, lease_seconds=0.2)
    await asyncio.sleep(0.3)
    # A second, independent application on the same database and data directory.
    settings = make_settings(
        harness.ctx.settings.resolved_database_url, harness.ctx.settings.data_dir
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert await Worker(app.state.ctx).run_once() == 2
    for job_id in (pending_id, crashed_id):
        job = (await harness.status(key, job_id)).json()["job"]
        assert job["status"] == "completed", job
        assert job["credits_refunded"] is False


class SlowProvider(Provider):
    name = "sandbox"

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        self.started.set()
        for step in range(200):
            progress(step // 2)
            await asyncio.sleep(0.05)
        return ProviderUpdate(status=ProviderStatus.SUCCEEDED)

    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        return ProviderUpdate(status=ProviderStatus.QUEUED)


async def test_clean_shutdown_hands_jobs_back(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    provider = SlowProvider()
    harness.ctx.providers.providers["sandbox"] = provider
    stop = asyncio.Event()
    worker = Worker(harness.ctx, worker_id="graceful")
    task = asyncio.create_task(worker.run(stop, grace_seconds=0.1))
    await asyncio.wait_for(provider.started.wait(), 5)
    assert (await job_row(harness, job_id)).status == "processing"
    stop.set()
    await asyncio.wait_for(task, 10)
    row = await job_row(harness, job_id)
    assert (row.status, row.lease_owner, row.attempts) == ("pending", None, 0)


@pytest.mark.parametrize("settings_overrides", [{"max_attempts": 2}])
async def test_poison_job_fails_after_max_attempts_with_one_refund(harness: Harness) -> None:
    account_id, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    for attempt in range(2):
        assert [j.id for j in await claim(harness, f"crash-{attempt}")] == [job_id]
        await expire_lease(harness, job_id)
    assert await Worker(harness.ctx).run_once() == 1
    job = (await harness.status(key, job_id)).json()["job"]
    assert job["status"] == "failed"
    assert job["error_message"] == "Job failed after 2 attempts"
    assert job["credits_refunded"] is True
    assert await harness.balance(account_id) == 100


class LeaseStealingProvider(Provider):
    """Renders slowly; meanwhile another worker takes the lease over."""

    name = "sandbox"

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.aborted = False

    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        async with self.harness.ctx.db.write() as session:
            await session.execute(
                update(Job).where(Job.id == job.job_id).values(lease_owner="thief")
            )
        try:
            for step in range(100):
                progress(step)
                await asyncio.sleep(0.05)
        except Exception:
            self.aborted = True
            raise
        return ProviderUpdate(status=ProviderStatus.SUCCEEDED, result_keys=[])

    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        return ProviderUpdate(status=ProviderStatus.QUEUED)


@pytest.mark.parametrize("settings_overrides", [{"lease_seconds": 1}])
async def test_lost_lease_stops_the_work_and_writes_nothing(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    provider = LeaseStealingProvider(harness)
    harness.ctx.providers.providers["sandbox"] = provider
    await Worker(harness.ctx, worker_id="victim").run_once()
    assert provider.aborted
    row = await job_row(harness, job_id)
    assert (row.status, row.lease_owner) == ("processing", "thief")


async def test_heartbeat_extends_only_the_owners_lease(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    await claim(harness, "owner", lease=5)
    before = (await job_row(harness, job_id)).lease_expires_at
    async with harness.ctx.db.write() as session:
        assert await jobs.heartbeat(
            session, job_id=job_id, worker_id="owner", lease_seconds=60, progress=42
        )
        assert not await jobs.heartbeat(
            session, job_id=job_id, worker_id="intruder", lease_seconds=60
        )
    row = await job_row(harness, job_id)
    assert row.lease_expires_at is not None and before is not None
    assert row.lease_expires_at > before and row.progress == 42
    async with harness.ctx.db.read() as session:
        owners = (await session.execute(select(Job.lease_owner))).scalars().all()
    assert owners == ["owner"]


@pytest.mark.parametrize("settings_overrides", [{"worker_concurrency": 1}])
async def test_shutdown_is_prompt_when_every_slot_is_busy(harness: Harness) -> None:
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    provider = SlowProvider()  # would take ~10 s
    harness.ctx.providers.providers["sandbox"] = provider
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(harness.ctx).run(stop, grace_seconds=0.2))
    await asyncio.wait_for(provider.started.wait(), 5)
    started = asyncio.get_running_loop().time()
    stop.set()
    await asyncio.wait_for(task, 5)
    assert asyncio.get_running_loop().time() - started < 2
    assert (await job_row(harness, job_id)).status == "pending"


async def test_odd_job_ids_are_404_not_500(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    for job_id in ("nope", "00000000-0000-0000-0000-00000000000%00", "x" * 300):
        response = await harness.status(key, job_id)
        assert response.status_code == 404, (job_id, response.text)
        assert response.json()["error"] == "Job not found"


async def test_a_worker_never_reclaims_its_own_running_job(harness: Harness) -> None:
    """If a worker's heartbeats could not reach the database for longer than the lease, its
    expired lease is for *other* workers to take; the worker itself must not start the job a
    second time (that would pay an upstream provider twice)."""
    _, key = await harness.account(credits=100)
    job_id = await submit(harness, key)
    assert [j.id for j in await claim(harness, "slow-heart")] == [job_id]
    await expire_lease(harness, job_id)
    assert await claim(harness, "slow-heart") == []
    assert [j.id for j in await claim(harness, "other")] == [job_id]
    assert (await job_row(harness, job_id)).attempts == 2
