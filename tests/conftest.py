"""Shared fixtures: one schema per test session, emptied before every test.

Set TEST_DATABASE_URL (as `make test-postgres` does) to run the same suite on PostgreSQL; each
xdist worker then gets its own schema so parallel runs do not collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from cases import create_app
from cases.audit.models import SQLITE_DROP, SQLITE_TRIGGERS
from cases.auth.models import Role, User
from cases.extensions import db, limiter
from cases.ops.health import migration_heads

from .factories import make_case, make_user, pass_second_step

PASSWORD = "correct horse battery staple"


def _database(tmp_path_factory: pytest.TempPathFactory, worker: str) -> tuple[str, dict]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("db") / "athar-test.sqlite"
        return f"sqlite:///{path}", {}
    # ATHAR_TEST_SCHEMA keeps two runs on one database apart (each xdist worker adds its id).
    schema = f"{os.environ.get('ATHAR_TEST_SCHEMA', 'athar_test')}_{worker}"
    admin = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with admin.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db.engine.dispose()
    return url, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}


@pytest.fixture(scope="session")
def _app(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Flask]:
    url, engine_options = _database(tmp_path_factory, worker_id)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        stamp_migrations_head()
    yield app
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
        db.engine.dispose()


def stamp_migrations_head() -> None:
    """Mark the schema create_all made as being at the migrations' head, as `flask db upgrade`
    leaves a real one (tests/test_migrations.py proves the two schemas are the same), so
    /readyz answers as in production."""
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
    for head in migration_heads():
        db.session.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head})
    db.session.commit()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    saved = dict(_app.config)
    _app.config["WTF_CSRF_ENABLED"] = False
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        _empty_tables()
        reset_rate_limits()
    _app.config.clear()
    _app.config.update(saved)


def reset_rate_limits() -> None:
    """Every count back to zero. Flask-Limiter moves to an in-memory fallback when its storage
    raises (production config turns the fallback on, and a test that builds a production app
    turns it on for the whole limiter); reset() does not reach that fallback, so counts there
    would carry over into later tests: empty it and go back to the storage."""
    limiter.reset()
    fallback = getattr(limiter, "_fallback_storage", None)
    if fallback is not None:
        fallback.reset()
    limiter._storage_dead = False


@contextmanager
def audit_guard_lifted(conn: Connection) -> Iterator[None]:
    """Suspend the database's append-only triggers on audit_events for this transaction.

    Only the database owner can do this. The suite does it to empty the table between tests,
    and the tamper tests do it to play an attacker with owner rights.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        return
    for statement in SQLITE_DROP:
        conn.execute(text(statement))
    yield
    for statement in SQLITE_TRIGGERS:
        conn.execute(text(statement))


def _empty_tables() -> None:
    with db.engine.begin() as conn, audit_guard_lifted(conn):
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


class FreshGlobalsClient(FlaskClient):
    """Clears ``g`` before each request.

    The ``app`` fixture keeps one application context open so tests can use the database
    between requests; Flask then reuses it for every request, and per-request caches kept on
    ``g`` (the logged-in user, the locale) would leak from one request into the next.
    """

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # noqa: ANN201
    return app.test_cli_runner()


@pytest.fixture
def caseworker(app: Flask) -> User:
    return make_user("zainab", Role.CASEWORKER, "Zainab")


@pytest.fixture
def other_caseworker(app: Flask) -> User:
    return make_user("ali", Role.CASEWORKER, "Ali")


@pytest.fixture
def supervisor(app: Flask) -> User:
    return make_user("maryam", Role.SUPERVISOR, "Maryam")


@pytest.fixture
def second_supervisor(app: Flask) -> User:
    return make_user("hassan", Role.SUPERVISOR, "Hassan")


@pytest.fixture
def admin(app: Flask) -> User:
    return make_user("root-admin", Role.ADMIN, "Admin")


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, user: User | str, password: str = PASSWORD, lang: str = "en"):  # noqa: ANN201
        username = user if isinstance(user, str) else user.username
        with self._client.session_transaction() as session:
            session["lang"] = lang
        response = self._client.post("/login", data={"username": username, "password": password})
        return pass_second_step(self._client, username, response)

    def logout(self):  # noqa: ANN201
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def case(caseworker: User):  # noqa: ANN201
    return make_case(caseworker)
