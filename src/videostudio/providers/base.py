"""The one small interface every engine and upstream provider implements.

A provider turns a validated job into output files through ``submit`` (start the work) and ``poll``
(ask how it is going), can ``cancel`` it, and can read the provider's own webhook bodies.
Whatever the provider calls its states, it answers with a ``ProviderUpdate`` in one normalised
status set, so the worker's logic is the same for a local render and a remote API. Upstream
adapters store their ``provider_job_id`` right after submit and, after a restart, resume with
``poll`` rather than submitting (and paying) again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ProviderStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self not in (ProviderStatus.QUEUED, ProviderStatus.RUNNING)


@dataclass(frozen=True)
class JobSpec:
    """What a provider needs to know about one job."""

    job_id: str
    account_id: str
    model_slug: str
    mode: str
    params: dict[str, Any]
    provider_model: str | None = None


@dataclass
class ProviderUpdate:
    status: ProviderStatus
    provider_job_id: str | None = None
    progress: int | None = None
    result_keys: list[str] = field(default_factory=list)
    last_frame_key: str | None = None
    thumbnail_key: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


# Reports progress 0-100. Safe to call from any thread; it raises to abort the work (the worker
# uses that when it has lost the job's lease).
ProgressCallback = Callable[[int], None]


class Provider(ABC):
    """An engine or upstream API that can produce a video for a job."""

    name: str

    @abstractmethod
    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        """Start (or, for local engines, do) the work."""

    @abstractmethod
    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        """The current state of a submitted job."""

    async def cancel(self, job: JobSpec, provider_job_id: str) -> None:  # noqa: B027
        """Ask the provider to stop; the default is a no-op for engines that cannot."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ProviderUpdate | None:
        """Read a provider callback; None when the provider sends none."""
        return None
