"""Money: batch debits, 402s that write nothing, refunds that happen exactly once.

Invariants locked here:
- a batch is debited in full or not at all; one ledger row per job; balance == sum(ledger);
- 402 carries the contract's body and leaves no job, no ledger row, no balance change;
- a failed job is refunded exactly once (``credits_refunded: true``), however often refunds
  are tried;
- the balance can never go negative, even by a direct grant.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from tests.conftest import Harness
from videostudio.billing import service as billing
from videostudio.billing.models import LedgerEntry
from videostudio.jobs.models import Job
from videostudio.jobs.worker import Worker
from videostudio.providers.base import (
    JobSpec,
    ProgressCallback,
    Provider,
    ProviderStatus,
    ProviderUpdate,
)


class FailingProvider(Provider):
    name = "sandbox"

    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        return ProviderUpdate(status=ProviderStatus.FAILED, error="upstream said no")

    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        return ProviderUpdate(status=ProviderStatus.FAILED, error="upstream said no")


async def ledger_rows(harness: Harness, account_id: str) -> list[LedgerEntry]:
    async with harness.ctx.db.read() as session:
        stmt = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
        return list((await session.execute(stmt.order_by(LedgerEntry.id))).scalars())


async def test_batch_is_debited_atomically_one_row_per_job(harness: Harness) -> None:
    account_id, key = await harness.account(credits=1000)
    response = await harness.generate(key, model_slug="veo31_fast", prompt="p", batch_size=3)
    assert response.status_code == 200
    body = response.json()
    assert len(body["job_ids"]) == 3
    assert body["credits_remaining_total"] == 700 == await harness.balance(account_id)
    rows = await ledger_rows(harness, account_id)
    debits = [r for r in rows if r.kind == "debit"]
    assert sorted(r.job_id for r in debits) == sorted(body["job_ids"])  # type: ignore[type-var]
    assert all(r.amount == -100 for r in debits)
    assert sum(r.amount for r in rows) == 700
    assert rows[-1].balance_after == 700


async def test_insufficient_credits_writes_nothing(harness: Harness) -> None:
    account_id, key = await harness.account(credits=94)
    response = await harness.generate(key, model_slug="veo31_fast", prompt="p", batch_size=2)
    assert response.status_code == 402
    assert response.json() == {
        "success": False,
        "error": "Insufficient credits",
        "code": "insufficient_credits",
        "credits_required": 200,
        "credits_available": 94,
    }
    assert await harness.balance(account_id) == 94
    assert len(await ledger_rows(harness, account_id)) == 1  # the grant only
    async with harness.ctx.db.read() as session:
        count = (await session.execute(select(func.count()).select_from(Job))).scalar_one()
    assert count == 0


async def test_failed_job_is_refunded_exactly_once(harness: Harness) -> None:
    account_id, key = await harness.account(credits=100)
    harness.ctx.providers.providers["sandbox"] = FailingProvider()
    job_id = (await harness.generate(key, model_slug="veo31_lite", prompt="p")).json()["job_ids"][0]
    assert await harness.balance(account_id) == 60
    await Worker(harness.ctx).run_once()
    job = (await harness.status(key, job_id)).json()["job"]
    assert job["status"] == "failed"
    assert job["credits_refunded"] is True
    assert job["error_message"] == "upstream said no"
    assert await harness.balance(account_id) == 100

    # Further refund attempts, even concurrent ones, change nothing.
    async def again() -> bool:
        try:
            async with harness.ctx.db.write() as session:
                return await billing.refund_job(
                    session, account_id=account_id, job_id=job_id, amount=40, reason="retry"
                )
        except Exception:
            return False

    results = await asyncio.gather(*(again() for _ in range(5)))
    assert not any(results)
    assert await harness.balance(account_id) == 100
    refunds = [r for r in await ledger_rows(harness, account_id) if r.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].job_id == job_id


async def test_balance_never_negative(harness: Harness) -> None:
    account_id, _ = await harness.account(credits=10)
    with pytest.raises(billing.InsufficientCredits):
        async with harness.ctx.db.write() as session:
            await billing.grant(session, account_id=account_id, amount=-11, reason="too much")
    assert await harness.balance(account_id) == 10
    async with harness.ctx.db.write() as session:
        assert await billing.grant(session, account_id=account_id, amount=-10, reason="ok") == 0


async def test_account_endpoint_shows_balance_and_ledger(harness: Harness) -> None:
    account_id, key = await harness.account(credits=300)
    await harness.generate(key, model_slug="veo31_lite", prompt="p")
    response = await harness.client.get("/api/v1/account/", headers={"Authorization": key})
    body = response.json()
    assert body["account"]["account_id"] == account_id
    assert body["account"]["credits_balance"] == 260
    assert [e["kind"] for e in body["ledger"]] == ["debit", "grant"]
