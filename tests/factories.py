"""gen_* style helpers that build real rows through the services."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from urllib.parse import urlsplit

import pyotp
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from cases.auth import services as auth_services
from cases.auth import totp
from cases.auth.models import Role, User
from cases.casework import services
from cases.casework.models import Case
from cases.casework.services import CaseDetails, ContactDetails
from cases.extensions import db

PASSWORD = "correct horse battery staple"


def make_user(
    username: str, role: Role, display_name: str = "", *, two_factor: bool | None = None
) -> User:
    """An active account with PASSWORD.

    Supervisors and admins get two-factor authentication, as the app requires of them before
    anything else; caseworkers do not. ``two_factor`` overrides either way.
    """
    user = auth_services.create_user(username, role, PASSWORD, display_name or username)
    if totp.required_for(user) if two_factor is None else two_factor:
        enrol_two_factor(user)
    return user


def enrol_two_factor(user: User) -> list[str]:
    """Two-factor authentication on, through the service the enrolment page uses.

    Returns the recovery codes.
    """
    secret = totp.new_secret()
    return totp.enable(user, secret, PASSWORD, pyotp.TOTP(secret).now())


def totp_code(user: User) -> str:
    """A code the app accepts for ``user`` right now.

    Test support only: it first forgets the account's last used time step. The suite logs the
    same account in several times within one 30-second step, and replay protection (the
    production rule, tested in tests/auth/test_two_factor.py) would rightly refuse the second
    code of a step.
    """
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    secret = db.session.scalar(select(User.totp_secret).where(User.id == user.id))
    assert secret, f"{user.username} has no two-factor authentication"
    return pyotp.TOTP(secret).now()


def pass_second_step(client: FlaskClient, username: str, response: TestResponse) -> TestResponse:
    """After a correct password, enter a valid code if the login asks for one."""
    if response.status_code != 302 or urlsplit(response.location).path != "/login/code":
        return response
    with _app_context(client):
        user = db.session.scalar(select(User).filter_by(username=username))
        code = totp_code(user)
    return client.post("/login/code", data={"code": code})


def _app_context(client: FlaskClient) -> AbstractContextManager:
    # Most tests hold the app context open (the `app` fixture); a few run requests without one.
    return nullcontext() if has_app_context() else client.application.app_context()


def make_case(owner: User, **overrides) -> Case:  # noqa: ANN003
    details = CaseDetails(
        given_name="محمد",
        father_name="عماد",
        grandfather_name="جبار",
        great_grandfather_name="كاظم",
        laqab="الجنابي",
        mother_name="فاطمة حسين علي",
        age=24,
        governorate_pcode="IQG07",
        district_pcode="IQG07Q04",
        latin_names=["Mohammed Imad Jabbar"],
        contacts=[ContactDetails("أم محمد", "الأم", "+9647701234567", "ar")],
    )
    for key, value in overrides.items():
        setattr(details, key, value)
    return services.create_case(owner, details)
