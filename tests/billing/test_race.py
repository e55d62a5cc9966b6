"""Concurrency: 40 simultaneous generate requests on an account that can afford exactly 10.

Invariant locked here: exactly 10 are accepted, the other 30 get 402, the balance ends at 0 and
is never negative, and the ledger sums to the balance, on both engines, whether the requests
reach one application or two independent ones sharing the database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import func, select

from tests.conftest import Harness, make_settings
from videostudio.billing import service as billing
from videostudio.jobs.models import Job
from videostudio.web.app import create_app


async def test_forty_concurrent_requests_ten_affordable(harness: Harness) -> None:
    account_id, key = await harness.account(credits=400)  # 10 x veo31_lite (40)
    responses = await asyncio.gather(
        *(harness.generate(key, model_slug="veo31_lite", prompt=f"race {i}") for i in range(40))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 10, codes
    assert codes.count(402) == 30, codes
    remaining = [r.json()["credits_remaining_total"] for r in responses if r.status_code == 200]
    assert min(remaining) == 0 and all(v >= 0 for v in remaining)
    assert sorted(remaining) == list(range(0, 400, 40))
    assert await harness.balance(account_id) == 0
    async with harness.ctx.db.read() as session:
        assert await billing.ledger_sum(session, account_id=account_id) == 0
        jobs = (await session.execute(select(func.count()).select_from(Job))).scalar_one()
    assert jobs == 10


async def test_two_api_processes_share_one_account_safely(harness: Harness, tmp_path: Path) -> None:
    """The same race, split across two independent applications (own pools, own connections,
    own caches) on one database, as two API processes or machines would be."""
    account_id, key = await harness.account(credits=400)
    settings = make_settings(harness.ctx.settings.resolved_database_url, tmp_path / "second")
    second = create_app(settings)
    async with (
        second.router.lifespan_context(second),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as peer,
    ):

        async def via(client: httpx.AsyncClient, i: int) -> httpx.Response:
            return await client.post(
                "/api/v1/video-studio/generate/",
                json={"model_slug": "veo31_lite", "prompt": f"race {i}"},
                headers={"Authorization": f"Bearer {key}"},
            )

        responses = await asyncio.gather(
            *(via(harness.client if i % 2 else peer, i) for i in range(40))
        )
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 10 and codes.count(402) == 30, codes
    assert await harness.balance(account_id) == 0
    async with harness.ctx.db.read() as session:
        assert await billing.ledger_sum(session, account_id=account_id) == 0
