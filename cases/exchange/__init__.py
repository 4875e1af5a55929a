"""Exchange with other registries: PFIF 1.4 (People Finder Interchange Format)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `flask pfif` commands."""
    from .cli import pfif_cli

    app.cli.add_command(pfif_cli)
