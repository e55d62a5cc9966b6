"""Cross-domain orchestration, in one visible place.

``prune_media`` is the retention policy: it touches jobs, assets and storage together.

``submit_generation`` is the path money takes: validate against the catalog, price, then in ONE
write transaction count the rate limit, debit the whole batch and insert the job rows. Either all
of that commits or none of it does, so there is never a debit without its jobs, a job without its
debit, or a rejected request that consumed credits or rate-limit budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import InstrumentedAttribute

from videostudio.accounts import service as accounts
from videostudio.accounts.cache import CachedAccount
from videostudio.accounts.models import Account, ApiKey
from videostudio.assets import service as assets
from videostudio.assets.models import ASSET_SCHEME, Asset
from videostudio.assets.upload import receive_upload
from videostudio.billing import ratelimit
from videostudio.billing import service as billing
from videostudio.catalog import rules
from videostudio.catalog.requests import GenerateRequest
from videostudio.catalog.spec import ModelSpec
from videostudio.context import AppContext
from videostudio.db import utcnow
from videostudio.errors import INSUFFICIENT_CREDITS, RATE_LIMITED, UNKNOWN_MODEL, APIError
from videostudio.jobs import service as jobs
from videostudio.jobs.models import COMPLETED, FAILED, PENDING, PROCESSING, Job
from videostudio.jobs.schemas import iso
from videostudio.media.storage import FOLDERS

GENERATE_SCOPE = "generate"
UPLOAD_SCOPE = "upload"


@dataclass(frozen=True)
class Submission:
    job_ids: list[str]
    balance: int
    validated: rules.ValidatedRequest


def resolve_model(ctx: AppContext, slug: str) -> ModelSpec:
    model = ctx.catalog.get(slug)
    if model is None:
        raise APIError(404, UNKNOWN_MODEL, code="unknown_model", field="model_slug")
    return model


async def quote(
    ctx: AppContext, account: CachedAccount, request: GenerateRequest
) -> rules.ValidatedRequest:
    """Validate and price a request exactly as ``submit_generation`` would, without charging."""
    if request.batch_size > ctx.settings.max_batch_size:
        raise APIError(
            400,
            f"batch_size must be at most {ctx.settings.max_batch_size}",
            code="invalid_batch_size",
            field="batch_size",
        )
    validated = rules.validate(ctx.catalog, resolve_model(ctx, request.model_slug), request)
    await check_asset_refs(ctx, account, validated)
    return validated


async def check_asset_refs(
    ctx: AppContext, account: CachedAccount, validated: rules.ValidatedRequest
) -> None:
    """Every ``asset://`` input must be one of the account's own assets, of the kind its field
    takes; another account's ID is answered exactly like an unknown one."""
    refs = [
        (label, ref, validated.model.inputs[name].kind)
        for name, label, ref in rules.input_refs(validated.params["inputs"])
        if ref.startswith(ASSET_SCHEME)
    ]
    if not refs:
        return
    found = await assets.find_many(ctx.db, account.id, [ref for _, ref, _ in refs])
    for label, ref, kind in refs:
        asset = found.get(ref)
        if asset is None:
            raise APIError(400, f"{label}: {ref} was not found", code="unknown_asset", field=label)
        if asset.kind != kind:
            raise APIError(
                400,
                f"{label}: {ref} is {_a(asset.kind)}, but this field takes {_a(kind)}",
                code="wrong_asset_kind",
                field=label,
            )


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


async def submit_generation(
    ctx: AppContext, account: CachedAccount, request: GenerateRequest, *, source: str = "studio"
) -> Submission:
    """Create the jobs of one generate request and charge for them atomically."""
    validated = await quote(ctx, account, request)
    provider, provider_model = ctx.providers.route(validated.model)
    job_ids = [str(uuid.uuid4()) for _ in range(request.batch_size)]
    params = dict(validated.params)
    if provider_model:
        params["provider_model"] = provider_model
    try:
        async with ctx.db.hot.transaction() as tx:
            await ratelimit.hit(
                tx,
                account_id=account.id,
                scope=GENERATE_SCOPE,
                limit=ctx.settings.rate_limit_generate_per_hour,
            )
            charges = [
                billing.JobCharge(job_id, validated.quote.price_per_job) for job_id in job_ids
            ]
            balance = await billing.debit(tx, account_id=account.id, charges=charges)
            await jobs.insert_pending(
                tx,
                job_ids=job_ids,
                account_id=account.id,
                model_slug=validated.model.slug,
                mode=validated.mode,
                source=source,
                params=params,
                provider=provider.name,
                price_per_job=validated.quote.price_per_job,
                directory_discount=validated.quote.discount,
            )
    except billing.InsufficientCredits as exc:
        raise APIError(
            402,
            INSUFFICIENT_CREDITS,
            code="insufficient_credits",
            extra={"credits_required": exc.required, "credits_available": exc.available},
        ) from exc
    except ratelimit.RateLimited as exc:
        raise rate_limited(exc) from exc
    ctx.notify_worker()
    return Submission(job_ids=job_ids, balance=balance, validated=validated)


