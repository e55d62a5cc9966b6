"""The process-wide objects a request or a worker needs, built once at start.

Holding them in one ``AppContext`` (rather than module globals) lets tests build as many isolated
apps as they like, each on its own database and data directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from videostudio.accounts.cache import AuthCache
from videostudio.catalog.service import Catalog, load_catalog
from videostudio.config import Settings
from videostudio.db import Database
from videostudio.media.storage import LocalStorage, MediaStorage
from videostudio.providers.registry import ProviderRegistry
from videostudio.providers.sandbox import SandboxProvider


@dataclass
class AppContext:
    settings: Settings
    db: Database
    catalog: Catalog
    storage: MediaStorage
    providers: ProviderRegistry
    auth_cache: AuthCache
    worker_wakeups: list[Callable[[], None]] = field(default_factory=list)

    def notify_worker(self) -> None:
        """Wake in-process workers now instead of at their next poll."""
        for wake in self.worker_wakeups:
            wake()


def build_context(settings: Settings) -> AppContext:
    """Load the catalog (raising ``CatalogError`` if bad) and open the database."""
    catalog = load_catalog(settings.catalog_path)
    storage = LocalStorage(settings.media_dir)
    providers = ProviderRegistry([SandboxProvider(storage)])
    for model in catalog.models.values():
        providers.route(model)
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        sqlite_synchronous=settings.sqlite_synchronous.upper(),
    )
    return AppContext(
        settings=settings,
        db=db,
        catalog=catalog,
        storage=storage,
        providers=providers,
        auth_cache=AuthCache(settings.auth_cache_seconds),
    )
