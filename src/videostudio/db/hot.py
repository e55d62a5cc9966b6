"""Hot reads: a few point queries run below SQLAlchemy's async layer.

Why: the status poll is the request clients make most, and at that rate SQLAlchemy's async
machinery (pool checkout, greenlet switch, result objects) cost many times the query itself. A
``HotQuery`` is still written as a SQLAlchemy Core ``select`` (so there is one definition of the SQL
and it follows the models); it is compiled once per dialect and run on the driver directly: a
dedicated read-only ``sqlite3`` connection on SQLite (WAL readers never wait, so running it inline
is safe), an ``asyncpg`` pool on PostgreSQL. Values come back decoded by the selected columns'
types, exactly as the ORM would decode them. Only reads go through here; every write keeps the
transactional SQLAlchemy path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Select
from sqlalchemy.engine import Dialect, make_url

from videostudio.db.base import UTCDateTime

Decoder = Callable[[Any], Any]


def _decode_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _decode_datetime(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decode_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _decoder(column_type: Any) -> Decoder | None:
    if isinstance(column_type, JSON):
        return _decode_json
    if isinstance(column_type, UTCDateTime):
        return _decode_datetime
    if isinstance(column_type, Boolean):
        return _decode_bool
    return None


class HotQuery:
    """A Core select whose parameters are ``bindparam``s, run by ``HotReader``."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self.columns = [str(column.key) for column in statement.selected_columns]
        self.decoders = [
            (index, decoder)
            for index, column in enumerate(statement.selected_columns)
            if (decoder := _decoder(column.type)) is not None
        ]
        self._compiled: dict[str, tuple[str, list[str]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, list[str]]:
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)
            order = list(compiled.positiontup or [])
            self._compiled[dialect.name] = (compiled.string, order)
        return self._compiled[dialect.name]

    def to_dict(self, row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for index, decode in self.decoders:
            values[index] = decode(values[index])
        return dict(zip(self.columns, values, strict=True))


class HotReader:
    """Runs ``HotQuery``s for one database URL."""

    def __init__(self, url: str, dialect: Dialect, *, pool_size: int, busy_timeout: float) -> None:
        self.url = make_url(url)
        self.dialect = dialect
        self.pool_size = pool_size
        self.busy_timeout = busy_timeout
        self._sqlite: sqlite3.Connection | None = None
        self._pg_pool: Any = None

    async def _pg(self) -> Any:
        if self._pg_pool is None:
            import asyncpg

            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg_pool = await asyncpg.create_pool(dsn, min_size=0, max_size=self.pool_size)
        return self._pg_pool

    def _sqlite_conn(self) -> sqlite3.Connection:
        if self._sqlite is None:
            conn = sqlite3.connect(
                self.url.database or ":memory:",
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA query_only=ON")
            self._sqlite = conn
        return self._sqlite

    async def fetch(self, query: HotQuery, params: dict[str, Any]) -> list[dict[str, Any]]:
        sql, order = query.compiled(self.dialect)
        args = [params[name] for name in order]
        if self.dialect.name == "sqlite":
            rows: list[Any] = self._sqlite_conn().execute(sql, args).fetchall()
        else:
            rows = await (await self._pg()).fetch(sql, *args)
        return [query.to_dict(row) for row in rows]

    async def fetch_one(self, query: HotQuery, params: dict[str, Any]) -> dict[str, Any] | None:
        rows = await self.fetch(query, params)
        return rows[0] if rows else None

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg_pool is not None:
            await self._pg_pool.close()
            self._pg_pool = None
