"""`flask user ...`: the way the first accounts are made, so no default account ever exists."""

from __future__ import annotations

from flask_babel import gettext

from cases.auth import services
from cases.auth.models import Role, User
from cases.extensions import db

NEW_PASSWORD = "a long and private passphrase"


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(db.select(User).filter_by(username=username))


def _create(runner, username: str, password: str, role: str = "caseworker"):  # noqa: ANN001, ANN202
    return runner.invoke(
        args=["user", "create", username, "--role", role, "--password-stdin"],
        input=password + "\n",
    )


def test_create_makes_an_account_that_can_log_in(runner, client) -> None:
    result = _create(runner, "layla", NEW_PASSWORD, role="supervisor")

    assert result.exit_code == 0, result.output
    assert "Created layla (supervisor)." in result.output
    assert NEW_PASSWORD not in result.output
    user = _user("layla")
    assert user.role == Role.SUPERVISOR
    assert user.active
    assert user.password_hash.startswith("$argon2id$")
    response = client.post("/login", data={"username": "layla", "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/cases/"


def test_create_refuses_a_taken_name(runner, caseworker) -> None:
    result = _create(runner, caseworker.username, NEW_PASSWORD, role="admin")

    assert result.exit_code != 0
    assert gettext("That username is already taken.") in result.output
    assert _user(caseworker.username).role == Role.CASEWORKER
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_create_refuses_a_weak_password(runner) -> None:
    result = _create(runner, "layla", "too short")

    assert result.exit_code != 0
    expected = gettext("The password must have at least %(n)d characters.", n=12)
    assert expected in result.output
    assert _user("layla") is None


def test_list_shows_role_and_state(runner, caseworker, supervisor, admin) -> None:
    services.set_active(supervisor, False)

    result = runner.invoke(args=["user", "list"])

    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t")[1:3] for line in result.output.splitlines()}
    assert rows == {
        caseworker.username: ["caseworker", "active"],
        supervisor.username: ["supervisor", "disabled"],
        admin.username: ["admin", "active"],
    }


def test_disable_stops_login_and_ends_open_sessions(runner, client, auth, caseworker) -> None:
    auth.login(caseworker)
    assert client.get("/cases/").status_code == 200

    result = runner.invoke(args=["user", "disable", caseworker.username])

    assert result.exit_code == 0, result.output
    assert _user(caseworker.username).active is False
    assert client.get("/cases/").headers["Location"].startswith("/login")
    response = auth.login(caseworker)
    assert response.status_code == 200
    assert "Incorrect username or password." in response.get_data(as_text=True)


def test_disable_of_an_unknown_user_fails(runner, caseworker) -> None:
    result = runner.invoke(args=["user", "disable", "ghost"])

    assert result.exit_code != 0
    assert "No user named ghost." in result.output
    assert _user(caseworker.username).active is True
