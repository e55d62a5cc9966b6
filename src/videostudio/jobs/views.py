"""Generate, status, history and the legacy generate endpoint. Thin: parse, call, shape."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request

from videostudio import flows
from videostudio.catalog.requests import GenerateRequest, LegacyGenerateRequest
from videostudio.catalog.spec import SLUG_PATTERN
from videostudio.errors import JOB_NOT_FOUND, APIError
from videostudio.jobs import service
from videostudio.jobs.models import STATUSES
from videostudio.jobs.schemas import (
    GenerateResponse,
    HistoryResponse,
    LegacyResponse,
    QuoteResponse,
    StatusResponse,
    job_payload,
    pagination_payload,
    start_offset,
)
from videostudio.web.deps import authenticated, json_body, json_body_openapi
from videostudio.web.responses import APIResponse, errors
from videostudio.web.urls import media_base

router = APIRouter(tags=["video-studio"])
JOB_ID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
SLUG_RE = re.compile(SLUG_PATTERN)


CREATE_ERRORS = errors(400, 401, 402, 404, 413, 429)


@router.post(
    "/api/v1/video-studio/generate/",
    summary="Create video generation jobs",
    response_model=GenerateResponse,
    responses=CREATE_ERRORS,
    openapi_extra=json_body_openapi(GenerateRequest),
)
async def generate(request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    body = await json_body(request, GenerateRequest)
    submission = await flows.submit_generation(ctx, account, body)
    quote = submission.validated.quote
    return APIResponse(
        {
            "success": True,
            "job_ids": submission.job_ids,
            "credits_remaining_total": submission.balance,
            "credits_charged": quote.total,
            "directory_discount_applied": quote.discount,
        }
    )


@router.post(
    "/api/v1/video-studio/quote/",
    summary="Price a generate request without charging",
    response_model=QuoteResponse,
    responses=errors(400, 401, 404, 413),
    openapi_extra=json_body_openapi(GenerateRequest),
)
async def quote(request: Request) -> APIResponse:
    """Validates exactly as generate does; never charges and never counts against the rate
    limit, so clients can show a price before the user commits."""
    ctx, account = await authenticated(request)
    body = await json_body(request, GenerateRequest)
    priced = await flows.price_quote(ctx, account, body)
    validated = priced.validated
    price = validated.quote
    return APIResponse(
        {
            "success": True,
            "quote": {
                "model_slug": validated.model.slug,
                "mode": validated.mode,
                "batch_size": price.batch_size,
                "unit_price": price.unit_price,
                "directory_discount_applied": price.discount,
                "price_per_job": price.price_per_job,
                "credits_required": price.total,
                "credits_available": priced.balance,
                "sufficient_credits": priced.balance >= price.total,
                "params": {k: v for k, v in validated.params.items() if k != "inputs"},
            },
        }
    )


@router.get(
    "/api/v1/video-studio/status/{job_id}/",
    summary="Poll one job",
    response_model=StatusResponse,
    responses=errors(401, 404),
)
async def status(job_id: str, request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    # Job ids are UUIDs; anything else cannot exist (and must not reach the database as is).
    job = None
    if JOB_ID_RE.match(job_id):
        job = await service.get_for_account(ctx.db, job_id=job_id, account_id=account.id)
    if job is None:
        raise APIError(404, JOB_NOT_FOUND, code="job_not_found")
    return APIResponse({"success": True, "job": job_payload(job, media_base(ctx, request))})


@router.get(
    "/api/v1/video-studio/history/",
    summary="List recent jobs, newest first",
    response_model=HistoryResponse,
    responses=errors(400, 401),
)
async def history(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=service.MAX_HISTORY_LIMIT)] = 20,
    offset: Annotated[int | None, Query(ge=0, le=service.MAX_HISTORY_OFFSET)] = None,
    page: Annotated[
        int | None, Query(ge=1, le=service.MAX_HISTORY_OFFSET // service.MAX_HISTORY_LIMIT)
    ] = None,
    status: Annotated[str | None, Query(description="pending|processing|completed|failed")] = None,
    model_slug: Annotated[str | None, Query()] = None,
) -> APIResponse:
    ctx, account = await authenticated(request)
    status = status or None
    model_slug = model_slug or None
    if model_slug is not None and not SLUG_RE.match(model_slug):
        raise APIError(400, "Invalid model_slug filter", code="invalid_request", field="model_slug")
    if status is not None and status not in STATUSES:
        raise APIError(
            400,
            f"status must be one of {', '.join(STATUSES)}",
            code="invalid_request",
            field="status",
        )
    offset = start_offset(limit, offset, page)
    result = await service.history(
        ctx.db,
        account_id=account.id,
        limit=limit,
        offset=offset,
        status=status,
        model_slug=model_slug,
    )
    base = media_base(ctx, request)
    return APIResponse(
        {
            "success": True,
            "jobs": [job_payload(job, base) for job in result.jobs],
            "pagination": pagination_payload(
                limit=limit, offset=offset, returned=len(result.jobs), total=result.total
            ),
        }
    )


def legacy_names(error: APIError, *, slug: str, video_model: str) -> APIError:
    """Name fields and the model in an error as the legacy client sent them."""
    error.error = re.sub(rf"\b{re.escape(slug)}\b", video_model, error.error)
    for new, old in LegacyGenerateRequest.LEGACY_NAMES.items():
        error.error = error.error.replace(new, old)
        if error.field is not None:
            error.field = error.field.replace(new, old)
    return error


@router.post(
    "/api/v1/generate/video/",
    summary="Legacy video generation (compatibility mapping)",
    tags=["legacy"],
    response_model=LegacyResponse,
    responses=CREATE_ERRORS,
    openapi_extra=json_body_openapi(LegacyGenerateRequest),
)
async def legacy_generate(request: Request) -> APIResponse:
    ctx, account = await authenticated(request)
    body = await json_body(request, LegacyGenerateRequest)
    model = ctx.catalog.legacy_model(body.video_model)
    if model is None:
        raise APIError(
            404,
            f"Unknown video_model for this endpoint: {body.video_model}",
            code="unknown_model",
            field="video_model",
        )
    try:
        submission = await flows.submit_generation(
            ctx, account, body.to_generate_request(model.slug), source="legacy"
        )
    except APIError as exc:
        raise legacy_names(exc, slug=model.slug, video_model=body.video_model) from exc
    return APIResponse(
        {
            "success": True,
            "data": {
                "generation_id": submission.job_ids[0],
                "status": "pending",
                "generation_type": "video",
                "video_model": body.video_model,
                "model_slug": model.slug,
                "credits_used": submission.validated.quote.total,
                "credits_remaining": submission.balance,
                "mode": submission.validated.mode.replace("_", "-"),
                "message": "Video generation started successfully",
                "status_url": f"/api/v1/video-studio/status/{submission.job_ids[0]}/",
            },
        }
    )
