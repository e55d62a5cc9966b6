"""The assets API: uploads checked by decoding, stored by content hash, private to the account.

Invariants locked here: an upload answers 201 with the documented ``asset`` object and its file is
served byte for byte; the same bytes uploaded again by the same account are the same asset and one
file (another account gets its own); content decides the kind, never the file name (a text file
called ``.png`` is refused, a PNG declared as ``video`` is refused); limits give clear 400s and a
too-large file 413 — declared by Content-Length before a byte is read, or detected while
streaming without reading the rest; lists are paged and filtered; another account's ID is
answered like an unknown one everywhere (read, delete, generate) and nothing is charged.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import Harness
from tests.samples import clip_bytes, image_bytes, tone_wav_bytes
from videostudio.billing.service import balance_of

ASSETS = "/api/v1/assets/"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def upload(harness: Harness, key: str, data: bytes, name: str = "f.png", **form: str) -> Any:
    return await harness.client.post(
        ASSETS,
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=auth(key),
    )


def stored_files(harness: Harness) -> list[Path]:
    folder = harness.ctx.settings.media_dir / "assets"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def test_upload_image_then_read_serve_list_and_delete(harness: Harness) -> None:
    _, key = await harness.account()
    data = image_bytes(640, 360, seed=1)
    response = await upload(harness, key, data, "photo.png")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["deduplicated"] is False
    asset = body["asset"]
    assert asset["asset_id"].startswith("asset://")
    assert asset["status"] == "active"
    assert (asset["kind"], asset["content_type"]) == ("image", "image/png")
    assert (asset["width"], asset["height"], asset["bytes"]) == (640, 360, len(data))
    assert asset["duration_seconds"] is None
    assert asset["filename"] == "photo.png"
    served = await harness.client.get(asset["url"])
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"

    for ref in (asset["asset_id"], asset["asset_id"].removeprefix("asset://")):
        got = await harness.client.get(f"{ASSETS}{ref}/", headers=auth(key))
        assert got.status_code == 200, got.text
        assert got.json()["asset"] == asset

    listed = (await harness.client.get(ASSETS, headers=auth(key))).json()
    assert [a["asset_id"] for a in listed["assets"]] == [asset["asset_id"]]
    assert listed["pagination"]["total"] == 1

    bare = asset["asset_id"].removeprefix("asset://")
    deleted = await harness.client.delete(f"{ASSETS}{bare}/", headers=auth(key))
    assert deleted.status_code == 200 and deleted.json()["deleted"] == asset["asset_id"]
    assert (await harness.client.get(f"{ASSETS}{bare}/", headers=auth(key))).status_code == 404
    assert (await harness.client.get(asset["url"])).status_code == 404
    assert stored_files(harness) == []


async def test_same_bytes_are_one_asset_and_one_file_per_account(harness: Harness) -> None:
    _, key = await harness.account()
    _, other = await harness.account()
    data = image_bytes(500, 400, seed=2, fmt="JPEG")
    first = (await upload(harness, key, data, "a.jpg")).json()["asset"]
    again = await upload(harness, key, data, "renamed.jpg")
    assert again.status_code == 200
    assert again.json()["deduplicated"] is True
    assert again.json()["asset"]["asset_id"] == first["asset_id"]
    assert first["content_type"] == "image/jpeg"
    assert len(stored_files(harness)) == 1

    theirs = (await upload(harness, other, data, "a.jpg")).json()["asset"]
    assert theirs["asset_id"] != first["asset_id"]
    assert theirs["url"] != first["url"]
    assert len(stored_files(harness)) == 2


async def test_video_and_audio_are_probed(harness: Harness, tmp_path: Path) -> None:
    _, key = await harness.account()
    video = (await upload(harness, key, clip_bytes(tmp_path, seconds=3), "clip.bin")).json()
    assert video["asset"]["kind"] == "video", video
    assert video["asset"]["content_type"] == "video/mp4"
    assert (video["asset"]["width"], video["asset"]["height"]) == (320, 180)
    assert abs(video["asset"]["duration_seconds"] - 3.0) < 0.1
    audio = (await upload(harness, key, tone_wav_bytes(2.0), "tone", type="audio")).json()
    assert audio["asset"]["kind"] == "audio", audio
    assert abs(audio["asset"]["duration_seconds"] - 2.0) < 0.1
    only_video = await harness.client.get(ASSETS, params={"kind": "video"}, headers=auth(key))
    assert [a["kind"] for a in only_video.json()["assets"]] == ["video"]


@pytest.mark.parametrize(
    ("data", "form", "status", "code"),
    [
        (b"just some text, not an image", {}, 400, "unsupported_format"),
        (b"<html><body>hello</body></html>", {}, 400, "unsupported_format"),
        (image_bytes(200, 150), {}, 400, "too_small"),
        (image_bytes(1200, 300), {}, 400, "bad_aspect"),
        (image_bytes(640, 360)[:-2000], {}, 400, "corrupt"),
        (image_bytes(640, 360), {"type": "video"}, 400, "wrong_kind"),
    ],
    ids=["text-as-png", "html", "too-small", "aspect", "truncated", "declared-video"],
)
async def test_content_is_the_authority(
    harness: Harness, data: bytes, form: dict[str, str], status: int, code: str
) -> None:
    _account_id, key = await harness.account()
    response = await upload(harness, key, data, "innocent.png", **form)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == code and body["field"] == "file"
    assert body["error"]
    assert stored_files(harness) == []
    listed = (await harness.client.get(ASSETS, headers=auth(key))).json()
    assert listed["assets"] == []
    tmp = harness.ctx.settings.media_dir / ".tmp"
    assert not tmp.is_dir() or list(tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b'{"file": "x"}', {"Content-Type": "application/json"}, "multipart/form-data"),
        (
            b'--b\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage\r\n--b--\r\n',
            {"Content-Type": "multipart/form-data; boundary=b"},
            "No file received",
        ),
        (
            b'--b\r\nContent-Disposition: form-data; name="nope"\r\n\r\nx\r\n--b--\r\n',
            {"Content-Type": "multipart/form-data; boundary=b"},
            "Unknown form field",
        ),
    ],
    ids=["json", "no-file", "unknown-field"],
)
async def test_malformed_uploads(
    harness: Harness, body: bytes, headers: dict[str, str], message: str
) -> None:
    _, key = await harness.account()
    response = await harness.client.post(ASSETS, content=body, headers={**auth(key), **headers})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


async def test_upload_needs_a_key(harness: Harness) -> None:
    response = await harness.client.post(ASSETS, files={"file": ("a.png", image_bytes())})
    assert response.status_code == 401


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "image_max_mb": 0.5,
        "video_max_mb": 1,
        "audio_max_mb": 0.5,
        "rate_limit_uploads_per_hour": 3,
    }


async def test_declared_oversize_is_refused_before_reading(harness: Harness) -> None:
    _, key = await harness.account()
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(100):
            chunks_sent += 1
            yield b"x" * 65536

    response = await harness.client.post(
        ASSETS,
        content=body(),
        headers={
            **auth(key),
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(100 * 65536),
        },
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"
    assert chunks_sent <= 1


async def test_streamed_oversize_stops_reading(harness: Harness) -> None:
    _, key = await harness.account()
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        for _ in range(400):  # 25 MB if it were all read
            chunks_sent += 1
            yield b"\x89" * 65536
        yield b"\r\n--b--\r\n"

    response = await harness.client.post(
        ASSETS,
        content=body(),
        headers={**auth(key), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413, response.text
    assert "upload limit" in response.json()["error"]
    assert chunks_sent < 40  # stopped just past the 1 MB cap
    assert stored_files(harness) == []


async def test_kind_limit_applies_after_decoding(harness: Harness) -> None:
    """Under the largest cap (1 MB, videos) but over the image cap (0.5 MB): 413 once decoding
    shows it is an image."""
    _, key = await harness.account()
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (420, 600, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "PNG")
    data = buffer.getvalue()
    assert 512 * 1024 < len(data) < 1024 * 1024
    response = await upload(harness, key, data, "noise.png")
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"
    assert stored_files(harness) == []


async def test_other_accounts_asset_is_unknown(harness: Harness) -> None:
    _owner_id, owner = await harness.account()
    stranger_id, stranger = await harness.account(credits=1000)
    asset = (await upload(harness, owner, image_bytes(640, 360))).json()["asset"]
    bare = asset["asset_id"].removeprefix("asset://")
    assert (await harness.client.get(f"{ASSETS}{bare}/", headers=auth(stranger))).status_code == 404
    assert (
        await harness.client.delete(f"{ASSETS}{bare}/", headers=auth(stranger))
    ).status_code == (404)
    response = await harness.generate(
        stranger,
        model_slug="wan_2_6",
        prompt="p",
        quality_mode="720p",
        duration_seconds=5,
        input_image_urls=[asset["asset_id"]],
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "unknown_asset"
    assert body["field"] == "input_image_urls[0]"
    async with harness.ctx.db.read() as session:
        assert await balance_of(session, stranger_id) == 1000
    assert (await harness.client.get(asset["url"])).status_code == 200


async def test_asset_of_the_wrong_kind_is_refused(harness: Harness, tmp_path: Path) -> None:
    account_id, key = await harness.account(credits=1000)
    video = (await upload(harness, key, clip_bytes(tmp_path, seconds=3))).json()["asset"]
    response = await harness.generate(
        key,
        model_slug="wan_2_6",
        prompt="p",
        quality_mode="720p",
        duration_seconds=5,
        input_image_urls=[video["asset_id"]],
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_asset_kind"
    assert "is a video, but this field takes an image" in response.json()["error"]
    assert await harness.balance(account_id) == 1000


async def test_uploads_have_an_hourly_budget(harness: Harness) -> None:
    _, key = await harness.account()
    for seed in range(3):
        response = await upload(harness, key, image_bytes(640, 360, seed=seed))
        assert response.status_code == 201, response.text
    refused = await upload(harness, key, image_bytes(640, 360, seed=99))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    _, other = await harness.account()
    assert (await upload(harness, other, image_bytes(640, 360, seed=99))).status_code == 201


@pytest.mark.parametrize(
    ("filename", "stored"),
    [("视频 café.png", "视频 café.png"), ("a\x00b\x07.png", "ab.png")],
    ids=["utf-8", "control-chars"],
)
async def test_filenames_are_kept_as_text(harness: Harness, filename: str, stored: str) -> None:
    _, key = await harness.account()
    boundary = "vsboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + image_bytes(640, 360, seed=5)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await harness.client.post(
        ASSETS,
        content=body,
        headers={**auth(key), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["asset"]["filename"] == stored


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=" + "B" * 300, b"--" + b"B" * 300 + b"\r\n"),
        (
            "multipart/form-data; boundary=b",
            b"".join(
                b'--b\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage\r\n'
                for _ in range(6)
            )
            + b"--b--\r\n",
        ),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="'
            + b"x" * 5000
            + b'"\r\n\r\nabc\r\n--b--\r\n',
        ),
    ],
    ids=["long-boundary", "too-many-parts", "huge-header"],
)
async def test_hostile_multipart_is_a_400(harness: Harness, content_type: str, body: bytes) -> None:
    _, key = await harness.account()
    response = await harness.client.post(
        ASSETS, content=body, headers={**auth(key), "Content-Type": content_type}
    )
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert stored_files(harness) == []


async def test_small_fields_cannot_stream_forever(harness: Harness) -> None:
    """Chunked bodies get the same total budget as declared ones: file cap + form overhead."""
    _, key = await harness.account()
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        for _ in range(200):
            sent += 1
            yield b"\x00" * 65536

    response = await harness.client.post(
        ASSETS,
        content=body(),
        headers={**auth(key), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413
    assert sent < 40
