"""Case rules: creating and editing case files, notes, status changes, approvals, assignment.

Views call these; each function checks the actor's right to act, writes the change and its
history row in one transaction, and raises ``CaseRuleError`` with a message for the user when a
rule says no.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import services as audit
from ..auth.models import Role, User
from ..clock import utcnow
from ..extensions import db
from ..matching.keys import case_skeletons, stored_token_skeletons
from ..matching.normalize import index_tokens, normalize_arabic
from . import workflow
from .access import can_see_contacts, can_work_on, visible_cases
from .models import (
    ApprovalRequest,
    ApprovalState,
    Assignment,
    Case,
    CaseName,
    CaseNameToken,
    CaseNote,
    CasePhone,
    CaseShare,
    CaseStatus,
    ClosureReason,
    FamilyContact,
    IdentityDocument,
    NameKind,
    NoteKind,
    NoteVisibility,
    StatusChange,
)

# Readable over a phone line: no 0/O, 1/I/L, no vowels that could spell words.
REFERENCE_ALPHABET = "23456789BCDFGHJKMNPQRSTVWXZ"
# Bounds the work of one bulk reassignment and the length of its IN (...) list.
MAX_BULK_ASSIGN = 500


class CaseRuleError(Exception):
    """A case rule refused the action; ``str(error)`` is the message for the user."""


@dataclass
class DocumentDetails:
    doc_type: str
    number: str


@dataclass
class ContactDetails:
    name: str
    relationship: str | None = None
    phone_e164: str | None = None
    preferred_language: str | None = None


@dataclass
class CaseDetails:
    """Everything a caseworker can type about the missing person: the allow-list of fields."""

    given_name: str
    father_name: str | None = None
    grandfather_name: str | None = None
    great_grandfather_name: str | None = None
    laqab: str | None = None
    name_as_entered: str | None = None
    mother_name: str | None = None
    sex: str = "male"
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    age: int | None = None
    age_estimated: bool = False
    governorate_pcode: str | None = None
    district_pcode: str | None = None
    locality: str | None = None
    departure_date: date | None = None
    destination_country: str | None = None
    route: str | None = None
    travel_company: str | None = None
    last_contact_date: date | None = None
    last_contact_channel: str | None = None
    last_known_location: str | None = None
    circumstances: str | None = None
    distinguishing_marks: str | None = None
    latin_names: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    documents: list[DocumentDetails] = field(default_factory=list)
    contacts: list[ContactDetails] = field(default_factory=list)


SCALAR_FIELDS = tuple(
    name
    for name in CaseDetails.__dataclass_fields__
    if name not in {"latin_names", "aliases", "phones", "documents", "contacts"}
)


def new_reference() -> str:
    """A random, non-sequential reference such as ``K7M-4QX-92``, unique among cases."""
    while True:
        raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        ref = f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"
        if db.session.scalar(db.select(Case.id).filter_by(reference=ref)) is None:
            return ref


def details_of(case: Case) -> CaseDetails:
    """The editable details of a case, to prefill the edit form."""
    details = CaseDetails(**{name: getattr(case, name) for name in SCALAR_FIELDS})
    details.latin_names = case.latin_names
    details.aliases = case.aliases
    details.phones = [p.e164 for p in case.phones]
    details.documents = [DocumentDetails(d.doc_type, d.number) for d in case.documents]
    details.contacts = [
        ContactDetails(c.name, c.relationship_to_person, c.phone_e164, c.preferred_language)
        for c in case.contacts
    ]
    return details


def _apply(case: Case, details: CaseDetails) -> None:
    # A changed age is a new statement about him: date it today, or the birth year drifts.
    if details.age is not None and (case.age_recorded_on is None or details.age != case.age):
        case.age_recorded_on = date.today()
    for name in SCALAR_FIELDS:
        setattr(case, name, getattr(details, name))
    case.birth_year_key = birth_year_key(details, case.age_recorded_on)
    case.names = [CaseName(kind=NameKind.LATIN, name=n) for n in details.latin_names] + [
        CaseName(kind=NameKind.ALIAS, name=n) for n in details.aliases
    ]
    case.phones = [CasePhone(e164=p) for p in dict.fromkeys(details.phones)]
    case.documents = [
        IdentityDocument(doc_type=d.doc_type, number=d.number) for d in details.documents
    ]
    case.contacts = [family_contact(c) for c in details.contacts]
    refresh_search_keys(case, details)


def family_contact(contact: ContactDetails) -> FamilyContact:
    """A case's FamilyContact row from the details typed or carried over from an inquiry."""
    return FamilyContact(
        name=contact.name,
        relationship_to_person=contact.relationship,
        phone_e164=contact.phone_e164,
        preferred_language=contact.preferred_language,
    )


