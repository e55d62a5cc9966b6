"""A short-lived, bounded cache of API-key lookups.

Authentication runs on every request; caching a key's account for a few seconds turns the hottest
query into a dict read. The price is stated plainly: a revoked key keeps working in *other*
processes for at most ``AUTH_CACHE_SECONDS`` (0 disables the cache). Unknown keys are never cached,
so a guessed key costs a lookup every time and cannot fill memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAccount:
    id: str
    name: str
    is_operator: bool


class AuthCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, CachedAccount]] = OrderedDict()

    def get(self, key_hash: str) -> CachedAccount | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, account = entry
        if expires < time.monotonic():
            del self._entries[key_hash]
            return None
        return account

    def put(self, key_hash: str, account: CachedAccount) -> None:
        if self.ttl <= 0:
            return
        self._entries[key_hash] = (time.monotonic() + self.ttl, account)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, key_hash: str) -> None:
        self._entries.pop(key_hash, None)

    def clear(self) -> None:
        self._entries.clear()
