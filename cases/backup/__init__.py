"""Encrypted backups and their restore: `flask backup create|verify|restore` (docs/backup.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `flask backup` commands."""
    from .cli import backup_cli

    app.cli.add_command(backup_cli)
