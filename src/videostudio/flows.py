"""Cross-domain orchestration, in one visible place.

``submit_generation`` is the path money takes: validate against the catalog, price, then in ONE
write transaction count the rate limit, debit the whole batch and insert the job rows. Either all
of that commits or none of it does, so there is never a debit without its jobs, a job without its
debit, or a rejected request that consumed credits or rate-limit budget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from videostudio.accounts import service as accounts
from videostudio.accounts.cache import CachedAccount
from videostudio.accounts.models import Account, ApiKey
from videostudio.billing import ratelimit
from videostudio.billing import service as billing
from videostudio.catalog import rules
from videostudio.catalog.requests import GenerateRequest
from videostudio.catalog.spec import ModelSpec
from videostudio.context import AppContext
from videostudio.errors import INSUFFICIENT_CREDITS, RATE_LIMITED, UNKNOWN_MODEL, APIError
from videostudio.jobs import service as jobs

GENERATE_SCOPE = "generate"


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
    return rules.validate(ctx.catalog, resolve_model(ctx, request.model_slug), request)


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
        raise APIError(
            429,
            RATE_LIMITED,
            code="rate_limited",
            extra={"limit_per_hour": exc.limit, "retry_after_seconds": exc.retry_after},
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc
    ctx.notify_worker()
    return Submission(job_ids=job_ids, balance=balance, validated=validated)


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
