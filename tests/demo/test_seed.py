"""The demo seeder: deterministic, realistic, and indexed exactly as the app would index it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click
import pytest
from flask import Flask
from sqlalchemy import Table, func, insert, select, text

from cases import create_app, crypto
from cases.auth.models import Role, User
from cases.auth.services import create_user
from cases.casework import workflow
from cases.casework.listing import CaseFilter, filtered_cases
from cases.casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseName,
    CaseNameToken,
    CaseNote,
    CaseStatus,
    ClosureReason,
    FamilyContact,
    NameKind,
    StatusChange,
)
from cases.casework.services import CaseDetails, birth_year_key
from cases.demo import names, seed
from cases.demo.seed import END, NO_STAFF, seed_cases
from cases.extensions import db
from cases.matching.keys import case_skeletons, skeleton, stored_token_skeletons
from cases.matching.normalize import index_tokens, normalize_arabic

COUNT = 300
SKELETON_COLUMNS = ("given_skel", "father_skel", "grandfather_skel", "laqab_skel", "mother_skel")
PASSWORD = "correct horse battery staple"


@contextmanager
def database(path: Path, staff: bool = True, config: dict | None = None) -> Iterator[Flask]:
    """A fresh database with two caseworkers, two supervisors, an admin and a disabled account.

    SQLite at ``path``, unless ``config`` points elsewhere.
    """
    app = create_app(config or {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        create_user("admin1", Role.ADMIN, PASSWORD)
        if staff:
            create_user("cw1", Role.CASEWORKER, PASSWORD)
            create_user("sup1", Role.SUPERVISOR, PASSWORD)
            create_user("cw2", Role.CASEWORKER, PASSWORD)
            create_user("sup2", Role.SUPERVISOR, PASSWORD)
            gone = create_user("cw-gone", Role.CASEWORKER, PASSWORD)
            gone.active = False
            db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One seeded database shared by the read-only tests; yields the count inserted."""
    with database(tmp_path_factory.mktemp("seed") / "seed.sqlite"):
        yield seed_cases(COUNT, seed=11)


def summary() -> list[tuple]:
    return db.session.execute(
        select(
            Case.reference, Case.given_name, Case.father_name, Case.status, Case.district_pcode
        ).order_by(Case.id)
    ).all()


def all_cases() -> list[Case]:
    return list(db.session.scalars(select(Case).order_by(Case.id)))


