"""Retention periods, anonymisation, erasure and legal hold (DOMAIN.md §6, docs/retention.md).

Personal data leaves in two ways: ``flask retention purge`` once the period for a record's final
state has passed (config ``RETENTION_DAYS``), and a family's deletion request approved by a
supervisor. Either way it is removed in place: the rows that carry the statistics (the case with
its status, governorate, district and month, its status history) stay, so the dashboard counts
do not move. A case on legal hold is skipped by both. Every destruction writes a
``DestructionRecord`` and an audit event, neither holding any of the data removed.

These functions do not commit, except ``purge`` (per batch) and ``set_legal_hold``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from ..audit import services as audit
from ..auth.models import User
from ..casework.models import (
    ApprovalRequest,
    ApprovalState,
    Assignment,
    Case,
    CaseNote,
    CaseStatus,
    ClosureReason,
    StatusChange,
)
from ..casework.timeline import Entry, register_source
from ..clock import utcnow
from ..config import Config
from ..extensions import db
from ..inquiries.models import Alert, DataRequest, Inquiry, InquiryState
from ..matching import decisions as match_decisions
from ..matching.keys import SKELETON_COLUMNS
from .models import DestructionRecord, LegalHoldChange

# What replaces a note's or a reason's text: the row stays so the history keeps its shape.
REMOVED = "[removed]"
BATCH_SIZE = 100

RETENTION = "retention"
DELETION_REQUEST = "deletion_request"

# The retention rule (a key of RETENTION_DAYS) for each reason a case was closed.
CLOSURE_RULES: dict[str, str] = {
    ClosureReason.DUPLICATE: "closed_duplicate",
    ClosureReason.FAMILY_WITHDREW: "closed_family_withdrew",
    ClosureReason.IN_CONTACT: "closed_in_contact",
    ClosureReason.NO_TRACE: "closed_no_trace",
    ClosureReason.DEATH_CONFIRMED: "closed_death_confirmed",
}
OTHER_CLOSED = "closed_other"
INQUIRY_REJECTED = "inquiry_rejected"
INQUIRY_CONSENT_WITHDRAWN = "inquiry_consent_withdrawn"


class RetentionError(Exception):
    """A retention rule refused the action; ``str(error)`` is the message for the user."""


@dataclass(frozen=True)
class PurgeItem:
    """A case or an inquiry whose retention period has passed."""

    object_type: str  # "case" or "inquiry"
    object_id: int
    reference: str
    status: str  # the case status or the inquiry state
    rule: str
    since: datetime  # when the retention clock started (closure, rejection, withdrawal)
    age_days: int
    held: bool = False


@dataclass
class PurgeSummary:
    cases: int = 0
    inquiries: int = 0
    held: int = 0
    records: list[DestructionRecord] = field(default_factory=list)
    staff_sessions: int = 0
    invitations: int = 0


@dataclass(frozen=True)
class DeletionPlan:
    """What approving a family's deletion request would do, shown before the supervisor acts."""

    held: bool  # the case is on legal hold: nothing can be deleted
    case_too: bool  # the case will be anonymised as well
    other_inquiries: int  # other families' inquiries keep the case alive
    already_erased: bool


def retention_days() -> dict[str, int]:
    """The periods, in days, per retention rule: the defaults with the configured overrides."""
    configured = {**Config.RETENTION_DAYS, **current_app.config.get("RETENTION_DAYS", {})}
    return {key: int(value) for key, value in configured.items()}


def inquiry_reference(reference: str) -> str:
    """The inquiry reference as families write it (1234-5678)."""
    return f"{reference[:4]}-{reference[4:]}"


# --- what is due ---------------------------------------------------------------------------


def _closed_at() -> Select:
    return (
        select(StatusChange.case_id, func.max(StatusChange.created_at).label("closed_at"))
        .where(StatusChange.to_status == CaseStatus.CLOSED)
        .group_by(StatusChange.case_id)
    )


