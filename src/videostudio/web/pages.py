"""The developer docs page (``/docs/video-api/``), the Studio page (``/studio/``) and their static
files, served by the service itself.

Why the pages are rendered here rather than written by hand: everything a reader can act on comes
from the objects the API itself runs on, so the page cannot drift from the service it documents.

- The request-contract table is built from ``GenerateRequest`` (the model ``generate`` validates
  with): every field, its JSON type, its constraints and its description. Which models accept a
  field, and whether it is required, is read from the running catalog.
- The endpoint list is read from the application's own routes, so the page shows the quote and
  assets endpoints exactly when this build has them.
- The model selector, the request snippets and the response examples are built from
  ``model_payload`` (what ``/api/v1/models/video/`` answers) plus a *preset* per model: a request
  that ``rules.validate`` accepts, with the price ``rules.price`` gives it. The validation-error
  example is the error ``rules.validate`` really raises for a bad duration.

The docs page must work without an API key (it is public documentation), so the catalog travels
inside the page as a ``<script type="application/json">`` block and from the public, read-only
``/docs/video-api/models.json``; ``/api/v1/models/video/`` stays authenticated.

No Node build step: the pages are plain HTML, CSS and ES modules shipped as package data. Static
files are loaded into memory once, served with an ETag, gzip when asked for, and under a versioned
prefix (``/static/v-<hash>/...``) that browsers may cache forever: a new release changes the hash,
and relative module imports inherit the prefix. A strict Content-Security-Policy (scripts from this
origin only, no inline script) protects the API key the Studio keeps in ``localStorage``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from videostudio import __version__
from videostudio.catalog import rules
from videostudio.catalog.presenter import model_payload
from videostudio.catalog.requests import GenerateRequest
from videostudio.catalog.service import Catalog
from videostudio.catalog.spec import INPUT_FIELDS, URL_LIST_FIELDS, ModelSpec
from videostudio.context import AppContext
from videostudio.errors import INSUFFICIENT_CREDITS, APIError
from videostudio.jobs.schemas import GenerateResponse, JobOut
from videostudio.web.deps import context
from videostudio.web.responses import APIResponse

router = APIRouter(include_in_schema=False)

DOCS_PATH = "/docs/video-api/"
STUDIO_PATH = "/studio/"
MODELS_JSON_PATH = "/docs/video-api/models.json"
STATIC_PREFIX = "/static/"

# The API paths the pages call or document. ``features`` in the page data says which of the
# optional ones this build really routes (tests check the rest exist).
API_PATHS = {
    "generate": "/api/v1/video-studio/generate/",
    "quote": "/api/v1/video-studio/quote/",
    "status": "/api/v1/video-studio/status/{job_id}/",
    "history": "/api/v1/video-studio/history/",
    "models": "/api/v1/models/video/",
    "account": "/api/v1/account/",
    "assets": "/api/v1/assets/",
    "legacy": "/api/v1/generate/video/",
}

EXAMPLE_URLS = {
    "image": "https://example.com/your-image.jpg",
    "video": "https://example.com/your-video.mp4",
    "audio": "https://example.com/your-audio.mp3",
}
EXAMPLE_PROMPTS = {
    "image_to_video": "Slow push-in as the subject turns toward the camera, soft morning light",
    "video_to_video": "Restyle the clip as a hand-painted watercolour animation",
    "motion_control": "Follow the motion of the driving clip; keep the outfit and the face",
}
DEFAULT_PROMPT = "A lighthouse on a cliff at dawn, waves crashing, cinematic"
# Stable sample values for the response examples (real shapes, illustrative values).
SAMPLE_JOB_ID = "8990f846-f6f0-4ff1-a298-d0a72d49e7ad"
SAMPLE_BALANCE = 1000
SAMPLE_MEDIA_KEY = "results/tnVrT3sshiaqZU3tjsdvxCkpBlBYJ9nO"

# Notes for request fields that carry no description in ``GenerateRequest``. A field's own
# description always comes first; tests check every key here is a real field.
FIELD_NOTES = {
    "prompt": "Leading and trailing spaces are trimmed; limited to the model's prompt.max_length.",
    "input_image_urls": "Image inputs for image-to-video models. Some models require one.",
    "input_video_urls": (
        "Video inputs: the source clip of video remix models and the motion-driving clip of "
        "Motion Control."
    ),
    "first_frame_url": "Seedance 2 first-frame and first+last-frame modes.",
    "last_frame_url": "Seedance 2 first+last-frame mode.",
    "reference_image_urls": "Seedance 2 multimodal reference images.",
    "reference_video_urls": "Seedance 2 multimodal reference videos.",
    "reference_audio_urls": "Seedance 2 multimodal reference audio clips.",
    "start_frame_url": "Refuses aspect_ratio on models that list it in aspect_ratio_excludes.",
    "end_frame_url": "Refuses aspect_ratio on models that list it in aspect_ratio_excludes.",
    "sound": "Uses the model's sound rates where it has them.",
    "duration_seconds": "Default: the model's first allowed duration.",
    "aspect_ratio": "Default: the model's first aspect ratio.",
}
URL_NOTE = "Each value is an https:// URL or an asset:// ID."

# (HTTP status, code, meaning) as docs/api.md documents them; the codes are the API's own.
ERROR_TABLE = [
    (400, "invalid_request", "Malformed JSON, unknown field, wrong type, value out of range."),
    (400, "invalid_duration, invalid_aspect_ratio, ...", "The request does not suit the model."),
    (401, "unauthorized", "Missing, malformed, unknown or revoked API key."),
    (402, "insufficient_credits", "The balance does not cover the whole batch. Nothing charged."),
    (404, "unknown_model", "model_slug names no model (Unknown model slug)."),
    (404, "job_not_found", "No such job, or it belongs to another account."),
    (405, "method_not_allowed", "Wrong method on an existing path."),
    (413, "body_too_large", "The body is larger than the server's limit."),
    (429, "rate_limited", "Too many generate requests this hour; see Retry-After."),
    (500, "internal_error", "A bug or an unavailable database. Check history before retrying."),
]
RETRY_ADVICE = {
    400: "Fix the request",
    401: "Fix the key",
    402: "Add credits",
    404: "Fix the slug or id",
    405: "Fix the method",
    413: "Send less",
    429: "Retry after Retry-After",
    500: "Check history, then retry",
}

LIFECYCLE = [
    ("pending", "Accepted and charged, waiting for a worker."),
    ("processing", "A worker is rendering the job; progress moves from 0 to 99."),
    ("completed", "Final. job.result_urls holds the MP4 (progress 100)."),
    ("failed", "Final. job.error_message says why; the charge is refunded once."),
]


# --- static files ---------------------------------------------------------------------------


CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
COMPRESSIBLE = {".css", ".js", ".mjs", ".json", ".svg", ".webmanifest"}
VERSION_SEGMENT = re.compile(r"^v-[0-9a-f]{12}$")
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str


@dataclass(frozen=True)
class StaticBundle:
    files: dict[str, StaticFile]
    templates: dict[str, str]
    version: str

    def url(self, path: str) -> str:
        return f"{STATIC_PREFIX}v-{self.version}/{path}"


def _walk(root: Traversable, prefix: str = "") -> typing.Iterator[tuple[str, Traversable]]:
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry


@cache
def static_bundle() -> StaticBundle:
    """Every static file, read once per process (they are small: tens of kilobytes)."""
    root = resources.files("videostudio.web").joinpath("static")
    files: dict[str, StaticFile] = {}
    templates: dict[str, str] = {}
    overall = hashlib.sha256()
    for path, entry in _walk(root):
        body = entry.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        overall.update(f"{path}\0{digest}\0".encode())
        if path.startswith("templates/"):
            templates[path.removeprefix("templates/")] = body.decode("utf-8")
            continue
        suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
        if suffix not in CONTENT_TYPES:
            continue  # only known kinds are published (no READMEs, sources maps or stray files)
        compressed = gzip.compress(body, 9, mtime=0) if suffix in COMPRESSIBLE else None
        files[path] = StaticFile(
            body=body,
            gzipped=compressed if compressed and len(compressed) < len(body) else None,
            etag=f'"{digest[:32]}"',
            content_type=CONTENT_TYPES[suffix],
        )
    return StaticBundle(files=files, templates=templates, version=overall.hexdigest()[:12])


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*", "W/" + etag) for tag in header.split(","))


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static_file(path: str, request: Request) -> Response:
    bundle = static_bundle()
    first, _, rest = path.partition("/")
    versioned = bool(VERSION_SEGMENT.match(first)) and bool(rest)
    if versioned:
        path = rest
    item = bundle.files.get(path)
    if item is None:
        raise APIError(404, "File not found", code="not_found")
    # Only the current version may be cached forever; an old page asking for an old version gets
    # today's file, revalidated each time.
    cache_control = IMMUTABLE if versioned and first == f"v-{bundle.version}" else "no-cache"
    headers = {
        "ETag": item.etag,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
    }
    if item.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if _not_modified(request, item.etag):
        return Response(status_code=304, headers=headers)
    body = item.body
    if item.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = item.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=item.content_type, headers=headers)


# --- page data: presets and examples ---------------------------------------------------------


def public_origin(ctx: AppContext, request: Request) -> str:
    """``PUBLIC_BASE_URL`` when set, else the origin the request came in on (as media URLs)."""
    if ctx.settings.public_base_url:
        return ctx.settings.public_base_url
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.url.scheme}://{host}{request.scope.get('root_path', '')}"


def _example_url(kind: str, index: int, count: int) -> str:
    url = EXAMPLE_URLS.get(kind, EXAMPLE_URLS["image"])
    if count > 1:
        stem, dot, ext = url.rpartition(".")
        url = f"{stem}-{index + 1}{dot}{ext}"
    return url


def preset_request(model: ModelSpec) -> dict[str, Any]:
    """A complete, valid request for ``model``: what its snippets and the Studio start from.

    Choices: the first mode of a mode selector (Seedance: ``text_to_video``, which needs no
    input), the first aspect ratio, the first quality mode, the first character orientation,
    5 seconds where allowed (else the first allowed duration), and example URLs for exactly the
    inputs the model requires, so a text-only model's snippet runs as is."""
    body: dict[str, Any] = {"model_slug": model.slug}
    mode = model.modes[0]
    required: list[str] = [name for name, spec in model.inputs.items() if spec.min > 0]
    if model.mode_field and model.input_modes:
        mode = next(iter(model.input_modes))
        rule = model.input_modes[mode]
        required = list(rule.required) + [
            name for name in rule.required_any[:1] if name not in rule.required
        ]
    body["prompt"] = EXAMPLE_PROMPTS.get(mode if len(model.modes) == 1 else "", DEFAULT_PROMPT)
    if model.mode_field:
        body[model.mode_field] = mode
    excluded = any(name in required for name in model.aspect_ratio_excludes)
    if model.aspect_ratios and not excluded:
        body["aspect_ratio"] = model.aspect_ratios[0]
    quality = model.quality_modes[0] if model.quality_modes else None
    orientation = next(iter(model.character_orientations), None)
    allowed = rules.allowed_durations(model, quality, orientation)
    body["duration_seconds"] = 5 if 5 in allowed else (allowed or [model.default_duration])[0]
    if quality is not None:
        body["quality_mode"] = quality
    if orientation is not None:
        body["character_orientation"] = orientation
    for name in required:
        spec = model.inputs.get(name)
        if spec is None:
            continue
        count = max(1, spec.min)
        urls = [_example_url(spec.kind, i, count) for i in range(count)]
        body[name] = urls if name in URL_LIST_FIELDS else urls[0]
    return body


