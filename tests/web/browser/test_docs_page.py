"""The developer docs page in a real browser, against a live server.

Invariants locked here:
- choosing each model of the running catalog updates the capability card and every request
  snippet, and each model's snippet body is a request the server accepts (quote answers 200);
- the cURL and Python snippets, copied with the page's copy buttons and run with a real key,
  create jobs that complete, and the polling snippets report them completed; the JavaScript
  snippets do the same when run in the page;
- the page is usable at 375 px (no horizontal scroll, collapsible navigation) and every control
  has a label; tabs work with the keyboard.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from typing import Any

import pytest

from tests.web.browser.support import NARROW, LiveServer, page_width, unlabelled_controls

pytestmark = pytest.mark.slow

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DOCS = "/docs/video-api/"


def catalog(server: LiveServer) -> dict[str, Any]:
    return dict(server.api("GET", DOCS + "models.json").json())


def open_docs(page: Any, query: str = "") -> None:
    page.goto(DOCS + query)
    page.wait_for_selector("html[data-ready=true]")


def snippet(page: Any, code_id: str) -> str:
    return str(page.eval_on_selector(f"#{code_id}", "el => el.textContent"))


def copy(page: Any, tab_id: str, code_id: str) -> str:
    """Click the tab and its copy button; return what landed on the clipboard."""
    page.click(f"#{tab_id}")
    page.click(f"[data-copy-target={code_id}]")
    page.wait_for_selector(f"[data-copy-target={code_id}].copied")
    copied = str(page.evaluate("navigator.clipboard.readText()"))
    assert copied == snippet(page, code_id)
    return copied


def run_js(page: Any, script: str) -> str:
    """Run a snippet in the page; return what it logged, as JSON."""
    wrapped = (
        "async () => { const logs = []; "
        "const console = { log: (...args) => logs.push(args) }; "
        f"{script}\n; return JSON.stringify(logs); }}"
    )
    return str(page.evaluate(wrapped))


def curl_body(text: str) -> dict[str, Any]:
    """The JSON body of a cURL snippet, unquoted as the shell would."""
    words = shlex.split(text.replace("\\\n", " "))
    return dict(json.loads(words[words.index("-d") + 1]))


def test_selecting_each_model_updates_card_and_snippets(page: Any, live_server: LiveServer) -> None:
    data = catalog(live_server)
    open_docs(page)
    options = page.eval_on_selector_all("#model-select option", "els => els.map(e => e.value)")
    assert options == [model["slug"] for model in data["models"]]
    generate_url = live_server.base + "/api/v1/video-studio/generate/"
    for model in data["models"]:
        slug = model["slug"]
        preset = data["presets"][slug]
        page.select_option("#model-select", slug)
        card = page.locator("#model-card")
        assert card.get_attribute("data-slug") == slug
        assert card.locator("[data-field=name]").text_content() == model["name"]
        assert card.locator("[data-field=slug]").text_content() == f"model_slug={slug}"
        assert card.locator("[data-field=engine]").text_content() == model["engine"]
        assert card.locator("[data-field=description]").text_content() == model["description"]
        ratios = card.locator("[data-field=aspect_ratios]").text_content() or ""
        for ratio in model["aspect_ratios"]:
            assert ratio in ratios
        durations = card.locator("[data-field=durations]").text_content() or ""
        assert str(model["allowed_durations"][0]) in durations
        quality = card.locator("[data-field=quality_modes]").text_content() or ""
        if model["quality_modes"]:
            assert all(mode in quality for mode in model["quality_modes"])
        else:
            assert quality == "not required"
        inputs = card.locator("[data-field=inputs]").text_content() or ""
        assert all(kind in inputs for kind in model["inputs"])
        credits = card.locator("[data-field=credits]").text_content() or ""
        assert f"{preset['credits']:,} credits" in credits

        curl = snippet(page, "snippet-curl")
        javascript = snippet(page, "snippet-javascript")
        python = snippet(page, "snippet-python")
        for text in (curl, javascript, python):
            assert generate_url in text
            assert "YOUR_API_KEY" in text
        assert curl_body(curl) == preset["request"]
        assert f'"model_slug": "{slug}"' in python
        assert f'model_slug: "{slug}"' in javascript
        for key, value in preset["request"].items():
            if isinstance(value, int) and not isinstance(value, bool):
                assert f'"{key}": {value}' in python
        assert slug in snippet(page, "response-status")
        # The body the page shows is one the server accepts, priced as the page says.
        quote = live_server.api("POST", "/api/v1/video-studio/quote/", json=curl_body(curl))
        assert quote.status_code == 200, (slug, quote.text)
        assert quote.json()["quote"]["credits_required"] == preset["credits"]
        assert page.url.endswith(f"?model={slug}")


def test_copied_snippets_create_jobs_that_complete(page: Any, live_server: LiveServer) -> None:
    # kling_3_0's preset needs no input URL, so its job can complete offline.
    open_docs(page, "?model=kling_3_0")
    assert page.input_value("#model-select") == "kling_3_0"
    key = live_server.key

    curl = copy(page, "tab-snippet-curl", "snippet-curl").replace("YOUR_API_KEY", key)
    out = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, check=True)
    created = json.loads(out.stdout)
    assert created["success"] is True, created
    curl_job = created["job_ids"][0]

    python = copy(page, "tab-snippet-python", "snippet-python").replace("YOUR_API_KEY", key)
    out = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    python_job = UUID.findall(out.stdout)[0]

    for job_id in (curl_job, python_job):
        assert live_server.wait_for_job(job_id)["status"] == "completed"

    poll = copy(page, "tab-poll-curl", "poll-curl")
    poll = poll.replace("YOUR_API_KEY", key).replace("YOUR_JOB_ID", curl_job)
    out = subprocess.run(["bash", "-c", poll], capture_output=True, text=True, timeout=60)
    assert "status: completed" in out.stdout, out.stdout + out.stderr

    poll = copy(page, "tab-poll-python", "poll-python")
    poll = poll.replace("YOUR_API_KEY", key).replace("YOUR_JOB_ID", python_job)
    out = subprocess.run([sys.executable, "-c", poll], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("completed ['http"), out.stdout

    # The JavaScript snippets run as written in any runtime with fetch; the page is one. A local
    # ``console`` collects what they log.
    script = copy(page, "tab-snippet-javascript", "snippet-javascript")
    logs = run_js(page, script.replace("YOUR_API_KEY", key))
    js_job = UUID.findall(logs)[0]
    poll = copy(page, "tab-poll-javascript", "poll-javascript")
    logs = run_js(page, poll.replace("YOUR_API_KEY", key).replace("YOUR_JOB_ID", js_job))
    assert json.loads(logs)[0][0] == "completed", logs


def test_keyboard_tabs_and_labels(page: Any) -> None:
    open_docs(page)
    assert unlabelled_controls(page) == []
    page.focus("#tab-resp-generate")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-resp-validation", "aria-selected") == "true"
    assert page.is_visible("#panel-resp-validation")
    assert not page.is_visible("#panel-resp-generate")
    page.keyboard.press("End")
    assert page.get_attribute("#tab-resp-status", "aria-selected") == "true"
    # One tab stop per tab list: only the selected tab is reachable with Tab.
    assert page.get_attribute("#tab-resp-generate", "tabindex") == "-1"
    # Language tabs switch together and are remembered.
    page.click("#tab-snippet-python")
    assert page.get_attribute("#tab-poll-python", "aria-selected") == "true"
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    assert page.get_attribute("#tab-snippet-python", "aria-selected") == "true"


def test_narrow_screen(page: Any) -> None:
    page.set_viewport_size(NARROW)
    open_docs(page)
    assert page_width(page) <= NARROW["width"]
    assert not page.is_visible("#sidebar")
    page.click("#nav-toggle")
    assert page.is_visible("#sidebar")
    assert page.get_attribute("#nav-toggle", "aria-expanded") == "true"
    page.click("#sidebar a[href='#model-selector']")
    assert not page.is_visible("#sidebar")
    page.select_option("#model-select", "seedance_2")
    assert page_width(page) <= NARROW["width"]
    page.click("#nav-toggle")
    page.keyboard.press("Escape")
    assert not page.is_visible("#sidebar")
