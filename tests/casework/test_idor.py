"""Object-level access: a case id belonging to someone else reveals nothing and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.auth.models import User
from cases.casework import services
from cases.casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseNote,
    CaseShare,
    CaseStatus,
    StatusChange,
)
from cases.extensions import db

from ..factories import make_case

FULL_NAME = "محمد عماد جبار كاظم الجنابي"


def _writes(user_id: int) -> dict:
    """What each case POST would change if it were accepted, as form data."""
    return {
        "notes": {"body": "written by an outsider", "kind": "call", "visibility": "internal"},
        "status": {"to_status": "open", "reason": "moved by an outsider", "closure_reason": ""},
        "share": {"user_id": str(user_id)},
        "edit": {"given_name": "Renamed", "sex": "male", "last_contact_channel": ""},
    }


def _count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def _state_of(case: Case) -> dict:
    db.session.expire_all()
    return {
        "status": db.session.get(Case, case.id).status,
        "given_name": db.session.get(Case, case.id).given_name,
        "notes": _count(CaseNote),
        "status_changes": _count(StatusChange),
        "shares": _count(CaseShare),
        "approvals": _count(ApprovalRequest),
    }


def test_another_caseworkers_case_is_a_404(client, auth, other_caseworker, case) -> None:
    auth.login(other_caseworker)
    for url in (f"/cases/{case.id}", f"/cases/{case.id}/edit"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 404, url
        assert case.reference not in body
        assert case.given_name not in body
    # Same page as for an id that does not exist (apart from the id itself in the URL).
    missing = client.get("/cases/999999").get_data(as_text=True)
    existing = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert existing.replace(f"/cases/{case.id}", "/cases/ID") == missing.replace(
        "/cases/999999", "/cases/ID"
    )


@pytest.mark.parametrize("action", ["notes", "status", "share", "edit"])
def test_another_caseworker_cannot_change_the_case(
    client, auth, other_caseworker, case, action
) -> None:
    before = _state_of(case)
    auth.login(other_caseworker)

    response = client.post(f"/cases/{case.id}/{action}", data=_writes(other_caseworker.id)[action])

    assert response.status_code == 404
    assert _state_of(case) == before


@pytest.mark.parametrize("action", ["notes", "status", "share", "edit"])
def test_the_same_posts_work_for_the_owner(
    client, auth, caseworker, other_caseworker, case, action
) -> None:
    """Control for the test above: the payloads are valid, so only access stopped them."""
    before = _state_of(case)
    auth.login(caseworker)

    response = client.post(f"/cases/{case.id}/{action}", data=_writes(other_caseworker.id)[action])

    assert response.status_code == 302
    assert _state_of(case) != before


def test_sharing_lets_the_colleague_in(client, auth, caseworker, other_caseworker, case) -> None:
    auth.login(caseworker)
    response = client.post(f"/cases/{case.id}/share", data={"user_id": str(other_caseworker.id)})
    assert response.status_code == 302
    auth.logout()

    auth.login(other_caseworker)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert FULL_NAME in page.get_data(as_text=True)
    assert case.reference in client.get("/cases/").get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/notes", data=_writes(0)["notes"])
    assert response.status_code == 302
    assert _count(CaseNote) == 1


def test_a_supervisor_sees_every_case(
    client, auth, supervisor, caseworker, other_caseworker
) -> None:
    cases = [make_case(caseworker), make_case(other_caseworker, given_name="سعد")]
    auth.login(supervisor)
    listing = client.get("/cases/").get_data(as_text=True)
    for case in cases:
        assert case.reference in listing
        assert client.get(f"/cases/{case.id}").status_code == 200


@pytest.mark.parametrize("query", [None, "محمد", "Mohammed", "الجنابي"])
def test_case_list_leaves_out_other_caseworkers_cases(
    client, auth, caseworker, other_caseworker, case, query
) -> None:
    own = make_case(other_caseworker, given_name="محمد", laqab="الجنابي")
    params = {"q": query} if query else {}

    auth.login(caseworker)
    assert case.reference in client.get("/cases/", query_string=params).get_data(as_text=True)
    auth.logout()

    auth.login(other_caseworker)
    listing = client.get("/cases/", query_string=params).get_data(as_text=True)
    assert case.reference not in listing
    if query != "Mohammed":  # his own case has no Latin spelling
        assert own.reference in listing


def test_only_a_supervisor_can_give_a_case_to_someone_else(
    client, auth, caseworker, other_caseworker, supervisor, case
) -> None:
    handover = {
        "assign-owner_id": str(other_caseworker.id),
        "assign-reason": "Ali knows the family",
    }
    auth.login(caseworker)
    assert client.post(f"/cases/{case.id}/assign", data=handover).status_code == 403
    db.session.expire_all()
    assert db.session.get(Case, case.id).owner_id == caseworker.id
    auth.logout()

    auth.login(supervisor)
    assert client.post(f"/cases/{case.id}/assign", data=handover).status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).owner_id == other_caseworker.id


def _closure_request(actor: User, case: Case) -> ApprovalRequest:
    return services.change_status(actor, case, "closed", "The family asked us to stop", "duplicate")


def test_a_caseworker_cannot_approve(client, auth, caseworker, case) -> None:
    approval = _closure_request(caseworker, case)
    auth.login(caseworker)

    response = client.post(f"/oversight/approvals/{approval.id}/approve")

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, approval.id).state == ApprovalState.PENDING
    assert db.session.get(Case, case.id).status == CaseStatus.NEW


def test_a_supervisor_cannot_approve_their_own_request(client, auth, supervisor, case) -> None:
    approval = _closure_request(supervisor, case)
    auth.login(supervisor)

    response = client.post(f"/oversight/approvals/{approval.id}/approve", follow_redirects=True)

    assert response.status_code == 200
    assert "Another supervisor must decide on a request you made." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, approval.id).state == ApprovalState.PENDING
    assert db.session.get(Case, case.id).status == CaseStatus.NEW


def test_a_second_supervisor_can_approve(client, auth, supervisor, second_supervisor, case) -> None:
    """Control for the two tests above: the same request goes through with four eyes."""
    approval = _closure_request(supervisor, case)
    auth.login(second_supervisor)

    response = client.post(f"/oversight/approvals/{approval.id}/approve")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, approval.id).state == ApprovalState.APPROVED
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED


def test_another_caseworker_cannot_withdraw_a_request(
    client, auth, caseworker, other_caseworker, case
) -> None:
    approval = _closure_request(caseworker, case)
    auth.login(other_caseworker)

    response = client.post(f"/cases/{case.id}/approvals/{approval.id}/withdraw")

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, approval.id).state == ApprovalState.PENDING


def test_family_contacts_are_for_the_owner_and_supervisors_only(
    client, auth, caseworker, other_caseworker, supervisor, case
) -> None:
    from cases.casework import services as casework_services

    casework_services.share_case(caseworker, case, other_caseworker)
    phone_shown = "+964 770 123 4567"
    auth.login(other_caseworker)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert phone_shown not in page and "أم محمد" not in page
    assert "visible to the case owner and supervisors" in page
    assert "أم محمد" not in client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert phone_shown not in client.get(f"/cases/{case.id}/print").get_data(as_text=True)
    # Saving the edit form without the contacts keeps them.
    details = casework_services.details_of(case)
    details.contacts = []
    casework_services.update_case(other_caseworker, case, details)
    db.session.expire_all()
    assert [c.name for c in db.session.get(Case, case.id).contacts] == ["أم محمد"]
    auth.logout()
    for user in (caseworker, supervisor):
        auth.login(user)
        assert phone_shown in client.get(f"/cases/{case.id}").get_data(as_text=True)
        auth.logout()
