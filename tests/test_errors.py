"""Error pages: in the reader's language, styled, never a stack trace."""

from __future__ import annotations

import pytest

from cases import create_app


@pytest.mark.parametrize(
    ("lang", "title"),
    [("en", "Not found"), ("ar", None)],
)
def test_404_page_in_the_readers_language(client, auth, caseworker, lang, title) -> None:
    auth.login(caseworker, lang=lang)
    response = client.get("/cases/999999")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert f'<html lang="{lang}"' in body
    if title:
        assert title in body
    else:
        assert 'dir="rtl"' in body
        assert "Not found" not in body


def test_huge_ids_and_pages_are_not_server_errors(client, auth, caseworker) -> None:
    auth.login(caseworker)
    assert client.get("/cases/99999999999999999999999999").status_code == 404
    assert client.get("/cases/?page=99999999999999999999999").status_code == 200


def test_405_for_get_on_a_post_only_route(client, auth, caseworker) -> None:
    auth.login(caseworker)
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Traceback" not in response.get_data(as_text=True)


def test_unexpected_error_shows_generic_page_without_traceback(tmp_path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.sqlite'}"})

    @app.route("/boom")
    def boom():  # noqa: ANN202
        raise RuntimeError("secret internal detail")

    boom._athar_public = True
    with app.test_client() as client:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


def test_csrf_failure_is_a_friendly_400(app, client, auth, caseworker) -> None:
    auth.login(caseworker)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/cases/new", data={"given_name": "علي"})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ATHAR_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    import cases

    monkeypatch.setattr(cases, "ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("missing", ["DATA_KEYS", "LOOKUP_KEY"])
def test_production_refuses_to_start_without_encryption_keys(monkeypatch, tmp_path, missing):
    import cases
    from cases import crypto

    monkeypatch.setattr(cases, "ROOT", tmp_path)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    keys = {"DATA_KEYS": crypto.new_key(), "LOOKUP_KEY": "y" * 32}
    for name, value in keys.items():
        monkeypatch.delenv(f"ATHAR_{name}", raising=False)
        if name == missing:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=missing):
        create_app()


def test_a_malformed_data_key_stops_the_app(tmp_path):
    with pytest.raises(RuntimeError, match="not a valid Fernet key"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "DATA_KEYS": ["short"]})


def test_security_headers_on_staff_pages(client, auth, caseworker) -> None:
    auth.login(caseworker)
    response = client.get("/cases/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