def birth_year_key(details: CaseDetails, recorded_on: date | None) -> int | None:
    """Birth year from the date of birth, else estimated from the age when it was recorded."""
    if details.birth_year:
        return details.birth_year
    if details.age is not None:
        return (recorded_on or date.today()).year - details.age
    return None


def refresh_search_keys(case: Case, details: CaseDetails) -> None:
    """Rebuild the normalised name key, the name parts' skeletons and the search tokens with
    their skeletons from the names just saved."""
    case.name_key = normalize_arabic(case.arabic_name)[:400]
    for column, value in case_skeletons(
        case.given_name, case.father_name, case.grandfather_name, case.laqab, case.mother_name
    ).items():
        setattr(case, column, value)
    tokens = index_tokens(
        case.arabic_name, details.name_as_entered, *details.latin_names, *details.aliases
    )
    skeletons = stored_token_skeletons(t[:80] for t in tokens)
    case.tokens = [CaseNameToken(token=t, skeleton=skeletons[t]) for t in sorted(skeletons)]


def create_case(actor: User, details: CaseDetails, owner: User | None = None) -> Case:
    """Open a new case file owned by ``owner`` (default: the actor) in status "new"."""
    case = open_case(actor, details, owner)
    db.session.commit()
    return case


def open_case(actor: User, details: CaseDetails, owner: User | None = None) -> Case:
    """create_case without the commit, for callers that write more in the same transaction."""
    if not actor.works_cases:
        raise CaseRuleError(_l("Your role cannot create cases."))
    if owner is not None and owner.id != actor.id and actor.role != Role.SUPERVISOR:
        raise CaseRuleError(_l("Only a supervisor can create a case for someone else."))
    owner = owner or actor
    case = Case(
        reference=new_reference(),
        status=CaseStatus.NEW,
        owner=owner,
        created_by=actor,
    )
    _apply(case, details)
    db.session.add(case)
    db.session.flush()
    db.session.add(
        StatusChange(
            case_id=case.id,
            actor_id=actor.id,
            from_status=None,
            to_status=CaseStatus.NEW,
            reason="",  # the timeline says "case opened"; stored text stays language-neutral
        )
    )
    db.session.add(Assignment(case_id=case.id, actor_id=actor.id, to_user_id=owner.id, reason=None))
    audit.record("case_create", "case", case.id, actor)
    return case


def update_case(actor: User, case: Case, details: CaseDetails) -> Case:
    """Save edited details of the missing person.

    Someone who may not see the family's contact details cannot change them either: the
    existing contacts are kept whatever the form sent.
    """
    _require_can_work(actor, case)
    if not can_see_contacts(actor, case):
        details.contacts = details_of(case).contacts
    _apply(case, details)
    case.updated_at = utcnow()
    audit.record("case_edit", "case", case.id, actor)
    db.session.commit()
    return case


def add_note(
    actor: User,
    case: Case,
    body: str,
    kind: str = NoteKind.OTHER,
    visibility: str = NoteVisibility.INTERNAL,
    corrects_id: int | None = None,
) -> CaseNote:
    """Append a note. A correction points at the note it corrects; nothing is edited."""
    _require_can_work(actor, case)
    body = body.strip()
    if not body:
        raise CaseRuleError(_l("A note cannot be empty."))
    if corrects_id is not None:
        target = db.session.get(CaseNote, corrects_id)
        if target is None or target.case_id != case.id:
            raise CaseRuleError(_l("The note to correct is not on this case."))
    note = CaseNote(
        case_id=case.id,
        author_id=actor.id,
        body=body,
        kind=NoteKind(kind),
        visibility=NoteVisibility(visibility),
        corrects_id=corrects_id,
    )
    db.session.add(note)
    case.last_activity_at = utcnow()
    audit.record("note_add", "case", case.id, actor)
    db.session.commit()
    return note


def pending_approval(case: Case) -> ApprovalRequest | None:
    return db.session.scalar(
        db.select(ApprovalRequest).filter_by(case_id=case.id, state=ApprovalState.PENDING)
    )


