"""Server-side staff sessions: every login is a row the server times out and ends (issue 5).

ASVS V7.3.1-2 (idle and absolute limits on the server), V7.4.1-2 (logout and disabling end the
session on the server), V7.4.3-5 (see and end one's other sessions; a password change ends them).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from cases.audit.models import AuditEvent
from cases.auth import services, sessions
from cases.auth.models import StaffSession, User
from cases.clock import utcnow
from cases.extensions import db

from ..factories import PASSWORD, pass_second_step

NEW_PASSWORD = "a brand new long passphrase"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _log_in(client, user: User, agent: str = FIREFOX, addr: str = "203.0.113.7"):  # noqa: ANN001, ANN202
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD},
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": addr},
    )
    response = pass_second_step(client, user.username, response)
    assert response.status_code == 302, f"{user.username} could not log in"
    return response


def _browser(app, user: User, agent: str = FIREFOX, addr: str = "203.0.113.7"):  # noqa: ANN001, ANN202
    """Another browser (its own cookies), logged in as ``user``."""
    client = app.test_client()
    _log_in(client, user, agent, addr)
    return client


def _sent_to_login(response) -> bool:  # noqa: ANN001
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def _rows(user: User) -> list[StaffSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(StaffSession).filter_by(user_id=user.id).order_by(StaffSession.id)
        )
    )


def _cookie_key(client) -> str:  # noqa: ANN001
    with client.session_transaction() as session:
        return session[sessions.COOKIE_KEY]


def _move(row: StaffSession, **times: timedelta) -> None:
    """Set a session's timestamps to ``now - delta`` in the database; the cookie is untouched."""
    now = utcnow()
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == row.id)
        .values(**{name: now - delta for name, delta in times.items()})
    )
    db.session.commit()


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


# --- a login is a row --------------------------------------------------------------------------


def test_login_creates_a_session_row_that_holds_only_a_hash_of_the_key(client, caseworker):
    long_agent = FIREFOX + " x" * 300
    _log_in(client, caseworker, agent=long_agent, addr="198.51.100.23")

    [row] = _rows(caseworker)
    key = _cookie_key(client)
    assert len(key) >= 43  # 32 random bytes
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.key_hash, row.user_agent, row.ip)
    assert row.ip == "198.51.100.23"
    assert row.user_agent == long_agent[:200]
    assert row.ended_at is None and row.end_reason is None
    assert row.created_at == row.last_seen_at
    assert client.get("/cases/").status_code == 200


def test_each_login_is_its_own_session(app, client, caseworker):
    _log_in(client, caseworker)
    _browser(app, caseworker, agent=ANDROID_CHROME)

    rows = _rows(caseworker)
    assert len(rows) == 2
    assert len({row.key_hash for row in rows}) == 2


def test_logout_ends_the_row(client, caseworker):
    _log_in(client, caseworker)
    client.post("/logout")

    [row] = _rows(caseworker)
    assert row.ended_at is not None
    assert row.end_reason == "logout"


def test_the_cookie_copied_before_logout_no_longer_works(app, client, caseworker):
    _log_in(client, caseworker)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    copied = client.get_cookie(cookie_name).value
    client.post("/logout")

    thief = app.test_client()
    thief.set_cookie(cookie_name, copied)
    response = thief.get("/cases/")

    assert _sent_to_login(response)
    page = thief.get(response.location).get_data(as_text=True)
    assert "Your session ended. Please log in again." in page


def test_a_signed_cookie_without_a_session_row_loads_nobody(client, caseworker):
    # What a cookie from before server-side sessions looked like, or one forged with the key.
    with client.session_transaction() as session:
        session["_user_id"] = f"{caseworker.id}:0123456789abcdef"
    assert _sent_to_login(client.get("/cases/"))
    with client.session_transaction() as session:
        session["_user_id"] = str(caseworker.id)
        session[sessions.COOKIE_KEY] = "made-up-key"
    assert _sent_to_login(client.get("/cases/"))


def test_a_key_only_works_for_its_own_account(app, client, caseworker, other_caseworker):
    _log_in(client, caseworker)
    with client.session_transaction() as session:
        session["_user_id"] = str(other_caseworker.id)  # as if the signing key had leaked
    assert _sent_to_login(client.get("/cases/"))


# --- limits kept on the server ------------------------------------------------------------------


def test_an_idle_session_ends_by_the_database_time(app, client, caseworker):
    _log_in(client, caseworker)
    [row] = _rows(caseworker)
    _move(row, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 5))

    assert _sent_to_login(client.get("/cases/"))
    [row] = _rows(caseworker)
    assert row.end_reason == "idle"
    ended = _events("session_end")
    assert [(e.object_id, e.actor_id) for e in ended] == [(caseworker.id, caseworker.id)]


