"""Logging in and out: where staff land, one message for every failure, sessions that end."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import gettext

from cases.auth import services
from cases.auth.models import Role, User
from cases.extensions import db

from ..factories import PASSWORD

GENERIC_FAILURE = "Incorrect username or password."


def _post_login(client, username: str, password: str, **extra: str):  # noqa: ANN001, ANN202
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client.post("/login", data={"username": username, "password": password, **extra})


def _sent_to_login(response) -> bool:  # noqa: ANN001
    """The guard's answer to a visitor without a valid session."""
    location = urlsplit(response.headers.get("Location", ""))
    return response.status_code == 302 and location.path == "/login"


def _logged_in(client) -> bool:  # noqa: ANN001
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.mark.parametrize(
    ("role_fixture", "home"),
    [("caseworker", "/cases/"), ("supervisor", "/cases/"), ("admin", "/admin/users")],
)
def test_correct_login_lands_on_the_roles_home(request, client, auth, role_fixture, home) -> None:
    user = request.getfixturevalue(role_fixture)
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, caseworker) -> None:
    wrong_password = _post_login(client, caseworker.username, "not the right passphrase")
    unknown_user = _post_login(client, "nobody-here", "not the right passphrase")

    assert wrong_password.status_code == unknown_user.status_code == 200

    # The username is echoed back into its field; apart from that (and the CSRF token, which is
    # time-stamped) the pages must be identical.
    def masked(response, username: str) -> str:  # noqa: ANN001
        page = response.get_data(as_text=True).replace(username, "NAME")
        masked_page, tokens = re.subn(r'(name="csrf_token"[^>]*value=)"[^"]*"', r"\1CSRF", page)
        assert tokens, "the page carries a CSRF token"
        return masked_page

    assert masked(wrong_password, caseworker.username) == masked(unknown_user, "nobody-here")
    assert GENERIC_FAILURE in wrong_password.get_data(as_text=True)
    assert not _logged_in(client)


def test_disabled_account_cannot_log_in_and_gets_the_same_message(client, caseworker) -> None:
    wrong_password = _post_login(client, caseworker.username, "not the right passphrase")
    services.set_active(caseworker, False)

    disabled = _post_login(client, caseworker.username, PASSWORD)

    assert disabled.status_code == 200
    assert disabled.get_data(as_text=True) == wrong_password.get_data(as_text=True)
    assert GENERIC_FAILURE in disabled.get_data(as_text=True)
    assert not _logged_in(client)
    assert _sent_to_login(client.get("/cases/"))


def test_logout_is_post_only_and_ends_the_session(client, auth, caseworker) -> None:
    auth.login(caseworker)

    assert client.get("/logout").status_code == 405
    assert client.get("/cases/").status_code == 200  # a GET did not log anybody out

    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert _sent_to_login(client.get("/cases/"))


def test_login_starts_a_new_session(app, client, caseworker) -> None:
    with client.session_transaction() as session:
        session["planted"] = "attacker-chosen value"
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    _post_login(client, caseworker.username, PASSWORD)

    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(caseworker.id)
        # The key of the new server-side session (tests/auth/test_sessions.py).
        assert session["staff_session"]


def test_next_is_honoured_for_a_relative_path(client, caseworker) -> None:
    # The guard sends the visitor to the login page with the page they wanted in `next`...
    wanted = client.get("/cases/new")
    assert _sent_to_login(wanted)
    assert parse_qs(urlsplit(wanted.headers["Location"]).query)["next"] == ["/cases/new"]
    # ...the login form carries it...
    page = client.get(wanted.headers["Location"]).get_data(as_text=True)
    assert re.search(r'name="next"[^>]*value="/cases/new"', page)
    # ...and a successful login goes there.
    response = _post_login(client, caseworker.username, PASSWORD, next="/cases/new")
    assert response.headers["Location"] == "/cases/new"


