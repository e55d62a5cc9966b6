"""Money movements: grants, batch debits and once-only refunds.

Every function here runs inside the caller's write transaction and changes the balance with a
guarded ``UPDATE`` (never read-modify-write), then appends the ledger row in the same transaction:

- ``debit`` succeeds only if ``balance >= cost`` at the moment of the update, so concurrent requests
  can never overdraw an account (the CHECK constraint is a second wall);
- ``refund_job`` inserts a ledger row keyed ``refund:<job_id>``; the unique index means a second
  refund of the same job fails before any balance changes, whichever process attempts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from videostudio.accounts.models import ACCOUNTS, Account
from videostudio.billing.models import LEDGER, LedgerEntry
from videostudio.db import utcnow
from videostudio.db.hot import HotStatement, HotTransaction


class InsufficientCredits(Exception):
    def __init__(self, required: int, available: int) -> None:
        super().__init__(f"need {required}, have {available}")
        self.required = required
        self.available = available


@dataclass(frozen=True)
class JobCharge:
    job_id: str
    amount: int


# Prebuilt Core statements (no ORM session sync, no per-call statement building): money moves on
# the generate hot path.
_ADD = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(balance=ACCOUNTS.c.balance + bindparam("delta", type_=BigInteger))
    .returning(ACCOUNTS.c.balance)
)
_ADD_IF_FUNDED = _ADD.where(ACCOUNTS.c.balance >= -bindparam("delta", type_=BigInteger))


async def _change_balance(
    session: AsyncSession, account_id: str, delta: int, *, require_funds: bool
) -> int | None:
    stmt = _ADD_IF_FUNDED if require_funds else _ADD
    result = await session.execute(stmt, {"account_id": account_id, "delta": delta})
    balance = result.scalar_one_or_none()
    return None if balance is None else int(balance)


async def balance_of(session: AsyncSession, account_id: str) -> int:
    stmt = select(Account.balance).where(Account.id == account_id)
    return int((await session.execute(stmt)).scalar_one())


async def grant(
    session: AsyncSession, *, account_id: str, amount: int, reason: str, kind: str = "grant"
) -> int:
    """Add (or, with a negative amount, remove) credits; returns the new balance."""
    new_balance = await _change_balance(session, account_id, amount, require_funds=amount < 0)
    if new_balance is None:
        raise InsufficientCredits(-amount, await balance_of(session, account_id))
    session.add(
        LedgerEntry(
            account_id=account_id,
            amount=amount,
            balance_after=new_balance,
            kind=kind,
            reason=reason,
        )
    )
    await session.flush()
    return new_balance


HOT_ADD_IF_FUNDED = HotStatement(_ADD_IF_FUNDED)
HOT_BALANCE = HotStatement(
    select(ACCOUNTS.c.balance).where(ACCOUNTS.c.id == bindparam("account_id"))
)
HOT_LEDGER_DEBIT = HotStatement(
    insert(LEDGER).values(
        {
            name: bindparam(name, type_=LEDGER.c[name].type)
            for name in (
                "account_id",
                "amount",
                "balance_after",
                "kind",
                "job_id",
                "unique_key",
                "created_at",
            )
        }
    )
)


async def debit(tx: HotTransaction, *, account_id: str, charges: list[JobCharge]) -> int:
    """Charge every job of a batch at once, or nothing; returns the new balance.

    Runs on the hot path (it is the generate request's transaction) with the same guarded
    statement ``grant`` uses."""
    total = sum(charge.amount for charge in charges)
    row = await tx.fetch_one(HOT_ADD_IF_FUNDED, {"account_id": account_id, "delta": -total})
    if row is None:
        current = await tx.fetch_one(HOT_BALANCE, {"account_id": account_id})
        raise InsufficientCredits(total, int(current["balance"]) if current else 0)
    new_balance = int(row["balance"])
    now = utcnow()
    running = new_balance + total
    for charge in charges:
        running -= charge.amount
        await tx.execute(
            HOT_LEDGER_DEBIT,
            {
                "account_id": account_id,
                "amount": -charge.amount,
                "balance_after": running,
                "kind": "debit",
                "job_id": charge.job_id,
                "unique_key": f"debit:{charge.job_id}",
                "created_at": now,
            },
        )
    return new_balance


async def refund_job(
    session: AsyncSession, *, account_id: str, job_id: str, amount: int, reason: str
) -> bool:
    """Return a job's charge once. False if it was refunded before (nothing changes then)."""
    key = f"refund:{job_id}"
    exists = await session.execute(select(LedgerEntry.id).where(LedgerEntry.unique_key == key))
    if exists.first() is not None:
        return False
    new_balance = await _change_balance(session, account_id, amount, require_funds=False)
    if new_balance is None:
        return False
    # A racing refund that slipped past the check above fails here on the unique index, and the
    # caller's transaction (including the balance change) rolls back with it.
    session.add(
        LedgerEntry(
            account_id=account_id,
            amount=amount,
            balance_after=new_balance,
            kind="refund",
            job_id=job_id,
            unique_key=key,
            reason=reason[:500],
        )
    )
    await session.flush()
    return True


async def ledger(session: AsyncSession, *, account_id: str, limit: int = 50) -> list[LedgerEntry]:
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def ledger_sum(session: AsyncSession, *, account_id: str) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account_id
    )
    return int((await session.execute(stmt)).scalar_one())
