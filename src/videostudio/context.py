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
from videostudio.media.fetch import FetchPolicy, parse_networks
from videostudio.media.inspect import KindLimits, MediaLimits
from videostudio.media.storage import LocalStorage, MediaStorage
from videostudio.providers.inputs import InputResolver
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
    media_limits: MediaLimits
    worker_wakeups: list[Callable[[], None]] = field(default_factory=list)

    def notify_worker(self) -> None:
        """Wake in-process workers now instead of at their next poll."""
        for wake in self.worker_wakeups:
            wake()


MB = 1024 * 1024


def media_limits(settings: Settings) -> MediaLimits:
    """The operator's input-media limits (uploads and downloaded URLs alike)."""
    defaults = MediaLimits.defaults()
    return MediaLimits(
        image=KindLimits(
            max_bytes=int(settings.image_max_mb * MB),
            formats=defaults.image.formats,
            min_side=settings.image_min_side,
            max_side=settings.image_max_side,
            min_aspect=settings.image_min_aspect,
            max_aspect=settings.image_max_aspect,
        ),
        video=KindLimits(
            max_bytes=int(settings.video_max_mb * MB),
            formats=defaults.video.formats,
            min_seconds=settings.video_min_seconds,
            max_seconds=settings.video_max_seconds,
        ),
        audio=KindLimits(
            max_bytes=int(settings.audio_max_mb * MB),
            formats=defaults.audio.formats,
            min_seconds=defaults.audio.min_seconds,
            max_seconds=settings.audio_max_seconds,
        ),
    )


def fetch_policy(settings: Settings, limits: MediaLimits) -> FetchPolicy:
    """How the worker downloads https:// inputs (the resolver narrows the cap per input kind)."""
    return FetchPolicy(
        max_bytes=limits.largest_max_bytes,
        connect_timeout=settings.fetch_connect_timeout_seconds,
        total_timeout=settings.fetch_timeout_seconds,
        max_redirects=settings.fetch_max_redirects,
        allowed_networks=parse_networks(settings.fetch_allow_networks),
        ca_bundle=settings.fetch_ca_bundle,
    )


def build_context(settings: Settings) -> AppContext:
    """Load the catalog (raising ``CatalogError`` if bad) and open the database."""
    catalog = load_catalog(settings.catalog_path)
    from videostudio.assets.service import stored_lookup

    storage = LocalStorage(settings.media_dir)
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        sqlite_synchronous=settings.sqlite_synchronous.upper(),
    )
    limits = media_limits(settings)
    resolver = InputResolver(storage, limits, fetch_policy(settings, limits), stored_lookup(db))
    providers = ProviderRegistry([SandboxProvider(storage, catalog, resolver)])
    for model in catalog.models.values():
        providers.route(model)
    return AppContext(
        settings=settings,
        db=db,
        catalog=catalog,
        storage=storage,
        providers=providers,
        auth_cache=AuthCache(settings.auth_cache_seconds),
        media_limits=limits,
    )
