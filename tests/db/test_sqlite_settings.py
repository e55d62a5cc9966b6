"""SQLite connection settings hold on every connection the service opens.

Invariant locked here: WAL journalling, foreign keys, and the operator's durability choice
(``SQLITE_SYNCHRONOUS``: FULL by default, so an accepted job survives power loss) apply to the ORM
connections and to the hot path's own connections alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import make_settings
from videostudio.context import build_context
from videostudio.db.migrate import upgrade

SYNCHRONOUS = {"full": 2, "normal": 1}


@pytest.mark.parametrize("choice", ["full", "normal", "FULL"])
async def test_every_sqlite_connection_has_the_same_settings(tmp_path: Path, choice: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"
    ctx = build_context(make_settings(url, tmp_path, sqlite_synchronous=choice))
    expected = SYNCHRONOUS[choice.lower()]
    try:
        await upgrade(url)
        async with ctx.db.write() as session:
            orm = [
                (await session.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys")
            ]
        assert orm == ["wal", expected, 1]
        async with ctx.db.hot.transaction() as tx:
            conn = tx._conn
            hot = [
                conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("synchronous", "foreign_keys")
            ]
        assert hot == [expected, 1]
    finally:
        await ctx.db.dispose()
