"""Spreadsheet import for supervisors: XLSX or CSV, column mapping, dry run, import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the import pages (being built: issue 7)."""
