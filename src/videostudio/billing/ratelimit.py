"""Per-account request limits that hold across processes and machines.

Counts live in the database (``rate_limit_windows``), one row per account, scope and fixed window,
incremented with an atomic upsert inside the caller's transaction (the generate request's hot
transaction). The limit is checked against a sliding-window estimate (this window's count plus the
previous window's, weighted by how much of it still overlaps), which avoids the double burst a plain
fixed window allows at its edge. A rejected request raises ``RateLimited``; the caller's rollback
undoes its increment, so only accepted requests count.
"""

from __future__ import annotations

import math
import time

from sqlalchemy import BigInteger, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from videostudio.billing.models import RateLimitWindow
from videostudio.db.hot import HotStatement, HotTransaction

WINDOWS = RateLimitWindow.__table__
_KEY = {
    "account_id": bindparam("account_id"),
    "scope": bindparam("scope"),
    "window_start": bindparam("window_start", type_=BigInteger),
}
COUNT_UP = HotStatement(
    {
        name: dialect.insert(RateLimitWindow)
        .values(**_KEY, count=1)
        .on_conflict_do_update(
            index_elements=["account_id", "scope", "window_start"],
            set_={"count": RateLimitWindow.count + 1},
        )
        .returning(RateLimitWindow.count)
        for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
    }
)
PREVIOUS = HotStatement(
    select(RateLimitWindow.count).where(
        RateLimitWindow.account_id == _KEY["account_id"],
        RateLimitWindow.scope == _KEY["scope"],
        RateLimitWindow.window_start == _KEY["window_start"],
    )
)
FORGET_OLD = HotStatement(
    delete(RateLimitWindow).where(
        RateLimitWindow.account_id == _KEY["account_id"],
        RateLimitWindow.scope == _KEY["scope"],
        RateLimitWindow.window_start < _KEY["window_start"],
    )
)


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after
        self.limit = limit


async def hit(
    tx: HotTransaction,
    *,
    account_id: str,
    scope: str,
    limit: int,
    window_seconds: int = 3600,
    now: float | None = None,
) -> None:
    """Count one request; raise ``RateLimited`` if it goes over ``limit`` (0 disables)."""
    if limit <= 0:
        return
    now = time.time() if now is None else now
    window = int(now // window_seconds) * window_seconds
    key = {"account_id": account_id, "scope": scope}
    row = await tx.fetch_one(COUNT_UP, {**key, "window_start": window})
    current = int(row["count"]) if row else 1
    if current == 1:
        await tx.execute(FORGET_OLD, {**key, "window_start": window - window_seconds})
    previous_row = await tx.fetch_one(PREVIOUS, {**key, "window_start": window - window_seconds})
    previous = int(previous_row["count"]) if previous_row else 0
    elapsed = (now - window) / window_seconds
    if current + previous * (1 - elapsed) <= limit:
        return
    if current > limit or previous == 0:
        wait = window + window_seconds - now
    else:
        # Time until the previous window's weight has decayed enough to admit this request.
        wait = window_seconds * (1 - elapsed - (limit - current) / previous)
    raise RateLimited(retry_after=max(1, math.ceil(wait)), limit=limit)
