"""Job reads and the queue's state transitions.

Every transition is a compare-and-swap ``UPDATE ... WHERE status = ... AND lease_owner = ...``:

- ``claim`` takes pending jobs, and processing jobs whose lease expired (their worker died), using
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so concurrent workers never take the same row; on SQLite
  the single-writer transaction gives the same guarantee;
- ``heartbeat`` extends a lease only for its current owner, and tells a worker that lost it;
- ``finish`` moves a job to ``completed`` or ``failed`` only for the lease owner, so a job never
  completes twice; a failure refunds in the same transaction (once, by the ledger's unique key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videostudio.billing import service as billing
from videostudio.db import Database, utcnow
from videostudio.db.hot import HotStatement, HotTransaction
from videostudio.jobs.models import COMPLETED, FAILED, JOBS, PENDING, PROCESSING, Job

MAX_HISTORY_LIMIT = 100
# Deep enough for any history; keeps offsets inside every engine's integer range.
MAX_HISTORY_OFFSET = 10_000_000


@dataclass(frozen=True)
class HistoryPage:
    jobs: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


# The columns the contract's job object is built from (not params, leases, ...).
PAYLOAD_COLUMNS = [
    JOBS.c[name]
    for name in (
        "id",
        "model_slug",
        "mode",
        "status",
        "progress",
        "result_keys",
        "last_frame_key",
        "thumbnail_key",
        "credits_charged",
        "credits_refunded",
        "directory_discount",
        "provider_meta",
        "error_message",
        "created_at",
        "started_at",
        "completed_at",
    )
]
JOB_FOR_ACCOUNT = HotStatement(
    select(*PAYLOAD_COLUMNS).where(
        JOBS.c.id == bindparam("job_id"), JOBS.c.account_id == bindparam("account_id")
    )
)
_STATUS_FILTER = bindparam("status", type_=String)
_MODEL_FILTER = bindparam("model_slug", type_=String)
_HISTORY_WHERE = (
    (JOBS.c.account_id == bindparam("account_id"))
    & (_STATUS_FILTER.is_(None) | (JOBS.c.status == _STATUS_FILTER))
    & (_MODEL_FILTER.is_(None) | (JOBS.c.model_slug == _MODEL_FILTER))
)
# The total rides along as a window count, so page and total come from one consistent read.
HISTORY_PAGE = HotStatement(
    select(*PAYLOAD_COLUMNS, func.count().over().label("total"))
    .where(_HISTORY_WHERE)
    .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer))
)
HISTORY_COUNT = HotStatement(
    select(func.count().label("total")).select_from(JOBS).where(_HISTORY_WHERE)
)


async def get_for_account(db: Database, *, job_id: str, account_id: str) -> dict[str, Any] | None:
    """A job's columns, only if ``account_id`` owns it (others' jobs are indistinguishable
    from missing ones). The status poll is the hottest read, so it runs as a ``HotStatement``."""
    return await db.hot.fetch_one(JOB_FOR_ACCOUNT, {"job_id": job_id, "account_id": account_id})


async def history(
    db: Database,
    *,
    account_id: str,
    limit: int,
    offset: int,
    status: str | None = None,
    model_slug: str | None = None,
) -> HistoryPage:
    """An account's jobs, newest first, with optional status and model filters."""
    params: dict[str, Any] = {
        "account_id": account_id,
        "status": status,
        "model_slug": model_slug,
        "limit": limit,
        "offset": offset,
    }
    jobs = await db.hot.fetch(HISTORY_PAGE, params)
    if jobs:
        total = int(jobs[0]["total"])
    else:  # past the end (or nothing at all): the count needs its own query
        counted = await db.hot.fetch_one(HISTORY_COUNT, params)
        total = int(counted["total"]) if counted else 0
    return HistoryPage(jobs=jobs, total=total, limit=limit, offset=offset)


# Every column of a new job, so the hot-path INSERT needs no engine-side defaults.
_NEW_JOB: dict[str, Any] = {
    "status": PENDING,
    "provider_job_id": None,
    "progress": 0,
    "credits_refunded": False,
    "result_keys": [],
    "last_frame_key": None,
    "thumbnail_key": None,
    "error_message": None,
    "attempts": 0,
    "lease_owner": None,
    "lease_expires_at": None,
    "started_at": None,
    "completed_at": None,
}
INSERT_JOB = HotStatement(
    insert(JOBS).values({column.key: bindparam(column.key, type_=column.type) for column in JOBS.c})
)


