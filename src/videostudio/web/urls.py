"""Absolute URLs for files the service serves."""

from __future__ import annotations

from fastapi import Request

from videostudio.context import AppContext

MEDIA_PREFIX = "/media/"


def media_base(ctx: AppContext, request: Request) -> str:
    """``PUBLIC_BASE_URL`` (or the request's own origin) followed by ``/media/``."""
    if ctx.settings.public_base_url:
        return ctx.settings.public_base_url + MEDIA_PREFIX
    # The request's own origin, read straight from the ASGI scope (cheaper than request.base_url).
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}{MEDIA_PREFIX}"
