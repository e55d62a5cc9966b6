"""Fuzzing the generate endpoints with Hypothesis: no input can break the envelope or the money.

Invariants locked here, for ``POST /api/v1/video-studio/generate/`` and the legacy
``POST /api/v1/generate/video/``, on both engines:

- whatever the body (the real field names with random JSON values of every type, totally random
  JSON, random bytes), the answer is never a 5xx, always a JSON object with a boolean ``success``;
- every error is one of the contract's codes (400/401/402/404/413/429) with a non-empty ``error``
  string and a ``code``;
- credits only move for accepted jobs: after the run, starting credits - balance equals the sum of
  ``credits_charged`` over the jobs in history, which equals what the accepted responses charged,
  and history holds exactly the accepted jobs.

Hypothesis runs inside a plain (sync) ``@given`` function that only collects examples; the async
test then sends them all with the ASGI client, so no event loop is nested inside Hypothesis.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.catalog.builtin_requests import BUILTIN_SLUGS
from tests.conftest import Harness
from videostudio.catalog.requests import GenerateRequest, LegacyGenerateRequest

GENERATE = "/api/v1/video-studio/generate/"
LEGACY = "/api/v1/generate/video/"
HISTORY = "/api/v1/video-studio/history/"
ERROR_CODES = {400, 401, 402, 404, 413, 429}
RICH = 10_000_000
POOR = 300

SLUGS = BUILTIN_SLUGS
URLS = [
    "https://example.com/a.png",
    "https://example.com/a.mp4",
    "https://example.com/a.mp3",
    "asset://asset_1",
    "http://example.com/a.png",
    "not a url",
    "",
]
IMG, VID, AUD = URLS[:3]
DROP = object()

long_text = st.builds(
    lambda chunk, count: chunk * count,
    st.text(min_size=1, max_size=3),
    st.integers(min_value=0, max_value=3000),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    long_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=10), children, max_size=5),
    ),
    max_leaves=15,
)
urls = st.sampled_from(URLS) | st.text(max_size=20)
url_lists = st.lists(urls, max_size=4)

# Plausible values per field, so that many bodies pass validation and move credits.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "model_slug": st.sampled_from([*SLUGS, "veo3_fast", "", "nope"]),
    "prompt": st.text(max_size=40) | long_text,
    "aspect_ratio": st.sampled_from(["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "Auto", "x"]),
    "duration_seconds": st.integers(min_value=-2, max_value=32),
    "quality_mode": st.sampled_from(["std", "pro", "480p", "720p", "768p", "1080p", "4k"]),
    "input_image_urls": url_lists,
    "input_video_urls": url_lists,
    "seedance_mode": st.sampled_from(
        ["text_to_video", "first_frame", "first_last_frame", "multimodal", "x"]
    ),
    "first_frame_url": urls,
    "last_frame_url": urls,
    "reference_image_urls": url_lists,
    "reference_video_urls": url_lists,
    "reference_audio_urls": url_lists,
    "start_frame_url": urls,
    "end_frame_url": urls,
    "character_orientation": st.sampled_from(["video", "image", "x"]),
    "sound": st.booleans(),
    "return_last_frame": st.booleans(),
    "web_search": st.booleans(),
    "prompt_directory_optin": st.booleans(),
    "batch_size": st.integers(min_value=-1, max_value=5),
}
LEGACY_PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "video_model": st.sampled_from(
        ["veo3_fast", "veo3", "veo31_lite", "kling_3_0_motion_control", "seedance_2", "x"]
    ),
    "prompt": PLAUSIBLE["prompt"],
    "source_image_urls": url_lists,
    "video_urls": url_lists,
    "aspect_ratio": PLAUSIBLE["aspect_ratio"],
    "duration_seconds": PLAUSIBLE["duration_seconds"],
    "quality_mode": PLAUSIBLE["quality_mode"],
    "character_orientation": PLAUSIBLE["character_orientation"],
    "sound": st.booleans(),
    "prompt_directory_optin": st.booleans(),
}
VALID: list[dict[str, Any]] = [
    {"model_slug": "veo31_lite", "prompt": "a fox"},
    {"model_slug": "veo31_fast", "prompt": "a fox", "input_image_urls": [IMG]},
    {"model_slug": "veo31", "prompt": "a fox", "aspect_ratio": "9:16"},
    {"model_slug": "kling_3_0", "prompt": "a fox", "quality_mode": "pro", "duration_seconds": 8},
    {
        "model_slug": "kling_3_0_motion_control",
        "input_image_urls": [IMG],
        "input_video_urls": [VID],
        "quality_mode": "720p",
        "duration_seconds": 5,
    },
    {"model_slug": "wan_2_6", "prompt": "a fox", "quality_mode": "1080p", "duration_seconds": 5},
    {
        "model_slug": "wan_2_6_v2v",
        "prompt": "anime",
        "input_video_urls": [VID],
        "quality_mode": "720p",
        "duration_seconds": 5,
    },
    {"model_slug": "seedance_2", "prompt": "a fox", "quality_mode": "480p"},
    {
        "model_slug": "seedance_2",
        "prompt": "a fox",
        "quality_mode": "720p",
        "seedance_mode": "multimodal",
        "reference_audio_urls": [AUD],
    },
    {
        "model_slug": "hailuo_2_3",
        "prompt": "a fox",
        "input_image_urls": [IMG],
        "quality_mode": "768p",
    },
    {"model_slug": "grok_imagine_video", "prompt": "a fox", "quality_mode": "720p"},
]
LEGACY_VALID: list[dict[str, Any]] = [
    {"prompt": "a fox"},
    {"video_model": "veo3", "prompt": "a fox", "source_image_urls": [IMG]},
    {
        "video_model": "kling_3_0_motion_control",
        "source_image_urls": [IMG],
        "video_urls": [VID],
        "quality_mode": "1080p",
        "duration_seconds": 4,
    },
]


def field_bodies(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Objects with the real field names: plausible or random values, plus stray keys."""
    values = {name: strategy | json_values for name, strategy in fields.items()}
    known = st.fixed_dictionaries({}, optional=values)
    stray = st.dictionaries(st.text(max_size=12), json_values, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, st.one_of(st.just({}), stray))


