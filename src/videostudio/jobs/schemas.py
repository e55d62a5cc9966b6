"""Response shapes of the job endpoints (documented in OpenAPI) and the job serialiser.

``job_payload`` builds plain dicts directly: it is on the status-poll hot path, and the Pydantic
models here exist to document the shape, with a test asserting the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from videostudio.jobs.models import Job

JobStatus = Literal["pending", "processing", "completed", "failed"]


class JobOut(BaseModel):
    job_id: str
    model_slug: str
    mode: str
    status: JobStatus
    progress: int
    result_urls: list[str]
    last_frame_url: str | None
    thumbnail_url: str | None
    credits_charged: int
    credits_refunded: bool
    directory_discount_applied: int
    provider_meta: dict[str, Any]
    error_message: str | None
    created_at: str
    started_at: str | None
    completed_at: str | None


class StatusResponse(BaseModel):
    success: Literal[True] = True
    job: JobOut


class Pagination(BaseModel):
    limit: int
    offset: int
    page: int
    total: int
    has_more: bool
    next_offset: int | None


def start_offset(limit: int, offset: int | None, page: int | None) -> int:
    """``offset`` if given, else the first row of ``page`` (1-based), else 0."""
    if offset is not None:
        return offset
    return (page - 1) * limit if page else 0


def pagination_payload(*, limit: int, offset: int, returned: int, total: int) -> dict[str, Any]:
    """The ``pagination`` object of a listing that returned ``returned`` rows from ``offset``."""
    has_more = offset + returned < total
    return {
        "limit": limit,
        "offset": offset,
        "page": offset // limit + 1,
        "total": total,
        "has_more": has_more,
        "next_offset": offset + returned if has_more else None,
    }


class HistoryResponse(BaseModel):
    success: Literal[True] = True
    jobs: list[JobOut]
    pagination: Pagination


class GenerateResponse(BaseModel):
    success: Literal[True] = True
    job_ids: list[str]
    credits_remaining_total: int
    credits_charged: int
    directory_discount_applied: int


class QuoteOut(BaseModel):
    model_slug: str
    mode: str
    batch_size: int
    unit_price: int
    directory_discount_applied: int
    price_per_job: int
    credits_required: int
    credits_available: int
    sufficient_credits: bool
    params: dict[str, Any]


class QuoteResponse(BaseModel):
    success: Literal[True] = True
    quote: QuoteOut


class LegacyData(BaseModel):
    generation_id: str
    status: str
    generation_type: Literal["video"] = "video"
    video_model: str
    credits_used: int
    credits_remaining: int
    mode: str
    message: str
    model_slug: str
    status_url: str


class LegacyResponse(BaseModel):
    success: Literal[True] = True
    data: LegacyData


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="microseconds") if value is not None else None


def job_columns(job: Job) -> dict[str, Any]:
    """An ORM job as the column mapping ``job_payload`` takes."""
    return {column.key: getattr(job, column.key) for column in Job.__table__.columns}


def job_payload(job: Mapping[str, Any], media_base: str) -> dict[str, Any]:
    """The contract's job object from a job's columns; ``media_base`` is origin + ``/media/``."""
    return {
        "job_id": job["id"],
        "model_slug": job["model_slug"],
        "mode": job["mode"],
        "status": job["status"],
        "progress": job["progress"],
        "result_urls": [media_base + key for key in job["result_keys"]],
        "last_frame_url": media_base + job["last_frame_key"] if job["last_frame_key"] else None,
        "thumbnail_url": media_base + job["thumbnail_key"] if job["thumbnail_key"] else None,
        "credits_charged": job["credits_charged"],
        "credits_refunded": job["credits_refunded"],
        "directory_discount_applied": job["directory_discount"],
        "provider_meta": job["provider_meta"],
        "error_message": job["error_message"],
        "created_at": iso(job["created_at"]),
        "started_at": iso(job["started_at"]),
        "completed_at": iso(job["completed_at"]),
    }
