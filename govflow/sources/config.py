"""Declared data sources: where a dataset's records come from and the schema they must meet.

A dataset config is a YAML or TOML file::

    name: support_tickets
    source: {kind: file, path: data/support_tickets.jsonl}
    columns:
      - {name: ticket_id, type: string}
      - {name: text, type: string, max_length: 2000}
      - {name: created_at, type: datetime}
    key: ticket_id
    suites: {raw: support_tickets.raw, preprocessed: support_tickets.preprocessed}

``source.kind`` selects ``FileSource``, ``HttpSource`` or ``SqlSource``. Relative file paths
are resolved against the config file's folder. Secrets never live in the config: an HTTP
credential is named by the environment variable that holds it (``auth_env``), and a
database password in ``SqlSource.url`` is masked in every message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from govflow.configfiles import describe_errors, read_mapping
from govflow.errors import InputError

__all__ = [
    "ColumnSpec",
    "ColumnType",
    "CursorPagination",
    "DatasetConfig",
    "FileSource",
    "HttpSource",
    "PagePagination",
    "SourceConfig",
    "SqlSource",
    "load_dataset_config",
]

ColumnType = Literal["string", "integer", "float", "boolean", "datetime"]
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Model(BaseModel):
    # A misspelt option must fail loudly rather than silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(_Model):
    """One declared column: its type, whether it must be present, and a length cap for text."""

    name: str = Field(min_length=1)
    type: ColumnType
    required: bool = True
    max_length: int | None = Field(default=10_000, ge=1)


class FileSource(_Model):
    """A local CSV, JSONL or Parquet file, or a glob matching several of them."""

    kind: Literal["file"]
    path: str = Field(min_length=1)
    format: Literal["csv", "jsonl", "parquet"] | None = None
    _base_dir: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _remember_base_dir(self, info: ValidationInfo) -> FileSource:
        # The loader passes the config file's folder; configs built in code resolve
        # against the working directory at acquisition time.
        base = (info.context or {}).get("base_dir")
        if base is not None:
            self._base_dir = Path(base)
        return self

    @property
    def base_dir(self) -> Path:
        """Return the folder relative paths are resolved against."""
        return (self._base_dir or Path.cwd()).resolve()

    @property
    def is_glob(self) -> bool:
        """Return whether ``path`` is a pattern rather than one file."""
        return any(char in self.path for char in "*?[")

    def resolved(self) -> Path:
        """Return ``path`` (or the pattern) made absolute."""
        path = Path(self.path).expanduser()
        return path if path.is_absolute() else self.base_dir / path


class CursorPagination(_Model):
    """Follow a cursor that each page returns until it is absent or empty."""

    type: Literal["cursor"]
    cursor_param: str = Field(default="cursor", min_length=1)
    next_cursor_path: str = Field(default="next", min_length=1)


class PagePagination(_Model):
    """Request numbered pages until one comes back short."""

    type: Literal["page"]
    page_param: str = Field(default="page", min_length=1)
    start: int = Field(default=1, ge=0)
    size_param: str = Field(default="per_page", min_length=1)
    size: int = Field(default=100, ge=1)


Pagination = Annotated[CursorPagination | PagePagination, Field(discriminator="type")]


class HttpSource(_Model):
    """A JSON API read page by page with retries, backoff and hard limits."""

    kind: Literal["http"]
    url: str
    records_path: str | None = Field(
        default=None, description="Dotted path to the record list in each page; none: the page."
    )
    pagination: Pagination | None = None
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    auth_header: str | None = None
    auth_env: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    max_backoff_s: float = Field(default=30.0, ge=0)
    max_pages: int = Field(default=1000, ge=1)
    max_records: int | None = Field(default=None, ge=1)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("auth_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable, not its value")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HttpSource:
        if (self.auth_header is None) != (self.auth_env is None):
            raise ValueError("auth_header and auth_env must be given together")
        if isinstance(self.pagination, CursorPagination) and self.records_path is None:
            raise ValueError("cursor pagination needs records_path (the page must be an object)")
        return self


class SqlSource(_Model):
    """The rows of one query against any SQLAlchemy-supported database."""

    kind: Literal["sql"]
    url: str = Field(min_length=1)
    query: str = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _parseable(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            # Deliberately without the value: it may hold a password.
            raise ValueError("not a valid SQLAlchemy URL") from None
        return value


SourceConfig = Annotated[FileSource | HttpSource | SqlSource, Field(discriminator="kind")]


class DatasetConfig(_Model):
    """A dataset: its source, declared columns, identifying key and validation suites."""

    name: str
    source: SourceConfig
    columns: list[ColumnSpec] = Field(min_length=1)
    key: str | None = None
    suites: dict[str, str] = Field(default_factory=dict)
    chunk_size: int = Field(default=50_000, ge=1)
    quarantine_threshold: float = Field(default=0.05, ge=0, le=1)
    text_column: str | None = "text"

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '_', '-' and '.'")
        return value

    @model_validator(mode="after")
    def _columns_consistent(self) -> DatasetConfig:
        names = [column.name for column in self.columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate columns: {', '.join(duplicates)}")
        reserved = sorted(name for name in names if name.startswith("_source_"))
        if reserved:
            raise ValueError(f"column names starting with '_source_' are reserved: {reserved}")
        if self.key is not None and self.key not in names:
            raise ValueError(f"key {self.key!r} is not a declared column")
        if self.text_column is not None:
            text = next((c for c in self.columns if c.name == self.text_column), None)
            if text is None or text.type != "string":
                raise ValueError(
                    f"text_column {self.text_column!r} must be a declared string column "
                    "(set text_column: null for a dataset without text)"
                )
        return self

    def with_path(self, path: str) -> DatasetConfig:
        """Return this config reading ``path`` (relative to the config's folder) instead.

        For a stream of batch files that share one config (the monitor reads one per run).
        """
        if not isinstance(self.source, FileSource):
            raise InputError(
                f"dataset {self.name}: a path can only replace the path of a file source, "
                f"not of a {self.source.kind} source"
            )
        return self.model_copy(update={"source": self.source.model_copy(update={"path": path})})

    def column(self, name: str) -> ColumnSpec:
        """Return the declared column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Read and validate a dataset config from a ``.yaml``/``.yml`` or ``.toml`` file."""
    path = Path(path).expanduser()
    data = read_mapping(
        path, what="config file", fields="settings", suffixes=(".yaml", ".yml", ".toml")
    )
    try:
        return DatasetConfig.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        raise InputError(
            f"{path}: invalid dataset config: {describe_errors(exc, noise=_union_tag)}"
        ) from None


def _union_tag(loc: tuple[int | str, ...], index: int) -> bool:
    """Discriminated unions insert the tag ("http") after "source"; it is noise here."""
    return index > 0 and loc[index - 1] in {"source", "pagination"} and _is_tag(loc[index])


def _is_tag(part: int | str) -> bool:
    return part in {"file", "http", "sql", "cursor", "page"}
