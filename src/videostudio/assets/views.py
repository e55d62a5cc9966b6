"""Assets endpoints: upload, list, read, delete. Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from videostudio import flows
from videostudio.assets import service
from videostudio.assets.schemas import (
    AssetCreatedResponse,
    AssetDeletedResponse,
    AssetListResponse,
    AssetResponse,
    asset_payload,
)
from videostudio.errors import APIError
from videostudio.jobs.schemas import pagination_payload, start_offset
from videostudio.jobs.service import MAX_HISTORY_OFFSET
from videostudio.web.deps import authenticated
from videostudio.web.responses import APIResponse, errors
from videostudio.web.urls import media_base

router = APIRouter(tags=["assets"])
UPLOAD_PATH = "/api/v1/assets/"

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "type": {"type": "string", "enum": ["image", "video", "audio"]},
                    },
                }
            }
        },
    }
}


@router.post(
    UPLOAD_PATH,
    summary="Upload an input image, video or audio file; use its asset:// ID in any *_url field",
    status_code=201,
    response_model=AssetCreatedResponse,
    responses={
        200: {
            "model": AssetCreatedResponse,
            "description": "The account already had these exact bytes: that asset, with "
            "deduplicated true",
        },
        **errors(400, 401, 413, 429),
    },
    openapi_extra=UPLOAD_BODY,
)
async def upload(request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    created = await flows.upload_asset(ctx, account, request)
    return APIResponse(
        {
            "success": True,
            "asset": asset_payload(created.asset, media_base(ctx, request)),
            "deduplicated": not created.created,
        },
        status_code=201 if created.created else 200,
    )


@router.get(
    UPLOAD_PATH,
    summary="List the account's assets, newest first",
    response_model=AssetListResponse,
    responses=errors(400, 401),
)
async def list_assets(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST_LIMIT)] = 20,
    offset: Annotated[int | None, Query(ge=0, le=MAX_HISTORY_OFFSET)] = None,
    page: Annotated[int | None, Query(ge=1, le=MAX_HISTORY_OFFSET // 100)] = None,
    kind: Annotated[Literal["image", "video", "audio"] | None, Query()] = None,
) -> APIResponse:
    ctx, account = await authenticated(request)
    offset = start_offset(limit, offset, page)
    result = await service.list_page(ctx.db, account.id, limit=limit, offset=offset, kind=kind)
    base = media_base(ctx, request)
    return APIResponse(
        {
            "success": True,
            "assets": [asset_payload(asset, base) for asset in result.assets],
            "pagination": pagination_payload(
                limit=limit, offset=offset, returned=len(result.assets), total=result.total
            ),
        }
    )


@router.get(
    UPLOAD_PATH + "{asset_id:path}",
    summary="One asset (by asset://ID or the bare ID)",
    response_model=AssetResponse,
    responses=errors(401, 404),
)
async def get_asset(asset_id: str, request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    asset = await service.get(ctx.db, account.id, asset_id.rstrip("/"))
    if asset is None:
        raise APIError(404, service.ASSET_NOT_FOUND, code="asset_not_found")
    return APIResponse({"success": True, "asset": asset_payload(asset, media_base(ctx, request))})


@router.delete(
    UPLOAD_PATH + "{asset_id:path}",
    summary="Delete an asset and its file",
    response_model=AssetDeletedResponse,
    responses=errors(401, 404),
)
async def delete_asset(asset_id: str, request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    asset = await service.remove(ctx, account.id, asset_id.rstrip("/"))
    if asset is None:
        raise APIError(404, service.ASSET_NOT_FOUND, code="asset_not_found")
    return APIResponse({"success": True, "deleted": asset.ref})