def _case_candidates(now: datetime, days: dict[str, int]) -> list[PurgeItem]:
    closed = _closed_at().subquery()
    since = func.coalesce(closed.c.closed_at, Case.last_activity_at)
    items = []
    rules: list[tuple[str, object]] = [
        (rule, Case.closure_reason == reason) for reason, rule in CLOSURE_RULES.items()
    ]
    rules.append(
        (
            OTHER_CLOSED,
            or_(Case.closure_reason.is_(None), Case.closure_reason.not_in(list(CLOSURE_RULES))),
        )
    )
    for rule, condition in rules:
        cutoff = now - timedelta(days=days[rule])
        rows = db.session.execute(
            select(Case.id, Case.reference, Case.status, Case.legal_hold, since.label("since"))
            .outerjoin(closed, closed.c.case_id == Case.id)
            .where(
                Case.status == CaseStatus.CLOSED,
                Case.anonymised_at.is_(None),
                condition,
                since <= cutoff,
            )
            .order_by(since, Case.id)
        )
        for r in rows:
            age = (now - r.since).days
            items.append(
                PurgeItem("case", r.id, r.reference, r.status, rule, r.since, age, r.legal_hold)
            )
    return items


def _inquiry_candidates(now: datetime, days: dict[str, int]) -> list[PurgeItem]:
    rows = db.session.execute(
        select(
            Inquiry.id,
            Inquiry.reference,
            Inquiry.state,
            Inquiry.created_at,
            Inquiry.triaged_at,
            Inquiry.consent_withdrawn_at,
            Inquiry.case_id,
            Case.legal_hold,
        )
        .outerjoin(Case, Case.id == Inquiry.case_id)
        .where(
            Inquiry.state != InquiryState.ERASED,
            or_(Inquiry.state == InquiryState.REJECTED, Inquiry.consent_withdrawn_at.is_not(None)),
        )
        .order_by(Inquiry.id)
    )
    items = []
    for r in rows:
        clocks = []
        if r.state == InquiryState.REJECTED:
            clocks.append((INQUIRY_REJECTED, r.triaged_at or r.created_at))
        if r.consent_withdrawn_at is not None:
            clocks.append((INQUIRY_CONSENT_WITHDRAWN, r.consent_withdrawn_at))
        rule, since = min(clocks, key=lambda c: c[1] + timedelta(days=days[c[0]]))
        if since + timedelta(days=days[rule]) <= now:
            reference = inquiry_reference(r.reference)
            age = (now - since).days
            held = bool(r.legal_hold)
            items.append(PurgeItem("inquiry", r.id, reference, r.state, rule, since, age, held))
    return items


def _candidates(now: datetime) -> list[PurgeItem]:
    days = retention_days()
    cases = _case_candidates(now, days)
    # An inquiry linked to a case that goes anyway is erased with it: list it once.
    going = {c.object_id for c in cases if not c.held}
    linked = set(db.session.scalars(select(Inquiry.id).where(Inquiry.case_id.in_(going))))
    inquiries = [i for i in _inquiry_candidates(now, days) if i.object_id not in linked]
    return cases + inquiries


def due_for_purge(now: datetime | None = None) -> list[PurgeItem]:
    """Cases and inquiries past their retention period, excluding any under legal hold."""
    return [item for item in _candidates(now or utcnow()) if not item.held]


def held_past_retention(now: datetime | None = None) -> list[PurgeItem]:
    """Cases and inquiries past their retention period that a legal hold keeps."""
    return [item for item in _candidates(now or utcnow()) if item.held]


# --- removing the data ---------------------------------------------------------------------


