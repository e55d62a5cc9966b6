"""Pricing through HTTP: what generate charges, per job and per batch, on both engines.

Invariants locked here:

- the contract's published figures: veo31_lite 40, veo31_fast 100, veo31 250 credits per job;
  kling_3_0 5 s std = 100 and 8 s pro with sound = 320;
- per-second models charge rate[quality_mode] x duration_seconds, for every model and quality;
  Kling uses its sound rates when ``sound`` is true; ``sound`` on a model without sound rates or
  without audio changes nothing (and is not an error);
- ``prompt_directory_optin: true`` takes 10 credits off each job of the kling and wan families
  (``directory_discount_applied`` is 10) and nothing off veo, seedance, hailuo or grok;
- a batch costs batch_size x the per-job price;
- the response's ``credits_charged`` is the request total, ``credits_remaining_total`` the new
  balance, and every job's ``credits_charged`` (status endpoint) is the per-job price.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.catalog.builtin_requests import VALID_REQUESTS
from tests.conftest import Harness

START = 10_000

REQUIRED = VALID_REQUESTS


def body(slug: str, **changes: Any) -> dict[str, Any]:
    return {"model_slug": slug, **REQUIRED[slug], **changes}


async def charge(
    harness: Harness, request: dict[str, Any], *, per_job: int, discount: int = 0
) -> None:
    """Send ``request`` on a fresh account and check every place the price shows up."""
    batch = int(request.get("batch_size", 1))
    account_id, key = await harness.account(credits=START)
    response = await harness.generate(key, **request)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["credits_charged"] == per_job * batch
    assert data["directory_discount_applied"] == discount
    assert data["credits_remaining_total"] == START - per_job * batch
    assert await harness.balance(account_id) == START - per_job * batch
    assert len(data["job_ids"]) == batch
    for job_id in data["job_ids"]:
        status = await harness.status(key, job_id)
        assert status.status_code == 200, status.text
        job = status.json()["job"]
        assert job["credits_charged"] == per_job
        assert job["directory_discount_applied"] == discount
        assert job["credits_refunded"] is False


@pytest.mark.parametrize(
    ("request_body", "price"),
    [
        pytest.param(body("veo31_lite"), 40, id="veo31_lite-40"),
        pytest.param(body("veo31_fast"), 100, id="veo31_fast-100"),
        pytest.param(body("veo31"), 250, id="veo31-250"),
        pytest.param(body("kling_3_0"), 100, id="kling-5s-std-100"),
        pytest.param(
            body("kling_3_0", quality_mode="pro", duration_seconds=8, sound=True),
            320,
            id="kling-8s-pro-sound-320",
        ),
    ],
)
async def test_published_prices(harness: Harness, request_body: dict[str, Any], price: int) -> None:
    await charge(harness, request_body, per_job=price)


# (slug, quality_mode, duration_seconds, sound, credits per job)
RATES = [
    ("kling_3_0", "std", 5, False, 20 * 5),
    ("kling_3_0", "pro", 5, False, 27 * 5),
    ("kling_3_0", "std", 5, True, 30 * 5),
    ("kling_3_0", "pro", 15, True, 40 * 15),
    ("kling_3_0", "pro", 3, None, 27 * 3),
    ("kling_3_0_motion_control", "720p", 10, None, 12 * 10),
    ("kling_3_0_motion_control", "1080p", 30, None, 20 * 30),
    ("wan_2_6", "720p", 10, None, 16 * 10),
    ("wan_2_6", "1080p", 15, True, 24 * 15),
    ("wan_2_6_v2v", "720p", 10, True, 16 * 10),
    ("wan_2_6_v2v", "1080p", 5, None, 24 * 5),
    ("seedance_2", "480p", 10, None, 11 * 10),
    ("seedance_2", "720p", 7, True, 22 * 7),
    ("seedance_2", "1080p", 15, None, 54 * 15),
    ("hailuo_2_3", "768p", 10, None, 5 * 10),
    ("hailuo_2_3", "1080p", 6, None, 8 * 6),
    ("grok_imagine_video", "480p", 30, None, 3 * 30),
    ("grok_imagine_video", "720p", 11, None, 5 * 11),
]


@pytest.mark.parametrize(
    ("slug", "quality", "seconds", "sound", "price"),
    [
        pytest.param(*row, id=f"{row[0]}-{row[1]}-{row[2]}s{'-sound' if row[3] else ''}")
        for row in RATES
    ],
)
async def test_per_second_rates(
    harness: Harness, slug: str, quality: str, seconds: int, sound: bool | None, price: int
) -> None:
    changes: dict[str, Any] = {"quality_mode": quality, "duration_seconds": seconds}
    if sound is not None:
        changes["sound"] = sound
    await charge(harness, body(slug, **changes), per_job=price)


@pytest.mark.parametrize(
    ("request_body", "price"),
    [
        pytest.param(body("veo31_lite", sound=True), 40, id="veo-audio-no-sound-rates"),
        pytest.param(body("veo31", sound=True), 250, id="veo31-audio-no-sound-rates"),
        pytest.param(body("hailuo_2_3", sound=True), 30, id="hailuo-no-audio"),
        pytest.param(body("grok_imagine_video", sound=True), 18, id="grok-no-audio"),
        pytest.param(body("kling_3_0_motion_control", sound=True), 60, id="motion-no-audio"),
        pytest.param(body("kling_3_0", sound=False), 100, id="kling-sound-false"),
    ],
)
async def test_sound_is_ignored_where_it_has_no_price(
    harness: Harness, request_body: dict[str, Any], price: int
) -> None:
    await charge(harness, request_body, per_job=price)


# (slug, gross per job, discount)
DISCOUNTS = [
    ("kling_3_0", 100, 10),
    ("kling_3_0_motion_control", 60, 10),
    ("wan_2_6", 80, 10),
    ("wan_2_6_v2v", 80, 10),
    ("veo31_lite", 40, 0),
    ("veo31_fast", 100, 0),
    ("veo31", 250, 0),
    ("seedance_2", 44, 0),
    ("hailuo_2_3", 30, 0),
    ("grok_imagine_video", 18, 0),
]


@pytest.mark.parametrize(
    ("slug", "gross", "discount"), [pytest.param(*r, id=r[0]) for r in DISCOUNTS]
)
async def test_directory_discount_by_family(
    harness: Harness, slug: str, gross: int, discount: int
) -> None:
    await charge(
        harness,
        body(slug, prompt_directory_optin=True),
        per_job=gross - discount,
        discount=discount,
    )


@pytest.mark.parametrize(
    ("request_body", "per_job", "discount"),
    [
        pytest.param(body("kling_3_0", prompt_directory_optin=False), 100, 0, id="optin-false"),
        pytest.param(
            body("kling_3_0", quality_mode="pro", duration_seconds=8, sound=True,
                 prompt_directory_optin=True),
            310,
            10,
            id="kling-published-320-minus-10",
        ),
        pytest.param(body("veo31", batch_size=2), 250, 0, id="veo31-batch-2"),
        pytest.param(body("veo31_lite", batch_size=4), 40, 0, id="veo31_lite-batch-4"),
        pytest.param(
            body("seedance_2", quality_mode="1080p", duration_seconds=15, batch_size=4),
            810,
            0,
            id="seedance-1080p-15s-batch-4",
        ),
        pytest.param(
            body("kling_3_0", batch_size=3, prompt_directory_optin=True), 90, 10,
            id="kling-batch-3-discount-per-job",
        ),
        pytest.param(
            body("wan_2_6", quality_mode="1080p", duration_seconds=10, batch_size=4,
                 prompt_directory_optin=True),
            230,
            10,
            id="wan-batch-4-discount-per-job",
        ),
    ],
)  # fmt: skip
async def test_batch_and_optin_pricing(
    harness: Harness, request_body: dict[str, Any], per_job: int, discount: int
) -> None:
    await charge(harness, request_body, per_job=per_job, discount=discount)
