"""The status workflow as services enforce it: transition table, four-eyes approval, roles."""

from __future__ import annotations

import pytest

from cases.casework import workflow
from cases.casework.models import ApprovalRequest, ApprovalState, CaseStatus, StatusChange
from cases.casework.services import (
    CaseRuleError,
    change_status,
    decide_approval,
    withdraw_approval,
)
from cases.extensions import db

ALLOWED = sorted((src, dst) for src, targets in workflow.TRANSITIONS.items() for dst in targets)
DIRECT = [(src, dst) for src, dst in ALLOWED if dst not in workflow.NEEDS_APPROVAL]
APPROVED = [(src, dst) for src, dst in ALLOWED if dst in workflow.NEEDS_APPROVAL]


def _put_in(case, status):
    """Test setup only: place the case in ``status`` without going through the workflow."""
    case.status = status
    db.session.commit()


def _changes(case) -> list[StatusChange]:
    return db.session.scalars(
        db.select(StatusChange).filter_by(case_id=case.id).order_by(StatusChange.id)
    ).all()


def _requests(case) -> list[ApprovalRequest]:
    return db.session.scalars(db.select(ApprovalRequest).filter_by(case_id=case.id)).all()


def _closure_reason(src):
    return workflow.closure_reasons_for(src)[0] if src != CaseStatus.CLOSED else None


def _reload(case):
    db.session.expire_all()
    return db.session.get(type(case), case.id)


def test_the_table_covers_every_status():
    assert set(workflow.TRANSITIONS) == set(CaseStatus)
    assert ALLOWED and DIRECT and APPROVED


@pytest.mark.parametrize(("src", "dst"), DIRECT, ids=[f"{s}->{d}" for s, d in DIRECT])
def test_owner_moves_case_along_each_direct_transition(caseworker, case, src, dst):
    _put_in(case, src)
    before = len(_changes(case))

    change = change_status(caseworker, case, dst, "  Called the family  ")

    case = _reload(case)
    assert case.status == dst
    rows = _changes(case)
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.id == change.id
    assert row.actor_id == caseworker.id
    assert row.from_status == src
    assert row.to_status == dst
    assert row.reason == "Called the family"
    assert row.approval_id is None
    assert _requests(case) == []


@pytest.mark.parametrize(("src", "dst"), APPROVED, ids=[f"{s}->{d}" for s, d in APPROVED])
def test_four_eyes_transitions_wait_for_a_second_person(caseworker, supervisor, case, src, dst):
    _put_in(case, src)
    before = len(_changes(case))
    reason = _closure_reason(src) if dst == CaseStatus.CLOSED else None

    request = change_status(caseworker, case, dst, "Confirmed by the Red Crescent", reason)

    case = _reload(case)
    assert isinstance(request, ApprovalRequest)
    assert case.status == src
    assert len(_changes(case)) == before
    [stored] = _requests(case)
    assert stored.state == ApprovalState.PENDING
    assert stored.to_status == dst
    assert stored.requested_by_id == caseworker.id
    assert stored.reason == "Confirmed by the Red Crescent"

    decide_approval(supervisor, stored, approve=True, comment="Seen the documents")

    case = _reload(case)
    assert case.status == dst
    rows = _changes(case)
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row.from_status, row.to_status) == (src, dst)
    assert row.actor_id == supervisor.id
    assert row.reason == "Confirmed by the Red Crescent"
    assert row.approval_id == stored.id
    assert _reload(stored).state == ApprovalState.APPROVED


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (CaseStatus.NEW, CaseStatus.LOCATED_ALIVE),
        (CaseStatus.NEW, CaseStatus.LOCATED_DECEASED),
        (CaseStatus.NEW, CaseStatus.NEW),
        (CaseStatus.OPEN, CaseStatus.NEW),
        (CaseStatus.OPEN, CaseStatus.OPEN),
        (CaseStatus.LOCATED_DECEASED, CaseStatus.LOCATED_ALIVE),
        (CaseStatus.LOCATED_DECEASED, CaseStatus.LOCATED_DETAINED),
        (CaseStatus.CLOSED, CaseStatus.LOCATED_ALIVE),
        (CaseStatus.CLOSED, CaseStatus.CLOSED),
        (CaseStatus.CLOSED, CaseStatus.NEW),
    ],
)
def test_disallowed_transitions_are_refused_and_write_nothing(caseworker, case, src, dst):
    _put_in(case, src)
    before = len(_changes(case))

    with pytest.raises(CaseRuleError):
        change_status(caseworker, case, dst, "A reason", "family_withdrew")

    case = _reload(case)
    assert case.status == src
    assert len(_changes(case)) == before
    assert _requests(case) == []


