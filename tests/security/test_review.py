"""A red-team review of the security work (issue 5): attacks that worked before the review.

Each failed before its fix (the one marked xfail waits for a fix in a file the lead owns).

Authentication (ASVS V6, V7), uploads (V5), data protection at rest and in logs (V11, V14,
V16), and retention (DOMAIN.md §6).
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from cases import crypto
from cases.attachments import services as attachments
from cases.attachments.models import Attachment
from cases.audit import services as audit
from cases.audit.models import AuditEvent
from cases.auth import invitations
from cases.auth.models import Role, User
from cases.casework.models import Case
from cases.extensions import db
from cases.inquiries import services as inquiry_services
from cases.inquiries.models import Inquiry
from cases.retention import services as retention

from ..attachments.conftest import pdf as _pdf
from ..factories import PASSWORD, totp_code
from ..inquiries.factories import make_inquiry
from ..retention.factories import close, marked_case

CHOSEN = "river of palms at dawn"


def _path(response) -> str:  # noqa: ANN001
    return urlsplit(response.headers.get("Location", "")).path


def _logged_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


# --- authentication ---------------------------------------------------------------------------


def test_a_password_reset_link_does_not_skip_the_second_factor(app, admin, supervisor):
    """Whoever intercepts a reset link (sent by WhatsApp or e-mail) must still need the phone."""
    token = invitations.reset_by_invitation(admin, supervisor)
    thief = _browser(app)

    response = thief.post(f"/invite/{token}", data={"password": CHOSEN, "confirm": CHOSEN})

    assert _path(response) == "/login/code"
    assert not _logged_in(thief)
    assert "Now enter the code from your phone." in thief.get("/login/code").get_data(as_text=True)
    assert _path(thief.get("/cases/")) == "/login"
    # The owner, with the phone, finishes logging in with the new password.
    finished = thief.post("/login/code", data={"code": totp_code(supervisor)})
    assert _path(finished) == "/cases/"
    assert _logged_in(thief)


def test_a_new_account_invitation_still_logs_in_at_once(app, admin):
    user, token = invitations.invite_new_user(admin, "layla", Role.CASEWORKER)
    invitee = _browser(app)

    response = invitee.post(f"/invite/{token}", data={"password": CHOSEN, "confirm": CHOSEN})

    assert _path(response) == "/cases/"
    assert _logged_in(invitee)


def test_a_password_waiting_for_its_code_stops_working_when_the_password_is_reset(
    app, admin, supervisor
):
    """The owner resets a leaked password; the thief's half-finished login must die with it."""
    thief = _browser(app)
    thief.post("/login", data={"username": supervisor.username, "password": PASSWORD})

    invitations.reset_by_invitation(admin, supervisor)
    response = thief.post("/login/code", data={"code": totp_code(supervisor)})

    assert _path(response) == "/login"
    assert not _logged_in(thief)


# --- encryption at rest -----------------------------------------------------------------------


@pytest.fixture
def keys(app: Flask):  # noqa: ANN201
    """Reconfigure the data keys as an operator would (config, restart); restored afterwards."""
    saved = app.extensions[crypto.EXTENSION]
    saved_keys = app.config["DATA_KEYS"]

    def use(data_keys: list[str]) -> None:
        db.session.commit()
        app.config["DATA_KEYS"] = data_keys
        crypto.init_app(app)
        db.session.expire_all()

    yield use
    app.config["DATA_KEYS"] = saved_keys
    app.extensions[crypto.EXTENSION] = saved


def _crypto_command(app: Flask, *args: str):  # noqa: ANN202
    db.session.commit()
    return app.test_cli_runner().invoke(args=["crypto", *args])


def _a_stored_file(case) -> Attachment:  # noqa: ANN001
    clean = attachments.clean_upload(io.BytesIO(_pdf()), "report.pdf")
    return attachments.add_to_case(case.owner, case, clean)


