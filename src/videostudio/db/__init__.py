"""Storage: one async SQLAlchemy layer over SQLite (embedded) and PostgreSQL (scale)."""

from videostudio.db.base import Base, UTCDateTime, utcnow
from videostudio.db.database import Database, Executor

__all__ = ["Base", "Database", "Executor", "UTCDateTime", "utcnow"]
