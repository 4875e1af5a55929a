"""Families' rights end to end: the public pages, the supervisor's approvals page, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.casework import services as casework
from cases.casework.models import Case
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Alert, DataRequest, Inquiry, InquiryState
from cases.retention import services as retention
from cases.retention.models import DestructionRecord

from ..factories import PASSWORD
from ..inquiries.factories import make_inquiry
from .factories import linked_inquiry, marked_case, markers, text_everywhere


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


@pytest.fixture
def family(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser: the family's phone, apart from the supervisor's session."""
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["lang"] = "en"
    return browser


def _check_in(family: FlaskClient, inquiry: Inquiry, secret: str) -> None:
    response = family.post("/check", data={"reference": inquiry.reference, "secret": secret})
    assert response.status_code == 302


def _only_request() -> DataRequest:
    return db.session.scalars(select(DataRequest)).one()


def _decide(client: FlaskClient, request: DataRequest, decision: str, **data) -> object:  # noqa: ANN003
    return client.post(f"/oversight/data-requests/{request.id}/{decision}", data=data)


# --- access --------------------------------------------------------------------------------


def test_access_request_opens_the_what_we_hold_page(
    app, client, auth, family, caseworker, supervisor
) -> None:
    case = marked_case(caseworker, 1)
    inquiry, secret = linked_inquiry(caseworker, case, 2)
    casework.add_note(caseworker, case, "We called the ICRC in Rostov.", visibility="shareable")
    casework.add_note(caseworker, case, "Informant: the cousin in Erbil", visibility="internal")
    other, _ = make_inquiry(inquirer_name="أم جاسم الأخرى")
    _check_in(family, inquiry, secret)
    assert "Ask what information we hold about you" in _page(family.get("/check/result"))
    assert family.get("/check/held").status_code == 302  # not before a supervisor agrees

    assert family.post("/check/access").status_code == 302
    result = _page(family.get("/check/result"))
    assert "To see what we hold about you" in result and "waiting for a supervisor" in result

    auth.login(supervisor)
    approvals = _page(client.get("/oversight/approvals"))
    assert "The family asked what information we hold about them." in approvals
    assert _decide(client, _only_request(), "accept", comment="").status_code == 302
    decided = _only_request()
    assert (decided.state, decided.decided_by_id) == ("accepted", supervisor.id)
    assert decided.decided_at is not None

    result = _page(family.get("/check/result"))
    assert "See what we hold about you" in result and "accepted" in result
    held = family.get("/check/held")
    assert held.status_code == 200
    page = _page(held)
    for expected in (
        markers(2)["inquirer"],
        "+964 750 555 0322",
        markers(2)["update"],
        "حيدر",
        "We called the ICRC in Rostov.",
        "2026-11-v1",
    ):
        assert expected in page, expected
    # Never internal notes, the case file's own data or another family's.
    for hidden in ("Informant", markers(1)["contact"], markers(1)["document"], "أم جاسم"):
        assert hidden not in page, hidden
    assert other.id != inquiry.id
    timeline = _page(client.get(f"/cases/{case.id}"))
    assert "Decision on a family's request" in timeline

    # The grant ends: whoever holds the reference and code years later sees nothing.
    decided.decided_at -= timedelta(days=app.config["ACCESS_GRANT_DAYS"] + 1)
    db.session.commit()
    assert family.get("/check/held").status_code == 302
    assert "See what we hold about you" not in _page(family.get("/check/result"))


# --- correction ----------------------------------------------------------------------------


def test_correction_goes_to_the_case_owner(
    app, client, auth, family, caseworker, supervisor
) -> None:
    case = marked_case(caseworker, 1)
    inquiry, secret = linked_inquiry(caseworker, case, 1)
    _check_in(family, inquiry, secret)
    empty = family.post("/check/correct", data={"what_is_wrong": "His mother's name"})
    assert empty.status_code == 400
    assert "His mother&#39;s name" in _page(empty)  # what they typed stays
    assert db.session.scalar(select(func.count(DataRequest.id))) == 0

    sent = family.post(
        "/check/correct",
        data={"what_is_wrong": "Mother's name is wrong", "what_it_should_be": "نرجس حميد جاسم"},
    )
    assert sent.status_code == 302

    auth.login(supervisor)
    approvals = _page(client.get("/oversight/approvals"))
    assert "The family asks for a correction." in approvals
    assert "نرجس حميد جاسم" in approvals
    request = _only_request()
    declined = _decide(client, request, "decline", comment="")
    assert declined.status_code == 400 and "Say why you decline" in _page(declined)
    _decide(client, request, "accept", comment="Checked with the mother by phone")

    alerts = db.session.scalars(select(Alert).filter_by(case_id=case.id)).all()
    assert "correction_accepted" in [(a.kind) for a in alerts]
    assert {a.user_id for a in alerts if a.kind == "correction_accepted"} == {caseworker.id}
    page = _page(client.get(f"/cases/{case.id}"))
    assert "Please correct the case file as the family asks" in page
    assert "Checked with the mother by phone" in page
    assert "accepted" in _page(family.get("/check/result"))


