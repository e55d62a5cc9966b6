"""Turning a job's input references into checked local files, for engines that render locally.

Every ``*_url`` / ``*_urls`` value is either an ``asset://`` ID or an ``https://`` URL. Assets are
looked up again (scoped by the job's account: a deleted asset fails the job, it is never swapped
for another) and URLs are downloaded by ``media.fetch`` (SSRF guard, byte cap, timeouts). Either
way the file is then decoded by ``media.inspect`` against the operator's limits and the kind its
field takes, so an image that is too small, a video that is too long, a truncated file or a body
that lies about its type all stop here, with a message that names the field. The caller turns
``InputUnavailable`` into a failed job and a refund.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from videostudio.assets.models import ASSET_SCHEME
from videostudio.media.fetch import FetchError, FetchPolicy, download
from videostudio.media.inspect import (
    MediaInfo,
    MediaKind,
    MediaLimits,
    MediaRejected,
    inspect_media,
)
from videostudio.media.storage import MediaStorage

PARALLEL_DOWNLOADS = 4


@dataclass(frozen=True)
class StoredAsset:
    storage_key: str
    sha256: str


# (account_id, refs) -> {ref: StoredAsset} for the refs that are the account's assets.
AssetLookup = Callable[[str, list[str]], Awaitable[dict[str, StoredAsset]]]


@dataclass(frozen=True)
class InputRef:
    field: str  # request field, e.g. "input_image_urls"
    label: str  # how errors name it, e.g. "input_image_urls[0]"
    ref: str  # the asset:// ID or https:// URL as sent
    kind: MediaKind


@dataclass(frozen=True)
class LocalInput:
    field: str
    label: str
    ref: str
    source: Literal["asset", "url"]
    path: Path
    sha256: str
    info: MediaInfo


class InputUnavailable(Exception):
    """An input could not be used; ``str(exc)`` is the job's error_message."""


class InputResolver:
    def __init__(
        self,
        storage: MediaStorage,
        limits: MediaLimits,
        fetch_policy: FetchPolicy,
        lookup: AssetLookup,
    ) -> None:
        self.storage = storage
        self.limits = limits
        self.fetch_policy = fetch_policy
        self.lookup = lookup

    async def resolve(
        self, account_id: str, refs: list[InputRef], workdir: Path
    ) -> list[LocalInput]:
        """Local, checked files for ``refs`` (same order); raises ``InputUnavailable``."""
        asset_refs = [item.ref for item in refs if item.ref.startswith(ASSET_SCHEME)]
        stored = await self.lookup(account_id, asset_refs) if asset_refs else {}
        gate = asyncio.Semaphore(PARALLEL_DOWNLOADS)

        async def one(index: int, item: InputRef) -> LocalInput:
            async with gate:
                return await self._resolve_one(index, item, stored, workdir)

        # A task group cancels the other downloads as soon as one input fails.
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(i, item)) for i, item in enumerate(refs)]
        except* InputUnavailable as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _resolve_one(
        self, index: int, item: InputRef, stored: dict[str, StoredAsset], workdir: Path
    ) -> LocalInput:
        if item.ref.startswith(ASSET_SCHEME):
            asset = stored.get(item.ref)
            path = self.storage.local_path(asset.storage_key) if asset else None
            if asset is None or path is None:
                raise InputUnavailable(f"{item.label}: {item.ref} no longer exists")
            source: Literal["asset", "url"] = "asset"
            sha256 = asset.sha256
        else:
            policy = replace(self.fetch_policy, max_bytes=self.limits.for_kind(item.kind).max_bytes)
            try:
                downloaded = await download(item.ref, workdir / f"input-{index}", policy)
            except FetchError as exc:
                raise InputUnavailable(f"{item.label}: {exc}") from None
            source, path, sha256 = "url", downloaded.path, downloaded.sha256
        try:
            info = await asyncio.to_thread(
                inspect_media, path, limits=self.limits, expected=item.kind, label=item.label
            )
        except MediaRejected as exc:
            raise InputUnavailable(str(exc)) from None
        return LocalInput(
            field=item.field,
            label=item.label,
            ref=item.ref,
            source=source,
            path=path,
            sha256=sha256,
            info=info,
        )