def rate_limited(exc: ratelimit.RateLimited) -> APIError:
    return APIError(
        429,
        RATE_LIMITED,
        code="rate_limited",
        extra={"limit_per_hour": exc.limit, "retry_after_seconds": exc.retry_after},
        headers={"Retry-After": str(exc.retry_after)},
    )


async def upload_asset(ctx: AppContext, account: CachedAccount, request: Request) -> assets.Created:
    """Count the upload against the account's hourly budget (before a byte of the body is read:
    disk and decoding time are what the limit protects), then receive, check and store it."""
    try:
        async with ctx.db.hot.transaction() as tx:
            await ratelimit.hit(
                tx,
                account_id=account.id,
                scope=UPLOAD_SCOPE,
                limit=ctx.settings.rate_limit_uploads_per_hour,
            )
    except ratelimit.RateLimited as exc:
        raise rate_limited(exc) from exc
    limits = ctx.media_limits
    received = await receive_upload(
        request,
        ctx.storage.staging_path(".upload"),
        caps={kind: limits.for_kind(kind).max_bytes for kind in ("image", "video", "audio")},
        default_cap=limits.largest_max_bytes,
    )
    return await assets.create_from_upload(ctx, account.id, received)


@dataclass(frozen=True)
class PriceQuote:
    validated: rules.ValidatedRequest
    balance: int


async def price_quote(
    ctx: AppContext, account: CachedAccount, request: GenerateRequest
) -> PriceQuote:
    """What ``request`` would cost and whether the account can afford it now; charges nothing and
    counts nothing against the rate limit."""
    validated = await quote(ctx, account, request)
    async with ctx.db.read() as session:
        balance = await billing.balance_of(session, account.id)
    return PriceQuote(validated=validated, balance=balance)


@dataclass(frozen=True)
class CreatedAccount:
    account: Account
    api_key: str
    balance: int


async def create_account_with_key(
    ctx: AppContext, *, name: str, credits: int, is_operator: bool = False
) -> CreatedAccount:
    """An account, its first API key and its starting credits, in one transaction."""
    async with ctx.db.write() as session:
        account = await accounts.create_account(session, name=name, is_operator=is_operator)
        new_key = await accounts.create_key(session, account_id=account.id)
        balance = 0
        if credits:
            balance = await billing.grant(
                session, account_id=account.id, amount=credits, reason="starting credits"
            )
    return CreatedAccount(account=account, api_key=new_key.secret, balance=balance)


async def ensure_operator(ctx: AppContext) -> CreatedAccount | None:
    """On first start with an empty database, create the operator account (once, ever)."""
    async with ctx.db.read() as session:
        if await accounts.count_accounts(session):
            return None
    try:
        return await create_account_with_key(
            ctx, name="operator", credits=ctx.settings.starter_credits, is_operator=True
        )
    except accounts.AccountExists:
        return None  # another process won the race


async def revoke_key(ctx: AppContext, key_id: str) -> ApiKey | None:
    """Revoke a key; this process stops accepting it at once, others within the auth cache TTL."""
    async with ctx.db.write() as session:
        key = await accounts.revoke_key(session, key_id=key_id)
    if key is not None:
        ctx.auth_cache.invalidate(key.key_hash)
    return key


@dataclass
class PruneReport:
    """What ``prune_media`` removed (or, in a dry run, would remove)."""

    expired_jobs: int = 0
    expired_assets: int = 0
    files: int = 0
    bytes: int = 0
    orphan_files: int = 0
    temporary_files: int = 0
    dry_run: bool = False


ORPHAN_GRACE_SECONDS = 24 * 3600
PRUNE_BATCH = 500


