"""The application factory: one FastAPI app per ``Settings``.

Start-up order matters and is fixed here: load the catalog (a bad file stops start with a message),
migrate the database, create the operator account on first start, then start the in-process worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from videostudio import __version__, flows
from videostudio.accounts.views import router as account_router
from videostudio.catalog.views import router as catalog_router
from videostudio.config import Settings
from videostudio.context import AppContext, build_context
from videostudio.db.migrate import upgrade
from videostudio.jobs.views import router as jobs_router
from videostudio.jobs.worker import Worker
from videostudio.media.views import router as media_router
from videostudio.web.errors import BodyLimitMiddleware, install_error_handlers

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
    )
    app.state.ctx = context
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.get("/api/v1/health/", tags=["ops"], summary="Liveness (no auth, no database)")
    async def health() -> JSONResponse:
        return JSONResponse({"success": True, "status": "ok", "version": __version__})

    for router in (jobs_router, catalog_router, account_router, media_router):
        app.include_router(router)
    return app
