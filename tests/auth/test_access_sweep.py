"""A sweep over every route: anonymous visitors are sent to log in, each role meets only its pages.

The list of public endpoints is written out here on purpose: making a page public must be a
visible change to this test, never a side effect of a forgotten decorator.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, UnicodeConverter

from cases import create_app
from cases.auth.guard import endpoint_policy, roles
from cases.auth.models import Role
from cases.extensions import db

from ..factories import PASSWORD, make_user, pass_second_step

# Staff sign-in and language, and the families' pages (which prove who they are with a
# reference and secret code instead of an account).
PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.login_code",  # the second step: the password was right, nobody is logged in yet
    "auth.set_language",
    "auth.home",
    # An invitee has no password yet: the link's one-time token is the credential.
    "auth.accept_invitation",
    "static",
    "family.start",
    "family.notice",
    "family.new_inquiry",
    "family.check",
    "family.result",
    "family.add_information",
    "family.data_request",
    "family.correction",
    "family.held",
    "family.finish",
    # Probes for load balancers: "ok" or "unavailable", nothing else (cases/ops/health.py).
    "ops.healthz",
    "ops.readyz",
}
# The JSON API (cases/api): open to the cookie guard, closed by the API's own token check
# (tests/api/test_auth.py). Cookies never authenticate it, so every role meets a 401 there;
# only the OpenAPI document is readable without a token.
API_ENDPOINTS = {
    "api.case_list",
    "api.create_case",
    "api.case_show",
    "api.case_update",
    "api.note_list",
    "api.note_add",
    "api.status_list",
    "api.status_change",
    "api.inquiry_list",
    "api.inquiry_submit",
    "api.inquiry_show",
    "api.pfif_export",
    "api.pfif_import",
}
API_OPEN = {"api.openapi_document"}
DUMMY_ID = 1
UNTESTED_METHODS = {"HEAD", "OPTIONS"}


def _dummy_value(converter) -> object:  # noqa: ANN001
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, IntegerConverter):
        return DUMMY_ID
    if isinstance(converter, UnicodeConverter):
        return "dummy-token"
    raise AssertionError(f"teach the sweep to fill a {type(converter).__name__} argument")


def _requests(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for every route and method; logging out comes last."""
    adapter = app.url_map.bind("localhost")
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
        key=lambda rule: (rule.endpoint == "auth.logout", rule.rule),
    )
    for rule in rules:
        values = {name: _dummy_value(rule._converters[name]) for name in rule.arguments}
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - UNTESTED_METHODS):
            yield rule.endpoint, method, url


def _to_login(response) -> bool:  # noqa: ANN001
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def _guard_sent_to_login(response, method: str, url: str) -> bool:  # noqa: ANN001
    """The guard's redirect: to log in, remembering the page (never a form's address)."""
    remembered = parse_qs(urlsplit(response.location or "").query).get("next")
    return _to_login(response) and remembered == ([url] if method == "GET" else None)


def _log_in(client, username: str) -> None:  # noqa: ANN001
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    response = pass_second_step(client, username, response)
    assert response.status_code == 302, f"{username} could not log in"


def test_every_endpoint_declares_who_may_use_it(app) -> None:
    public = set()
    for endpoint in app.view_functions:
        is_public, allowed = endpoint_policy(app, endpoint)
        if is_public:
            public.add(endpoint)
        else:
            assert allowed, f"{endpoint} declares neither @public nor @roles(...)"
            assert allowed <= set(Role), f"{endpoint} names an unknown role"
    assert public == PUBLIC_ENDPOINTS | API_ENDPOINTS | API_OPEN


def test_areas_belong_to_their_roles(app) -> None:
    for rule in app.url_map.iter_rules():
        _, allowed = endpoint_policy(app, rule.endpoint)
        if rule.rule.startswith("/admin/"):
            assert allowed == {Role.ADMIN}, rule.rule
        if rule.rule.startswith("/oversight/"):
            assert allowed == {Role.SUPERVISOR}, rule.rule
        if rule.rule.startswith("/cases/"):
            assert Role.ADMIN not in allowed, rule.rule
            assert allowed, rule.rule
    # Giving a case to someone else is a supervisor's decision.
    assert endpoint_policy(app, "casework.assign")[1] == {Role.SUPERVISOR}
    # An API token reads case files as its account: only case staff make one, for themselves,
    # and no administrator page makes one for anybody (the admin only lists and revokes).
    case_staff = {Role.CASEWORKER, Role.SUPERVISOR}
    assert endpoint_policy(app, "auth.api_client_create")[1] == case_staff
    assert endpoint_policy(app, "auth.api_client_revoke")[1] == case_staff
    admin_api = {e for e in app.view_functions if e.startswith("admin.api_client")}
    assert admin_api == {"admin.api_client_list", "admin.api_client_revoke"}


