"""Retention rules without HTTP: what is due, what a purge removes and keeps, legal hold."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cases.audit.models import AuditEvent
from cases.casework.models import (
    Case,
    CaseName,
    CaseNameToken,
    CaseNote,
    CasePhone,
    CaseStatus,
    FamilyContact,
    IdentityDocument,
    StatusChange,
)
from cases.casework.timeline import case_timeline
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Inquiry, InquiryState, InquiryUpdate, RejectReason
from cases.oversight import stats
from cases.retention import services as retention
from cases.retention.models import DestructionRecord

from ..inquiries.factories import make_inquiry
from .factories import ago, close, linked_inquiry, marked_case, markers, text_everywhere

NOT_ON_PLAIN_CASES = {"status_reason", "inquirer", "inquirer_phone", "update"}


def _count(model, *where) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _due() -> set[tuple[str, str, str]]:
    return {(i.object_type, i.reference, i.rule) for i in retention.due_for_purge()}


def test_due_for_purge_lists_only_what_is_past_its_period(app, caseworker, supervisor) -> None:
    old_duplicate = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 91)
    close(caseworker, supervisor, marked_case(caseworker, 2), "duplicate", 80)
    close(caseworker, supervisor, marked_case(caseworker, 3), "in_contact", 400)
    found_long_ago = close(caseworker, supervisor, marked_case(caseworker, 4), "in_contact", 731)
    open_case = marked_case(caseworker, 5)
    open_case.last_activity_at = ago(4000)  # open cases are never purged, however quiet
    held = close(caseworker, supervisor, marked_case(caseworker, 6), "duplicate", 200)
    retention.set_legal_hold(supervisor, held, True, "Court order 12/2026")
    linked_inquiry(caseworker, old_duplicate, 1)  # goes with its case, not listed twice

    spam, _ = make_inquiry()
    inquiries.reject_inquiry(supervisor, spam, RejectReason.SPAM, None)
    spam.triaged_at = ago(31)
    recent_spam, _ = make_inquiry()
    inquiries.reject_inquiry(supervisor, recent_spam, RejectReason.SPAM, None)
    withdrawn, _ = make_inquiry()
    inquiries.request_about_data(withdrawn, inquiries.RequestKind.WITHDRAW_CONSENT)
    withdrawn.consent_withdrawn_at = ago(40)
    db.session.commit()

    assert _due() == {
        ("case", old_duplicate.reference, "closed_duplicate"),
        ("case", found_long_ago.reference, "closed_in_contact"),
        ("inquiry", retention.inquiry_reference(spam.reference), "inquiry_rejected"),
        (
            "inquiry",
            retention.inquiry_reference(withdrawn.reference),
            "inquiry_consent_withdrawn",
        ),
    }
    assert [(i.reference, i.held) for i in retention.held_past_retention()] == [
        (held.reference, True)
    ]
    ages = {i.reference: i.age_days for i in retention.due_for_purge()}
    assert ages[old_duplicate.reference] == 91


def test_periods_come_from_the_configuration(app, caseworker, supervisor) -> None:
    case = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 10)
    assert _due() == set()
    app.config["RETENTION_DAYS"] = {**app.config["RETENTION_DAYS"], "closed_duplicate": 7}
    assert _due() == {("case", case.reference, "closed_duplicate")}


def _figures() -> tuple:
    d = stats.compute(30)
    return (
        d.by_status,
        d.by_governorate,
        d.by_district,
        d.months,
        d.new_cases,
        d.new_inquiries,
        d.median_days_in_status,
    )


def test_purge_removes_the_personal_data_and_keeps_the_statistics(
    app, caseworker, supervisor
) -> None:
    gone = close(
        caseworker,
        supervisor,
        marked_case(caseworker, 1),
        "duplicate",
        100,
        markers(1)["status_reason"],
    )
    inquiry, _ = linked_inquiry(caseworker, gone, 1)
    kept = close(caseworker, supervisor, marked_case(caseworker, 2), "duplicate", 10)
    held = close(caseworker, supervisor, marked_case(caseworker, 3), "duplicate", 100)
    retention.set_legal_hold(supervisor, held, True, "Investigation by the ICRC")
    before = _figures()

    summary = retention.purge()

    assert (summary.cases, summary.inquiries, summary.held) == (1, 1, 1)
    assert _figures() == before
    everything = text_everywhere()
    assert not [word for word in markers(1).values() if word in everything]
    for n in (2, 3):
        on_case = {k: w for k, w in markers(n).items() if k not in NOT_ON_PLAIN_CASES}
        assert [k for k, w in on_case.items() if w not in everything] == []
    db.session.expire_all()
    for model in (CaseName, CasePhone, IdentityDocument, FamilyContact, CaseNameToken):
        assert _count(model, model.case_id == gone.id) == 0
    assert _count(CasePhone, CasePhone.case_id == kept.id) == 1
    assert set(db.session.scalars(select(CaseNote.body).filter_by(case_id=gone.id))) == {
        retention.REMOVED
    }
    statuses = db.session.scalars(
        select(StatusChange).filter_by(case_id=gone.id).order_by(StatusChange.id)
    ).all()
    assert [s.to_status for s in statuses] == ["new", "closed"]  # the skeleton stays
    assert {s.created_at.day for s in statuses} == {1}  # at month precision
    case = db.session.get(Case, gone.id)
    assert case.given_name == "" and case.mother_name is None and case.birth_year is None
    assert (case.status, case.closure_reason) == ("closed", "duplicate")
    assert (case.governorate_pcode, case.district_pcode) == ("IQG07", "IQG07Q04")
    assert case.anonymised_at is not None and case.created_at.day == 1
    assert case.arabic_name == "[anonymised]"
    erased = db.session.get(Inquiry, inquiry.id)
    assert (erased.state, erased.inquirer_name, erased.inquirer_phone) == ("erased", "", None)
    assert _count(InquiryUpdate, InquiryUpdate.inquiry_id == inquiry.id) == 0
    assert db.session.get(Case, held.id).anonymised_at is None


def test_purge_writes_destruction_records_and_audits(app, caseworker, supervisor) -> None:
    gone = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    inquiry, _ = linked_inquiry(caseworker, gone, 1)
    retention.purge()
    records = db.session.scalars(select(DestructionRecord).order_by(DestructionRecord.id)).all()
    by_type = {r.object_type: r for r in records}
    assert set(by_type) == {"case", "inquiry"}
    case_record = by_type["case"]
    assert (case_record.object_id, case_record.reference) == (gone.id, gone.reference)
    assert (case_record.reason, case_record.rule) == ("retention", "closed_duplicate")
    assert case_record.performed_by_id is None and case_record.dry_run is False
    counts = json.loads(case_record.counts)
    assert counts["phones"] == 1 and counts["documents"] == 1 and counts["notes"] == 1
    assert counts["inquiries"] == 1 and counts["names"] >= 5
    assert case_record.categories.split(",") == sorted(counts)
    inquiry_record = by_type["inquiry"]
    assert inquiry_record.reference == retention.inquiry_reference(inquiry.reference)
    assert json.loads(inquiry_record.counts)["family_updates"] == 1
    purges = db.session.scalars(select(AuditEvent).filter_by(action="purge")).all()
    assert {(e.object_type, e.object_id) for e in purges} == {
        ("case", gone.id),
        ("inquiry", inquiry.id),
    }


def test_a_second_purge_finds_nothing(app, caseworker, supervisor) -> None:
    close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    first = retention.purge()
    assert first.cases == 1
    snapshot = text_everywhere()
    second = retention.purge()
    assert (second.cases, second.inquiries, second.records) == (0, 0, [])
    assert _count(DestructionRecord) == 1
    assert text_everywhere() == snapshot


def test_purge_works_in_batches(app, caseworker, supervisor) -> None:
    for n in (1, 2, 3):
        close(caseworker, supervisor, marked_case(caseworker, n), "duplicate", 100)
    summary = retention.purge(batch_size=2)
    assert summary.cases == 3
    assert _count(Case, Case.anonymised_at.is_(None)) == 0


def test_rejected_and_withdrawn_inquiries_are_erased(app, caseworker, supervisor) -> None:
    spam, _ = make_inquiry(inquirer_name=markers(1)["inquirer"])
    inquiries.reject_inquiry(supervisor, spam, RejectReason.SPAM, "selling visas")
    spam.triaged_at = ago(31)
    db.session.commit()
    retention.purge()
    db.session.expire_all()
    erased = db.session.get(Inquiry, spam.id)
    assert erased.state == InquiryState.ERASED and erased.triage_comment is None
    assert markers(1)["inquirer"] not in text_everywhere()
    assert inquiries.intake_queue() == []


# --- legal hold ----------------------------------------------------------------------------


def test_legal_hold_needs_a_supervisor_and_a_reason(app, caseworker, supervisor, case) -> None:
    with pytest.raises(retention.RetentionError):
        retention.set_legal_hold(caseworker, case, True, "because")
    with pytest.raises(retention.RetentionError, match="Say why"):
        retention.set_legal_hold(supervisor, case, True, "  ")
    retention.set_legal_hold(supervisor, case, True, "Court order 7/2026")
    assert (case.legal_hold, case.legal_hold_by_id) == (True, supervisor.id)
    with pytest.raises(retention.RetentionError):
        retention.set_legal_hold(supervisor, case, True, "again")
    retention.set_legal_hold(supervisor, case, False, "Court case closed")
    assert (case.legal_hold, case.legal_hold_reason, case.legal_hold_at) == (False, None, None)
    kinds = [(e.kind, e.item.held) for e in case_timeline(case) if e.kind == "legal_hold"]
    assert sorted(kinds) == [("legal_hold", False), ("legal_hold", True)]
    assert _count(AuditEvent, AuditEvent.action == "legal_hold") == 2


def test_a_held_case_cannot_be_anonymised(app, caseworker, supervisor) -> None:
    case = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    retention.set_legal_hold(supervisor, case, True, "Court order")
    with pytest.raises(retention.RetentionError, match="legal hold"):
        retention.anonymise_case(case, reason="retention")
    assert retention.purge().cases == 0
    retention.set_legal_hold(supervisor, case, False, "Released by the court")
    assert retention.purge().cases == 1


# --- deletion requests ---------------------------------------------------------------------


def _deletion(inquiry: Inquiry, include_case: bool = False):  # noqa: ANN202
    return inquiries.request_about_data(
        inquiry, inquiries.RequestKind.DELETION, include_case=include_case
    )


def test_deletion_erases_the_inquiry_and_its_contact_but_keeps_the_case(
    app, caseworker, supervisor
) -> None:
    case = marked_case(caseworker, 1)
    inquiry, _ = linked_inquiry(caseworker, case, 2)
    assert len(case.contacts) == 2
    retention.carry_out_deletion(supervisor, _deletion(inquiry))
    db.session.commit()
    db.session.expire_all()
    assert [c.name for c in db.session.get(Case, case.id).contacts] == [markers(1)["contact"]]
    everything = text_everywhere()
    assert markers(2)["inquirer"] not in everything and markers(2)["update"] not in everything
    assert markers(1)["given_name"] in everything
    record = db.session.scalar(select(DestructionRecord))
    assert (record.object_type, record.reason, record.performed_by_id) == (
        "inquiry",
        "deletion_request",
        supervisor.id,
    )


def test_deleting_the_case_too_closes_and_anonymises_it(app, caseworker, supervisor) -> None:
    case = marked_case(caseworker, 1)
    inquiry, _ = linked_inquiry(caseworker, case, 1)
    request = _deletion(inquiry, include_case=True)
    assert retention.deletion_plan(request).case_too
    retention.carry_out_deletion(supervisor, request)
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.closure_reason) == (CaseStatus.CLOSED, "family_withdrew")
    assert case.anonymised_at is not None
    assert not [w for w in markers(1).values() if w in text_everywhere()]


def test_the_case_stays_when_another_family_asks_about_it(app, caseworker, supervisor) -> None:
    case = marked_case(caseworker, 1)
    inquiry, _ = linked_inquiry(caseworker, case, 1)
    linked_inquiry(caseworker, case, 2)
    request = _deletion(inquiry, include_case=True)
    plan = retention.deletion_plan(request)
    assert (plan.case_too, plan.other_inquiries) == (False, 1)
    retention.carry_out_deletion(supervisor, request)
    db.session.commit()
    assert db.session.get(Case, case.id).anonymised_at is None


def test_a_held_case_stops_the_deletion(app, caseworker, supervisor) -> None:
    case = marked_case(caseworker, 1)
    inquiry, _ = linked_inquiry(caseworker, case, 1)
    retention.set_legal_hold(supervisor, case, True, "Court order")
    request = _deletion(inquiry)
    assert retention.deletion_plan(request).held
    with pytest.raises(retention.RetentionError, match="legal hold"):
        retention.carry_out_deletion(supervisor, request)
    db.session.rollback()
    assert db.session.get(Inquiry, inquiry.id).inquirer_name == markers(1)["inquirer"]


def test_anonymising_clears_the_text_of_match_decisions(app, caseworker, supervisor) -> None:
    from cases.matching import decisions
    from cases.matching.models import MatchDecision

    kept = marked_case(caseworker, 3)
    gone = marked_case(caseworker, 4)
    pending = decisions.propose_same(caseworker, gone, kept, "Same mother, Haidar's cousin says")
    retention.anonymise_case(gone, reason="retention")
    db.session.commit()
    db.session.expire_all()
    decision = db.session.get(MatchDecision, pending.id)
    assert decision.reason is None and decision.comment is None
    assert decision.state == "withdrawn"
