"""Two-factor authentication: enrolment, the login's second step, recovery codes, admin reset."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
import segno
from flask_babel import gettext
from sqlalchemy import func, select, text

from cases import crypto
from cases.audit.models import AuditEvent
from cases.auth import totp
from cases.auth.models import RecoveryCode, Role, User
from cases.extensions import db

from ..factories import PASSWORD, enrol_two_factor, make_user, pass_second_step, totp_code

WRONG_CODE = "That code is not valid. Try again."
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _path(response) -> str:  # noqa: ANN001
    return urlsplit(response.headers.get("Location", "")).path


def _logged_in(client) -> bool:  # noqa: ANN001
    with client.session_transaction() as session:
        return "_user_id" in session


def _password_step(client, user: User, **extra: str):  # noqa: ANN001, ANN202
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client.post("/login", data={"username": user.username, "password": PASSWORD, **extra})


def _events(action: str, user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.object_id == user.id)
    )


def _secret_on_page(page: str) -> str:
    match = re.search(r'class="totp-key"[^>]*>([A-Z2-7 ]+)<', page)
    assert match, "no key for typing by hand on the page"
    return match.group(1).replace(" ", "")


def _codes_on_page(page: str) -> list[str]:
    return re.findall(r'class="totp-key">([a-z2-9]{5}-[a-z2-9]{5})<', page)


def _fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# --- supervisors and admins must enrol ------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "pages", "form"),
    [
        (Role.SUPERVISOR, ["/cases/", "/oversight/", "/oversight/approvals"], "/cases/new"),
        (Role.ADMIN, ["/admin/users", "/audit/accounts"], "/admin/users"),
    ],
)
def test_supervisors_and_admins_without_it_are_sent_to_set_it_up(
    client, auth, role, pages, form
) -> None:
    user = make_user("layla", role, two_factor=False)
    response = auth.login(user)
    assert response.status_code == 302  # the password alone logs them in, this once

    for url in pages:
        assert _path(client.get(url)) == "/account/two-factor", url
    assert _path(client.post(form, data={"x": "y"})) == "/account/two-factor"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # nothing was made

    page = client.get("/account/two-factor")
    assert page.status_code == 200
    text_ = page.get_data(as_text=True)
    assert "<svg" in text_
    assert gettext("Your role requires two-factor authentication. Set it up to continue.") in text_
    # The language switch, static files and logging out still work.
    assert _path(client.post("/language", data={"lang": "ar", "next": "/login"})) == "/login"
    with client.get("/static/athar.css") as static:
        assert static.status_code == 200
    assert _path(client.post("/logout")) == "/login"
    assert not _logged_in(client)


def test_caseworkers_are_not_forced(client, auth, caseworker) -> None:
    auth.login(caseworker)
    assert client.get("/cases/").status_code == 200
    assert client.get("/account/two-factor").status_code == 200


def test_enrolment_needs_the_password_and_a_right_code_and_saves_nothing_before(
    client, auth, caseworker
) -> None:
    auth.login(caseworker)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = _secret_on_page(page)
    # The same secret on every reload until it is confirmed (the phone may have scanned it).
    assert _secret_on_page(client.get("/account/two-factor").get_data(as_text=True)) == secret
    good = pyotp.TOTP(secret).now()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"

    refused_code = client.post("/account/two-factor", data={"password": PASSWORD, "code": wrong})
    refused_password = client.post(
        "/account/two-factor", data={"password": "not my password", "code": good}
    )

    assert refused_code.status_code == refused_password.status_code == 200
    assert "That code does not match." in refused_code.get_data(as_text=True)
    assert gettext("This is not your password.") in refused_password.get_data(as_text=True)
    user = _fresh(caseworker)
    assert user.totp_secret is None and user.totp_enabled_at is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert _events("totp_enable", caseworker) == 0

    response = client.post("/account/two-factor", data={"password": PASSWORD, "code": good})

    assert response.status_code == 200
    shown = _codes_on_page(response.get_data(as_text=True))
    assert len(shown) == len(set(shown)) == totp.RECOVERY_CODE_COUNT
    assert "Print this page or write these codes down" in response.get_data(as_text=True)
    user = _fresh(caseworker)
    assert user.has_two_factor
    assert user.totp_secret == secret
    assert _events("totp_enable", caseworker) == 1
    # Shown once: the page now manages two-factor authentication and lists no codes.
    again = client.get("/account/two-factor").get_data(as_text=True)
    assert not _codes_on_page(again)
    assert "<svg" not in again


def test_the_enrolment_page_keeps_to_the_csp(client, auth, caseworker) -> None:
    auth.login(caseworker)
    response = client.get("/account/two-factor")
    page = response.get_data(as_text=True)
    assert "<svg" in page and 'class="qr-code"' in page
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert "data:" not in page
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_qr_code_names_athar_and_the_account(app, caseworker) -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(caseworker, secret)
    assert uri.startswith(f"otpauth://totp/Athar:{caseworker.username}?")
    assert f"secret={secret}" in uri and "issuer=Athar" in uri
    assert len(secret) == 32  # 160 bits
    assert totp.grouped(secret).replace(" ", "") == secret


def test_the_qr_code_draws_exactly_the_modules_segno_encodes(app, caseworker) -> None:
    uri = totp.provisioning_uri(caseworker, totp.new_secret())
    qr = totp.qr_code(uri)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", qr.path)
    assert "".join(f"M{x} {y}h{n}v1h-{n}z" for x, y, n in runs) == qr.path
    drawn = {(int(x) + i, int(y)) for x, y, n in runs for i in range(int(n))}
    rows = list(segno.make(uri, error="m").matrix_iter(border=totp.QR_BORDER))
    assert drawn == {(x, y) for y, row in enumerate(rows) for x, dark in enumerate(row) if dark}
    assert qr.size == len(rows) == len(rows[0])


def test_the_secret_is_stored_encrypted(app, supervisor) -> None:
    raw = db.session.execute(
        text("SELECT totp_secret FROM users WHERE id = :id"), {"id": supervisor.id}
    ).scalar_one()
    secret = _fresh(supervisor).totp_secret
    assert secret and len(secret) == 32
    assert secret not in raw
    assert crypto.decrypt(raw) == secret


# --- the login's second step ----------------------------------------------------------------


def test_login_asks_for_the_code_before_logging_in(client, supervisor) -> None:
    response = _password_step(client, supervisor, next="/oversight/")

    assert _path(response) == "/login/code"
    assert not _logged_in(client)
    assert client.get("/cases/").headers["Location"].startswith("/login")
    assert _events("login", supervisor) == 0
    page = client.get("/login/code")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.get_data(as_text=True)

    response = client.post("/login/code", data={"code": totp_code(supervisor)})

    assert response.status_code == 302
    assert response.headers["Location"] == "/oversight/"
    assert _logged_in(client)
    assert client.get("/cases/").status_code == 200
    assert _events("login", supervisor) == 1
    with client.session_transaction() as session:
        assert "login_pending" not in session
        assert session["lang"] == "en"


def test_an_off_site_next_is_dropped_at_the_second_step(client, supervisor) -> None:
    _password_step(client, supervisor, next="//evil.example/")
    response = client.post("/login/code", data={"code": totp_code(supervisor)})
    assert response.headers["Location"] == "/cases/"


def test_codes_typed_with_arabic_digits_and_spaces_work(client, supervisor) -> None:
    _password_step(client, supervisor)
    code = totp_code(supervisor)
    typed = f"{code[:3]} {code[3:]}".translate(ARABIC_DIGITS)
    assert _path(client.post("/login/code", data={"code": typed})) == "/cases/"


def test_a_wrong_code_is_refused_with_one_message_and_recorded(client, supervisor) -> None:
    _password_step(client, supervisor)
    good = totp_code(supervisor)
    wrong_digits = f"{(int(good) + 1) % 1_000_000:06d}"
    answers = [
        client.post("/login/code", data={"code": code})
        for code in (wrong_digits, "abcde-fghjk", "", "x" * 64)
    ]
    for response in answers:
        assert response.status_code == 200
        assert WRONG_CODE in response.get_data(as_text=True)
    assert not _logged_in(client)
    assert _events("login_failed", supervisor) == 3  # the empty form never reached a check
    assert client.get("/cases/").headers["Location"].startswith("/login")


def test_a_code_works_once(app, client, supervisor) -> None:
    _password_step(client, supervisor)
    code = totp_code(supervisor)
    assert _path(client.post("/login/code", data={"code": code})) == "/cases/"
    client.post("/logout")

    _password_step(client, supervisor)
    replayed = client.post("/login/code", data={"code": code})

    assert replayed.status_code == 200
    assert WRONG_CODE in replayed.get_data(as_text=True)
    assert not _logged_in(client)


def test_replay_protection_in_the_service(app, supervisor) -> None:
    user = _fresh(supervisor)
    secret = user.totp_secret
    user.totp_last_step = None
    db.session.commit()
    now = time.time() + 3600  # clear of the step used at enrolment
    otp = pyotp.TOTP(secret)

    assert totp.verify_code(user, otp.at(now), now=now)
    assert not totp.verify_code(_fresh(user), otp.at(now), now=now)  # the same code again
    # An older code, still inside the window, is refused once a newer one was used.
    assert not totp.verify_code(_fresh(user), otp.at(now - 30), now=now)
    # The next step's code works; codes outside the window never do.
    assert totp.verify_code(_fresh(user), otp.at(now + 30), now=now)
    assert not totp.verify_code(_fresh(user), otp.at(now + 120), now=now)


def test_the_waiting_state_expires(client, supervisor) -> None:
    _password_step(client, supervisor)
    with client.session_transaction() as session:
        pending = session["login_pending"]
        pending["at"] -= totp.PENDING_SECONDS + 1
        session["login_pending"] = pending

    response = client.post("/login/code", data={"code": totp_code(supervisor)})

    assert _path(response) == "/login"
    assert not _logged_in(client)
    page = client.get("/login").get_data(as_text=True)
    assert "The time to enter the code ran out" in page
    with client.session_transaction() as session:
        assert "login_pending" not in session


def test_no_second_step_without_the_first(client, supervisor) -> None:
    response = client.post("/login/code", data={"code": totp_code(supervisor)})
    assert _path(response) == "/login"
    assert not _logged_in(client)
    # A forged waiting state needs the signed session cookie, which only the server makes.
    assert _path(client.get("/login/code")) == "/login"


def test_a_disabled_account_cannot_finish_logging_in(client, supervisor) -> None:
    _password_step(client, supervisor)
    _fresh(supervisor).active = False
    db.session.commit()

    response = client.post("/login/code", data={"code": totp_code(supervisor)})

    assert _path(response) == "/login"
    assert not _logged_in(client)


def test_wrong_codes_are_rate_limited_per_account(app, client, supervisor) -> None:
    limit = int(app.config["LOGIN_CODE_LIMIT_PER_ACCOUNT"].split()[0])
    good = totp_code(supervisor)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    _password_step(client, supervisor)
    for _ in range(limit):
        assert client.post("/login/code", data={"code": wrong}).status_code == 200

    # From another address, after the password again: the account's limit still holds, even
    # for the right code.
    other = app.test_client()
    with other.session_transaction() as session:
        session["lang"] = "en"
    other.post(
        "/login",
        data={"username": supervisor.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    blocked = other.post(
        "/login/code",
        data={"code": totp_code(supervisor)},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )

    assert blocked.status_code == 429
    assert not _logged_in(other)


def test_successful_codes_do_not_use_up_the_limit(app, client, supervisor) -> None:
    limit = int(app.config["LOGIN_CODE_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit + 1):
        _password_step(client, supervisor)
        assert _path(client.post("/login/code", data={"code": totp_code(supervisor)})) == "/cases/"
        client.post("/logout")


# --- recovery codes -------------------------------------------------------------------------


def test_a_recovery_code_logs_in_once(client, app) -> None:
    user = make_user("layla", Role.SUPERVISOR, two_factor=False)
    codes = enrol_two_factor(user)
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == totp.RECOVERY_CODE_COUNT
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not {c.replace("-", "") for c in codes} & {h for h in stored}

    _password_step(client, user)
    response = client.post("/login/code", data={"code": codes[0]})

    assert _path(response) == "/cases/"
    assert _logged_in(client)
    assert _events("recovery_code_used", user) == 1
    page = client.get("/cases/").get_data(as_text=True)
    assert "Recovery codes left: 9." in page
    client.post("/logout")

    _password_step(client, user)
    again = client.post("/login/code", data={"code": codes[0]})
    assert again.status_code == 200
    assert WRONG_CODE in again.get_data(as_text=True)
    # Typed loosely (capitals, a space for the hyphen), another code still works.
    typed = codes[1].upper().replace("-", " ")
    assert _path(client.post("/login/code", data={"code": typed})) == "/cases/"
    assert totp.recovery_codes_left(user) == totp.RECOVERY_CODE_COUNT - 2


def test_new_recovery_codes_need_the_password_and_replace_the_old(client, auth, app) -> None:
    user = make_user("layla", Role.SUPERVISOR, two_factor=False)
    old = enrol_two_factor(user)
    auth.login(user)

    refused = client.post("/account/two-factor/recovery-codes", data={"codes-password": "nope"})
    assert refused.status_code == 200
    assert gettext("This is not your password.") in refused.get_data(as_text=True)
    assert not _codes_on_page(refused.get_data(as_text=True))

    response = client.post("/account/two-factor/recovery-codes", data={"codes-password": PASSWORD})

    new = _codes_on_page(response.get_data(as_text=True))
    assert len(new) == totp.RECOVERY_CODE_COUNT and not set(new) & set(old)
    assert _events("recovery_codes_new", user) == 1
    assert not totp.use_recovery_code(_fresh(user), old[0])
    assert totp.use_recovery_code(_fresh(user), new[0])


# --- turning it off -------------------------------------------------------------------------


def test_a_caseworker_can_turn_it_off_with_password_and_code(client, auth, caseworker) -> None:
    enrol_two_factor(caseworker)
    auth.login(caseworker)  # the helper types a code
    code = totp_code(caseworker)

    refused = client.post(
        "/account/two-factor/off", data={"off-password": "nope", "off-code": code}
    )
    assert refused.status_code == 200
    assert _fresh(caseworker).has_two_factor

    response = client.post(
        "/account/two-factor/off", data={"off-password": PASSWORD, "off-code": code}
    )

    assert _path(response) == "/account/two-factor"
    user = _fresh(caseworker)
    assert not user.has_two_factor and user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert _events("totp_disable", caseworker) == 1


def test_supervisors_cannot_turn_it_off(client, auth, supervisor) -> None:
    auth.login(supervisor)
    data = {"off-password": PASSWORD, "off-code": totp_code(supervisor)}
    assert client.post("/account/two-factor/off", data=data).status_code == 403
    assert _fresh(supervisor).has_two_factor
    with pytest.raises(totp.AccountError):
        totp.disable(_fresh(supervisor), PASSWORD, totp_code(supervisor))


# --- an administrator resets it (a lost phone) ----------------------------------------------


def test_admin_reset_needs_the_admins_password_and_ends_the_sessions(
    app, client, auth, admin, supervisor
) -> None:
    phone = app.test_client()
    _password_step(phone, supervisor)
    phone.post("/login/code", data={"code": totp_code(supervisor)})
    assert phone.get("/cases/").status_code == 200
    auth.login(admin)

    refused = client.post(f"/admin/users/{supervisor.id}/two-factor", data={"password": "nope"})
    assert _path(refused) == "/admin/users"
    assert _fresh(supervisor).has_two_factor
    assert phone.get("/cases/").status_code == 200
    assert _events("totp_reset", supervisor) == 0

    client.post(f"/admin/users/{supervisor.id}/two-factor", data={"password": PASSWORD})

    user = _fresh(supervisor)
    assert not user.has_two_factor and user.totp_secret is None and user.totp_last_step is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
        )
        == 0
    )
    assert _events("totp_reset", supervisor) == 1
    assert phone.get("/cases/").headers["Location"].startswith("/login")
    # With the password alone they get in, straight to setting up the new phone.
    assert _path(_password_step(phone, supervisor)) == "/cases/"
    assert _path(phone.get("/cases/")) == "/account/two-factor"


def test_an_admin_cannot_reset_their_own(client, auth, admin) -> None:
    auth.login(admin)
    client.post(f"/admin/users/{admin.id}/two-factor", data={"password": PASSWORD})
    assert _fresh(admin).has_two_factor
    assert _events("totp_reset", admin) == 0


def test_only_admins_reset(client, auth, supervisor, second_supervisor) -> None:
    auth.login(supervisor)
    response = client.post(
        f"/admin/users/{second_supervisor.id}/two-factor", data={"password": PASSWORD}
    )
    assert response.status_code == 403
    assert _fresh(second_supervisor).has_two_factor


def test_a_password_waiting_for_its_code_is_not_yet_a_login(client, supervisor):
    before = supervisor.last_login_at
    response = client.post("/login", data={"username": supervisor.username, "password": PASSWORD})
    assert response.headers["Location"].startswith("/login/code")
    db.session.refresh(supervisor)
    assert supervisor.last_login_at == before
    pass_second_step(client, supervisor.username, response)
    db.session.refresh(supervisor)
    assert supervisor.last_login_at is not None and supervisor.last_login_at != before


def test_wrong_codes_in_a_row_lock_the_login_until_an_admin_resets(
    app, client, supervisor, admin
) -> None:
    # The rate limit only slows a thief who has the password; the cap ends the guessing.
    app.config["TOTP_FAILURE_LIMIT"] = 3
    app.config["LOGIN_CODE_LIMIT_PER_ACCOUNT"] = "100 per minute"
    good = totp_code(supervisor)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    _password_step(client, supervisor)
    client.post("/login/code", data={"code": wrong})
    client.post("/login/code", data={"code": good})  # a success in between starts the count anew
    client.post("/logout")
    _password_step(client, supervisor)
    for _ in range(3):
        client.post("/login/code", data={"code": wrong})
    locked = client.post("/login/code", data={"code": totp_code(supervisor)})
    assert "Too many wrong codes were entered for this account" in locked.get_data(as_text=True)
    assert not _logged_in(client)
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="totp_locked")) == 1

    totp.reset(supervisor, admin, PASSWORD)
    assert supervisor.totp_failures == 0 and not supervisor.has_two_factor


def test_the_menu_hides_while_enrolment_is_required(client, auth, admin) -> None:
    """Every other link would only bounce back to the enrolment page."""
    unenrolled = make_user("new-sup", Role.SUPERVISOR, two_factor=False)
    auth.login(unenrolled)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'href="/oversight/"' not in page and 'href="/cases/"' not in page
    assert "Log out" in page
    auth.logout()
    auth.login(admin)
    assert 'href="/admin/users"' in client.get("/admin/users").get_data(as_text=True)