# --- deletion ------------------------------------------------------------------------------


def test_deletion_needs_the_password_and_then_erases(
    app, client, auth, family, caseworker, supervisor
) -> None:
    case = marked_case(caseworker, 1)
    inquiry, secret = linked_inquiry(caseworker, case, 2)
    _check_in(family, inquiry, secret)
    assert family.post("/check/delete").status_code == 302
    auth.login(supervisor)
    request = _only_request()
    assert "Your password (to delete)" in _page(client.get("/oversight/approvals"))

    wrong = _decide(client, request, "accept", comment="Asked by phone", password="not it")
    assert wrong.status_code == 400
    page = _page(wrong)
    assert "This is not your password. Nothing was deleted." in page
    assert "Asked by phone" in page  # the comment typed is kept
    missing = _decide(client, request, "accept", comment="Asked by phone")
    assert missing.status_code == 400
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).inquirer_name == markers(2)["inquirer"]
    assert _only_request().state == "pending"
    assert db.session.scalar(select(func.count(DestructionRecord.id))) == 0

    done = _decide(client, request, "accept", comment="Asked by phone", password=PASSWORD)
    assert done.status_code == 302
    db.session.expire_all()
    erased = db.session.get(Inquiry, inquiry.id)
    assert erased.state == InquiryState.ERASED
    everything = text_everywhere()
    for key in ("inquirer", "inquirer_phone", "update"):
        assert markers(2)[key] not in everything, key
    assert markers(1)["given_name"] in everything  # the case was not asked for
    assert _only_request().state == "accepted"

    result = _page(family.get("/check/result"))
    assert "Your information was deleted as you asked." in result
    assert "Add information" not in result
    assert family.post("/check/add", data={"body": "more"}).status_code == 302
    assert markers(2)["inquirer"] not in _page(client.get(f"/cases/{case.id}"))


def test_deletion_of_the_case_too(app, client, auth, family, caseworker, supervisor) -> None:
    case = marked_case(caseworker, 1)
    inquiry, secret = linked_inquiry(caseworker, case, 1)
    _check_in(family, inquiry, secret)
    family.post("/check/delete", data={"include_case": "y"})
    auth.login(supervisor)
    approvals = _page(client.get("/oversight/approvals"))
    assert "They also ask to delete the file about their relative." in approvals
    assert "anonymises their relative" in approvals
    _decide(client, _only_request(), "accept", comment="", password=PASSWORD)
    db.session.expire_all()
    assert db.session.get(Case, case.id).anonymised_at is not None
    assert not [w for w in markers(1).values() if w in text_everywhere()]


def test_a_legal_hold_stops_the_deletion_and_says_why(
    app, client, auth, family, caseworker, supervisor
) -> None:
    case = marked_case(caseworker, 1)
    inquiry, secret = linked_inquiry(caseworker, case, 1)
    retention.set_legal_hold(supervisor, case, True, "Court order 3/2026")
    _check_in(family, inquiry, secret)
    family.post("/check/delete")
    auth.login(supervisor)
    approvals = _page(client.get("/oversight/approvals"))
    assert "The case is on legal hold: nothing can be deleted" in approvals
    refused = _decide(client, _only_request(), "accept", comment="", password=PASSWORD)
    assert refused.status_code == 400
    assert "legal hold" in _page(refused)
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).inquirer_name == markers(1)["inquirer"]
    assert _only_request().state == "pending"
    # Declining stays possible.
    assert _decide(client, _only_request(), "decline", comment="Court order").status_code == 302


def test_requests_of_an_unlinked_inquiry_work_too(app, client, auth, family, supervisor) -> None:
    inquiry, secret = make_inquiry(inquirer_name=markers(4)["inquirer"])
    _check_in(family, inquiry, secret)
    family.post("/check/delete")
    auth.login(supervisor)
    _decide(client, _only_request(), "accept", comment="", password=PASSWORD)
    assert markers(4)["inquirer"] not in text_everywhere()
    assert inquiries.intake_queue() == []
    assert "Your information was deleted as you asked." in _page(family.get("/check/result"))


def test_password_guesses_are_limited_but_decisions_are_not(
    app, client, auth, caseworker, supervisor
) -> None:
    inquiry, _ = make_inquiry()
    request = inquiries.request_about_data(inquiry, inquiries.RequestKind.DELETION)
    auth.login(supervisor)
    for _ in range(12):  # ordinary decisions do not use up the budget
        other, _secret = make_inquiry()
        access = inquiries.request_about_data(other, inquiries.RequestKind.ACCESS)
        assert _decide(client, access, "accept", comment="").status_code == 302
    codes = [
        _decide(client, request, "accept", comment="", password="guess").status_code
        for _ in range(11)
    ]
    assert codes[:10] == [400] * 10 and codes[10] == 429
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).state != InquiryState.ERASED
