"""PFIF through the API, and the admin pages that make and revoke API clients."""

from __future__ import annotations

from sqlalchemy import select

from cases.api.models import ApiClient
from cases.audit.models import AuditEvent
from cases.extensions import db
from cases.inquiries.models import Inquiry

from ..conftest import PASSWORD
from .conftest import Api, assert_error

PFIF = b"""<?xml version="1.0" encoding="UTF-8"?>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4">
  <pfif:person>
    <pfif:person_record_id>partner.example.org/person.1</pfif:person_record_id>
    <pfif:source_date>2025-01-02T03:04:05Z</pfif:source_date>
    <pfif:full_name>Ali Hassan</pfif:full_name>
    <pfif:given_name>Ali</pfif:given_name>
    <pfif:family_name>Hassan</pfif:family_name>
  </pfif:person>
</pfif:pfif>"""


def test_pfif_export_and_import(sup_api, case) -> None:  # noqa: ANN001
    exported = sup_api.get("/pfif")
    assert exported.status_code == 200 and exported.mimetype == "application/pfif+xml"
    assert b"http://zesty.ca/pfif/1.4" in exported.data
    response = sup_api.client.post(
        "/api/v1/pfif",
        data=PFIF,
        headers=sup_api.headers({"Content-Type": "application/pfif+xml"}),
    )
    assert response.status_code == 200, response.get_json()
    summary = response.get_json()
    assert summary["counts"]["created"] == 1
    assert db.session.scalar(select(Inquiry)).given_name == "Ali"
    refused = sup_api.client.post(
        "/api/v1/pfif",
        data=b"<not-pfif/>",
        headers=sup_api.headers({"Content-Type": "application/xml"}),
    )
    assert_error(refused, 422, "invalid_pfif")
    json_body = sup_api.post("/pfif", json={"a": 1})
    assert_error(json_body, 415, "unsupported_media_type")


def test_contacts_in_pfif_only_for_supervisors(cw_api, sup_api) -> None:  # noqa: ANN001
    assert_error(cw_api.get("/pfif?include_contacts=true"), 403, "forbidden")
    assert sup_api.get("/pfif?include_contacts=true").status_code == 200


def _admin_login(auth, admin) -> None:  # noqa: ANN001
    auth.login(admin)


def test_admin_creates_a_client_after_reentering_the_password(
    client, auth, admin, caseworker
) -> None:  # noqa: ANN001, E501
    _admin_login(auth, admin)
    page = client.get("/admin/api-clients")
    assert page.status_code == 200 and "Zainab" in page.get_data(as_text=True)
    form = {"name": "Partner NGO", "user_id": str(caseworker.id), "scopes": ["read", "write"]}
    wrong = client.post("/admin/api-clients", data={**form, "password": "not it"})
    assert wrong.status_code == 400 and db.session.scalar(select(ApiClient)) is None
    created = client.post("/admin/api-clients", data={**form, "password": PASSWORD})
    assert created.status_code == 200
    record = db.session.scalar(select(ApiClient))
    assert record.scope_set == {"read", "write"} and record.user_id == caseworker.id
    html = created.get_data(as_text=True)
    token = html.split('id="api-token" value="')[1].split('"')[0]
    assert token.startswith(record.token_prefix)
    assert Api(client, token).get("/cases").status_code == 200
    # Shown once: the list afterwards has only the prefix.
    assert token not in client.get("/admin/api-clients").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).filter_by(action="api_client_create"))


def test_admin_cannot_make_a_client_for_an_admin(client, auth, admin) -> None:  # noqa: ANN001
    _admin_login(auth, admin)
    response = client.post(
        "/admin/api-clients",
        data={"name": "x", "user_id": str(admin.id), "scopes": ["read"], "password": PASSWORD},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(ApiClient)) is None


def test_admin_revokes_a_client(client, auth, admin, caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker)
    record = db.session.scalar(select(ApiClient))
    _admin_login(auth, admin)
    response = client.post(f"/admin/api-clients/{record.id}/revoke")
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoked_by_id == admin.id
    assert Api(client, token).get("/cases").status_code == 401
    assert db.session.scalar(select(AuditEvent).filter_by(action="api_client_revoke"))


def test_only_admins_reach_the_client_pages(client, auth, supervisor) -> None:  # noqa: ANN001
    auth.login(supervisor)
    assert client.get("/admin/api-clients").status_code == 403
    assert client.post("/admin/api-clients/1/revoke").status_code == 403


def test_the_client_page_speaks_arabic(client, auth, admin) -> None:  # noqa: ANN001
    auth.login(admin, lang="ar")
    html = client.get("/admin/api-clients").get_data(as_text=True)
    assert 'dir="rtl"' in html
