"""Model discovery endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request

from videostudio.catalog.presenter import model_payload
from videostudio.catalog.schemas import ModelListResponse, ModelResponse
from videostudio.errors import UNKNOWN_MODEL, APIError
from videostudio.web.deps import authenticated
from videostudio.web.responses import APIResponse, errors

router = APIRouter(tags=["models"])


@router.get(
    "/api/v1/models/video/",
    summary="List video models and their capabilities",
    response_model=ModelListResponse,
    responses=errors(401),
)
async def list_models(request: Request) -> APIResponse:
    ctx, _ = await authenticated(request)
    models = [model_payload(model, ctx.catalog) for model in ctx.catalog.models.values()]
    return APIResponse({"success": True, "count": len(models), "models": models})


@router.get(
    "/api/v1/models/video/{slug}/",
    summary="One video model's capabilities",
    response_model=ModelResponse,
    responses=errors(401, 404),
)
async def get_model(slug: str, request: Request) -> APIResponse:
    ctx, _ = await authenticated(request)
    model = ctx.catalog.get(slug)
    if model is None:
        raise APIError(404, UNKNOWN_MODEL, code="unknown_model")
    return APIResponse({"success": True, "model": model_payload(model, ctx.catalog)})
