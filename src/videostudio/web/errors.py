"""Turning every failure into the documented envelope, and keeping bodies within limits.

No request can produce a bare framework error or a 500 with a stack trace: ``APIError`` carries its
own code; framework errors (unknown route, wrong method, malformed or oversized body) are mapped
here; anything unexpected is logged and answered as a 500 envelope without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videostudio.errors import APIError
from videostudio.web.responses import APIResponse

log = logging.getLogger("videostudio.web")

HTTP_TEXTS = {
    401: "Invalid or missing API key",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}


class BodyTooLarge(Exception):
    pass


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def describe_validation_error(errors: list[Any]) -> tuple[str, str | None]:
    """A one-line, human message and the field for the first of Pydantic's errors."""
    first = errors[0]
    kind = first.get("type", "")
    field = _field(tuple(first.get("loc", ())))
    if kind == "json_invalid":
        return "Malformed JSON body", None
    if not field or kind in ("model_type", "model_attributes_type", "dict_type"):
        return "Request body must be a JSON object", None
    messages = {
        "missing": f"{field} is required",
        "extra_forbidden": f"Unknown field: {field}",
        "int_type": f"{field} must be an integer",
        "int_parsing": f"{field} must be an integer",
        "int_from_float": f"{field} must be a whole number",
        "bool_type": f"{field} must be a boolean",
        "bool_parsing": f"{field} must be a boolean",
        "string_type": f"{field} must be a string",
        "list_type": f"{field} must be an array",
    }
    if kind in messages:
        return messages[kind], field
    ctx = first.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"{field} must be at least {ctx.get('ge')}", field
    if kind == "less_than_equal":
        return f"{field} must be at most {ctx.get('le')}", field
    if kind == "too_long":
        return f"{field} accepts at most {ctx.get('max_length')} entries", field
    return f"{field}: {first.get('msg', 'invalid value')}", field


def validation_api_error(exc: ValidationError | RequestValidationError) -> APIError:
    message, field = describe_validation_error(list(exc.errors()))
    return APIError(400, message, code="invalid_request", field=field)


def error_response(error: APIError) -> APIResponse:
    return APIResponse(error.body(), status_code=error.status_code, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_request: Request, exc: Exception) -> APIResponse:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> APIResponse:
        assert isinstance(exc, RequestValidationError | ValidationError)
        return error_response(validation_api_error(exc))

    async def on_http(_request: Request, exc: Exception) -> APIResponse:
        assert isinstance(exc, StarletteHTTPException)
        text = HTTP_TEXTS.get(exc.status_code) or str(exc.detail)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(APIError(exc.status_code, text, code=code, headers=headers))

    async def on_too_large(_request: Request, _exc: Exception) -> APIResponse:
        return error_response(APIError(413, HTTP_TEXTS[413], code="body_too_large"))

    async def on_unexpected(_request: Request, exc: Exception) -> APIResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(APIError(500, "Internal server error", code="internal_error"))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(Exception, on_unexpected)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (413) without reading them into memory first."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, exempt: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = set(exempt)  # (method, path) pairs that enforce their own limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    response = error_response(APIError(413, HTTP_TEXTS[413], code="body_too_large"))
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)
