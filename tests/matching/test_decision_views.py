"""Possible duplicates on the case page, decisions taken there, on the intake page and on the
approvals page, over HTTP: what people see, and what the database holds afterwards."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from cases.auth.models import Role
from cases.casework.models import Case
from cases.extensions import db
from cases.inquiries import services as inquiry_services
from cases.matching import decisions
from cases.matching.models import MatchDecision

from ..factories import make_case, make_user
from ..inquiries.factories import make_inquiry


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(MatchDecision))


def _reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


@pytest.fixture
def twin(caseworker) -> Case:
    return make_case(caseworker)


def test_the_case_page_lists_possible_duplicates_with_both_actions(
    client, auth, caseworker, case, twin
) -> None:
    other_man = make_case(
        caseworker,
        given_name="زيد",
        father_name="خالد",
        grandfather_name="نوري",
        great_grandfather_name=None,
        laqab="التميمي",
        mother_name="سعاد",
        latin_names=[],
        contacts=[],
    )
    auth.login(caseworker)

    body = page(client.get(f"/cases/{case.id}"))

    assert "Possible duplicates" in body
    assert twin.reference in body
    assert other_man.reference not in body
    assert f'action="/matching/cases/{case.id}/{twin.id}/not-same"' in body
    assert f'action="/matching/cases/{case.id}/{twin.id}/same"' in body


def test_not_the_same_person_from_the_case_page(client, auth, caseworker, case, twin) -> None:
    auth.login(caseworker)

    response = client.post(
        f"/matching/cases/{case.id}/{twin.id}/not-same", data={"comment": "Other mother"}
    )

    assert response.status_code == 302
    assert decisions.not_same_case_ids(case_id=case.id) == {twin.id}
    body = page(client.get(f"/cases/{case.id}"))
    assert f'/matching/cases/{case.id}/{twin.id}/not-same"' not in body  # no longer suggested
    assert "Marked as not the same person (1)" in body
    assert "was marked as not the same person as this one" in body  # on the timeline
    assert "Other mother" in body
    twin_page = page(client.get(f"/cases/{twin.id}"))
    assert "was marked as not the same person as this one" in twin_page
    assert f'/matching/cases/{twin.id}/{case.id}/not-same"' not in twin_page


def test_undo_not_the_same_person(client, auth, caseworker, case, twin) -> None:
    decision = decisions.mark_not_same(caseworker, case, other_case=twin)
    auth.login(caseworker)

    response = client.post(f"/matching/decisions/{decision.id}/undo", data={"reason": ""})

    assert response.status_code == 302
    assert decisions.not_same_case_ids(case_id=case.id) == set()
    body = page(client.get(f"/cases/{case.id}"))
    assert "may be suggested again" in body
    assert f'/matching/cases/{case.id}/{twin.id}/not-same"' in body


def test_propose_approve_and_see_the_merge_on_both_cases(
    client, auth, caseworker, supervisor, case, twin
) -> None:
    auth.login(caseworker)
    response = client.post(
        f"/matching/cases/{case.id}/{twin.id}/same",
        data={"keep": "this", "reason": "Same mother, same phone"},
    )
    assert response.status_code == 302
    [proposal] = db.session.scalars(select(MatchDecision)).all()
    assert (proposal.state, proposal.duplicate_id) == ("pending", twin.id)
    body = page(client.get(f"/cases/{case.id}"))
    assert "Merge waiting for a supervisor" in body
    auth.logout()

    auth.login(supervisor)
    approvals = page(client.get("/oversight/approvals"))
    assert "Merges to approve" in approvals
    assert f"/oversight/merges/{proposal.id}/approve" in approvals
    assert "Same mother, same phone" in approvals
    response = client.post(
        f"/oversight/merges/{proposal.id}/approve", data={"comment": "Checked the passports"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/oversight/approvals#merges")
    auth.logout()

    twin = _reload(twin)
    assert (twin.status, twin.closure_reason, twin.duplicate_of_id) == (
        "closed",
        "duplicate",
        case.id,
    )
    auth.login(caseworker)
    kept = page(client.get(f"/cases/{case.id}"))
    assert "Merged duplicates" in kept
    assert f'href="/cases/{twin.id}"' in kept
    assert "was merged into this one" in kept
    duplicate = page(client.get(f"/cases/{twin.id}"))
    assert "Duplicate of" in duplicate
    assert f'href="/cases/{case.id}"' in duplicate
    assert "merged into case" in duplicate  # its timeline
    assert "Possible duplicates" not in duplicate
    assert f'action="/cases/{twin.id}/status"' not in duplicate


def test_the_kept_case_keeps_by_default_the_older_file(client, auth, caseworker, case, twin):
    auth.login(caseworker)
    body = page(client.get(f"/cases/{twin.id}"))
    # On the newer file, "keep the other case" (the older one) is the preselected choice.
    assert 'name="keep" value="other" checked' in body


def test_the_survivors_owner_reaches_the_duplicate_and_its_inquiry_others_do_not(
    client, auth, caseworker, other_caseworker, supervisor, second_supervisor, case
) -> None:
    stranger = make_user("sara", Role.CASEWORKER, "Sara")
    inquiry, _ = make_inquiry()
    theirs = inquiry_services.create_case_from_inquiry(other_caseworker, inquiry)
    proposal = decisions.propose_same(supervisor, theirs, case, "Same man")
    decisions.decide_same(second_supervisor, proposal, True, "")

    auth.login(caseworker)
    assert client.get(f"/cases/{theirs.id}").status_code == 200
    assert client.get(f"/intake/{inquiry.id}").status_code == 200
    kept = page(client.get(f"/cases/{case.id}"))
    assert f'href="/intake/{inquiry.id}"' in kept
    auth.logout()

    auth.login(stranger)
    assert client.get(f"/cases/{theirs.id}").status_code == 404
    assert client.get(f"/intake/{inquiry.id}").status_code == 404


def test_the_proposer_cannot_approve_on_the_approvals_page(
    client, auth, supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(supervisor, twin, case, "Same man")
    auth.login(supervisor)

    approvals = page(client.get("/oversight/approvals"))
    assert f"/oversight/merges/{proposal.id}/approve" not in approvals
    assert "Another supervisor must decide on a request you made." in approvals

    response = client.post(f"/oversight/merges/{proposal.id}/approve", data={"comment": "ok"})
    assert response.status_code == 400
    assert "Another supervisor must decide" in page(response)
    assert _reload(twin).duplicate_of_id is None


def test_reject_without_a_comment_is_refused_with_a_message(
    client, auth, caseworker, supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    auth.login(supervisor)

    response = client.post(f"/oversight/merges/{proposal.id}/reject", data={"comment": ""})
    assert response.status_code == 400
    assert "Say why you reject the request." in page(response)
    db.session.expire_all()
    assert db.session.get(MatchDecision, proposal.id).state == "pending"

    response = client.post(
        f"/oversight/merges/{proposal.id}/reject", data={"comment": "Different birth years"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MatchDecision, proposal.id).state == "rejected"
    assert "Different birth years" in page(client.get(f"/cases/{twin.id}"))


def test_a_refused_proposal_keeps_what_was_typed(client, auth, caseworker, case, twin) -> None:
    from cases.casework import services as case_services

    case_services.change_status(caseworker, twin, "closed", "Family gave up", "family_withdrew")
    auth.login(caseworker)

    response = client.post(
        f"/matching/cases/{case.id}/{twin.id}/same",
        data={"keep": "this", "reason": "Both files name the same travel agent"},
    )

    assert response.status_code == 400
    body = page(response)
    assert "decide or withdraw it first" in body
    assert "Both files name the same travel agent" in body
    assert _count() == 0


def test_a_proposal_without_a_reason_says_so(client, auth, caseworker, case, twin) -> None:
    auth.login(caseworker)

    response = client.post(
        f"/matching/cases/{case.id}/{twin.id}/same", data={"keep": "other", "reason": ""}
    )

    assert response.status_code == 400
    assert "Say why you believe they are the same person." in page(response)
    assert _count() == 0


def test_undo_a_merge_from_the_kept_case(
    client, auth, caseworker, supervisor, second_supervisor, case, twin
) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    decisions.decide_same(supervisor, proposal, True, "")
    auth.login(caseworker)
    assert "Undo the merge" not in page(client.get(f"/cases/{case.id}"))
    response = client.post(f"/matching/decisions/{proposal.id}/undo", data={"reason": "x"})
    assert response.status_code == 400
    assert _reload(twin).duplicate_of_id == case.id
    auth.logout()

    auth.login(second_supervisor)
    assert "Undo the merge" in page(client.get(f"/cases/{case.id}"))
    response = client.post(
        f"/matching/decisions/{proposal.id}/undo", data={"reason": "Two cousins"}
    )
    assert response.status_code == 302
    twin = _reload(twin)
    assert (twin.status, twin.duplicate_of_id) == ("new", None)
    assert "The merge of case" in page(client.get(f"/cases/{case.id}"))


def test_withdraw_a_proposal(client, auth, caseworker, case, twin) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    auth.login(caseworker)

    response = client.post(f"/matching/decisions/{proposal.id}/withdraw")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MatchDecision, proposal.id).state == "withdrawn"


# --- the intake page ---------------------------------------------------------------------------


def _case_like_the_inquiry(owner) -> Case:
    return make_case(
        owner,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        great_grandfather_name=None,
        laqab="الخفاجي",
        mother_name="زينب علي حسين",
        age=23,
        latin_names=[],
    )


def test_not_the_same_person_on_the_intake_page(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    similar = _case_like_the_inquiry(caseworker)
    auth.login(caseworker)
    action = f'action="/matching/inquiries/{inquiry.id}/{similar.id}/not-same"'
    assert action in page(client.get(f"/intake/{inquiry.id}"))

    response = client.post(
        f"/matching/inquiries/{inquiry.id}/{similar.id}/not-same", data={"comment": ""}
    )

    assert response.status_code == 302
    assert decisions.not_same_case_ids(inquiry_id=inquiry.id) == {similar.id}
    body = page(client.get(f"/intake/{inquiry.id}"))
    assert action not in body
    assert f'href="/cases/{similar.id}"' not in body  # no longer suggested
    assert "marked as not the one in this case" in page(client.get(f"/cases/{similar.id}"))


def test_marking_an_inquiry_twice_is_refused_on_the_intake_page(client, auth, caseworker) -> None:
    inquiry, _ = make_inquiry()
    similar = _case_like_the_inquiry(caseworker)
    decisions.mark_not_same(caseworker, similar, inquiry=inquiry)
    auth.login(caseworker)

    response = client.post(
        f"/matching/inquiries/{inquiry.id}/{similar.id}/not-same", data={"comment": "again"}
    )

    assert response.status_code == 400
    assert "already marked as not the same person" in page(response)
    assert _count() == 1


# --- object-level access ---------------------------------------------------------------------


def test_another_caseworkers_cases_are_404_for_every_decision(
    client, auth, caseworker, other_caseworker, supervisor, case, twin
) -> None:
    theirs = make_case(other_caseworker)
    inquiry, _ = make_inquiry()
    third = make_case(caseworker)
    not_same = decisions.mark_not_same(caseworker, case, other_case=third)
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    auth.login(other_caseworker)
    before = _count()

    posts = [
        (f"/matching/cases/{case.id}/{twin.id}/not-same", {"comment": ""}),
        (f"/matching/cases/{theirs.id}/{case.id}/not-same", {"comment": ""}),
        (f"/matching/cases/{theirs.id}/{case.id}/same", {"keep": "this", "reason": "x"}),
        (f"/matching/cases/{case.id}/{theirs.id}/same", {"keep": "other", "reason": "x"}),
        (f"/matching/inquiries/{inquiry.id}/{case.id}/not-same", {"comment": ""}),
        (f"/matching/decisions/{not_same.id}/undo", {"reason": "x"}),
        (f"/matching/decisions/{proposal.id}/withdraw", {}),
        (f"/matching/decisions/{proposal.id}/undo", {"reason": "x"}),
        (f"/matching/cases/{theirs.id}/{theirs.id}/not-same", {"comment": ""}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 404, url
    assert _count() == before
    db.session.expire_all()
    assert db.session.get(MatchDecision, proposal.id).state == "pending"
    assert db.session.get(MatchDecision, not_same.id).state == "active"


def test_caseworkers_cannot_reach_the_merge_decision(client, auth, caseworker, case, twin) -> None:
    proposal = decisions.propose_same(caseworker, twin, case, "Same man")
    auth.login(caseworker)

    response = client.post(f"/oversight/merges/{proposal.id}/approve", data={"comment": ""})

    assert response.status_code in (403, 404)
    assert _reload(twin).duplicate_of_id is None


def test_a_not_same_decision_is_not_a_merge_to_decide(
    client, auth, caseworker, supervisor, case, twin
) -> None:
    decision = decisions.mark_not_same(caseworker, case, other_case=twin)
    auth.login(supervisor)

    response = client.post(f"/oversight/merges/{decision.id}/approve", data={"comment": ""})

    assert response.status_code == 404
