"""Serving result files and assets. URLs are capabilities (unguessable keys), so no API key is
needed and a browser's ``<video src>`` just works; responses support Range requests for seeking.
``nosniff`` keeps a browser from reinterpreting a file as anything but its decoded type."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from videostudio.errors import APIError
from videostudio.web.deps import context
from videostudio.web.responses import ErrorResponse

router = APIRouter(tags=["media"])
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
}


@router.head("/media/{key:path}", include_in_schema=False)
@router.get(
    "/media/{key:path}",
    summary="Download a generated file (no key needed: the URL is the capability)",
    response_class=FileResponse,
    responses={404: {"model": ErrorResponse}},
)
async def media(key: str, request: Request) -> FileResponse:
    path = context(request).storage.local_path(key)
    if path is None:
        raise APIError(404, "File not found", code="not_found")
    return FileResponse(
        path,
        media_type=CONTENT_TYPES.get(path.suffix.lstrip("."), "application/octet-stream"),
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
