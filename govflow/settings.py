"""Runtime settings, read from the environment where they are needed (never at import)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """govflow's settings; each field is read from ``GOVFLOW_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GOVFLOW_", extra="ignore")

    home: Path = Field(
        default=Path(".govflow"),
        description="Folder for the default SQLite ledger, Data Docs and local state.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the ledger; default: a SQLite file under GOVFLOW_HOME.",
    )
    snapshot_url: str | None = Field(
        default=None,
        description="Where dataset snapshots (Parquet) are stored: a folder or an fsspec URL "
        "such as s3://bucket/prefix; default: GOVFLOW_HOME/snapshots.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )

    review_poll_interval: int = Field(
        default=2, ge=1, description="Seconds between a paused gate's checks for an answer."
    )
    review_webhook_url: str | None = Field(
        default=None, description="If set, each new review gate is POSTed here as JSON."
    )

    @field_validator("database_url", "review_webhook_url", "snapshot_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return value

    @property
    def ledger_url(self) -> str:
        """Return the ledger's SQLAlchemy URL, defaulting to ``$GOVFLOW_HOME/ledger.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def snapshot_store_url(self) -> str:
        """Return where snapshots are stored, defaulting to ``$GOVFLOW_HOME/snapshots``."""
        if self.snapshot_url:
            return self.snapshot_url
        return str((self.home / "snapshots").resolve())


def get_settings() -> Settings:
    """Read the settings from the environment now (cheap; callers may hold on to the result)."""
    return Settings()
