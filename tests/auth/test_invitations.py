"""Invitation links: administrators never choose or see a colleague's password (issue 5).

ASVS V6.3.2 (no default or shared passwords), V6.4.1 (one-time, expiring, random links for
initial passwords), V6.5.2 (only a hash of the token is stored).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from cases.audit.models import AuditEvent
from cases.auth import invitations, services
from cases.auth.models import Invitation, Role, StaffSession, User
from cases.clock import utcnow
from cases.extensions import db

from ..factories import PASSWORD

CHOSEN = "river of palms at dawn"
INVALID = "This invitation link does not work"
CSRF = re.compile(r'name="csrf_token" value="[^"]*"')
LINK = re.compile(r'value="(http://localhost/invite/([A-Za-z0-9_-]+))"')


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).filter_by(username=username))


def _invite_on_page(client, username: str = "layla", role: str = "caseworker"):  # noqa: ANN001, ANN202
    """The admin creates an account; returns the page and the link's token shown on it."""
    response = client.post(
        "/admin/users",
        data={"username": username, "display_name": "Layla Hassan", "role": role},
    )
    page = response.get_data(as_text=True)
    match = LINK.search(page)
    assert response.status_code == 200 and match, page
    return page, match.group(2)


def _browser(app):  # noqa: ANN001, ANN202
    """Another browser, reading pages in English."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def _accept(client, token: str, password: str = CHOSEN, again: str | None = None):  # noqa: ANN001, ANN202
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client.post(
        f"/invite/{token}", data={"password": password, "confirm": again or password}
    )


def _can_log_in(app, username: str, password: str) -> bool:  # noqa: ANN001
    client = _browser(app)
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post("/login", data={"username": username, "password": password})
    return response.status_code == 302


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


class _NewAccountForm(HTMLParser):
    """The input types of the form that posts to /admin/users."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.inputs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = urlsplit(a.get("action") or "").path == "/admin/users"
        elif tag in ("input", "select") and self.inside:
            self.inputs.append((a.get("name") or "", a.get("type") or tag))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


# --- the administrator's side -------------------------------------------------------------------


def test_the_new_account_form_has_no_password_field(client, auth, admin):
    auth.login(admin)
    parser = _NewAccountForm()
    parser.feed(client.get("/admin/users").get_data(as_text=True))

    names = {name for name, _ in parser.inputs}
    assert {"username", "display_name", "role"} <= names
    assert not any(kind == "password" or "password" in name for name, kind in parser.inputs)


def test_a_password_sent_with_a_new_account_is_ignored(app, client, auth, admin):
    auth.login(admin)
    client.post(
        "/admin/users",
        data={
            "username": "layla",
            "display_name": "Layla",
            "role": "caseworker",
            "password": "chosen by the admin",
        },
    )

    user = _user("layla")
    assert user is not None and user.active
    assert not _can_log_in(app, "layla", "chosen by the admin")


def test_creating_an_account_shows_a_one_time_link_stored_only_as_a_hash(client, auth, admin):
    auth.login(admin)
    page, token = _invite_on_page(client)

    assert "It is shown only now" in page
    assert len(token) >= 43  # 32 random bytes
    invitation = db.session.scalar(select(Invitation))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.user_id == _user("layla").id
    assert invitation.created_by_id == admin.id
    assert invitation.used_at is None
    hours = (invitation.expires_at - invitation.created_at) / timedelta(hours=1)
    assert hours == 72
    # The token itself is in no column of any table.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert not any(token in str(value) for value in row), table.name
    # Shown once: the page does not show it again.
    assert token not in client.get("/admin/users").get_data(as_text=True)
    [event] = _events("invitation_create")
    assert (event.actor_id, event.object_id) == (admin.id, _user("layla").id)


def test_an_invited_account_cannot_log_in_before_accepting(app, client, auth, admin):
    auth.login(admin)
    _invite_on_page(client)

    user = _user("layla")
    # A real argon2id hash (of a secret nobody has): a login costs the same work as any other.
    assert user.password_hash.startswith("$argon2id$")
    for guess in ("", "layla", PASSWORD, CHOSEN):
        assert not services.check_password(user, guess)
    assert not _can_log_in(app, "layla", PASSWORD)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Invited, link open until" in page