def _job_example(
    model: ModelSpec, mode: str, params: dict[str, Any], price: int, origin: str
) -> dict[str, Any]:
    media = f"{origin}/media/"
    values: dict[str, Any] = {
        "job_id": SAMPLE_JOB_ID,
        "model_slug": model.slug,
        "mode": mode,
        "status": "completed",
        "progress": 100,
        "result_urls": [f"{media}{SAMPLE_MEDIA_KEY}.mp4"],
        "thumbnail_url": f"{media}{SAMPLE_MEDIA_KEY}.jpg",
        "last_frame_url": None,
        "credits_charged": price,
        "credits_refunded": False,
        "directory_discount_applied": 0,
        "provider_meta": {
            "engine": "sandbox",
            "effective_duration_seconds": params.get("duration_seconds"),
            **({"quality_mode": params["quality_mode"]} if params.get("quality_mode") else {}),
        },
        "error_message": None,
        "created_at": "2026-02-20T12:40:01.123456+00:00",
        "started_at": "2026-02-20T12:40:01.456789+00:00",
        "completed_at": "2026-02-20T12:40:09.948211+00:00",
    }
    # The keys are the documented job object's, whatever they are in this release.
    return {name: values.get(name) for name in JobOut.model_fields}


def model_page_data(model: ModelSpec, catalog: Catalog, origin: str) -> dict[str, Any]:
    """What the pages need about one model besides its public payload: the preset request, its
    mode and price, and response examples in the API's real shapes."""
    body = preset_request(model)
    try:
        validated = rules.validate(catalog, model, GenerateRequest.model_validate(body))
    except (APIError, ValidationError) as exc:
        # An operator catalog the preset logic does not foresee: the page says so rather than
        # showing a snippet that would fail.
        message = exc.error if isinstance(exc, APIError) else str(exc)
        return {"request": body, "valid": False, "error": message, "examples": {}}
    price = validated.quote.total
    allowed = rules.allowed_durations(
        model, body.get("quality_mode"), body.get("character_orientation")
    )
    invalid = dict(body, duration_seconds=max(allowed) + 1)
    try:
        rules.validate(catalog, model, GenerateRequest.model_validate(invalid))
        validation_error = APIError(400, "Invalid duration for this model", code="invalid_duration")
    except APIError as exc:
        validation_error = exc
    generated = {
        "success": True,
        "job_ids": [SAMPLE_JOB_ID],
        "credits_remaining_total": SAMPLE_BALANCE - price,
        "credits_charged": price,
        "directory_discount_applied": validated.quote.discount,
    }
    insufficient = APIError(
        402,
        INSUFFICIENT_CREDITS,
        code="insufficient_credits",
        extra={"credits_required": price, "credits_available": price // 3},
    )
    return {
        "request": body,
        "valid": True,
        "mode": validated.mode,
        "credits": price,
        "examples": {
            "generate": {name: generated.get(name) for name in GenerateResponse.model_fields},
            "validation_error": validation_error.body(),
            "insufficient_credits": insufficient.body(),
            "status": {
                "success": True,
                "job": _job_example(model, validated.mode, validated.params, price, origin),
            },
        },
    }


def _route_paths(request: Request) -> set[str]:
    """Paths this build serves, from its OpenAPI document (cached by FastAPI after first use)."""
    return set(request.app.openapi()["paths"])


def page_data(request: Request) -> dict[str, Any]:
    """The catalog and everything the docs and Studio scripts need, for this request's origin."""
    ctx = context(request)
    origin = public_origin(ctx, request)
    routed = _route_paths(request)
    models = list(ctx.catalog.models.values())
    return {
        "origin": origin,
        "version": __version__,
        "paths": API_PATHS,
        "features": {name: path in routed for name, path in API_PATHS.items()},
        "max_batch_size": ctx.settings.max_batch_size,
        "models": [model_payload(model, ctx.catalog) for model in models],
        "presets": {m.slug: model_page_data(m, ctx.catalog, origin) for m in models},
    }


@router.get(MODELS_JSON_PATH)
async def models_json(request: Request) -> APIResponse:
    """The public, read-only catalog the docs page is built from (no API key needed)."""
    data = page_data(request)
    return APIResponse(
        {"success": True, "count": len(data["models"]), **data},
        headers={"Cache-Control": "no-cache"},
    )


# --- server-rendered parts ------------------------------------------------------------------


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def json_for_script(data: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no comments."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def json_type(annotation: Any) -> str:
    """The JSON type a client sends for a field annotation (``list[str] | None`` -> array)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [json_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        return " | ".join(names)
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        return f"array[{json_type(item)}]"
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(
        annotation, "object"
    )


def _constraints(field: FieldInfo) -> list[str]:
    out = []
    for item in field.metadata:
        ge, le, max_length = (getattr(item, a, None) for a in ("ge", "le", "max_length"))
        if ge is not None:
            out.append(f"at least {ge}")
        if le is not None:
            out.append(f"at most {le}")
        if max_length is not None:
            out.append(f"at most {max_length} entries")
    if not field.is_required() and field.default is not None:
        out.append(f"default {json.dumps(field.default)}")
    return out


def _accepting(name: str, models: list[ModelSpec], catalog: Catalog) -> list[ModelSpec] | None:
    """Models on which ``name`` has an effect; ``None`` means every model."""
    selectors: dict[str, typing.Callable[[ModelSpec], bool]] = {
        "aspect_ratio": lambda m: bool(m.aspect_ratios),
        "quality_mode": lambda m: bool(m.quality_modes),
        "character_orientation": lambda m: bool(m.character_orientations),
        "return_last_frame": lambda m: m.features.return_last_frame,
        "web_search": lambda m: m.features.web_search,
        "sound": lambda m: m.audio,
        "prompt_directory_optin": lambda m: catalog.discount_for(m) > 0,
    }
    if name in INPUT_FIELDS:
        return [m for m in models if name in m.inputs]
    if name in selectors:
        return [m for m in models if selectors[name](m)]
    if name == "seedance_mode" or any(m.mode_field == name for m in models):
        return [m for m in models if m.mode_field == name]
    return None


def _required_by(name: str, models: list[ModelSpec]) -> list[ModelSpec]:
    def needs(m: ModelSpec) -> bool:
        if name == "prompt":
            return m.prompt_required
        if name == "quality_mode":
            return m.requires_quality
        if name == "duration_seconds":
            return m.duration_required
        if name in m.inputs:
            if m.inputs[name].min > 0:
                return True
            return any(name in rule.required for rule in m.input_modes.values())
        return False

    return [m for m in models if needs(m)]


def _input_limits(model: ModelSpec, name: str) -> str:
    spec = model.inputs[name]
    return str(spec.max) if spec.min == spec.max else f"{spec.min}-{spec.max}"


def contract_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """One row per ``GenerateRequest`` field, in declaration order."""
    models = list(catalog.models.values())
    rows = []
    for name, field in GenerateRequest.model_fields.items():
        required_by = _required_by(name, models)
        if field.is_required() or (required_by and len(required_by) == len(models)):
            required = "Yes"
        elif required_by and len(required_by) * 2 > len(models):
            required = "Usually"
        elif required_by:
            required = "Model-specific"
        else:
            required = "No"
        notes = [text for text in (field.description, FIELD_NOTES.get(name)) if text]
        if name in INPUT_FIELDS:
            notes.append(URL_NOTE)
        notes = [text if text.endswith((".", ")")) else text + "." for text in notes]
        accepting = _accepting(name, models, catalog)
        applies: list[str] | None = None
        if accepting is not None:
            applies = [
                f"{m.slug} ({_input_limits(m, name)})" if name in INPUT_FIELDS else m.slug
                for m in accepting
            ]
        rows.append(
            {
                "name": name,
                "type": json_type(field.annotation),
                "required": required,
                "required_by": [m.slug for m in required_by],
                "notes": " ".join(notes),
                "constraints": _constraints(field),
                "applies_to": applies,
            }
        )
    return rows


def render_contract_table(catalog: Catalog) -> str:
    body = []
    for row in contract_rows(catalog):
        required = esc(row["required"])
        if row["required"] in ("Usually", "Model-specific") and row["required_by"]:
            names = ", ".join(row["required_by"])
            required = (
                f'<span class="req req-some" title="Required by {esc(names)}">{required}</span>'
            )
        elif row["required"] == "Yes":
            required = f'<span class="req req-yes">{required}</span>'
        else:
            required = f'<span class="req">{required}</span>'
        constraints = "".join(f'<span class="pill">{esc(c)}</span>' for c in row["constraints"])
        if row["applies_to"] is None:
            applies = '<span class="muted">All models</span>'
        elif not row["applies_to"]:
            applies = '<span class="muted">No model in this catalog</span>'
        else:
            applies = " ".join(f"<code>{esc(item)}</code>" for item in row["applies_to"])
        body.append(
            f'<tr id="field-{esc(row["name"])}" data-field="{esc(row["name"])}">'
            f'<th scope="row"><code>{esc(row["name"])}</code></th>'
            f'<td><span class="type">{esc(row["type"])}</span></td>'
            f"<td>{required}</td>"
            f"<td>{esc(row['notes'])}{' ' + constraints if constraints else ''}</td>"
            f'<td class="applies">{applies}</td></tr>'
        )
    return "\n".join(body)


def render_endpoints(request: Request) -> str:
    """The API's endpoints as its own OpenAPI document lists them (so a build without, say, the
    assets API does not advertise it)."""
    rows = []
    for path, operations in request.app.openapi()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            auth = "API key" if operation.get("security") else "No key"
            rows.append(
                f'<tr><td><span class="method method-{esc(method)}">{esc(method.upper())}</span>'
                f'</td><td><code class="path">{esc(path)}</code></td>'
                f"<td>{esc(operation.get('summary', ''))}</td>"
                f'<td class="nowrap"><span class="muted">{esc(auth)}</span></td></tr>'
            )
    return "\n".join(rows)


def render_errors() -> str:
    return "\n".join(
        f'<tr><td><span class="http http-{status // 100}xx">{status}</span></td>'
        f"<td><code>{esc(code)}</code></td><td>{esc(text)}</td>"
        f'<td class="muted">{esc(RETRY_ADVICE[status])}</td></tr>'
        for status, code, text in ERROR_TABLE
    )


def render_lifecycle() -> str:
    return "\n".join(
        f'<li class="stage stage-{esc(name)}"><span class="status status-{esc(name)}">'
        f"{esc(name)}</span><p>{esc(text)}</p></li>"
        for name, text in LIFECYCLE
    )


def content_security_policy(ctx: AppContext) -> str:
    # Result videos may live on PUBLIC_BASE_URL (or, with a future storage backend, another https
    # origin); scripts, styles and API calls never leave this origin.
    media = "'self' https: blob:"
    if ctx.settings.public_base_url:
        media += " " + ctx.settings.public_base_url
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src data: {media}",
            f"media-src {media}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def render_page(request: Request, template: str, slots: dict[str, str]) -> Response:
    bundle = static_bundle()
    ctx = context(request)
    text = bundle.templates[template]
    values = {
        "static": f"{STATIC_PREFIX}v-{bundle.version}",
        "version": esc(__version__),
        **slots,
    }
    text = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)
    body = text.encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": "no-cache",
        "ETag": etag,
        "Content-Security-Policy": content_security_policy(ctx),
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
async def root() -> RedirectResponse:
    return RedirectResponse(DOCS_PATH, status_code=307)


@router.api_route(DOCS_PATH, methods=["GET", "HEAD"])
async def docs_page(request: Request) -> Response:
    ctx = context(request)
    data = page_data(request)
    return render_page(
        request,
        "docs.html",
        {
            "origin": esc(data["origin"]),
            "contract_rows": render_contract_table(ctx.catalog),
            "endpoint_rows": render_endpoints(request),
            "error_rows": render_errors(),
            "lifecycle": render_lifecycle(),
            "model_count": str(len(data["models"])),
            "data": json_for_script(data),
        },
    )


@router.api_route(STUDIO_PATH, methods=["GET", "HEAD"])
async def studio_page(request: Request) -> Response:
    data = page_data(request)
    return render_page(
        request,
        "studio.html",
        {"origin": esc(data["origin"]), "data": json_for_script(data)},
    )
