"""Fixtures for the browser tests: a real ``videostudio serve`` and Debian's Chromium.

- ``live_server`` (one per test module) starts ``python -m videostudio serve`` on a free port in
  a temporary directory (SQLite, local media, in-process worker, rate limit off), reads the
  operator key from its output and can run admin commands (``cli``) against the same data.
- ``browser`` drives ``/usr/bin/chromium`` headless through Playwright's sync API. Without that
  binary the tests skip with the install command, unless ``VIDEOSTUDIO_REQUIRE_BROWSER=1`` (set by
  ``.ci/run``), in which case they fail. The background-networking flags matter: without them
  Chromium waits on network services an offline machine never answers.
- ``page`` is a fresh browser context per test (empty localStorage, clipboard allowed), and the
  test fails if the page raised a JavaScript error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, REQUIRE_BROWSER, LiveServer


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"))
    try:
        yield server
    finally:
        server.stop()


# Module scope, not session: while Playwright's sync API is active it holds an event loop that
# asyncio sees as running, which would break the async tests of the modules that follow.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian chromium not installed at /usr/bin/chromium: apt-get install chromium"
        if REQUIRE_BROWSER:
            pytest.fail(message + " (VIDEOSTUDIO_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.base)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
