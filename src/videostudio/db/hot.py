"""The hot path: the few statements the busiest endpoints run, executed below SQLAlchemy's engine.

Why: a status poll or a generate request runs one to four small statements. At that rate,
SQLAlchemy's per-statement machinery (pool checkout, execution context, type processing, result
objects) cost several times the statements themselves. A ``HotStatement`` is still written as a
SQLAlchemy Core construct, so the SQL has one definition that follows the models; it is compiled
once per dialect, its parameters are encoded and its returned columns decoded by their column types
(JSON, UTC timestamps, booleans) exactly as SQLAlchemy would store and load them, and it runs on the
driver directly:

- SQLite: reads on a dedicated read-only ``sqlite3`` connection (WAL readers never wait, so running
  inline is safe); transactions on a dedicated writer connection, begun with ``BEGIN IMMEDIATE``
  under the same in-process writer lock as ``Database.write()``, so two write transactions of one
  process never meet inside SQLite.
- PostgreSQL: an ``asyncpg`` pool; transactions with asyncpg's own transaction block.

Everything else (the ORM, migrations, admin paths) keeps the ordinary SQLAlchemy path.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from videostudio.db.base import UTCDateTime

Codec = Callable[[Any], Any]
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite storage format


def _decode_json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _decode_datetime(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decode_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _encode_json(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _encode_sqlite_datetime(value: Any) -> Any:
    return None if value is None else value.astimezone(UTC).strftime(SQLITE_DATETIME)


def _encode_pg_datetime(value: Any) -> Any:
    return None if value is None else value.astimezone(UTC)


def _encode_sqlite_bool(value: Any) -> Any:
    return None if value is None else int(value)


def _decoder(column_type: Any) -> Codec | None:
    if isinstance(column_type, JSON):
        return _decode_json
    if isinstance(column_type, UTCDateTime):
        return _decode_datetime
    if isinstance(column_type, Boolean):
        return _decode_bool
    return None


def _encoder(column_type: Any, dialect: str) -> Codec | None:
    if isinstance(column_type, JSON):
        return _encode_json
    if isinstance(column_type, UTCDateTime):
        return _encode_sqlite_datetime if dialect == "sqlite" else _encode_pg_datetime
    if isinstance(column_type, Boolean) and dialect == "sqlite":
        return _encode_sqlite_bool
    return None


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.order = list(compiled.positiontup or [])
        self.encoders = {
            name: codec
            for name, bind in compiled.binds.items()
            if (codec := _encoder(bind.type, dialect.name)) is not None
        }

        # Literals in the statement (``count + 1``) are binds with a value of their own.
        self.literals = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if bind.value is not None or bind.callable is not None
        }

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        encoders = self.encoders
        out = []
        for name in self.order:
            value = params[name] if name in params else self.literals[name]
            out.append(encoders[name](value) if name in encoders else value)
        return out


async def commit_off_loop(conn: sqlite3.Connection) -> None:
    """COMMIT in a worker thread, and return only once it has finished, even if the awaiting task
    is cancelled meanwhile: the caller must not hand the connection (or the writer lock) to the
    next transaction while this COMMIT is still running on it."""
    # run_in_executor submits now, before this task yields: the COMMIT must already be under
    # way when other code runs, or a writer waiting inline on SQLite's lock could starve it.
    commit = asyncio.get_running_loop().run_in_executor(None, conn.commit)
    try:
        await asyncio.shield(commit)
    except asyncio.CancelledError:
        await commit
        raise


class HotStatement:
    """A Core statement (or one per dialect name) whose parameters are ``bindparam``s."""

    def __init__(self, statement: ClauseElement | Mapping[str, ClauseElement]) -> None:
        self.variants: dict[str, ClauseElement] | None = None
        if isinstance(statement, Mapping):
            self.variants = dict(statement)
            statement = next(iter(self.variants.values()))
        self.statement: ClauseElement = statement
        returned = list(getattr(self.statement, "exported_columns", []))
        self.columns = [str(column.key) for column in returned]
        self.decoders = [
            (index, decoder)
            for index, column in enumerate(returned)
            if (decoder := _decoder(column.type)) is not None
        ]
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            statement = self.variants[dialect.name] if self.variants else self.statement
            found = self._compiled[dialect.name] = _Compiled(statement, dialect)
        return found

    def to_dict(self, row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for index, decode in self.decoders:
            values[index] = decode(values[index])
        return dict(zip(self.columns, values, strict=True))


class HotTransaction:
    """Statements inside one transaction opened by ``HotPath.transaction``."""

    def __init__(self, dialect: Dialect, conn: Any) -> None:
        self.dialect = dialect
        self._conn = conn
        self._sqlite = dialect.name == "sqlite"

    async def fetch(
        self, statement: HotStatement, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        compiled = statement.compiled(self.dialect)
        args = compiled.args(params)
        if self._sqlite:
            rows: list[Any] = self._conn.execute(compiled.sql, args).fetchall()
        else:
            rows = await self._conn.fetch(compiled.sql, *args)
        return [statement.to_dict(row) for row in rows]

    async def fetch_one(
        self, statement: HotStatement, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    async def execute(self, statement: HotStatement, params: Mapping[str, Any]) -> None:
        compiled = statement.compiled(self.dialect)
        args = compiled.args(params)
        if self._sqlite:
            self._conn.execute(compiled.sql, args)
        else:
            await self._conn.execute(compiled.sql, *args)


class HotPath:
    """Runs ``HotStatement``s for one database: reads, and short write transactions."""

    def __init__(
        self,
        url: str,
        dialect: Dialect,
        *,
        pool_size: int,
        busy_timeout: float,
        sqlite_write_lock: asyncio.Lock | None = None,
        synchronous: str = "FULL",
    ) -> None:
        self.synchronous = synchronous
        self.url = make_url(url)
        self.dialect = dialect
        self.pool_size = pool_size
        self.busy_timeout = busy_timeout
        self.sqlite_write_lock = sqlite_write_lock or asyncio.Lock()
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_writer: sqlite3.Connection | None = None
        self._pg_pool: Any = None

    async def _pg(self) -> Any:
        if self._pg_pool is None:
            import asyncpg

            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg_pool = await asyncpg.create_pool(dsn, min_size=0, max_size=self.pool_size)
        return self._pg_pool

    def _sqlite_connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.url.database or ":memory:",
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def _sqlite_reader(self) -> sqlite3.Connection:
        if self._sqlite is None:
            self._sqlite = self._sqlite_connect()
            self._sqlite.execute("PRAGMA query_only=ON")
        return self._sqlite

    async def fetch(
        self, statement: HotStatement, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Rows of a read, outside any transaction."""
        if self.dialect.name == "sqlite":
            return await HotTransaction(self.dialect, self._sqlite_reader()).fetch(
                statement, params
            )
        async with (await self._pg()).acquire() as conn:
            return await HotTransaction(self.dialect, conn).fetch(statement, params)

    async def fetch_one(
        self, statement: HotStatement, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[HotTransaction]:
        """A write transaction: committed if the block ends normally, else rolled back."""
        if self.dialect.name == "sqlite":
            async with self.sqlite_write_lock:
                if self._sqlite_writer is None:
                    self._sqlite_writer = self._sqlite_connect()
                conn = self._sqlite_writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield HotTransaction(self.dialect, conn)
                    if self.synchronous == "FULL":
                        # This COMMIT fsyncs: do it off the event loop, still holding the writer
                        # lock, so other requests run while the disk works.
                        await commit_off_loop(conn)
                    else:
                        conn.commit()
                except BaseException:
                    # Also after a failed COMMIT: never leave the writer inside a transaction.
                    self._abandon_sqlite_transaction(conn)
                    raise
            return
        async with (await self._pg()).acquire() as pg_conn, pg_conn.transaction():
            yield HotTransaction(self.dialect, pg_conn)

    def _abandon_sqlite_transaction(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.rollback()
        except sqlite3.Error:
            # A writer that cannot even roll back is replaced, not reused.
            conn.close()
            self._sqlite_writer = None

    async def close(self) -> None:
        for conn in (self._sqlite, self._sqlite_writer):
            if conn is not None:
                conn.close()
        self._sqlite = self._sqlite_writer = None
        if self._pg_pool is not None:
            await self._pg_pool.close()
            self._pg_pool = None
