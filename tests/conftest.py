"""Shared fixtures: every storage, queue, billing and HTTP test runs on SQLite AND PostgreSQL.

- ``engine_name`` is parametrised over ``sqlite`` and ``postgresql``. The PostgreSQL run uses a
  throw-away database created for the session (migrated once, truncated before each test). When
  PostgreSQL cannot be reached those tests skip with the reason, unless
  ``VIDEOSTUDIO_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), in which case they fail.
- ``harness`` builds a real application with its lifespan (migrations, bootstrap) and an httpx
  client talking to it over ASGI. The worker is not started: tests drive it with
  ``Worker.run_once`` or explicitly, so every step is deterministic.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from videostudio import flows
from videostudio.config import Settings
from videostudio.context import AppContext
from videostudio.web.app import create_app

if TYPE_CHECKING:
    from tests.https_server import HTTPSFileServer

PG_URL = os.environ.get(
    "VIDEOSTUDIO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("VIDEOSTUDIO_REQUIRE_POSTGRES") == "1"
TABLES = "ledger_entries, rate_limit_windows, jobs, assets, api_keys, accounts"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"vs_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        message = f"PostgreSQL not reachable at {PG_URL}: {exc}"
        if REQUIRE_PG:
            pytest.fail(message + " (VIDEOSTUDIO_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    from videostudio.db.migrate import upgrade_sync

    upgrade_sync(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine_name == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'videostudio.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "worker_enabled": False,
        "rate_limit_generate_per_hour": 0,
        "starter_credits": 0,
        "lease_seconds": 30,
        "worker_poll_interval_seconds": 0.05,
        "public_base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    return make_settings(database_url, tmp_path / "data", **settings_overrides)


@dataclass
class Harness:
    ctx: AppContext
    client: httpx.AsyncClient

    async def account(self, credits: int = 1000, name: str | None = None) -> tuple[str, str]:
        """A new account with ``credits``; returns (account_id, api_key)."""
        created = await flows.create_account_with_key(
            self.ctx, name=name or f"acct-{secrets.token_hex(4)}", credits=credits
        )
        return created.account.id, created.api_key

    async def generate(self, key: str, **body: Any) -> httpx.Response:
        return await self.client.post(
            "/api/v1/video-studio/generate/", json=body, headers={"Authorization": f"Bearer {key}"}
        )

    async def status(self, key: str, job_id: str) -> httpx.Response:
        return await self.client.get(
            f"/api/v1/video-studio/status/{job_id}/", headers={"Authorization": f"Bearer {key}"}
        )

    async def balance(self, account_id: str) -> int:
        from videostudio.billing.service import balance_of

        async with self.ctx.db.read() as session:
            return await balance_of(session, account_id)


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(ctx=app.state.ctx, client=client)


@pytest.fixture(scope="module")
def https_files() -> Iterator[HTTPSFileServer]:
    """A real local HTTPS server for input media (trust its ``ca_path``, allow loopback)."""
    from tests.https_server import HTTPSFileServer

    with HTTPSFileServer() as server:
        yield server
