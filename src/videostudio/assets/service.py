"""Creating, finding and deleting assets.

Guarantees:

- an asset exists only after its content decoded as the kind it claims, within the operator's
  limits (``media.inspect``); a rejected upload leaves no file and no row;
- one account's identical uploads are one row and one file (unique ``(account_id, sha256)``,
  content-derived storage key); concurrent identical uploads converge on the same asset;
- every lookup is scoped by account, so another account's ``asset://`` ID is simply unknown.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from videostudio.assets.models import ASSET_SCHEME, Asset
from videostudio.assets.upload import ReceivedUpload
from videostudio.db import Database, utcnow
from videostudio.errors import APIError
from videostudio.media.inspect import MediaRejected, inspect_media
from videostudio.media.storage import asset_key
from videostudio.providers.inputs import AssetLookup, StoredAsset

if TYPE_CHECKING:
    from videostudio.context import AppContext

ASSET_NOT_FOUND = "Asset not found"
# Decoding uploads runs in threads; bound it so a burst of uploads cannot starve renders.
INSPECT_SLOTS = asyncio.Semaphore(2)
MAX_LIST_LIMIT = 100


def new_asset_id() -> str:
    return "as_" + secrets.token_urlsafe(18)


def parse_ref(ref: str) -> str:
    """The bare ID of ``asset://ID`` (a bare ID is accepted as it is). In a URL path the scheme
    may arrive as ``asset:/ID`` or ``asset:ID``, depending on the client's normalisation."""
    for prefix in (ASSET_SCHEME, "asset:/", "asset:"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


@dataclass(frozen=True)
class Created:
    asset: Asset
    created: bool  # False: the account already had these exact bytes


async def create_from_upload(ctx: AppContext, account_id: str, upload: ReceivedUpload) -> Created:
    """Check the received file by decoding it, then store it (or return the existing twin)."""
    try:
        async with INSPECT_SLOTS:
            info = await asyncio.to_thread(
                inspect_media,
                upload.path,
                limits=ctx.media_limits,
                expected=upload.declared_type,  # type: ignore[arg-type]
                label="file",
            )
    except MediaRejected as exc:
        upload.path.unlink(missing_ok=True)
        raise APIError(exc.status, str(exc), code=exc.code, field="file") from None
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    existing = await _by_hash(ctx.db, account_id, upload.sha256)
    if existing is not None and ctx.storage.local_path(existing.storage_key) is not None:
        upload.path.unlink(missing_ok=True)
        await _touch(ctx.db, existing)
        return Created(existing, created=False)
    key = asset_key(account_id, upload.sha256, info.extension)
    ctx.storage.commit_file(upload.path, key)
    if existing is not None:  # the row survived a lost file (restored from a backup): heal it
        return Created(existing, created=False)
    asset = Asset(
        id=new_asset_id(),
        account_id=account_id,
        sha256=upload.sha256,
        kind=info.kind,
        format=info.format,
        content_type=info.content_type,
        bytes=info.bytes,
        width=info.width,
        height=info.height,
        duration_seconds=info.duration_seconds,
        has_audio=info.has_audio,
        storage_key=key,
        filename=upload.filename,
    )
    try:
        async with ctx.db.write() as session:
            session.add(asset)
    except IntegrityError:
        # Another request stored the same bytes first; the file under ``key`` is identical.
        twin = await _by_hash(ctx.db, account_id, upload.sha256)
        if twin is None:
            raise
        return Created(twin, created=False)
    except BaseException:
        if await _by_hash(ctx.db, account_id, upload.sha256) is None:
            ctx.storage.delete(key)  # no row will ever point at it
        raise
    return Created(asset, created=True)


async def _touch(db: Database, asset: Asset) -> None:
    """A re-upload of the same bytes counts as new for retention (created_at moves forward)."""
    now = utcnow()
    async with db.write() as session:
        await session.execute(update(Asset).where(Asset.id == asset.id).values(created_at=now))
    asset.created_at = now


async def _by_hash(db: Database, account_id: str, sha256: str) -> Asset | None:
    async with db.read() as session:
        result = await session.scalars(
            select(Asset).where(Asset.account_id == account_id, Asset.sha256 == sha256)
        )
        return result.first()


async def get(db: Database, account_id: str, asset_id: str) -> Asset | None:
    async with db.read() as session:
        result = await session.scalars(
            select(Asset).where(Asset.id == parse_ref(asset_id), Asset.account_id == account_id)
        )
        return result.first()


async def find_many(db: Database, account_id: str, refs: Iterable[str]) -> dict[str, Asset]:
    """The account's assets among ``refs`` (``asset://`` IDs), keyed by the ref as given."""
    wanted = {parse_ref(ref): ref for ref in refs}
    if not wanted:
        return {}
    async with db.read() as session:
        result = await session.scalars(
            select(Asset).where(Asset.account_id == account_id, Asset.id.in_(list(wanted)))
        )
        return {wanted[asset.id]: asset for asset in result}


def stored_lookup(db: Database) -> AssetLookup:
    """The worker's view of assets: storage key and content hash, scoped by account."""

    async def lookup(account_id: str, refs: list[str]) -> dict[str, StoredAsset]:
        found = await find_many(db, account_id, refs)
        return {
            ref: StoredAsset(storage_key=asset.storage_key, sha256=asset.sha256)
            for ref, asset in found.items()
        }

    return lookup


@dataclass(frozen=True)
class AssetPage:
    assets: list[Asset]
    total: int


async def list_page(
    db: Database, account_id: str, *, limit: int, offset: int, kind: str | None
) -> AssetPage:
    where = [Asset.account_id == account_id]
    if kind is not None:
        where.append(Asset.kind == kind)
    async with db.read() as session:
        total = await session.scalar(select(func.count()).select_from(Asset).where(*where))
        rows = await session.scalars(
            select(Asset)
            .where(*where)
            .order_by(Asset.created_at.desc(), Asset.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return AssetPage(assets=list(rows), total=int(total or 0))


async def remove(ctx: AppContext, account_id: str, asset_id: str) -> Asset | None:
    """Delete the row, then the file; None if the account has no such asset.

    Jobs that still reference the asset and have not started fail with a refund when they reach
    the worker (their input is gone); finished jobs keep their own results."""
    async with ctx.db.write() as session:
        asset = (
            await session.scalars(
                select(Asset).where(Asset.id == parse_ref(asset_id), Asset.account_id == account_id)
            )
        ).first()
        if asset is None:
            return None
        await session.execute(delete(Asset).where(Asset.id == asset.id))
    ctx.storage.delete(asset.storage_key)
    return asset
