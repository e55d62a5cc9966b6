"""One ``Database`` object per process: engines, sessions and the transaction discipline.

Why two session kinds: SQLite allows one writer at a time, and a deferred transaction that reads
and then writes can fail with ``SQLITE_BUSY`` instead of waiting. So on SQLite every write
transaction starts with ``BEGIN IMMEDIATE`` on a single pooled writer connection (writers queue
in-process, other processes wait on ``busy_timeout``), while reads use a pool of ordinary
connections that WAL lets run beside the writer. On PostgreSQL both kinds share one pool, and
row locks (``FOR UPDATE``, guarded ``UPDATE ... WHERE``) do the serialising. Callers only
ever choose ``read()`` or ``write()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from videostudio.db.hot import HotPath
from videostudio.db.sqlite_inline import inline_creator

# How long a SQLite writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_SECONDS = 10.0
# FULL (default): a commit (an accepted job, a debit) survives power loss, not only a crash of the
# process. NORMAL skips that fsync: faster, still never corrupt, but the newest commits can roll
# back after a power cut.
SQLITE_SYNCHRONOUS = "FULL"


def _sqlite_engine(url: str, *, begin: str | None, pool_size: int, synchronous: str) -> AsyncEngine:
    database = make_url(url).database or ":memory:"
    engine = create_async_engine(
        url,
        async_creator=inline_creator(
            database, timeout=BUSY_TIMEOUT_SECONDS, commit_in_thread=synchronous == "FULL"
        ),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=120,
        # Autocommit reads hold no transaction, so there is nothing to roll back on checkin.
        pool_reset_on_return="rollback" if begin else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if begin is not None:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

    return engine


class Database:
    """Engines and session factories for one database URL."""

    def __init__(
        self, url: str, *, pool_size: int = 10, sqlite_synchronous: str = SQLITE_SYNCHRONOUS
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = _sqlite_engine(
                url, begin=None, pool_size=pool_size, synchronous=sqlite_synchronous
            )
            self.write_engine = _sqlite_engine(
                url, begin="BEGIN IMMEDIATE", pool_size=1, synchronous=sqlite_synchronous
            )
        elif self.dialect == "postgresql":
            self.read_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.write_engine = self.read_engine
        else:
            raise ValueError(
                f"Unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
                "use sqlite+aiosqlite:///path or postgresql+asyncpg://..."
            )
        # One in-process writer at a time on SQLite, whichever path (ORM or hot) writes.
        self._sqlite_write_lock = asyncio.Lock()
        self.hot = HotPath(
            url,
            self.write_engine.dialect,
            pool_size=pool_size,
            busy_timeout=BUSY_TIMEOUT_SECONDS,
            sqlite_write_lock=self._sqlite_write_lock,
            synchronous=sqlite_synchronous,
        )
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; its transaction is rolled back at the end."""
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits if the block ends normally, else rolls back."""
        if self.is_sqlite:
            async with self._sqlite_write_lock, self._write() as session, session.begin():
                yield session
        else:
            async with self._write() as session, session.begin():
                yield session

    async def dispose(self) -> None:
        await self.hot.close()
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
