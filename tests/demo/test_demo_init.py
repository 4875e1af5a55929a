"""`flask demo init`: demo accounts a newcomer can log in with, two-factor included."""

from __future__ import annotations

import re

import pytest

from cases.auth.models import User
from cases.extensions import db


@pytest.fixture
def demo_app(app, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    app.config["DEMO"] = True
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # not this checkout's instance/
    return app


def _accounts(text: str) -> dict[str, str]:
    found = re.findall(r"^\w+\s+(\S+)\s+(\S+)", text, flags=re.MULTILINE)
    return {username: password for username, password in found if "-" in password}


def test_init_refuses_without_demo(runner, app):
    result = runner.invoke(args=["demo", "init", "--cases", "1"])
    assert result.exit_code != 0
    assert "DEMO is not set" in result.output
    assert db.session.scalar(db.select(User.id)) is None


def test_supervisor_logs_in_with_the_printed_password_and_demo_code(demo_app, runner, client):
    result = runner.invoke(args=["demo", "init", "--cases", "3"])
    assert result.exit_code == 0, result.output
    accounts = _accounts(result.output)
    assert set(accounts) == {"caseworker", "caseworker2", "supervisor", "supervisor2", "admin"}
    assert "two-factor key" in result.output
    supervisor = db.session.scalar(db.select(User).filter_by(username="supervisor"))
    assert supervisor.has_two_factor

    response = client.post(
        "/login", data={"username": "supervisor", "password": accounts["supervisor"]}
    )
    assert response.headers["Location"].startswith("/login/code")
    code = runner.invoke(args=["demo", "code", "supervisor"]).output.strip()
    assert re.fullmatch(r"\d{6}", code)
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 302
    assert client.get("/oversight/").status_code == 200


def test_caseworkers_log_in_with_the_password_alone(demo_app, runner, client):
    accounts = _accounts(runner.invoke(args=["demo", "init", "--cases", "1"]).output)
    response = client.post(
        "/login", data={"username": "caseworker", "password": accounts["caseworker"]}
    )
    assert response.headers["Location"].endswith("/cases/")


def test_demo_code_only_on_a_demo_instance(app, runner, supervisor):
    result = runner.invoke(args=["demo", "code", supervisor.username])
    assert result.exit_code != 0
    assert "DEMO" in result.output
