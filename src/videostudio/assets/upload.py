"""Receiving one multipart upload straight to disk, with a byte cap enforced while it streams.

Frameworks usually parse a whole form before the view runs (spooling big files to disk, but still
reading every byte the client sends). Here the request body is fed chunk by chunk to
``python-multipart``'s incremental parser: the file part goes to a staging file while its SHA-256
is computed, and the moment it passes the cap the request is answered 413 and nothing more is
read. Memory use is one chunk, whatever the client sends. The view checks ``Content-Length``
first, so an honest client declaring a huge body is refused before a single byte is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from videostudio.errors import APIError

TYPE_VALUES = ("image", "video", "audio")
MAX_FIELD_BYTES = 64
MAX_PARTS = 4
MAX_HEADER_BYTES = 2048  # per part: Content-Disposition and Content-Type fit easily
CONTROL_CHARS = dict.fromkeys(range(32)) | {127: None}
# Headers, boundaries and the small fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


@dataclass
class ReceivedUpload:
    path: Path
    bytes: int = 0
    sha256: str = ""
    filename: str | None = None
    declared_type: str | None = None


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    name: str | None = None
    value: bytearray = field(default_factory=bytearray)


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


class _UploadParser:
    """Callbacks for ``MultipartParser``; raise ``APIError`` to stop the upload."""

    def __init__(self, staging: Path, caps: dict[str, int], default_cap: int) -> None:
        self.result = ReceivedUpload(path=staging)
        self.caps = caps
        self.cap = default_cap
        self.part = _Part()
        self.file: IO[bytes] | None = None
        self.digest = hashlib.sha256()
        self.seen_file = False
        self.file_done = False
        self.parts = 0
        self.header_bytes = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise APIError(
                400,
                "Too many form fields: send 'file' and, optionally, 'type'",
                code="invalid_request",
            )
        self.part = _Part()

    def _header_room(self, added: int) -> None:
        self.header_bytes += added
        if self.header_bytes > MAX_HEADER_BYTES:
            raise APIError(400, "Form part headers are too long", code="invalid_request")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_room(end - start)
        self.part.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_room(end - start)
        self.part.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.part.header_field.decode("latin-1").strip().lower()
        # Latin-1 round-trips every byte; the filename's UTF-8 is decoded once parsed.
        self.part.headers[name] = self.part.header_value.decode("latin-1")
        self.part.header_field.clear()
        self.part.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self.part.name = name
        if name == "file":
            if self.seen_file:
                raise APIError(
                    400, "Send exactly one file per upload", code="invalid_request", field="file"
                )
            self.seen_file = True
            filename = options.get(b"filename")
            if filename:
                clean = filename.decode("utf-8", "replace").translate(CONTROL_CHARS)
                self.result.filename = clean[:255] or None
            self.file = self.result.path.open("wb")
        elif name != "type":
            raise APIError(
                400,
                f"Unknown form field {name!r}: send 'file' and, optionally, 'type'",
                code="invalid_request",
                field=name or None,
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.name == "file" and self.file is not None:
            self.result.bytes += len(chunk)
            if self.result.bytes > self.cap:
                raise APIError(
                    413,
                    f"File is larger than the {_megabytes(self.cap)} upload limit",
                    code="too_large",
                    field="file",
                )
            self.digest.update(chunk)
            self.file.write(chunk)
        else:
            self.part.value += chunk
            if len(self.part.value) > MAX_FIELD_BYTES:
                raise APIError(
                    400,
                    f"Form field {self.part.name!r} is too long",
                    code="invalid_request",
                    field=self.part.name,
                )

    def on_part_end(self) -> None:
        if self.part.name == "file" and self.file is not None:
            self.file.close()
            self.file = None
            self.file_done = True
        elif self.part.name == "type":
            value = self.part.value.decode("utf-8", "replace").strip().lower()
            if value:
                if value not in TYPE_VALUES:
                    raise APIError(
                        400, "type must be image, video or audio", field="type", code="invalid_type"
                    )
                self.result.declared_type = value
                if not self.seen_file:  # a declared type known before the file tightens the cap
                    self.cap = min(self.cap, self.caps[value])

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def receive_upload(
    request: Request, staging: Path, *, caps: dict[str, int], default_cap: int
) -> ReceivedUpload:
    """Stream the request's multipart body; the file lands at ``staging``.

    ``caps`` maps a declared ``type`` to its byte limit; ``default_cap`` applies otherwise. On any
    error the staging file is removed and an ``APIError`` (400 or 413) is raised.
    """
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise APIError(
            400,
            "Upload with Content-Type multipart/form-data and a 'file' field",
            code="invalid_request",
            field="file",
        )
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > default_cap + (FORM_OVERHEAD_BYTES)
    ):
        raise APIError(
            413,
            f"File is larger than the {_megabytes(default_cap)} upload limit",
            code="too_large",
            field="file",
        )
    handler = _UploadParser(staging, caps, default_cap)
    try:
        await _parse(request, boundary, handler)
    except BaseException:
        handler.close()
        _remove(staging)
        raise
    handler.result.sha256 = handler.digest.hexdigest()
    return handler.result


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _parse(request: Request, boundary: bytes, handler: _UploadParser) -> None:
    callbacks = {
        name: getattr(handler, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    budget = handler.cap + FORM_OVERHEAD_BYTES  # the file plus small fields, however sent
    received = 0
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in request.stream():
            received += len(chunk)
            if received > budget:
                raise APIError(
                    413,
                    f"File is larger than the {_megabytes(handler.cap)} upload limit",
                    code="too_large",
                    field="file",
                )
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except (FormParserError, UnicodeError):
        raise APIError(400, "Malformed multipart body", code="invalid_request") from None
    except ClientDisconnect:
        raise APIError(400, "The upload was interrupted", code="upload_interrupted") from None
    handler.close()
    result = handler.result
    if not handler.file_done:
        raise APIError(
            400, "No file received: send it in a 'file' field", code="invalid_request", field="file"
        )
    if result.bytes == 0:
        raise APIError(400, "The uploaded file is empty", code="empty_file", field="file")
    limit = handler.caps.get(result.declared_type or "", handler.cap)
    if result.bytes > limit:
        raise APIError(
            413,
            f"File is larger than the {_megabytes(limit)} {result.declared_type} limit",
            code="too_large",
            field="file",
        )
