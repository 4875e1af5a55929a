"""The oversight migration fills in the time spent in each status from existing history."""

from __future__ import annotations

from datetime import datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cases.extensions import db

from .test_migrations import fresh_app  # noqa: F401 - fixture

BEFORE = "e8156ebd09b8"  # family inquiries: the revision before time-in-status existed
OVERSIGHT = "0c763f0df547"


def test_time_in_status_is_backfilled(fresh_app) -> None:  # noqa: ANN001, F811
    upgrade(revision="ea8556566004")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, password_hash, active, "
                "session_token, created_at) VALUES (1, 'u', 'U', 'caseworker', 'x', :t, 's', :now)"
            ),
            {"t": True, "now": datetime(2025, 1, 1)},
        )
        conn.execute(
            text(
                "INSERT INTO cases (id, reference, status, owner_id, created_at, updated_at, "
                "last_activity_at, given_name, sex, age_estimated, name_key) VALUES "
                "(1, 'AAA-AAA-AA', 'open', 1, :c, :c, :c, 'x', 'male', :f, '')"
            ),
            {"c": datetime(2025, 1, 1), "f": False},
        )
        for i, (at, old, new) in enumerate(
            [
                (datetime(2025, 1, 1), None, "new"),
                (datetime(2025, 1, 3), "new", "open"),
                (datetime(2025, 1, 13), "open", "located_alive"),
            ],
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO status_changes (id, case_id, actor_id, created_at, from_status, "
                    "to_status, reason) VALUES (:i, 1, 1, :at, :old, :new, '')"
                ),
                {"i": i, "at": at, "old": old, "new": new},
            )
    upgrade(revision=OVERSIGHT)
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, seconds_in_previous FROM status_changes ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [(1, None), (2, 2 * 86400), (3, 10 * 86400)]
    downgrade(revision=BEFORE)
