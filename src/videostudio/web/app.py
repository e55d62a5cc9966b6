"""The application factory: one FastAPI app per ``Settings``.

Start-up order matters and is fixed here: load the catalog (a bad file stops start with a message),
migrate the database, create the operator account on first start, then start the in-process worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from videostudio import __version__, flows
from videostudio.accounts.views import router as account_router
from videostudio.assets.views import UPLOAD_PATH
from videostudio.assets.views import router as assets_router
from videostudio.catalog.views import router as catalog_router
from videostudio.config import Settings
from videostudio.context import AppContext, build_context
from videostudio.db.migrate import upgrade
from videostudio.jobs.views import router as jobs_router
from videostudio.jobs.worker import Worker
from videostudio.media.views import router as media_router
from videostudio.web.errors import BodyLimitMiddleware, install_error_handlers
from videostudio.web.pages import router as pages_router
from videostudio.web.responses import APIResponse

log = logging.getLogger("videostudio")

DESCRIPTION = """One HTTP API over many video-generation models.

Authenticate every request with `Authorization: Bearer YOUR_API_KEY` (`Token KEY` and a bare key
also work). Errors use `{"success": false, "error": "..."}`. See `docs/api.md` in the repository."""


def create_app(
    settings: Settings,
    *,
    ctx: AppContext | None = None,
    on_operator_created: Callable[[flows.CreatedAccount], None] | None = None,
) -> FastAPI:
    context = ctx or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await upgrade(settings.resolved_database_url)
        removed = context.storage.sweep_temporary(older_than_seconds=3600)
        if removed:
            log.info("removed %d stale partial file(s) from crashed renders", removed)
        created = await flows.ensure_operator(context)
        app.state.operator = created
        if created is not None and on_operator_created is not None:
            on_operator_created(created)
        elif created is not None:
            log.warning(
                "Created operator account %r with %d credits. API key (shown once): %s",
                created.account.name,
                created.balance,
                created.api_key,
            )
        stop = asyncio.Event()
        worker_task = None
        if settings.worker_enabled:
            worker = Worker(context)
            app.state.worker = worker
            worker_task = asyncio.create_task(worker.run(stop), name="worker")
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await context.db.dispose()

    app = FastAPI(
        title="Video Studio API",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        default_response_class=APIResponse,
    )
    app.state.ctx = context
    install_error_handlers(app)
    # Uploads stream to disk under their own, larger cap (assets.upload).
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, exempt=(("POST", UPLOAD_PATH),)
    )

    @app.head("/api/v1/health/", include_in_schema=False)
    @app.get("/api/v1/health/", tags=["ops"], summary="Liveness (no auth, no database)")
    async def health() -> APIResponse:
        return APIResponse({"success": True, "status": "ok", "version": __version__})

    for router in (jobs_router, catalog_router, account_router, assets_router, media_router):
        app.include_router(router)
    app.include_router(pages_router)  # docs page, Studio and their static files
    install_openapi(app)
    return app


def install_openapi(app: FastAPI) -> None:
    """Declare the API-key scheme (Swagger UI then offers "Authorize" and sends the key) and
    describe errors as they are really answered."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer YOUR_API_KEY (Token KEY and a bare "
                    "key are accepted too)",
                }
            }
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    # Validation errors are answered as 400 in the envelope, never 422.
                    operation.get("responses", {}).pop("422", None)
                    if not path.startswith(("/api/v1/health", "/media")):
                        operation["security"] = [{"apiKey": []}]
            for unused in ("HTTPValidationError", "ValidationError"):
                schema["components"].get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
