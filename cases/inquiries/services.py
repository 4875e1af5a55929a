"""Inquiry rules: submitting, checking with reference and secret, family updates, triage."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..audit import services as audit
from ..auth.models import User
from ..auth.services import check_password, hash_password, verify_secret
from ..casework.access import can_work_on
from ..casework.models import (
    Case,
    CaseNote,
    CaseStatus,
    NoteVisibility,
)
from ..casework.services import (
    CaseDetails,
    CaseRuleError,
    ContactDetails,
    family_contact,
    open_case,
)
from ..casework.timeline import Entry, register_source
from ..clock import utcnow
from ..extensions import cache_get_many, cache_set_many, db
from ..matching.candidates import Match, find_matches, has_strong_match, key_queries
from ..matching.records import PersonRecord
from ..phones import PHONE_INDEX
from ..retention import services as retention
from .models import (
    Alert,
    DataRequest,
    FamilyStatus,
    Inquiry,
    InquiryState,
    InquiryUpdate,
    RejectReason,
    RequestKind,
    RequestState,
)

# Bumped whenever the text families see before submitting changes; stored with each consent.
NOTICE_VERSION = "2026-11-v1"
REFERENCE_DIGITS = 8
SECRET_DIGITS = 12


class InquiryError(Exception):
    """An inquiry rule refused the action; ``str(error)`` is the message for the user."""


@dataclass
class InquiryDetails:
    """What a family can tell us: the allow-list of fields written from the public form."""

    inquirer_name: str
    inquirer_relationship: str
    given_name: str
    consent_search: bool
    consent_share: bool = False
    inquirer_phone: str | None = None
    inquirer_language: str = "ar"
    inquirer_channel: str | None = None
    father_name: str | None = None
    grandfather_name: str | None = None
    great_grandfather_name: str | None = None
    laqab: str | None = None
    mother_name: str | None = None
    age: int | None = None
    birth_year: int | None = None
    governorate_pcode: str | None = None
    district_pcode: str | None = None
    last_contact_date: date | None = None
    last_contact_channel: str | None = None
    destination_country: str | None = None
    travel_company: str | None = None
    route: str | None = None
    details: str | None = None


def digits_only(text: str | None) -> str:
    """The digits of a code as typed: Arabic-Indic digits count, spaces and dashes do not."""
    out = []
    for char in text or "":
        if char.isdigit():
            out.append(str(unicodedata.digit(char)))
    return "".join(out)


def _grouped(digits: str, size: int) -> str:
    return "-".join(digits[i : i + size] for i in range(0, len(digits), size))


def format_reference(digits: str) -> str:
    return _grouped(digits, 4)


def format_secret(digits: str) -> str:
    return _grouped(digits, 3)


def _random_digits(n: int) -> str:
    # The first digit is never 0 so the code survives spreadsheets and being read aloud.
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


def submit_inquiry(
    details: InquiryDetails, locale: str, channel: str = "web"
) -> tuple[Inquiry, str]:
    """Record a family's inquiry; returns it and the secret to show once (only its hash is kept)."""
    if not details.consent_search:
        raise InquiryError(_l("We can only search with your consent."))
    while True:
        reference = _random_digits(REFERENCE_DIGITS)
        if db.session.scalar(select(Inquiry.id).filter_by(reference=reference)) is None:
            break
    secret = _random_digits(SECRET_DIGITS)
    now = utcnow()
    inquiry = Inquiry(
        reference=reference,
        secret_hash=hash_password(secret),
        created_at=now,
        channel=channel,
        locale=locale,
        notice_version=NOTICE_VERSION,
        consent_at=now,
        **{k: getattr(details, k) for k in InquiryDetails.__dataclass_fields__},
    )
    db.session.add(inquiry)
    db.session.commit()
    return inquiry, secret


def find_inquiry(reference: str, secret: str) -> Inquiry | None:
    """The inquiry with this reference if the secret matches; None otherwise.

    An unknown reference costs the same hash work as a wrong secret, so neither the answer
    nor its timing tells a stranger which references exist.
    """
    ref = digits_only(reference)[:REFERENCE_DIGITS]
    code = digits_only(secret)[:SECRET_DIGITS]
    inquiry = db.session.scalar(select(Inquiry).filter_by(reference=ref)) if ref else None
    ok = verify_secret(inquiry.secret_hash if inquiry else None, code)
    return inquiry if ok and inquiry is not None else None