def _month(value: datetime | date | None) -> datetime | date | None:
    """The first day of the value's month: enough for the monthly statistics, no more."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return value.replace(day=1)


def _clear(obj: object, names: Iterable[str], counts: Counter, category: str) -> None:
    for name in names:
        if getattr(obj, name):
            counts[category] += 1
        setattr(obj, name, None)


def _record(
    object_type: str,
    object_id: int,
    reference: str,
    counts: Counter,
    *,
    reason: str,
    rule: str | None,
    actor: User | None,
    data_request_id: int | None,
    now: datetime,
) -> DestructionRecord:
    kept = {k: v for k, v in sorted(counts.items()) if v}
    record = DestructionRecord(
        object_type=object_type,
        object_id=object_id,
        reference=reference,
        reason=reason,
        rule=rule,
        data_request_id=data_request_id,
        categories=",".join(kept),
        counts=json.dumps(kept, sort_keys=True),
        performed_by_id=actor.id if actor is not None else None,
        performed_at=now,
        dry_run=False,
    )
    db.session.add(record)
    audit.record("purge", object_type, object_id, actor, item_count=sum(kept.values()))
    return record


def _hold_error() -> RetentionError:
    return RetentionError(
        _l("The case is on legal hold: nothing can be deleted until a supervisor lifts it.")
    )


def erase_inquiry(
    inquiry: Inquiry,
    *,
    reason: str,
    actor: User | None = None,
    rule: str | None = None,
    data_request_id: int | None = None,
    now: datetime | None = None,
) -> DestructionRecord:
    """Remove what a family told us in this inquiry: who they are, how to reach them, the
    names and text they wrote, what they added later and their files.

    The family's contact on the linked case goes too; the case itself stays (see
    ``anonymise_case``). Kept: the reference and secret hash (so the family can still see that
    it was done), consent record, governorate, district, month and state "erased".
    """
    if inquiry.state == InquiryState.ERASED:
        raise RetentionError(_l("This information has already been deleted."))
    case = inquiry.case
    if case is not None and case.legal_hold:
        raise _hold_error()
    now = now or utcnow()
    counts: Counter = Counter()
    if case is not None and case.anonymised_at is None:
        theirs = [
            c
            for c in case.contacts
            if c.name == inquiry.inquirer_name and c.phone_e164 == inquiry.inquirer_phone
        ]
        counts["contacts"] += len(theirs)
        for contact in theirs:
            case.contacts.remove(contact)
    if inquiry.inquirer_name:
        counts["names"] += 1
    inquiry.inquirer_name = ""
    if inquiry.given_name:
        counts["names"] += 1
    inquiry.given_name = ""
    names = ("father_name", "grandfather_name", "great_grandfather_name", "laqab", "mother_name")
    _clear(inquiry, names, counts, "names")
    _clear(inquiry, ("inquirer_phone",), counts, "phones")
    _clear(inquiry, ("age", "birth_year"), counts, "birth_and_age")
    text = ("travel_company", "route", "details", "triage_comment")
    _clear(inquiry, text, counts, "free_text")
    counts["family_updates"] += len(inquiry.updates)
    inquiry.updates = []
    for data_request in db.session.scalars(select(DataRequest).filter_by(inquiry_id=inquiry.id)):
        _clear(data_request, ("what_is_wrong", "what_it_should_be"), counts, "free_text")
    counts["attachments"] += _purge_inquiry_files(inquiry.id)
    inquiry.created_at = _month(inquiry.created_at)
    inquiry.last_contact_date = _month(inquiry.last_contact_date)
    inquiry.state = InquiryState.ERASED
    inquiry.erased_at = now
    return _record(
        "inquiry",
        inquiry.id,
        inquiry_reference(inquiry.reference),
        counts,
        reason=reason,
        rule=rule,
        actor=actor,
        data_request_id=data_request_id,
        now=now,
    )


def _purge_inquiry_files(inquiry_id: int) -> int:
    from ..attachments.services import purge_for_inquiry

    return purge_for_inquiry(inquiry_id)


def _purge_case_files(case_id: int) -> int:
    from ..attachments.services import purge_for_case

    return purge_for_case(case_id)


CASE_NAMES = (
    "father_name",
    "grandfather_name",
    "great_grandfather_name",
    "laqab",
    "name_as_entered",
    "mother_name",
)
CASE_TEXT = (
    "locality",
    "route",
    "travel_company",
    "last_known_location",
    "circumstances",
    "distinguishing_marks",
)
CASE_BIRTH = ("birth_year", "birth_month", "birth_day", "age", "age_recorded_on", "birth_year_key")


def anonymise_case(
    case: Case,
    *,
    reason: str,
    actor: User | None = None,
    rule: str | None = None,
    data_request_id: int | None = None,
    now: datetime | None = None,
) -> list[DestructionRecord]:
    """Remove the personal data of a case and of every inquiry linked to it.

    Gone: name parts, Latin names and aliases, search tokens, phones, identity documents,
    family contacts, birth date and age, free text (route, circumstances, marks ...), the text
    of notes, status reasons, approval requests and assignments (replaced by "[removed]"),
    alerts and files. Kept: status, closure reason, status history with its durations, sex,
    governorate, district, destination country and dates at month precision, so every count
    on the dashboard and in the reports stays right. Returns the destruction records written:
    the case's first, then one per inquiry.
    """
    if case.legal_hold:
        raise _hold_error()
    if case.anonymised_at is not None:
        raise RetentionError(_l("This case has already been anonymised."))
    now = now or utcnow()
    counts: Counter = Counter()
    records = []
    for inquiry in db.session.scalars(
        select(Inquiry).where(Inquiry.case_id == case.id, Inquiry.state != InquiryState.ERASED)
    ):
        records.append(
            erase_inquiry(
                inquiry,
                reason=reason,
                actor=actor,
                rule=rule,
                data_request_id=data_request_id,
                now=now,
            )
        )
        counts["inquiries"] += 1

    if case.given_name:
        counts["names"] += 1
    case.given_name = ""
    _clear(case, CASE_NAMES, counts, "names")
    counts["names"] += len(case.names)
    case.names = []
    case.tokens = []
    case.name_key = ""
    for column in SKELETON_COLUMNS:  # matching keys derived from the names
        setattr(case, column, None)
    counts["phones"] += len(case.phones)
    case.phones = []
    counts["documents"] += len(case.documents)
    case.documents = []
    counts["contacts"] += len(case.contacts)
    case.contacts = []
    _clear(case, CASE_TEXT, counts, "free_text")
    _clear(case, CASE_BIRTH, counts, "birth_and_age")
    for name in ("departure_date", "last_contact_date", "created_at", "updated_at"):
        setattr(case, name, _month(getattr(case, name)))
    case.last_activity_at = _month(case.last_activity_at)

    for note in db.session.scalars(select(CaseNote).filter_by(case_id=case.id)):
        if note.body != REMOVED:
            counts["notes"] += 1
        note.body = REMOVED
        note.created_at = _month(note.created_at)
    for change in db.session.scalars(select(StatusChange).filter_by(case_id=case.id)):
        if change.reason and change.reason != REMOVED:
            counts["free_text"] += 1
            change.reason = REMOVED
        change.created_at = _month(change.created_at)
    for request in db.session.scalars(select(ApprovalRequest).filter_by(case_id=case.id)):
        counts["free_text"] += bool(request.reason) + bool(request.comment)
        request.reason = REMOVED
        request.comment = REMOVED if request.comment else None
        if request.state == ApprovalState.PENDING:
            request.state = ApprovalState.WITHDRAWN
            request.decided_at = now
            request.decided_by_id = actor.id if actor is not None else None
        request.requested_at = _month(request.requested_at)
        request.decided_at = _month(request.decided_at)
    counts["free_text"] += match_decisions.forget_text(case)
    for assignment in db.session.scalars(select(Assignment).filter_by(case_id=case.id)):
        _clear(assignment, ("reason",), counts, "free_text")
        assignment.created_at = _month(assignment.created_at)
    for hold in db.session.scalars(select(LegalHoldChange).filter_by(case_id=case.id)):
        hold.reason = REMOVED
    for data_request in db.session.scalars(
        select(DataRequest).join(Inquiry).where(Inquiry.case_id == case.id)
    ):
        if data_request.comment:
            counts["free_text"] += 1
            data_request.comment = REMOVED
    for alert in db.session.scalars(select(Alert).filter_by(case_id=case.id)):
        db.session.delete(alert)
    counts["attachments"] += _purge_case_files(case.id)
    case.anonymised_at = now
    db.session.flush()
    record = _record(
        "case",
        case.id,
        case.reference,
        counts,
        reason=reason,
        rule=rule,
        actor=actor,
        data_request_id=data_request_id,
        now=now,
    )
    return [record, *records]


# --- a family's deletion request -----------------------------------------------------------


def _other_inquiries(inquiry: Inquiry) -> int:
    if inquiry.case_id is None:
        return 0
    return (
        db.session.scalar(
            select(func.count(Inquiry.id)).where(
                Inquiry.case_id == inquiry.case_id,
                Inquiry.id != inquiry.id,
                Inquiry.state != InquiryState.ERASED,
            )
        )
        or 0
    )


def deletion_plan(data_request: DataRequest) -> DeletionPlan:
    """What approving this deletion request would remove, and whether a hold stops it."""
    inquiry = data_request.inquiry
    case = inquiry.case
    others = _other_inquiries(inquiry)
    return DeletionPlan(
        held=case is not None and case.legal_hold,
        case_too=bool(
            data_request.include_case
            and case is not None
            and case.anonymised_at is None
            and others == 0
        ),
        other_inquiries=others,
        already_erased=inquiry.state == InquiryState.ERASED,
    )


def carry_out_deletion(actor: User, data_request: DataRequest) -> list[DestructionRecord]:
    """Erase the inquiry behind an approved deletion request and, when the family asked for it
    and no other family's inquiry is linked, anonymise their relative's case (closing it
    first: the family withdrew). The caller checks the supervisor's password and commits."""
    plan = deletion_plan(data_request)
    if plan.held:
        raise _hold_error()
    inquiry = data_request.inquiry
    if plan.already_erased:
        return []
    if not plan.case_too:
        return [
            erase_inquiry(
                inquiry,
                reason=DELETION_REQUEST,
                actor=actor,
                data_request_id=data_request.id,
            )
        ]
    case = inquiry.case
    if case.status != CaseStatus.CLOSED:
        _close_for_deletion(actor, case)
    return anonymise_case(
        case, reason=DELETION_REQUEST, actor=actor, data_request_id=data_request.id
    )


