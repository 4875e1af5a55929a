"""Decisions about suggested matches, as the services enforce them: "not the same person"
remembered, "same person" merged with a second person's approval, undone, on both timelines."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.audit.models import AuditEvent
from cases.auth.models import Role
from cases.casework import services as case_services
from cases.casework.access import can_see_contacts, can_work_on, visible_cases
from cases.casework.models import Case, CaseStatus, ClosureReason, StatusChange
from cases.casework.services import CaseRuleError
from cases.casework.timeline import case_timeline
from cases.extensions import db
from cases.matching import decisions
from cases.matching.decisions import MatchDecisionError
from cases.matching.models import MatchDecision

from ..factories import make_case, make_user
from ..inquiries.factories import make_inquiry


def _reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def _kinds(case: Case) -> list[str]:
    return [e.kind for e in case_timeline(_reload(case)) if e.kind.startswith("match_")]


def _audit() -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "match_decision").order_by(AuditEvent.id)
    ).all()


def _decisions() -> list[MatchDecision]:
    db.session.expire_all()
    return db.session.scalars(select(MatchDecision).order_by(MatchDecision.id)).all()


@pytest.fixture
def twin(caseworker) -> Case:
    """A second file on the same man, opened by the same caseworker."""
    return make_case(caseworker)


def _approve(supervisor, proposal, comment="") -> MatchDecision:
    return decisions.decide_same(supervisor, proposal, True, comment)


# --- "not the same person" -------------------------------------------------------------------


def test_not_same_is_remembered_for_both_cases_and_audited(caseworker, case, twin) -> None:
    decision = decisions.mark_not_same(
        caseworker, twin, other_case=case, comment="  Different mother, checked by phone  "
    )

    [stored] = _decisions()
    assert (stored.kind, stored.state) == ("not_same", "active")
    # Canonical order: the smaller id first, whichever case the caseworker was on.
    assert (stored.case_id, stored.other_case_id) == (case.id, twin.id)
    assert stored.reason == "Different mother, checked by phone"
    assert decisions.not_same_case_ids(case_id=case.id) == {twin.id}
    assert decisions.not_same_case_ids(case_id=twin.id) == {case.id}
    assert decisions.not_same_case_ids(inquiry_id=12345) == set()
    assert _kinds(case) == ["match_requested"]
    assert _kinds(twin) == ["match_requested"]
    [event] = _audit()
    assert (event.object_type, event.object_id, event.actor_id) == (
        "match_decision",
        decision.id,
        caseworker.id,
    )


def test_the_same_pair_cannot_be_marked_twice(caseworker, case, twin) -> None:
    decisions.mark_not_same(caseworker, case, other_case=twin)

    with pytest.raises(MatchDecisionError, match="already marked as not the same"):
        decisions.mark_not_same(caseworker, twin, other_case=case)
    with pytest.raises(MatchDecisionError, match="already marked as not the same"):
        decisions.propose_same(caseworker, twin, case, "same man after all")
    assert len(_decisions()) == 1


def test_two_people_deciding_at_once_leave_one_live_decision(
    caseworker, supervisor, case, twin, monkeypatch
) -> None:
    decisions.mark_not_same(caseworker, case, other_case=twin)
    # The second person's check ran before the first decision was saved.
    monkeypatch.setattr(decisions, "live_decision", lambda *args, **kwargs: None)

    with pytest.raises(MatchDecisionError, match="Someone else has just decided"):
        decisions.propose_same(supervisor, twin, case, "Same man")
    assert [(d.kind, d.state) for d in _decisions()] == [("not_same", "active")]
    assert len(_audit()) == 1


def test_a_case_is_not_compared_with_itself(caseworker, case) -> None:
    with pytest.raises(MatchDecisionError, match="itself"):
        decisions.mark_not_same(caseworker, case, other_case=case)


def test_not_same_for_an_inquiry_is_kept_apart_from_case_pairs(caseworker, case) -> None:
    inquiry, _ = make_inquiry()

    decisions.mark_not_same(caseworker, case, inquiry=inquiry, comment="other family")

    assert decisions.not_same_case_ids(inquiry_id=inquiry.id) == {case.id}
    assert decisions.not_same_case_ids(case_id=case.id) == set()
    assert decisions.not_same_case_ids(inquiry_id=inquiry.id, case_id=case.id) == {case.id}
    assert _kinds(case) == ["match_requested"]
    with pytest.raises(MatchDecisionError, match="already marked"):
        decisions.mark_not_same(caseworker, case, inquiry=inquiry)


def test_an_inquiry_on_a_case_someone_else_holds_follows_that_case(
    caseworker, other_caseworker, case
) -> None:
    inquiry, _ = make_inquiry()
    from cases.inquiries import services as inquiry_services

    inquiry_services.create_case_from_inquiry(other_caseworker, inquiry)

    with pytest.raises(MatchDecisionError, match="cannot work on both"):
        decisions.mark_not_same(caseworker, case, inquiry=inquiry)
    assert _decisions() == []


def test_undoing_not_same_lets_the_pair_be_suggested_and_decided_again(
    caseworker, case, twin
) -> None:
    decision = decisions.mark_not_same(caseworker, case, other_case=twin)

    decisions.undo_not_same(caseworker, decision, "I misread the mother's name")

    assert decisions.not_same_case_ids(case_id=case.id) == set()
    undone = _decisions()[0]
    assert (undone.state, undone.pair_key, undone.undone_by_id) == (
        "undone",
        None,
        caseworker.id,
    )
    assert _kinds(case) == ["match_undone", "match_requested"]
    with pytest.raises(MatchDecisionError, match="already been undone"):
        decisions.undo_not_same(caseworker, undone, "")
    again = decisions.mark_not_same(caseworker, case, other_case=twin)
    assert again.id != decision.id
    assert len(_audit()) == 3


def test_a_caseworker_without_access_to_one_case_cannot_decide(
    caseworker, other_caseworker, case
) -> None:
    theirs = make_case(other_caseworker)

    with pytest.raises(MatchDecisionError, match="cannot work on both"):
        decisions.mark_not_same(caseworker, case, other_case=theirs)
    with pytest.raises(MatchDecisionError, match="cannot work on both"):
        decisions.propose_same(caseworker, theirs, case, "same man")
    with pytest.raises(MatchDecisionError, match="cannot work on both"):
        decisions.propose_same(caseworker, case, theirs, "same man")
    assert _decisions() == []
    assert _audit() == []


def test_a_shared_case_counts_as_one_the_caseworker_works_on(
    caseworker, other_caseworker, case
) -> None:
    theirs = make_case(other_caseworker)
    case_services.share_case(other_caseworker, theirs, caseworker)

    decisions.mark_not_same(caseworker, case, other_case=theirs)

    assert decisions.not_same_case_ids(case_id=theirs.id) == {case.id}


def test_an_admin_cannot_decide(admin, case, twin) -> None:
    with pytest.raises(MatchDecisionError):
        decisions.mark_not_same(admin, case, other_case=twin)


# --- "same person": proposal, approval, rejection ----------------------------------------------


def test_approved_merge_closes_the_duplicate_and_links_it_to_the_kept_case(
    caseworker, supervisor, case, twin
) -> None:
    inquiry, _ = make_inquiry()
    from cases.inquiries import services as inquiry_services

    inquiry_services.attach_to_case(caseworker, inquiry, twin)
    case_services.change_status(caseworker, twin, "open", "Started tracing")

    proposal = decisions.propose_same(caseworker, twin, case, "Same mother and phone")
    assert proposal.state == "pending"
    assert _reload(twin).status == CaseStatus.OPEN  # nothing happens before approval
    assert [d.id for d in decisions.pending_merges()] == [proposal.id]

    decisions.decide_same(supervisor, proposal, True, "Checked both files")

    twin, case = _reload(twin), _reload(case)
    assert twin.status == CaseStatus.CLOSED
    assert twin.closure_reason == ClosureReason.DUPLICATE
    assert twin.duplicate_of_id == case.id
    assert case.status == CaseStatus.NEW and case.duplicate_of_id is None
    change = db.session.scalars(
        select(StatusChange).filter_by(case_id=twin.id).order_by(StatusChange.id.desc())
    ).first()
    assert (change.from_status, change.to_status, change.closure_reason, change.actor_id) == (
        "open",
        "closed",
        "duplicate",
        supervisor.id,
    )
    decided = _decisions()[0]
    assert (decided.state, decided.previous_status, decided.decided_by_id) == (
        "approved",
        "open",
        supervisor.id,
    )
    assert decisions.pending_merges() == []
    # Reachable from the kept case: the merged list, and the duplicate's inquiries.
    found = decisions.decisions_for(case)
    assert [d.duplicate_id for d in found.merged] == [twin.id]
    assert decisions.merged_inquiries(found.merged) == {twin.id: [inquiry]}
    assert decisions.decisions_for(twin).merged_into.id == proposal.id
    assert _kinds(case) == ["match_decided", "match_requested"]
    assert _kinds(twin) == ["match_decided", "match_requested"]
    assert len(_audit()) == 2


def test_any_status_can_be_closed_as_duplicate_even_closed(
    caseworker, supervisor, second_supervisor, case, twin
) -> None:
    request = case_services.change_status(
        caseworker, twin, "closed", "No answer for a year", "family_withdrew"
    )
    case_services.decide_approval(supervisor, request, True, "")

    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    _approve(second_supervisor, proposal)

    twin = _reload(twin)
    assert (twin.status, twin.closure_reason, twin.duplicate_of_id) == (
        "closed",
        "duplicate",
        case.id,
    )
    assert _decisions()[0].previous_closure_reason == "family_withdrew"


def test_the_proposer_cannot_approve_their_own_merge(
    supervisor, second_supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(supervisor, twin, case, "Same man")

    with pytest.raises(MatchDecisionError, match="Another supervisor"):
        _approve(supervisor, proposal)
    assert _reload(twin).duplicate_of_id is None

    _approve(second_supervisor, proposal)
    assert _reload(twin).duplicate_of_id == case.id


def test_only_a_supervisor_decides(caseworker, other_caseworker, case, twin) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    for someone in (caseworker, other_caseworker):
        with pytest.raises(MatchDecisionError, match="Only a supervisor"):
            _approve(someone, proposal)
    assert _decisions()[0].state == "pending"


def test_a_proposal_needs_a_reason(caseworker, case, twin) -> None:
    with pytest.raises(MatchDecisionError, match="Say why"):
        decisions.propose_same(caseworker, twin, case, "   ")
    assert _decisions() == []


def test_a_rejected_merge_changes_nothing_and_may_be_proposed_again(
    caseworker, supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    with pytest.raises(MatchDecisionError, match="Say why you reject"):
        decisions.decide_same(supervisor, proposal, False, "")

    decisions.decide_same(supervisor, proposal, False, "The birth years are ten years apart")

    rejected = _decisions()[0]
    assert (rejected.state, rejected.pair_key, rejected.comment) == (
        "rejected",
        None,
        "The birth years are ten years apart",
    )
    twin = _reload(twin)
    assert (twin.status, twin.duplicate_of_id) == ("new", None)
    assert _kinds(twin) == ["match_decided", "match_requested"]
    with pytest.raises(MatchDecisionError, match="already been decided"):
        _approve(supervisor, rejected)
    decisions.propose_same(caseworker, twin, case, "New evidence: same passport")
    assert len(_decisions()) == 2


def test_the_proposer_withdraws_and_others_cannot(
    caseworker, other_caseworker, supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    with pytest.raises(MatchDecisionError, match="Only the person who asked"):
        decisions.withdraw_same(other_caseworker, proposal)

    decisions.withdraw_same(caseworker, proposal)

    assert (_decisions()[0].state, _decisions()[0].pair_key) == ("withdrawn", None)
    with pytest.raises(MatchDecisionError, match="already been decided"):
        _approve(supervisor, _decisions()[0])


def test_one_pending_merge_per_duplicate(caseworker, case, twin) -> None:
    third = make_case(caseworker)
    decisions.propose_same(caseworker, twin, case, "Same man")

    with pytest.raises(MatchDecisionError, match="already waiting"):
        decisions.propose_same(caseworker, twin, third, "Same man again")
    with pytest.raises(MatchDecisionError, match="already waiting"):
        decisions.propose_same(caseworker, case, twin, "The other way round")


def test_a_pending_status_request_blocks_the_merge(caseworker, supervisor, case, twin) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    case_services.change_status(caseworker, twin, "closed", "Family gave up", "family_withdrew")

    with pytest.raises(MatchDecisionError, match="waiting for a supervisor"):
        _approve(supervisor, proposal)
    assert _reload(twin).status == "new"
    assert _decisions()[0].state == "pending"


def test_a_merged_duplicate_changes_status_only_through_an_undo(
    caseworker, supervisor, case, twin
) -> None:
    _approve(supervisor, decisions.propose_same(caseworker, twin, case, "Same man"))

    with pytest.raises(CaseRuleError, match="merged into another"):
        case_services.change_status(supervisor, _reload(twin), "open", "Reopen it")
    assert _reload(twin).status == "closed"


def test_no_merge_into_a_duplicate_nor_of_one(caseworker, supervisor, case, twin) -> None:
    third = make_case(caseworker)
    _approve(supervisor, decisions.propose_same(caseworker, twin, case, "Same man"))

    with pytest.raises(MatchDecisionError, match="merge into that one instead"):
        decisions.propose_same(caseworker, third, _reload(twin), "Same man")
    with pytest.raises(MatchDecisionError, match="already merged"):
        decisions.propose_same(caseworker, _reload(twin), third, "Same man")


def test_a_case_merged_meanwhile_cannot_be_kept(
    caseworker, supervisor, second_supervisor, case, twin
) -> None:
    third = make_case(caseworker)
    into_twin = decisions.propose_same(caseworker, third, twin, "Same man")
    _approve(supervisor, decisions.propose_same(caseworker, twin, case, "Same man"))

    with pytest.raises(MatchDecisionError, match="merge into that one instead"):
        _approve(second_supervisor, into_twin)
    assert _reload(third).duplicate_of_id is None


def test_an_anonymised_case_cannot_be_merged(caseworker, case, twin) -> None:
    twin.anonymised_at = twin.created_at
    db.session.commit()

    with pytest.raises(MatchDecisionError, match="anonymised"):
        decisions.propose_same(caseworker, twin, case, "Same man")


# --- undo --------------------------------------------------------------------------------------


def test_undo_puts_the_duplicate_back_where_it_stood(
    caseworker, supervisor, second_supervisor, case, twin
) -> None:
    case_services.change_status(caseworker, twin, "open", "Started")
    case_services.change_status(caseworker, twin, "located_alive", "He called his mother")
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    _approve(supervisor, proposal)

    with pytest.raises(MatchDecisionError, match="Only a supervisor"):
        decisions.undo_same(caseworker, proposal, "wrong")
    with pytest.raises(MatchDecisionError, match="Say why the merge is undone"):
        decisions.undo_same(second_supervisor, proposal, " ")

    decisions.undo_same(second_supervisor, proposal, "Two cousins with the same name")

    twin = _reload(twin)
    assert (twin.status, twin.closure_reason, twin.duplicate_of_id) == (
        "located_alive",
        None,
        None,
    )
    last = db.session.scalars(
        select(StatusChange).filter_by(case_id=twin.id).order_by(StatusChange.id.desc())
    ).first()
    assert (last.from_status, last.to_status, last.reason) == (
        "closed",
        "located_alive",
        "Two cousins with the same name",
    )
    undone = _decisions()[0]
    assert (undone.state, undone.pair_key, undone.undone_by_id) == (
        "undone",
        None,
        second_supervisor.id,
    )
    assert _kinds(case)[0] == "match_undone"
    assert _kinds(twin)[0] == "match_undone"
    assert decisions.decisions_for(case).merged == []
    # The status workflow is open to it again, and the pair may be decided about again.
    case_services.change_status(caseworker, twin, "open", "Back to tracing")
    decisions.mark_not_same(caseworker, case, other_case=twin)
    assert len(_audit()) == 4


def test_undo_of_a_closed_case_restores_its_closure_reason(
    caseworker, supervisor, case, twin
) -> None:
    case_services.change_status(caseworker, twin, "open", "Started")
    request = case_services.change_status(caseworker, twin, "closed", "Nothing", "no_trace")
    case_services.decide_approval(supervisor, request, True, "")
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    _approve(supervisor, proposal)

    decisions.undo_same(supervisor, proposal, "Not him")

    twin = _reload(twin)
    assert (twin.status, twin.closure_reason, twin.duplicate_of_id) == (
        "closed",
        "no_trace",
        None,
    )


def test_only_a_carried_out_merge_can_be_undone(caseworker, supervisor, case, twin) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    with pytest.raises(MatchDecisionError, match="carried out"):
        decisions.undo_same(supervisor, proposal, "never mind")


# --- who reaches a duplicate -------------------------------------------------------------------


def test_whoever_works_on_the_kept_case_reaches_its_duplicates(
    caseworker, other_caseworker, supervisor, case
) -> None:
    stranger = make_user("sara", Role.CASEWORKER, "Sara")
    theirs = make_case(other_caseworker)
    assert not can_work_on(caseworker, theirs)

    proposal = decisions.propose_same(supervisor, theirs, case, "Same man")
    second = make_user("hassan2", Role.SUPERVISOR, "Hassan")
    _approve(second, proposal)

    theirs = _reload(theirs)
    assert can_work_on(caseworker, theirs)  # owns the kept case
    assert can_see_contacts(caseworker, theirs)
    assert can_work_on(other_caseworker, theirs)  # still owns the duplicate
    assert not can_work_on(other_caseworker, _reload(case))  # but not the kept case
    assert not can_work_on(stranger, theirs)
    assert not can_see_contacts(stranger, theirs)
    # Duplicates are reached from the kept case, not listed among one's own cases.
    listed = db.session.scalars(visible_cases(caseworker, select(Case.id))).all()
    assert theirs.id not in listed

    decisions.undo_same(second, proposal, "Not him")
    assert not can_work_on(caseworker, _reload(theirs))


def test_a_colleague_the_kept_case_is_shared_with_reaches_the_duplicate_but_not_contacts(
    caseworker, other_caseworker, supervisor, second_supervisor, case, twin
) -> None:
    case_services.share_case(caseworker, case, other_caseworker)
    _approve(second_supervisor, decisions.propose_same(supervisor, twin, case, "Same man"))

    twin = _reload(twin)
    assert can_work_on(other_caseworker, twin)
    assert not can_see_contacts(other_caseworker, twin)


def test_merges_chain_to_the_last_kept_case(
    caseworker, other_caseworker, supervisor, second_supervisor
) -> None:
    first = make_case(other_caseworker)
    middle = make_case(other_caseworker)
    last = make_case(caseworker)
    _approve(second_supervisor, decisions.propose_same(supervisor, first, middle, "Same man"))
    _approve(second_supervisor, decisions.propose_same(supervisor, middle, last, "Same man"))

    assert can_work_on(caseworker, _reload(first))
    assert can_work_on(caseworker, _reload(middle))
