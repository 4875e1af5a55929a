"""Legal hold from the case page, and pages that show anonymised cases."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.audit.models import AuditEvent
from cases.casework.models import Case
from cases.extensions import db
from cases.retention import services as retention

from .factories import close, linked_inquiry, marked_case, markers


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def _hold(client, case: Case, action: str, reason: str):  # noqa: ANN001, ANN202
    return client.post(
        f"/oversight/retention/cases/{case.id}/legal-hold/{action}", data={"hold-reason": reason}
    )


def test_supervisor_sets_and_lifts_a_legal_hold(client, auth, supervisor, case) -> None:
    auth.login(supervisor)
    page = _page(client.get(f"/cases/{case.id}"))
    assert "Put on legal hold" in page
    assert _hold(client, case, "hold", "").status_code == 302
    db.session.expire_all()
    assert not db.session.get(Case, case.id).legal_hold

    response = _hold(client, case, "hold", "Court order 41/2026 from the Karkh court")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).legal_hold
    page = _page(client.get(f"/cases/{case.id}"))
    assert "This case is on legal hold: it will not be purged or deleted." in page
    assert "Court order 41/2026 from the Karkh court" in page
    assert "Lift the hold" in page
    assert "Legal hold set." in page  # on the timeline

    _hold(client, case, "release", "The court released the file")
    db.session.expire_all()
    assert not db.session.get(Case, case.id).legal_hold
    assert "Legal hold lifted." in _page(client.get(f"/cases/{case.id}"))
    actions = db.session.scalars(select(AuditEvent.action).filter_by(action="legal_hold")).all()
    assert len(actions) == 2


def test_caseworkers_see_the_hold_but_cannot_change_it(
    client, auth, caseworker, supervisor, case
) -> None:
    retention.set_legal_hold(supervisor, case, True, "Investigation")
    auth.login(caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert "This case is on legal hold" in page and "Lift the hold" not in page
    assert _hold(client, case, "release", "I want it gone").status_code == 403
    db.session.expire_all()
    assert db.session.get(Case, case.id).legal_hold


def test_pages_cope_with_an_anonymised_case(client, auth, caseworker, supervisor) -> None:
    case = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    linked_inquiry(caseworker, case, 1)
    retention.purge()
    auth.login(caseworker)
    listing = client.get("/cases/?status=closed")
    assert listing.status_code == 200
    assert "[anonymised]" in _page(listing) and case.reference in _page(listing)
    shown = client.get(f"/cases/{case.id}")
    assert shown.status_code == 200
    page = _page(shown)
    assert "[anonymised]" in page and "Personal data removed" in page
    assert markers(1)["given_name"] not in page
    assert client.get(f"/cases/{case.id}/print").status_code == 200
    auth.logout()
    auth.login(supervisor)
    assert client.get("/oversight/").status_code == 200
    assert client.get("/oversight/approvals").status_code == 200


def test_nothing_can_be_written_back_into_an_anonymised_case(
    client, auth, caseworker, supervisor
) -> None:
    from cases.casework.models import CaseNote

    case = close(caseworker, supervisor, marked_case(caseworker, 2), "duplicate", 100)
    retention.purge()
    auth.login(caseworker)
    page = _page(client.get(f"/cases/{case.id}"))
    assert "Edit details" not in page and "Add note" not in page
    assert "Add the file" not in page

    edit = client.get(f"/cases/{case.id}/edit", follow_redirects=True)
    assert "was anonymised under the retention rules and cannot be changed" in _page(edit)
    notes_before = db.session.scalar(select(func.count(CaseNote.id)).filter_by(case_id=case.id))
    client.post(f"/cases/{case.id}/notes", data={"body": "Brother of Ahmed Karim", "kind": "call"})
    client.post(
        f"/cases/{case.id}/edit",
        data={"given_name": "Ahmed", "sex": "male", "governorate_pcode": "IQG07"},
    )
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert stored.given_name != "Ahmed"
    after = db.session.scalar(select(func.count(CaseNote.id)).filter_by(case_id=case.id))
    assert after == notes_before