def inquiry_by_reference(reference: str) -> Inquiry | None:
    """For staff: the inquiry whose reference a family read out, however it was typed."""
    ref = digits_only(reference)
    if len(ref) != REFERENCE_DIGITS:
        return None
    return db.session.scalar(select(Inquiry).filter_by(reference=ref))


def family_status(inquiry: Inquiry) -> FamilyStatus:
    """What the family is told. Located statuses stay "search under way": news of a death or a
    detention is given by a person, never by a web page."""
    if inquiry.state in (InquiryState.REJECTED, InquiryState.ERASED):
        return FamilyStatus.CLOSED
    if inquiry.state == InquiryState.NEW or inquiry.case is None:
        return FamilyStatus.RECEIVED
    if inquiry.case.status == CaseStatus.NEW:
        return FamilyStatus.UNDER_REVIEW
    if inquiry.case.status == CaseStatus.CLOSED:
        return FamilyStatus.CLOSED
    return FamilyStatus.SEARCHING


def shareable_notes(inquiry: Inquiry) -> list[CaseNote]:
    """The notes a caseworker marked shareable on this inquiry's case, oldest first."""
    if inquiry.case_id is None or inquiry.state == InquiryState.ERASED:
        return []
    return list(
        db.session.scalars(
            select(CaseNote)
            .filter_by(case_id=inquiry.case_id, visibility=NoteVisibility.SHAREABLE)
            .order_by(CaseNote.created_at, CaseNote.id)
        )
    )


def add_family_information(inquiry: Inquiry, body: str) -> InquiryUpdate:
    """Append what the family adds; the case owner is alerted when there is a case."""
    body = (body or "").strip()
    if not body:
        raise InquiryError(_l("Write what you want to add."))
    update = InquiryUpdate(inquiry_id=inquiry.id, body=body)
    db.session.add(update)
    if inquiry.case is not None:
        inquiry.case.last_activity_at = utcnow()
        if inquiry.case.owner_id is not None:
            db.session.add(
                Alert(user_id=inquiry.case.owner_id, case_id=inquiry.case_id, kind="family_info")
            )
    db.session.commit()
    return update


CORRECTION_MAX = 2000


def request_about_data(
    inquiry: Inquiry,
    kind: RequestKind,
    *,
    include_case: bool = False,
    what_is_wrong: str | None = None,
    what_it_should_be: str | None = None,
) -> DataRequest:
    """A family's request about their data, for a supervisor to decide.

    Withdrawal of consent takes effect at once. A deletion may also ask to delete the file
    about their relative (``include_case``). A correction says what is wrong and what it
    should be. Asking again while a request of the same kind waits returns that request (a
    deletion then keeps the wider wish); corrections each stand alone.
    """
    if inquiry.state == InquiryState.ERASED:
        raise InquiryError(_l("Your information has already been deleted."))
    kind = RequestKind(kind)
    wrong = (what_is_wrong or "").strip()[:CORRECTION_MAX]
    right = (what_it_should_be or "").strip()[:CORRECTION_MAX]
    if kind == RequestKind.CORRECTION:
        if not wrong or not right:
            raise InquiryError(_l("Say what is wrong and what it should be."))
    else:
        pending = db.session.scalar(
            select(DataRequest).filter_by(
                inquiry_id=inquiry.id, kind=kind, state=RequestState.PENDING
            )
        )
        if pending is not None:
            if kind == RequestKind.DELETION and include_case and not pending.include_case:
                pending.include_case = True
                db.session.commit()
            return pending
    if kind == RequestKind.WITHDRAW_CONSENT and inquiry.consent_withdrawn_at is None:
        inquiry.consent_withdrawn_at = utcnow()
    data_request = DataRequest(
        inquiry_id=inquiry.id,
        kind=kind,
        include_case=kind == RequestKind.DELETION and include_case,
        what_is_wrong=wrong or None,
        what_it_should_be=right or None,
    )
    db.session.add(data_request)
    if inquiry.case is not None and inquiry.case.owner_id is not None:
        db.session.add(Alert(user_id=inquiry.case.owner_id, case_id=inquiry.case_id, kind=kind))
    db.session.commit()
    return data_request


