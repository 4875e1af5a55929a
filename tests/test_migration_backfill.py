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


SECURITY = "a0b70ead8f0e"  # phones and document numbers encrypted at rest


def test_existing_numbers_are_encrypted_and_hashed_by_the_upgrade(fresh_app) -> None:  # noqa: ANN001, F811
    from cases import crypto
    from cases.casework.models import CasePhone, IdentityDocument
    from cases.identity_documents import DOCUMENT_INDEX
    from cases.phones import PHONE_INDEX

    upgrade(revision="5d0a1f3c9b21")
    now = datetime(2025, 1, 1)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, password_hash, active, "
                "session_token, created_at) VALUES (1, 'u', 'U', 'caseworker', 'x', :t, 's', :now)"
            ),
            {"t": True, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO cases (id, reference, status, owner_id, created_at, updated_at, "
                "last_activity_at, given_name, sex, age_estimated, name_key) VALUES "
                "(1, 'AAA-AAA-AA', 'open', 1, :c, :c, :c, 'x', 'male', :f, '')"
            ),
            {"c": now, "f": False},
        )
        conn.execute(text("INSERT INTO case_phones (case_id, e164) VALUES (1, '+9647701234567')"))
        conn.execute(
            text(
                "INSERT INTO identity_documents (case_id, doc_type, number) "
                "VALUES (1, 'passport', 'a 1234-5678')"
            )
        )
    upgrade(revision=SECURITY)
    with db.engine.connect() as conn:
        raw_phone, phone_hash = conn.execute(text("SELECT e164, e164_hash FROM case_phones")).one()
        raw_doc, doc_hash = conn.execute(
            text("SELECT number, number_hash FROM identity_documents")
        ).one()
        legal_hold = conn.execute(text("SELECT legal_hold FROM cases")).scalar_one()
    assert "7701234567" not in raw_phone and "1234" not in raw_doc
    assert crypto.decrypt(raw_phone) == "+9647701234567"
    assert crypto.decrypt(raw_doc) == "a 1234-5678"
    assert phone_hash == PHONE_INDEX.of("07701234567")
    assert doc_hash == DOCUMENT_INDEX.of("A12345678")
    assert not legal_hold
    phone = db.session.scalar(db.select(CasePhone))
    document = db.session.scalar(db.select(IdentityDocument))
    assert (phone.e164, document.number) == ("+9647701234567", "a 1234-5678")
    db.session.remove()


def test_existing_cases_get_their_matching_keys(fresh_app) -> None:  # noqa: ANN001, F811
    from cases.matching.keys import part_skeleton, skeleton

    upgrade(revision=SECURITY)
    now = datetime(2025, 1, 1)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, password_hash, active, "
                "created_at, totp_failures) VALUES (1, 'u', 'U', 'caseworker', 'x', :t, :now, 0)"
            ),
            {"t": True, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO cases (id, reference, status, owner_id, created_at, updated_at, "
                "last_activity_at, given_name, father_name, sex, age_estimated, name_key, "
                "legal_hold) VALUES (1, 'AAA-AAA-AA', 'open', 1, :c, :c, :c, 'محمد', 'عماد', "
                "'male', :f, '', :f)"
            ),
            {"c": now, "f": False},
        )
        conn.execute(text("INSERT INTO case_name_tokens (case_id, token) VALUES (1, 'محمد')"))
    upgrade()
    with db.engine.connect() as conn:
        given, father = conn.execute(text("SELECT given_skel, father_skel FROM cases")).one()
        token_key = conn.execute(text("SELECT skeleton FROM case_name_tokens")).scalar_one()
    assert (given, father) == (part_skeleton("Mohammed"), part_skeleton("Imad"))
    assert token_key == skeleton("محمد")
