"""The JSON API under /api/v1 for partner tools (per-client tokens with scopes)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprint (being built: issue 7)."""
