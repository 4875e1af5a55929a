"""The printable case summary: same access as the case page, marked with who printed it and when."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape

import pytest

from cases.casework import views
from cases.casework.services import add_note, change_status

PRINTED_AT = datetime(2025, 3, 1, 9, 30)  # naive UTC, like every stored time: 12:30 in Baghdad
MARK = re.compile(r"Printed by Zainab on Mar 1, 2025, 12:30:00\sPM — confidential")


def page(response) -> str:  # noqa: ANN001
    return unescape(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(views, "utcnow", lambda: PRINTED_AT)


def test_owner_prints_the_case_file(client, auth, caseworker, case) -> None:
    add_note(caseworker, case, "Called the mother; she has a photo from Izmir.")
    change_status(caseworker, case, "open", "Tracing started with the Red Crescent")
    auth.login(caseworker)

    response = client.get(f"/cases/{case.id}/print")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = page(response)
    # Baghdad time, in the reader's locale (CLDR puts a narrow no-break space before "PM").
    marks = MARK.findall(html)
    assert len(marks) == 2
    body = html[html.index('class="print-summary"') :]
    assert body.index(marks[0]) < body.index(case.reference) < body.rindex(marks[1])
    # Details, family contacts, latest status and the timeline, oldest first.
    assert "محمد عماد جبار كاظم الجنابي" in body
    assert "أم محمد" in body and "+964 770 123 4567" in body
    assert "<strong>Open (tracing)</strong>" in body
    opened = body.index("Case opened.")
    note = body.index("Called the mother; she has a photo from Izmir.")
    status = body.index("Tracing started with the Red Crescent")
    assert opened < note < status
    # Nothing to submit on paper; no script for the CSP to refuse.
    assert "<form" not in body
    assert "<script" not in html


def test_supervisor_prints_any_case_with_their_own_name(client, auth, supervisor, case) -> None:
    auth.login(supervisor)
    response = client.get(f"/cases/{case.id}/print")
    assert response.status_code == 200
    assert page(response).count("Printed by Maryam on ") == 2


def test_another_caseworker_gets_not_found(client, auth, other_caseworker, case) -> None:
    auth.login(other_caseworker)
    response = client.get(f"/cases/{case.id}/print")
    assert response.status_code == 404
    assert case.reference not in page(response)


def test_admin_is_refused(client, auth, admin, case) -> None:
    auth.login(admin)
    response = client.get(f"/cases/{case.id}/print")
    assert response.status_code == 403
    assert case.reference not in page(response)


def test_arabic_printout_is_right_to_left_and_translated(client, auth, caseworker, case) -> None:
    auth.login(caseworker, lang="ar")
    html = page(client.get(f"/cases/{case.id}/print"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "Printed by" not in html
    assert html.count("طبعه Zainab") == 2
    assert "سرّي" in html
    assert "2025" in html


def test_case_page_links_to_the_printout(client, auth, caseworker, case) -> None:
    auth.login(caseworker)
    html = page(client.get(f"/cases/{case.id}"))
    assert f'href="/cases/{case.id}/print"' in html