def test_a_form_sent_without_a_session_leads_back_home_not_to_an_error(
    client, caseworker, case
) -> None:
    note = {"body": "Called the brother", "kind": "call", "visibility": "internal"}
    response = client.post(f"/cases/{case.id}/notes", data=note)
    assert _sent_to_login(response)
    assert "next" not in response.headers["Location"]  # the note's address only takes POSTs

    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="next"[^>]*value=""', login_page)
    response = _post_login(client, caseworker.username, PASSWORD, next="")
    assert response.headers["Location"] == "/cases/"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example"]
)
def test_next_pointing_off_site_is_ignored(client, caseworker, target) -> None:
    response = _post_login(client, caseworker.username, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases/"


def test_disabling_a_user_ends_their_session(client, auth, caseworker) -> None:
    auth.login(caseworker)
    assert client.get("/cases/").status_code == 200

    services.set_active(caseworker, False)

    assert _sent_to_login(client.get("/cases/"))


def test_password_change_ends_the_other_sessions(app, client, auth, caseworker) -> None:
    auth.login(caseworker)
    laptop = app.test_client()
    _post_login(laptop, caseworker.username, PASSWORD)
    assert laptop.get("/cases/").status_code == 200

    services.set_password(caseworker, "a brand new long passphrase")

    assert _sent_to_login(laptop.get("/cases/"))
    assert _sent_to_login(client.get("/cases/"))
    assert not _logged_in(_login_client(app, caseworker.username, PASSWORD))
    assert _logged_in(_login_client(app, caseworker.username, "a brand new long passphrase"))


def _login_client(app, username: str, password: str):  # noqa: ANN001, ANN202
    client = app.test_client()
    _post_login(client, username, password)
    return client


def test_login_without_csrf_token_is_refused_with_a_plain_400(
    monkeypatch, app, client, caseworker
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = _post_login(client, caseworker.username, PASSWORD)

    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form expired" in body
    assert "Traceback" not in body
    assert "CSRF" not in body
    assert not _logged_in(client)
    # With the token from the form the same credentials work: the 400 was about the token.
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = _post_login(client, caseworker.username, PASSWORD, csrf_token=token)
    assert response.status_code == 302
    assert _logged_in(client)


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_create_user_refuses_passwords_under_twelve_characters(app, password) -> None:
    with pytest.raises(services.AccountError) as refused:
        services.create_user("newcomer", Role.CASEWORKER, password)
    assert str(refused.value) == gettext("The password must have at least %(n)d characters.", n=12)
    assert db.session.scalar(db.select(User).filter_by(username="newcomer")) is None


def test_twelve_characters_are_enough(app) -> None:
    assert services.create_user("newcomer", Role.CASEWORKER, "twelve chars").id is not None


def test_passwords_are_stored_as_argon2id(caseworker) -> None:
    stored = db.session.scalar(db.select(User.password_hash).filter_by(id=caseworker.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_64_character_passphrase_works(client) -> None:
    passphrase = "the river remembers every name we gave it, and so will we: 1958!"
    assert len(passphrase) == 64
    services.create_user("long-pass", Role.CASEWORKER, passphrase)

    response = _post_login(client, "long-pass", passphrase)

    assert response.headers["Location"] == "/cases/"
    assert _logged_in(client)


def test_language_chosen_before_login_survives_login(client, auth, caseworker) -> None:
    auth.login(caseworker, lang="en")  # the default language is Arabic

    with client.session_transaction() as session:
        assert session["lang"] == "en"
    assert '<html lang="en" dir="ltr">' in client.get("/cases/").get_data(as_text=True)


def test_an_idle_session_ends(app, client, auth, caseworker, monkeypatch) -> None:
    from datetime import timedelta

    from cases.clock import utcnow

    auth.login(caseworker)
    assert client.get("/cases/").status_code == 200
    # The limits are kept on the server: move the clock the session checks read.
    later = utcnow() + timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 5)
    monkeypatch.setattr("cases.auth.sessions.utcnow", lambda: later)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_busy_session_still_ends_after_the_absolute_limit(
    app, client, auth, caseworker, monkeypatch
) -> None:
    from datetime import timedelta

    from cases.clock import utcnow

    auth.login(caseworker)
    start = utcnow()
    step = timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] - 60)
    now = start
    # Keep using it just inside the idle limit until past the absolute limit.
    while now - start <= timedelta(seconds=app.config["SESSION_ABSOLUTE_SECONDS"]):
        now += step
        monkeypatch.setattr("cases.auth.sessions.utcnow", lambda now=now: now)
        response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
