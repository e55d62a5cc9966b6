"""The README's screenshots of the docs and Studio pages, made from a live server.

Runs only with ``VIDEOSTUDIO_WRITE_SCREENSHOTS=1`` (``scripts/screenshots`` sets it), so the test
suite and CI never rewrite ``docs/screenshots/``. The Studio shots show a signed-in account with
real completed jobs rendered by the sandbox engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser.support import DESKTOP, NARROW, LiveServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("VIDEOSTUDIO_WRITE_SCREENSHOTS") != "1",
        reason="writes docs/screenshots/; run scripts/screenshots",
    ),
]

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
JOBS = [
    ("seedance_2", "Neon city street in the rain, reflections on wet asphalt", 4, "480p"),
    ("wan_2_6", "Ceramic coffee cup on a wooden table, steam rising, morning light", 5, "720p"),
    ("grok_imagine_video", "Paper boats drifting down a mountain stream", 6, "480p"),
    ("veo31_lite", "A lighthouse on a cliff at dawn, waves crashing, cinematic", 8, None),
    ("kling_3_0", "A red fox running through fresh snow at dawn", 5, "std"),
]


FAILING = {
    "model_slug": "hailuo_2_3",
    "prompt": "Slow push-in on a portrait",
    "input_image_urls": ["https://example.com/your-image.jpg"],
    "quality_mode": "768p",
    "duration_seconds": 6,
}


def shoot(page: Any, name: str) -> None:
    page.mouse.move(0, 0)  # no hover state on cards or video controls
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(400)
    path = OUT / name
    page.screenshot(path=str(path), full_page=False)
    from PIL import Image

    with Image.open(path) as image:  # smaller files for the repository, same pixels
        image.load()
    image.save(path, optimize=True)


def test_write_screenshots(browser: Any, live_server: LiveServer) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # One failed, refunded job first (example.com serves no image; it ends up last in the grid),
    # to show how failures look.
    failed = live_server.api("POST", "/api/v1/video-studio/generate/", json=FAILING).json()
    assert live_server.wait_for_job(failed["job_ids"][0], timeout=60)["status"] == "failed"
    job_ids = []
    for slug, prompt, seconds, quality in JOBS:
        body = {"model_slug": slug, "prompt": prompt, "duration_seconds": seconds}
        if quality:
            body["quality_mode"] = quality
        created = live_server.api("POST", "/api/v1/video-studio/generate/", json=body).json()
        job_ids += created["job_ids"]
    for job_id in job_ids:
        assert live_server.wait_for_job(job_id, timeout=120)["status"] == "completed"

    for name, viewport, scale in (("desktop", DESKTOP, 1), ("narrow", NARROW, 2)):
        context = browser.new_context(
            viewport=viewport, device_scale_factor=scale, base_url=live_server.base
        )
        page = context.new_page()
        page.goto("/docs/video-api/?model=kling_3_0")
        page.wait_for_selector("html[data-ready=true]")
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, f"docs-{name}.png")
        page.locator("#model-selector").scroll_into_view_if_needed()
        page.evaluate(
            "window.scrollTo(0, document.getElementById('model-selector').offsetTop - 72)"
        )
        shoot(page, f"docs-model-selector-{name}.png")

        page.goto("/studio/?model=kling_3_0")
        page.wait_for_selector("html[data-ready=true]")
        page.fill("#api-key", live_server.key)
        page.click("#key-save")
        page.wait_for_selector("#key-status:not([hidden])")
        page.fill("#prompt", "A red fox running through fresh snow at dawn, cinematic")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.job-card video')]"
            ".every(v => v.readyState >= 2 && v.networkState !== 2)"
            " && document.querySelectorAll('.job-card').length > 0"
        )
        page.wait_for_function(
            "() => !document.getElementById('price-box').classList.contains('loading')"
        )
        page.wait_for_timeout(2500)  # Chromium hides its loading spinners with a delay
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, f"studio-{name}.png")
        if name == "narrow":
            page.evaluate("window.scrollTo(0, document.querySelector('.history').offsetTop - 72)")
            shoot(page, "studio-history-narrow.png")
        context.close()