def test_rotating_the_data_key_rotates_the_files_too(app, case, keys, tmp_path):
    """The documented rotation (rotate, check, drop the old key) must not lose every upload."""
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    attachment = _a_stored_file(case)
    old = crypto._key_list(app.config["DATA_KEYS"])[0]
    new = crypto.new_key()
    keys([new, old])

    before = _crypto_command(app, "check")
    assert "attachments (files): 1 files, 0 unreadable, 1 under an older key" in before.output
    rotated = _crypto_command(app, "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "attachments (files): 1 re-encrypted" in rotated.output
    keys([new])

    assert attachments.read_content(attachment) == _pdf()
    after = _crypto_command(app, "check")
    assert after.exit_code == 0, after.output
    assert "attachments (files): 1 files, 0 unreadable, 0 under an older key" in after.output


def test_check_reports_files_no_key_opens(app, case, keys, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    _a_stored_file(case)
    keys([crypto.new_key()])

    result = _crypto_command(app, "check")

    assert result.exit_code == 1
    assert "attachments (files): 1 files, 1 unreadable" in result.output


# --- logs -------------------------------------------------------------------------------------


def test_a_database_error_carries_no_personal_data_into_the_log(app, caseworker, caplog):
    """errors.py logs every unexpected exception; SQLAlchemy's message quotes the values, and
    PostgreSQL repeats them in its DETAIL line."""
    from cases.errors import log_unexpected

    db.session.add(
        User(
            username=caseworker.username,
            display_name="نرجس الخفاجي",
            role="caseworker",
            password_hash="x",
        )
    )
    with pytest.raises(IntegrityError) as raised:
        db.session.flush()
    db.session.rollback()

    assert "نرجس الخفاجي" not in str(raised.value)  # hide_parameters
    with caplog.at_level("ERROR"):
        log_unexpected(raised.value)
    assert "نرجس الخفاجي" not in caplog.text
    assert f"={caseworker.username})" not in caplog.text and "DETAIL" not in caplog.text
    assert "username" in caplog.text  # still says what went wrong (column or constraint)
    assert "test_review.py" in caplog.text  # and where


# --- legal hold -------------------------------------------------------------------------------


def test_a_file_on_a_case_under_legal_hold_cannot_be_deleted(
    app, client, auth, caseworker, supervisor, case, tmp_path
):
    """A hold keeps everything for a court or an investigation: deleting evidence is refused."""
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    attachment = _a_stored_file(case)
    retention.set_legal_hold(supervisor, case, True, "court order 12/2026")
    auth.login(caseworker)

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/attachments/{attachment.id}/remove")

    assert "The file will be deleted for good." not in page
    assert response.status_code == 302
    assert "legal hold" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert attachments.read_content(db.session.get(Attachment, attachment.id)) == _pdf()
    with pytest.raises(attachments.AttachmentError):
        attachments.remove(supervisor, case, attachment)
    assert not db.session.get(Attachment, attachment.id).removed


# --- anti-automation on the family pages ---------------------------------------------------------


def test_rights_requests_are_rate_limited_like_every_other_family_form(app):
    inquiry, secret = make_inquiry()
    family = _browser(app)
    family.post("/check", data={"reference": inquiry.reference, "secret": secret})

    answers = [family.post(f"/check/{what}").status_code for what in ("access", "delete") * 5]

    assert answers[0] == 302
    assert 429 in answers


# --- anonymised cases -------------------------------------------------------------------------


def test_a_new_inquiry_cannot_be_attached_to_an_anonymised_case(
    client, auth, caseworker, supervisor
):
    """Attaching copies the family's name and phone onto the case: the purge would be undone,
    and no later purge looks at an anonymised case again."""
    case = close(caseworker, supervisor, marked_case(caseworker, 3), "duplicate", 100)
    retention.purge()
    inquiry, _ = make_inquiry(inquirer_name="وداد الراوي 77", inquirer_phone="+9647505550377")
    auth.login(caseworker)

    response = client.post(f"/intake/{inquiry.id}/attach", data={"case_reference": case.reference})

    assert response.status_code == 400
    assert "anonymised" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).contacts == []
    assert db.session.get(Inquiry, inquiry.id).case_id is None
    with pytest.raises(inquiry_services.InquiryError):
        inquiry_services.attach_to_case(caseworker, inquiry, db.session.get(Case, case.id))


# --- families' inquiries once they are on a case ------------------------------------------------


def test_a_linked_inquiry_follows_the_access_rules_of_its_case(
    client, auth, caseworker, other_caseworker, case
):
    """Ids are sequential: without this any caseworker reads every family's name and phone."""
    inquiry, _ = make_inquiry(inquirer_name="وداد الراوي 88", inquirer_phone="+9647505550388")
    inquiry_services.attach_to_case(caseworker, inquiry, case)
    auth.login(other_caseworker)

    response = client.get(f"/intake/{inquiry.id}")

    assert "وداد الراوي 88" not in response.get_data(as_text=True)
    assert response.status_code == 404


def test_a_shared_colleague_sees_a_linked_inquiry_but_not_the_familys_phone(
    client, auth, caseworker, other_caseworker, case
):
    from cases.casework import services as casework

    inquiry, _ = make_inquiry(inquirer_name="وداد الراوي 89", inquirer_phone="+9647505550389")
    inquiry_services.attach_to_case(caseworker, inquiry, case)
    casework.share_case(caseworker, case, other_caseworker)
    auth.login(other_caseworker)
    page = client.get(f"/intake/{inquiry.id}").get_data(as_text=True)
    assert "وداد الراوي 89" in page
    assert "555" not in page  # no part of the phone number, however it is formatted
    auth.logout()
    auth.login(caseworker)
    assert "555" in client.get(f"/intake/{inquiry.id}").get_data(as_text=True)


# --- the audit trail --------------------------------------------------------------------------


def test_sqlite_refuses_to_replace_a_sealed_audit_event(app, caseworker):
    """INSERT OR REPLACE deletes the old row without firing SQLite's DELETE triggers."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's; PostgreSQL's ON CONFLICT UPDATE fires the trigger")
    event = audit.record("login_failed", "user", caseworker.id, commit=True)

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            text(
                "INSERT OR REPLACE INTO audit_events (id, at, action, prev_hash, hash) "
                "VALUES (:id, '2020-01-01 00:00:00', 'logout', '', '')"
            ),
            {"id": event.id},
        )
    db.session.rollback()

    assert db.session.scalar(select(AuditEvent.action).filter_by(id=event.id)) == "login_failed"
    assert audit.verify().ok
    audit.record("logout", "user", caseworker.id, commit=True)  # appending still works


def test_uploads_never_touch_the_disk_unencrypted(app, client, monkeypatch):
    """Werkzeug's default stream spools bodies over 500 KB to a temporary file; ours is never
    asked for. (A small body suffices to prove that, and keeps the test client itself from
    spooling its request to a temporary file.)"""
    from werkzeug import formparser

    def no_temp_files(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(formparser, "SpooledTemporaryFile", no_temp_files)
    big = b"%PDF-1.4\n" + b"0" * (100 * 1024)
    response = client.post(
        "/inquiry",
        data={"photo": (io.BytesIO(big), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 400)