def test_a_session_just_inside_the_idle_limit_lives_on(app, client, caseworker):
    _log_in(client, caseworker)
    [row] = _rows(caseworker)
    _move(row, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] - 5))

    assert client.get("/cases/").status_code == 200
    [row] = _rows(caseworker)
    assert row.ended_at is None
    assert utcnow() - row.last_seen_at < timedelta(seconds=5)  # the visit counted


def test_a_busy_session_ends_at_the_absolute_limit(app, client, caseworker):
    _log_in(client, caseworker)
    [row] = _rows(caseworker)
    # Used a second ago, but begun longer ago than a login may last.
    _move(
        row,
        created_at=timedelta(seconds=app.config["SESSION_ABSOLUTE_SECONDS"] + 5),
        last_seen_at=timedelta(seconds=1),
    )

    assert _sent_to_login(client.get("/cases/"))
    assert _rows(caseworker)[0].end_reason == "expired"


def test_last_seen_is_written_at_most_once_a_minute(client, caseworker):
    _log_in(client, caseworker)
    [row] = _rows(caseworker)
    _move(row, last_seen_at=timedelta(seconds=30))
    before = _rows(caseworker)[0].last_seen_at

    client.get("/cases/")
    assert _rows(caseworker)[0].last_seen_at == before  # no write for a recent visit

    _move(row, last_seen_at=timedelta(seconds=90))
    client.get("/cases/")
    assert utcnow() - _rows(caseworker)[0].last_seen_at < timedelta(seconds=5)


# --- the account page ---------------------------------------------------------------------------


def test_the_account_page_lists_my_open_sessions(app, client, caseworker, other_caseworker):
    _log_in(client, caseworker, agent=FIREFOX, addr="203.0.113.7")
    _browser(app, caseworker, agent=ANDROID_CHROME, addr="198.51.100.9")
    phone = _browser(app, caseworker, agent=ANDROID_CHROME, addr="198.51.100.10")
    phone.post("/logout")
    _browser(app, other_caseworker, addr="192.0.2.44")

    response = client.get("/account")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Firefox, Windows" in page
    assert "Chrome, Android" in page
    assert "203.0.113.7" in page and "198.51.100.9" in page
    assert "198.51.100.10" not in page  # logged out
    assert "192.0.2.44" not in page  # someone else's
    assert page.count("This browser") == 1
    assert page.count("End this session") == 1  # not offered for the session in use


def test_ending_a_session_from_another_browser_logs_that_browser_out(app, client, caseworker):
    _log_in(client, caseworker)
    phone = _browser(app, caseworker, agent=ANDROID_CHROME)
    assert phone.get("/cases/").status_code == 200
    phone_row = _rows(caseworker)[1]

    response = client.post(f"/account/sessions/{phone_row.id}/end")

    assert response.status_code == 302
    assert "That session has ended" in client.get("/account").get_data(as_text=True)
    assert _sent_to_login(phone.get("/cases/"))
    assert client.get("/cases/").status_code == 200
    rows = _rows(caseworker)
    assert [row.end_reason for row in rows] == [None, "revoked"]
    assert [e.object_id for e in _events("session_end")] == [caseworker.id]


def test_the_session_in_use_is_ended_by_logging_out_not_from_the_list(client, caseworker):
    _log_in(client, caseworker)
    [row] = _rows(caseworker)

    client.post(f"/account/sessions/{row.id}/end")

    page = client.get("/account").get_data(as_text=True)
    assert "This is the session you are using. Log out to end it." in page
    assert _rows(caseworker)[0].ended_at is None


def test_nobody_can_end_someone_elses_session(app, client, caseworker, other_caseworker):
    theirs = _browser(app, other_caseworker)
    their_row = _rows(other_caseworker)[0]
    _log_in(client, caseworker)

    client.post(f"/account/sessions/{their_row.id}/end")

    # The same answer as for a session that does not exist: nothing about other accounts.
    page = client.get("/account").get_data(as_text=True)
    assert "That session has already ended." in page
    assert theirs.get("/cases/").status_code == 200
    assert _rows(other_caseworker)[0].ended_at is None


def _change_password(client, current: str, new: str, again: str | None = None):  # noqa: ANN001, ANN202
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": again or new},
    )


