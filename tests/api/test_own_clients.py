"""API clients belong to their account: only its holder makes them, on their account page.

An administrator never reads case files, so never holds a token: no page or service lets them
make one for anyone. The operator's command line is the one exception, recorded with no actor.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cases.api import services
from cases.api.models import ApiClient
from cases.audit.models import AuditEvent
from cases.extensions import db

from ..conftest import PASSWORD
from .conftest import Api


def _count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


# --- the rules (services) ---------------------------------------------------------------------


@pytest.mark.parametrize("target", ["caseworker", "supervisor", "admin"])
def test_an_admin_cannot_create_a_client_for_anyone(request, admin, target) -> None:  # noqa: ANN001
    user = request.getfixturevalue(target)
    with pytest.raises(services.ApiClientError):
        services.create_client(admin, user, "Partner", ["read"])
    assert _count(ApiClient) == 0
    assert _events("api_client_create") == []


def test_nobody_creates_a_client_for_someone_else(caseworker, other_caseworker, supervisor) -> None:  # noqa: ANN001
    for actor, user in ((caseworker, other_caseworker), (supervisor, caseworker)):
        with pytest.raises(services.ApiClientError, match="your own account"):
            services.create_client(actor, user, "Partner", ["read"])
    assert _count(ApiClient) == 0


def test_the_holder_creates_their_own_client(caseworker) -> None:  # noqa: ANN001
    client, token = services.create_client(caseworker, caseworker, " Desk ", ["write", "read"])
    assert client.user_id == caseworker.id and client.created_by_id == caseworker.id
    assert client.name == "Desk" and client.scopes == "read,write"
    assert services.authenticate(token) == client
    [event] = _events("api_client_create")
    assert (event.actor_id, event.object_id) == (caseworker.id, client.id)


def test_the_operator_creates_for_any_case_worker_recorded_without_actor(caseworker, admin) -> None:  # noqa: ANN001
    client, _token = services.create_client(services.OPERATOR, caseworker, "CI", ["read"])
    assert client.user_id == caseworker.id and client.created_by_id is None
    [event] = _events("api_client_create")
    assert event.actor_id is None and event.object_id == client.id
    # Even the operator cannot give an admin account a token: it reads no case files.
    with pytest.raises(services.ApiClientError):
        services.create_client(services.OPERATOR, admin, "CI", ["read"])


def test_only_the_holder_or_an_admin_revokes(
    caseworker, other_caseworker, supervisor, admin
) -> None:  # noqa: ANN001
    client, _ = services.create_client(caseworker, caseworker, "Desk", ["read"])
    for stranger in (other_caseworker, supervisor):
        with pytest.raises(services.ApiClientError):
            services.revoke_client(stranger, client)
    assert client.revoked_at is None
    services.revoke_client(caseworker, client)
    assert client.revoked_by_id == caseworker.id
    other, _ = services.create_client(caseworker, caseworker, "Other", ["read"])
    services.revoke_client(admin, other)
    assert other.revoked_by_id == admin.id
    assert [e.actor_id for e in _events("api_client_revoke")] == [caseworker.id, admin.id]


# --- the account page -------------------------------------------------------------------------

FORM = {"api-name": "Red Crescent registry", "api-scopes": ["read", "write"]}


def _token_on(html: str) -> str:
    return html.split('id="api-token" value="')[1].split('"')[0]


def test_a_caseworker_creates_a_client_on_their_account_page(client, auth, caseworker) -> None:  # noqa: ANN001
    auth.login(caseworker)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/account/api-clients"' in page and "No API clients yet." in page

    wrong = client.post("/account/api-clients", data={**FORM, "api-password": "not it"})
    assert wrong.status_code == 400 and _count(ApiClient) == 0
    html = wrong.get_data(as_text=True)
    assert "This is not your password" in html and 'value="Red Crescent registry"' in html
    assert "api-token" not in html

    created = client.post("/account/api-clients", data={**FORM, "api-password": PASSWORD})
    assert created.status_code == 200
    record = db.session.scalar(select(ApiClient))
    assert record.user_id == caseworker.id and record.scope_set == {"read", "write"}
    token = _token_on(created.get_data(as_text=True))
    assert token.startswith(record.token_prefix)
    assert Api(client, token).get("/cases").status_code == 200
    [event] = _events("api_client_create")
    assert event.actor_id == caseworker.id

    # Shown once: the page afterwards lists the client with its prefix only.
    again = client.get("/account").get_data(as_text=True)
    assert token not in again and record.token_prefix in again
    assert "Red Crescent registry" in again and "Active" in again


def test_a_supervisor_with_an_expiry_date(client, auth, supervisor) -> None:  # noqa: ANN001
    auth.login(supervisor)
    later = (date.today() + timedelta(days=30)).isoformat()
    form = {**FORM, "api-expires_on": later, "api-password": PASSWORD}
    assert client.post("/account/api-clients", data=form).status_code == 200
    record = db.session.scalar(select(ApiClient))
    assert record.user_id == supervisor.id and record.expires_at.date().isoformat() == later


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api-scopes": []}, "Choose at least one scope."),
        ({"api-name": ""}, "This field is required."),
        ({"api-expires_on": "2001-01-01"}, "The expiry date must be in the future."),
        ({"api-expires_on": "soon"}, "Not a valid date value."),
        ({"api-scopes": ["admin"]}, "is not a valid choice for this field."),
    ],
)
def test_bad_input_is_refused_with_a_message(client, auth, caseworker, change, message) -> None:  # noqa: ANN001
    auth.login(caseworker)
    response = client.post(
        "/account/api-clients", data={**FORM, "api-password": PASSWORD, **change}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(ApiClient) == 0


def test_a_caseworker_revokes_their_own_client(client, auth, caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker)
    record = db.session.scalar(select(ApiClient))
    auth.login(caseworker)
    response = client.post(f"/account/api-clients/{record.id}/revoke")
    assert response.status_code == 302 and response.location == "/account"
    db.session.refresh(record)
    assert record.revoked_by_id == caseworker.id
    assert Api(client, token).get("/cases").status_code == 401
    [event] = _events("api_client_revoke")
    assert event.actor_id == caseworker.id
    page = client.get("/account").get_data(as_text=True)
    assert "Revoked on" in page and f"/account/api-clients/{record.id}/revoke" not in page


def test_a_caseworker_cannot_revoke_or_see_anothers_client(
    client, auth, caseworker, other_caseworker, token_maker
) -> None:  # noqa: ANN001
    token = token_maker(other_caseworker, name="Ali's tool")
    record = db.session.scalar(select(ApiClient))
    auth.login(caseworker)
    assert client.post(f"/account/api-clients/{record.id}/revoke").status_code == 404
    db.session.refresh(record)
    assert record.revoked_at is None and _events("api_client_revoke") == []
    assert Api(client, token).get("/cases").status_code == 200
    page = client.get("/account").get_data(as_text=True)
    assert "Ali&#39;s tool" not in page and record.token_prefix not in page


def test_making_clients_is_rate_limited(client, auth, caseworker) -> None:  # noqa: ANN001
    auth.login(caseworker)
    wrong = {**FORM, "api-password": "not it"}
    statuses = [client.post("/account/api-clients", data=wrong).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_the_account_page_speaks_arabic(client, auth, supervisor) -> None:  # noqa: ANN001
    auth.login(supervisor, lang="ar")
    html = client.get("/account").get_data(as_text=True)
    assert 'dir="rtl"' in html and 'action="/account/api-clients"' in html


# --- the operator's command line --------------------------------------------------------------


def test_the_command_line_creates_lists_and_revokes(runner, caseworker, admin) -> None:  # noqa: ANN001
    made = runner.invoke(args=["api", "create-client", "--user", "zainab", "--scopes", "read,pfif"])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    record = db.session.scalar(select(ApiClient))
    assert services.authenticate(token) == record and record.created_by_id is None
    assert record.scope_set == {"read", "pfif"}
    listed = runner.invoke(args=["api", "list"])
    assert record.token_prefix in listed.output and token not in listed.output
    revoked = runner.invoke(args=["api", "revoke", str(record.id)])
    assert revoked.exit_code == 0, revoked.output
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoked_by_id is None
    assert [e.actor_id for e in _events("api_client_create") + _events("api_client_revoke")] == [
        None,
        None,
    ]
    refused = runner.invoke(args=["api", "create-client", "--user", admin.username])
    assert refused.exit_code != 0 and _count(ApiClient) == 1