async def insert_pending(
    tx: HotTransaction,
    *,
    job_ids: list[str],
    account_id: str,
    model_slug: str,
    mode: str,
    source: str,
    params: dict[str, Any],
    provider: str,
    price_per_job: int,
    directory_discount: int,
) -> None:
    """Queue the jobs of one request, inside the transaction that charges for them."""
    now = utcnow()
    for index, job_id in enumerate(job_ids):
        # Later jobs of a batch carry their index, so an engine can make each one different
        # (the first stays identical to the same request sent alone).
        job_params = {**params, "batch_index": index} if index else params
        await tx.execute(
            INSERT_JOB,
            {
                **_NEW_JOB,
                "id": job_id,
                "account_id": account_id,
                "batch_id": job_ids[0],
                "model_slug": model_slug,
                "mode": mode,
                "source": source,
                "params": job_params,
                "provider": provider,
                "provider_meta": {"engine": provider},
                "credits_charged": price_per_job,
                "directory_discount": directory_discount,
                "created_at": now,
                "updated_at": now,
            },
        )


async def claim(
    session: AsyncSession, *, worker_id: str, limit: int, lease_seconds: float
) -> list[Job]:
    """Lease up to ``limit`` runnable jobs to ``worker_id``, oldest first."""
    now = utcnow()
    # An expired lease of this very worker is not up for grabs: the worker is still running that
    # job (its heartbeats could not reach the database for a while) and renews the lease itself.
    runnable = or_(
        Job.status == PENDING,
        (Job.status == PROCESSING) & (Job.lease_expires_at < now) & (Job.lease_owner != worker_id),
    )
    candidates = (
        select(Job.id)
        .where(runnable)
        .order_by(Job.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [row[0] for row in (await session.execute(candidates)).all()]
    if not ids:
        return []
    await session.execute(
        update(Job)
        .where(Job.id.in_(ids), runnable)
        .values(
            status=PROCESSING,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=func.coalesce(Job.started_at, now),
            updated_at=now,
        )
    )
    stmt = select(Job).where(Job.id.in_(ids), Job.lease_owner == worker_id)
    claimed = (await session.execute(stmt.execution_options(populate_existing=True))).scalars()
    return sorted(claimed, key=lambda job: job.created_at)


async def heartbeat(
    session: AsyncSession,
    *,
    job_id: str,
    worker_id: str,
    lease_seconds: float,
    progress: int | None = None,
    provider_job_id: str | None = None,
) -> bool:
    """Extend the lease (and record progress); False if this worker no longer holds the job."""
    now = utcnow()
    values: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "updated_at": now,
    }
    if progress is not None:
        values["progress"] = max(0, min(99, progress))
    if provider_job_id is not None:
        values["provider_job_id"] = provider_job_id
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == PROCESSING, Job.lease_owner == worker_id)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete(
    session: AsyncSession,
    *,
    job_id: str,
    worker_id: str,
    result_keys: list[str],
    provider_meta: dict[str, Any],
    last_frame_key: str | None = None,
    thumbnail_key: str | None = None,
) -> bool:
    """Mark the job completed; False if this worker lost it (the output must then be discarded)."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == PROCESSING, Job.lease_owner == worker_id)
        .values(
            status=COMPLETED,
            progress=100,
            result_keys=result_keys,
            last_frame_key=last_frame_key,
            thumbnail_key=thumbnail_key,
            provider_meta=provider_meta,
            completed_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(
    session: AsyncSession,
    *,
    job: Job,
    error_message: str,
    worker_id: str,
    provider_meta: dict[str, Any] | None = None,
) -> bool:
    """Mark the job failed and refund its charge once; False if this worker lost the job."""
    now = utcnow()
    guard = (Job.status == PROCESSING) & (Job.lease_owner == worker_id)
    values: dict[str, Any] = {
        "status": FAILED,
        "error_message": error_message,
        "completed_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if provider_meta is not None:
        values["provider_meta"] = provider_meta
    result = await session.execute(update(Job).where(Job.id == job.id, guard).values(**values))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if job.credits_charged > 0:
        refunded = await billing.refund_job(
            session,
            account_id=job.account_id,
            job_id=job.id,
            amount=job.credits_charged,
            reason=f"job failed: {error_message}",
        )
    else:
        refunded = True
    await session.execute(update(Job).where(Job.id == job.id).values(credits_refunded=refunded))
    return True