def _close_for_deletion(actor: User, case: Case) -> None:
    # The supervisor's approval of the family's request is the second pair of eyes.
    from ..casework.services import _apply_status

    change = _apply_status(actor, case, CaseStatus.CLOSED, REMOVED, None)
    change.closure_reason = case.closure_reason = ClosureReason.FAMILY_WITHDREW
    audit.record("status_change", "case", case.id, actor)


# --- the purge run -------------------------------------------------------------------------


def purge(
    now: datetime | None = None, batch_size: int = BATCH_SIZE, actor: User | None = None
) -> PurgeSummary:
    """Anonymise every case and erase every inquiry past its retention period, committing
    after each batch. Held records are skipped and counted; a second run finds nothing."""
    now = now or utcnow()
    summary = PurgeSummary()
    items = due_for_purge(now)
    for start in range(0, len(items), max(batch_size, 1)):
        for item in items[start : start + max(batch_size, 1)]:
            summary.records += _purge_one(item, actor, now, summary)
        db.session.commit()
    summary.held = len(held_past_retention(now))
    summary.staff_sessions, summary.invitations = purge_staff_records(now)
    db.session.commit()
    return summary


def purge_staff_records(now: datetime, dry_run: bool = False) -> tuple[int, int]:
    """(login records, invitation links) older than STAFF_RECORD_DAYS, deleted unless a dry run.

    They hold staff members' addresses and browsers; the audit trail keeps who did what.
    """
    from ..auth import invitations, sessions

    before = now - timedelta(days=current_app.config["STAFF_RECORD_DAYS"])
    return (
        sessions.purge_old(before, dry_run=dry_run),
        invitations.purge_spent(before, dry_run=dry_run),
    )