def test_a_refused_username_keeps_what_the_admin_typed(client, auth, admin, caseworker):
    auth.login(admin)
    response = client.post(
        "/admin/users",
        data={"username": caseworker.username, "display_name": "Twin", "role": "caseworker"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "That username is already taken." in page
    assert 'value="Twin"' in page
    assert not LINK.search(page)
    assert db.session.scalar(select(Invitation)) is None


# --- the invitee's side -------------------------------------------------------------------------


def test_the_link_sets_the_password_and_logs_in_once(app, client, auth, admin):
    auth.login(admin)
    _, token = _invite_on_page(client)
    invitee = _browser(app)

    opened = invitee.get(f"/invite/{token}")
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert "layla" in page and "Set your password" in page
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["Referrer-Policy"] == "no-referrer"

    response = _accept(invitee, token)

    assert response.status_code == 302
    assert response.location == "/cases/"
    assert invitee.get("/cases/").status_code == 200
    user = _user("layla")
    assert db.session.scalar(select(StaffSession).filter_by(user_id=user.id)).ended_at is None
    assert db.session.scalar(select(Invitation.used_at)) is not None
    assert _can_log_in(app, "layla", CHOSEN)
    assert [e.actor_id for e in _events("invitation_use")] == [user.id]
    # Used once: the same link now gets the page every bad link gets.
    again = _browser(app).get(f"/invite/{token}")
    assert again.status_code == 404
    assert INVALID in again.get_data(as_text=True)
    assert _accept(_browser(app), token, "another fine passphrase").status_code == 404
    assert not _can_log_in(app, "layla", "another fine passphrase")


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short", None, "The password must have at least 12 characters."),
        ("password1234", None, "This password is on the list of common passwords."),
        (CHOSEN, CHOSEN + ".", "The two passwords are not the same."),
    ],
)
def test_a_weak_passphrase_is_refused_and_the_link_still_works(
    app, client, auth, admin, password, again, message
):
    auth.login(admin)
    _, token = _invite_on_page(client)
    invitee = _browser(app)

    response = _accept(invitee, token, password, again)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation.used_at)) is None
    assert not _can_log_in(app, "layla", password)
    assert _accept(invitee, token).status_code == 302
    assert _can_log_in(app, "layla", CHOSEN)


def test_unknown_used_expired_and_disabled_links_look_the_same(app, client, auth, admin):
    auth.login(admin)
    _, expired = _invite_on_page(client, "expired-one")
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    _, used = _invite_on_page(client, "used-one")
    _accept(_browser(app), used)
    _, disabled = _invite_on_page(client, "disabled-one")
    services.set_active(_user("disabled-one"), False)
    unknown = "x" * 43

    pages = []
    for token in (unknown, used, expired, disabled, "y" * 5000):
        response = _browser(app).get(f"/invite/{token}")
        assert response.status_code == 404
        # Only the page's own address (in the language switch) and each browser's CSRF token
        # may differ.
        page = response.get_data(as_text=True).replace(token, "TOKEN")
        pages.append(CSRF.sub("CSRF", page))
    assert INVALID in pages[0]
    assert "Ask your administrator for a new link." in pages[0]
    assert len(set(pages)) == 1
    assert not _can_log_in(app, "expired-one", CHOSEN)
    assert _accept(_browser(app), expired).status_code == 404
    assert _accept(_browser(app), disabled).status_code == 404
    assert not _can_log_in(app, "expired-one", CHOSEN)


def test_the_link_expires_after_the_configured_hours(app, client, auth, admin, monkeypatch):
    app.config["INVITATION_HOURS"] = 2
    auth.login(admin)
    _, token = _invite_on_page(client)
    assert invitations.find_valid(token) is not None

    later = utcnow() + timedelta(hours=2, seconds=1)
    monkeypatch.setattr("cases.auth.invitations.utcnow", lambda: later)

    assert invitations.find_valid(token) is None


