"""An aiosqlite-compatible connection that runs SQLite calls inline on the event loop.

Why: aiosqlite hands every call (cursor, execute, fetch, close) to a private thread and back. A
point read or a statement costs SQLite a few microseconds, but each hop costs tens to hundreds,
and a request makes a dozen of them; the hops, not SQLite, were most of the status endpoint's
time. So SQLAlchemy's aiosqlite dialect is given this shim instead (through ``async_creator``):
same interface, no thread, except for COMMIT when it fsyncs (``synchronous=FULL``): that goes to
a worker thread, so a slow disk never stalls the event loop. It is safe because WAL readers never
wait, and in-process writers are serialised (writer pool of one, writer lock) before they reach
SQLite; only another process's open write transaction can make a writer wait, bounded by
``busy_timeout``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable
from typing import Any

from videostudio.db.hot import commit_off_loop


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def __await__(self) -> Generator[Any, None, InlineCursor]:
        return self._self().__await__()

    async def _self(self) -> InlineCursor:
        return self

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _ImmediateQueue:
    """Stands in for aiosqlite's work queue: SQLAlchemy puts (future, fn) on it."""

    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection, *, commit_in_thread: bool = False) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._commit_in_thread = commit_in_thread
        self._tx = _ImmediateQueue(self)

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._require().isolation_level

    def cursor(self) -> InlineCursor:
        # aiosqlite's cursor() is used both as ``await conn.cursor()`` and ``async with``.
        return InlineCursor(self._require().cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return InlineCursor(self._require().execute(sql, parameters))

    async def commit(self) -> None:
        if self._commit_in_thread:
            # The one call that waits on the disk (fsync): run it off the event loop. The caller
            # still holds the writer (pool of one, plus the writer lock), so nothing interleaves.
            await commit_off_loop(self._require())
        else:
            self._require().commit()

    async def rollback(self) -> None:
        self._require().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._require().create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def inline_creator(
    path: str, *, timeout: float, commit_in_thread: bool = False
) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` opening ``path`` without a thread."""

    async def create() -> InlineConnection:
        conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
        return InlineConnection(conn, commit_in_thread=commit_in_thread)

    return create
