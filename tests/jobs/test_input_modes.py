"""Every generation mode with real input media, end to end: HTTP request, worker, decoded output.

Invariants locked here, for inputs given as https:// URLs (served by a real local HTTPS server)
and as ``asset://`` IDs: the job completes; the MP4 decodes at the expected size, fps, frame
count and duration, with audio exactly when asked for or given; a poster JPEG
(``thumbnail_url``) and, when asked, the last frame PNG (``last_frame_url``) are served;
first/last-frame modes start on the first image and end on the last (PSNR >= 30 dB outside the
SANDBOX badge, against the image fitted to the output); ``provider_meta`` is labelled sandbox
and reports the probed output and the inputs by content hash; an ``asset://`` ID and a URL to
the same bytes give byte-identical output. Rendering only: runs on SQLite (billing on both
engines is locked by ``test_input_refusals``).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.conftest import Harness
from tests.https_server import HTTPSFileServer
from tests.jobs.inputs_support import media_overrides, media_path, run_job
from tests.samples import clip_bytes, image_array, image_bytes, psnr, tone_wav_bytes
from videostudio.jobs.worker import Worker
from videostudio.media.render import badge_rect

pytestmark = pytest.mark.slow
# Outside the SANDBOX badge, a frame of these textured test images keeps ~35 dB through yuv420p
# and CRF 26 (tests/media/test_compose.py asks 30 dB); an unrelated image scores about 10 dB.
FRAME_PSNR_DB = 30.0


def image_psnr(decoded: np.ndarray, expected: np.ndarray) -> float:
    """PSNR with the burnt-in badge blanked in both (it is there on purpose)."""
    height, width = decoded.shape[:2]
    x, y, w, h = badge_rect(width, height)
    decoded, expected = decoded.copy(), expected.copy()
    decoded[y : y + h, x : x + w] = 0
    expected[y : y + h, x : x + w] = 0
    return psnr(decoded, expected)


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


def fitted(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """The image cover-fitted to the output size, as the engine fits first/last frames."""
    image = ImageOps.fit(Image.fromarray(array), (width, height), Image.Resampling.BILINEAR)
    return np.asarray(image)


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info = {
            "size": (video.width, video.height),
            "fps": float(video.average_rate or 0),
            "duration": float(container.duration or 0) / av.time_base,
            "audio": bool(container.streams.audio),
        }
        info["frames"] = sum(1 for _ in container.decode(video=0))
    return info


def frame(path: Path, which: str) -> np.ndarray:
    first = last = None
    with av.open(str(path)) as container:
        for decoded in container.decode(video=0):
            rgb = decoded.to_ndarray(format="rgb24")
            first = rgb if first is None else first
            last = rgb
    assert first is not None and last is not None
    return first if which == "first" else last


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, https_files: HTTPSFileServer) -> Any:
    return media_overrides(request, https_files)


async def check_common(
    harness: Harness, job: dict[str, Any], size: tuple[int, int], seconds: int, audio: bool
) -> Path:
    assert job["status"] == "completed", job
    meta = job["provider_meta"]
    assert meta["engine"] == "sandbox" and meta["sandbox"] is True
    path = media_path(harness, job["result_urls"][0])
    info = probe(path)
    assert info["size"] == size
    assert info["fps"] == 24
    assert info["frames"] == seconds * 24
    assert abs(info["duration"] - seconds) < 0.1
    assert info["audio"] is audio
    assert (meta["width"], meta["height"], meta["fps"]) == (*size, 24)
    assert meta["has_audio"] is audio
    assert abs(meta["duration_seconds"] - seconds) < 0.1
    poster = await harness.client.get(job["thumbnail_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(poster.content)).size == size
    return path


async def test_image_to_video_ken_burns(harness: Harness, https_files: HTTPSFileServer) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/i2v.png", image_bytes(800, 450, seed=11), "image/png")
    job = await run_job(
        harness,
        key,
        model_slug="wan_2_6",
        prompt="slow pan",
        quality_mode="720p",
        duration_seconds=5,
        input_image_urls=[https_files.url("/i2v.png")],
    )
    path = await check_common(harness, job, (1280, 720), 5, audio=False)
    assert job["mode"] == "image_to_video"
    assert job["provider_meta"]["inputs"][0]["source"] == "url"
    first = frame(path, "first")
    assert image_psnr(first, fitted(image_array(800, 450, seed=11), 1280, 720)) >= FRAME_PSNR_DB
    last = frame(path, "last")
    assert psnr(first, last) < 40  # it moved


async def test_first_and_last_frame_with_last_frame_png(
    harness: Harness, https_files: HTTPSFileServer
) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/first.png", image_bytes(640, 480, seed=1), "image/png")
    https_files.add_file("/last.png", image_bytes(640, 480, seed=2), "image/png")
    job = await run_job(
        harness,
        key,
        model_slug="seedance_2",
        prompt="morph",
        seedance_mode="first_last_frame",
        quality_mode="480p",
        duration_seconds=4,
        aspect_ratio="adaptive",
        return_last_frame=True,
        first_frame_url=https_files.url("/first.png"),
        last_frame_url=https_files.url("/last.png"),
    )
    size = (640, 480)  # adaptive: the images' 4:3 at 480p
    path = await check_common(harness, job, size, 4, audio=False)
    assert image_psnr(frame(path, "first"), fitted(image_array(640, 480, seed=1), *size)) >= (
        FRAME_PSNR_DB
    )
    assert image_psnr(frame(path, "last"), fitted(image_array(640, 480, seed=2), *size)) >= (
        FRAME_PSNR_DB
    )
    png = await harness.client.get(job["last_frame_url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    last_png = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGB"))
    assert last_png.shape == (480, 640, 3)
    assert psnr(last_png, frame(path, "last")) >= FRAME_PSNR_DB


async def test_kling_start_and_end_frames(harness: Harness, https_files: HTTPSFileServer) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/start.jpg", image_bytes(720, 720, seed=3, fmt="JPEG"), "image/jpeg")
    https_files.add_file("/end.jpg", image_bytes(720, 720, seed=4, fmt="JPEG"), "image/jpeg")
    job = await run_job(
        harness,
        key,
        model_slug="kling_3_0",
        prompt="turn",
        quality_mode="std",
        duration_seconds=3,
        start_frame_url=https_files.url("/start.jpg"),
        end_frame_url=https_files.url("/end.jpg"),
    )
    await check_common(harness, job, (720, 720), 3, audio=False)  # follows the square frames
    assert job["provider_meta"]["render_kind"] == "frames"


async def test_veo_two_images_are_first_and_last(
    harness: Harness, https_files: HTTPSFileServer
) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/v1.png", image_bytes(640, 360, seed=5), "image/png")
    https_files.add_file("/v2.png", image_bytes(640, 360, seed=6), "image/png")
    job = await run_job(
        harness,
        key,
        model_slug="veo31_lite",
        prompt="two shots",
        aspect_ratio="16:9",
        sound=True,
        input_image_urls=[https_files.url("/v1.png"), https_files.url("/v2.png")],
    )
    path = await check_common(harness, job, (1280, 720), 8, audio=True)
    assert image_psnr(frame(path, "last"), fitted(image_array(640, 360, seed=6), 1280, 720)) >= (
        FRAME_PSNR_DB
    )


async def test_multimodal_references_and_soundtrack(
    harness: Harness, https_files: HTTPSFileServer, tmp_path: Path
) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/r1.png", image_bytes(640, 360, seed=7), "image/png")
    https_files.add_file("/r2.png", image_bytes(640, 360, seed=8), "image/png")
    https_files.add_file("/r.mp4", clip_bytes(tmp_path, seconds=2), "video/mp4")
    https_files.add_file("/tone.wav", tone_wav_bytes(1.5), "audio/wav")
    job = await run_job(
        harness,
        key,
        model_slug="seedance_2",
        prompt="refs",
        seedance_mode="multimodal",
        quality_mode="480p",
        duration_seconds=4,
        aspect_ratio="16:9",
        reference_image_urls=[https_files.url("/r1.png"), https_files.url("/r2.png")],
        reference_video_urls=[https_files.url("/r.mp4")],
        reference_audio_urls=[https_files.url("/tone.wav")],
    )
    await check_common(harness, job, (854, 480), 4, audio=True)  # the audio became the track
    kinds = [item["kind"] for item in job["provider_meta"]["inputs"]]
    assert kinds == ["image", "image", "video", "audio"]


async def test_video_remix(harness: Harness, https_files: HTTPSFileServer, tmp_path: Path) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/src.mp4", clip_bytes(tmp_path, seconds=3), "video/mp4")
    job = await run_job(
        harness,
        key,
        model_slug="wan_2_6_v2v",
        prompt="make it neon",
        quality_mode="720p",
        duration_seconds=5,
        input_video_urls=[https_files.url("/src.mp4")],
    )
    await check_common(harness, job, (1280, 720), 5, audio=False)
    assert job["provider_meta"]["render_kind"] == "remix"


async def test_motion_control(
    harness: Harness, https_files: HTTPSFileServer, tmp_path: Path
) -> None:
    _, key = await harness.account(credits=10_000)
    https_files.add_file("/char.png", image_bytes(400, 600, seed=9), "image/png")
    https_files.add_file("/motion.mp4", clip_bytes(tmp_path, seconds=4), "video/mp4")
    job = await run_job(
        harness,
        key,
        model_slug="kling_3_0_motion_control",
        quality_mode="720p",
        duration_seconds=3,
        character_orientation="image",
        input_image_urls=[https_files.url("/char.png")],
        input_video_urls=[https_files.url("/motion.mp4")],
    )
    await check_common(harness, job, (1280, 720), 3, audio=False)  # the motion clip's 16:9
    assert job["provider_meta"]["render_kind"] == "motion"


async def test_asset_and_url_to_the_same_bytes_give_the_same_video(
    harness: Harness, https_files: HTTPSFileServer
) -> None:
    _, key = await harness.account(credits=10_000)
    data = image_bytes(640, 360, seed=12)
    https_files.add_file("/same.png", data, "image/png")
    uploaded = await harness.client.post(
        "/api/v1/assets/",
        files={"file": ("same.png", data)},
        headers={"Authorization": f"Bearer {key}"},
    )
    asset_id = uploaded.json()["asset"]["asset_id"]
    body: dict[str, Any] = {
        "model_slug": "seedance_2",
        "prompt": "same",
        "seedance_mode": "first_frame",
        "quality_mode": "480p",
        "duration_seconds": 4,
    }
    by_url = await run_job(harness, key, **body, first_frame_url=https_files.url("/same.png"))
    by_asset = await run_job(harness, key, **body, first_frame_url=asset_id)
    assert by_url["status"] == by_asset["status"] == "completed"
    assert by_asset["provider_meta"]["inputs"][0]["source"] == "asset"
    digests = [
        hashlib.sha256(media_path(harness, job["result_urls"][0]).read_bytes()).hexdigest()
        for job in (by_url, by_asset)
    ]
    assert digests[0] == digests[1]
    assert by_url["result_urls"] != by_asset["result_urls"]


async def test_motion_control_and_legacy_with_assets(harness: Harness, tmp_path: Path) -> None:
    """asset:// IDs work in every field kind, also through the legacy endpoint's names."""
    _, key = await harness.account(credits=10_000)
    headers = {"Authorization": f"Bearer {key}"}

    async def asset(name: str, data: bytes) -> str:
        response = await harness.client.post(
            "/api/v1/assets/", files={"file": (name, data)}, headers=headers
        )
        assert response.status_code == 201, response.text
        ref: str = response.json()["asset"]["asset_id"]
        return ref

    character = await asset("c.png", image_bytes(400, 600, seed=21))
    motion = await asset("m.mp4", clip_bytes(tmp_path, seconds=4, prompt="moves"))
    job = await run_job(
        harness,
        key,
        model_slug="kling_3_0_motion_control",
        quality_mode="720p",
        duration_seconds=3,
        input_image_urls=[character],
        input_video_urls=[motion],
    )
    await check_common(harness, job, (1280, 720), 3, audio=False)
    assert [item["source"] for item in job["provider_meta"]["inputs"]] == ["asset", "asset"]

    legacy = await harness.client.post(
        "/api/v1/generate/video/",
        json={
            "video_model": "kling_3_0_motion_control",
            "quality_mode": "720p",
            "duration_seconds": 3,
            "source_image_urls": [character],
            "video_urls": [motion],
        },
        headers=headers,
    )
    assert legacy.status_code == 200, legacy.text
    await Worker(harness.ctx).run_once()
    job_id = legacy.json()["data"]["generation_id"]
    done = (await harness.status(key, job_id)).json()["job"]
    assert done["status"] == "completed", done
    # Same inputs, same parameters: the legacy request renders the very same video.
    assert (
        media_path(harness, done["result_urls"][0]).read_bytes()
        == media_path(harness, job["result_urls"][0]).read_bytes()
    )