def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(app, client, caseworker):
    _log_in(client, caseworker)
    laptop = _browser(app, caseworker)

    response = _change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.location == "/account"
    assert "Your other sessions have ended" in client.get("/account").get_data(as_text=True)
    assert client.get("/cases/").status_code == 200
    assert _sent_to_login(laptop.get("/cases/"))
    assert [row.end_reason for row in _rows(caseworker)] == [None, "password_change"]
    assert not services.check_password(caseworker, PASSWORD)
    assert services.check_password(caseworker, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password at all", NEW_PASSWORD, None, "This is not your current password."),
        (PASSWORD, "too short", None, "The password must have at least 12 characters."),
        (PASSWORD, "password1234", None, "This password is on the list of common passwords."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords are not the same."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, client, caseworker, current, new, again, message
):
    _log_in(client, caseworker)
    laptop = _browser(app, caseworker)

    response = _change_password(client, current, new, again)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert services.check_password(caseworker, PASSWORD)
    assert laptop.get("/cases/").status_code == 200
    assert all(row.ended_at is None for row in _rows(caseworker))


def test_guessing_the_current_password_is_limited(client, caseworker):
    _log_in(client, caseworker)
    statuses = [
        _change_password(client, f"wrong guess number {i}", NEW_PASSWORD).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


# --- sessions that end because of something else ---------------------------------------------


def test_disabling_an_account_ends_all_its_sessions(app, client, auth, admin, caseworker):
    phone = _browser(app, caseworker, agent=ANDROID_CHROME)
    laptop = _browser(app, caseworker)
    auth.login(admin)

    client.post(f"/admin/users/{caseworker.id}/disable")

    assert _sent_to_login(phone.get("/cases/"))
    assert _sent_to_login(laptop.get("/cases/"))
    assert [row.end_reason for row in _rows(caseworker)] == ["disabled", "disabled"]


def test_a_role_change_ends_all_sessions(app, caseworker):
    laptop = _browser(app, caseworker)

    services.set_role(caseworker, "supervisor")

    assert _sent_to_login(laptop.get("/cases/"))
    assert [row.end_reason for row in _rows(caseworker)] == ["role_change"]


def test_an_admin_ends_all_sessions_of_a_user_after_re_entering_their_password(
    app, client, auth, admin, caseworker
):
    phone = _browser(app, caseworker, agent=ANDROID_CHROME)
    laptop = _browser(app, caseworker)
    auth.login(admin)
    row_html = re.compile(rf'<td dir="ltr">{caseworker.username}</td>.*?</tr>', re.S)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<td>2</td>" in row_html.search(page).group(0)  # open sessions

    client.post(f"/admin/users/{caseworker.id}/end-sessions", data={"password": "not mine!!"})
    assert "This is not your password" in client.get("/admin/users").get_data(as_text=True)
    assert phone.get("/cases/").status_code == 200

    client.post(f"/admin/users/{caseworker.id}/end-sessions", data={"password": PASSWORD})

    page = client.get("/admin/users").get_data(as_text=True)
    assert f"Sessions of {caseworker.username} ended: 2." in page
    assert "<td>0</td>" in row_html.search(page).group(0)
    assert _sent_to_login(phone.get("/cases/"))
    assert _sent_to_login(laptop.get("/cases/"))
    assert [row.end_reason for row in _rows(caseworker)] == ["revoked", "revoked"]
    [event] = _events("session_end")
    assert (event.actor_id, event.object_id) == (admin.id, caseworker.id)
    assert client.get("/admin/users").status_code == 200  # the admin's own session lives on


def test_an_admin_ends_their_own_sessions_from_their_account_page(client, auth, admin):
    auth.login(admin)
    client.post(f"/admin/users/{admin.id}/end-sessions", data={"password": PASSWORD})
    assert "Use your own account page" in client.get("/admin/users").get_data(as_text=True)
    assert all(row.ended_at is None for row in _rows(admin))


# --- the rules without HTTP ---------------------------------------------------------------------


def test_end_sessions_outside_a_request_ends_every_session(app, caseworker):
    sessions.open_session(caseworker)
    sessions.open_session(caseworker)

    assert services.end_sessions(caseworker, except_current=True, reason="revoked") == 2
    db.session.commit()
    assert sessions.active_sessions(caseworker) == []


def test_sessions_past_a_limit_are_not_counted_as_open(app, caseworker, other_caseworker):
    live, _ = sessions.open_session(caseworker)
    idle, _ = sessions.open_session(caseworker)
    sessions.open_session(other_caseworker)
    _move(idle, last_seen_at=timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 1))

    assert sessions.active_sessions(caseworker) == [live]
    assert sessions.active_session_counts() == {caseworker.id: 1, other_caseworker.id: 1}


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (FIREFOX, "Firefox, Windows"),
        (ANDROID_CHROME, "Chrome, Android"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari, iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge, Windows",
        ),
        ("curl/8.5.0", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_browsers_get_short_names(app, agent, name):
    assert sessions.describe_browser(agent) == name
