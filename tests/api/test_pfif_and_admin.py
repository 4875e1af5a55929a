"""PFIF through the API, and the admin page that lists and revokes every API client."""

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


def test_admin_lists_every_client_without_its_token(
    client, auth, admin, caseworker, supervisor, token_maker
) -> None:  # noqa: ANN001
    cw_token = token_maker(caseworker, name="Tracing desk")
    sup_token = token_maker(supervisor, name="Red Crescent registry")
    auth.login(admin)
    page = client.get("/admin/api-clients")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tracing desk" in html and "Red Crescent registry" in html
    assert "Zainab" in html and "Maryam" in html
    for record in db.session.scalars(select(ApiClient)):
        assert record.token_prefix in html
    assert cw_token not in html and sup_token not in html
    # No form to make one: a token would let the admin read case files.
    assert 'name="password"' not in html and "api-token" not in html


def test_admin_revokes_a_client(client, auth, admin, caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker)
    record = db.session.scalar(select(ApiClient))
    auth.login(admin)
    response = client.post(f"/admin/api-clients/{record.id}/revoke")
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoked_by_id == admin.id
    assert Api(client, token).get("/cases").status_code == 401
    event = db.session.scalar(select(AuditEvent).filter_by(action="api_client_revoke"))
    assert event.actor_id == admin.id and event.object_id == record.id
    html = client.get("/admin/api-clients").get_data(as_text=True)
    assert "Revoked on" in html and f"/admin/api-clients/{record.id}/revoke" not in html


def test_admin_has_no_page_to_create_a_client(app, client, auth, admin, caseworker) -> None:  # noqa: ANN001
    assert "admin.api_client_create" not in app.view_functions
    auth.login(admin)
    form = {"name": "x", "user_id": str(caseworker.id), "scopes": ["read"], "password": PASSWORD}
    assert client.post("/admin/api-clients", data=form).status_code == 405
    own = {"api-name": "x", "api-scopes": ["read"], "api-password": PASSWORD}
    assert client.post("/account/api-clients", data=own).status_code == 403
    account = client.get("/account").get_data(as_text=True)
    assert "/account/api-clients" not in account
    assert db.session.scalar(select(ApiClient)) is None


def test_only_admins_reach_the_admin_client_pages(client, auth, supervisor, token_maker) -> None:  # noqa: ANN001
    token_maker(supervisor)
    record = db.session.scalar(select(ApiClient))
    auth.login(supervisor)
    assert client.get("/admin/api-clients").status_code == 403
    assert client.post(f"/admin/api-clients/{record.id}/revoke").status_code == 403
    db.session.refresh(record)
    assert record.revoked_at is None


def test_the_client_page_speaks_arabic(client, auth, admin) -> None:  # noqa: ANN001
    auth.login(admin, lang="ar")
    html = client.get("/admin/api-clients").get_data(as_text=True)
    assert 'dir="rtl"' in html