def family_requests(inquiry: Inquiry) -> list[DataRequest]:
    """The family's own requests about their data, oldest first, for their status page."""
    return list(
        db.session.scalars(
            select(DataRequest)
            .filter_by(inquiry_id=inquiry.id)
            .order_by(DataRequest.created_at, DataRequest.id)
        )
    )


def access_granted(inquiry: Inquiry, now: datetime | None = None) -> bool:
    """Has a supervisor accepted this family's request to see what we hold about them, within
    ACCESS_GRANT_DAYS? A grant that never ended would show the family's data to whoever holds
    their reference and code years later; they can simply ask again."""
    if inquiry.state == InquiryState.ERASED:
        return False
    since = (now or utcnow()) - timedelta(days=current_app.config["ACCESS_GRANT_DAYS"])
    accepted = select(DataRequest.id).filter_by(
        inquiry_id=inquiry.id, kind=RequestKind.ACCESS, state=RequestState.ACCEPTED
    )
    return db.session.scalar(accepted.where(DataRequest.decided_at >= since).limit(1)) is not None


@dataclass
class HeldData:
    """Everything the family gave us in this inquiry and everything we show them about it:
    never internal notes, the case file's own details or anyone else's data."""

    inquiry: Inquiry
    status: FamilyStatus
    updates: list[InquiryUpdate]
    notes: list[CaseNote]
    requests: list[DataRequest]
    files: list = field(default_factory=list)


def held_about(inquiry: Inquiry) -> HeldData:
    """The "what we hold about you" page of an approved access request."""
    from ..attachments.models import Attachment

    files = db.session.scalars(
        select(Attachment)
        .where(Attachment.inquiry_id == inquiry.id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.id)
    ).all()
    return HeldData(
        inquiry=inquiry,
        status=family_status(inquiry),
        updates=list(inquiry.updates),
        notes=shareable_notes(inquiry),
        requests=family_requests(inquiry),
        files=list(files),
    )


def pending_data_requests() -> list[DataRequest]:
    """Families' requests about their data that wait for a supervisor, oldest first."""
    return list(
        db.session.scalars(
            select(DataRequest)
            .filter_by(state=RequestState.PENDING)
            .order_by(DataRequest.created_at, DataRequest.id)
        )
    )


def decide_data_request(
    actor: User,
    data_request: DataRequest,
    accept: bool,
    comment: str | None,
    password: str | None = None,
) -> DataRequest:
    """A supervisor records the decision on a family's request, with a comment.

    Accepting a deletion erases the data at once (cases.retention), so it needs the
    supervisor's password again and is refused while the case is on legal hold. Accepting a
    correction alerts the case owner, who then edits the case file.
    """
    if not actor.is_supervisor:
        raise InquiryError(_l("Only a supervisor can decide on this request."))
    if data_request.state != RequestState.PENDING:
        raise InquiryError(_l("This request has already been decided."))
    comment = (comment or "").strip()
    if not accept and not comment:
        raise InquiryError(_l("Say why you decline the request."))
    inquiry = data_request.inquiry
    if accept and data_request.kind == RequestKind.DELETION:
        _carry_out_deletion(actor, data_request, password)
    now = utcnow()
    data_request.state = RequestState.ACCEPTED if accept else RequestState.DECLINED
    data_request.decided_by_id = actor.id
    data_request.decided_at = now
    data_request.comment = comment or None
    case = inquiry.case
    if case is not None and case.anonymised_at is None:
        case.last_activity_at = now
        if accept and data_request.kind == RequestKind.CORRECTION and case.owner_id is not None:
            db.session.add(
                Alert(user_id=case.owner_id, case_id=case.id, kind="correction_accepted")
            )
    audit.record("data_request_decide", "inquiry", inquiry.id, actor)
    db.session.commit()
    return data_request


def _carry_out_deletion(actor: User, data_request: DataRequest, password: str | None) -> None:
    plan = retention.deletion_plan(data_request)
    if plan.held:
        raise InquiryError(
            _l("The case is on legal hold: nothing can be deleted until a supervisor lifts it.")
        )
    if not check_password(actor, password or ""):
        raise InquiryError(_l("This is not your password. Nothing was deleted."))
    try:
        retention.carry_out_deletion(actor, data_request)
    except retention.RetentionError as error:
        db.session.rollback()
        raise InquiryError(str(error)) from error


