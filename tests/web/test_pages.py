"""The docs page, the Studio page and their static files, over plain HTTP (no browser).

Invariants locked here:
- ``/`` leads to ``/docs/video-api/``; both pages are HTML with a strict Content-Security-Policy;
- the request-contract table lists every ``GenerateRequest`` field, in order, and nothing else;
- the catalog embedded in the pages (and ``/docs/video-api/models.json``, public) is exactly what
  ``/api/v1/models/video/`` answers, for every model;
- every model's preset request is accepted and priced by the quote endpoint as the page says, and
  the response examples have the API's real shapes (the validation error is the real one);
- the endpoint list is the API's own OpenAPI paths;
- static files are served with their content types, an ETag, gzip on request, and forever-caching
  only under the current version prefix; templates and unknown paths are not served.
"""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from tests.conftest import Harness
from videostudio.catalog.requests import GenerateRequest
from videostudio.jobs.schemas import GenerateResponse, JobOut
from videostudio.web import pages
from videostudio.web.responses import ErrorResponse

DOCS = "/docs/video-api/"
STUDIO = "/studio/"


@pytest.fixture
def engine_name() -> str:
    # The pages read the catalog, not the database: one engine is enough.
    return "sqlite"


class Page(HTMLParser):
    """Collects the embedded page data, contract-table rows and asset URLs of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.data_json = ""
        self.rows: list[str] = []
        self.assets: list[str] = []
        self._in_data = False
        self._table: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "script" and attr.get("id") == "vs-data":
            self._in_data = True
        if tag == "table":
            self._table = attr.get("id")
        if tag == "tr" and self._table == "contract-table" and attr.get("data-field"):
            self.rows.append(str(attr["data-field"]))
        for name in ("src", "href"):
            value = attr.get(name)
            if value and value.startswith("/static/"):
                self.assets.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data = False
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data_json += data

    @property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.data_json))


async def get_page(harness: Harness, path: str) -> Page:
    response = await harness.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return Page(response.text)


async def test_root_leads_to_the_docs(harness: Harness) -> None:
    response = await harness.client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == DOCS
    response = await harness.client.get("/docs/video-api")  # without the slash
    assert response.status_code == 307


@pytest.mark.parametrize("path", [DOCS, STUDIO])
async def test_pages_are_html_with_a_strict_policy(harness: Harness, path: str) -> None:
    response = await harness.client.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    assert "<script>" not in response.text  # no inline script: the policy allows none
    again = await harness.client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    head = await harness.client.head(path)
    assert head.status_code == 200


async def test_docs_page_content(harness: Harness) -> None:
    response = await harness.client.get(DOCS)
    text = response.text
    for needle in (
        "Request contract",
        "Model selector",
        "Live request snippets",
        "Status polling",
        "Response examples",
        "Status lifecycle",
        "Errors and HTTP codes",
        'id="model-select"',
        "/api/v1/video-studio/generate/",
        "http://testserver",
    ):
        assert needle in text, needle
    studio = await harness.client.get(STUDIO)
    for needle in ('id="api-key"', 'id="generate-form"', 'id="history-grid"', 'role="alert"'):
        assert needle in studio.text, needle


async def test_contract_table_lists_every_generate_request_field(harness: Harness) -> None:
    page = await get_page(harness, DOCS)
    assert page.rows == list(GenerateRequest.model_fields)
    assert set(pages.FIELD_NOTES) <= set(GenerateRequest.model_fields)
    rows = {row["name"]: row for row in pages.contract_rows(harness.ctx.catalog)}
    assert rows["model_slug"]["required"] == "Yes"
    assert rows["input_image_urls"]["type"] == "array[string]"
    assert rows["duration_seconds"]["type"] == "integer"
    assert rows["sound"]["type"] == "boolean"
    assert rows["input_image_urls"]["required"] == "Model-specific"
    assert "hailuo_2_3" in rows["input_image_urls"]["required_by"]
    assert rows["seedance_mode"]["applies_to"] == ["seedance_2"]
    assert rows["batch_size"]["applies_to"] is None  # every model
    for row in rows.values():
        assert row["notes"], row["name"]


async def test_embedded_catalog_is_the_model_endpoint(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    api = await harness.client.get(
        "/api/v1/models/video/", headers={"Authorization": f"Bearer {key}"}
    )
    models = api.json()["models"]
    assert len(models) == len(harness.ctx.catalog.models)
    for path in (DOCS, STUDIO):
        data = (await get_page(harness, path)).data
        assert data["models"] == models
        assert set(data["presets"]) == {model["slug"] for model in models}
        assert data["origin"] == "http://testserver"
        assert data["paths"]["generate"] == "/api/v1/video-studio/generate/"
    public = await harness.client.get(DOCS + "models.json")  # no key
    assert public.status_code == 200
    assert public.json()["models"] == models
    assert public.json()["count"] == len(models)


async def test_presets_are_accepted_and_priced_as_shown(harness: Harness) -> None:
    _, key = await harness.account(credits=10)
    auth = {"Authorization": f"Bearer {key}"}
    data = (await harness.client.get(DOCS + "models.json")).json()
    for slug, preset in data["presets"].items():
        assert preset["valid"] is True, (slug, preset)
        body = preset["request"]
        assert body["model_slug"] == slug
        quote = await harness.client.post("/api/v1/video-studio/quote/", json=body, headers=auth)
        assert quote.status_code == 200, (slug, quote.text)
        assert quote.json()["quote"]["credits_required"] == preset["credits"]
        assert quote.json()["quote"]["mode"] == preset["mode"]
    # Models that take text only get a snippet that runs as is (no example URLs).
    for slug in ("veo31_fast", "kling_3_0", "wan_2_6", "seedance_2", "grok_imagine_video"):
        assert not any(k.endswith(("_url", "_urls")) for k in data["presets"][slug]["request"])
    motion = data["presets"]["kling_3_0_motion_control"]["request"]
    assert motion["character_orientation"] == "video"
    assert motion["input_video_urls"] == ["https://example.com/your-video.mp4"]


async def test_response_examples_have_the_real_shapes(harness: Harness) -> None:
    _, key = await harness.account(credits=0)
    auth = {"Authorization": f"Bearer {key}"}
    data = (await harness.client.get(DOCS + "models.json")).json()
    for slug, preset in data["presets"].items():
        examples = preset["examples"]
        assert set(examples["generate"]) == set(GenerateResponse.model_fields)
        assert set(examples["status"]["job"]) == set(JobOut.model_fields)
        assert examples["status"]["job"]["model_slug"] == slug
        ErrorResponse.model_validate(examples["validation_error"])
        # The validation-error example is what the server answers for that bad duration.
        too_long = examples["validation_error"]["allowed"][-1] + 1
        bad = dict(preset["request"], duration_seconds=too_long)
        real = await harness.client.post("/api/v1/video-studio/generate/", json=bad, headers=auth)
        assert real.status_code == 400
        assert real.json() == examples["validation_error"]
        # The 402 example has the keys and text of a real 402 (this account has no credits).
        real = await harness.client.post(
            "/api/v1/video-studio/generate/", json=preset["request"], headers=auth
        )
        assert real.status_code == 402
        example = examples["insufficient_credits"]
        assert set(real.json()) == set(example)
        assert real.json()["error"] == example["error"]
        assert real.json()["credits_required"] == example["credits_required"]


async def test_endpoint_list_is_the_openapi_document(harness: Harness) -> None:
    text = (await harness.client.get(DOCS)).text
    openapi = (await harness.client.get("/openapi.json")).json()
    listed = re.findall(r'<code class="path">([^<]+)</code>', text)
    api_paths = [path for path in openapi["paths"] if path.startswith("/api/")]
    assert sorted(set(listed)) == sorted(api_paths)
    # Every API path the pages call is routed by this build.
    data = (await harness.client.get(DOCS + "models.json")).json()
    assert set(pages.API_PATHS.values()) <= set(openapi["paths"])
    assert all(data["features"].values())


async def test_static_files(harness: Harness) -> None:
    page = await get_page(harness, DOCS)
    studio = await get_page(harness, STUDIO)
    bundle = pages.static_bundle()
    assert page.assets and all(f"/v-{bundle.version}/" in url for url in page.assets)
    expected = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    for url in sorted(set(page.assets + studio.assets)):
        response = await harness.client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, url
        suffix = "." + url.rsplit(".", 1)[1]
        assert response.headers["content-type"].startswith(expected[suffix]), url
        assert response.headers["cache-control"] == pages.IMMUTABLE
        assert response.headers["x-content-type-options"] == "nosniff"
        etag = response.headers["etag"]
        again = await harness.client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
    # Every module the pages import is published.
    for name in ("common.js", "snippets.js", "docs.js", "studio.js"):
        assert f"js/{name}" in bundle.files
    # Without the current version prefix files are revalidated, not cached forever.
    plain = await harness.client.get("/static/css/app.css")
    assert plain.headers["cache-control"] == "no-cache"
    old = await harness.client.get("/static/v-000000000000/css/app.css")
    assert old.status_code == 200
    assert old.headers["cache-control"] == "no-cache"
    # gzip when the client accepts it.
    zipped = await harness.client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == bundle.files["css/app.css"].body  # httpx decodes it
    assert gzip.decompress(bundle.files["css/app.css"].gzipped or b"") == zipped.content
    for missing in (
        "/static/templates/docs.html",
        "/static/nope.js",
        "/static/../pages.py",
        "/static/%2e%2e/pages.py",
    ):
        response = await harness.client.get(missing)
        assert response.status_code == 404, missing
        assert response.json()["success"] is False


def test_public_origin_prefers_public_base_url() -> None:
    def request(host: str) -> Request:
        return Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/",
                "scheme": "https",
                "headers": [(b"host", host.encode())],
                "server": ("10.0.0.1", 8000),
                "root_path": "",
                "query_string": b"",
            }
        )

    unset = SimpleNamespace(settings=SimpleNamespace(public_base_url=None))
    assert pages.public_origin(unset, request("video.example.com")) == (  # type: ignore[arg-type]
        "https://video.example.com"
    )
    given = SimpleNamespace(settings=SimpleNamespace(public_base_url="https://cdn.example.com"))
    assert pages.public_origin(given, request("internal:8000")) == (  # type: ignore[arg-type]
        "https://cdn.example.com"
    )


def test_embedded_json_cannot_close_its_script_tag() -> None:
    text = pages.json_for_script({"description": "</script><script>alert(1)</script> & \u2028"})
    assert "</script" not in text and "<" not in text and ">" not in text
    assert json.loads(text)["description"] == "</script><script>alert(1)</script> & \u2028"


def test_json_types_of_request_fields() -> None:
    assert pages.json_type(str) == "string"
    assert pages.json_type(int | None) == "integer"
    assert pages.json_type(list[str] | None) == "array[string]"
    assert pages.json_type(bool | None) == "boolean"
