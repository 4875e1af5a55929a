"""Spreadsheet import for supervisors: XLSX or CSV, column mapping, dry run, import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the import pages under /oversight/imports."""
    from . import models  # noqa: F401 - the table must exist before the case model's link
    from .views import bp, raise_upload_limit

    app.register_blueprint(bp, url_prefix="/oversight/imports")
    # First of the app's hooks, so the limit is raised before CSRF reads the upload.
    app.before_request_funcs.setdefault(None, []).insert(0, raise_upload_limit)
