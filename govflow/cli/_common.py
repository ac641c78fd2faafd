"""Helpers shared by the CLI command groups."""

from __future__ import annotations

import getpass
import json
import os
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from govflow.ledger.engine import Ledger


def open_ledger() -> Ledger:
    """Open the configured ledger, upgrading its schema if it is behind."""
    # Imported here: commands that never touch the ledger should not pay for SQLAlchemy.
    from govflow.ledger.engine import Ledger

    return Ledger.open()


def cli_actor() -> str:
    """Name the person behind a CLI command for the audit trail."""
    explicit = os.environ.get("GOVFLOW_ACTOR")
    if explicit:
        return explicit
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))
