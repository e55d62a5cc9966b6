"""History: newest first, paged, filtered, and private to the account.

Invariants locked here: default limit 20, maximum 100 (above is a 400), offset and page paging
with an exact ``pagination`` object, ``status`` and ``model_slug`` filters, invalid filters are
400s (also offsets beyond any engine's integer range and malformed slugs), and one account
never sees another's jobs.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness


async def history(harness: Harness, key: str, **params: Any) -> Any:
    response = await harness.client.get(
        "/api/v1/video-studio/history/", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    return response


async def test_newest_first_with_paging_and_filters(harness: Harness) -> None:
    _, key = await harness.account(credits=100_000)
    _, other = await harness.account(credits=1000)
    await harness.generate(other, model_slug="veo31_lite", prompt="not yours")
    ids: list[str] = []
    for i in range(23):
        slug = "veo31_lite" if i % 2 else "veo31_fast"
        ids.append(
            (await harness.generate(key, model_slug=slug, prompt=f"n{i}")).json()["job_ids"][0]
        )
    newest_first = list(reversed(ids))

    first = (await history(harness, key)).json()
    assert [j["job_id"] for j in first["jobs"]] == newest_first[:20]
    assert first["pagination"] == {
        "limit": 20,
        "offset": 0,
        "page": 1,
        "total": 23,
        "has_more": True,
        "next_offset": 20,
    }
    second = (await history(harness, key, page=2)).json()
    assert [j["job_id"] for j in second["jobs"]] == newest_first[20:]
    assert second["pagination"]["has_more"] is False and second["pagination"]["next_offset"] is None
    by_offset = (await history(harness, key, limit=5, offset=3)).json()
    assert [j["job_id"] for j in by_offset["jobs"]] == newest_first[3:8]

    lite = (await history(harness, key, model_slug="veo31_lite", limit=100)).json()
    assert lite["pagination"]["total"] == 11
    assert {j["model_slug"] for j in lite["jobs"]} == {"veo31_lite"}
    pending = (await history(harness, key, status="pending", limit=100)).json()
    assert pending["pagination"]["total"] == 23
    assert (await history(harness, key, status="completed")).json()["jobs"] == []
    job = first["jobs"][0]
    for field in (
        "job_id",
        "model_slug",
        "mode",
        "status",
        "result_urls",
        "credits_charged",
        "provider_meta",
        "created_at",
        "completed_at",
        "error_message",
        "credits_refunded",
        "progress",
        "last_frame_url",
    ):
        assert field in job


async def test_bad_history_parameters_are_400(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    for params in (
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"page": 0},
        {"status": "queued"},
        {"limit": "many"},
    ):
        response = await history(harness, key, **params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["success"] is False and body["error"]
    assert (await history(harness, key, limit=100)).status_code == 200


async def test_out_of_range_and_malformed_filters_are_400_not_500(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    for params in (
        {"offset": 3_000_000_000},
        {"offset": 10**20},
        {"page": 10**20},
        {"model_slug": "veo31\x00lite"},
        {"model_slug": "Not A Slug"},
    ):
        response = await history(harness, key, **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["success"] is False
