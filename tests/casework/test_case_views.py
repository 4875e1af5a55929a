"""Case pages over HTTP: what a caseworker or supervisor sees, and what the database holds."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from cases.casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseNote,
    CaseStatus,
    StatusChange,
)
from cases.extensions import db

from ..factories import make_case


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def case_count() -> int:
    return db.session.scalar(db.select(db.func.count(Case.id)))


def only_case() -> Case:
    db.session.expire_all()
    [case] = db.session.scalars(db.select(Case)).all()
    return case


def browser_form(**fields) -> dict:
    """The case form as a browser posts it: every input present, selects at their defaults."""
    data = {
        "given_name": "",
        "father_name": "",
        "grandfather_name": "",
        "great_grandfather_name": "",
        "laqab": "",
        "name_as_entered": "",
        "latin_names": "",
        "aliases": "",
        "mother_name": "",
        "sex": "male",
        "birth_year": "",
        "birth_month": "",
        "birth_day": "",
        "age": "",
        "governorate_pcode": "",
        "district_pcode": "",
        "locality": "",
        "phones": "",
        "departure_date": "",
        "destination_country": "",
        "route": "",
        "travel_company": "",
        "last_contact_date": "",
        "last_contact_channel": "",
        "last_known_location": "",
        "circumstances": "",
        "distinguishing_marks": "",
    }
    for i in range(2):
        data |= {f"documents-{i}-doc_type": "national_id", f"documents-{i}-number": ""}
        data |= {
            f"contacts-{i}-name": "",
            f"contacts-{i}-relationship": "",
            f"contacts-{i}-phone": "",
            f"contacts-{i}-preferred_language": "ar",
        }
    return data | fields


FULL_CASE = {
    "given_name": "محمد",
    "father_name": "عماد",
    "grandfather_name": "جبار",
    "great_grandfather_name": "كاظم",
    "laqab": "الجنابي",
    "name_as_entered": "محمد عماد جبار الجنابي",
    "latin_names": "Mohammed Imad Jabbar\r\n\r\nMuhammad Emad  ",
    "aliases": "ابو علي",
    "mother_name": "فاطمة حسين علي",
    "sex": "male",
    "birth_year": "1999",
    "birth_month": "4",
    "birth_day": "12",
    "age_estimated": "y",
    "governorate_pcode": "IQG07",
    "district_pcode": "IQG07Q04",
    "locality": "حي الجمعية",
    "phones": "0770 123 4567\r\n٠٧٨١٢٣٤٥٦٧٨",
    "documents-0-doc_type": "passport",
    "documents-0-number": " A12345678 ",
    "documents-1-doc_type": "military_contract",
    "documents-1-number": "MC-2024-77",
    "departure_date": "2024-01-15",
    "destination_country": "RU",
    "route": "بغداد → إسطنبول → موسكو",
    "travel_company": "شركة النور للسفر",
    "last_contact_date": "2024-03-02",
    "last_contact_channel": "whatsapp",
    "last_known_location": "Rostov-on-Don",
    "circumstances": "Signed a contract in Moscow",
    "distinguishing_marks": "Scar on the left hand",
    "contacts-0-name": "أم محمد",
    "contacts-0-relationship": "الأم",
    "contacts-0-phone": "0771 234 5678",
    "contacts-0-preferred_language": "ar",
    "contacts-1-name": "Ahmed Imad",
    "contacts-1-relationship": "brother",
    "contacts-1-phone": "+7 912 345-67-89",
    "contacts-1-preferred_language": "en",
}


# --- new case form -------------------------------------------------------------------------


def test_new_case_form_in_english(client, auth, caseworker):
    auth.login(caseworker)
    response = client.get("/cases/new")
    assert response.status_code == 200
    text = page(response)
    assert '<html lang="en" dir="ltr">' in text
    assert 'name="given_name"' in text
    assert ">Babil</option>" in text


def test_new_case_form_in_arabic(client, auth, caseworker):
    auth.login(caseworker, lang="ar")
    response = client.get("/cases/new")
    assert response.status_code == 200
    text = page(response)
    assert '<html lang="ar" dir="rtl">' in text
    assert "<h1>حالة جديدة</h1>" in text
    assert ">بابل</option>" in text
    assert '<optgroup label="بابل"><option value="IQG07Q01">' in text


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/cases/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_create_a_full_case(client, auth, caseworker):
    auth.login(caseworker)
    response = client.post("/cases/new", data=browser_form(**FULL_CASE))

    assert response.status_code == 302
    case = only_case()
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.owner_id == caseworker.id
    assert case.status == CaseStatus.NEW
    assert (
        case.given_name,
        case.father_name,
        case.grandfather_name,
        case.great_grandfather_name,
        case.laqab,
    ) == ("محمد", "عماد", "جبار", "كاظم", "الجنابي")
    assert case.name_as_entered == "محمد عماد جبار الجنابي"
    assert case.latin_names == ["Mohammed Imad Jabbar", "Muhammad Emad"]
    assert case.aliases == ["ابو علي"]
    assert case.mother_name == "فاطمة حسين علي"
    assert (case.sex, case.birth_year, case.birth_month, case.birth_day) == ("male", 1999, 4, 12)
    assert case.birth_year_key == 1999
    assert case.age is None
    assert case.age_estimated is True
    assert (case.governorate_pcode, case.district_pcode) == ("IQG07", "IQG07Q04")
    assert case.locality == "حي الجمعية"
    assert [p.e164 for p in case.phones] == ["+9647701234567", "+9647812345678"]
    assert [(d.doc_type, d.number) for d in case.documents] == [
        ("passport", "A12345678"),
        ("military_contract", "MC-2024-77"),
    ]
    assert case.departure_date == date(2024, 1, 15)
    assert case.destination_country == "RU"
    assert case.route == "بغداد → إسطنبول → موسكو"
    assert case.travel_company == "شركة النور للسفر"
    assert case.last_contact_date == date(2024, 3, 2)
    assert case.last_contact_channel == "whatsapp"
    assert case.last_known_location == "Rostov-on-Don"
    assert case.circumstances == "Signed a contract in Moscow"
    assert case.distinguishing_marks == "Scar on the left hand"
    assert [
        (c.name, c.relationship_to_person, c.phone_e164, c.preferred_language)
        for c in case.contacts
    ] == [
        ("أم محمد", "الأم", "+9647712345678", "ar"),
        ("Ahmed Imad", "brother", "+79123456789", "en"),
    ]

    shown = page(client.get(response.headers["Location"]))
    assert case.reference in shown
    assert f"Case {case.reference} created." in shown
    assert "محمد عماد جبار كاظم الجنابي" in shown
    assert "+964 770 123 4567" in shown
    assert "Al-Mussyab" in shown
    assert "Case opened." in shown


def test_minimal_case_takes_the_governorate_from_the_district(client, auth, caseworker):
    auth.login(caseworker)
    response = client.post(
        "/cases/new", data=browser_form(given_name="حيدر", district_pcode="IQG02Q02")
    )
    assert response.status_code == 302
    case = only_case()
    assert (case.governorate_pcode, case.district_pcode) == ("IQG02", "IQG02Q02")
    assert case.phones == [] and case.documents == [] and case.contacts == []


INVALID = [
    pytest.param(
        {"phones": "0770 123 4567\r\n0770abc4567"},
        "phones",
        "“0770abc4567” is not a phone number we can call",
        "0770abc4567",
        id="bad-phone",
    ),
    pytest.param(
        {"contacts-0-name": "أم محمد", "contacts-0-phone": "12345"},
        "contacts-0-phone",
        "This is not a phone number we can call",
        'value="12345"',
        id="bad-contact-phone",
    ),
    pytest.param(
        {"birth_year": "1999", "birth_day": "12"},
        "birth_day",
        "Give the month and year too",
        'name="birth_day" type="number" value="12"',
        id="day-without-month",
    ),
    pytest.param(
        {"birth_year": "1999", "birth_month": "2", "birth_day": "30"},
        "birth_day",
        "This date does not exist",
        'value="30"',
        id="impossible-date",
    ),
    pytest.param(
        {"birth_year": str(date.today().year + 1)},
        "birth_year",
        "The date of birth is in the future",
        f'value="{date.today().year + 1}"',
        id="future-birth-year",
    ),
    pytest.param(
        {"last_contact_date": (date.today() + timedelta(days=3)).isoformat()},
        "last_contact_date",
        "The date of last contact is in the future",
        (date.today() + timedelta(days=3)).isoformat(),
        id="future-last-contact",
    ),
    pytest.param(
        {"governorate_pcode": "IQG02", "district_pcode": "IQG07Q04"},
        "district_pcode",
        "This district is not in the governorate chosen",
        '<option selected value="IQG07Q04">',
        id="district-outside-governorate",
    ),
    pytest.param(
        {"contacts-0-phone": "0771 234 5678"},
        "contacts-0-name",
        "Give the name of the family contact",
        'value="0771 234 5678"',
        id="contact-without-name",
    ),
]


@pytest.mark.parametrize(("fields", "field_id", "message", "kept"), INVALID)
def test_invalid_case_is_shown_again_with_the_error_beside_the_field(
    client, auth, caseworker, fields, field_id, message, kept
):
    auth.login(caseworker)
    response = client.post("/cases/new", data=browser_form(given_name="مصطفى", **fields))

    assert response.status_code == 200
    text = page(response)
    assert "Nothing was saved yet." in text
    error = re.search(rf'<p id="{field_id}-error-1" class="error">([^<]*)</p>', text)
    assert error is not None and message in error.group(1)
    control = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field_id}"[^>]*>', text)
    assert control is not None
    assert f"{field_id}-error-1" in re.search(r'aria-describedby="([^"]*)"', control.group(0))[1]
    assert 'aria-invalid="true"' in control.group(0)
    # The summary links to the field (or, for rows, to the list they are in).
    assert 'class="error-summary"' in text
    # What was typed is still there.
    assert 'name="given_name" required type="text" value="مصطفى"' in text
    assert kept in text
    assert case_count() == 0


def test_missing_given_name_is_refused(client, auth, caseworker):
    auth.login(caseworker)
    response = client.post("/cases/new", data=browser_form(father_name="عماد"))
    assert response.status_code == 200
    text = page(response)
    assert 'id="given_name-error-1"' in text
    assert 'value="عماد"' in text
    assert case_count() == 0


def test_error_page_in_arabic_keeps_direction(client, auth, caseworker):
    auth.login(caseworker, lang="ar")
    response = client.post("/cases/new", data=browser_form(given_name="مصطفى", phones="abc"))
    assert response.status_code == 200
    text = page(response)
    assert '<html lang="ar" dir="rtl">' in text
    assert 'id="phones-error-1"' in text
    assert case_count() == 0


# --- edit ----------------------------------------------------------------------------------


def test_edit_form_is_prefilled(client, auth, caseworker):
    case = make_case(caseworker, phones=["+9647701234567"], aliases=["ابو علي"])
    auth.login(caseworker)
    response = client.get(f"/cases/{case.id}/edit")
    assert response.status_code == 200
    text = page(response)
    assert 'name="given_name" required type="text" value="محمد"' in text
    assert 'name="laqab" type="text" value="الجنابي"' in text
    assert "Mohammed Imad Jabbar</textarea>" in text
    assert "ابو علي</textarea>" in text
    assert "+9647701234567</textarea>" in text
    assert 'name="contacts-0-name" type="text" value="أم محمد"' in text
    assert '<option selected value="IQG07Q04">' in text
    assert 'name="age" type="number" value="24"' in text


def test_edit_saves_changes(client, auth, caseworker, case):
    auth.login(caseworker)
    data = browser_form(
        given_name="حيدر",
        father_name="عماد",
        latin_names="Haider Imad",
        age="30",
        governorate_pcode="IQG02",
        district_pcode="IQG02Q02",
        phones="07809998877",
        **{
            "documents-0-doc_type": "passport",
            "documents-0-number": "B7654321",
            "contacts-0-name": "أبو حيدر",
            "contacts-0-phone": "0780 111 2222",
        },
    )
    response = client.post(f"/cases/{case.id}/edit", data=data)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    case = only_case()
    assert case.arabic_name == "حيدر عماد"
    assert case.latin_names == ["Haider Imad"]
    assert case.age == 30
    assert (case.governorate_pcode, case.district_pcode) == ("IQG02", "IQG02Q02")
    assert [p.e164 for p in case.phones] == ["+9647809998877"]
    assert [(d.doc_type, d.number) for d in case.documents] == [("passport", "B7654321")]
    assert [(c.name, c.phone_e164) for c in case.contacts] == [("أبو حيدر", "+9647801112222")]
    assert "Changes saved." in page(client.get(f"/cases/{case.id}"))


def test_invalid_edit_changes_nothing(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/edit", data=browser_form(given_name="حيدر", phones="not a phone")
    )
    assert response.status_code == 200
    assert 'id="phones-error-1"' in page(response)
    assert only_case().given_name == "محمد"


def test_other_caseworker_cannot_open_or_edit(client, auth, other_caseworker, case):
    auth.login(other_caseworker)
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/edit").status_code == 404
    response = client.post(f"/cases/{case.id}/edit", data=browser_form(given_name="حيدر"))
    assert response.status_code == 404
    assert only_case().given_name == "محمد"


# --- notes and status on the case page -----------------------------------------------------


def test_note_appears_on_the_timeline(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/notes",
        data={
            "body": "Mother says he called from Voronezh",
            "kind": "call",
            "visibility": "internal",
        },
    )
    assert response.status_code == 302
    text = page(client.get(f"/cases/{case.id}"))
    timeline = text[text.index('id="timeline"') :]
    assert "Mother says he called from Voronezh" in timeline
    assert "Note added." in text


def test_correction_appears_next_to_the_original(client, auth, caseworker, case):
    auth.login(caseworker)
    client.post(
        f"/cases/{case.id}/notes",
        data={"body": "Called from Rostov", "kind": "call", "visibility": "internal"},
    )
    original = db.session.scalar(db.select(CaseNote))
    client.post(
        f"/cases/{case.id}/notes",
        data={
            "body": "It was Voronezh",
            "kind": "call",
            "visibility": "internal",
            "corrects_id": str(original.id),
        },
    )
    text = page(client.get(f"/cases/{case.id}"))
    assert "Called from Rostov" in text
    assert "It was Voronezh" in text
    assert "corrects the note of" in text
    bodies = db.session.scalars(db.select(CaseNote.body).order_by(CaseNote.id)).all()
    assert bodies == ["Called from Rostov", "It was Voronezh"]


def test_empty_note_is_refused(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/notes", data={"body": "   ", "kind": "call", "visibility": "internal"}
    )
    assert response.status_code == 400
    assert "cannot be empty" in page(response)
    assert db.session.scalar(db.select(db.func.count(CaseNote.id))) == 0


def test_status_change_appears_on_the_timeline(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/status",
        data={"to_status": "open", "closure_reason": "", "reason": "Tracing request sent to ICRC"},
    )
    assert response.status_code == 302
    assert only_case().status == CaseStatus.OPEN
    text = page(client.get(f"/cases/{case.id}"))
    timeline = text[text.index('id="timeline"') :]
    assert "New → <strong>Open (tracing)</strong>" in timeline
    assert "Tracing request sent to ICRC" in timeline
    assert "Status changed." in text


def test_status_change_without_reason_is_refused(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/status", data={"to_status": "open", "closure_reason": "", "reason": ""}
    )
    assert response.status_code == 400
    assert "Say why the status changes." in page(response)
    assert only_case().status == CaseStatus.NEW


def test_disallowed_status_change_is_refused(client, auth, caseworker, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/status",
        data={"to_status": "located_alive", "closure_reason": "", "reason": "He called"},
    )
    assert response.status_code == 400
    assert "cannot move to that status" in page(response)
    assert only_case().status == CaseStatus.NEW


def test_closure_request_then_supervisor_approval(client, auth, caseworker, supervisor, case):
    auth.login(caseworker)
    response = client.post(
        f"/cases/{case.id}/status",
        data={
            "to_status": "closed",
            "closure_reason": "family_withdrew",
            "reason": "The family asked us to stop",
        },
    )
    assert response.status_code == 302
    text = page(client.get(f"/cases/{case.id}"))
    assert "Waiting for a supervisor" in text
    assert "Request sent to a supervisor for approval." in text
    assert only_case().status == CaseStatus.NEW
    request = db.session.scalar(db.select(ApprovalRequest))
    # The requester cannot approve their own request from the page.
    assert f"/oversight/approvals/{request.id}/approve" not in text

    auth.logout()
    auth.login(supervisor)
    queue = page(client.get("/oversight/approvals"))
    assert case.reference in queue
    response = client.post(
        f"/oversight/approvals/{request.id}/approve", data={"comment": "Confirmed with the mother"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}")

    case = only_case()
    assert case.status == CaseStatus.CLOSED
    assert case.closure_reason == "family_withdrew"
    change = db.session.scalars(db.select(StatusChange).order_by(StatusChange.id)).all()[-1]
    assert change.approval_id == request.id
    text = page(client.get(f"/cases/{case.id}"))
    timeline = text[text.index('id="timeline"') :]
    assert "Confirmed with the mother" in timeline
    assert "approved by a supervisor" in timeline
    assert "<strong>Closed</strong> (Family withdrew)" in timeline
    assert "Waiting for a supervisor" not in text


def test_supervisor_cannot_approve_own_request_over_http(
    client, auth, supervisor, caseworker, case
):
    auth.login(supervisor)
    client.post(
        f"/cases/{case.id}/status",
        data={"to_status": "closed", "closure_reason": "duplicate", "reason": "Same as K7M"},
    )
    request = db.session.scalar(db.select(ApprovalRequest))
    response = client.post(f"/oversight/approvals/{request.id}/approve", data={"comment": ""})
    assert response.status_code == 302
    text = page(client.get(f"/cases/{case.id}"))
    assert "Another supervisor must decide on a request you made." in text
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, request.id).state == ApprovalState.PENDING
    assert only_case().status == CaseStatus.NEW


def test_caseworker_cannot_reach_the_approval_endpoint(client, auth, caseworker, case):
    auth.login(caseworker)
    client.post(
        f"/cases/{case.id}/status",
        data={"to_status": "closed", "closure_reason": "duplicate", "reason": "Same person"},
    )
    request = db.session.scalar(db.select(ApprovalRequest))
    response = client.post(f"/oversight/approvals/{request.id}/approve", data={"comment": ""})
    assert response.status_code in (403, 404)
    assert only_case().status == CaseStatus.NEW


def test_reject_over_http_shows_the_comment(client, auth, caseworker, supervisor, case):
    auth.login(caseworker)
    client.post(
        f"/cases/{case.id}/status",
        data={"to_status": "closed", "closure_reason": "duplicate", "reason": "Same person"},
    )
    request = db.session.scalar(db.select(ApprovalRequest))
    auth.logout()
    auth.login(supervisor)
    client.post(f"/oversight/approvals/{request.id}/reject", data={"comment": ""})
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, request.id).state == ApprovalState.PENDING

    client.post(f"/oversight/approvals/{request.id}/reject", data={"comment": "Different mother"})
    text = page(client.get(f"/cases/{case.id}"))
    assert "Different mother" in text
    assert only_case().status == CaseStatus.NEW


# --- case list -----------------------------------------------------------------------------


def test_case_list_counts_and_shows_cases(client, auth, caseworker, case):
    auth.login(caseworker)
    text = page(client.get("/cases/"))
    assert "1 case found" in text
    assert case.reference in text
    assert "محمد عماد جبار كاظم الجنابي" in text


def test_case_list_filters_from_the_query_string(client, auth, caseworker):
    mohammed = make_case(caseworker)
    ali = make_case(
        caseworker,
        given_name="علي",
        latin_names=["Ali Hussein"],
        district_pcode="IQG02Q02",
        governorate_pcode="IQG02",
    )
    ali.status = CaseStatus.OPEN
    db.session.commit()
    auth.login(caseworker)

    text = page(client.get("/cases/"))
    assert "2 cases found" in text

    text = page(client.get("/cases/?status=open"))
    assert "1 case found" in text
    assert ali.reference in text and mohammed.reference not in text

    text = page(client.get("/cases/", query_string={"q": "مُحَمَّد"}))
    assert "1 case found" in text
    assert mohammed.reference in text and ali.reference not in text

    text = page(client.get("/cases/?governorate=IQG02"))
    assert "1 case found" in text and ali.reference in text

    text = page(client.get("/cases/?status=closed"))
    assert "0 cases found" in text
    assert "No case matches these filters." in text


@pytest.mark.parametrize(
    "query",
    [
        "age_min=abc",
        "age_max=-3&age_min=999",
        "status=bogus",
        "status=bogus&status=new",
        "governorate=XX",
        "district=IQG99Q99",
        "owner=abc",
        "owner=999999",
        "sort=evil",
        "sort=name%3B+DROP+TABLE+cases",
        "page=-5",
        "page=abc",
        "page=99999",
        "contact_from=notadate",
        "contact_to=2024-13-45",
        "q=" + "x" * 500,
        "q=%00%27%22%3C",
    ],
)
def test_invalid_query_params_never_break_the_list(client, auth, caseworker, case, query):
    auth.login(caseworker)
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 200
    text = page(response)
    assert re.search(r"\d+ cases? found", text)
    assert "Traceback" not in text


def test_ignored_filters_still_list_the_case(client, auth, caseworker, case):
    auth.login(caseworker)
    text = page(client.get("/cases/?age_min=abc&governorate=XX&sort=evil&contact_from=notadate"))
    assert "1 case found" in text
    assert case.reference in text


def test_pagination(app, client, auth, caseworker):
    per_page = app.config["CASES_PER_PAGE"]
    cases = [make_case(caseworker, given_name=f"اسم{i}") for i in range(per_page + 1)]
    auth.login(caseworker)

    first = page(client.get("/cases/?sort=reference"))
    assert f"{per_page + 1} cases found" in first
    assert 'rel="next"' in first
    assert "Page 1 of 2" in first
    second = page(client.get("/cases/?sort=reference&page=2"))
    assert "Page 2 of 2" in second
    assert 'rel="prev"' in second

    refs = sorted(c.reference for c in cases)
    assert sum(r in first for r in refs) == per_page
    assert [r for r in refs if r in second] == [refs[-1]]
    # The pager keeps the filters.
    next_link = re.search(r'<a rel="next" href="([^"]*)"', first)[1]
    assert "page=2" in next_link and "sort=reference" in next_link


def test_caseworker_list_hides_other_peoples_cases(client, auth, caseworker, other_caseworker):
    theirs = make_case(other_caseworker)
    auth.login(caseworker)
    text = page(client.get("/cases/"))
    assert "0 cases found" in text
    assert theirs.reference not in text


# --- errors --------------------------------------------------------------------------------


def test_missing_case_is_a_styled_404(client, auth, caseworker):
    auth.login(caseworker)
    response = client.get("/cases/999999")
    assert response.status_code == 404
    text = page(response)
    assert '<html lang="en" dir="ltr">' in text
    assert "<h1>Not found</h1>" in text
    assert "There is no page here, or you are not allowed to see it." in text
    assert 'href="/cases/"' in text  # the normal navigation is there
    assert "Traceback" not in text and "werkzeug" not in text.lower()


def test_missing_case_404_in_arabic(client, auth, caseworker):
    auth.login(caseworker, lang="ar")
    response = client.get("/cases/999999/edit")
    assert response.status_code == 404
    text = page(response)
    assert '<html lang="ar" dir="rtl">' in text
    assert 'class="card narrow"' in text
    assert "<h1>الصفحة غير موجودة</h1>" in text
    assert "Not found" not in text
    assert "Traceback" not in text
