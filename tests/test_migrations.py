"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from cases import create_app
from cases.extensions import db


@pytest.fixture
def fresh_app(tmp_path, worker_id):  # noqa: ANN001, ANN201
    url = os.environ.get("TEST_DATABASE_URL")
    options: dict = {}
    if url:
        schema = f"athar_migrations_{worker_id}"
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        setup = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with setup.app_context():
            with db.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            db.engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        yield app
        db.engine.dispose()


def test_migrated_schema_equals_models(fresh_app) -> None:  # noqa: ANN001
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_downgrade_removes_every_table(fresh_app) -> None:  # noqa: ANN001
    upgrade()
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()


def test_migrated_audit_trail_is_append_only(fresh_app) -> None:  # noqa: ANN001
    # A later batch migration on SQLite rebuilds a table and would drop its triggers silently.
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_events (at, action, prev_hash, hash) "
                "VALUES (CURRENT_TIMESTAMP, 'login', :genesis, :sealed)"
            ),
            {"genesis": "0" * 64, "sealed": "f" * 64},
        )
    attacks = ["UPDATE audit_events SET action = 'logout'", "DELETE FROM audit_events"]
    if db.engine.dialect.name == "sqlite":
        attacks.append(
            "INSERT OR REPLACE INTO audit_events (id, at, action, prev_hash, hash) "
            "SELECT id, at, 'logout', prev_hash, hash FROM audit_events"
        )
    for sql in attacks:
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_events")).scalar_one() == "login"
