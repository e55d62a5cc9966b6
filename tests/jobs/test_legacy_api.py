"""The legacy ``POST /api/v1/generate/video/`` endpoint (contract section 7.3).

Invariants locked here:

- ``video_model`` aliases map to Video Studio models: ``veo3_fast`` -> veo31_fast (100 credits,
  also the default), ``veo3`` -> veo31 (250); legacy-enabled slugs are accepted as themselves;
- legacy field names map to Video Studio ones: ``source_image_urls`` -> ``input_image_urls``
  (``mode`` becomes "image-to-video"), ``video_urls`` -> ``input_video_urls`` (Motion Control with
  ``quality_mode``, ``duration_seconds`` and ``character_orientation``);
- the success envelope is ``{"success": true, "data": {generation_id, status, generation_type,
  video_model, credits_used, credits_remaining, mode, message, ...}}``;
- a model the legacy endpoint does not serve, or an unknown one, is a 404 that writes nothing;
- validation errors name fields as the legacy client sent them (``source_image_urls[0]``,
  ``video_urls``), never the Video Studio names, and write nothing;
- a legacy job is an ordinary job: visible through the Video Studio status and history endpoints;
- an account without enough credits gets the video 402 shape (credits_required,
  credits_available) and nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Harness

LEGACY = "/api/v1/generate/video/"
HISTORY = "/api/v1/video-studio/history/"
IMG = "https://example.com/person.png"
VID = "https://example.com/dance.mp4"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def legacy(harness: Harness, key: str, **body: Any) -> Any:
    return await harness.client.post(LEGACY, json=body, headers=auth(key))


async def history_total(harness: Harness, key: str) -> int:
    response = await harness.client.get(HISTORY, headers=auth(key))
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["total"])


@pytest.mark.parametrize(
    ("body", "slug", "credits", "mode"),
    [
        pytest.param({"video_model": "veo3_fast", "prompt": "a fox"}, "veo31_fast", 100,
                     "text-to-video", id="veo3_fast"),
        pytest.param({"video_model": "veo3", "prompt": "a fox"}, "veo31", 250, "text-to-video",
                     id="veo3"),
        pytest.param({"prompt": "a fox"}, "veo31_fast", 100, "text-to-video", id="default-model"),
        pytest.param({"video_model": "veo31_lite", "prompt": "a fox"}, "veo31_lite", 40,
                     "text-to-video", id="legacy-enabled-slug"),
        pytest.param({"video_model": "veo3_fast", "prompt": "a fox", "source_image_urls": [IMG]},
                     "veo31_fast", 100, "image-to-video", id="source-image-urls"),
        pytest.param({"video_model": "veo3", "prompt": "a fox", "source_image_urls": [IMG, IMG],
                      "aspect_ratio": "9:16"}, "veo31", 250, "image-to-video",
                     id="two-source-images"),
        pytest.param({"video_model": "kling_3_0_motion_control", "source_image_urls": [IMG],
                      "video_urls": [VID], "quality_mode": "720p", "duration_seconds": 10},
                     "kling_3_0_motion_control", 120, "motion-control", id="motion-control"),
        pytest.param({"video_model": "kling_3_0_motion_control", "prompt": "dance",
                      "source_image_urls": [IMG], "video_urls": [VID], "quality_mode": "1080p",
                      "duration_seconds": 10, "character_orientation": "image",
                      "prompt_directory_optin": True},
                     "kling_3_0_motion_control", 190, "motion-control",
                     id="motion-control-image-orientation-discount"),
    ],
)  # fmt: skip
async def test_legacy_generate_maps_to_video_studio(
    harness: Harness, body: dict[str, Any], slug: str, credits: int, mode: str
) -> None:
    account_id, key = await harness.account(credits=1000)
    response = await legacy(harness, key, **body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"success", "data"}
    assert payload["success"] is True
    data = payload["data"]
    generation_id = data["generation_id"]
    assert isinstance(generation_id, str) and generation_id
    assert data["status"] == "pending"
    assert data["generation_type"] == "video"
    assert data["video_model"] == body.get("video_model", "veo3_fast")
    assert data["model_slug"] == slug
    assert data["credits_used"] == credits
    assert data["credits_remaining"] == 1000 - credits
    assert data["mode"] == mode
    assert data["message"] == "Video generation started successfully"
    assert data["status_url"] == f"/api/v1/video-studio/status/{generation_id}/"
    assert await harness.balance(account_id) == 1000 - credits

    # The job is an ordinary Video Studio job.
    status = await harness.status(key, generation_id)
    assert status.status_code == 200, status.text
    job = status.json()["job"]
    assert job["job_id"] == generation_id
    assert job["model_slug"] == slug
    assert job["mode"] == mode.replace("-", "_")
    assert job["status"] == "pending"
    assert job["credits_charged"] == credits
    listed = await harness.client.get(HISTORY, headers=auth(key))
    assert [j["job_id"] for j in listed.json()["jobs"]] == [generation_id]


async def test_legacy_status_url_is_pollable(harness: Harness) -> None:
    _, key = await harness.account(credits=300)
    response = await legacy(harness, key, video_model="veo3", prompt="a fox")
    assert response.status_code == 200, response.text
    status = await harness.client.get(response.json()["data"]["status_url"], headers=auth(key))
    assert status.status_code == 200
    assert status.json()["job"]["credits_charged"] == 250


@pytest.mark.parametrize(
    ("body", "status", "error", "field"),
    [
        pytest.param({"video_model": "seedance_2", "prompt": "a fox"}, 404,
                     "Unknown video_model for this endpoint: seedance_2", "video_model",
                     id="seedance-not-served"),
        pytest.param({"video_model": "kling_3_0", "prompt": "a fox", "quality_mode": "std"}, 404,
                     "Unknown video_model for this endpoint: kling_3_0", "video_model",
                     id="kling-not-served"),
        pytest.param({"video_model": "wan_2_6", "prompt": "a fox"}, 404,
                     "Unknown video_model for this endpoint: wan_2_6", "video_model",
                     id="wan-not-served"),
        pytest.param({"video_model": "sora_2", "prompt": "a fox"}, 404,
                     "Unknown video_model for this endpoint: sora_2", "video_model",
                     id="unknown-model"),
        pytest.param({"video_model": "veo3_fast", "prompt": "a fox", "duration_seconds": 5}, 400,
                     "Invalid duration for this model", "duration_seconds", id="bad-duration"),
        pytest.param({"video_model": "veo3_fast"}, 400, "prompt is required for this model",
                     "prompt", id="missing-prompt"),
        pytest.param({"model_slug": "veo31_fast", "prompt": "a fox"}, 400,
                     "Unknown field: model_slug", "model_slug", id="studio-field-name"),
        pytest.param({"video_model": "veo3_fast", "prompt": "a fox",
                      "input_image_urls": [IMG]}, 400, "Unknown field: input_image_urls",
                     "input_image_urls", id="studio-input-field-name"),
        pytest.param({"video_model": None, "prompt": "a fox"}, 400,
                     "video_model must be a string", "video_model", id="null-video-model"),
    ],
)  # fmt: skip
async def test_legacy_rejections_write_nothing(
    harness: Harness, body: dict[str, Any], status: int, error: str, field: str
) -> None:
    account_id, key = await harness.account(credits=1000)
    response = await legacy(harness, key, **body)
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["success"] is False
    assert payload["error"] == error
    assert payload.get("field") == field
    assert await harness.balance(account_id) == 1000
    assert await history_total(harness, key) == 0


async def test_legacy_insufficient_credits_uses_the_video_402_shape(harness: Harness) -> None:
    account_id, key = await harness.account(credits=94)
    response = await legacy(harness, key, video_model="veo3_fast", prompt="a fox")
    assert response.status_code == 402, response.text
    assert response.json() == {
        "success": False,
        "error": "Insufficient credits",
        "code": "insufficient_credits",
        "credits_required": 100,
        "credits_available": 94,
    }
    assert await harness.balance(account_id) == 94
    assert await history_total(harness, key) == 0


async def test_legacy_needs_an_api_key(harness: Harness) -> None:
    response = await harness.client.post(LEGACY, json={"prompt": "a fox"})
    assert response.status_code == 401
    assert response.json()["success"] is False
    assert response.json()["code"] == "unauthorized"


MOTION = {
    "video_model": "kling_3_0_motion_control",
    "source_image_urls": [IMG],
    "video_urls": [VID],
    "quality_mode": "720p",
    "duration_seconds": 5,
}


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        pytest.param({"prompt": "a fox", "source_image_urls": ["http://example.com/a.png"]},
                     "source_image_urls[0] must be an https:// URL or an asset:// ID",
                     "source_image_urls[0]", id="bad-source-image-url"),
        pytest.param({**MOTION, "video_urls": None},
                     "kling_3_0_motion_control requires one video_urls entry", "video_urls",
                     id="missing-video-urls"),
        pytest.param({**MOTION, "source_image_urls": []},
                     "kling_3_0_motion_control requires one source_image_urls entry",
                     "source_image_urls", id="missing-source-image"),
        pytest.param({**MOTION, "video_urls": [VID, VID]},
                     "kling_3_0_motion_control accepts at most 1 video_urls entry", "video_urls",
                     id="two-videos"),
        pytest.param({**MOTION, "video_urls": ["dance.mp4"]},
                     "video_urls[0] must be an https:// URL or an asset:// ID", "video_urls[0]",
                     id="bad-video-url"),
        pytest.param({"prompt": "a fox", "source_image_urls": "x"},
                     "source_image_urls must be an array", "source_image_urls",
                     id="source-images-not-a-list"),
        pytest.param({**MOTION, "character_orientation": "image", "duration_seconds": 11},
                     "Invalid duration for this model", "duration_seconds",
                     id="motion-image-11s"),
    ],
)  # fmt: skip
async def test_legacy_errors_name_legacy_fields(
    harness: Harness, body: dict[str, Any], error: str, field: str
) -> None:
    """Errors name the field as the legacy client sent it, never the Video Studio name."""
    account_id, key = await harness.account(credits=1000)
    response = await legacy(harness, key, **body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["success"] is False
    assert payload["error"] == error
    assert payload["field"] == field
    assert await harness.balance(account_id) == 1000
    assert await history_total(harness, key) == 0
