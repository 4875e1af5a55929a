"""Concurrent writers on one SQLite file: nobody gets "database is locked", nothing is lost.

A request reads before it writes (its login session, the case it works on). If that read opened
a transaction and another request wrote meanwhile, SQLite could not let the write wait for the
lock: the snapshot is stale, and the answer would be "database is locked" at once, whatever the
busy timeout (cases/extensions.py explains the choice; bench/faults.py drives the same through
gunicorn). These tests use their own SQLite file, whatever database the suite runs on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from cases import create_app
from cases.audit.services import verify
from cases.casework import services
from cases.casework.models import Case, CaseNote
from cases.extensions import db

from ..factories import make_case, make_user

WRITERS = 8
NOTES_EACH = 15


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'writers.sqlite'}"})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_write_after_a_read_waits_for_a_concurrent_writer(sqlite_app: Flask) -> None:
    """Request A reads; request B writes and commits; then A writes. Both are saved."""
    with sqlite_app.app_context():
        engine = db.engine
    with engine.connect() as setup:
        setup.execute(text("CREATE TABLE visits (who TEXT)"))
        setup.commit()
    a_has_read = threading.Event()
    b_failed: list[Exception] = []

    def request_b() -> None:
        a_has_read.wait(5)
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO visits VALUES ('b')"))
        except Exception as error:  # noqa: BLE001 - asserted below
            b_failed.append(error)

    b = threading.Thread(target=request_b)
    b.start()
    with engine.connect() as a:
        a.execute(text("SELECT count(*) FROM visits")).scalar_one()
        a_has_read.set()
        b.join(1)  # B commits now, unless A's read holds the lock (then B waits for A)
        a.execute(text("INSERT INTO visits VALUES ('a')"))
        a.commit()
    b.join(15)

    assert b_failed == []
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT who FROM visits")).scalars()) == ["a", "b"]


def test_caseworkers_adding_notes_at_once_all_succeed(sqlite_app: Flask) -> None:
    """Threads stand in for gunicorn's: each reads its case and adds notes through the service,
    which also moves the case on and appends to the audit chain."""
    with sqlite_app.app_context():
        pairs = []
        for i in range(WRITERS):
            user = make_user(f"writer{i}", "caseworker")
            pairs.append((user.id, make_case(user).id))
    start = threading.Barrier(WRITERS)
    failures: list[str] = []

    def caseworker(user_id: int, case_id: int) -> None:
        start.wait(10)
        for n in range(NOTES_EACH):
            with sqlite_app.app_context():
                try:
                    case = db.session.get(Case, case_id)
                    user = case.owner
                    assert user.id == user_id
                    services.add_note(user, case, f"note {n} by {user_id}")
                except Exception as error:  # noqa: BLE001 - asserted below
                    failures.append(f"{type(error).__name__}: {error}")
                finally:
                    db.session.remove()

    threads = [threading.Thread(target=caseworker, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert failures == []
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count(CaseNote.id))) == WRITERS * NOTES_EACH
        report = verify()
        assert report.broken_links == [] and report.altered == []
