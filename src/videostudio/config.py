"""Operator settings, read once from the environment (prefix ``VIDEOSTUDIO_``) or a ``.env`` file.

Every setting has a safe embedded default, so ``videostudio serve`` works with none set: SQLite in
``./videostudio-data``, media on the local disk, the worker in the same process.
``docs/configuration.md`` documents each field; keep the two in step.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Plain URLs name the async driver Video Studio uses (people paste these from other tools).
SYNC_TO_ASYNC = {
    "sqlite://": "sqlite+aiosqlite://",
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "postgresql+psycopg2://": "postgresql+asyncpg://",
    "postgresql+psycopg://": "postgresql+asyncpg://",
}


class Settings(BaseSettings):
    """All operator-tunable settings of one Video Studio process."""

    model_config = SettingsConfigDict(
        env_prefix="VIDEOSTUDIO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("./videostudio-data"))
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL. Default: SQLite file videostudio.db in DATA_DIR. "
        "postgresql+asyncpg://user@host/db selects PostgreSQL.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Origin used for absolute result URLs, e.g. https://video.example.com. "
        "Default: the origin of the request that reads the job.",
    )
    catalog_path: Path | None = Field(
        default=None, description="Model catalog TOML file. Default: the built-in catalog."
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    worker_enabled: bool = Field(default=True, description="Run the job worker inside `serve`.")
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    worker_poll_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    lease_seconds: float = Field(default=30.0, ge=1, le=3600)
    max_attempts: int = Field(default=3, ge=1, le=20)

    rate_limit_generate_per_hour: int = Field(
        default=24, ge=0, description="Accepted generate requests per account per hour; 0 = off."
    )
    rate_limit_uploads_per_hour: int = Field(
        default=120, ge=0, description="Asset uploads per account per hour; 0 = off."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch_size: int = Field(default=4, ge=1, le=4)

    starter_credits: int = Field(
        default=1000, ge=0, description="Credits of the operator account made on first start."
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process trusts a key lookup; a revoked key stops working in "
        "other processes within this time. 0 = no cache.",
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite only. full: every accepted job and debit survives power loss (an "
        "fsync per commit). normal: faster; never corrupt, but the newest commits can be lost "
        "in a power cut or OS crash (not in a process crash).",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)

    # Input media (uploads and downloaded URLs alike): checked by decoding, never by name.
    image_max_mb: float = Field(default=30, gt=0, le=1024)
    image_min_side: int = Field(default=300, ge=1, le=20000)
    image_max_side: int = Field(default=6000, ge=1, le=20000)
    image_min_aspect: float = Field(default=0.4, gt=0)
    image_max_aspect: float = Field(default=2.5, gt=0)
    video_max_mb: float = Field(default=100, gt=0, le=10240)
    video_min_seconds: float = Field(default=2, ge=0)
    video_max_seconds: float = Field(default=30, gt=0, le=3600)
    audio_max_mb: float = Field(default=15, gt=0, le=1024)
    audio_max_seconds: float = Field(default=15, gt=0, le=3600)

    # Downloads of https:// inputs by the worker.
    fetch_connect_timeout_seconds: float = Field(default=5, gt=0, le=120)
    fetch_timeout_seconds: float = Field(default=60, gt=0, le=3600)
    fetch_max_redirects: int = Field(default=3, ge=0, le=10)
    fetch_allow_networks: str = Field(
        default="",
        description="Comma-separated CIDRs the downloader may reach although they are private, "
        "loopback or otherwise internal (e.g. 10.20.0.0/16 for an internal media host).",
    )
    fetch_ca_bundle: Path | None = Field(
        default=None, description="Extra PEM CA bundle trusted for https:// input downloads."
    )

    # Retention: `videostudio media prune` deletes what is older (0 = keep forever).
    result_retention_days: float = Field(default=30, ge=0)
    asset_retention_days: float = Field(default=0, ge=0)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("log_level", "sqlite_synchronous", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("fetch_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        from videostudio.media.fetch import parse_networks

        parse_networks(value)  # the downloader's own parser: one definition of the syntax
        return value

    @field_validator("fetch_ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file (a PEM bundle of CA certificates)")
        return value

    @property
    def python_log_level(self) -> str:
        return "DEBUG" if self.log_level == "trace" else self.log_level.upper()

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL (async drivers filled in), defaulting to SQLite in the data dir."""
        if self.database_url:
            url = self.database_url
            for plain, driver in SYNC_TO_ASYNC.items():
                if url.startswith(plain):
                    return driver + url[len(plain) :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'videostudio.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"


def unknown_environment_settings() -> list[str]:
    """``VIDEOSTUDIO_*`` variables that name no setting (usually a typo)."""
    known = {f"VIDEOSTUDIO_{name.upper()}" for name in Settings.model_fields}
    known |= {
        "VIDEOSTUDIO_TEST_POSTGRES_URL",
        "VIDEOSTUDIO_REQUIRE_POSTGRES",
        "VIDEOSTUDIO_REQUIRE_BROWSER",
        "VIDEOSTUDIO_WRITE_SCREENSHOTS",
    }
    return sorted(k for k in os.environ if k.startswith("VIDEOSTUDIO_") and k not in known)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
