"""Retention, purge, legal hold and destruction records (DOMAIN.md §6, docs/retention.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the legal-hold pages and the `flask retention` commands."""
    from .cli import retention_cli
    from .views import bp

    app.register_blueprint(bp, url_prefix="/oversight/retention")
    app.cli.add_command(retention_cli)
