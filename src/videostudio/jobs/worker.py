"""The job worker: claims jobs from the jobs table and drives them to a terminal state.

Guarantees (each locked by a test):

- A claimed job carries a lease that a heartbeat renews every third of its length. If the worker
  dies, the lease runs out and any worker (in this process or another machine) claims it again.
- Every terminal write is guarded by the lease, so a job never completes twice, and a worker that
  lost its lease stops its render and throws its output away.
- A job that fails is refunded exactly once, in the same transaction that marks it failed; a job
  claimed more than ``max_attempts`` times (it keeps killing its worker) fails with a refund.
- On a clean shutdown, unfinished jobs are handed back (``pending``) for the next worker at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from videostudio.context import AppContext
from videostudio.db import utcnow
from videostudio.jobs import service as jobs
from videostudio.jobs.models import PENDING, PROCESSING, Job
from videostudio.providers.base import (
    JobSpec,
    ProgressCallback,
    Provider,
    ProviderStatus,
    ProviderUpdate,
)

log = logging.getLogger("videostudio.worker")


class LeaseLost(Exception):
    """This worker no longer holds the job it was working on."""


@dataclass
class _Lease:
    progress: int = 0
    lost: bool = False
    provider_job_id: str | None = None


def make_worker_id() -> str:
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


class Worker:
    def __init__(self, ctx: AppContext, *, worker_id: str | None = None) -> None:
        self.ctx = ctx
        self.id = worker_id or make_worker_id()
        settings = ctx.settings
        self.concurrency = settings.worker_concurrency
        self.lease_seconds = settings.lease_seconds
        self.poll_interval = settings.worker_poll_interval_seconds
        self.max_attempts = settings.max_attempts
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._leases: dict[str, _Lease] = {}

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, grace_seconds: float = 10.0) -> None:
        """Claim and process jobs until ``stop`` is set, then wind down."""
        self.ctx.worker_wakeups.append(self.wake)
        log.info("worker %s started (concurrency %d)", self.id, self.concurrency)
        try:
            while not stop.is_set():
                if len(self._tasks) >= self.concurrency:
                    # Full: wait for a slot, but notice a stop request at once.
                    await self._until_any(stop, *self._tasks.values())
                    continue
                if await self._claim_and_start():
                    continue
                self._wake.clear()
                await self._until_any(stop, self._wake.wait(), wait_seconds=self.poll_interval)
        finally:
            self.ctx.worker_wakeups.remove(self.wake)
            await self._shutdown(grace_seconds)

    @staticmethod
    async def _until_any(
        stop: asyncio.Event, *awaitables: Awaitable[Any], wait_seconds: float | None = None
    ) -> None:
        """Wait until ``stop`` is set, any of ``awaitables`` is done, or ``wait_seconds`` pass.
        Job tasks passed in are only watched, never cancelled."""
        own: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        watched: list[asyncio.Future[Any]] = []
        for awaitable in awaitables:
            if isinstance(awaitable, asyncio.Future):
                watched.append(awaitable)
            else:
                own.append(asyncio.ensure_future(awaitable))
        try:
            await asyncio.wait(
                [*own, *watched], timeout=wait_seconds, return_when="FIRST_COMPLETED"
            )
        finally:
            for waiter in own:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim what is runnable now, process it to the end; returns how many jobs ran."""
        total = 0
        while True:
            started = await self._claim_and_start()
            if not started:
                break
            total += started
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        return total

    async def _claim_and_start(self) -> int:
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return 0
        try:
            async with self.ctx.db.write() as session:
                claimed = await jobs.claim(
                    session, worker_id=self.id, limit=free, lease_seconds=self.lease_seconds
                )
        except Exception:
            log.exception("claiming jobs failed; retrying")
            await asyncio.sleep(self.poll_interval)
            return 0
        for job in claimed:
            if job.id in self._tasks:
                continue  # already running here; the claim only renewed its lease
            lease = _Lease(provider_job_id=job.provider_job_id)
            self._leases[job.id] = lease
            task = asyncio.create_task(self._process(job, lease), name=f"job-{job.id}")
            self._tasks[job.id] = task
            task.add_done_callback(self._forget_task)
        return len(claimed)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        self._forget(task.get_name().removeprefix("job-"))

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._leases.pop(job_id, None)

    async def _shutdown(self, grace_seconds: float) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace_seconds)
        for job_id, lease in list(self._leases.items()):
            lease.lost = True
            with contextlib.suppress(Exception):
                await self._release(job_id)
        for task in list(self._tasks.values()):
            task.cancel()
        log.info("worker %s stopped", self.id)

    async def _release(self, job_id: str) -> None:
        async with self.ctx.db.write() as session:
            await session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == PROCESSING, Job.lease_owner == self.id)
                .values(
                    status=PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=Job.attempts - 1,
                    updated_at=utcnow(),
                )
            )

    async def _heartbeat(self, job_id: str, lease: _Lease) -> None:
        interval = max(0.2, self.lease_seconds / 3)
        while not lease.lost:
            await asyncio.sleep(interval)
            try:
                async with self.ctx.db.write() as session:
                    held = await jobs.heartbeat(
                        session,
                        job_id=job_id,
                        worker_id=self.id,
                        lease_seconds=self.lease_seconds,
                        progress=lease.progress,
                        provider_job_id=lease.provider_job_id,
                    )
            except Exception:
                log.exception("heartbeat for job %s failed; will retry", job_id)
                continue
            if not held:
                log.warning("worker %s lost the lease on job %s", self.id, job_id)
                lease.lost = True

    async def _process(self, job: Job, lease: _Lease) -> None:
        if job.attempts > self.max_attempts:
            await self._fail(job, f"Job failed after {self.max_attempts} attempts")
            return
        model = self.ctx.catalog.get(job.model_slug)
        provider = self.ctx.providers.get(job.provider)
        if model is None or provider is None:
            await self._fail(job, f"Model {job.model_slug} is no longer served by this service")
            return
        spec = JobSpec(
            job_id=job.id,
            account_id=job.account_id,
            model_slug=job.model_slug,
            mode=job.mode,
            params=job.params,
            provider_model=job.params.get("provider_model"),
        )

        def on_progress(value: int) -> None:
            if lease.lost:
                raise LeaseLost(job.id)
            lease.progress = value

        beat = asyncio.create_task(self._heartbeat(job.id, lease))
        try:
            update_ = await self._drive(provider, spec, lease, on_progress)
        except LeaseLost:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("job %s failed in engine %s", job.id, provider.name)
            await self._fail(job, f"Engine error: {exc}" if str(exc) else "Engine error")
            return
        finally:
            beat.cancel()
        await self._settle(job, update_, lease)

    async def _drive(
        self, provider: Provider, spec: JobSpec, lease: _Lease, on_progress: ProgressCallback
    ) -> ProviderUpdate:
        if lease.provider_job_id:
            update_ = await provider.poll(spec, lease.provider_job_id)
            if update_.status == ProviderStatus.QUEUED and not update_.provider_job_id:
                update_ = await provider.submit(spec, on_progress)
        else:
            update_ = await provider.submit(spec, on_progress)
        while not update_.status.terminal:
            if update_.provider_job_id:
                lease.provider_job_id = update_.provider_job_id
            if update_.progress is not None:
                on_progress(update_.progress)
            await asyncio.sleep(self.poll_interval)
            if lease.lost:
                raise LeaseLost(spec.job_id)
            update_ = await provider.poll(spec, lease.provider_job_id or "")
        return update_

    async def _settle(self, job: Job, update_: ProviderUpdate, lease: _Lease) -> None:
        if lease.lost:
            self._discard(update_)
            return
        if update_.status == ProviderStatus.SUCCEEDED:
            async with self.ctx.db.write() as session:
                done = await jobs.complete(
                    session,
                    job_id=job.id,
                    worker_id=self.id,
                    result_keys=update_.result_keys,
                    provider_meta=update_.meta,
                    last_frame_key=update_.last_frame_key,
                    thumbnail_key=update_.thumbnail_key,
                )
            if not done:
                self._discard(update_)
            return
        reason = update_.error or f"Provider reported {update_.status.value}"
        await self._fail(job, reason, update_.meta or None)

    def _discard(self, update_: ProviderUpdate) -> None:
        for key in [*update_.result_keys, update_.last_frame_key, update_.thumbnail_key]:
            if key:
                self.ctx.storage.discard(key)

    async def _fail(self, job: Job, reason: str, meta: dict[str, object] | None = None) -> None:
        async with self.ctx.db.write() as session:
            await jobs.fail(
                session,
                job=job,
                error_message=reason[:2000],
                worker_id=self.id,
                provider_meta={**job.provider_meta, **meta} if meta else None,
            )
