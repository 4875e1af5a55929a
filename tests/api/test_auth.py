"""Tokens: who gets in, with which scope, how often; stored hashed; every request audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases import create_app
from cases.api import services
from cases.api.models import ApiClient
from cases.audit.models import AuditEvent
from cases.auth import services as auth_services
from cases.auth.guard import public
from cases.auth.models import Role
from cases.clock import utcnow
from cases.extensions import db

from .conftest import Api, assert_error


def test_no_token_wrong_token_and_a_foreign_scheme_are_refused(client, cw_token) -> None:  # noqa: ANN001
    for headers in (
        {},
        {"Authorization": "Bearer athar_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {cw_token}"},
        {"Authorization": cw_token},
    ):
        response = client.get("/api/v1/cases", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_client_stops_at_once(client, admin, caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker)
    api = Api(client, token)
    assert api.get("/cases").status_code == 200
    record = db.session.scalar(select(ApiClient))
    services.revoke_client(admin, record)
    assert_error(api.get("/cases"), 401, "unauthorized")


def test_an_expired_client_is_refused(client, caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker, expires_at=utcnow() + timedelta(minutes=1))
    record = db.session.scalar(select(ApiClient))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_error(Api(client, token).get("/cases"), 401, "unauthorized")


def test_disabled_or_role_changed_accounts_stop_their_clients(
    client, caseworker, other_caseworker, token_maker
) -> None:  # noqa: ANN001
    disabled = token_maker(caseworker)
    promoted = token_maker(other_caseworker)
    auth_services.set_active(caseworker, False)
    auth_services.set_role(other_caseworker, Role.SUPERVISOR)
    assert_error(Api(client, disabled).get("/cases"), 401, "unauthorized")
    # A supervisor sees every case: the client made for a caseworker must not gain that.
    assert_error(Api(client, promoted).get("/cases"), 401, "unauthorized")


def test_a_browser_login_does_not_open_the_api(client, auth, caseworker) -> None:  # noqa: ANN001
    auth.login(caseworker)
    assert client.get("/cases/").status_code == 200  # logged in to the pages
    response = client.get("/api/v1/cases")
    assert_error(response, 401, "unauthorized")
    assert "Set-Cookie" not in response.headers


def test_the_api_sets_no_cookie(cw_api) -> None:  # noqa: ANN001
    response = cw_api.get("/cases")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_token_without_the_scope_gets_403(client, caseworker, case, token_maker) -> None:  # noqa: ANN001
    reader = Api(client, token_maker(caseworker, scopes=("read",)))
    assert reader.get(f"/cases/{case.reference}").status_code == 200
    error = assert_error(
        reader.post(f"/cases/{case.reference}/notes", json={"body": "x"}), 403, "forbidden"
    )
    assert "write" in error["message"]
    assert_error(reader.get("/pfif"), 403, "forbidden")
    writer = Api(client, token_maker(caseworker, scopes=("write",)))
    assert_error(writer.get(f"/cases/{case.reference}"), 403, "forbidden")


def test_tokens_are_stored_only_as_hashes(caseworker, token_maker) -> None:  # noqa: ANN001
    token = token_maker(caseworker)
    record = db.session.scalar(select(ApiClient))
    assert token.startswith("athar_") and len(token) > 40
    assert record.token_hash == services.hash_token(token) != token
    assert token.startswith(record.token_prefix) and len(record.token_prefix) < 16
    row = db.session.execute(select(ApiClient.__table__)).one()
    assert token not in {str(value) for value in row}


def test_admin_accounts_get_no_client(admin) -> None:  # noqa: ANN001
    try:
        services.create_client(admin, admin, "mine", ["read"])
    except services.ApiClientError:
        pass
    else:
        raise AssertionError("an admin account must not get a token")
    assert db.session.scalar(select(ApiClient)) is None


def test_every_request_is_audited_with_its_client(cw_api, caseworker, case) -> None:  # noqa: ANN001
    record = db.session.scalar(select(ApiClient))
    cw_api.get(f"/cases/{case.reference}")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    requests = [e for e in events if e.action == "api_request"]
    assert [(e.object_type, e.object_id, e.actor_id) for e in requests] == [
        ("api_client", record.id, caseworker.id)
    ]
    views = [e for e in events if e.action == "case_view"]
    assert [(e.object_id, e.actor_id) for e in views] == [(case.id, caseworker.id)]
    db.session.refresh(record)
    assert record.last_used_at is not None


def test_refused_tokens_are_not_audited_as_requests(client) -> None:  # noqa: ANN001
    client.get("/api/v1/cases", headers={"Authorization": "Bearer athar_wrong"})
    assert db.session.scalar(select(AuditEvent).filter_by(action="api_request")) is None


def test_each_client_has_its_own_rate_limit(app, client, caseworker, token_maker) -> None:  # noqa: ANN001
    app.config["API_RATE_LIMIT"] = "3 per minute"
    busy = Api(client, token_maker(caseworker))
    other = Api(client, token_maker(caseworker))
    for _ in range(3):
        assert busy.get("/cases").status_code == 200
    response = busy.get("/cases")
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert other.get("/cases").status_code == 200


def test_bad_tokens_are_limited_per_address(app, client, cw_token) -> None:  # noqa: ANN001
    app.config["API_AUTH_FAILURE_LIMIT"] = "3 per 15 minutes"
    wrong = Api(client, "athar_guess")
    for _ in range(3):
        assert wrong.get("/cases").status_code == 401
    response = wrong.get("/cases")
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    # The address is blocked for a while, whatever token it now sends.
    assert Api(client, cw_token).get("/cases").status_code == 429


def test_every_api_view_declares_its_scope(app) -> None:  # noqa: ANN001
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("api."):
            op = view.api_operation
            assert op.scope in {"read", "write", "pfif"} or endpoint == "api.openapi_document"


def test_a_view_without_a_scope_is_refused(tmp_path) -> None:  # noqa: ANN001
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'api.sqlite'}"})

    @public
    def forgotten() -> str:
        return "every case file"

    app.add_url_rule("/api/v1/forgotten", "api.forgotten", forgotten)
    response = app.test_client().get("/api/v1/forgotten")
    assert_error(response, 403, "forbidden")
    assert "every case file" not in response.get_data(as_text=True)
