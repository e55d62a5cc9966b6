"""Every validation rule of every built-in model, through real HTTP requests.

Invariants locked here (each case runs on SQLite and on PostgreSQL):

- a rejected ``POST /api/v1/video-studio/generate/`` answers the documented envelope
  ``{"success": false, "error", "code", "field"}`` (plus ``allowed`` for choice errors) with the
  contract's status (400 invalid, 401 no key, 402 credits, 404 unknown model) and the exact
  ``error`` text, and writes NOTHING: the balance is unchanged and history holds no job;
- request-shape errors (malformed JSON, non-object JSON, empty body, unknown fields, wrong types,
  missing ``model_slug``) are 400s naming the field; types are strict (``"8"``, ``8.0`` and
  ``true`` are not integers, ``"yes"`` and ``1`` not booleans);
- per model: durations, aspect ratios, quality modes (required where the model defines them,
  refused where it has none), prompt presence and length (2500 for Kling, 5000 elsewhere), input
  counts (Hailuo exactly one image, Wan remix exactly one video, Motion Control one image and one
  video), URL shape (https:// or asset:// only), fields the model does not support, the Kling
  aspect-ratio/frame conflict, Motion Control orientation limits, Hailuo 1080p duration, Seedance 2
  input modes and flags, and batch_size 1-4;
- every model accepts a valid request (200) and ``credits_remaining_total`` is the balance after
  the charge; a batch of 4 creates 4 jobs and charges 4 times the per-job price.

One application per engine serves the whole module (each case uses a fresh account), which keeps
hundreds of HTTP cases fast; nothing here depends on another case's data.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.catalog.builtin_requests import IMG, VALID_REQUESTS, VID
from tests.conftest import Harness, make_settings
from videostudio.assets.models import Asset
from videostudio.web.app import create_app

GENERATE = "/api/v1/video-studio/generate/"
HISTORY = "/api/v1/video-studio/history/"
START = 10_000

IMG2 = "https://example.com/b.png"
VID2 = "https://example.com/b.mp4"
AUD = "https://example.com/a.mp3"

# A valid request per model and its price (credits for one job).
BASE = VALID_REQUESTS
BASE_PRICE = {
    "veo31_lite": 40,
    "veo31_fast": 100,
    "veo31": 250,
    "kling_3_0": 100,  # 20 x 5
    "kling_3_0_motion_control": 60,  # 12 x 5
    "wan_2_6": 80,  # 16 x 5
    "wan_2_6_v2v": 80,  # 16 x 5
    "seedance_2": 44,  # 11 x 4
    "hailuo_2_3": 30,  # 5 x 6
    "grok_imagine_video": 18,  # 3 x 6
}
SLUGS = list(BASE)
VEO = ["veo31_lite", "veo31_fast", "veo31"]
PROMPT_REQUIRED = [slug for slug in SLUGS if slug != "kling_3_0_motion_control"]
PROMPT_LIMIT = {slug: 5000 for slug in SLUGS} | {
    "kling_3_0": 2500,
    "kling_3_0_motion_control": 2500,
}
ASPECTS = {
    **{slug: ["16:9", "9:16", "Auto"] for slug in VEO},
    "kling_3_0": ["16:9", "9:16", "1:1"],
    "wan_2_6": ["16:9", "9:16", "1:1", "4:3", "3:4"],
    "wan_2_6_v2v": ["16:9", "9:16", "1:1", "4:3", "3:4"],
    "seedance_2": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"],
    "grok_imagine_video": ["16:9", "9:16", "1:1"],
}
QUALITIES = {
    "kling_3_0": ["std", "pro"],
    "kling_3_0_motion_control": ["720p", "1080p"],
    "wan_2_6": ["720p", "1080p"],
    "wan_2_6_v2v": ["720p", "1080p"],
    "seedance_2": ["480p", "720p", "1080p"],
    "hailuo_2_3": ["768p", "1080p"],
    "grok_imagine_video": ["480p", "720p"],
}
SEEDANCE_MODES = ["text_to_video", "first_frame", "first_last_frame", "multimodal"]
DROP = object()


def req(slug: str, **changes: Any) -> dict[str, Any]:
    """The model's valid base request with ``changes`` applied (``DROP`` removes a field)."""
    body: dict[str, Any] = {"model_slug": slug, **BASE[slug]}
    for name, value in changes.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def span(low: int, high: int) -> list[int]:
    return list(range(low, high + 1))


def bad(
    case_id: str,
    body: dict[str, Any],
    error: str,
    field: str | None,
    code: str,
    *,
    status: int = 400,
    allowed: list[Any] | None = None,
) -> Any:
    return pytest.param(body, status, error, field, code, allowed, id=case_id)


def ok(case_id: str, body: dict[str, Any], price: int) -> Any:
    return pytest.param(body, price, id=case_id)


# --- The application, one per engine for the module -----------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def studio_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of this module's application (sync: ``postgres_url`` runs its own loop)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('validation') / 'videostudio.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module")
async def studio(
    studio_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Harness]:
    app = create_app(make_settings(studio_url, tmp_path_factory.mktemp("validation-data")))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(ctx=app.state.ctx, client=client)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def history(studio: Harness, key: str) -> dict[str, Any]:
    response = await studio.client.get(HISTORY, params={"limit": 100}, headers=auth(key))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def assert_nothing_written(studio: Harness, account_id: str, key: str, start: int) -> None:
    assert await studio.balance(account_id) == start
    listed = await history(studio, key)
    assert listed["pagination"]["total"] == 0
    assert listed["jobs"] == []


