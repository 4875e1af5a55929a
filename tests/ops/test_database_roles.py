"""Production's database roles (docs/postgres-roles.sql): the app works as a role that owns
nothing, and that role cannot switch off or get round the audit trail's append-only rule."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from cases import create_app
from cases.audit.models import AuditEvent
from cases.audit.services import record
from cases.auth.models import Role
from cases.casework.models import CaseNote
from cases.extensions import db

from ..conftest import PASSWORD
from ..factories import make_case, make_user

ROLES_SQL = Path(__file__).resolve().parents[2] / "docs" / "postgres-roles.sql"
URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="database roles exist on PostgreSQL only"
)


def _statements(owner: str, app_role: str, schema: str) -> list[str]:
    sql = ROLES_SQL.read_text(encoding="utf-8")
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    sql = sql.replace("athar_owner", owner).replace("athar_app", app_role)
    sql = sql.replace("SCHEMA public", f'SCHEMA "{schema}"')
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


@pytest.fixture(scope="module")
def roles() -> Iterator[tuple[str, str, str]]:
    suffix = secrets.token_hex(4)
    owner, app_role, schema = f"t_owner_{suffix}", f"t_app_{suffix}", f"t_roles_{suffix}"
    admin = create_engine(URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        for statement in _statements(owner, app_role, schema):
            conn.execute(text(statement))
    try:
        yield owner, app_role, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            for role in (app_role, owner):
                conn.execute(text(f'DROP OWNED BY "{role}" CASCADE'))
                conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def _app_as(role: str, schema: str):  # noqa: ANN202
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": URL,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "connect_args": {"options": f"-csearch_path={schema} -crole={role}"}
            },
            "WTF_CSRF_ENABLED": False,
        }
    )


@pytest.fixture(scope="module")
def app_engine(roles) -> Iterator[Engine]:  # noqa: ANN001
    owner, app_role, schema = roles
    with _app_as(owner, schema).app_context():  # the deploy step, as the owner
        db.create_all()
        db.engine.dispose()
    with _app_as(app_role, schema).app_context():  # one sealed event for the tamper attempts
        record("login", commit=True)
        db.engine.dispose()
    engine = create_engine(
        URL, connect_args={"options": f"-csearch_path={schema} -crole={app_role}"}
    )
    yield engine
    engine.dispose()


def test_the_app_works_as_a_role_that_owns_nothing(roles, app_engine):
    _, app_role, schema = roles
    app = _app_as(app_role, schema)
    with app.app_context():
        assert db.session.scalar(text("SELECT current_user")) == app_role
        worker = make_user("roles-worker", Role.CASEWORKER)
        case = make_case(worker)
        client = app.test_client()
        assert (
            client.post(
                "/login", data={"username": "roles-worker", "password": PASSWORD}
            ).status_code
            == 302
        )
        assert client.get(f"/cases/{case.id}").status_code == 200
        response = client.post(f"/cases/{case.id}/notes", data={"body": "called the brother"})
        assert response.status_code == 302
        assert db.session.scalar(select(func.count(CaseNote.id))) == 1
        assert db.session.scalar(select(func.count(AuditEvent.id))) >= 4
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'login'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_events_no_change ON audit_events",
        "SET session_replication_role = replica",
        "CREATE TABLE intruder (id int)",
    ],
)
def test_the_app_role_cannot_rewrite_or_unguard_the_audit_trail(roles, app_engine, statement):
    with app_engine.connect() as conn:
        with pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
        conn.rollback()
    assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege
