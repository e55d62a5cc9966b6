"""The CPU sandbox engine: renders a real MP4 from the request, locally, with no upstream.

It is the embedded default and what the tests use. Its output is always labelled as sandbox output
in ``provider_meta`` (``engine: "sandbox"``, ``sandbox: true``) and in the picture itself, so nobody
mistakes it for a model's work. Rendering is deterministic: the seed is a hash of the model and the
normalised parameters, so the same request gives the same video. The work runs in a thread so the
event loop keeps serving requests; the encoder and NumPy release the GIL for the heavy parts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from videostudio.media.render import RenderSpec, output_size, render_text_to_video
from videostudio.media.storage import MediaStorage, new_key
from videostudio.providers.base import (
    JobSpec,
    ProgressCallback,
    Provider,
    ProviderStatus,
    ProviderUpdate,
)

FPS = 24


def seed_for(job: JobSpec) -> int:
    blob = json.dumps([job.model_slug, job.params], sort_keys=True).encode("utf-8")
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big")


def render_spec(job: JobSpec) -> RenderSpec:
    params = job.params
    width, height = output_size(params.get("aspect_ratio"), params.get("quality_mode"))
    return RenderSpec(
        prompt=params.get("prompt") or job.model_slug,
        width=width,
        height=height,
        duration_seconds=int(params["duration_seconds"]),
        fps=FPS,
        sound=bool(params.get("sound")),
        seed=seed_for(job),
    )


class SandboxProvider(Provider):
    name = "sandbox"

    def __init__(self, storage: MediaStorage) -> None:
        self.storage = storage

    async def submit(self, job: JobSpec, progress: ProgressCallback) -> ProviderUpdate:
        spec = render_spec(job)
        key = new_key("results", "mp4")
        path = self.storage.temp_path(key)

        def on_progress(fraction: float) -> None:
            progress(int(fraction * 100))

        try:
            result = await asyncio.to_thread(render_text_to_video, spec, path, on_progress)
        except BaseException:
            self.storage.discard(key)
            raise
        self.storage.commit(key)
        meta: dict[str, Any] = {
            "engine": "sandbox",
            "sandbox": True,
            "note": "Rendered by the CPU sandbox engine, not by the model.",
            "effective_duration_seconds": (
                int(result.duration_seconds)
                if float(result.duration_seconds).is_integer()
                else result.duration_seconds
            ),
            "width": result.width,
            "height": result.height,
            "fps": result.fps,
            "has_audio": result.has_audio,
            "bytes": result.bytes,
            "seed": spec.seed,
        }
        if job.params.get("quality_mode"):
            meta["quality_mode"] = job.params["quality_mode"]
        if job.params.get("inputs"):
            # This engine version renders every mode from the prompt alone; say so.
            meta["input_media_rendered"] = False
        if job.params.get("return_last_frame"):
            meta["last_frame_rendered"] = False
        return ProviderUpdate(
            status=ProviderStatus.SUCCEEDED, progress=100, result_keys=[key], meta=meta
        )

    async def poll(self, job: JobSpec, provider_job_id: str) -> ProviderUpdate:
        # Rendering finishes inside submit; a job seen again after a crash is simply re-rendered.
        return ProviderUpdate(status=ProviderStatus.QUEUED)
