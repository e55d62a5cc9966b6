"""Every table, imported in one place so Alembic and tests see the whole schema."""

from videostudio.accounts.models import Account, ApiKey
from videostudio.assets.models import Asset
from videostudio.billing.models import LedgerEntry, RateLimitWindow
from videostudio.db import Base
from videostudio.jobs.models import Job

__all__ = ["Account", "ApiKey", "Asset", "Base", "Job", "LedgerEntry", "RateLimitWindow"]
