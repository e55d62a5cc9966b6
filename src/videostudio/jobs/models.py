"""The job table, which is also the queue.

A job row is inserted in the same transaction as its debit, so there is never money without a job
or a job without money. Workers claim rows by setting a lease (owner + expiry); every later change
is a compare-and-swap on ``(status, lease_owner)``, so a worker that lost its lease cannot complete,
fail or refund a job another worker now holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from videostudio.db import Base, utcnow

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
STATUSES = (PENDING, PROCESSING, COMPLETED, FAILED)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_created", "account_id", "created_at"),
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    batch_id: Mapped[str] = mapped_column(String(36))
    model_slug: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    source: Mapped[str] = mapped_column(String(16), default="studio")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider: Mapped[str] = mapped_column(String(32))
    provider_job_id: Mapped[str | None] = mapped_column(String(200), default=None)
    provider_meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress: Mapped[int] = mapped_column(default=0)
    credits_charged: Mapped[int] = mapped_column(default=0)
    credits_refunded: Mapped[bool] = mapped_column(default=False)
    directory_discount: Mapped[int] = mapped_column(default=0)
    result_keys: Mapped[list[Any]] = mapped_column(default=list)
    last_frame_key: Mapped[str | None] = mapped_column(String(200), default=None)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The plain table, for Core statements on hot paths (no ORM unit-of-work overhead).
JOBS = cast(Table, Job.__table__)
