"""The documented response shapes (OpenAPI models) are exactly what the API answers.

Invariant locked here: for every endpoint, a real response validates against its documented
model and carries exactly the documented keys (no undocumented field, no documented field
missing), for successes and for errors. The views build plain dicts for speed, so this test is
what keeps ``/openapi.json`` honest.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tests.conftest import Harness
from tests.samples import image_bytes
from videostudio.accounts.views import AccountOut, AccountResponse
from videostudio.assets.schemas import (
    AssetCreatedResponse,
    AssetDeletedResponse,
    AssetListResponse,
    AssetOut,
    AssetResponse,
)
from videostudio.billing.schemas import LedgerEntryOut
from videostudio.catalog.schemas import ModelListResponse, ModelOut, ModelResponse
from videostudio.jobs.schemas import (
    GenerateResponse,
    HistoryResponse,
    JobOut,
    LegacyData,
    LegacyResponse,
    Pagination,
    QuoteOut,
    QuoteResponse,
    StatusResponse,
)
from videostudio.jobs.worker import Worker
from videostudio.web.responses import ErrorResponse


def assert_shape(payload: dict[str, Any], model: type[BaseModel]) -> None:
    model.model_validate(payload)
    assert set(payload) == set(model.model_fields), (model.__name__, sorted(payload))


async def test_success_shapes(harness: Harness) -> None:
    _, key = await harness.account(credits=10_000)
    auth = {"Authorization": f"Bearer {key}"}
    created = await harness.generate(
        key, model_slug="kling_3_0", prompt="shape", quality_mode="std"
    )
    assert_shape(created.json(), GenerateResponse)
    job_id = created.json()["job_ids"][0]
    await Worker(harness.ctx).run_once()

    status = (await harness.status(key, job_id)).json()
    assert_shape(status, StatusResponse)
    assert_shape(status["job"], JobOut)
    assert status["job"]["status"] == "completed"

    history = (await harness.client.get("/api/v1/video-studio/history/", headers=auth)).json()
    assert_shape(history, HistoryResponse)
    assert_shape(history["pagination"], Pagination)
    for job in history["jobs"]:
        assert_shape(job, JobOut)

    legacy = await harness.client.post(
        "/api/v1/generate/video/", json={"prompt": "p"}, headers=auth
    )
    assert_shape(legacy.json(), LegacyResponse)
    assert_shape(legacy.json()["data"], LegacyData)

    models = (await harness.client.get("/api/v1/models/video/", headers=auth)).json()
    assert_shape(models, ModelListResponse)
    for model in models["models"]:
        assert_shape(model, ModelOut)
    one = (await harness.client.get("/api/v1/models/video/seedance_2/", headers=auth)).json()
    assert_shape(one, ModelResponse)

    account = (await harness.client.get("/api/v1/account/", headers=auth)).json()
    assert_shape(account, AccountResponse)
    assert_shape(account["account"], AccountOut)
    for entry in account["ledger"]:
        assert_shape(entry, LedgerEntryOut)

    quote = await harness.client.post(
        "/api/v1/video-studio/quote/",
        json={"model_slug": "veo31_lite", "prompt": "p"},
        headers=auth,
    )
    assert_shape(quote.json(), QuoteResponse)
    assert_shape(quote.json()["quote"], QuoteOut)

    uploaded = await harness.client.post(
        "/api/v1/assets/", files={"file": ("a.png", image_bytes())}, headers=auth
    )
    assert_shape(uploaded.json(), AssetCreatedResponse)
    assert_shape(uploaded.json()["asset"], AssetOut)
    ref = uploaded.json()["asset"]["asset_id"]
    assert_shape(
        (await harness.client.get(f"/api/v1/assets/{ref}/", headers=auth)).json(), AssetResponse
    )
    listed = (await harness.client.get("/api/v1/assets/", headers=auth)).json()
    assert_shape(listed, AssetListResponse)
    assert_shape(listed["pagination"], Pagination)
    deleted = await harness.client.delete(f"/api/v1/assets/{ref}/", headers=auth)
    assert_shape(deleted.json(), AssetDeletedResponse)


async def test_error_shapes(harness: Harness) -> None:
    _, key = await harness.account(credits=10)
    auth = {"Authorization": f"Bearer {key}"}
    errors = [
        await harness.client.get("/api/v1/account/"),
        await harness.generate(key, model_slug="veo31", prompt="too expensive"),
        await harness.generate(key, model_slug="kling_3_0", prompt="p", quality_mode="ultra"),
        await harness.generate(key, model_slug="nope", prompt="p"),
        await harness.client.get("/api/v1/video-studio/history/?limit=0", headers=auth),
        await harness.status(key, "missing"),
        await harness.client.post("/api/v1/assets/", files={"file": ("a", b"x")}, headers=auth),
        await harness.client.get("/api/v1/assets/as_missing/", headers=auth),
        await harness.client.post(
            "/api/v1/video-studio/quote/", json={"model_slug": "x"}, headers=auth
        ),
    ]
    for response in errors:
        assert response.status_code >= 400
        body = response.json()
        ErrorResponse.model_validate(body)
        assert set(body) <= set(ErrorResponse.model_fields), sorted(body)