def _purge_one(
    item: PurgeItem, actor: User | None, now: datetime, summary: PurgeSummary
) -> list[DestructionRecord]:
    # Read again: an earlier item (a case) may already have taken this one with it.
    if item.object_type == "case":
        case = db.session.get(Case, item.object_id)
        if case is None or case.legal_hold or case.anonymised_at is not None:
            return []
        summary.cases += 1
        records = anonymise_case(case, reason=RETENTION, actor=actor, rule=item.rule, now=now)
        summary.inquiries += len(records) - 1
        return records
    inquiry = db.session.get(Inquiry, item.object_id)
    if inquiry is None or inquiry.state == InquiryState.ERASED:
        return []
    if inquiry.case is not None and inquiry.case.legal_hold:
        return []
    summary.inquiries += 1
    return [erase_inquiry(inquiry, reason=RETENTION, actor=actor, rule=item.rule, now=now)]


# --- legal hold ----------------------------------------------------------------------------


def set_legal_hold(actor: User, case: Case, hold: bool, reason: str) -> LegalHoldChange:
    """A supervisor puts a case on legal hold (no purge, no deletion) or lifts the hold."""
    if not actor.is_supervisor:
        raise RetentionError(_l("Only a supervisor can set or lift a legal hold."))
    reason = (reason or "").strip()
    if not reason:
        raise RetentionError(_l("Say why."))
    if case.anonymised_at is not None:
        raise RetentionError(_l("This case has already been anonymised."))
    if hold == case.legal_hold:
        if hold:
            raise RetentionError(_l("This case is already on legal hold."))
        raise RetentionError(_l("This case is not on legal hold."))
    now = utcnow()
    case.legal_hold = hold
    case.legal_hold_reason = reason if hold else None
    case.legal_hold_by_id = actor.id if hold else None
    case.legal_hold_at = now if hold else None
    change = LegalHoldChange(case_id=case.id, held=hold, reason=reason, actor_id=actor.id)
    change.created_at = now
    db.session.add(change)
    audit.record("legal_hold", "case", case.id, actor)
    db.session.commit()
    return change


@register_source
def legal_hold_events(case: Case) -> list[Entry]:
    """Holds set and lifted, on the case timeline."""
    changes = db.session.scalars(
        select(LegalHoldChange).filter_by(case_id=case.id).order_by(LegalHoldChange.id)
    )
    return [Entry(c.created_at, "legal_hold", c) for c in changes]
