"""Storage: one async SQLAlchemy layer over SQLite (embedded) and PostgreSQL (scale)."""

from videostudio.db.base import Base, UTCDateTime, utcnow
from videostudio.db.database import Database

__all__ = ["Base", "Database", "UTCDateTime", "utcnow"]