def change_status(
    actor: User,
    case: Case,
    to_status: str,
    reason: str,
    closure_reason: str | None = None,
) -> StatusChange | ApprovalRequest:
    """Move a case to ``to_status``, the one way any status changes.

    Checks the transition table, the actor's right to act and the closure reason. Changes that
    need a second person ("located deceased", closing) become a pending ApprovalRequest; the
    others are applied at once. Either way the history row is written in the same transaction.
    """
    _require_can_work(actor, case)
    if case.duplicate_of_id is not None:
        # Only undoing the merge (cases.matching.decisions) brings a duplicate back.
        raise CaseRuleError(
            _l("This case was merged into another one as a duplicate; a supervisor can undo it.")
        )
    target = _check_transition(case, to_status, reason, closure_reason)
    if pending_approval(case) is not None:
        raise CaseRuleError(
            _l("A request on this case is waiting for a supervisor; decide or withdraw it first.")
        )
    if target in workflow.NEEDS_APPROVAL:
        request = ApprovalRequest(
            case_id=case.id,
            to_status=target,
            closure_reason=closure_reason if target == CaseStatus.CLOSED else None,
            reason=reason.strip(),
            requested_by_id=actor.id,
        )
        db.session.add(request)
        case.last_activity_at = utcnow()
        audit.record("status_request", "case", case.id, actor)
        db.session.commit()
        return request
    change = _apply_status(actor, case, target, reason.strip(), None)
    audit.record("status_change", "case", case.id, actor)
    db.session.commit()
    return change


def _check_transition(
    case: Case, to_status: str, reason: str, closure_reason: str | None
) -> CaseStatus:
    try:
        target = CaseStatus(to_status)
    except ValueError as error:
        raise CaseRuleError(_l("Unknown status.")) from error
    if target not in workflow.allowed_targets(case.status):
        raise CaseRuleError(_l("This case cannot move to that status from where it stands."))
    if not reason or not reason.strip():
        raise CaseRuleError(_l("Say why the status changes."))
    if target == CaseStatus.CLOSED:
        try:
            why = ClosureReason(closure_reason or "")
        except ValueError as error:
            raise CaseRuleError(_l("Choose a reason for closing the case.")) from error
        if CaseStatus(case.status) not in workflow.CLOSURE_REASONS_FROM[why]:
            raise CaseRuleError(_l("That closure reason does not fit the case's current status."))
    return target


def record_status_change(
    actor: User, case: Case, target: CaseStatus, reason: str, closure_reason: str | None = None
) -> StatusChange:
    """Write a status change that another rule has already allowed: a supervisor approving a
    merge closes the duplicate, undoing it puts the case back (cases.matching.decisions).

    The caller checked the actor's right, records the audit event and commits.
    """
    return _apply_status(actor, case, target, reason, None, closure_reason)


def _apply_status(
    actor: User,
    case: Case,
    target: CaseStatus,
    reason: str,
    approval: ApprovalRequest | None,
    closure_reason: str | None = None,
) -> StatusChange:
    now = utcnow()
    since = db.session.scalar(
        select(StatusChange.created_at)
        .where(StatusChange.case_id == case.id)
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(1)
    )
    change = StatusChange(
        case_id=case.id,
        actor_id=actor.id,
        created_at=now,
        from_status=case.status,
        seconds_in_previous=int((now - since).total_seconds()) if since else None,
        to_status=target,
        closure_reason=approval.closure_reason if approval else closure_reason,
        reason=reason,
        approval_id=approval.id if approval else None,
    )
    case.status = target
    case.closure_reason = change.closure_reason if target == CaseStatus.CLOSED else None
    case.last_activity_at = now
    case.updated_at = now
    db.session.add(change)
    return change


