"""Ledger and rate-limit tables.

Every balance change is one ``LedgerEntry`` written in the same transaction as the balance update.
``unique_key`` makes money movements idempotent: ``debit:<job>`` and ``refund:<job>`` can each exist
once, so a job is never charged or refunded twice even if two workers race to settle it.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from videostudio.db import Base, utcnow

BigIntId = BigInteger().with_variant(Integer, "sqlite")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    unique_key: Mapped[str | None] = mapped_column(String(80), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitWindow(Base):
    """Accepted requests per account, scope and fixed window (see ``billing.ratelimit``)."""

    __tablename__ = "rate_limit_windows"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# The plain table, for Core statements on hot paths (no ORM unit-of-work overhead).
LEDGER = cast(Table, LedgerEntry.__table__)
