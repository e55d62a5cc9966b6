"""Model discovery endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from videostudio.catalog.presenter import model_payload
from videostudio.errors import UNKNOWN_MODEL, APIError
from videostudio.web.deps import Context, CurrentAccount

router = APIRouter(tags=["models"])


@router.get("/api/v1/models/video/", summary="List video models and their capabilities")
async def list_models(ctx: Context, _account: CurrentAccount) -> JSONResponse:
    models = [model_payload(model, ctx.catalog) for model in ctx.catalog.models.values()]
    return JSONResponse({"success": True, "count": len(models), "models": models})


@router.get("/api/v1/models/video/{slug}/", summary="One video model's capabilities")
async def get_model(slug: str, ctx: Context, _account: CurrentAccount) -> JSONResponse:
    model = ctx.catalog.get(slug)
    if model is None:
        raise APIError(404, UNKNOWN_MODEL, code="unknown_model")
    return JSONResponse({"success": True, "model": model_payload(model, ctx.catalog)})