def test_opening_links_is_rate_limited(app, client):
    app.config["INVITATION_LIMIT"] = "3 per 15 minutes"
    statuses = [client.get(f"/invite/guess-{i}").status_code for i in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_a_supervisor_invitee_is_sent_to_set_up_two_factor(app, client, auth, admin):
    auth.login(admin)
    _, token = _invite_on_page(client, role="supervisor")
    invitee = _browser(app)

    home = _accept(invitee, token).location
    response = invitee.get(home)

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/account/two-factor"


def test_accepting_in_a_browser_where_someone_is_logged_in_logs_them_out(
    app, client, auth, admin, caseworker
):
    auth.login(admin)
    _, token = _invite_on_page(client)
    shared = _browser(app)
    with shared.session_transaction() as session:
        session["lang"] = "en"
    shared.post("/login", data={"username": caseworker.username, "password": PASSWORD})

    _accept(shared, token)

    ended = db.session.scalar(select(StaffSession).filter_by(user_id=caseworker.id))
    assert ended.end_reason == "logout"
    page = shared.get("/account").get_data(as_text=True)
    assert "layla" in page and caseworker.username not in page


# --- resetting a password by invitation ---------------------------------------------------------


def test_an_admin_resets_a_password_by_a_new_link(app, client, auth, admin, caseworker):
    laptop = _browser(app)
    with laptop.session_transaction() as session:
        session["lang"] = "en"
    laptop.post("/login", data={"username": caseworker.username, "password": PASSWORD})
    auth.login(admin)
    url = f"/admin/users/{caseworker.id}/invitation"

    refused = client.post(url, data={"password": "not my password!"})
    assert refused.status_code == 302
    assert laptop.get("/cases/").status_code == 200
    assert _can_log_in(app, caseworker.username, PASSWORD)

    first = LINK.search(client.post(url, data={"password": PASSWORD}).get_data(as_text=True))
    assert first is not None
    assert not _can_log_in(app, caseworker.username, PASSWORD)  # the old password is gone
    assert urlsplit(laptop.get("/cases/").location).path == "/login"
    ended = db.session.scalar(select(StaffSession).filter_by(user_id=caseworker.id))
    assert ended.end_reason == "password_reset"

    second = LINK.search(client.post(url, data={"password": PASSWORD}).get_data(as_text=True))
    assert _browser(app).get(f"/invite/{first.group(2)}").status_code == 404
    assert _accept(_browser(app), second.group(2)).status_code == 302
    assert _can_log_in(app, caseworker.username, CHOSEN)


def test_a_disabled_account_gets_no_new_link(client, auth, admin, caseworker):
    services.set_active(caseworker, False)
    auth.login(admin)

    response = client.post(f"/admin/users/{caseworker.id}/invitation", data={"password": PASSWORD})

    assert response.status_code == 302
    assert "Enable the account first" in client.get("/admin/users").get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None


# --- the command line ---------------------------------------------------------------------------


def test_cli_invite_prints_a_working_link(app, runner, caseworker):
    result = runner.invoke(
        args=["user", "invite", caseworker.username, "--base-url", "https://athar.example.org/"]
    )

    assert result.exit_code == 0, result.output
    match = re.search(r"https://athar\.example\.org/invite/([A-Za-z0-9_-]+)\n", result.output)
    assert match, result.output
    assert not _can_log_in(app, caseworker.username, PASSWORD)
    assert _accept(_browser(app), match.group(1)).status_code == 302
    assert _can_log_in(app, caseworker.username, CHOSEN)


def test_cli_invite_defaults_to_the_local_address(runner, caseworker):
    result = runner.invoke(args=["user", "invite", caseworker.username])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/invite/" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ghost"], "No user named ghost."),
        (["zainab", "--base-url", "javascript:alert(1)"], "must start with http"),
    ],
)
def test_cli_invite_refuses_bad_input(runner, caseworker, args, message):
    result = runner.invoke(args=["user", "invite", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(Invitation)) is None


def test_create_user_with_a_password_still_works_for_the_first_admin(app):
    user = services.create_user("first-admin", Role.ADMIN, CHOSEN)
    assert services.check_password(user, CHOSEN)
    assert db.session.scalar(select(Invitation)) is None


def test_a_link_used_meanwhile_cannot_be_used_again(app, admin):
    # Two tabs opened the link; both send the form.
    _, token = invitations.invite_new_user(admin, "layla", Role.CASEWORKER)
    first_tab = invitations.find_valid(token)
    second_tab = invitations.find_valid(token)
    invitations.accept(first_tab, CHOSEN)

    with pytest.raises(invitations.InvitationUsedError):
        invitations.accept(second_tab, "another fine passphrase")

    user = _user("layla")
    assert services.check_password(user, CHOSEN)
    assert not services.check_password(user, "another fine passphrase")
