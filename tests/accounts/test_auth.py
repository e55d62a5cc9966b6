"""Authentication and isolation.

Invariants locked here:
- the three contract header forms (``Bearer KEY``, ``Token KEY``, bare ``KEY``) authenticate;
- a missing, malformed, unknown or revoked key is a 401 in the error envelope, on every endpoint;
- revocation is immediate in the revoking process and reaches other processes within the auth
  cache TTL;
- another account's job is a 404 indistinguishable from a job that does not exist (never 403);
- keys carry >= 128 random bits and only their SHA-256 digest and a short prefix are stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import Harness, make_settings
from videostudio import flows
from videostudio.accounts import service as accounts
from videostudio.accounts.models import ApiKey
from videostudio.web.app import create_app

PROTECTED = [
    ("GET", "/api/v1/models/video/"),
    ("GET", "/api/v1/models/video/veo31_lite/"),
    ("GET", "/api/v1/video-studio/history/"),
    ("GET", "/api/v1/video-studio/status/00000000-0000-0000-0000-000000000000/"),
    ("POST", "/api/v1/video-studio/generate/"),
    ("POST", "/api/v1/generate/video/"),
    ("GET", "/api/v1/account/"),
]


@pytest.mark.parametrize("scheme", ["Bearer {}", "bearer {}", "Token {}", "{}"])
async def test_contract_header_forms_authenticate(harness: Harness, scheme: str) -> None:
    _, key = await harness.account(credits=0)
    response = await harness.client.get(
        "/api/v1/video-studio/history/", headers={"Authorization": scheme.format(key)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer vs_live_not-a-real-key"]
)
async def test_bad_credentials_are_401_envelopes(
    harness: Harness, method: str, path: str, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await harness.client.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False and body["error"]
    assert response.headers["www-authenticate"] == "Bearer"


async def test_revoked_key_is_refused_at_once_here_and_soon_elsewhere(
    harness: Harness, tmp_path: Path
) -> None:
    account_id, key = await harness.account(credits=0)
    async with harness.ctx.db.read() as session:
        keys = await accounts.list_keys(session, account_id=account_id)
    headers = {"Authorization": f"Bearer {key}"}
    # A second API process on the same database, with a short auth cache.
    settings = make_settings(
        harness.ctx.settings.resolved_database_url, tmp_path / "other", auth_cache_seconds=0.5
    )
    other = create_app(settings)
    async with (
        other.router.lifespan_context(other),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://o") as peer,
    ):
        for client in (harness.client, peer):
            assert (await client.get("/api/v1/account/", headers=headers)).status_code == 200
        await flows.revoke_key(harness.ctx, keys[0].id)
        response = await harness.client.get("/api/v1/account/", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "Invalid or revoked API key"
        await asyncio.sleep(0.6)
        assert (await peer.get("/api/v1/account/", headers=headers)).status_code == 401


async def test_keys_are_stored_as_digest_and_prefix_only(harness: Harness) -> None:
    account_id, key = await harness.account(credits=0)
    assert key.startswith("vs_live_")
    assert len(key.removeprefix("vs_live_")) >= 43  # 32 random bytes, base64url
    async with harness.ctx.db.read() as session:
        rows = list((await session.execute(select(ApiKey))).scalars())
    stored = next(r for r in rows if r.account_id == account_id)
    assert stored.key_hash == accounts.hash_key(key)
    assert key.startswith(stored.prefix) and len(stored.prefix) == 16
    for row in rows:
        assert key not in (row.key_hash, row.prefix, row.name)


async def test_other_accounts_job_is_404_like_a_missing_one(harness: Harness) -> None:
    _, alice = await harness.account(credits=100)
    _, bob = await harness.account(credits=100)
    created = await harness.generate(alice, model_slug="veo31_lite", prompt="alice's fox")
    job_id = created.json()["job_ids"][0]
    assert (await harness.status(alice, job_id)).status_code == 200
    theirs = await harness.status(bob, job_id)
    missing = await harness.status(bob, "00000000-0000-0000-0000-000000000000")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    history = await harness.client.get(
        "/api/v1/video-studio/history/", headers={"Authorization": f"Bearer {bob}"}
    )
    assert history.json()["jobs"] == []
