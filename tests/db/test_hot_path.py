"""The hot path (``db/hot.py``) stores and loads exactly what the ORM does.

Invariants locked here, on both engines:
- a job row written by the hot path reads back through the ORM with the same values (JSON,
  aware UTC timestamps, booleans), and a row written by the ORM reads back through the hot path
  the same, so the two paths can never disagree about a stored value;
- timestamps written by either path sort correctly against each other (lease expiry compares them);
- a hot transaction that fails leaves nothing behind, and the writer is usable afterwards;
- a COMMIT running in a worker thread finishes before its task gives the writer up, even when
  the task is cancelled.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import Harness
from videostudio.db import utcnow
from videostudio.jobs import service as jobs
from videostudio.jobs.models import Job


async def test_hot_and_orm_round_trip(harness: Harness) -> None:
    account_id, _ = await harness.account(credits=0)
    job_id = str(uuid.uuid4())
    params = {"prompt": "ünïcode ✓", "inputs": {"input_image_urls": ["https://a.example/x.png"]}}
    async with harness.ctx.db.hot.transaction() as tx:
        await jobs.insert_pending(
            tx,
            job_ids=[job_id],
            account_id=account_id,
            model_slug="veo31_lite",
            mode="image_to_video",
            source="studio",
            params=params,
            provider="sandbox",
            price_per_job=40,
            directory_discount=0,
        )
    async with harness.ctx.db.read() as session:
        row = await session.get(Job, job_id)
    assert row is not None
    assert row.params == params and row.result_keys == [] and row.credits_refunded is False
    assert row.created_at.tzinfo is not None
    assert abs(row.created_at - utcnow()) < timedelta(seconds=30)

    finished = utcnow()
    async with harness.ctx.db.write() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="completed",
                credits_refunded=True,
                result_keys=["results/abcdefghijklmnop.mp4"],
                provider_meta={"sandbox": True, "fps": 24},
                completed_at=finished,
            )
        )
    hot = await jobs.get_for_account(harness.ctx.db, job_id=job_id, account_id=account_id)
    assert hot is not None
    assert hot["status"] == "completed" and hot["credits_refunded"] is True
    assert hot["result_keys"] == ["results/abcdefghijklmnop.mp4"]
    assert hot["provider_meta"] == {"sandbox": True, "fps": 24}
    assert hot["completed_at"] == finished and hot["created_at"] == row.created_at

    # A timestamp written by the ORM compares correctly with one written by the hot path.
    async with harness.ctx.db.read() as session:
        later = select(Job.id).where(Job.completed_at > Job.created_at)
        assert (await session.execute(later)).scalars().all() == [job_id]


async def test_failed_hot_transaction_writes_nothing(harness: Harness) -> None:
    account_id, _ = await harness.account(credits=0)
    job_id = str(uuid.uuid4())
    kwargs = {
        "account_id": account_id,
        "model_slug": "veo31_lite",
        "mode": "text_to_video",
        "source": "studio",
        "params": {},
        "provider": "sandbox",
        "price_per_job": 1,
        "directory_discount": 0,
    }
    with pytest.raises(RuntimeError):
        async with harness.ctx.db.hot.transaction() as tx:
            await jobs.insert_pending(tx, job_ids=[job_id], **kwargs)  # type: ignore[arg-type]
            raise RuntimeError("something after the insert failed")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with harness.ctx.db.hot.transaction() as tx:
            await jobs.insert_pending(tx, job_ids=["dup", "dup"], **kwargs)  # type: ignore[arg-type]
    async with harness.ctx.db.read() as session:
        assert (await session.execute(select(Job.id))).scalars().all() == []
    async with harness.ctx.db.hot.transaction() as tx:  # the writer is still usable
        await jobs.insert_pending(tx, job_ids=[job_id], **kwargs)  # type: ignore[arg-type]
    async with harness.ctx.db.read() as session:
        assert (await session.execute(select(Job.id))).scalars().all() == [job_id]


async def test_cancelled_commit_still_finishes_before_the_writer_is_released() -> None:
    import asyncio
    import threading
    import time

    from videostudio.db.hot import commit_off_loop

    class SlowCommit:
        def __init__(self) -> None:
            self.done = threading.Event()

        def commit(self) -> None:
            time.sleep(0.2)
            self.done.set()

    conn = SlowCommit()
    task = asyncio.create_task(commit_off_loop(conn))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert conn.done.is_set()