def test_anonymous_visitors_are_sent_to_log_in(app, client) -> None:
    wrong = []
    for endpoint, method, url in _requests(app):
        response = client.open(url, method=method)
        if endpoint in API_ENDPOINTS:
            ok = response.status_code == 401 and response.is_json
        elif endpoint in PUBLIC_ENDPOINTS | API_OPEN:
            ok = response.status_code not in (401, 403) and response.status_code < 500
            ok = ok and "next" not in (response.location or "")
        else:
            ok = _guard_sent_to_login(response, method, url)
        if not ok:
            wrong.append(f"{method} {url} -> {response.status_code} {response.location}")
    assert not wrong


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_endpoints(request, app, client, role) -> None:
    user = request.getfixturevalue(role.value)
    _log_in(client, user.username)
    wrong = []
    for endpoint, method, url in _requests(app):
        is_public, allowed = endpoint_policy(app, endpoint)
        if endpoint == "auth.logout":
            # Logging out comes last; check the session survived everything before it.
            assert client.get("/").location != "/login", "the sweep lost its session"
        response = client.open(url, method=method)
        if response.status_code >= 500:
            ok = False
        elif endpoint in API_ENDPOINTS:
            ok = response.status_code == 401  # a staff cookie is no API token
        elif is_public:
            ok = response.status_code != 403
        elif role in allowed:
            # A 404 for a dummy id is fine; a redirect to log in means the session was lost.
            ok = response.status_code != 403 and (
                endpoint == "auth.logout" or not _to_login(response)
            )
        else:
            ok = response.status_code == 403
        if not ok:
            wrong.append(f"{method} {url} -> {response.status_code} {response.location}")
    assert not wrong


def test_admins_never_open_case_files(app, client, admin, case) -> None:
    _log_in(client, admin.username)
    seen = []
    for _endpoint, method, url in _requests(app):
        if url.startswith("/cases/"):
            real_url = url.replace(f"/cases/{DUMMY_ID}", f"/cases/{case.id}")
            response = client.open(real_url, method=method)
            assert response.status_code in (403, 404), f"{method} {real_url}"
            assert case.reference not in response.get_data(as_text=True)
            seen.append(real_url)
    assert f"/cases/{case.id}" in seen


def test_caseworkers_are_kept_out_of_oversight_and_admin(client, caseworker) -> None:
    _log_in(client, caseworker.username)
    assert client.get("/oversight/approvals").status_code == 403
    assert client.get("/admin/users").status_code == 403
    new_account = {
        "username": "intruder",
        "display_name": "Intruder",
        "role": "admin",
        "password": "a long enough passphrase",
    }
    assert client.post("/admin/users", data=new_account).status_code == 403
    assert (
        client.post(f"/admin/users/{caseworker.id}/role", data={"role": "admin"}).status_code == 403
    )
    db.session.expire_all()
    assert caseworker.role == Role.CASEWORKER
    assert db.session.scalar(db.select(db.func.count()).select_from(type(caseworker))) == 1


def test_a_view_without_a_declaration_is_refused_to_everyone(tmp_path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'guard.sqlite'}",
            "WTF_CSRF_ENABLED": False,
        }
    )

    @app.route("/forgotten")
    def forgotten() -> str:
        return "every case file"

    @app.route("/nobody")
    @roles()
    def nobody() -> str:
        return "every case file"

    with app.app_context():
        db.create_all()
        for role in Role:
            make_user(f"user-{role.value}", role)
    try:
        # No app context is held open here, so every request gets its own, as in production.
        anonymous = app.test_client()
        assert _guard_sent_to_login(anonymous.get("/forgotten"), "GET", "/forgotten")
        for role in Role:
            client = app.test_client()
            _log_in(client, f"user-{role.value}")
            for url in ("/forgotten", "/nobody"):
                response = client.get(url)
                assert response.status_code == 403, (role, url)
                assert "every case file" not in response.get_data(as_text=True)
            # Still logged in, so the 403 came from the guard and not from a lost session.
            assert client.get("/").headers["Location"] != "/login"
    finally:
        with app.app_context():
            db.engine.dispose()