def assert_envelope(
    response: httpx.Response,
    status: int,
    error: str,
    field: str | None,
    code: str | None = None,
    allowed: list[Any] | None = None,
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["error"] == error
    assert body.get("field") == field
    if code is not None:
        assert body["code"] == code
    assert body.get("allowed") == allowed
    assert set(body) <= {"success", "error", "code", "field", "allowed"}, body
    return body


# --- Rejections -----------------------------------------------------------------------------

REQUEST_SHAPE = [
    bad("unknown-slug", req("veo31", model_slug="sora_2"), "Unknown model slug", "model_slug",
        "unknown_model", status=404),
    bad("empty-slug", req("veo31", model_slug=""), "Unknown model slug", "model_slug",
        "unknown_model", status=404),
    bad("slug-case-sensitive", req("veo31", model_slug="VEO31"), "Unknown model slug",
        "model_slug", "unknown_model", status=404),
    bad("missing-slug", req("veo31", model_slug=DROP), "model_slug is required", "model_slug",
        "invalid_request"),
    bad("null-slug", req("veo31", model_slug=None), "model_slug must be a string", "model_slug",
        "invalid_request"),
    bad("unknown-field", req("veo31", foo=1), "Unknown field: foo", "foo", "invalid_request"),
    bad("typo-field", req("kling_3_0", duration_second=5), "Unknown field: duration_second",
        "duration_second", "invalid_request"),
    bad("legacy-field-name", req("veo31", source_image_urls=[IMG]),
        "Unknown field: source_image_urls", "source_image_urls", "invalid_request"),
    bad("duration-abc", req("kling_3_0", duration_seconds="abc"),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    bad("duration-8.5", req("kling_3_0", duration_seconds=8.5),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    # Types are strict: no coercion from strings, floats or booleans.
    bad("duration-string-8", req("kling_3_0", duration_seconds="8"),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    bad("duration-float-8.0", req("veo31", duration_seconds=8.0),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    bad("duration-true", req("kling_3_0", duration_seconds=True),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    bad("sound-yes", req("kling_3_0", sound="yes"), "sound must be a boolean", "sound",
        "invalid_request"),
    bad("sound-1", req("kling_3_0", sound=1), "sound must be a boolean", "sound",
        "invalid_request"),
    bad("batch-string-2", req("veo31_lite", batch_size="2"), "batch_size must be an integer",
        "batch_size", "invalid_request"),
    bad("batch-true", req("veo31_lite", batch_size=True), "batch_size must be an integer",
        "batch_size", "invalid_request"),
    bad("aspect-int", req("veo31", aspect_ratio=16), "aspect_ratio must be a string",
        "aspect_ratio", "invalid_request"),
    bad("duration-list", req("kling_3_0", duration_seconds=[5]),
        "duration_seconds must be an integer", "duration_seconds", "invalid_request"),
    bad("sound-maybe", req("kling_3_0", sound="maybe"), "sound must be a boolean", "sound",
        "invalid_request"),
    bad("optin-maybe", req("kling_3_0", prompt_directory_optin="maybe"),
        "prompt_directory_optin must be a boolean", "prompt_directory_optin", "invalid_request"),
    bad("images-string", req("veo31", input_image_urls=IMG), "input_image_urls must be an array",
        "input_image_urls", "invalid_request"),
    bad("images-object", req("veo31", input_image_urls={"url": IMG}),
        "input_image_urls must be an array", "input_image_urls", "invalid_request"),
    bad("images-int-item", req("veo31", input_image_urls=[1]),
        "input_image_urls[0] must be a string", "input_image_urls[0]", "invalid_request"),
    bad("images-over-20", req("veo31", input_image_urls=[IMG] * 21),
        "input_image_urls accepts at most 20 entries",
        "input_image_urls", "invalid_request"),
    bad("prompt-int", req("veo31", prompt=5), "prompt must be a string", "prompt",
        "invalid_request"),
    bad("start-frame-list", req("kling_3_0", start_frame_url=[IMG]),
        "start_frame_url must be a string", "start_frame_url", "invalid_request"),
    bad("batch-0", req("veo31_lite", batch_size=0),
        "batch_size must be at least 1", "batch_size", "invalid_request"),
    bad("batch-5", req("veo31_lite", batch_size=5),
        "batch_size must be at most 4", "batch_size", "invalid_request"),
    bad("batch-negative", req("veo31_lite", batch_size=-1),
        "batch_size must be at least 1", "batch_size", "invalid_request"),
    bad("batch-text", req("veo31_lite", batch_size="two"), "batch_size must be an integer",
        "batch_size", "invalid_request"),
]  # fmt: skip

INVALID_DURATIONS = [
    ("veo31_lite", 5),
    ("veo31_fast", 10),
    ("veo31", 4),
    ("kling_3_0", 2),
    ("kling_3_0", 16),
    ("kling_3_0", 0),
    ("kling_3_0_motion_control", 2),
    ("kling_3_0_motion_control", 31),
    ("wan_2_6", 7),
    ("wan_2_6", 20),
    ("wan_2_6_v2v", 15),
    ("seedance_2", 3),
    ("seedance_2", 16),
    ("hailuo_2_3", 8),
    ("hailuo_2_3", -6),
    ("grok_imagine_video", 5),
    ("grok_imagine_video", 31),
]
ALLOWED_DURATIONS = {
    **{slug: [8] for slug in VEO},
    "kling_3_0": span(3, 15),
    "kling_3_0_motion_control": span(3, 30),
    "wan_2_6": [5, 10, 15],
    "wan_2_6_v2v": [5, 10],
    "seedance_2": span(4, 15),
    "hailuo_2_3": [6, 10],
    "grok_imagine_video": span(6, 30),
}
DURATIONS = [
    bad(f"{slug}-duration-{seconds}", req(slug, duration_seconds=seconds),
        "Invalid duration for this model", "duration_seconds", "invalid_duration",
        allowed=ALLOWED_DURATIONS[slug])
    for slug, seconds in INVALID_DURATIONS
] + [
    bad("hailuo-1080p-10s", req("hailuo_2_3", quality_mode="1080p", duration_seconds=10),
        "Invalid duration for this model", "duration_seconds", "invalid_duration", allowed=[6]),
    bad("motion-image-11s",
        req("kling_3_0_motion_control", character_orientation="image", duration_seconds=11),
        "Invalid duration for this model", "duration_seconds", "invalid_duration",
        allowed=span(3, 10)),
    bad("motion-video-31s",
        req("kling_3_0_motion_control", character_orientation="video", duration_seconds=31),
        "Invalid duration for this model", "duration_seconds", "invalid_duration",
        allowed=span(3, 30)),
    bad("motion-duration-missing", req("kling_3_0_motion_control", duration_seconds=DROP),
        "duration_seconds is required for this model", "duration_seconds", "missing_duration",
        allowed=span(3, 30)),
    bad("motion-image-duration-missing",
        req("kling_3_0_motion_control", character_orientation="image", duration_seconds=DROP),
        "duration_seconds is required for this model", "duration_seconds", "missing_duration",
        allowed=span(3, 10)),
]  # fmt: skip

INVALID_ASPECTS = [
    ("veo31_lite", "1:1"),
    ("veo31_fast", "4:3"),
    ("veo31", "auto"),
    ("kling_3_0", "4:3"),
    ("wan_2_6", "21:9"),
    ("wan_2_6_v2v", "21:9"),
    ("seedance_2", "2:1"),
    ("grok_imagine_video", "4:3"),
    ("grok_imagine_video", ""),
]
ASPECT_RULES = [
    bad(f"{slug}-aspect-{ratio or 'empty'}", req(slug, aspect_ratio=ratio),
        "Invalid aspect ratio for this model", "aspect_ratio", "invalid_aspect_ratio",
        allowed=ASPECTS[slug])
    for slug, ratio in INVALID_ASPECTS
] + [
    bad(f"{slug}-aspect-unsupported", req(slug, aspect_ratio="16:9"),
        "aspect_ratio is not supported by this model (the output follows the input)",
        "aspect_ratio", "unsupported_field")
    for slug in ("hailuo_2_3", "kling_3_0_motion_control")
] + [
    bad("kling-aspect-with-start-frame", req("kling_3_0", aspect_ratio="16:9",
        start_frame_url=IMG), "aspect_ratio is not allowed together with start_frame_url or "
        "end_frame_url", "aspect_ratio", "aspect_ratio_conflict"),
    bad("kling-aspect-with-end-frame", req("kling_3_0", aspect_ratio="9:16", end_frame_url=IMG),
        "aspect_ratio is not allowed together with start_frame_url or end_frame_url",
        "aspect_ratio", "aspect_ratio_conflict"),
    bad("kling-aspect-with-both-frames", req("kling_3_0", aspect_ratio="1:1",
        start_frame_url=IMG, end_frame_url=IMG2), "aspect_ratio is not allowed together with "
        "start_frame_url or end_frame_url", "aspect_ratio", "aspect_ratio_conflict"),
]  # fmt: skip

INVALID_QUALITIES = [
    ("kling_3_0", "720p"),
    ("kling_3_0", "STD"),
    ("kling_3_0_motion_control", "std"),
    ("wan_2_6", "480p"),
    ("wan_2_6_v2v", "4k"),
    ("seedance_2", "4k"),
    ("hailuo_2_3", "720p"),
    ("grok_imagine_video", "1080p"),
]
QUALITY_RULES = [
    bad(f"{slug}-quality-{quality}", req(slug, quality_mode=quality),
        "Invalid quality mode for this model", "quality_mode", "invalid_quality_mode",
        allowed=QUALITIES[slug])
    for slug, quality in INVALID_QUALITIES
] + [
    bad(f"{slug}-quality-missing", req(slug, quality_mode=DROP),
        "quality_mode is required for this model", "quality_mode", "missing_quality_mode",
        allowed=QUALITIES[slug])
    for slug in QUALITIES
] + [
    bad(f"{slug}-quality-unsupported", req(slug, quality_mode="std"),
        "quality_mode is not supported by this model", "quality_mode", "unsupported_field")
    for slug in VEO
]  # fmt: skip

PROMPT_RULES = [
    bad(f"{slug}-prompt-missing", req(slug, prompt=DROP), "prompt is required for this model",
        "prompt", "missing_prompt")
    for slug in PROMPT_REQUIRED
] + [
    bad(f"{slug}-prompt-blank", req(slug, prompt="  \n\t "), "prompt is required for this model",
        "prompt", "missing_prompt")
    for slug in ("veo31", "hailuo_2_3")
] + [
    bad("seedance-prompt-null", req("seedance_2", prompt=None),
        "prompt is required for this model", "prompt", "missing_prompt"),
] + [
    bad(f"{slug}-prompt-{PROMPT_LIMIT[slug] + 1}", req(slug, prompt="p" * (PROMPT_LIMIT[slug] + 1)),
        f"Prompt exceeds {PROMPT_LIMIT[slug]} characters for this model", "prompt",
        "prompt_too_long")
    for slug in SLUGS
]  # fmt: skip


def unsupported(case_id: str, body: dict[str, Any], name: str) -> Any:
    return bad(case_id, body, f"{name} is not supported by this model", name, "unsupported_field")


def too_many(case_id: str, body: dict[str, Any], slug: str, name: str, limit: int) -> Any:
    entries = "entry" if limit == 1 else "entries"
    return bad(
        case_id, body, f"{slug} accepts at most {limit} {name} {entries}", name, "too_many_inputs"
    )


def missing(case_id: str, body: dict[str, Any], slug: str, name: str) -> Any:
    return bad(case_id, body, f"{slug} requires one {name} entry", name, "missing_input")


def bad_url(case_id: str, body: dict[str, Any], field: str) -> Any:
    return bad(
        case_id, body, f"{field} must be an https:// URL or an asset:// ID", field, "invalid_url"
    )


INPUT_RULES = [
    # Required inputs.
    missing("hailuo-no-image", req("hailuo_2_3", input_image_urls=DROP), "hailuo_2_3",
            "input_image_urls"),
    missing("hailuo-empty-images", req("hailuo_2_3", input_image_urls=[]), "hailuo_2_3",
            "input_image_urls"),
    missing("hailuo-null-images", req("hailuo_2_3", input_image_urls=None), "hailuo_2_3",
            "input_image_urls"),
    missing("v2v-no-video", req("wan_2_6_v2v", input_video_urls=DROP), "wan_2_6_v2v",
            "input_video_urls"),
    missing("motion-no-image", req("kling_3_0_motion_control", input_image_urls=DROP),
            "kling_3_0_motion_control", "input_image_urls"),
    missing("motion-no-video", req("kling_3_0_motion_control", input_video_urls=DROP),
            "kling_3_0_motion_control", "input_video_urls"),
    missing("motion-no-inputs", req("kling_3_0_motion_control", input_image_urls=DROP,
            input_video_urls=DROP), "kling_3_0_motion_control", "input_image_urls"),
    # Maximum counts.
    too_many("hailuo-two-images", req("hailuo_2_3", input_image_urls=[IMG, IMG2]), "hailuo_2_3",
             "input_image_urls", 1),
    too_many("v2v-two-videos", req("wan_2_6_v2v", input_video_urls=[VID, VID2]), "wan_2_6_v2v",
             "input_video_urls", 1),
    too_many("motion-two-images", req("kling_3_0_motion_control", input_image_urls=[IMG, IMG2]),
             "kling_3_0_motion_control", "input_image_urls", 1),
    too_many("motion-two-videos", req("kling_3_0_motion_control", input_video_urls=[VID, VID2]),
             "kling_3_0_motion_control", "input_video_urls", 1),
    *[
        too_many(f"{slug}-three-images", req(slug, input_image_urls=[IMG, IMG2, IMG]), slug,
                 "input_image_urls", 2)
        for slug in VEO
    ],
    *[
        too_many(f"{slug}-two-images", req(slug, input_image_urls=[IMG, IMG2]), slug,
                 "input_image_urls", 1)
        for slug in ("kling_3_0", "wan_2_6", "grok_imagine_video")
    ],
    too_many("seedance-ten-images", req("seedance_2", seedance_mode="multimodal",
             reference_image_urls=[IMG] * 10), "seedance_2", "reference_image_urls", 9),
    too_many("seedance-four-videos", req("seedance_2", seedance_mode="multimodal",
             reference_video_urls=[VID] * 4), "seedance_2", "reference_video_urls", 3),
    too_many("seedance-four-audios", req("seedance_2", seedance_mode="multimodal",
             reference_audio_urls=[AUD] * 4), "seedance_2", "reference_audio_urls", 3),
    # Fields the model does not take.
    unsupported("kling-first-frame", req("kling_3_0", first_frame_url=IMG), "first_frame_url"),
    unsupported("kling-video-input", req("kling_3_0", input_video_urls=[VID]),
                "input_video_urls"),
    unsupported("kling-reference-images", req("kling_3_0", reference_image_urls=[IMG]),
                "reference_image_urls"),
    unsupported("kling-orientation", req("kling_3_0", character_orientation="video"),
                "character_orientation"),
    unsupported("wan-seedance-mode", req("wan_2_6", seedance_mode="text_to_video"),
                "seedance_mode"),
    unsupported("wan-video-input", req("wan_2_6", input_video_urls=[VID]), "input_video_urls"),
    unsupported("wan-start-frame", req("wan_2_6", start_frame_url=IMG), "start_frame_url"),
    unsupported("v2v-image-input", req("wan_2_6_v2v", input_image_urls=[IMG]),
                "input_image_urls"),
    unsupported("veo-video-input", req("veo31", input_video_urls=[VID]), "input_video_urls"),
    unsupported("veo-last-frame", req("veo31_fast", last_frame_url=IMG), "last_frame_url"),
    unsupported("veo-seedance-mode", req("veo31_lite", seedance_mode="first_frame"),
                "seedance_mode"),
    unsupported("hailuo-end-frame", req("hailuo_2_3", end_frame_url=IMG), "end_frame_url"),
    unsupported("hailuo-orientation", req("hailuo_2_3", character_orientation="image"),
                "character_orientation"),
    unsupported("grok-start-frame", req("grok_imagine_video", start_frame_url=IMG),
                "start_frame_url"),
    unsupported("grok-reference-audio", req("grok_imagine_video", reference_audio_urls=[AUD]),
                "reference_audio_urls"),
    unsupported("motion-start-frame", req("kling_3_0_motion_control", start_frame_url=IMG),
                "start_frame_url"),
    unsupported("seedance-image-input", req("seedance_2", input_image_urls=[IMG]),
                "input_image_urls"),
    unsupported("seedance-start-frame", req("seedance_2", start_frame_url=IMG),
                "start_frame_url"),
    *[
        unsupported(f"{slug}-return-last-frame", req(slug, return_last_frame=True),
                    "return_last_frame")
        for slug in ("veo31", "kling_3_0", "wan_2_6", "hailuo_2_3", "grok_imagine_video")
    ],
    *[
        unsupported(f"{slug}-web-search", req(slug, web_search=True), "web_search")
        for slug in ("veo31_fast", "kling_3_0", "wan_2_6_v2v", "grok_imagine_video")
    ],
    # URL shape.
    bad_url("http-image", req("veo31", input_image_urls=["http://example.com/a.png"]),
            "input_image_urls[0]"),
    bad_url("second-image-garbage", req("veo31", input_image_urls=[IMG, "not a url"]),
            "input_image_urls[1]"),
    bad_url("ftp-image", req("hailuo_2_3", input_image_urls=["ftp://example.com/a.png"]),
            "input_image_urls[0]"),
    bad_url("https-no-host", req("hailuo_2_3", input_image_urls=["https://"]),
            "input_image_urls[0]"),
    bad_url("https-with-space", req("hailuo_2_3", input_image_urls=["https://exa mple.com/a"]),
            "input_image_urls[0]"),
    bad_url("javascript-url", req("grok_imagine_video", input_image_urls=["javascript:alert(1)"]),
            "input_image_urls[0]"),
    bad_url("empty-url-in-list", req("veo31_lite", input_image_urls=[""]),
            "input_image_urls[0]"),
    bad_url("asset-without-id", req("hailuo_2_3", input_image_urls=["asset://"]),
            "input_image_urls[0]"),
    bad_url("asset-bad-chars", req("hailuo_2_3", input_image_urls=["asset://a/b"]),
            "input_image_urls[0]"),
    bad_url("url-over-2048", req("hailuo_2_3", input_image_urls=[
            "https://example.com/" + "a" * 2040]), "input_image_urls[0]"),
    bad_url("http-video", req("wan_2_6_v2v", input_video_urls=["http://example.com/a.mp4"]),
            "input_video_urls[0]"),
    bad_url("motion-garbage-video", req("kling_3_0_motion_control", input_video_urls=["video"]),
            "input_video_urls[0]"),
    bad_url("kling-http-start-frame", req("kling_3_0", start_frame_url="http://example.com/a"),
            "start_frame_url"),
    bad_url("kling-garbage-end-frame", req("kling_3_0", end_frame_url="frame.png"),
            "end_frame_url"),
    bad_url("seedance-http-first-frame", req("seedance_2", seedance_mode="first_frame",
            first_frame_url="http://example.com/a.png"), "first_frame_url"),
    bad_url("seedance-http-reference-video", req("seedance_2", seedance_mode="multimodal",
            reference_video_urls=[VID, "http://example.com/b.mp4"]), "reference_video_urls[1]"),
    bad_url("seedance-garbage-audio", req("seedance_2", seedance_mode="multimodal",
            reference_audio_urls=["mp3"]), "reference_audio_urls[0]"),
]  # fmt: skip


def mismatch(case_id: str, body: dict[str, Any], name: str, mode: str) -> Any:
    return bad(
        case_id,
        body,
        f"{name} cannot be used with seedance_mode {mode}",
        name,
        "input_mode_mismatch",
    )


SEEDANCE_RULES = [
    bad("seedance-mode-bogus", req("seedance_2", seedance_mode="bogus"),
        "Invalid seedance_mode: use one of text_to_video, first_frame, first_last_frame, "
        "multimodal", "seedance_mode", "invalid_mode", allowed=SEEDANCE_MODES),
    bad("first-frame-without-url", req("seedance_2", seedance_mode="first_frame"),
        "seedance_mode first_frame requires first_frame_url", "first_frame_url", "missing_input"),
    bad("first-last-without-urls", req("seedance_2", seedance_mode="first_last_frame"),
        "seedance_mode first_last_frame requires first_frame_url", "first_frame_url",
        "missing_input"),
    bad("first-last-without-last", req("seedance_2", seedance_mode="first_last_frame",
        first_frame_url=IMG), "seedance_mode first_last_frame requires last_frame_url",
        "last_frame_url", "missing_input"),
    bad("first-last-without-first", req("seedance_2", seedance_mode="first_last_frame",
        last_frame_url=IMG), "seedance_mode first_last_frame requires first_frame_url",
        "first_frame_url", "missing_input"),
    bad("multimodal-without-references", req("seedance_2", seedance_mode="multimodal"),
        "seedance_mode multimodal requires at least one of reference_image_urls, "
        "reference_video_urls, reference_audio_urls", "seedance_mode", "missing_input"),
    mismatch("t2v-with-first-frame", req("seedance_2", seedance_mode="text_to_video",
             first_frame_url=IMG), "first_frame_url", "text_to_video"),
    mismatch("default-mode-with-references", req("seedance_2", reference_image_urls=[IMG]),
             "reference_image_urls", "text_to_video"),
    mismatch("default-mode-with-last-frame", req("seedance_2", last_frame_url=IMG),
             "last_frame_url", "text_to_video"),
    mismatch("first-frame-with-last-frame", req("seedance_2", seedance_mode="first_frame",
             first_frame_url=IMG, last_frame_url=IMG2), "last_frame_url", "first_frame"),
    mismatch("first-frame-with-references", req("seedance_2", seedance_mode="first_frame",
             first_frame_url=IMG, reference_image_urls=[IMG2]), "reference_image_urls",
             "first_frame"),
    mismatch("first-last-with-audio", req("seedance_2", seedance_mode="first_last_frame",
             first_frame_url=IMG, last_frame_url=IMG2, reference_audio_urls=[AUD]),
             "reference_audio_urls", "first_last_frame"),
    mismatch("multimodal-with-first-frame", req("seedance_2", seedance_mode="multimodal",
             reference_image_urls=[IMG], first_frame_url=IMG2), "first_frame_url", "multimodal"),
    mismatch("multimodal-with-last-frame", req("seedance_2", seedance_mode="multimodal",
             reference_video_urls=[VID], last_frame_url=IMG), "last_frame_url", "multimodal"),
    *[
        bad(f"web-search-in-{mode}", req("seedance_2", seedance_mode=mode, web_search=True,
            **inputs), "web_search is only available in seedance_mode text_to_video",
            "web_search", "unsupported_field")
        for mode, inputs in (
            ("first_frame", {"first_frame_url": IMG}),
            ("first_last_frame", {"first_frame_url": IMG, "last_frame_url": IMG2}),
            ("multimodal", {"reference_image_urls": [IMG]}),
        )
    ],
]  # fmt: skip

MOTION_RULES = [
    bad("motion-orientation-side", req("kling_3_0_motion_control", character_orientation="side"),
        "Invalid character_orientation: use video or image", "character_orientation",
        "invalid_orientation", allowed=["video", "image"]),
]  # fmt: skip

REJECTIONS = (
    REQUEST_SHAPE
    + DURATIONS
    + ASPECT_RULES
    + QUALITY_RULES
    + PROMPT_RULES
    + INPUT_RULES
    + SEEDANCE_RULES
    + MOTION_RULES
)


@pytest.mark.parametrize(("body", "status", "error", "field", "code", "allowed"), REJECTIONS)
async def test_rejected_request_writes_nothing(
    studio: Harness,
    body: dict[str, Any],
    status: int,
    error: str,
    field: str | None,
    code: str,
    allowed: list[Any] | None,
) -> None:
    account_id, key = await studio.account(credits=START)
    response = await studio.generate(key, **body)
    assert_envelope(response, status, error, field, code, allowed)
    await assert_nothing_written(studio, account_id, key, START)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param(b'{"model_slug": "veo31", "prompt": ', "Malformed JSON body", id="truncated"),
        pytest.param(b"{model_slug: veo31}", "Malformed JSON body", id="unquoted"),
        pytest.param(b"\xff\xfe\x00", "Malformed JSON body", id="binary"),
        pytest.param(b'[{"model_slug": "veo31"}]', "Request body must be a JSON object", id="list"),
        pytest.param(b'"veo31"', "Request body must be a JSON object", id="string"),
        pytest.param(b"42", "Request body must be a JSON object", id="number"),
        pytest.param(b"null", "Request body must be a JSON object", id="null"),
        pytest.param(b"", "Request body must be a JSON object", id="empty"),
        pytest.param(b"  \n ", "Request body must be a JSON object", id="whitespace"),
        pytest.param(b"{}", "model_slug is required", id="empty-object"),
    ],
)
async def test_malformed_bodies_are_400(studio: Harness, content: bytes, error: str) -> None:
    account_id, key = await studio.account(credits=START)
    headers = {**auth(key), "Content-Type": "application/json"}
    response = await studio.client.post(GENERATE, content=content, headers=headers)
    field = "model_slug" if content == b"{}" else None
    assert_envelope(response, 400, error, field, "invalid_request")
    await assert_nothing_written(studio, account_id, key, START)


async def test_generate_needs_an_api_key(studio: Harness) -> None:
    account_id, key = await studio.account(credits=START)
    missing_key = await studio.client.post(GENERATE, json=req("veo31_lite"))
    assert_envelope(
        missing_key,
        401,
        "Authentication required: send Authorization: Bearer YOUR_API_KEY",
        None,
        "unauthorized",
    )
    wrong_key = await studio.client.post(GENERATE, json=req("veo31_lite"), headers=auth("vs_x"))
    assert_envelope(wrong_key, 401, "Invalid or revoked API key", None, "unauthorized")
    await assert_nothing_written(studio, account_id, key, START)


@pytest.mark.parametrize(
    ("credits", "body", "required"),
    [
        pytest.param(99, req("veo31_fast"), 100, id="one-job"),
        pytest.param(0, req("veo31_lite"), 40, id="empty-account"),
        pytest.param(119, req("veo31_lite", batch_size=3), 120, id="whole-batch"),
    ],
)
async def test_insufficient_credits_is_402_and_writes_nothing(
    studio: Harness, credits: int, body: dict[str, Any], required: int
) -> None:
    account_id, key = await studio.account(credits=credits)
    response = await studio.generate(key, **body)
    assert response.status_code == 402, response.text
    assert response.json() == {
        "success": False,
        "error": "Insufficient credits",
        "code": "insufficient_credits",
        "credits_required": required,
        "credits_available": credits,
    }
    await assert_nothing_written(studio, account_id, key, credits)


# --- Acceptances ----------------------------------------------------------------------------

LONG_KLING = "k" * 2500
LONG = "p" * 5000

ACCEPTED = [
    *[ok(f"{slug}-base", req(slug), BASE_PRICE[slug]) for slug in SLUGS],
    *[
        ok(f"{slug}-aspect-{ratio}", req(slug, aspect_ratio=ratio), BASE_PRICE[slug])
        for slug, ratios in ASPECTS.items()
        for ratio in ratios[-1:]
    ],
    *[
        ok(f"{slug}-prompt-at-limit", req(slug, prompt=("k" if PROMPT_LIMIT[slug] == 2500 else "p")
           * PROMPT_LIMIT[slug]), BASE_PRICE[slug])
        for slug in SLUGS
    ],
    ok("kling-prompt-limit-counts-stripped", req("kling_3_0", prompt=f"  {LONG_KLING}  \n"), 100),
    ok("veo-defaults-to-8s", req("veo31_lite", duration_seconds=DROP), 40),
    ok("veo-explicit-8s", req("veo31", duration_seconds=8), 250),
    ok("veo-two-images", req("veo31_fast", input_image_urls=[IMG, IMG2]), 100),
    ok("veo-asset-ids", req("veo31_lite", input_image_urls=["asset://img_01", "asset://B-2"]),
       40),
    ok("veo-url-with-port-query", req("veo31", input_image_urls=[
       "https://cdn.example.com:8443/path/a.png?sig=abc&x=1#frag"]), 250),
    ok("veo-false-flags", req("veo31_lite", web_search=False, return_last_frame=False), 40),
    ok("kling-start-frame-alone", req("kling_3_0", start_frame_url=IMG), 100),
    ok("kling-end-frame-alone", req("kling_3_0", end_frame_url=IMG), 100),
    ok("kling-start-and-end-frames", req("kling_3_0", start_frame_url=IMG, end_frame_url=IMG2),
       100),
    ok("kling-image-with-aspect", req("kling_3_0", input_image_urls=[IMG], aspect_ratio="1:1"),
       100),
    ok("kling-asset-start-frame", req("kling_3_0", start_frame_url="asset://frame_1"), 100),
    ok("kling-3s", req("kling_3_0", duration_seconds=3), 60),
    ok("kling-15s-pro", req("kling_3_0", duration_seconds=15, quality_mode="pro"), 405),
    ok("kling-default-duration-3s", req("kling_3_0", duration_seconds=DROP), 60),
    ok("motion-no-prompt", req("kling_3_0_motion_control"), 60),
    ok("motion-with-prompt", req("kling_3_0_motion_control", prompt="dance"), 60),
    ok("motion-image-10s", req("kling_3_0_motion_control", character_orientation="image",
       duration_seconds=10), 120),
    ok("motion-video-30s", req("kling_3_0_motion_control", character_orientation="video",
       duration_seconds=30), 360),
    ok("motion-default-orientation-30s", req("kling_3_0_motion_control", duration_seconds=30),
       360),
    ok("motion-asset-ids", req("kling_3_0_motion_control", input_image_urls=["asset://char"],
       input_video_urls=["asset://moves"], quality_mode="1080p", duration_seconds=3), 60),
    ok("wan-15s-1080p", req("wan_2_6", duration_seconds=15, quality_mode="1080p"), 360),
    ok("wan-image", req("wan_2_6", input_image_urls=[IMG]), 80),
    ok("v2v-10s", req("wan_2_6_v2v", duration_seconds=10), 160),
    ok("hailuo-1080p-6s", req("hailuo_2_3", quality_mode="1080p", duration_seconds=6), 48),
    ok("hailuo-1080p-default-duration", req("hailuo_2_3", quality_mode="1080p",
       duration_seconds=DROP), 48),
    ok("hailuo-768p-10s", req("hailuo_2_3", duration_seconds=10), 50),
    ok("hailuo-asset-image", req("hailuo_2_3", input_image_urls=["asset://person_7"]), 30),
    ok("grok-30s-720p", req("grok_imagine_video", duration_seconds=30, quality_mode="720p"), 150),
    ok("grok-image", req("grok_imagine_video", input_image_urls=[IMG]), 18),
    ok("seedance-explicit-t2v", req("seedance_2", seedance_mode="text_to_video"), 44),
    ok("seedance-null-mode", req("seedance_2", seedance_mode=None), 44),
    ok("seedance-t2v-web-search", req("seedance_2", seedance_mode="text_to_video",
       web_search=True), 44),
    ok("seedance-default-mode-web-search", req("seedance_2", web_search=True), 44),
    ok("seedance-return-last-frame", req("seedance_2", return_last_frame=True), 44),
    ok("seedance-first-frame", req("seedance_2", seedance_mode="first_frame",
       first_frame_url=IMG, return_last_frame=True), 44),
    ok("seedance-first-frame-asset", req("seedance_2", seedance_mode="first_frame",
       first_frame_url="asset://real_person_1"), 44),
    ok("seedance-first-last-frame", req("seedance_2", seedance_mode="first_last_frame",
       first_frame_url=IMG, last_frame_url=IMG2), 44),
    ok("seedance-multimodal-image", req("seedance_2", seedance_mode="multimodal",
       reference_image_urls=[IMG]), 44),
    ok("seedance-multimodal-video", req("seedance_2", seedance_mode="multimodal",
       reference_video_urls=[VID]), 44),
    ok("seedance-multimodal-audio", req("seedance_2", seedance_mode="multimodal",
       reference_audio_urls=["asset://voice"]), 44),
    ok("seedance-multimodal-all-max", req("seedance_2", seedance_mode="multimodal",
       reference_image_urls=[IMG] * 9, reference_video_urls=[VID] * 3,
       reference_audio_urls=[AUD] * 3), 44),
    ok("seedance-15s-1080p", req("seedance_2", duration_seconds=15, quality_mode="1080p"), 810),
]  # fmt: skip


async def own_assets(harness: Harness, account_id: str, body: dict[str, Any]) -> None:
    """Give the account an asset of the right kind for every ``asset://`` ID in ``body``
    (ownership and kind are checked at request time; the files themselves are the worker's)."""
    model = harness.ctx.catalog.get(body["model_slug"])
    assert model is not None
    async with harness.ctx.db.write() as session:
        for name, value in body.items():
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, str) and ref.startswith("asset://"):
                    kind = model.inputs[name].kind
                    session.add(
                        Asset(
                            id=ref.removeprefix("asset://"),
                            account_id=account_id,
                            sha256=secrets.token_hex(32),
                            kind=kind,
                            format="png",
                            content_type="image/png",
                            bytes=1,
                            storage_key=f"assets/{secrets.token_urlsafe(24)}.png",
                        )
                    )


@pytest.mark.parametrize(("body", "price"), ACCEPTED)
async def test_valid_request_is_accepted_and_charged(
    studio: Harness, body: dict[str, Any], price: int
) -> None:
    account_id, key = await studio.account(credits=START)
    await own_assets(studio, account_id, body)
    response = await studio.generate(key, **body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["success"] is True
    assert len(data["job_ids"]) == 1
    assert data["credits_charged"] == price
    assert data["credits_remaining_total"] == START - price
    assert await studio.balance(account_id) == START - price
    listed = await history(studio, key)
    assert listed["pagination"]["total"] == 1
    job = listed["jobs"][0]
    assert job["job_id"] == data["job_ids"][0]
    assert job["model_slug"] == body["model_slug"]
    assert job["credits_charged"] == price
    assert job["status"] == "pending"


async def test_batch_of_four_creates_four_jobs_and_charges_four_times(studio: Harness) -> None:
    account_id, key = await studio.account(credits=START)
    response = await studio.generate(key, **req("kling_3_0", batch_size=4))
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data["job_ids"]) == len(set(data["job_ids"])) == 4
    assert data["credits_charged"] == 400
    assert data["credits_remaining_total"] == START - 400
    assert await studio.balance(account_id) == START - 400
    listed = await history(studio, key)
    assert listed["pagination"]["total"] == 4
    assert {job["job_id"] for job in listed["jobs"]} == set(data["job_ids"])
    assert all(job["credits_charged"] == 100 for job in listed["jobs"])
    for job_id in data["job_ids"]:
        status = await studio.status(key, job_id)
        assert status.status_code == 200
        assert status.json()["job"]["credits_charged"] == 100


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://user:secret@example.com/a.png", id="credentials"),
        pytest.param("https://exa mple.com/a.png", id="space-in-host"),
        pytest.param("https://example.com:99999/a.png", id="bad-port"),
        pytest.param("https://...", id="dots-host"),
        pytest.param("https://[", id="bracket-host"),
        pytest.param("https://:", id="colon-host"),
        pytest.param("https://example.com/a\x00.png", id="nul-in-path"),
    ],
)
async def test_garbage_https_urls_are_refused(studio: Harness, url: str) -> None:
    account_id, key = await studio.account(credits=START)
    response = await studio.generate(key, **req("hailuo_2_3", input_image_urls=[url]))
    assert_envelope(
        response,
        400,
        "input_image_urls[0] must be an https:// URL or an asset:// ID",
        "input_image_urls[0]",
        "invalid_url",
    )
    await assert_nothing_written(studio, account_id, key, START)
