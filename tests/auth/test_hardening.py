"""Brute-force limits on login, cookie attributes, and the client address behind proxies."""

from __future__ import annotations

from cases import create_app, crypto


def _login(client, username: str, password: str = "wrong password!!", addr: str = "10.1.1.1"):  # noqa: ANN001, ANN202
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
        headers={"Accept-Language": "en"},
    )


def test_too_many_logins_from_one_address_are_refused(app, client, caseworker) -> None:
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    for name in ("a", "b", "c"):
        assert _login(client, name).status_code == 200
    response = _login(client, caseworker.username, "correct horse battery staple")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert _login(client, "d", addr="10.9.9.9").status_code == 200  # another address


def test_one_account_is_limited_across_addresses(app, client, caseworker) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 15 minutes"
    assert _login(client, caseworker.username, addr="10.0.0.1").status_code == 200
    assert _login(client, caseworker.username.upper(), addr="10.0.0.2").status_code == 200
    right = _login(client, caseworker.username, "correct horse battery staple", "10.0.0.3")
    assert right.status_code == 429
    assert _login(client, "nobody", addr="10.0.0.4").status_code == 200


def test_unknown_and_known_accounts_are_limited_alike(app, client, caseworker) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "1 per 15 minutes"
    for name in (caseworker.username, "no-such-user"):
        assert _login(client, name, addr="10.0.1.1").status_code == 200
        assert _login(client, name, addr="10.0.1.2").status_code == 429


def test_production_cookie_is_host_only_secure_httponly(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATA_KEYS", crypto.new_key())
    monkeypatch.setenv("LOOKUP_KEY", "y" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite'}")
    # Not this checkout's instance/config.py, which a local `make run` wrote for plain http.
    monkeypatch.setenv("ATHAR_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-athar"
    with app.test_client() as client:
        response = client.get("/login", base_url="https://athar.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-athar=")
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    assert "Domain" not in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_plain_http_setups_drop_the_host_prefix(tmp_path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite'}",
            "SESSION_COOKIE_NAME": "__Host-athar",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    assert app.config["SESSION_COOKIE_NAME"] == "athar"


def test_client_address_comes_from_the_trusted_proxy(tmp_path) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "TRUSTED_PROXIES": 1}
    )
    seen = []

    @app.route("/whoami")
    def whoami():  # noqa: ANN202
        from flask import request

        seen.append(request.remote_addr)
        return ""

    whoami._athar_public = True
    with app.test_client() as client:
        client.get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
    assert seen == ["203.0.113.7"]


def test_common_passwords_are_refused(app) -> None:
    import pytest

    from cases.auth import services
    from cases.auth.models import Role

    for password in ("qwerty123456", "1qaz2wsx3edc", "QWERTY123456"):
        with pytest.raises(services.AccountError, match="common passwords"):
            services.create_user("newcomer", Role.CASEWORKER, password)
    user = services.create_user("newcomer", Role.CASEWORKER, "نخيل بابل في الصباح الباكر")
    assert user.id is not None
