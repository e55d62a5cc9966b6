"""Absolute URLs for files the service serves."""

from __future__ import annotations

from fastapi import Request

from videostudio.context import AppContext

MEDIA_PREFIX = "/media/"


def media_base(ctx: AppContext, request: Request) -> str:
    """``PUBLIC_BASE_URL`` (or the request's own origin) followed by ``/media/``."""
    origin = ctx.settings.public_base_url or str(request.base_url).rstrip("/")
    return origin + MEDIA_PREFIX
