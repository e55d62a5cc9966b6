"""The CPU sandbox engine: renders a real MP4 from the request and its input media, locally.

It is the embedded default and what the tests use. Its output is always labelled as sandbox output
in ``provider_meta`` (``engine: "sandbox"``, ``sandbox: true``) and in the picture itself, so nobody
mistakes it for a model's work. Every generation mode is rendered from the real inputs
(``media.compose``): Ken Burns over an image, first/last-frame transitions, multimodal references,
video remix and Motion Control. Inputs are fetched and checked first (``providers.inputs``); an
input that cannot be used fails the job with a message naming the field, and the worker refunds.

Rendering is deterministic: the seed hashes the model, the parameters and the *content* of the
inputs (not their references), so an ``asset://`` ID and a URL to the same bytes give the same
video. The work runs in a thread so the event loop keeps serving requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from videostudio.catalog.rules import input_refs
from videostudio.catalog.service import Catalog
from videostudio.media.compose import (
    ComposeResult,
    ComposeSpec,
    InputMediaError,
    fit_output_size,
    render_job,
)
from videostudio.media.probe import probe_video
from videostudio.media.storage import MediaStorage, new_key
from videostudio.providers.base import (
    JobSpec,
    ProgressCallback,
    Provider,
    ProviderStatus,
    ProviderUpdate,
)
from videostudio.providers.inputs import InputRef, InputResolver, InputUnavailable, LocalInput

FPS = 24
# Share of the progress bar spent fetching inputs before rendering starts.
FETCH_PROGRESS = 10


def seed_for(job: JobSpec, inputs: list[LocalInput]) -> int:
    params = {key: value for key, value in job.params.items() if key != "inputs"}
    content = [[item.field, item.sha256] for item in inputs]
    blob = json.dumps([job.model_slug, params, content], sort_keys=True).encode("utf-8")
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big")


def _paths(inputs: list[LocalInput], field: str) -> tuple[Path, ...]:
    return tuple(item.path for item in inputs if item.field == field)


def _one(inputs: list[LocalInput], field: str) -> Path | None:
    found = _paths(inputs, field)
    return found[0] if found else None


def plan(job: JobSpec, inputs: list[LocalInput]) -> dict[str, Any]:
    """The ComposeSpec fields (besides size, timing and seed) for the job's mode and inputs."""
    mode = job.mode
    params = job.params
    images = _paths(inputs, "input_image_urls")
    if mode == "motion_control":
        return {"kind": "motion", "image": images[0], "video": _one(inputs, "input_video_urls")}
    if mode == "video_to_video":
        return {"kind": "remix", "video": _one(inputs, "input_video_urls")}
    seedance = params.get("seedance_mode")
    if seedance in ("first_frame", "first_last_frame"):
        return {
            "kind": "frames",
            "first_frame": _one(inputs, "first_frame_url"),
            "last_frame": _one(inputs, "last_frame_url"),
        }
    if seedance == "multimodal":
        audios = _paths(inputs, "reference_audio_urls")
        return {
            "kind": "multimodal",
            "reference_images": _paths(inputs, "reference_image_urls"),
            "reference_videos": _paths(inputs, "reference_video_urls"),
            "audio": audios[0] if audios else None,
        }
    start, end = _one(inputs, "start_frame_url"), _one(inputs, "end_frame_url")
    if start or end:  # Kling start/end frames; the input image stands in for a missing start
        return {
            "kind": "frames",
            "first_frame": start or (images[0] if images else None),
            "last_frame": end,
        }
    if len(images) >= 2:  # Veo with two images: first and last frame
        return {"kind": "frames", "first_frame": images[0], "last_frame": images[1]}
    if images:
        return {"kind": "image", "image": images[0]}
    return {"kind": "text"}


def _source_size(inputs: list[LocalInput]) -> tuple[int, int] | None:
    """The size the output follows when the request leaves the shape open: the driving video
    if there is one (remix, Motion Control), else the first visual input."""
    videos = [item for item in inputs if item.info.kind == "video"]
    for item in videos + inputs:
        if item.info.width and item.info.height:
            return item.info.width, item.info.height
    return None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


