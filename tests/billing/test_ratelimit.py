"""Per-account rate limit on generate.

Invariants locked here:
- over the limit, generate answers 429 in the envelope with an integer ``Retry-After`` header, and
  the rejected request is neither charged nor counted;
- the limit is per account (another account is unaffected), and applies to the legacy endpoint too;
- a request rejected for another reason (402) does not consume the budget;
- the sliding estimate weighs the previous window, and ``0`` turns the limit off.
"""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from videostudio.billing import ratelimit


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_generate_per_hour": 3}])
async def test_fourth_request_in_an_hour_is_429(harness: Harness) -> None:
    account_id, key = await harness.account(credits=1000)
    _, other = await harness.account(credits=1000)
    poor_id, poor = await harness.account(credits=0)
    for _ in range(2):
        assert (
            await harness.generate(poor, model_slug="veo31_lite", prompt="p")
        ).status_code == 402
    for _ in range(3):
        assert (await harness.generate(key, model_slug="veo31_lite", prompt="p")).status_code == 200
    refused = await harness.generate(key, model_slug="veo31_lite", prompt="p")
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False and body["error"] == "Rate limit exceeded"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    assert await harness.balance(account_id) == 1000 - 3 * 40
    legacy = await harness.client.post(
        "/api/v1/generate/video/", json={"prompt": "p"}, headers={"Authorization": key}
    )
    assert legacy.status_code == 429
    assert (await harness.generate(other, model_slug="veo31_lite", prompt="p")).status_code == 200
    # The 402s above did not use up the poor account's budget.
    async with harness.ctx.db.hot.transaction() as tx:
        for _ in range(3):
            await ratelimit.hit(tx, account_id=poor_id, scope="generate", limit=3)


async def test_sliding_window_weighs_the_previous_window(harness: Harness) -> None:
    account_id, _ = await harness.account(credits=0)
    hour = 3600.0
    start = 1_000 * hour
    async with harness.ctx.db.hot.transaction() as tx:
        for _ in range(10):
            await ratelimit.hit(tx, account_id=account_id, scope="t", limit=10, now=start + 10)
    # A quarter into the next window, 75 % of the previous 10 still count: 7.5 + 2 <= 10 < 7.5 + 3.
    now = start + hour + hour / 4
    async with harness.ctx.db.hot.transaction() as tx:
        for _ in range(2):
            await ratelimit.hit(tx, account_id=account_id, scope="t", limit=10, now=now)
    with pytest.raises(ratelimit.RateLimited) as info:
        async with harness.ctx.db.hot.transaction() as tx:
            await ratelimit.hit(tx, account_id=account_id, scope="t", limit=10, now=now)
    assert 0 < info.value.retry_after <= hour


async def test_zero_disables_the_limit(harness: Harness) -> None:
    account_id, _ = await harness.account(credits=0)
    async with harness.ctx.db.hot.transaction() as tx:
        for _ in range(50):
            await ratelimit.hit(tx, account_id=account_id, scope="generate", limit=0)
