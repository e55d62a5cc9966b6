"""Where result files live, and the URLs they are served under.

One small interface (``MediaStorage``) so results and, later, uploaded assets can move to object
storage without touching the worker or the views. The local implementation writes under
``DATA_DIR/media``. Keys are ``<folder>/<random>.<ext>`` with 192 random bits, so a file's URL is
unguessable and works without a key in a ``<video src>``; files are written to a temporary name and
renamed into place, so a half-written file is never served.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from abc import ABC, abstractmethod
from pathlib import Path

KEY_RE = re.compile(r"^(results|frames|assets)/[A-Za-z0-9_\-]{16,64}\.(mp4|png|jpg|webp|mp3|wav)$")


def new_key(folder: str, extension: str) -> str:
    return f"{folder}/{secrets.token_urlsafe(24)}.{extension}"


class MediaStorage(ABC):
    @abstractmethod
    def temp_path(self, key: str) -> Path:
        """A local path to write ``key``'s content to before ``commit``."""

    @abstractmethod
    def commit(self, key: str) -> int:
        """Publish the file written at ``temp_path(key)``; returns its size in bytes."""

    @abstractmethod
    def discard(self, key: str) -> None:
        """Remove a temporary or published file, if present."""

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The published file for ``key``, or None if it does not exist."""

    @abstractmethod
    def sweep_temporary(self, *, older_than_seconds: float) -> int:
        """Delete partial files left by crashed renders; returns how many were removed."""


class LocalStorage(MediaStorage):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"

    def _path(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise ValueError(f"invalid media key {key!r}")
        return self.root / key

    def temp_path(self, key: str) -> Path:
        self._path(key)
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / key.replace("/", "_")

    def commit(self, key: str) -> int:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = self.temp_path(key)
        size = temp.stat().st_size
        os.replace(temp, final)
        return size

    def discard(self, key: str) -> None:
        for path in (self.temp_path(key), self._path(key)):
            path.unlink(missing_ok=True)

    def sweep_temporary(self, *, older_than_seconds: float) -> int:
        # Only old files: another process sharing this directory may be writing a fresh one.
        if not self.tmp.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.tmp.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def local_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None
