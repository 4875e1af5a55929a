"""The families' pages over HTTP: submit, receipt, status check, abuse controls."""

from __future__ import annotations

import re

import pytest

from cases.casework import services as casework
from cases.casework.models import NoteVisibility
from cases.extensions import db
from cases.inquiries import services
from cases.inquiries.models import Inquiry, InquiryUpdate

from .factories import make_inquiry

FORM = {
    "inquirer_name": "أم حيدر",
    "inquirer_relationship": "mother",
    "inquirer_phone": "٠٧٧٠ ١٢٣ ٤٥٦٧",
    "inquirer_channel": "whatsapp",
    "inquirer_language": "ar",
    "given_name": "حيدر",
    "father_name": "كاظم",
    "grandfather_name": "جاسم",
    "great_grandfather_name": "",
    "laqab": "الخفاجي",
    "mother_name": "زينب علي",
    "age": "23",
    "birth_year": "",
    "governorate_pcode": "",
    "district_pcode": "IQG07Q04",
    "last_contact_date": "2024-03-01",
    "last_contact_channel": "whatsapp",
    "destination_country": "RU",
    "travel_company": "شركة النخيل",
    "route": "بغداد ← إسطنبول ← موسكو",
    "details": "آخر رسالة من روستوف",
    "consent_search": "y",
    "website": "",
}


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_public_pages_need_no_login_and_speak_arabic_by_default(client) -> None:
    for url in ("/", "/privacy", "/inquiry", "/check"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ar" dir="rtl">' in _page(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_kurdish_is_offered_to_families(client) -> None:
    response = client.get("/inquiry", headers={"Accept-Language": "ckb"})
    assert '<html lang="ckb" dir="rtl">' in _page(response)
    client.post("/language", data={"lang": "en", "next": "/inquiry"})
    assert '<html lang="en" dir="ltr">' in _page(client.get("/inquiry"))


def test_staff_pages_do_not_switch_to_kurdish(client, auth, caseworker) -> None:
    client.post("/language", data={"lang": "ckb", "next": "/"})
    page = _page(client.get("/login", headers={"Accept-Language": "en"}))
    assert '<html lang="en" dir="ltr">' in page


def test_submitting_shows_reference_and_secret_once(client) -> None:
    response = client.post("/inquiry", data=FORM)
    page = _page(response)
    assert response.status_code == 200
    reference = re.search(r'id="reference">(\d{4}-\d{4})<', page).group(1)
    secret = re.search(r'id="secret">(\d{3}-\d{3}-\d{3}-\d{3})<', page).group(1)
    inquiry = db.session.scalar(db.select(Inquiry))
    assert inquiry.reference == reference.replace("-", "")
    assert inquiry.inquirer_phone == "+9647701234567"
    assert inquiry.governorate_pcode == "IQG07"  # from the district
    assert inquiry.route == "بغداد ← إسطنبول ← موسكو"
    assert secret.replace("-", "") not in inquiry.secret_hash
    assert response.headers["Cache-Control"] == "no-store"
    # The secret is nowhere but on that one page.
    assert secret not in _page(client.get("/check"))


def test_invalid_inquiry_keeps_what_was_typed(client) -> None:
    data = dict(FORM, inquirer_phone="12ab", consent_search="", district_pcode="IQG01Q01")
    data["governorate_pcode"] = "IQG07"
    response = client.post("/inquiry", data=data)
    page = _page(response)
    assert response.status_code == 200
    assert 'id="reference"' not in page
    assert 'value="12ab"' in page
    assert 'value="حيدر"' in page
    assert "آخر رسالة من روستوف" in page
    assert page.count('class="error"') >= 3  # phone, consent, district
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(db.select(db.func.count(Inquiry.id))) == 0


def test_missing_csrf_token_is_refused(app, client) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/inquiry", data=FORM)
    assert response.status_code == 400
    assert 'id="reference"' not in _page(response)
    assert db.session.scalar(db.select(db.func.count(Inquiry.id))) == 0


def test_a_filled_honeypot_is_refused(client) -> None:
    response = client.post("/inquiry", data=dict(FORM, website="http://spam.example"))
    assert response.status_code == 400
    assert 'id="reference"' not in _page(response)
    assert db.session.scalar(db.select(db.func.count(Inquiry.id))) == 0


def test_too_many_submissions_get_a_try_later_page(app, client) -> None:
    app.config["INQUIRY_SUBMIT_LIMIT"] = "2 per hour"
    assert client.post("/inquiry", data=FORM).status_code == 200
    assert client.post("/inquiry", data=FORM).status_code == 200
    response = client.post("/inquiry", data=FORM, headers={"Accept-Language": "ar"})
    assert response.status_code == 429
    assert '<html lang="ar"' in _page(response)
    assert db.session.scalar(db.select(db.func.count(Inquiry.id))) == 2


def _check(client, reference: str, secret: str):  # noqa: ANN001, ANN202
    return client.post("/check", data={"reference": reference, "secret": secret})


def test_wrong_secret_and_unknown_reference_look_the_same(app, client) -> None:
    inquiry, secret = make_inquiry()
    wrong = _check(client, inquiry.reference, "111-111-111-111")
    unknown = _check(client, "9999-9999", secret)
    assert wrong.status_code == unknown.status_code == 200
    assert _page(wrong) == _page(unknown).replace("9999-9999", inquiry.reference)
    assert "حيدر" not in _page(wrong)
    assert client.get("/check/result").status_code == 302


def test_too_many_status_checks_are_refused(app, client) -> None:
    app.config["STATUS_CHECK_LIMIT"] = "3 per 15 minutes"
    inquiry, secret = make_inquiry()
    for _ in range(3):
        _check(client, "1234-5678", "000-000-000-000")
    response = _check(client, inquiry.reference, secret)
    assert response.status_code == 429
    assert client.get("/check/result").status_code == 302


def test_guessing_one_reference_is_limited_even_from_many_addresses(app, client) -> None:
    app.config["STATUS_CHECK_PER_REFERENCE_LIMIT"] = "2 per 15 minutes"
    inquiry, secret = make_inquiry()
    for n in range(2):
        client.post(
            "/check",
            data={"reference": inquiry.reference, "secret": "1"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        )
    response = client.post(
        "/check",
        data={"reference": inquiry.reference, "secret": secret},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert response.status_code == 429


def test_the_secret_never_goes_in_the_url(client) -> None:
    inquiry, secret = make_inquiry()
    response = client.get(f"/check?reference={inquiry.reference}&secret={secret}")
    assert response.status_code == 200
    assert client.get("/check/result").status_code == 302


def test_family_sees_status_and_shareable_notes_only(client, caseworker) -> None:
    inquiry, secret = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    casework.add_note(caseworker, case, "A source in Rostov, do not tell", visibility="internal")
    casework.add_note(
        caseworker, case, "We asked the Red Crescent.", visibility=NoteVisibility.SHAREABLE
    )
    response = _check(client, inquiry.reference, secret)
    assert response.status_code == 302
    page = _page(client.get("/check/result", headers={"Accept-Language": "en"}))
    assert "Under review" in page
    assert "We asked the Red Crescent." in page
    assert "Rostov" not in page
    assert case.reference not in page  # the internal case reference stays internal


def test_family_adds_information_and_it_reaches_the_case(client, caseworker) -> None:
    inquiry, secret = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    _check(client, inquiry.reference, secret)
    response = client.post("/check/add", data={"body": "صديقه رآه في فورونيج"})
    assert response.status_code == 302
    assert [u.body for u in db.session.scalars(db.select(InquiryUpdate))] == [
        "صديقه رآه في فورونيج"
    ]
    assert services.unread_alerts(caseworker) == 1
    assert case.id == inquiry.case_id


def test_empty_addition_keeps_the_page_and_saves_nothing(client) -> None:
    inquiry, secret = make_inquiry()
    _check(client, inquiry.reference, secret)
    response = client.post("/check/add", data={"body": ""})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(InquiryUpdate.id))) == 0


@pytest.mark.parametrize("what", ["withdraw", "delete"])
def test_family_can_withdraw_or_ask_for_deletion(client, what: str) -> None:
    inquiry, secret = make_inquiry()
    _check(client, inquiry.reference, secret)
    assert client.post(f"/check/{what}").status_code == 302
    db.session.expire_all()
    assert (inquiry.consent_withdrawn_at is not None) == (what == "withdraw")
    assert len(db.session.scalars(db.select(services.DataRequest)).all()) == 1


def test_family_actions_need_a_fresh_check(app, client) -> None:
    inquiry, secret = make_inquiry()
    for url in ("/check/add", "/check/withdraw", "/check/delete"):
        assert client.post(url, data={"body": "x"}).status_code == 302
    assert db.session.scalar(db.select(db.func.count(InquiryUpdate.id))) == 0
    _check(client, inquiry.reference, secret)
    app.config["FAMILY_SESSION_SECONDS"] = -1
    assert client.get("/check/result").status_code == 302


def test_finishing_forgets_the_inquiry(client) -> None:
    inquiry, secret = make_inquiry()
    _check(client, inquiry.reference, secret)
    assert client.get("/check/result").status_code == 200
    client.post("/check/finish")
    assert client.get("/check/result").status_code == 302


def test_no_public_page_reveals_another_case(client, caseworker) -> None:
    """A stranger without the secret learns nothing about anyone's case."""
    inquiry, secret = make_inquiry()
    case = services.create_case_from_inquiry(caseworker, inquiry)
    casework.add_note(caseworker, case, "SHARED-NOTE", visibility=NoteVisibility.SHAREABLE)
    secrets_of_case = ["حيدر", "الخفاجي", "زينب", "SHARED-NOTE", case.reference, "+9647801234567"]
    responses = [
        client.get(url) for url in ("/", "/privacy", "/inquiry", "/check", "/check/result")
    ]
    responses.append(_check(client, inquiry.reference, "000-000-000-000"))
    responses.append(client.post("/check/add", data={"body": "x"}))
    responses.append(client.get(f"/cases/{case.id}"))
    responses.append(client.get("/intake/"))
    for response in responses:
        body = _page(response)
        for secret_text in secrets_of_case:
            assert secret_text not in body
