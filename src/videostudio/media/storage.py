"""Where result files and uploaded assets live, and the URLs they are served under.

One small interface (``MediaStorage``) for results, posters, last frames and assets, so they can
move to object storage without touching the worker, the uploads or the views. The local
implementation writes under ``DATA_DIR/media``. Result keys are ``<folder>/<random>.<ext>`` with
192 random bits, so a file's URL is unguessable and works without a key in a ``<video src>``.
Asset keys are derived from the account and the content hash (``asset_key``), so the same bytes
uploaded twice by one account are one file. Files are written to a temporary name and renamed
into place, so a half-written file is never served.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FOLDERS = ("results", "frames", "assets")
KEY_RE = re.compile(  # always used with fullmatch: "$" would accept a trailing newline
    r"^(results|frames|assets)/[A-Za-z0-9_\-]{16,64}\."
    r"(mp4|mov|webm|png|jpg|webp|gif|mp3|wav|m4a)$"
)


def new_key(folder: str, extension: str) -> str:
    return f"{folder}/{secrets.token_urlsafe(24)}.{extension}"


def asset_key(account_id: str, sha256: str, extension: str) -> str:
    """The storage key of an account's asset with this content: stable, so duplicates share it,
    and unguessable without both the account's ID and the bytes themselves."""
    digest = hashlib.sha256(f"{account_id}:{sha256}".encode()).digest()
    return f"assets/{base64.urlsafe_b64encode(digest).decode()[:40]}.{extension}"


@dataclass(frozen=True)
class StoredFile:
    key: str
    bytes: int
    modified: float  # POSIX timestamp


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

    @abstractmethod
    def staging_path(self, suffix: str = "") -> Path:
        """A fresh local path for content whose key is not known yet (an upload being hashed)."""

    @abstractmethod
    def commit_file(self, path: Path, key: str) -> int:
        """Publish the local file ``path`` (from ``staging_path``) under ``key``; returns bytes."""

    @abstractmethod
    def delete(self, key: str) -> int:
        """Remove a published file; returns the bytes freed (0 if it did not exist)."""

    @abstractmethod
    def iter_files(self, folder: str) -> Iterator[StoredFile]:
        """Every published file in ``folder`` (one of ``FOLDERS``)."""


class LocalStorage(MediaStorage):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"

    def _path(self, key: str) -> Path:
        if not KEY_RE.fullmatch(key):
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
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:  # another process just moved it into place
                continue
            if path.is_dir():  # a crashed job's download folder
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
        return removed

    def local_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    def staging_path(self, suffix: str = "") -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"staging-{secrets.token_hex(12)}{suffix}"

    def commit_file(self, path: Path, key: str) -> int:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        size = path.stat().st_size
        os.replace(path, final)
        return size

    def delete(self, key: str) -> int:
        try:
            path = self._path(key)
            size = path.stat().st_size
            path.unlink()
        except (ValueError, FileNotFoundError):
            return 0
        return size

    def iter_files(self, folder: str) -> Iterator[StoredFile]:
        if folder not in FOLDERS:
            raise ValueError(f"unknown media folder {folder!r}")
        directory = self.root / folder
        if not directory.is_dir():
            return
        with os.scandir(directory) as entries:
            for entry in entries:
                key = f"{folder}/{entry.name}"
                if entry.is_file() and KEY_RE.fullmatch(key):
                    stat = entry.stat()
                    yield StoredFile(key=key, bytes=stat.st_size, modified=stat.st_mtime)
