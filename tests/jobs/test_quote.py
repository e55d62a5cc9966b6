"""The quote endpoint prices a request exactly as generate charges it, and changes nothing.

Invariants locked here: for every built-in model (and with sound, discount and batches) the
quote's ``credits_required`` equals what generate then debits; a quote writes no job, no ledger
row and no rate-limit hit; an unaffordable quote is a 200 with ``sufficient_credits: false`` (the
402 belongs to generate); invalid requests get generate's exact error (status, text, field).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.catalog.builtin_requests import BUILTIN_SLUGS, VALID_REQUESTS
from tests.conftest import Harness
from videostudio.billing.models import LedgerEntry
from videostudio.jobs.models import Job

QUOTE = "/api/v1/video-studio/quote/"


async def quote(harness: Harness, key: str, **body: Any) -> Any:
    return await harness.client.post(QUOTE, json=body, headers={"Authorization": f"Bearer {key}"})


async def counts(harness: Harness) -> tuple[int, int]:
    async with harness.ctx.db.read() as session:
        jobs = await session.scalar(select(func.count()).select_from(Job))
        ledger = await session.scalar(select(func.count()).select_from(LedgerEntry))
    return int(jobs or 0), int(ledger or 0)


@pytest.mark.parametrize("slug", BUILTIN_SLUGS)
async def test_quote_equals_the_charge_of_generate(harness: Harness, slug: str) -> None:
    account_id, key = await harness.account(credits=100_000)
    body = {"model_slug": slug, **VALID_REQUESTS[slug]}
    before = await counts(harness)
    response = await quote(harness, key, **body)
    assert response.status_code == 200, response.text
    priced = response.json()["quote"]
    assert await counts(harness) == before
    assert await harness.balance(account_id) == 100_000
    assert priced["credits_available"] == 100_000
    assert priced["sufficient_credits"] is True
    assert priced["model_slug"] == slug
    assert priced["credits_required"] == priced["price_per_job"] * priced["batch_size"]

    generated = await harness.generate(key, **body)
    assert generated.status_code == 200, generated.text
    assert generated.json()["credits_charged"] == priced["credits_required"]
    assert await harness.balance(account_id) == 100_000 - priced["credits_required"]


@pytest.mark.parametrize(
    "body",
    [
        {
            "model_slug": "kling_3_0",
            "prompt": "p",
            "quality_mode": "pro",
            "duration_seconds": 8,
            "sound": True,
            "prompt_directory_optin": True,
        },
        {
            "model_slug": "wan_2_6",
            "prompt": "p",
            "quality_mode": "1080p",
            "duration_seconds": 15,
            "batch_size": 3,
        },
        {"model_slug": "veo31_fast", "prompt": "p", "batch_size": 4},
    ],
    ids=["kling-pro-sound-discount", "wan-batch", "veo-batch"],
)
async def test_modifiers_match_generate(harness: Harness, body: dict[str, Any]) -> None:
    _, key = await harness.account(credits=100_000)
    priced = (await quote(harness, key, **body)).json()["quote"]
    charged = (await harness.generate(key, **body)).json()
    assert charged["credits_charged"] == priced["credits_required"]
    assert charged["directory_discount_applied"] == priced["directory_discount_applied"]
    if body.get("model_slug") == "kling_3_0":
        assert priced["credits_required"] == 310  # published: 8 s pro + sound, opted in


async def test_unaffordable_quote_is_not_an_error(harness: Harness) -> None:
    _, key = await harness.account(credits=30)
    response = await quote(harness, key, model_slug="veo31_fast", prompt="p")
    assert response.status_code == 200
    priced = response.json()["quote"]
    assert priced["credits_required"] == 100
    assert priced["credits_available"] == 30
    assert priced["sufficient_credits"] is False


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {
                "model_slug": "kling_3_0",
                "prompt": "p",
                "quality_mode": "std",
                "duration_seconds": 99,
            },
            400,
            "duration_seconds",
        ),
        ({"model_slug": "nope", "prompt": "p"}, 404, "model_slug"),
        (
            {"model_slug": "wan_2_6_v2v", "prompt": "p", "quality_mode": "720p"},
            400,
            "input_video_urls",
        ),
    ],
)
async def test_errors_are_generates_errors(
    harness: Harness, body: dict[str, Any], status: int, field: str
) -> None:
    _, key = await harness.account(credits=1000)
    quoted = await quote(harness, key, **body)
    generated = await harness.generate(key, **body)
    assert quoted.status_code == generated.status_code == status
    assert quoted.json() == generated.json()
    assert quoted.json()["field"] == field


async def test_requires_a_key(harness: Harness) -> None:
    response = await harness.client.post(QUOTE, json={"model_slug": "veo31_fast"})
    assert response.status_code == 401
    assert response.json()["success"] is False


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_generate_per_hour": 1}


async def test_quotes_do_not_use_the_rate_limit(harness: Harness) -> None:
    _, key = await harness.account(credits=1000)
    for _ in range(5):
        assert (await quote(harness, key, model_slug="veo31_lite", prompt="p")).status_code == 200
    assert (await harness.generate(key, model_slug="veo31_lite", prompt="p")).status_code == 200
    assert (await harness.generate(key, model_slug="veo31_lite", prompt="p")).status_code == 429
