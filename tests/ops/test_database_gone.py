"""The database going away in the middle of a request: the page made still goes out, and a
failed query gets the 503 page even when the ROLLBACK after it fails too (bench/faults.py saw
both as gunicorn's bare 500 while PostgreSQL restarted)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from cases import create_app
from cases.auth.guard import public
from cases.extensions import db

from ..outages import database_gone


def _server_gone(*_args: object) -> None:
    raise sqlite3.OperationalError("terminating connection due to administrator command")


def _app_with_probe(tmp_path: Path) -> Flask:
    """A fresh app (no application context held open, so each request ends its own) with a
    page that reads the database and leaves its transaction open until the request ends."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'gone.sqlite'}"})

    @public
    def probe() -> str:
        db.session.scalar(text("SELECT 1"))
        return "made"

    app.add_url_rule("/probe", view_func=probe)
    with app.app_context():
        db.session.scalar(text("SELECT 1"))  # the pool's first connection, made while all is well
        db.session.remove()
    return app


def test_a_page_made_before_the_database_went_away_still_goes_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app_with_probe(tmp_path)
    with app.app_context():
        monkeypatch.setattr(db.engine.dialect, "do_rollback", _server_gone)
    response = app.test_client().get("/probe")
    monkeypatch.undo()

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "made"


def test_the_503_page_when_even_the_rollback_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app_with_probe(tmp_path)
    with app.app_context():
        engine = db.engine
        monkeypatch.setattr(engine.dialect, "do_rollback", _server_gone)
    with database_gone(engine):
        response = app.test_client().get("/probe")
    monkeypatch.undo()

    assert response.status_code == 503
    assert response.headers["Retry-After"]
