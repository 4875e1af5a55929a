"""Changing someone's role needs the admin's password again (ASVS V7.5.1)."""

from __future__ import annotations

from cases.auth.models import Role
from cases.extensions import db

PASSWORD = "correct horse battery staple"


def _role_of(user) -> str:  # noqa: ANN001
    db.session.expire_all()
    return db.session.get(type(user), user.id).role


def test_role_change_needs_the_admins_password(client, auth, admin, caseworker) -> None:
    auth.login(admin)
    url = f"/admin/users/{caseworker.id}/role"
    client.post(url, data={"role": "supervisor"})
    assert _role_of(caseworker) == Role.CASEWORKER
    response = client.post(url, data={"role": "supervisor", "password": "not my password!"})
    assert response.status_code == 302
    assert _role_of(caseworker) == Role.CASEWORKER
    page = client.get("/admin/users").get_data(as_text=True)
    assert "This is not your password. The role was not changed." in page
    client.post(url, data={"role": "supervisor", "password": PASSWORD})
    assert _role_of(caseworker) == Role.SUPERVISOR


def test_the_role_form_asks_for_the_password(client, auth, admin, caseworker) -> None:
    auth.login(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'id="role-password-{caseworker.id}"' in page
