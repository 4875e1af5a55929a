"""Case file rules: creating, editing, notes, assignment, sharing, timeline."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cases.auth.models import Role
from cases.casework import services
from cases.casework.access import can_work_on, visible_cases
from cases.casework.models import (
    ApprovalRequest,
    Assignment,
    Case,
    CaseName,
    CaseNameToken,
    CaseNote,
    CasePhone,
    CaseShare,
    CaseStatus,
    FamilyContact,
    IdentityDocument,
    StatusChange,
)
from cases.casework.services import (
    REFERENCE_ALPHABET,
    CaseDetails,
    CaseRuleError,
    ContactDetails,
    DocumentDetails,
    add_note,
    assign_case,
    birth_year_key,
    change_status,
    create_case,
    decide_approval,
    details_of,
    share_case,
    update_case,
)
from cases.casework.timeline import case_timeline
from cases.extensions import db

from ..factories import make_case, make_user

REFERENCE = re.compile(r"^[2-9A-Z]{3}-[2-9A-Z]{3}-[2-9A-Z]{2}$")


def _reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def _tokens(case) -> set[str]:
    return set(db.session.scalars(db.select(CaseNameToken.token).filter_by(case_id=case.id)).all())


def _rows(model, case):
    return db.session.scalars(db.select(model).filter_by(case_id=case.id)).all()


# --- create_case ---------------------------------------------------------------------------


def test_create_case_opens_a_new_case_file(caseworker):
    case = create_case(caseworker, CaseDetails(given_name="حيدر", father_name="كاظم"))

    case = _reload(case)
    assert REFERENCE.match(case.reference)
    assert set(case.reference.replace("-", "")) <= set(REFERENCE_ALPHABET)
    assert case.status == CaseStatus.NEW
    assert case.owner_id == caseworker.id
    assert case.created_by_id == caseworker.id
    assert case.arabic_name == "حيدر كاظم"

    [change] = _rows(StatusChange, case)
    assert (change.from_status, change.to_status) == (None, CaseStatus.NEW)
    assert change.actor_id == caseworker.id
    [assignment] = _rows(Assignment, case)
    assert assignment.to_user_id == caseworker.id
    assert assignment.from_user_id is None
    assert assignment.actor_id == caseworker.id


def test_references_are_unique_and_not_sequential(caseworker):
    cases = [create_case(caseworker, CaseDetails(given_name=f"اسم{i}")) for i in range(50)]
    refs = [c.reference for c in cases]

    assert all(REFERENCE.match(r) for r in refs)
    assert len(set(refs)) == 50
    assert refs != sorted(refs)
    # Not a counter: references spread over the alphabet rather than sharing a stem.
    assert len({r[:3] for r in refs}) > 25


def test_a_reference_already_taken_is_drawn_again(caseworker, monkeypatch):
    first = create_case(caseworker, CaseDetails(given_name="حيدر"))
    taken = first.reference.replace("-", "")
    fresh = "BCDFGHJK" if taken != "BCDFGHJK" else "23456789"
    draws = iter(taken + fresh)

    class FakeSecrets:
        @staticmethod
        def choice(alphabet):
            return next(draws)

    monkeypatch.setattr(services, "secrets", FakeSecrets)
    second = create_case(caseworker, CaseDetails(given_name="علي"))

    assert second.reference == f"{fresh[:3]}-{fresh[3:6]}-{fresh[6:]}"


def test_supervisor_may_create_a_case_for_a_caseworker(supervisor, caseworker):
    case = create_case(supervisor, CaseDetails(given_name="حيدر"), owner=caseworker)
    assert case.owner_id == caseworker.id
    assert case.created_by_id == supervisor.id
    [assignment] = _rows(Assignment, case)
    assert (assignment.actor_id, assignment.to_user_id) == (supervisor.id, caseworker.id)


def test_caseworker_cannot_create_a_case_for_someone_else(caseworker, other_caseworker):
    with pytest.raises(CaseRuleError):
        create_case(caseworker, CaseDetails(given_name="حيدر"), owner=other_caseworker)
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_admin_cannot_create_cases(admin):
    with pytest.raises(CaseRuleError):
        create_case(admin, CaseDetails(given_name="حيدر"))
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_create_case_stores_lists_and_tokens(caseworker):
    case = make_case(
        caseworker,
        phones=["+9647701234567", "+79123456789", "+9647701234567"],
        documents=[DocumentDetails("passport", "A1234567")],
        aliases=["أبو علي"],
    )
    case = _reload(case)
    assert [p.e164 for p in case.phones] == ["+9647701234567", "+79123456789"]
    assert [(d.doc_type, d.number) for d in case.documents] == [("passport", "A1234567")]
    assert case.latin_names == ["Mohammed Imad Jabbar"]
    assert case.aliases == ["أبو علي"]
    [contact] = case.contacts
    assert (contact.name, contact.relationship_to_person, contact.phone_e164) == (
        "أم محمد",
        "الأم",
        "+9647701234567",
    )
    assert {"محمد", "عماد", "mohammed", "imad", "jabbar", "ابوعلي"} <= _tokens(case)
    assert case.name_key == "محمد عماد جبار كاظم الجنابي"


# --- update_case ---------------------------------------------------------------------------


def test_update_case_replaces_lists_and_refreshes_search_tokens(caseworker, case):
    assert "mohammed" in _tokens(case)
    details = details_of(case)
    details.given_name = "حيدر"
    details.latin_names = ["Haider Imad"]
    details.aliases = ["ابو زينب"]
    details.phones = ["+9647809998877"]
    details.documents = [DocumentDetails("national_id", "199012345678")]
    details.contacts = [ContactDetails("ابو حيدر", "الأب", None, "ar")]
    details.locality = "حي الحسين"

    update_case(caseworker, case, details)

    case = _reload(case)
    assert case.arabic_name.startswith("حيدر عماد")
    assert case.locality == "حي الحسين"
    assert [n.name for n in _rows(CaseName, case)] == ["Haider Imad", "ابو زينب"]
    assert [p.e164 for p in _rows(CasePhone, case)] == ["+9647809998877"]
    assert [(d.doc_type, d.number) for d in _rows(IdentityDocument, case)] == [
        ("national_id", "199012345678")
    ]
    assert [c.name for c in _rows(FamilyContact, case)] == ["ابو حيدر"]
    tokens = _tokens(case)
    assert "محمد" not in tokens
    assert "mohammed" not in tokens
    assert {"حيدر", "haider", "ابوزينب"} <= tokens
    assert case.name_key.startswith("حيدر")


def test_update_keeping_the_same_names_works(caseworker, case):
    before = _tokens(case)
    details = details_of(case)
    details.phones = ["+9647809998877"]
    update_case(caseworker, case, details)
    assert _tokens(_reload(case)) == before
    assert [p.e164 for p in _reload(case).phones] == ["+9647809998877"]


def test_details_of_round_trips(caseworker, case):
    details = details_of(case)
    assert details.given_name == "محمد"
    assert details.latin_names == ["Mohammed Imad Jabbar"]
    assert details.contacts == [ContactDetails("أم محمد", "الأم", "+9647701234567", "ar")]
    assert details.district_pcode == "IQG07Q04"


def test_other_caseworker_cannot_update(other_caseworker, case):
    details = details_of(case)
    details.given_name = "حيدر"
    with pytest.raises(CaseRuleError):
        update_case(other_caseworker, case, details)
    assert _reload(case).given_name == "محمد"


# --- birth year key ------------------------------------------------------------------------


def test_birth_year_key_from_birth_year_or_age():
    assert birth_year_key(CaseDetails(given_name="x", birth_year=1995, age=40), None) == 1995
    assert birth_year_key(CaseDetails(given_name="x", age=24), date(2024, 3, 1)) == 2000
    assert birth_year_key(CaseDetails(given_name="x", age=0), date(2024, 3, 1)) == 2024
    assert birth_year_key(CaseDetails(given_name="x"), date(2024, 3, 1)) is None


def test_birth_year_key_stored_on_the_case(caseworker):
    by_age = make_case(caseworker, age=24)
    by_year = make_case(caseworker, birth_year=1990, age=None)
    unknown = make_case(caseworker, age=None)
    assert _reload(by_age).birth_year_key == date.today().year - 24
    assert _reload(by_age).age_recorded_on == date.today()
    assert _reload(by_year).birth_year_key == 1990
    assert _reload(unknown).birth_year_key is None


def test_a_changed_age_is_dated_again(caseworker):
    case = make_case(caseworker, age=24)
    case.age_recorded_on = date(2020, 5, 1)
    case.birth_year_key = 1996
    db.session.commit()

    details = details_of(case)
    details.locality = "الحلة"
    update_case(caseworker, case, details)
    case = _reload(case)
    assert case.age_recorded_on == date(2020, 5, 1)  # same age: still the 2020 statement
    assert case.birth_year_key == 1996

    details = details_of(case)
    details.age = 30
    update_case(caseworker, case, details)
    case = _reload(case)
    assert case.age_recorded_on == date.today()
    assert case.birth_year_key == date.today().year - 30


# --- notes ---------------------------------------------------------------------------------


def test_add_note_is_append_only(caseworker, case):
    original = add_note(caseworker, case, "  Mother called: he phoned from Rostov  ", kind="call")
    assert original.body == "Mother called: he phoned from Rostov"

    correction = add_note(
        caseworker, case, "It was Voronezh, not Rostov", kind="call", corrects_id=original.id
    )

    notes = db.session.scalars(
        db.select(CaseNote).filter_by(case_id=case.id).order_by(CaseNote.id)
    ).all()
    assert [n.id for n in notes] == [original.id, correction.id]
    assert notes[0].body == "Mother called: he phoned from Rostov"
    assert notes[0].corrects_id is None
    assert notes[1].corrects_id == original.id
    assert notes[1].author_id == caseworker.id


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_an_empty_note_is_refused(caseworker, case, body):
    with pytest.raises(CaseRuleError, match="empty"):
        add_note(caseworker, case, body)
    assert _rows(CaseNote, case) == []


def test_a_correction_must_point_at_a_note_of_this_case(caseworker, case):
    other = make_case(caseworker, given_name="علي")
    foreign = add_note(caseworker, other, "On the other case")

    with pytest.raises(CaseRuleError, match="not on this case"):
        add_note(caseworker, case, "Correction", corrects_id=foreign.id)
    with pytest.raises(CaseRuleError, match="not on this case"):
        add_note(caseworker, case, "Correction", corrects_id=foreign.id + 1000)
    assert _rows(CaseNote, case) == []


def test_other_caseworker_and_admin_cannot_add_notes(other_caseworker, admin, case):
    for actor in (other_caseworker, admin):
        with pytest.raises(CaseRuleError):
            add_note(actor, case, "Hello")
    assert _rows(CaseNote, case) == []


# --- assignment and sharing ----------------------------------------------------------------


def test_supervisor_reassigns_a_case(supervisor, caseworker, other_caseworker, case):
    assignment = assign_case(supervisor, case, other_caseworker, "  Zainab is on leave  ")

    case = _reload(case)
    assert case.owner_id == other_caseworker.id
    assignment = _reload(assignment)
    assert assignment.actor_id == supervisor.id
    assert assignment.from_user_id == caseworker.id
    assert assignment.to_user_id == other_caseworker.id
    assert assignment.reason == "Zainab is on leave"
    assert can_work_on(other_caseworker, case)
    assert not can_work_on(caseworker, case)


def test_caseworker_cannot_assign(caseworker, other_caseworker, case):
    with pytest.raises(CaseRuleError, match="supervisor"):
        assign_case(caseworker, case, other_caseworker, "Please take it")
    assert _reload(case).owner_id == caseworker.id
    assert len(_rows(Assignment, case)) == 1


def test_assign_to_admin_inactive_or_current_owner_is_refused(supervisor, caseworker, admin, case):
    gone = make_user("former", Role.CASEWORKER, "Former")
    gone.active = False
    db.session.commit()
    for target in (admin, gone, caseworker):
        with pytest.raises(CaseRuleError):
            assign_case(supervisor, case, target, None)
    assert _reload(case).owner_id == caseworker.id
    assert len(_rows(Assignment, case)) == 1


def test_owner_shares_a_case(caseworker, other_caseworker, case):
    assert not can_work_on(other_caseworker, case)

    share_case(caseworker, case, other_caseworker)

    share = db.session.get(CaseShare, (case.id, other_caseworker.id))
    assert share is not None
    assert share.granted_by_id == caseworker.id
    visible = db.session.scalars(visible_cases(other_caseworker)).all()
    assert [c.id for c in visible] == [case.id]
    # The colleague can now work on it.
    add_note(other_caseworker, case, "Called the embassy")
    change_status(other_caseworker, case, CaseStatus.OPEN, "Started tracing")
    assert _reload(case).status == CaseStatus.OPEN
    assert _reload(case).owner_id == caseworker.id


def test_share_rules(caseworker, other_caseworker, supervisor, admin, case):
    third = make_user("noor", Role.CASEWORKER, "Noor")
    with pytest.raises(CaseRuleError, match="owner or a supervisor"):
        share_case(other_caseworker, case, third)
    with pytest.raises(CaseRuleError):
        share_case(caseworker, case, admin)
    with pytest.raises(CaseRuleError, match="already"):
        share_case(caseworker, case, caseworker)
    assert _rows(CaseShare, case) == []

    share_case(supervisor, case, third)
    with pytest.raises(CaseRuleError, match="already"):
        share_case(caseworker, case, third)
    assert len(_rows(CaseShare, case)) == 1


# --- timeline ------------------------------------------------------------------------------


def test_timeline_lists_every_event_newest_first(
    caseworker, other_caseworker, supervisor, second_supervisor, case
):
    note = add_note(caseworker, case, "First call with the mother")
    change_status(caseworker, case, CaseStatus.OPEN, "Tracing started")
    assign_case(supervisor, case, other_caseworker, "Workload")
    request = change_status(
        other_caseworker, case, CaseStatus.CLOSED, "Withdrew", "family_withdrew"
    )
    decide_approval(second_supervisor, request, approve=False, comment="Call them once more")

    entries = case_timeline(_reload(case))

    times = [e.at for e in entries]
    assert times == sorted(times, reverse=True)
    kinds = [e.kind for e in entries]
    assert kinds[:5] == ["approval_decided", "approval_requested", "assignment", "status", "note"]
    # Opening the case writes its first status and assignment together.
    assert sorted(kinds[5:]) == ["assignment", "status"]
    assert entries[0].item.comment == "Call them once more"
    assert entries[1].item.id == request.id
    assert entries[2].item.to_user_id == other_caseworker.id
    assert entries[3].item.to_status == CaseStatus.OPEN
    assert entries[4].item.id == note.id
    [opened] = [e.item for e in entries[5:] if e.kind == "status"]
    assert (opened.from_status, opened.to_status) == (None, CaseStatus.NEW)


def test_timeline_of_an_approved_closure_shows_the_status_change(caseworker, supervisor, case):
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Duplicate", "duplicate")
    decide_approval(supervisor, request, approve=True, comment="Same as the other file")

    entries = case_timeline(_reload(case))
    kinds = [e.kind for e in entries]
    assert kinds.count("approval_decided") == 1
    assert kinds.count("approval_requested") == 1
    [closed] = [e.item for e in entries if e.kind == "status" and e.item.to_status == "closed"]
    assert closed.approval_id == request.id
    assert closed.closure_reason == "duplicate"
    assert isinstance(
        next(e.item for e in entries if e.kind == "approval_decided"), ApprovalRequest
    )
