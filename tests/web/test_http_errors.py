"""Framework-level errors are answered in the envelope, and the API describes itself.

Invariants locked here: unknown routes (404), wrong methods (405) and oversized bodies (413, with or
without Content-Length, and without reading the body into memory) use ``{"success": false,
"error"}``; ``/openapi.json`` documents every endpoint with request and response schemas; Swagger UI
is at ``/api/docs``; the trivial health endpoint needs no key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness


async def test_unknown_route_and_method(harness: Harness) -> None:
    response = await harness.client.get("/api/v1/nope/")
    assert response.status_code == 404
    assert response.json()["success"] is False
    wrong = await harness.client.get("/api/v1/video-studio/generate/")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "Method not allowed"


@pytest.mark.parametrize("settings_overrides", [{"max_body_bytes": 2048}])
async def test_oversized_bodies_are_413(harness: Harness) -> None:
    account_id, key = await harness.account(credits=100)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    big = b'{"model_slug": "veo31_lite", "prompt": "' + b"x" * 5000 + b'"}'
    response = await harness.client.post(
        "/api/v1/video-studio/generate/", content=big, headers=headers
    )
    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1024

    streamed = await harness.client.post(
        "/api/v1/video-studio/generate/", content=chunks(), headers=headers
    )
    assert streamed.status_code == 413
    assert await harness.balance(account_id) == 100


async def test_openapi_documents_every_endpoint(harness: Harness) -> None:
    spec = (await harness.client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/video-studio/generate/",
        "/api/v1/video-studio/status/{job_id}/",
        "/api/v1/video-studio/history/",
        "/api/v1/models/video/",
        "/api/v1/models/video/{slug}/",
        "/api/v1/generate/video/",
        "/api/v1/account/",
    ):
        assert path in paths, path
    generate = paths["/api/v1/video-studio/generate/"]["post"]
    schema = generate["requestBody"]["content"]["application/json"]["schema"]
    assert "model_slug" in schema["properties"] and "batch_size" in schema["properties"]
    assert "402" in generate["responses"] and "429" in generate["responses"]
    legacy = paths["/api/v1/generate/video/"]["post"]["requestBody"]["content"]
    assert "video_model" in legacy["application/json"]["schema"]["properties"]
    docs = await harness.client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_health_needs_no_key(harness: Harness) -> None:
    response = await harness.client.get("/api/v1/health/")
    assert response.status_code == 200 and response.json()["status"] == "ok"
