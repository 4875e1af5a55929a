"""Decisions about suggested matches: "not the same person", and "same person" merges.

"Not the same person" (two cases, or an inquiry and a case) is recorded at once by anyone who
works on both and is never suggested again until someone undoes it. "Same person" is proposed
by staff who work on both cases and carried out when a supervisor other than the proposer
approves: the duplicate is closed with the reason "duplicate", points at the case that is kept,
and its notes and inquiries stay reachable from there (cases.casework.access). A supervisor can
undo a merge; the duplicate then goes back to where it stood. Every step is on the timelines of
both cases and in the audit trail (without its words).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit import services as audit
from ..auth.models import Role, User
from ..casework import services as case_services
from ..casework import workflow
from ..casework.access import can_work_on
from ..casework.models import Case, CaseStatus, ClosureReason
from ..casework.timeline import Entry, register_source
from ..clock import utcnow
from ..extensions import db
from ..inquiries.models import Inquiry, InquiryState
from .models import DecisionKind, DecisionState, MatchDecision

MAX_TEXT = 4000


class MatchDecisionError(Exception):
    """A rule refused the decision; ``str(error)`` is the message for the user."""


def _pair_key(case: Case, other_case: Case | None, inquiry: Inquiry | None) -> str:
    if inquiry is not None:
        return f"inquiry:{inquiry.id}:{case.id}"
    assert other_case is not None
    low, high = sorted((case.id, other_case.id))
    return f"cases:{low}:{high}"


def live_decision(
    case: Case, *, other_case: Case | None = None, inquiry: Inquiry | None = None
) -> MatchDecision | None:
    """The decision in force for this pair, if any."""
    key = _pair_key(case, other_case, inquiry)
    return db.session.scalar(select(MatchDecision).filter_by(pair_key=key))


def _text(value: str | None, required: object | None = None) -> str | None:
    """The words typed, stripped; ``required`` is the message when they may not be empty."""
    text = (value or "").strip()
    if required is not None and not text:
        raise MatchDecisionError(str(required))
    if len(text) > MAX_TEXT:
        raise MatchDecisionError(
            str(_l("The text is too long (at most %(max)s characters).", max=MAX_TEXT))
        )
    return text or None


def _require_works_on(actor: User, *cases: Case) -> None:
    if not actor.works_cases or not all(can_work_on(actor, c) for c in cases):
        raise MatchDecisionError(
            str(_l("You cannot work on both files; ask their caseworker or a supervisor."))
        )


def _require_not_anonymised(*cases: Case) -> None:
    if any(c.anonymised_at is not None for c in cases):
        raise MatchDecisionError(
            str(_l("This case was anonymised under the retention rules and cannot be changed."))
        )


def _refuse_existing(existing: MatchDecision | None) -> None:
    if existing is None:
        return
    if existing.kind == DecisionKind.NOT_SAME:
        raise MatchDecisionError(str(_l("This was already marked as not the same person.")))
    if existing.state == DecisionState.PENDING:
        raise MatchDecisionError(
            str(_l("A merge of these two cases is already waiting for a supervisor."))
        )
    raise MatchDecisionError(str(_l("These two cases are already merged.")))


def _save(decision: MatchDecision, actor: User) -> MatchDecision:
    """Add, audit and commit; a pair decided at the same moment by someone else is refused."""
    db.session.add(decision)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise MatchDecisionError(
            str(_l("Someone else has just decided about these two; reload the page."))
        ) from error
    audit.record("match_decision", "match_decision", decision.id, actor)
    db.session.commit()
    return decision


# --- "not the same person" -------------------------------------------------------------------


def mark_not_same(
    actor: User,
    case: Case,
    *,
    other_case: Case | None = None,
    inquiry: Inquiry | None = None,
    comment: str | None = None,
) -> MatchDecision:
    """Remember that ``case`` and ``other_case`` (or ``inquiry``) are not the same person.

    Anyone who works on both files may say so; the pair is then no longer suggested
    (``not_same_case_ids``) until someone undoes it.
    """
    if (other_case is None) == (inquiry is None):
        raise ValueError("give either other_case or inquiry")
    comment = _text(comment)
    if other_case is not None:
        if other_case.id == case.id:
            raise MatchDecisionError(str(_l("A case cannot be compared with itself.")))
        _require_works_on(actor, case, other_case)
    else:
        assert inquiry is not None
        # An inquiry on a case follows that case's access rules (intake views do the same).
        _require_works_on(actor, case, *([inquiry.case] if inquiry.case is not None else []))
        if inquiry.state == InquiryState.ERASED:
            raise MatchDecisionError(str(_l("This information has already been deleted.")))
        if inquiry.case_id == case.id:
            raise MatchDecisionError(str(_l("This inquiry is already linked to that case.")))
    _refuse_existing(live_decision(case, other_case=other_case, inquiry=inquiry))
    ids = sorted((case.id, other_case.id)) if other_case is not None else [case.id, None]
    decision = MatchDecision(
        kind=DecisionKind.NOT_SAME,
        state=DecisionState.ACTIVE,
        case_id=ids[0],
        other_case_id=ids[1],
        inquiry_id=inquiry.id if inquiry is not None else None,
        pair_key=_pair_key(case, other_case, inquiry),
        reason=comment,
        requested_by_id=actor.id,
        requested_at=utcnow(),
    )
    return _save(decision, actor)


def not_same_case_ids(*, inquiry_id: int | None = None, case_id: int | None = None) -> set[int]:
    """Ids of cases someone marked "not the same person" as this inquiry or this case.

    Candidate generation (cases.matching.candidates) leaves them out. Three index lookups.
    """
    ids: set[int] = set()
    live = (
        MatchDecision.kind == DecisionKind.NOT_SAME,
        MatchDecision.state == DecisionState.ACTIVE,
    )
    if inquiry_id is not None:
        ids.update(
            db.session.scalars(
                select(MatchDecision.case_id).where(MatchDecision.inquiry_id == inquiry_id, *live)
            )
        )
    if case_id is not None:
        ids.update(
            db.session.scalars(
                select(MatchDecision.other_case_id).where(
                    MatchDecision.case_id == case_id,
                    MatchDecision.other_case_id.is_not(None),
                    *live,
                )
            )
        )
        ids.update(
            db.session.scalars(
                select(MatchDecision.case_id).where(MatchDecision.other_case_id == case_id, *live)
            )
        )
    return ids


def undo_not_same(actor: User, decision: MatchDecision, comment: str | None) -> MatchDecision:
    """Take back "not the same person": the pair may be suggested again. Anyone who works on
    both files may do it."""
    if decision.kind != DecisionKind.NOT_SAME:
        raise ValueError("not a 'not the same person' decision")
    if decision.state != DecisionState.ACTIVE:
        raise MatchDecisionError(str(_l("This decision has already been undone.")))
    comment = _text(comment)
    files = [decision.case]
    if decision.other_case is not None:
        files.append(decision.other_case)
    elif decision.inquiry is not None and decision.inquiry.case is not None:
        files.append(decision.inquiry.case)
    _require_works_on(actor, *files)
    _end(decision, DecisionState.UNDONE)
    decision.undone_by_id = actor.id
    decision.undone_at = utcnow()
    decision.undo_reason = comment
    audit.record("match_decision", "match_decision", decision.id, actor)
    db.session.commit()
    return decision


def _end(decision: MatchDecision, state: DecisionState) -> None:
    decision.state = state
    decision.pair_key = None  # the pair is free for a new decision


def forget_text(case: Case) -> int:
    """For retention: decisions involving ``case`` keep their shape (who, when, which cases)
    but lose their text, and a merge still waiting is withdrawn. Returns how many texts went;
    nothing is committed."""
    removed = 0
    involved = or_(MatchDecision.case_id == case.id, MatchDecision.other_case_id == case.id)
    for decision in db.session.scalars(select(MatchDecision).where(involved)):
        for name in ("reason", "comment", "undo_reason"):
            removed += bool(getattr(decision, name))
            setattr(decision, name, None)
        if decision.state == DecisionState.PENDING:
            _end(decision, DecisionState.WITHDRAWN)
    return removed


# --- "same person" ---------------------------------------------------------------------------


def propose_same(
    actor: User, duplicate: Case, surviving: Case, comment: str | None
) -> MatchDecision:
    """Propose that ``duplicate`` describes the same person as ``surviving``, which is kept.

    Staff who work on both cases may propose; a supervisor other than the proposer decides
    (``decide_same``).
    """
    if duplicate.id == surviving.id:
        raise MatchDecisionError(str(_l("A case cannot be compared with itself.")))
    _require_works_on(actor, duplicate, surviving)
    comment = _text(comment, _l("Say why you believe they are the same person."))
    _require_not_anonymised(duplicate, surviving)
    _refuse_existing(live_decision(duplicate, other_case=surviving))
    _check_merge(duplicate, surviving)
    pending = db.session.scalar(
        select(MatchDecision.id).where(
            MatchDecision.duplicate_id == duplicate.id,
            MatchDecision.state == DecisionState.PENDING,
        )
    )
    if pending is not None:
        raise MatchDecisionError(
            str(_l("A merge of this case into another one is already waiting for a supervisor."))
        )
    low, high = sorted((duplicate, surviving), key=lambda c: c.id)
    decision = MatchDecision(
        kind=DecisionKind.SAME,
        state=DecisionState.PENDING,
        case_id=low.id,
        other_case_id=high.id,
        duplicate_id=duplicate.id,
        pair_key=_pair_key(duplicate, surviving, None),
        reason=comment,
        requested_by_id=actor.id,
        requested_at=utcnow(),
    )
    duplicate.last_activity_at = surviving.last_activity_at = decision.requested_at
    return _save(decision, actor)


def _check_merge(duplicate: Case, surviving: Case) -> None:
    """What must hold for a merge, both when it is proposed and when it is approved."""
    if duplicate.duplicate_of_id is not None:
        raise MatchDecisionError(str(_l("This case was already merged into another one.")))
    if surviving.duplicate_of_id is not None:
        raise MatchDecisionError(
            str(
                _l(
                    "The case to keep was itself merged into another one; "
                    "merge into that one instead."
                )
            )
        )
    if CaseStatus(duplicate.status) not in workflow.MERGE_CLOSES_FROM:
        raise MatchDecisionError(str(_l("This case cannot be closed from where it stands.")))
    if case_services.pending_approval(duplicate) is not None:
        raise MatchDecisionError(
            str(
                _l(
                    "A request on this case is waiting for a supervisor; "
                    "decide or withdraw it first."
                )
            )
        )


def _require_supervisor(actor: User) -> None:
    if actor.role != Role.SUPERVISOR:
        raise MatchDecisionError(str(_l("Only a supervisor can decide on this request.")))


def decide_same(
    actor: User, decision: MatchDecision, approve: bool, comment: str | None
) -> MatchDecision:
    """A supervisor other than the proposer approves (and so carries out) or rejects a merge.

    Approving closes the duplicate with the reason "duplicate" from wherever it stands and
    links it to the case that is kept; what it stood at is remembered for an undo.
    """
    _require_supervisor(actor)
    if decision.kind != DecisionKind.SAME:
        raise ValueError("not a 'same person' decision")
    if decision.state != DecisionState.PENDING:
        raise MatchDecisionError(str(_l("This request has already been decided.")))
    if decision.requested_by_id == actor.id:
        raise MatchDecisionError(str(_l("Another supervisor must decide on a request you made.")))
    comment = _text(comment, None if approve else _l("Say why you reject the request."))
    duplicate, surviving = decision.duplicate, decision.surviving
    assert duplicate is not None and surviving is not None
    now = utcnow()
    if approve:
        # Either case may have changed since the proposal: the rules must still hold.
        _require_not_anonymised(duplicate, surviving)
        _check_merge(duplicate, surviving)
        decision.previous_status = duplicate.status
        decision.previous_closure_reason = duplicate.closure_reason
        case_services.record_status_change(
            actor, duplicate, CaseStatus.CLOSED, decision.reason or "", ClosureReason.DUPLICATE
        )
        duplicate.duplicate_of_id = surviving.id
        decision.state = DecisionState.APPROVED
    else:
        _end(decision, DecisionState.REJECTED)
    decision.decided_by_id = actor.id
    decision.decided_at = now
    decision.comment = comment
    duplicate.last_activity_at = surviving.last_activity_at = now
    audit.record("match_decision", "match_decision", decision.id, actor)
    db.session.commit()
    return decision


def withdraw_same(actor: User, decision: MatchDecision) -> MatchDecision:
    """The proposer (or a supervisor) takes back a merge still waiting for a decision."""
    if decision.kind != DecisionKind.SAME:
        raise ValueError("not a 'same person' decision")
    if decision.state != DecisionState.PENDING:
        raise MatchDecisionError(str(_l("This request has already been decided.")))
    if decision.requested_by_id != actor.id and actor.role != Role.SUPERVISOR:
        raise MatchDecisionError(str(_l("Only the person who asked can withdraw this request.")))
    _end(decision, DecisionState.WITHDRAWN)
    decision.decided_by_id = actor.id
    decision.decided_at = utcnow()
    audit.record("match_decision", "match_decision", decision.id, actor)
    db.session.commit()
    return decision


def undo_same(actor: User, decision: MatchDecision, comment: str | None) -> MatchDecision:
    """A supervisor undoes a merge: the duplicate goes back to the status (and closure reason)
    it had before, no longer points at the kept case, and both may be decided about again."""
    _require_supervisor(actor)
    if decision.kind != DecisionKind.SAME:
        raise ValueError("not a 'same person' decision")
    if decision.state != DecisionState.APPROVED:
        raise MatchDecisionError(str(_l("Only a merge that was carried out can be undone.")))
    comment = _text(comment, _l("Say why the merge is undone."))
    duplicate, surviving = decision.duplicate, decision.surviving
    assert duplicate is not None and surviving is not None
    _require_not_anonymised(duplicate)
    previous = CaseStatus(decision.previous_status or CaseStatus.OPEN)
    if duplicate.status != previous or duplicate.closure_reason != (
        decision.previous_closure_reason
    ):
        case_services.record_status_change(
            actor, duplicate, previous, comment, decision.previous_closure_reason
        )
    duplicate.duplicate_of_id = None
    _end(decision, DecisionState.UNDONE)
    decision.undone_by_id = actor.id
    decision.undone_at = utcnow()
    decision.undo_reason = comment
    duplicate.last_activity_at = surviving.last_activity_at = decision.undone_at
    audit.record("match_decision", "match_decision", decision.id, actor)
    db.session.commit()
    return decision


# --- what the case page shows ----------------------------------------------------------------


@dataclass
class CaseDecisions:
    """The decisions about one case, as its page shows them."""

    merged_into: MatchDecision | None = None  # this case is a duplicate of another
    merged: list[MatchDecision] = field(default_factory=list)  # duplicates merged into it
    pending: list[MatchDecision] = field(default_factory=list)  # merges waiting
    not_same: list[MatchDecision] = field(default_factory=list)  # cases marked not the same
    # Cases not to suggest as possible duplicates: every case with a live decision.
    decided_ids: set[int] = field(default_factory=set)


def decisions_for(case: Case) -> CaseDecisions:
    """Live decisions involving ``case`` with another case, sorted for its page."""
    rows = db.session.scalars(
        select(MatchDecision)
        .where(
            or_(MatchDecision.case_id == case.id, MatchDecision.other_case_id == case.id),
            MatchDecision.other_case_id.is_not(None),
            MatchDecision.pair_key.is_not(None),
        )
        .order_by(MatchDecision.requested_at, MatchDecision.id)
        .options(
            selectinload(MatchDecision.case).selectinload(Case.owner),
            selectinload(MatchDecision.other_case).selectinload(Case.owner),
            selectinload(MatchDecision.requested_by),
            selectinload(MatchDecision.decided_by),
        )
    ).all()
    found = CaseDecisions()
    for d in rows:
        partner = d.partner_of(case.id)
        assert partner is not None
        found.decided_ids.add(partner.id)
        if d.kind == DecisionKind.NOT_SAME:
            found.not_same.append(d)
        elif d.state == DecisionState.PENDING:
            found.pending.append(d)
        elif d.duplicate_id == case.id:
            found.merged_into = d
        else:
            found.merged.append(d)
    return found


def merged_inquiries(decisions: list[MatchDecision]) -> dict[int, list[Inquiry]]:
    """The inquiries on each merged duplicate, by duplicate id: they stay linked to it and are
    listed on the case that is kept."""
    ids = [d.duplicate_id for d in decisions if d.duplicate_id is not None]
    found: dict[int, list[Inquiry]] = {i: [] for i in ids}
    if ids:
        for inquiry in db.session.scalars(
            select(Inquiry).where(Inquiry.case_id.in_(ids)).order_by(Inquiry.id)
        ):
            found[inquiry.case_id].append(inquiry)  # type: ignore[index]
    return found


def pending_merges() -> list[MatchDecision]:
    """Merges waiting for a supervisor, oldest first (the approvals page)."""
    return list(
        db.session.scalars(
            select(MatchDecision)
            .where(
                MatchDecision.kind == DecisionKind.SAME,
                MatchDecision.state == DecisionState.PENDING,
            )
            .order_by(MatchDecision.requested_at, MatchDecision.id)
            .options(
                selectinload(MatchDecision.case).selectinload(Case.owner),
                selectinload(MatchDecision.other_case).selectinload(Case.owner),
                selectinload(MatchDecision.requested_by),
            )
        )
    )


@register_source
def match_events(case: Case) -> list[Entry]:
    """Decisions about this case and another one, or an inquiry, on the case timeline: when
    they were taken, decided and undone. Both cases of a pair show them."""
    decisions = db.session.scalars(
        select(MatchDecision)
        .where(or_(MatchDecision.case_id == case.id, MatchDecision.other_case_id == case.id))
        .options(
            selectinload(MatchDecision.case),
            selectinload(MatchDecision.other_case),
            selectinload(MatchDecision.inquiry),
            selectinload(MatchDecision.requested_by),
            selectinload(MatchDecision.decided_by),
            selectinload(MatchDecision.undone_by),
        )
    ).all()
    entries = []
    for d in decisions:
        entries.append(Entry(d.requested_at, "match_requested", d))
        if d.decided_at is not None:
            entries.append(Entry(d.decided_at, "match_decided", d))
        if d.undone_at is not None:
            entries.append(Entry(d.undone_at, "match_undone", d))
    return entries
