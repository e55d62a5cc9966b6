"""Model discovery: ``GET /api/v1/models/video/`` and ``GET /api/v1/models/video/{slug}/``.

Invariants locked here:

- the list names all 10 built-in slugs, each with what a client needs to build a request and
  price it (slug, name, engine, aspect_ratios, durations, quality_modes, quality_required, prompt
  rules, inputs, input_fields, mode_field/input_modes, credits with unit, rates, description and
  example, features), and matches the contract's published model-selector facts;
- the detail endpoint returns the same object for every slug; an unknown slug is a 404 envelope;
- both endpoints need an API key (401 envelope without one);
- discovery alone is enough: for every model (and every Seedance input mode) a request built only
  from the payload is accepted, its charge equals ``credits.example.credits`` when the example's
  parameters are used, and every quality (with and without sound, with the directory opt-in) is
  charged exactly what ``credits.rates``/``sound_rates``/``directory_discount_credits`` say.
"""

from __future__ import annotations

from typing import Any

from tests.catalog.builtin_requests import BUILTIN_SLUGS
from tests.conftest import Harness

MODELS = "/api/v1/models/video/"
SLUGS = BUILTIN_SLUGS
URL_BY_KIND = {
    "image": "https://example.com/a.png",
    "video": "https://example.com/a.mp4",
    "audio": "https://example.com/a.mp3",
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def list_models(harness: Harness, key: str) -> list[dict[str, Any]]:
    response = await harness.client.get(MODELS, headers=auth(key))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["success"] is True
    assert data["count"] == len(data["models"])
    models: list[dict[str, Any]] = data["models"]
    return models


def assert_client_fields(model: dict[str, Any]) -> None:
    slug = model["slug"]
    assert isinstance(model["name"], str) and model["name"], slug
    assert isinstance(model["engine"], str) and model["engine"], slug
    assert isinstance(model["description"], str), slug
    assert all(isinstance(ratio, str) for ratio in model["aspect_ratios"]), slug
    durations = model["durations"]
    if durations["type"] == "range":
        expected = list(range(durations["min"], durations["max"] + 1))
    else:
        assert durations["type"] == "list", slug
        expected = durations["values"]
    assert model["allowed_durations"] == expected, slug
    assert model["default_duration"] in expected, slug
    assert isinstance(model["duration_required"], bool), slug
    assert all(isinstance(quality, str) for quality in model["quality_modes"]), slug
    assert model["quality_required"] is bool(model["quality_modes"]), slug
    assert isinstance(model["prompt"]["required"], bool), slug
    assert model["prompt"]["max_length"] > 0, slug
    assert "text" in model["inputs"], slug
    for name, spec in model["input_fields"].items():
        assert spec["kind"] in URL_BY_KIND, (slug, name)
        assert 0 <= spec["min"] <= spec["max"], (slug, name)
        assert spec["kind"] in model["inputs"], (slug, name)
    credits = model["credits"]
    assert credits["unit"] in ("per_job", "per_second"), slug
    assert credits["rates"] and all(isinstance(v, int) for v in credits["rates"].values()), slug
    for quality in model["quality_modes"] or ["default"]:
        assert quality in credits["rates"] or "default" in credits["rates"], (slug, quality)
    assert isinstance(credits["description"], str) and credits["description"], slug
    example = credits["example"]
    assert set(example) == {"duration_seconds", "quality_mode", "sound", "credits"}, slug
    assert example["credits"] > 0, slug
    features = model["features"]
    for flag in ("sound", "return_last_frame", "web_search", "directory_discount"):
        assert isinstance(features[flag], bool), (slug, flag)
    assert features["sound"] is model["audio"], slug


async def test_list_describes_every_builtin_model(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    models = await list_models(harness, key)
    assert [model["slug"] for model in models] == SLUGS
    for model in models:
        assert model["model_slug"] == model["slug"]
        assert_client_fields(model)
    by_slug = {model["slug"]: model for model in models}

    # The contract's model-selector facts (seed pages) for Veo 3.1 Lite and Fast.
    lite = by_slug["veo31_lite"]
    assert lite["name"] == "Veo 3.1 Lite"
    assert lite["description"] == (
        "Most cost-effective Veo 3.1 mode (40 credits) for text-to-video and image-to-video."
    )
    assert lite["engine"] == "Veo 3.1"
    assert lite["aspect_ratios"] == ["16:9", "9:16", "Auto"]
    assert lite["allowed_durations"] == [8]
    assert lite["quality_modes"] == [] and lite["quality_required"] is False
    assert lite["inputs"] == ["text", "image"]
    assert lite["credits"]["unit"] == "per_job"
    assert lite["credits"]["base"] == 40
    fast = by_slug["veo31_fast"]
    assert fast["description"] == "Fast 8-second generation with text-to-video and image-to-video."
    assert fast["credits"]["base"] == 100
    assert by_slug["veo31"]["credits"]["base"] == 250
    assert fast["legacy_video_model"] == "veo3_fast"
    assert by_slug["veo31"]["legacy_video_model"] == "veo3"

    kling = by_slug["kling_3_0"]
    assert kling["credits"]["rates"] == {"std": 20, "pro": 27}
    assert kling["credits"]["sound_rates"] == {"std": 30, "pro": 40}
    assert kling["prompt"]["max_length"] == 2500
    assert kling["aspect_ratio_excludes"] == ["start_frame_url", "end_frame_url"]
    assert kling["features"]["directory_discount"] is True
    assert kling["credits"]["directory_discount_credits"] == 10

    motion = by_slug["kling_3_0_motion_control"]
    assert motion["prompt"]["required"] is False
    assert motion["duration_required"] is True
    assert motion["character_orientations"] == {
        "video": {"max_duration_seconds": 30},
        "image": {"max_duration_seconds": 10},
    }
    assert motion["input_fields"] == {
        "input_image_urls": {"kind": "image", "min": 1, "max": 1},
        "input_video_urls": {"kind": "video", "min": 1, "max": 1},
    }
    assert by_slug["wan_2_6_v2v"]["input_fields"] == {
        "input_video_urls": {"kind": "video", "min": 1, "max": 1}
    }
    hailuo = by_slug["hailuo_2_3"]
    assert hailuo["input_fields"] == {"input_image_urls": {"kind": "image", "min": 1, "max": 1}}
    assert hailuo["durations_by_quality"] == {"768p": [6, 10], "1080p": [6]}
    assert hailuo["aspect_ratios"] == []
    assert by_slug["grok_imagine_video"]["prompt"]["max_length"] == 5000

    seedance = by_slug["seedance_2"]
    assert seedance["mode_field"] == "seedance_mode"
    assert list(seedance["input_modes"]) == [
        "text_to_video",
        "first_frame",
        "first_last_frame",
        "multimodal",
    ]
    assert seedance["input_modes"]["first_last_frame"]["required"] == [
        "first_frame_url",
        "last_frame_url",
    ]
    assert seedance["features"]["return_last_frame"] is True
    assert seedance["features"]["web_search_modes"] == ["text_to_video"]
    for slug in ("veo31", "seedance_2", "hailuo_2_3", "grok_imagine_video"):
        assert by_slug[slug]["features"]["directory_discount"] is False
        assert by_slug[slug]["credits"]["directory_discount_credits"] == 0


async def test_detail_matches_the_list_for_every_slug(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    models = await list_models(harness, key)
    for model in models:
        response = await harness.client.get(f"{MODELS}{model['slug']}/", headers=auth(key))
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True, "model": model}


async def test_unknown_slug_is_404_envelope(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    for slug in ("sora_2", "veo3_fast", "VEO31"):
        response = await harness.client.get(f"{MODELS}{slug}/", headers=auth(key))
        assert response.status_code == 404, response.text
        assert response.json() == {
            "success": False,
            "error": "Unknown model slug",
            "code": "unknown_model",
        }


async def test_discovery_needs_an_api_key(harness: Harness) -> None:
    for path in (MODELS, f"{MODELS}veo31/"):
        anonymous = await harness.client.get(path)
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["www-authenticate"] == "Bearer"
        body = anonymous.json()
        assert body["success"] is False
        assert body["code"] == "unauthorized"
        assert body["error"]
        wrong = await harness.client.get(path, headers=auth("vs_live_not_a_key"))
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "Invalid or revoked API key"


# --- Building and pricing requests from discovery alone ------------------------------------


def input_value(name: str, spec: dict[str, Any]) -> Any:
    url = URL_BY_KIND[spec["kind"]]
    return [url] * max(spec["min"], 1) if name.endswith("_urls") else url


def build_request(model: dict[str, Any], mode: str | None = None) -> dict[str, Any]:
    """The smallest valid request, using only what the discovery payload says."""
    body: dict[str, Any] = {"model_slug": model["slug"]}
    quality = model["quality_modes"][0] if model["quality_modes"] else None
    if quality is not None:
        body["quality_mode"] = quality
    allowed = model["durations_by_quality"].get(quality) or model["allowed_durations"]
    default = model["default_duration"]
    body["duration_seconds"] = default if default in allowed else allowed[0]
    if model["prompt"]["required"]:
        body["prompt"] = "a short test clip"
    fields = model["input_fields"]
    required = [name for name, spec in fields.items() if spec["min"] > 0]
    if model["mode_field"]:
        assert mode is not None
        body[model["mode_field"]] = mode
        rule = model["input_modes"][mode]
        required += rule["required"] + rule["required_any"][:1]
    for name in required:
        body[name] = input_value(name, fields[name])
    if model["aspect_ratios"] and not any(n in body for n in model["aspect_ratio_excludes"]):
        body["aspect_ratio"] = model["aspect_ratios"][0]
    return body


def expected_price(model: dict[str, Any], body: dict[str, Any]) -> int:
    """The per-job price from ``credits`` in the discovery payload."""
    credits = model["credits"]
    key = body.get("quality_mode") or "default"
    rates = credits["rates"]
    if body.get("sound") and key in credits["sound_rates"]:
        rates = credits["sound_rates"]
    rate = rates.get(key, rates.get("default"))
    gross = rate * body["duration_seconds"] if credits["unit"] == "per_second" else rate
    if body.get("prompt_directory_optin"):
        gross -= min(gross, credits["directory_discount_credits"])
    return int(gross)


def variants(model: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Every orientation and quality at its longest duration, sound where priced, the opt-in."""
    out = []
    orientations: dict[str, Any] = model["character_orientations"] or {None: None}
    for orientation, limit in orientations.items():
        for quality in model["quality_modes"] or [None]:
            allowed = model["durations_by_quality"].get(quality) or model["allowed_durations"]
            if limit is not None:
                allowed = [s for s in allowed if s <= limit["max_duration_seconds"]]
            body = {**base, "duration_seconds": max(allowed)}
            if orientation is not None:
                body["character_orientation"] = orientation
            if quality is not None:
                body["quality_mode"] = quality
            out.append(body)
            if quality in model["credits"]["sound_rates"]:
                out.append({**body, "sound": True})
    out.append({**base, "prompt_directory_optin": True})
    return out


async def test_requests_and_prices_from_discovery_alone(harness: Harness) -> None:
    start = 1_000_000
    account_id, key = await harness.account(credits=start)
    models = await list_models(harness, key)
    assert {model["slug"] for model in models} == set(SLUGS)
    spent = 0
    for model in models:
        modes = list(model["input_modes"]) if model["mode_field"] else [None]
        for mode in modes:
            body = build_request(model, mode)
            response = await harness.generate(key, **body)
            assert response.status_code == 200, (body, response.text)
            example = model["credits"]["example"]
            assert body["duration_seconds"] == example["duration_seconds"], body
            assert body.get("quality_mode") == example["quality_mode"], body
            assert response.json()["credits_charged"] == example["credits"], body
            spent += example["credits"]
        for body in variants(model, build_request(model, modes[0])):
            response = await harness.generate(key, **body)
            assert response.status_code == 200, (body, response.text)
            data = response.json()
            assert data["credits_charged"] == expected_price(model, body), body
            discount = model["credits"]["directory_discount_credits"]
            applied = discount if body.get("prompt_directory_optin") else 0
            assert data["directory_discount_applied"] == applied, body
            spent += data["credits_charged"]
            assert data["credits_remaining_total"] == start - spent, body
    assert await harness.balance(account_id) == start - spent
