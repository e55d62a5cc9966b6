"""Migrations: one history for both engines, and it matches the models exactly.

Invariant locked here: after ``upgrade head`` Alembic's autogenerate finds no difference between
the database and ``videostudio.models`` (so nobody can change a model without a migration), and a
second upgrade is a no-op.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tests.conftest import Harness
from videostudio.db.migrate import upgrade
from videostudio.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_schema_matches_models(harness: Harness) -> None:
    await upgrade(harness.ctx.settings.resolved_database_url)  # idempotent
    async with harness.ctx.db.read_engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == []
