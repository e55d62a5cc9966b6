"""Account and API-key operations.

Keys are ``vs_live_`` plus 32 random bytes (256 bits) in URL-safe base64. Only the SHA-256 digest
and a 16-character prefix are stored; the full key is returned once, at creation.
Authentication is one indexed lookup of the digest, joined to the account, ignoring revoked keys.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from videostudio.accounts.cache import AuthCache, CachedAccount
from videostudio.accounts.models import Account, ApiKey
from videostudio.db import Database, utcnow
from videostudio.db.hot import HotStatement

KEY_PREFIX = "vs_live_"
VISIBLE_PREFIX_LENGTH = 16


class AccountExists(Exception):
    """An account with that name already exists."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_authorization(header: str | None) -> str | None:
    """The key from ``Bearer KEY``, ``Token KEY`` or a bare ``KEY`` header value."""
    if not header:
        return None
    parts = header.strip().split()
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0].lower() in ("bearer", "token"):
        return parts[1]
    return None


async def create_account(session: AsyncSession, *, name: str, is_operator: bool = False) -> Account:
    """Insert an account with a zero balance (credits arrive through the ledger)."""
    account = Account(id=str(uuid.uuid4()), name=name, balance=0, is_operator=is_operator)
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AccountExists(name) from exc
    return account


async def create_key(session: AsyncSession, *, account_id: str, name: str = "default") -> NewKey:
    """A new key for ``account_id``; the secret in the result is the only copy."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=str(uuid.uuid4()),
        account_id=account_id,
        name=name,
        prefix=secret[:VISIBLE_PREFIX_LENGTH],
        key_hash=hash_key(secret),
    )
    session.add(key)
    await session.flush()
    return NewKey(key=key, secret=secret)


AUTHENTICATE = HotStatement(
    select(Account.id, Account.name, Account.is_operator)
    .join(ApiKey, ApiKey.account_id == Account.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


async def authenticate(db: Database, cache: AuthCache, secret: str) -> CachedAccount | None:
    """The account owning an active key, or None; served from ``cache`` when fresh."""
    key_hash = hash_key(secret)
    cached = cache.get(key_hash)
    if cached is not None:
        return cached
    row = await db.hot.fetch_one(AUTHENTICATE, {"key_hash": key_hash})
    if row is None:
        return None
    account = CachedAccount(id=row["id"], name=row["name"], is_operator=row["is_operator"])
    cache.put(key_hash, account)
    return account


async def get_account(session: AsyncSession, ref: str) -> Account | None:
    """An account by id or by name."""
    stmt = select(Account).where((Account.id == ref) | (Account.name == ref))
    return (await session.execute(stmt)).scalars().first()


async def list_accounts(session: AsyncSession) -> list[Account]:
    return list((await session.execute(select(Account).order_by(Account.created_at))).scalars())


async def list_keys(session: AsyncSession, *, account_id: str) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
    return list((await session.execute(stmt)).scalars())


async def revoke_key(session: AsyncSession, *, key_id: str) -> ApiKey | None:
    """Revoke a key (idempotent); None if no such key."""
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return await session.get(ApiKey, key_id, populate_existing=True)


async def count_accounts(session: AsyncSession) -> int:
    return len((await session.execute(select(Account.id).limit(1))).all())