def test_unknown_status_is_refused(caseworker, case):
    with pytest.raises(CaseRuleError):
        change_status(caseworker, case, "vanished", "A reason")
    assert _reload(case).status == CaseStatus.NEW


@pytest.mark.parametrize("reason", ["", "   \n ", None])
def test_a_reason_is_required(caseworker, case, reason):
    with pytest.raises(CaseRuleError, match="Say why"):
        change_status(caseworker, case, CaseStatus.OPEN, reason)
    assert _reload(case).status == CaseStatus.NEW
    assert len(_changes(case)) == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required_for_a_closure_request_too(caseworker, case, reason):
    with pytest.raises(CaseRuleError):
        change_status(caseworker, case, CaseStatus.CLOSED, reason, "family_withdrew")
    assert _requests(case) == []


def test_closing_needs_a_closure_reason(caseworker, case):
    with pytest.raises(CaseRuleError, match="reason for closing"):
        change_status(caseworker, case, CaseStatus.CLOSED, "Family asked", None)
    with pytest.raises(CaseRuleError):
        change_status(caseworker, case, CaseStatus.CLOSED, "Family asked", "bored")
    assert _requests(case) == []


@pytest.mark.parametrize(
    ("src", "closure_reason"),
    [
        (CaseStatus.OPEN, "death_confirmed"),
        (CaseStatus.OPEN, "in_contact"),
        (CaseStatus.NEW, "in_contact"),
        (CaseStatus.NEW, "no_trace"),
        (CaseStatus.LOCATED_ALIVE, "death_confirmed"),
        (CaseStatus.LOCATED_DECEASED, "in_contact"),
    ],
)
def test_closure_reasons_that_do_not_fit_are_refused(caseworker, case, src, closure_reason):
    _put_in(case, src)
    with pytest.raises(CaseRuleError, match="does not fit"):
        change_status(caseworker, case, CaseStatus.CLOSED, "Closing", closure_reason)
    assert _requests(case) == []
    assert _reload(case).status == src


def test_closure_with_fitting_reason_is_stored_on_the_case(
    caseworker, supervisor, second_supervisor, case
):
    _put_in(case, CaseStatus.LOCATED_DECEASED)
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Burial done", "death_confirmed")
    assert request.closure_reason == "death_confirmed"

    decide_approval(second_supervisor, request, approve=True, comment="")

    case = _reload(case)
    assert case.status == CaseStatus.CLOSED
    assert case.closure_reason == "death_confirmed"
    assert _changes(case)[-1].closure_reason == "death_confirmed"


def test_located_deceased_request_leaves_status_and_carries_no_closure_reason(caseworker, case):
    _put_in(case, CaseStatus.OPEN)
    request = change_status(
        caseworker, case, CaseStatus.LOCATED_DECEASED, "Name on a list", "family_withdrew"
    )
    assert request.closure_reason is None
    assert _reload(case).status == CaseStatus.OPEN
    assert _reload(case).closure_reason is None


def test_supervisor_cannot_approve_own_request(supervisor, second_supervisor, case):
    _put_in(case, CaseStatus.OPEN)
    request = change_status(
        supervisor, case, CaseStatus.CLOSED, "Family withdrew", "family_withdrew"
    )
    assert isinstance(request, ApprovalRequest)  # four eyes apply to supervisors as well

    with pytest.raises(CaseRuleError, match="Another supervisor"):
        decide_approval(supervisor, request, approve=True, comment="ok")
    assert _reload(case).status == CaseStatus.OPEN
    assert _reload(request).state == ApprovalState.PENDING

    decide_approval(second_supervisor, request, approve=True, comment="ok")
    case = _reload(case)
    assert case.status == CaseStatus.CLOSED
    assert case.closure_reason == "family_withdrew"


def test_caseworker_cannot_decide_a_request(caseworker, other_caseworker, case):
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Duplicate", "duplicate")
    for actor in (caseworker, other_caseworker):
        with pytest.raises(CaseRuleError):
            decide_approval(actor, request, approve=True, comment="")
    assert _reload(request).state == ApprovalState.PENDING
    assert _reload(case).status == CaseStatus.NEW


def test_admin_cannot_decide_a_request(caseworker, admin, case):
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Duplicate", "duplicate")
    with pytest.raises(CaseRuleError):
        decide_approval(admin, request, approve=True, comment="")
    assert _reload(request).state == ApprovalState.PENDING