# --- intake -------------------------------------------------------------------------------


def possible_matches(actor: User, inquiry: Inquiry, limit: int = 10) -> list[Match]:
    """Existing cases that may be the same person as the family describes, best first, each
    with its score, band and reasons (cases.matching). Suggestions only: a person decides
    (brothers who left together share a family phone and often their grandfather's name)."""
    linked = {inquiry.case_id} if inquiry.case_id else set()
    record = PersonRecord.from_inquiry(inquiry)
    return find_matches(actor, record, linked, limit, inquiry_id=inquiry.id)


# The queue marks inquiries a case strongly matches. Each check is a candidate search (tens of
# milliseconds at a million cases), so only the oldest (first shown) are checked, and each
# answer is kept INTAKE_MARK_SECONDS: a page view pays only for inquiries new since then.
QUEUE_CHECKED = 50


def strongly_matched(inquiries: list[Inquiry]) -> set[int]:
    """Ids of the inquiries (the first QUEUE_CHECKED) that an existing case strongly matches."""
    keep = int(current_app.config.get("INTAKE_MARK_SECONDS", 0))
    checked = inquiries[:QUEUE_CHECKED]
    keys = [f"intake-strong-match:{inquiry.id}" for inquiry in checked]
    known = cache_get_many(*keys) if keep and keys else [None] * len(checked)
    fresh = {}
    marked = set()
    for inquiry, key, mark in zip(checked, keys, known, strict=True):
        if mark is None:
            record = PersonRecord.from_inquiry(inquiry)
            mark = fresh[key] = has_strong_match(record, inquiry_id=inquiry.id)
        if mark:
            marked.add(inquiry.id)
    if keep and fresh:
        cache_set_many(fresh, timeout=keep)
    return marked


FAMILY_PHONE_CASES = 10


def cases_with_family_phone(inquiry: Inquiry, exclude: Collection[int] = ()) -> list[Case]:
    """Other cases holding the family's phone number, as the missing man's or a relative's.

    Often a brother who left with him: not the same person, so not a match, but the
    caseworker should know the family is already known. Found by keyed hash (the numbers
    are encrypted), computed afresh so a stale index finds nothing rather than the wrong case.
    """
    key = PHONE_INDEX.of(inquiry.inquirer_phone)
    if key is None:
        return []
    lookups = key_queries(PersonRecord(phone_hashes=frozenset({key})))
    ids = {case_id for query in lookups for case_id in db.session.scalars(query)} - set(exclude)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.id.in_(ids), Case.anonymised_at.is_(None))
            .order_by(Case.id)
            .limit(FAMILY_PHONE_CASES)
        )
    )


def intake_queue() -> list[Inquiry]:
    """New inquiries, oldest first."""
    return list(
        db.session.scalars(
            select(Inquiry)
            .filter_by(state=InquiryState.NEW)
            .order_by(Inquiry.created_at, Inquiry.id)
        )
    )


def _require_new(inquiry: Inquiry) -> None:
    if inquiry.state != InquiryState.NEW:
        raise InquiryError(_l("This inquiry has already been dealt with."))


def _mark_linked(actor: User, inquiry: Inquiry, case: Case) -> None:
    inquiry.state = InquiryState.LINKED
    inquiry.case_id = case.id
    inquiry.triaged_by_id = actor.id
    inquiry.triaged_at = utcnow()
    case.last_activity_at = inquiry.triaged_at


def create_case_from_inquiry(actor: User, inquiry: Inquiry) -> Case:
    """A new case carrying over what the family told us; the inquirer becomes its contact."""
    _require_new(inquiry)
    details = CaseDetails(
        given_name=inquiry.given_name,
        father_name=inquiry.father_name,
        grandfather_name=inquiry.grandfather_name,
        great_grandfather_name=inquiry.great_grandfather_name,
        laqab=inquiry.laqab,
        name_as_entered=inquiry.arabic_name,
        mother_name=inquiry.mother_name,
        age=inquiry.age,
        age_estimated=inquiry.age is not None,
        birth_year=inquiry.birth_year,
        governorate_pcode=inquiry.governorate_pcode,
        district_pcode=inquiry.district_pcode,
        last_contact_date=inquiry.last_contact_date,
        last_contact_channel=inquiry.last_contact_channel,
        destination_country=inquiry.destination_country,
        travel_company=inquiry.travel_company,
        route=inquiry.route,
        circumstances=inquiry.details,
        contacts=[_contact_of(inquiry)],
    )
    try:
        case = open_case(actor, details)
    except CaseRuleError as error:
        raise InquiryError(str(error)) from error
    _mark_linked(actor, inquiry, case)
    db.session.commit()
    return case


