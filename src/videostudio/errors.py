"""The one error shape of the API: ``{"success": false, "error": "...", "code", "field"}``.

Services raise ``APIError``; the web layer turns it (and every framework error: bad JSON, wrong
types, unknown routes, oversized bodies) into that envelope with the contract's HTTP code. The
``error`` texts the contract defines are kept verbatim here so they cannot drift.
"""

from __future__ import annotations

from typing import Any

INVALID_DURATION = "Invalid duration for this model"
INSUFFICIENT_CREDITS = "Insufficient credits"
UNKNOWN_MODEL = "Unknown model slug"
JOB_NOT_FOUND = "Job not found"
RATE_LIMITED = "Rate limit exceeded"


class APIError(Exception):
    """An error answered to the client in the documented envelope."""

    def __init__(
        self,
        status_code: int,
        error: str,
        *,
        code: str,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.code = code
        self.field = field
        self.extra = extra or {}
        self.headers = headers

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"success": False, "error": self.error, "code": self.code}
        if self.field is not None:
            payload["field"] = self.field
        payload.update(self.extra)
        return payload


def bad_request(error: str, *, field: str | None = None, code: str = "invalid_request") -> APIError:
    return APIError(400, error, code=code, field=field)


def not_found(error: str, *, code: str = "not_found") -> APIError:
    return APIError(404, error, code=code)
