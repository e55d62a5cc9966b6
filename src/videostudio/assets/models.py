"""The assets table: one row per (account, content).

An asset is a file an account uploaded to use as a generation input through its ``asset://`` ID.
Rows are unique per ``(account_id, sha256)``: uploading the same bytes twice returns the same asset
and keeps one file. The ID is random and scoped by account in every query, so another account's
ID behaves exactly like an unknown one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from videostudio.db import Base, utcnow

ACTIVE = "active"
ASSET_SCHEME = "asset://"


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("account_id", "sha256"),
        Index("ix_assets_account_created", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    kind: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    has_audio: Mapped[bool] = mapped_column(default=False)
    storage_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def ref(self) -> str:
        return ASSET_SCHEME + self.id
