"""Exchange with other registries: PFIF 1.4 (People Finder Interchange Format)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `flask pfif` commands and the partner-record notice for case and inquiry
    pages (templates/exchange/_origin.html)."""
    from .cli import pfif_cli
    from .services import origin_of

    app.cli.add_command(pfif_cli)
    app.add_template_global(origin_of, "pfif_origin")
