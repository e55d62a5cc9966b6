"""Account and API-key tables.

An account's ``balance`` is a cached sum of its ledger (see ``billing``); the CHECK constraint
makes a negative balance impossible at the storage level, whatever the code above does. Keys are
stored as a
SHA-256 digest plus a short visible prefix: a key has 256 random bits, so a fast hash is safe, and
lookups stay one indexed equality.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from videostudio.db import Base, utcnow


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_non_negative"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    is_operator: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="default")
    prefix: Mapped[str] = mapped_column(String(24))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


# The plain table, for Core statements on hot paths (no ORM unit-of-work overhead).
ACCOUNTS = cast(Table, Account.__table__)
