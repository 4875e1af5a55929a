"""Production serving: health probes, the 503 page while the database is away, request ids and
log lines without personal data, and gunicorn started with the shipped config."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from cases import create_app
from cases.casework.models import CaseNote
from cases.errors import log_unexpected
from cases.extensions import db
from cases.ops.health import migration_heads
from cases.ops.logs import RedactRequestFilter

from ..outages import database_gone

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/athar"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def offline_client() -> FlaskClient:
    """An app whose database does not answer (nothing listens on port 1)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": UNREACHABLE_DB, "WTF_CSRF_ENABLED": False})
    return app.test_client()


def test_healthz_answers_without_the_database(offline_client):
    response = offline_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_says_unavailable_when_the_database_does_not_answer(offline_client):
    response = offline_client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unavailable"
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_only_at_the_migrations_head(client):
    response = client.get("/readyz?q=%27%3B+DROP+TABLE+cases%3B--")  # query strings are ignored
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured"},
    }
    (head,) = migration_heads()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'abb838818f90'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["database"] == "migrations pending"
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        db.session.commit()


def test_readyz_reports_an_unreachable_redis_but_stays_ready(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "unavailable"}


def test_readyz_pings_a_configured_redis(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"


def test_a_family_gets_a_clear_arabic_503_page_while_the_database_is_away(offline_client):
    response = offline_client.post("/check", data={"reference": "1234-5678", "secret": "123456"})
    assert response.status_code == 503
    # At least our 10 s; the rate limiter may stretch it to its own window's end.
    assert int(response.headers["Retry-After"]) >= 10
    page = response.get_data(as_text=True)
    assert 'lang="ar"' in page
    assert "لا يمكن" in page  # "cannot reach its database just now"
    assert "Traceback" not in page and "psycopg" not in page


def test_the_api_answers_503_in_its_json_shape(offline_client):
    response = offline_client.get(
        "/api/v1/cases", headers={"Authorization": "Bearer athar_" + "x" * 40}
    )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_staff_see_the_503_page_and_lose_nothing_when_the_database_drops(
    app, client, auth, caseworker, case
):
    auth.login(caseworker)
    case_id = case.id
    notes_before = db.session.scalar(select(func.count(CaseNote.id)))
    with database_gone(db.engine):
        response = client.post(f"/cases/{case_id}/notes", data={"body": "called the family"})
        assert response.status_code == 503
        assert "cannot reach its database" in response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "10"
    # The database is back: the same browser goes on where it was, and the failed note was not
    # half-saved.
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert db.session.scalar(select(func.count(CaseNote.id))) == notes_before
    response = client.post(f"/cases/{case_id}/notes", data={"body": "called the family"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(CaseNote.id))) == notes_before + 1


def test_every_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    # nginx's $request_id is passed through; anything else is replaced.
    assert client.get("/healthz", headers={"X-Request-ID": "a1b2c3d4e5f6"}).headers[
        "X-Request-ID"
    ] == ("a1b2c3d4e5f6")
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert odd.headers["X-Request-ID"] != "<script>alert(1)</script>"


def test_the_access_line_names_the_route_not_the_path(client, caplog):
    with caplog.at_level(logging.INFO, logger="athar.access"):
        response = client.get("/invite/SECRET-TOKEN-123?q=زينب")
    (record,) = [r for r in caplog.records if r.name == "athar.access"]
    assert record.route == "/invite/<token>"
    assert record.status == response.status_code
    assert record.request_id == response.headers["X-Request-ID"]
    everything = json.dumps(record.__dict__, default=str, ensure_ascii=False)
    assert "SECRET-TOKEN-123" not in everything and "زينب" not in everything


def test_gunicorns_own_error_line_loses_the_uri():
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, "", 0, "Error handling request %s", ("/invite/abc",), None
    )
    RedactRequestFilter().filter(record)
    assert record.getMessage() == "Error handling request"


def test_an_unexpected_errors_message_stays_out_of_the_log(app, caplog):
    typed = "زينب الخفاجي"  # what someone typed, reaching int() by mistake
    try:
        int(typed)
    except ValueError as error:
        with caplog.at_level(logging.ERROR):
            log_unexpected(error)
    assert "Unhandled error: ValueError" in caplog.text
    assert "test_serving.py" in caplog.text  # the frames are there for the operators
    assert "زينب" not in caplog.text