class SandboxProvider(Provider):
    name = "sandbox"

    def __init__(self, storage: MediaStorage, catalog: Catalog, resolver: InputResolver) -> None:
        self.storage = storage
        self.catalog = catalog
        self.resolver = resolver

    def _refs(self, job: JobSpec) -> list[InputRef]:
        model = self.catalog.get(job.model_slug)
        refs = []
        for name, label, ref in input_refs(job.params.get("inputs") or {}):
            spec = model.inputs.get(name) if model else None
            refs.append(InputRef(name, label, ref, spec.kind if spec else "image"))
        return refs

    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        workdir = self.storage.staging_path(f"-job-{job.job_id[:8]}")
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
        try:
            refs = self._refs(job)
            try:
                inputs = await self.resolver.resolve(job.account_id, refs, workdir)
            except InputUnavailable as exc:
                return ProviderUpdate(status=ProviderStatus.FAILED, error=str(exc))
            progress(FETCH_PROGRESS if refs else 0)
            return await self._render(job, inputs, progress)
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)

    async def _render(
        self, job: JobSpec, inputs: list[LocalInput], progress: ProgressCallback
    ) -> ProviderUpdate:
        params = job.params
        fields = plan(job, inputs)
        duration = int(params["duration_seconds"])
        if fields["kind"] == "motion":
            motion = next(item for item in inputs if item.field == "input_video_urls")
            length = motion.info.duration_seconds or 0.0
            if length + 0.05 < duration:
                return ProviderUpdate(
                    status=ProviderStatus.FAILED,
                    error=f"{motion.label}: the motion video is {length:.1f} s long, shorter than "
                    f"duration_seconds {duration}; send a duration no longer than the clip",
                )
        width, height = fit_output_size(
            params.get("aspect_ratio"), params.get("quality_mode"), _source_size(inputs)
        )
        spec = ComposeSpec(
            prompt=params.get("prompt") or job.model_slug,
            width=width,
            height=height,
            duration_seconds=duration,
            fps=FPS,
            sound=bool(params.get("sound")),
            seed=seed_for(job, inputs),
            **fields,
        )
        video_key = new_key("results", "mp4")
        poster_key = new_key("frames", "jpg")
        last_key = new_key("frames", "png") if params.get("return_last_frame") else None
        keys = [key for key in (video_key, poster_key, last_key) if key]
        start = FETCH_PROGRESS if inputs else 0

        def on_progress(fraction: float) -> None:
            progress(start + int(fraction * (100 - start)))

        try:
            result = await asyncio.to_thread(
                render_job,
                spec,
                self.storage.temp_path(video_key),
                poster_path=self.storage.temp_path(poster_key),
                last_frame_path=self.storage.temp_path(last_key) if last_key else None,
                on_progress=on_progress,
            )
        except InputMediaError as exc:
            self._discard(keys)
            message = str(exc)
            for item in inputs:  # name the request field, not our scratch file
                message = message.replace(str(item.path), item.label)
                message = message.replace(item.path.name, item.label)
            return ProviderUpdate(status=ProviderStatus.FAILED, error=message)
        except BaseException:
            self._discard(keys)
            raise
        try:
            for key in keys:
                self.storage.commit(key)
            meta = self._meta(job, spec, result, inputs, video_key)
        except BaseException:
            self._discard(keys)
            raise
        return ProviderUpdate(
            status=ProviderStatus.SUCCEEDED,
            progress=100,
            result_keys=[video_key],
            last_frame_key=last_key,
            thumbnail_key=poster_key,
            meta=meta,
        )

    def _discard(self, keys: list[str]) -> None:
        for key in keys:
            self.storage.discard(key)

    def _meta(
        self,
        job: JobSpec,
        spec: ComposeSpec,
        result: ComposeResult,
        inputs: list[LocalInput],
        video_key: str,
    ) -> dict[str, Any]:
        path = self.storage.local_path(video_key)
        probe = probe_video(path) if path else None
        duration = probe.duration_seconds if probe else result.duration_seconds
        meta: dict[str, Any] = {
            "engine": "sandbox",
            "sandbox": True,
            "note": "Rendered by the CPU sandbox engine, not by the model.",
            "render_kind": spec.kind,
            "effective_duration_seconds": int(duration)
            if float(duration).is_integer()
            else round(duration, 3),
            "width": probe.width if probe else result.width,
            "height": probe.height if probe else result.height,
            "fps": _number(probe.fps) if probe else result.fps,
            "duration_seconds": round(duration, 3),
            "has_audio": probe.has_audio if probe else result.has_audio,
            "bytes": result.bytes,
            "seed": spec.seed,
        }
        if job.params.get("quality_mode"):
            meta["quality_mode"] = job.params["quality_mode"]
        if inputs:
            meta["inputs"] = [
                {
                    "field": item.label,
                    "source": item.source,
                    "kind": item.info.kind,
                    "content_type": item.info.content_type,
                    "sha256": item.sha256,
                    "bytes": item.info.bytes,
                    "width": item.info.width,
                    "height": item.info.height,
                    "duration_seconds": item.info.duration_seconds,
                }
                for item in inputs
            ]
        return meta

    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        # Rendering finishes inside submit; a job seen again after a crash is simply re-rendered.
        return ProviderUpdate(status=ProviderStatus.QUEUED)