def decide_approval(
    actor: User, request: ApprovalRequest, approve: bool, comment: str
) -> ApprovalRequest:
    """A supervisor other than the requester approves (and so applies) or rejects a request."""
    if actor.role != Role.SUPERVISOR:
        raise CaseRuleError(_l("Only a supervisor can decide on this request."))
    if request.state != ApprovalState.PENDING:
        raise CaseRuleError(_l("This request has already been decided."))
    if request.requested_by_id == actor.id:
        raise CaseRuleError(_l("Another supervisor must decide on a request you made."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise CaseRuleError(_l("Say why you reject the request."))
    case = request.case
    if approve:
        # The case may have moved on since the request; the table must still allow it.
        _check_transition(case, request.to_status, request.reason, request.closure_reason)
        _apply_status(actor, case, CaseStatus(request.to_status), request.reason, request)
    request.state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.comment = comment or None
    case.last_activity_at = request.decided_at
    audit.record("approval_decide", "case", case.id, actor)
    db.session.commit()
    return request


def withdraw_approval(actor: User, request: ApprovalRequest) -> ApprovalRequest:
    """The requester (or a supervisor) takes back a pending request."""
    if request.state != ApprovalState.PENDING:
        raise CaseRuleError(_l("This request has already been decided."))
    if request.requested_by_id != actor.id and actor.role != Role.SUPERVISOR:
        raise CaseRuleError(_l("Only the person who asked can withdraw this request."))
    request.state = ApprovalState.WITHDRAWN
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    audit.record("approval_withdraw", "case", request.case_id, actor)
    db.session.commit()
    return request


def assign_case(actor: User, case: Case, to_user: User, reason: str | None) -> Assignment:
    """A supervisor gives a case to another caseworker; recorded on the timeline."""
    _check_can_assign(actor, to_user)
    if to_user.id == case.owner_id:
        raise CaseRuleError(_l("The case already belongs to that person."))
    assignment = _hand_over(actor, case, to_user, reason)
    db.session.commit()
    return assignment


def reassign_cases(actor: User, case_ids: list[int], to_user: User, reason: str | None) -> int:
    """A supervisor gives many cases to one person at once; returns how many moved.

    The same rules as ``assign_case``, plus a required reason, since a bulk move is harder to
    explain afterwards. Ids of cases that do not exist are ignored and cases the person already
    owns are skipped. Every move gets its own Assignment row, all in one transaction.
    """
    _check_can_assign(actor, to_user)
    reason = (reason or "").strip()
    if not reason:
        raise CaseRuleError(_l("Say why these cases are given to someone else."))
    ids = set(case_ids)
    if not ids:
        raise CaseRuleError(_l("Tick the cases to give to someone else."))
    if len(ids) > MAX_BULK_ASSIGN:
        raise CaseRuleError(_l("At most %(num)s cases can be given at once.", num=MAX_BULK_ASSIGN))
    cases = db.session.scalars(
        visible_cases(actor, db.select(Case).where(Case.id.in_(ids))).order_by(Case.id)
    ).all()
    moved = [_hand_over(actor, c, to_user, reason) for c in cases if c.owner_id != to_user.id]
    db.session.commit()
    return len(moved)


def _check_can_assign(actor: User, to_user: User) -> None:
    if actor.role != Role.SUPERVISOR:
        raise CaseRuleError(_l("Only a supervisor can reassign a case."))
    if not to_user.active or not to_user.works_cases:
        raise CaseRuleError(_l("A case can only go to an active caseworker or supervisor."))


def _hand_over(actor: User, case: Case, to_user: User, reason: str | None) -> Assignment:
    """Give ``case`` to ``to_user`` and record it; the caller checked the rules and commits."""
    assignment = Assignment(
        case_id=case.id,
        actor_id=actor.id,
        from_user_id=case.owner_id,
        to_user_id=to_user.id,
        reason=(reason or "").strip() or None,
    )
    case.owner_id = to_user.id
    case.last_activity_at = utcnow()
    db.session.add(assignment)
    audit.record("assign", "case", case.id, actor)
    return assignment


def share_case(actor: User, case: Case, with_user: User) -> CaseShare:
    """The owner or a supervisor lets another caseworker work on this case."""
    if actor.id != case.owner_id and actor.role != Role.SUPERVISOR:
        raise CaseRuleError(_l("Only the case owner or a supervisor can share a case."))
    if not with_user.active or not with_user.works_cases:
        raise CaseRuleError(_l("A case can only be shared with an active caseworker."))
    existing = db.session.get(CaseShare, (case.id, with_user.id))
    if existing is not None or with_user.id == case.owner_id:
        raise CaseRuleError(_l("That person can already work on this case."))
    share = CaseShare(case_id=case.id, user_id=with_user.id, granted_by_id=actor.id)
    db.session.add(share)
    audit.record("share", "case", case.id, actor)
    db.session.commit()
    return share


def _require_can_work(actor: User, case: Case) -> None:
    # Views fetch cases through access.get_case(), which already scopes by user; this is the
    # second lock for callers that are not views (CLI, future API).
    if not can_work_on(actor, case):
        raise CaseRuleError(_l("You cannot change this case."))
    if case.anonymised_at is not None:
        # Retention removed the personal data; writing any back would undo the purge.
        raise CaseRuleError(
            _l("This case was anonymised under the retention rules and cannot be changed.")
        )
