"""Alembic migrations, run programmatically: on ``serve`` start and by ``videostudio db upgrade``.

Both engines use the same revision files. On PostgreSQL the upgrade holds an advisory lock, so
several processes starting together migrate once and the rest wait.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade_sync(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade to ``revision`` from inside a running event loop (Alembic's env runs its own)."""
    await asyncio.to_thread(upgrade_sync, database_url, revision)
