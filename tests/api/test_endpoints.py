"""Each endpoint: the happy path, the database afterwards, the web's access rules, and errors."""

from __future__ import annotations

from sqlalchemy import select

from cases.audit.models import AuditEvent
from cases.casework.models import ApprovalRequest, Case, CaseNote, CaseShare, StatusChange
from cases.extensions import db
from cases.inquiries.models import Inquiry
from cases.inquiries.services import find_inquiry

from ..factories import make_case
from ..inquiries.factories import make_inquiry
from .conftest import Api, assert_error

NEW_CASE = {
    "given_name": "حسين",
    "father_name": "كريم",
    "grandfather_name": "ناصر",
    "mother_name": "زهراء عباس",
    "latin_names": ["Hussein Karim Nasser"],
    "age": 22,
    "district_pcode": "IQG07Q04",
    "phones": ["0770 555 1234"],
    "documents": [{"doc_type": "passport", "number": "a 1234-5678"}],
    "contacts": [{"name": "أم حسين", "relationship": "الأم", "phone": "07705551235"}],
    "last_contact_date": "2025-03-01",
    "last_contact_channel": "whatsapp",
}


def test_list_shows_only_the_accounts_cases(cw_api, caseworker, other_caseworker) -> None:  # noqa: ANN001
    mine = make_case(caseworker)
    make_case(other_caseworker, given_name="علي")
    body = cw_api.get("/cases").get_json()
    assert [c["reference"] for c in body["items"]] == [mine.reference]
    assert body["total"] == 1 and body["next_page"] is None and body["page"] == 1


def test_list_filters_paginates_and_validates(sup_api, caseworker) -> None:  # noqa: ANN001
    for name in ("علي", "حسن", "محمد"):
        make_case(caseworker, given_name=name)
    first = sup_api.get("/cases?limit=2&sort=reference").get_json()
    assert len(first["items"]) == 2 and first["next_page"] == 2 and first["total"] == 3
    second = sup_api.get("/cases?limit=2&page=2&sort=reference").get_json()
    assert len(second["items"]) == 1 and second["next_page"] is None
    found = sup_api.get("/cases", query_string={"q": "حسن"}).get_json()
    assert [c["name"].split()[0] for c in found["items"]] == ["حسن"]
    assert sup_api.get("/cases?status=closed").get_json()["total"] == 0
    assert sup_api.get("/cases?district=IQG07Q04&status=new").get_json()["total"] == 3
    error = assert_error(
        sup_api.get("/cases?status=lost&limit=500&colour=red"), 422, "validation_failed"
    )
    assert set(error["fields"]) == {"status.0", "limit", "colour"}
    assert_error(sup_api.get("/cases?governorate=IQG99"), 422, "validation_failed")
    assert_error(sup_api.get("/cases?page=1&page=2"), 422, "validation_failed")
    # A filtered search is audited as on the web, with the number of filters only.
    searches = db.session.scalars(select(AuditEvent).filter_by(action="case_search")).all()
    assert searches and all(e.item_count for e in searches)


def test_updated_since(sup_api, caseworker) -> None:  # noqa: ANN001
    make_case(caseworker)
    assert sup_api.get("/cases?updated_since=2000-01-01T00:00:00Z").get_json()["total"] == 1
    later = sup_api.get("/cases", query_string={"updated_since": "2999-01-01T00:00:00+03:00"})
    assert later.get_json()["total"] == 0
    assert_error(sup_api.get("/cases?updated_since=yesterday"), 422, "validation_failed")