def everything_but_users(raw: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table but users; ``raw``: as stored, without SQLAlchemy's conversion.

    Encrypted values are decrypted even when ``raw``: encryption is randomised, so only the
    plain text can be compared (and decrypting fails if a value was stored unencrypted).
    """
    return {
        table.name: [
            _decrypted(table, row) if raw else tuple(row)
            for row in db.session.execute(
                select(text("*") if raw else table)
                .select_from(table)
                .order_by(*table.primary_key.columns)
            )
        ]
        for table in db.metadata.sorted_tables
        if table.name not in ("users", "audit_events")  # both hold wall-clock times
    }


def _decrypted(table: Table, row: Sequence) -> tuple:
    return tuple(
        crypto.decrypt(value)
        if value is not None and isinstance(column.type, crypto.EncryptedString)
        else value
        for column, value in zip(table.columns, row, strict=True)
    )


def test_same_seed_gives_the_same_cases(tmp_path: Path) -> None:
    with database(tmp_path / "a.sqlite"):
        seed_cases(120, seed=5)
        first = summary()
        first_tokens = db.session.execute(select(CaseNameToken.case_id, CaseNameToken.token)).all()
    with database(tmp_path / "b.sqlite"):
        seed_cases(120, seed=5)
        again = summary()
        again_tokens = db.session.execute(select(CaseNameToken.case_id, CaseNameToken.token)).all()
    with database(tmp_path / "c.sqlite"):
        seed_cases(120, seed=6)
        other = summary()
    assert len(first) == 120
    assert first == again
    assert sorted(first_tokens) == sorted(again_tokens)
    assert other != first
    assert {row[0] for row in other}.isdisjoint(row[0] for row in first)


def test_rows_are_stored_as_core_would_store_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The seeder bypasses Core's per-row parameter handling for speed; SQLite keeps dates as
    # text, so any difference in conversion would show in the raw rows.
    with database(tmp_path / "driver.sqlite"):
        seed_cases(100, seed=4)
        direct = everything_but_users(raw=True)

    def core_insert(table: Table, rows: list[dict]) -> None:
        db.session.execute(insert(table), rows)

    monkeypatch.setattr(seed, "_insert", core_insert)
    with database(tmp_path / "core.sqlite"):
        seed_cases(100, seed=4)
        through_core = everything_but_users(raw=True)
    assert direct["cases"]
    assert direct == through_core


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)"
)
def test_postgresql_copy_stores_what_sqlite_stores(tmp_path: Path, worker_id: str) -> None:
    # PostgreSQL is written with COPY, SQLite through Core: the rows must come out the same.
    url = os.environ["TEST_DATABASE_URL"]
    schema = f"athar_seed_{worker_id}"
    admin = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with admin.app_context(), db.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    }
    try:
        with database(tmp_path, config=config):
            seed_cases(150, seed=8)
            on_postgresql = everything_but_users()
            # The sequences were moved past the seeded ids, so the app can add cases.
            assert db.session.scalar(select(func.nextval("cases_id_seq"))) == 151
    finally:
        with admin.app_context(), db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        with admin.app_context():
            db.engine.dispose()
    with database(tmp_path / "sqlite.sqlite"):
        seed_cases(150, seed=8)
        on_sqlite = everything_but_users()
    assert on_postgresql == on_sqlite


def test_refuses_without_case_staff(tmp_path: Path) -> None:
    # Admins and disabled accounts cannot own cases.
    with database(tmp_path / "empty.sqlite", staff=False):
        create_user("cw-off", Role.CASEWORKER, PASSWORD).active = False
        db.session.commit()
        with pytest.raises(click.ClickException, match="Create staff accounts first"):
            seed_cases(5, seed=1)
        assert db.session.scalar(select(func.count(Case.id))) == 0
    assert "flask demo init" in NO_STAFF


def test_seeding_again_adds_cases_with_new_references(tmp_path: Path) -> None:
    # The same seed draws the same references, which all clash and must be drawn again.
    with database(tmp_path / "twice.sqlite"):
        assert seed_cases(40, seed=3) == 40
        assert seed_cases(40, seed=3) == 40
        refs = db.session.scalars(select(Case.reference)).all()
        ids = db.session.scalars(select(Case.id).order_by(Case.id)).all()
    assert len(refs) == len(set(refs)) == 80
    assert ids == list(range(1, 81))


def test_inserted_count_matches_the_cases_table(seeded: int) -> None:
    assert seeded == COUNT
    assert db.session.scalar(select(func.count(Case.id))) == COUNT


def test_references_use_the_app_format(seeded: int) -> None:
    pattern = re.compile(
        r"[23456789BCDFGHJKMNPQRSTVWXZ]{3}-[23456789BCDFGHJKMNPQRSTVWXZ]{3}-"
        r"[23456789BCDFGHJKMNPQRSTVWXZ]{2}"
    )
    refs = db.session.scalars(select(Case.reference)).all()
    assert all(pattern.fullmatch(ref) for ref in refs)


def test_search_keys_are_what_the_app_computes(seeded: int) -> None:
    cases = all_cases()
    # Most seeded cases have a laqab and a mother's name: their skeletons are compared too.
    assert sum(case.laqab_skel is not None for case in cases) > COUNT / 2
    assert sum(case.mother_skel is not None for case in cases) > COUNT / 2
    for case in cases:
        assert case.name_key
        assert case.name_key == normalize_arabic(case.arabic_name)[:400]
        expected = index_tokens(
            case.arabic_name, case.name_as_entered, *case.latin_names, *case.aliases
        )
        stored = {t.token for t in case.tokens}
        assert stored
        assert stored == {t[:80] for t in expected}, case.reference
        assert {t.token: t.skeleton for t in case.tokens} == stored_token_skeletons(stored)
        assert {t.skeleton for t in case.tokens} - {None} == {skeleton(t) for t in stored}
        assert case.given_skel
        assert {c: getattr(case, c) for c in SKELETON_COLUMNS} == case_skeletons(
            case.given_name, case.father_name, case.grandfather_name, case.laqab, case.mother_name
        ), case.reference
        details = CaseDetails(given_name=case.given_name, birth_year=case.birth_year, age=case.age)
        assert case.birth_year_key == birth_year_key(details, case.age_recorded_on)


def test_cases_are_owned_by_active_case_staff(seeded: int) -> None:
    owners = set(db.session.scalars(select(Case.owner_id).distinct()))
    staff = set(
        db.session.scalars(
            select(User.id).where(
                User.active.is_(True), User.role.in_([Role.CASEWORKER, Role.SUPERVISOR])
            )
        )
    )
    assert owners <= staff
    assert len(owners) > 1


def test_closure_reason_only_on_closed_cases(seeded: int) -> None:
    statuses = {case.status for case in all_cases()}
    assert {CaseStatus.OPEN, CaseStatus.CLOSED, CaseStatus.NEW} <= statuses
    for case in all_cases():
        assert (case.closure_reason is not None) == (case.status == CaseStatus.CLOSED)


def test_status_history_follows_the_workflow(seeded: int) -> None:
    for case in all_cases():
        changes = db.session.scalars(
            select(StatusChange).filter_by(case_id=case.id).order_by(StatusChange.id)
        ).all()
        assert (changes[0].from_status, changes[0].to_status) == (None, CaseStatus.NEW)
        assert changes[0].created_at == case.created_at
        for before, change in zip(changes, changes[1:], strict=False):
            assert change.from_status == before.to_status
            assert change.to_status in workflow.allowed_targets(before.to_status)
            assert change.created_at > before.created_at
            assert change.reason
            if change.to_status == CaseStatus.CLOSED:
                reason = ClosureReason(change.closure_reason)
                assert CaseStatus(change.from_status) in workflow.CLOSURE_REASONS_FROM[reason]
            if change.to_status in workflow.NEEDS_APPROVAL:
                approval = db.session.get(ApprovalRequest, change.approval_id)
                assert approval.state == ApprovalState.APPROVED
                assert approval.decided_by_id == change.actor_id != approval.requested_by_id
                assert approval.requested_at < approval.decided_at == change.created_at
        assert changes[-1].to_status == case.status
        assert changes[-1].closure_reason == case.closure_reason
        pending = db.session.scalars(
            select(ApprovalRequest).filter_by(case_id=case.id, state=ApprovalState.PENDING)
        ).all()
        assert len(pending) <= 1
        for request in pending:
            # What services.change_status would have accepted from where the case stands.
            reason = ClosureReason(request.closure_reason)
            assert CaseStatus(case.status) in workflow.CLOSURE_REASONS_FROM[reason]
            assert request.requested_at > changes[-1].created_at


def test_timestamps_tell_one_story(seeded: int) -> None:
    for case in all_cases():
        assert datetime(2023, 1, 1) <= case.created_at < END
        assert date(2022, 1, 1) <= (case.departure_date or date(2022, 1, 1)) <= date(2025, 12, 31)
        if case.departure_date and case.last_contact_date:
            assert case.departure_date < case.last_contact_date < case.created_at.date()
        notes = db.session.scalars(select(CaseNote.created_at).filter_by(case_id=case.id)).all()
        changes = db.session.scalars(
            select(StatusChange.created_at).filter_by(case_id=case.id)
        ).all()
        requests = db.session.scalars(
            select(ApprovalRequest.requested_at).filter_by(case_id=case.id)
        ).all()
        events = [*notes, *changes, *requests]
        assert all(case.created_at <= at < END for at in events)
        assert case.last_activity_at == max(events)


def test_family_contacts_have_iraqi_mobiles(seeded: int) -> None:
    contacts = db.session.scalars(select(FamilyContact)).all()
    assert len(contacts) >= COUNT
    phones = [c.phone_e164 for c in contacts if c.phone_e164]
    assert phones
    assert all(re.fullmatch(r"\+9647[3-9]\d{8}", p) for p in phones)
    assert {c.relationship_to_person for c in contacts} <= {"الأم", "الأب", "الأخ", "الزوجة"}


def test_latin_name_search_finds_the_case(seeded: int) -> None:
    supervisor = db.session.scalar(select(User).filter_by(username="sup1"))
    latin = db.session.execute(
        select(CaseName.case_id, CaseName.name).filter_by(kind=NameKind.LATIN).limit(25)
    ).all()
    assert latin
    for case_id, name in latin:
        found = db.session.scalars(filtered_cases(supervisor, CaseFilter(q=name))).all()
        assert case_id in {case.id for case in found}, name


@pytest.mark.parametrize(
    ("arabic", "spellings"),
    [
        ("كاظم", {"Kadhim", "Kazim", "Kathim"}),
        ("قاسم", {"Qasim", "Kasim", "Gasim"}),
        ("حسين", {"Hussein", "Husain", "Hussain"}),
        ("حيدر", {"Haider", "Hayder"}),
        ("محمد", {"Mohammed", "Muhammad", "Mohamad", "Mohamed"}),
    ],
)
def test_latin_spellings_vary_as_on_real_documents(arabic: str, spellings: set[str]) -> None:
    found = names.latin_spellings(arabic)
    assert spellings <= set(found)
    assert len(found) <= max(names.MAX_SPELLINGS, len(names.IRREGULAR_SPELLINGS.get(arabic, ())))


def test_every_name_that_can_be_romanised_is() -> None:
    for table in (names.YOUNG_MEN, names.ELDER_MEN, names.YOUNG_WOMEN, names.LAQABS):
        for arabic, _ in table:
            assert names.latin_spellings(arabic), arabic