def _contact_of(inquiry: Inquiry) -> ContactDetails:
    # The family picked a relationship from a list; the case file holds it as words, in the
    # caseworker's language, as if they had typed it ("sister" would read as a code).
    from .forms import RELATIONSHIPS

    code = inquiry.inquirer_relationship
    return ContactDetails(
        name=inquiry.inquirer_name,
        relationship=str(RELATIONSHIPS[code]) if code in RELATIONSHIPS else code,
        phone_e164=inquiry.inquirer_phone,
        preferred_language=inquiry.inquirer_language,
    )


def attach_to_case(actor: User, inquiry: Inquiry, case: Case) -> Case:
    """One case, many inquiries: link this inquiry to an existing case the actor works on."""
    _require_new(inquiry)
    if not can_work_on(actor, case):
        raise InquiryError(_l("You cannot work on that case; ask its caseworker or a supervisor."))
    if case.anonymised_at is not None:
        # The family's name and phone would be written back into a purged case.
        raise InquiryError(
            _l("This case was anonymised under the retention rules and cannot be changed.")
        )
    known = {(c.name, c.phone_e164) for c in case.contacts}
    contact = _contact_of(inquiry)
    if (contact.name, contact.phone_e164) not in known:
        case.contacts.append(family_contact(contact))
    _mark_linked(actor, inquiry, case)
    db.session.commit()
    return case


def reject_inquiry(actor: User, inquiry: Inquiry, reason: str, comment: str | None) -> Inquiry:
    """Spam or invalid: out of the queue, kept with the reason."""
    _require_new(inquiry)
    try:
        inquiry.reject_reason = RejectReason(reason)
    except ValueError as error:
        raise InquiryError(_l("Choose why the inquiry is rejected.")) from error
    inquiry.state = InquiryState.REJECTED
    inquiry.triaged_by_id = actor.id
    inquiry.triaged_at = utcnow()
    inquiry.triage_comment = (comment or "").strip() or None
    db.session.commit()
    return inquiry


def find_case_by_reference(actor: User, reference: str) -> Case | None:
    """A case by its reference if the actor may work on it (for "attach to case ...")."""
    ref = (reference or "").strip().upper()
    case = db.session.scalar(select(Case).filter_by(reference=ref)) if ref else None
    return case if case is not None and can_work_on(actor, case) else None


def unread_alerts(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Alert.id)).where(Alert.user_id == user.id, Alert.read_at.is_(None))
        )
        or 0
    )


def mark_alerts_read(user: User, case: Case) -> None:
    """Opening the case counts as having seen its alerts."""
    alerts = db.session.scalars(
        select(Alert).where(
            Alert.user_id == user.id, Alert.case_id == case.id, Alert.read_at.is_(None)
        )
    ).all()
    for alert in alerts:
        alert.read_at = utcnow()
    if alerts:
        db.session.commit()


@register_source
def inquiry_events(case: Case) -> list[Entry]:
    """Inquiries linked to the case, and what families added, on the case timeline."""
    inquiries = db.session.scalars(select(Inquiry).filter_by(case_id=case.id)).all()
    entries = [Entry(i.triaged_at or i.created_at, "inquiry_linked", i) for i in inquiries]
    updates = db.session.scalars(
        select(InquiryUpdate)
        .join(Inquiry)
        .where(Inquiry.case_id == case.id)
        .order_by(InquiryUpdate.id)
    )
    entries += [Entry(u.created_at, "family_update", u) for u in updates]
    requests = db.session.scalars(
        select(DataRequest).join(Inquiry).where(Inquiry.case_id == case.id)
    ).all()
    entries += [Entry(r.created_at, "data_request", r) for r in requests]
    entries += [Entry(r.decided_at, "data_request_decided", r) for r in requests if r.decided_at]
    return entries