async def prune_media(
    ctx: AppContext,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> PruneReport:
    """Delete result files of jobs older than ``RESULT_RETENTION_DAYS``, assets older than
    ``ASSET_RETENTION_DAYS`` (0 keeps them), files no job or asset references (older than a
    day, e.g. from a crash between writing a file and recording it) and stale partial files.

    A pruned job keeps its row, its money and its history entry; its ``result_urls`` become
    empty and ``provider_meta.media_expired_at`` says when and why. The database is updated
    before a file is deleted, so a URL is never handed out for a file that is gone."""
    now = now or utcnow()
    report = PruneReport(dry_run=dry_run)
    step = on_step or (lambda _: None)
    settings = ctx.settings
    if settings.result_retention_days > 0:
        step("expired results")
        cutoff = now - timedelta(days=settings.result_retention_days)
        await _prune_results(ctx, cutoff, now, report)
    if settings.asset_retention_days > 0:
        step("expired assets")
        cutoff = now - timedelta(days=settings.asset_retention_days)
        await _prune_assets(ctx, cutoff, report)
    step("unreferenced files")
    await _prune_orphans(ctx, now.timestamp() - ORPHAN_GRACE_SECONDS, report)
    if not dry_run:
        step("partial files")
        report.temporary_files = ctx.storage.sweep_temporary(older_than_seconds=3600)
    return report


def _past(
    moment: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    key: InstrumentedAttribute[str],
    after: tuple[datetime | None, str],
) -> ColumnElement[bool]:
    """Keyset pagination: rows ordered by (moment, key) strictly after ``after``."""
    return (moment > after[0]) | ((moment == after[0]) & (key > after[1]))


async def _prune_results(
    ctx: AppContext, cutoff: datetime, now: datetime, report: PruneReport
) -> None:
    after: tuple[datetime, str] | None = None
    while True:
        query = (
            select(
                Job.id,
                Job.completed_at,
                Job.result_keys,
                Job.last_frame_key,
                Job.thumbnail_key,
                Job.provider_meta,
            )
            .where(Job.status.in_((COMPLETED, FAILED)), Job.completed_at < cutoff)
            .order_by(Job.completed_at, Job.id)
            .limit(PRUNE_BATCH)
        )
        if after is not None:
            query = query.where(_past(Job.completed_at, Job.id, after))
        async with ctx.db.read() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            return
        after = (rows[-1].completed_at, rows[-1].id)
        for row in rows:
            keys = [*row.result_keys, row.last_frame_key, row.thumbnail_key]
            keys = [key for key in keys if key]
            if not keys:
                continue
            report.expired_jobs += 1
            if not report.dry_run:
                meta = {**(row.provider_meta or {}), "media_expired_at": iso(now)}
                async with ctx.db.write() as session:
                    await session.execute(
                        update(Job)
                        .where(Job.id == row.id)
                        .values(
                            result_keys=[],
                            last_frame_key=None,
                            thumbnail_key=None,
                            provider_meta=meta,
                            updated_at=now,
                        )
                    )
            for key in keys:
                _remove_file(ctx, key, report)


async def _prune_assets(ctx: AppContext, cutoff: datetime, report: PruneReport) -> None:
    in_use = await _assets_in_use(ctx)
    after: tuple[datetime, str] | None = None
    while True:
        query = (
            select(Asset)
            .where(Asset.created_at < cutoff)
            .order_by(Asset.created_at, Asset.id)
            .limit(PRUNE_BATCH)
        )
        if after is not None:
            query = query.where(_past(Asset.created_at, Asset.id, after))
        async with ctx.db.read() as session:
            expired = list(await session.scalars(query))
        if not expired:
            return
        after = (expired[-1].created_at, expired[-1].id)
        for asset in expired:
            if asset.ref in in_use:
                continue  # a queued job still needs it; the next prune will take it
            report.expired_assets += 1
            if not report.dry_run:
                async with ctx.db.write() as session:
                    await session.execute(delete(Asset).where(Asset.id == asset.id))
            _remove_file(ctx, asset.storage_key, report)


async def _assets_in_use(ctx: AppContext) -> set[str]:
    """``asset://`` IDs referenced by jobs that have not finished."""
    refs: set[str] = set()
    async with ctx.db.read() as session:
        rows = await session.stream(select(Job.params).where(Job.status.in_((PENDING, PROCESSING))))
        async for (params,) in rows:
            for _, _, ref in rules.input_refs((params or {}).get("inputs") or {}):
                if ref.startswith(ASSET_SCHEME):
                    refs.add(ref)
    return refs


async def _prune_orphans(ctx: AppContext, older_than: float, report: PruneReport) -> None:
    referenced: set[str] = set()
    async with ctx.db.read() as session:
        jobs_rows = await session.stream(
            select(Job.result_keys, Job.last_frame_key, Job.thumbnail_key)
        )
        async for result_keys, last_frame_key, thumbnail_key in jobs_rows:
            referenced.update(result_keys)
            referenced.update(key for key in (last_frame_key, thumbnail_key) if key)
        assets_rows = await session.stream(select(Asset.storage_key))
        async for (key,) in assets_rows:
            referenced.add(key)
    for folder in FOLDERS:
        for stored in list(ctx.storage.iter_files(folder)):
            if stored.key not in referenced and stored.modified < older_than:
                report.orphan_files += 1
                _remove_file(ctx, stored.key, report)


def _remove_file(ctx: AppContext, key: str, report: PruneReport) -> None:
    if report.dry_run:
        path = ctx.storage.local_path(key)
        freed = path.stat().st_size if path else 0
    else:
        freed = ctx.storage.delete(key)
    if freed:
        report.files += 1
        report.bytes += freed
