"""Response shapes of the assets endpoints (documented in OpenAPI) and the asset serialiser."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from videostudio.assets.models import Asset
from videostudio.jobs.schemas import Pagination, iso


class AssetOut(BaseModel):
    asset_id: str
    status: Literal["active"]
    kind: Literal["image", "video", "audio"]
    content_type: str
    bytes: int
    width: int | None
    height: int | None
    duration_seconds: float | None
    has_audio: bool
    sha256: str
    filename: str | None
    url: str
    created_at: str


class AssetResponse(BaseModel):
    success: Literal[True] = True
    asset: AssetOut


class AssetCreatedResponse(BaseModel):
    success: Literal[True] = True
    asset: AssetOut
    deduplicated: bool  # true: the account already had these bytes; this is that asset (200)


class AssetListResponse(BaseModel):
    success: Literal[True] = True
    assets: list[AssetOut]
    pagination: Pagination


class AssetDeletedResponse(BaseModel):
    success: Literal[True] = True
    deleted: str


def asset_payload(asset: Asset, media_base: str) -> dict[str, Any]:
    return {
        "asset_id": asset.ref,
        "status": asset.status,
        "kind": asset.kind,
        "content_type": asset.content_type,
        "bytes": asset.bytes,
        "width": asset.width,
        "height": asset.height,
        "duration_seconds": asset.duration_seconds,
        "has_audio": asset.has_audio,
        "sha256": asset.sha256,
        "filename": asset.filename,
        "url": media_base + asset.storage_key,
        "created_at": iso(asset.created_at),
    }
