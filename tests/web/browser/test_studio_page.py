"""The Studio page in a real browser, against a live server.

Invariants locked here:
- with a pasted key, the form shows the server's price (the quote endpoint) before submitting; a
  submitted job shows progress, reaches ``completed`` and its ``<video>`` loads with the
  requested duration; the balance and the history grid follow;
- the form offers only the selected model's valid choices, and for every model the form's
  default request (plus URLs where inputs are required) is one the server prices;
- an invalid key and an unaffordable request show the service's own error text in an alert;
- the key is kept in localStorage only, and the page works at 375 px with every control labelled.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.web.browser.support import NARROW, LiveServer, page_width, unlabelled_controls

pytestmark = pytest.mark.slow

STUDIO = "/studio/"
IMAGE_URL = "https://example.com/still.jpg"
VIDEO_URL = "https://example.com/motion.mp4"


def open_studio(page: Any, query: str = "") -> None:
    page.goto(STUDIO + query)
    page.wait_for_selector("html[data-ready=true]")


def sign_in(page: Any, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#key-save")
    page.wait_for_selector("#key-status:not([hidden])")


def price_settled(page: Any) -> None:
    """Wait until no quote is pending (the price box drops its loading state)."""
    page.wait_for_function(
        "() => !document.getElementById('price-box').classList.contains('loading')",
        timeout=10_000,
    )


def options(page: Any, selector: str) -> list[str]:
    return list(page.eval_on_selector_all(f"{selector} option", "els => els.map(e => e.value)"))


def test_submit_a_job_and_watch_it_complete(page: Any, live_server: LiveServer) -> None:
    open_studio(page, "?model=kling_3_0")
    sign_in(page, live_server.key)
    balance = live_server.api("GET", "/api/v1/account/").json()["account"]["credits_balance"]
    assert page.text_content("#balance") == f"{balance:,}"
    # The key is stored in this browser only.
    assert page.evaluate("localStorage.getItem('videostudio.apiKey')") == live_server.key

    page.fill("#prompt", "A red fox running through fresh snow at dawn")
    page.fill("#duration-number", "3")
    page.select_option("#quality_mode", "std")
    page.check("#sound")
    price_settled(page)
    # kling_3_0 std with sound: 30 credits/s x 3 s, exactly as the server quotes it.
    quote = live_server.api(
        "POST",
        "/api/v1/video-studio/quote/",
        json={
            "model_slug": "kling_3_0",
            "prompt": "x",
            "duration_seconds": 3,
            "quality_mode": "std",
            "sound": True,
        },
    ).json()["quote"]
    assert quote["credits_required"] == 90
    assert page.text_content("#price") == "90 credits"
    assert "Generate video · 90 credits" in (page.text_content("#submit") or "")

    page.click("#submit")
    card = page.locator(".job-card").first
    card.wait_for()
    job_id = card.get_attribute("data-job-id")
    assert job_id
    assert card.get_attribute("data-status") in ("pending", "processing", "completed")
    page.wait_for_selector(f".job-card[data-job-id='{job_id}'][data-status=completed] video")
    video = page.locator(f".job-card[data-job-id='{job_id}'] video")
    assert video.get_attribute("preload") == "metadata"
    assert video.get_attribute("controls") is not None
    page.wait_for_function(
        f"() => document.querySelector(\".job-card[data-job-id='{job_id}'] video\").readyState >= 1"
    )
    duration = video.evaluate("v => v.duration")
    assert abs(duration - 3) < 0.2, duration
    job = live_server.wait_for_job(job_id)
    if job.get("thumbnail_url"):
        assert video.get_attribute("poster") == job["thumbnail_url"]
    text = card.text_content() or ""
    assert "Kling 3.0" in text
    assert "90 credits" in text
    assert "3 s" in text
    page.wait_for_function(
        f"() => document.getElementById('balance').textContent === '{balance - 90:,}'"
    )
    assert page.text_content("#history-range") == "1\u20131 of 1"


def test_form_offers_only_valid_choices(page: Any, live_server: LiveServer) -> None:
    data = live_server.api("GET", "/docs/video-api/models.json").json()
    open_studio(page)
    sign_in(page, live_server.key)
    for model in data["models"]:
        slug = model["slug"]
        page.select_option("#model", slug)
        assert options(page, "#aspect_ratio") == model["aspect_ratios"] or (
            not model["aspect_ratios"] and not page.is_visible("#aspect_ratio")
        )
        if model["quality_modes"]:
            assert options(page, "#quality_mode") == model["quality_modes"]
        else:
            assert not page.is_visible("#quality_mode")
        first_quality = model["quality_modes"][0] if model["quality_modes"] else ""
        allowed = model["durations_by_quality"].get(first_quality, model["allowed_durations"])
        if model["durations"]["type"] == "range":
            number = page.locator("#duration-number")
            assert number.is_visible()
            orientations = list(model["character_orientations"].values())
            limit = model["durations"]["max"]
            if orientations:  # the first orientation is preselected
                limit = min(limit, orientations[0]["max_duration_seconds"])
            assert number.get_attribute("min") == str(model["durations"]["min"])
            assert number.get_attribute("max") == str(limit)
        else:
            assert options(page, "#duration") == [str(s) for s in allowed]
        assert page.is_visible("#sound") == model["audio"]
        assert page.is_visible("#character_orientation") == bool(model["character_orientations"])
        assert page.is_visible("#mode") == bool(model["mode_field"])
        # Fill what the model requires, then the server prices the form's request.
        for field in page.locator("#inputs fieldset[data-input]").all():
            name = field.get_attribute("data-input") or ""
            url = VIDEO_URL if "video" in name else IMAGE_URL
            for box in field.locator("input[type=text]").all():
                box.fill(url)
        price_settled(page)
        assert page.locator("#price small").count() == 1, (
            slug,
            page.text_content("#price-detail"),
        )
    # Durations follow the quality mode (Hailuo 1080p: 6 s only) and the orientation.
    page.select_option("#model", "hailuo_2_3")
    page.select_option("#quality_mode", "1080p")
    assert options(page, "#duration") == ["6"]
    page.select_option("#model", "kling_3_0_motion_control")
    page.select_option("#character_orientation", "image")
    assert page.get_attribute("#duration-number", "max") == "10"
    # Seedance modes change which inputs exist.
    page.select_option("#model", "seedance_2")
    page.select_option("#mode", "first_last_frame")
    inputs = page.eval_on_selector_all(
        "#inputs fieldset[data-input]", "els => els.map(e => e.dataset.input)"
    )
    assert inputs == ["first_frame_url", "last_frame_url"]
    assert unlabelled_controls(page) == []


def test_invalid_key_shows_the_service_error(page: Any) -> None:
    open_studio(page)
    sign_in_attempt = "vs_live_" + "x" * 43
    page.fill("#api-key", sign_in_attempt)
    page.click("#key-save")
    alert = page.locator("#key-error")
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "Invalid or revoked API key" in (alert.text_content() or "")
    assert page.evaluate("localStorage.getItem('videostudio.apiKey')") is None
    assert page.is_visible("#api-key")


def test_unaffordable_request_shows_insufficient_credits(
    page: Any, live_server: LiveServer
) -> None:
    key = live_server.account("studio-poor", credits=30)
    open_studio(page, "?model=veo31")
    sign_in(page, key)
    page.fill("#prompt", "An expensive cinematic shot")
    price_settled(page)
    assert "insufficient" in (page.get_attribute("#price-box", "class") or "")
    assert "Insufficient credits" in (page.text_content("#price-detail") or "")
    page.click("#submit")
    alert = page.locator("#form-error")
    alert.wait_for()
    text = alert.text_content() or ""
    assert text.startswith("Insufficient credits"), text
    assert "HTTP 402" in text
    assert page.text_content("#balance") == "30"


def test_narrow_screen_and_keyboard(page: Any, live_server: LiveServer) -> None:
    page.set_viewport_size(NARROW)
    open_studio(page)
    assert page_width(page) <= NARROW["width"]
    # Keyboard only: the key field is reachable with Tab and Enter submits it.
    page.focus("#api-key")
    page.keyboard.type(live_server.key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#key-status:not([hidden])")
    page.focus("#model")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#model") != "veo31_lite"
    assert page_width(page) <= NARROW["width"]
    assert unlabelled_controls(page) == []


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (40, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_fills_an_asset_id(page: Any, live_server: LiveServer, tmp_path: Any) -> None:
    paths = live_server.api("GET", "/openapi.json").json()["paths"]
    if "/api/v1/assets/" not in paths:
        pytest.skip("this build has no assets API (/api/v1/assets/)")
    image = tmp_path / "still.png"
    image.write_bytes(png_bytes())
    open_studio(page, "?model=hailuo_2_3")
    sign_in(page, live_server.key)
    page.fill("#prompt", "Slow push-in")
    row = page.locator("[data-input=input_image_urls] .url-row").first
    row.locator("input[type=file]").set_input_files(str(image))
    box = row.locator("input[type=text]")
    page.wait_for_function(
        "() => document.querySelector('[data-input=input_image_urls] input[type=text]')"
        ".value.startsWith('asset://')"
    )
    asset_id = box.input_value()
    price_settled(page)
    assert page.locator("#price small").count() == 1, page.text_content("#price-detail")
    page.click("#submit")
    page.wait_for_selector(".job-card[data-status=completed]", timeout=30_000)
    assert asset_id.startswith("asset://")