def mutated(valid: list[dict[str, Any]], fields: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A valid body with up to two fields replaced (plausible or random) or removed."""
    value = st.one_of(*fields.values(), json_values, st.just(DROP))
    changes = st.dictionaries(st.sampled_from(sorted(fields)), value, max_size=2)
    plausible = st.dictionaries(
        st.sampled_from(sorted(fields)), st.one_of(*fields.values()), max_size=1
    )
    return st.builds(apply, st.sampled_from(valid), st.one_of(st.just({}), plausible, changes))


def apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    body = {**base, **changes}
    return {name: value for name, value in body.items() if value is not DROP}


def encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


payloads = st.one_of(
    st.builds(encode, mutated(VALID, PLAUSIBLE), st.booleans()),
    st.builds(encode, mutated(VALID, PLAUSIBLE), st.booleans()),
    st.builds(encode, field_bodies(PLAUSIBLE), st.booleans()),
    st.builds(encode, json_values, st.booleans()),
    st.binary(max_size=300),
).map(lambda content: (GENERATE, content))
legacy_payloads = st.one_of(
    st.builds(encode, mutated(LEGACY_VALID, LEGACY_PLAUSIBLE), st.booleans()),
    st.builds(encode, mutated(LEGACY_VALID, LEGACY_PLAUSIBLE), st.booleans()),
    st.builds(encode, field_bodies(LEGACY_PLAUSIBLE), st.booleans()),
    st.builds(encode, json_values, st.booleans()),
    st.binary(max_size=300),
).map(lambda content: (LEGACY, content))


def collect(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """``max_examples`` values drawn by Hypothesis (a sync @given that only records them)."""
    found: list[Any] = []

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(strategy)
    def record(value: Any) -> None:
        found.append(value)

    record()
    return found


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


async def jobs_of(harness: Harness, key: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    offset = 0
    while True:
        response = await harness.client.get(
            HISTORY, params={"limit": 100, "offset": offset}, headers=auth(key)
        )
        assert response.status_code == 200, response.text
        data = response.json()
        jobs += data["jobs"]
        if not data["pagination"]["has_more"]:
            return jobs
        offset = data["pagination"]["next_offset"]


def test_fuzzer_knows_every_request_field() -> None:
    assert set(PLAUSIBLE) == set(GenerateRequest.model_fields)
    assert set(LEGACY_PLAUSIBLE) == set(LegacyGenerateRequest.model_fields)


async def test_fuzzed_generate_never_breaks_envelope_or_money(harness: Harness) -> None:
    cases = collect(payloads) + collect(legacy_payloads)
    assert len(cases) >= 200
    accounts = []
    for credits in (RICH, POOR):
        account_id, key = await harness.account(credits=credits)
        accounts.append({"id": account_id, "key": key, "start": credits, "charged": 0, "jobs": 0})
    outcomes = {"accepted": 0, "rejected": 0}

    for index, (path, content) in enumerate(cases):
        account = accounts[index % 2]
        response = await harness.client.post(path, content=content, headers=auth(account["key"]))
        where = f"{path} {content[:300]!r} -> {response.status_code} {response.text[:300]}"
        assert response.status_code < 500, where
        assert response.headers["content-type"].startswith("application/json"), where
        body = response.json()
        assert isinstance(body, dict), where
        assert isinstance(body.get("success"), bool), where
        if body["success"]:
            assert response.status_code == 200, where
            outcomes["accepted"] += 1
            if path == GENERATE:
                charged, jobs = body["credits_charged"], len(body["job_ids"])
                remaining = body["credits_remaining_total"]
            else:
                charged, jobs = body["data"]["credits_used"], 1
                remaining = body["data"]["credits_remaining"]
            assert isinstance(charged, int) and charged >= 0, where
            assert 1 <= jobs <= 4, where
            account["charged"] += charged
            account["jobs"] += jobs
            assert remaining == account["start"] - account["charged"], where
        else:
            outcomes["rejected"] += 1
            assert response.status_code in ERROR_CODES, where
            assert isinstance(body.get("error"), str) and body["error"].strip(), where
            assert isinstance(body.get("code"), str) and body["code"], where

    assert outcomes["accepted"] > 0 and outcomes["rejected"] > 0, outcomes
    for account in accounts:
        balance = await harness.balance(account["id"])
        jobs = await jobs_of(harness, account["key"])
        assert len(jobs) == account["jobs"]
        assert sum(job["credits_charged"] for job in jobs) == account["charged"]
        assert account["start"] - balance == account["charged"]