def test_create_case_writes_it_as_the_form_would(cw_api, caseworker) -> None:  # noqa: ANN001
    response = cw_api.post("/cases", json=NEW_CASE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/cases/{body['reference']}")
    case = db.session.scalar(select(Case).filter_by(reference=body["reference"]))
    assert case.owner_id == caseworker.id and case.status == "new"
    assert case.governorate_pcode == "IQG07"  # from the district, as the form does
    assert [p.e164 for p in case.phones] == ["+9647705551234"]
    assert case.contacts[0].phone_e164 == "+9647705551235"
    assert case.documents[0].number == "a 1234-5678"
    assert body["contacts_visible"] is True and body["contacts"][0]["name"] == "أم حسين"
    assert db.session.scalar(select(AuditEvent).filter_by(action="case_create")) is not None


def test_create_case_refuses_what_the_form_refuses(cw_api) -> None:  # noqa: ANN001
    bad = {
        **NEW_CASE,
        "given_name": "   ",
        "birth_day": 3,
        "phones": ["0770abc"],
        "district_pcode": "IQG01Q01",
        "governorate_pcode": "IQG07",
        "contacts": [{"name": "x", "phone": "123"}],
        "documents": [{"number": "--"}],
    }
    error = assert_error(cw_api.post("/cases", json=bad), 422, "validation_failed")
    assert set(error["fields"]) == {
        "given_name",
        "birth_day",
        "phones",
        "district_pcode",
        "contacts.0.phone",
        "documents.0.number",
    }
    shape = assert_error(
        cw_api.post("/cases", json={"given_name": 5, "age": "3", "owner_id": 1, "sex": "x"}),
        422,
        "validation_failed",
    )
    assert set(shape["fields"]) == {"given_name", "age", "owner_id", "sex"}
    assert db.session.scalar(select(Case)) is None


def test_validation_messages_follow_accept_language(client, cw_token) -> None:  # noqa: ANN001
    response = Api(client, cw_token, lang="ar").post("/cases", json={"given_name": ""})
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"]["given_name"] == ["هذا الحقل مطلوب."]


def test_possible_duplicates_answer_409_until_confirmed(
    cw_api, caseworker, other_caseworker
) -> None:  # noqa: ANN001, E501
    own = make_case(caseworker)
    make_case(other_caseworker)
    person = {
        "given_name": "محمد",
        "father_name": "عماد",
        "grandfather_name": "جبار",
        "mother_name": "فاطمة حسين علي",
    }
    error = assert_error(cw_api.post("/cases", json=person), 409, "possible_duplicate")
    visible = [m for m in error["matches"] if m["visible"]]
    hidden = [m for m in error["matches"] if not m["visible"]]
    assert [m["reference"] for m in visible] == [own.reference]
    assert hidden and hidden[0]["name"] is None and hidden[0]["reasons"] == []
    assert hidden[0]["held_by"] == "Ali"
    assert db.session.scalar(select(db.func.count(Case.id))) == 2
    response = cw_api.post("/cases", json={**person, "confirm_new_person": True})
    assert response.status_code == 201
    assert db.session.scalar(select(db.func.count(Case.id))) == 3


def test_show_case_follows_access_rules(
    client,
    cw_api,
    caseworker,
    other_caseworker,  # noqa: ANN001
    token_maker,
) -> None:
    theirs = make_case(other_caseworker)
    assert_error(cw_api.get(f"/cases/{theirs.reference}"), 404, "not_found")
    assert_error(cw_api.get("/cases/NOT-A-REF"), 404, "not_found")
    # Shared with the caseworker: they work on it but do not see the family's contacts.
    db.session.add(CaseShare(case_id=theirs.id, user_id=caseworker.id))
    db.session.commit()
    body = cw_api.get(f"/cases/{theirs.reference.lower()}").get_json()
    assert body["reference"] == theirs.reference
    assert body["contacts_visible"] is False and body["contacts"] == []
    assert "+9647701234567" not in str(body)
    owner = Api(client, token_maker(other_caseworker)).get(f"/cases/{theirs.reference}")
    assert owner.get_json()["contacts"][0]["phone"] == "+9647701234567"


def test_patch_changes_only_what_is_sent(cw_api, case) -> None:  # noqa: ANN001
    response = cw_api.patch(f"/cases/{case.reference}", json={"age": 30, "laqab": None})
    assert response.status_code == 200, response.get_json()
    db.session.refresh(case)
    assert case.age == 30 and case.laqab is None
    assert case.father_name == "عماد" and case.contacts[0].name == "أم محمد"
    error = assert_error(
        cw_api.patch(f"/cases/{case.reference}", json={"birth_month": 13}), 422, "validation_failed"
    )
    assert "birth_month" in error["fields"]
    assert_error(
        cw_api.patch(f"/cases/{case.reference}", json={"given_name": None}),
        422,
        "validation_failed",
    )


def test_patch_contacts_needs_the_right_to_see_them(cw_api, caseworker, other_caseworker) -> None:  # noqa: ANN001, E501
    theirs = make_case(other_caseworker)
    db.session.add(CaseShare(case_id=theirs.id, user_id=caseworker.id))
    db.session.commit()
    assert_error(
        cw_api.patch(f"/cases/{theirs.reference}", json={"contacts": []}), 403, "forbidden"
    )
    assert cw_api.patch(f"/cases/{theirs.reference}", json={"age": 40}).status_code == 200
    db.session.refresh(theirs)
    assert theirs.age == 40 and len(theirs.contacts) == 1


def test_anonymised_cases_are_read_only(cw_api, case) -> None:  # noqa: ANN001
    case.anonymised_at = case.created_at
    db.session.commit()
    assert_error(cw_api.patch(f"/cases/{case.reference}", json={"age": 3}), 409, "conflict")
    assert_error(cw_api.post(f"/cases/{case.reference}/notes", json={"body": "x"}), 409, "conflict")


def test_notes_and_corrections(cw_api, case) -> None:  # noqa: ANN001
    first = cw_api.post(
        f"/cases/{case.reference}/notes", json={"body": "Called the mother", "kind": "call"}
    )
    assert first.status_code == 201
    note_id = first.get_json()["id"]
    fix = cw_api.post(
        f"/cases/{case.reference}/notes", json={"body": "Called the father", "corrects_id": note_id}
    )
    assert fix.status_code == 201 and fix.get_json()["corrects_id"] == note_id
    listed = cw_api.get(f"/cases/{case.reference}/notes").get_json()["items"]
    assert [n["body"] for n in listed] == ["Called the mother", "Called the father"]
    notes = db.session.scalars(select(CaseNote).order_by(CaseNote.id)).all()
    assert [n.body for n in notes] == ["Called the mother", "Called the father"]
    error = assert_error(
        cw_api.post(f"/cases/{case.reference}/notes", json={"body": "x", "corrects_id": 999}),
        422,
        "validation_failed",
    )
    assert "corrects_id" in error["fields"]
    assert_error(
        cw_api.post(f"/cases/{case.reference}/notes", json={"body": "  "}), 422, "validation_failed"
    )
    assert_error(
        cw_api.post(f"/cases/{case.reference}/notes", json={"body": "x", "kind": "gossip"}),
        422,
        "validation_failed",
    )


def test_status_change_applied_or_sent_for_approval(cw_api, case) -> None:  # noqa: ANN001
    opened = cw_api.post(
        f"/cases/{case.reference}/status-changes",
        json={"to_status": "open", "reason": "Search starts"},
    )
    assert opened.status_code == 201 and opened.get_json()["to_status"] == "open"
    closing = cw_api.post(
        f"/cases/{case.reference}/status-changes",
        json={"to_status": "closed", "reason": "They stopped", "closure_reason": "family_withdrew"},
    )
    assert closing.status_code == 202 and closing.get_json()["state"] == "pending"
    db.session.refresh(case)
    assert case.status == "open"
    assert db.session.scalar(select(ApprovalRequest)).to_status == "closed"
    history = cw_api.get(f"/cases/{case.reference}/status-changes").get_json()
    assert [c["to_status"] for c in history["items"]] == ["new", "open"]
    assert history["pending"]["to_status"] == "closed"
    blocked = cw_api.post(
        f"/cases/{case.reference}/status-changes",
        json={"to_status": "located_alive", "reason": "Found"},
    )
    assert_error(blocked, 409, "conflict")
    missing = cw_api.post(
        f"/cases/{case.reference}/status-changes", json={"to_status": "closed", "reason": "x"}
    )
    assert "closure_reason" in assert_error(missing, 422, "validation_failed")["fields"]
    assert db.session.scalar(select(db.func.count(StatusChange.id))) == 2


def test_inquiries_submit_list_and_show(client, cw_api, caseworker, other_caseworker) -> None:  # noqa: ANN001, E501
    response = cw_api.post(
        "/inquiries",
        json={
            "inquirer_name": "أم علي",
            "inquirer_relationship": "mother",
            "inquirer_phone": "0770 111 2222",
            "given_name": "علي",
            "father_name": "حسن",
            "consent_search": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    inquiry = find_inquiry(receipt["reference"], receipt["secret"])
    assert inquiry is not None and inquiry.channel == "api"
    assert inquiry.inquirer_phone == "+9647701112222"
    queue = cw_api.get("/inquiries").get_json()
    assert [i["reference"] for i in queue["items"]] == [receipt["reference"]]
    shown = cw_api.get(f"/inquiries/{receipt['reference'].replace('-', '')}").get_json()
    assert shown["inquirer_phone"] == "+9647701112222" and shown["contact_visible"] is True
    assert "secret" not in str(shown)
    refused = cw_api.post(
        "/inquiries",
        json={
            "inquirer_name": "x",
            "inquirer_relationship": "mother",
            "inquirer_phone": "12",
            "given_name": "y",
            "consent_search": False,
        },
    )
    error = assert_error(refused, 422, "validation_failed")
    assert {"inquirer_phone", "consent_search"} <= set(error["fields"])
    assert db.session.scalar(select(db.func.count(Inquiry.id))) == 1
    assert_error(cw_api.get("/inquiries/0000-0000"), 404, "not_found")


def test_an_inquiry_on_someone_elses_case_is_hidden(cw_api, other_caseworker) -> None:  # noqa: ANN001
    theirs = make_case(other_caseworker)
    inquiry, _secret = make_inquiry()
    inquiry.case_id = theirs.id
    inquiry.state = "linked"
    db.session.commit()
    assert_error(cw_api.get(f"/inquiries/{inquiry.reference}"), 404, "not_found")


def test_errors_have_one_shape(client, cw_api, case) -> None:  # noqa: ANN001
    assert_error(cw_api.get("/nowhere"), 404, "not_found")
    wrong_method = client.delete("/api/v1/cases", headers=cw_api.headers())
    assert_error(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method.headers["Allow"]
    bad_json = cw_api.client.post(
        "/api/v1/cases",
        data="{not json",
        headers=cw_api.headers({"Content-Type": "application/json"}),
    )
    assert_error(bad_json, 400, "bad_request")
    form = cw_api.client.post("/api/v1/cases", data={"given_name": "x"}, headers=cw_api.headers())
    assert_error(form, 415, "unsupported_media_type")
    not_object = cw_api.post("/cases", json=[1, 2])
    assert_error(not_object, 422, "validation_failed")
    too_large = cw_api.client.post(
        "/api/v1/cases",
        data="x" * (11 * 1024 * 1024),
        headers=cw_api.headers({"Content-Type": "application/json"}),
    )
    assert_error(too_large, 413, "payload_too_large")


def test_a_server_error_says_nothing_about_its_cause(app, cw_api, case, monkeypatch) -> None:  # noqa: ANN001
    from cases.api import views

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("secret detail of محمد")

    monkeypatch.setattr(views, "case_detail", broken)
    response = cw_api.get(f"/cases/{case.reference}")
    error = assert_error(response, 500, "server_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in error["message"]


def test_the_document_is_open_and_lists_every_operation(client) -> None:  # noqa: ANN001
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    create = document["paths"]["/api/v1/cases"]["post"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422", "429"} <= set(
        create["responses"]
    )
    assert "404" in document["paths"]["/api/v1/cases/{reference}"]["get"]["responses"]
    props = document["components"]["schemas"]["NewCaseInput"]["properties"]
    assert props["given_name"]["maxLength"] == 80  # from the web form's validator