def test_reject_needs_a_comment_and_leaves_the_status(caseworker, supervisor, case):
    _put_in(case, CaseStatus.OPEN)
    request = change_status(caseworker, case, CaseStatus.LOCATED_DECEASED, "Rumour", None)

    with pytest.raises(CaseRuleError, match="reject"):
        decide_approval(supervisor, request, approve=False, comment="   ")
    assert _reload(request).state == ApprovalState.PENDING

    decide_approval(supervisor, request, approve=False, comment="Only a rumour, keep tracing")

    request = _reload(request)
    assert request.state == ApprovalState.REJECTED
    assert request.comment == "Only a rumour, keep tracing"
    assert request.decided_by_id == supervisor.id
    assert request.decided_at is not None
    case = _reload(case)
    assert case.status == CaseStatus.OPEN
    assert len(_changes(case)) == 1


def test_a_decided_request_cannot_be_decided_again(caseworker, supervisor, second_supervisor, case):
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Duplicate", "duplicate")
    decide_approval(supervisor, request, approve=False, comment="Not a duplicate")
    with pytest.raises(CaseRuleError, match="already been decided"):
        decide_approval(second_supervisor, request, approve=True, comment="")
    assert _reload(case).status == CaseStatus.NEW


def test_requester_withdraws_a_pending_request(caseworker, case):
    _put_in(case, CaseStatus.OPEN)
    request = change_status(caseworker, case, CaseStatus.CLOSED, "No trace", "no_trace")

    withdraw_approval(caseworker, request)

    request = _reload(request)
    assert request.state == ApprovalState.WITHDRAWN
    assert request.decided_by_id == caseworker.id
    assert _reload(case).status == CaseStatus.OPEN
    # Withdrawn: a new request may be made.
    again = change_status(caseworker, _reload(case), CaseStatus.CLOSED, "No trace", "no_trace")
    assert again.state == ApprovalState.PENDING


def test_only_the_requester_or_a_supervisor_may_withdraw(
    caseworker, other_caseworker, supervisor, case
):
    request = change_status(caseworker, case, CaseStatus.CLOSED, "Duplicate", "duplicate")
    with pytest.raises(CaseRuleError):
        withdraw_approval(other_caseworker, request)
    assert _reload(request).state == ApprovalState.PENDING

    withdraw_approval(supervisor, request)
    assert _reload(request).state == ApprovalState.WITHDRAWN
    with pytest.raises(CaseRuleError, match="already been decided"):
        withdraw_approval(caseworker, request)


def test_a_second_request_while_one_is_pending_is_refused(caseworker, supervisor, case):
    _put_in(case, CaseStatus.OPEN)
    change_status(caseworker, case, CaseStatus.LOCATED_DECEASED, "Name on a list")

    with pytest.raises(CaseRuleError, match="waiting for a supervisor"):
        change_status(caseworker, case, CaseStatus.CLOSED, "Withdrew", "family_withdrew")
    # Direct changes are blocked too, so the pending request cannot be overtaken.
    with pytest.raises(CaseRuleError, match="waiting for a supervisor"):
        change_status(supervisor, case, CaseStatus.LOCATED_ALIVE, "He called")

    assert len(_requests(case)) == 1
    assert _reload(case).status == CaseStatus.OPEN


def test_reopen_a_closed_case(caseworker, supervisor, case):
    request = change_status(
        caseworker, case, CaseStatus.CLOSED, "Family withdrew", "family_withdrew"
    )
    decide_approval(supervisor, request, approve=True, comment="")
    case = _reload(case)
    assert case.status == CaseStatus.CLOSED

    with pytest.raises(CaseRuleError):
        change_status(caseworker, case, CaseStatus.OPEN, "")

    change = change_status(caseworker, case, CaseStatus.OPEN, "Mother called again with news")

    case = _reload(case)
    assert case.status == CaseStatus.OPEN
    assert case.closure_reason is None
    assert (change.from_status, change.to_status) == (CaseStatus.CLOSED, CaseStatus.OPEN)
    assert change.reason == "Mother called again with news"
    assert change.approval_id is None


def test_caseworker_who_does_not_own_the_case_cannot_change_it(other_caseworker, case):
    with pytest.raises(CaseRuleError, match="cannot change this case"):
        change_status(other_caseworker, case, CaseStatus.OPEN, "Trying")
    with pytest.raises(CaseRuleError):
        change_status(other_caseworker, case, CaseStatus.CLOSED, "Trying", "duplicate")
    assert _reload(case).status == CaseStatus.NEW
    assert len(_changes(case)) == 1
    assert _requests(case) == []


def test_admin_cannot_change_a_case(admin, case):
    with pytest.raises(CaseRuleError):
        change_status(admin, case, CaseStatus.OPEN, "Trying")
    assert _reload(case).status == CaseStatus.NEW
    assert len(_changes(case)) == 1


def test_supervisor_may_change_any_case(supervisor, case):
    change_status(supervisor, case, CaseStatus.OPEN, "Taking it forward")
    assert _reload(case).status == CaseStatus.OPEN
    assert _changes(case)[-1].actor_id == supervisor.id
