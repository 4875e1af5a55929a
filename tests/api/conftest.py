"""API fixtures: clients (tokens) for the suite's staff accounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from cases.api import services
from cases.api.models import ApiClient
from cases.auth.models import Role, User

from ..factories import make_user


@pytest.fixture
def token_maker(app) -> Callable[..., str]:  # noqa: ANN001
    """make(user, scopes=("read", "write", "pfif"), **kwargs) -> the token, made by the account
    holder for their own account (the only way the pages allow)."""

    def make(user: User, scopes=("read", "write", "pfif"), **kwargs) -> str:  # noqa: ANN001, ANN003
        _client, token = services.create_client(
            user, user, kwargs.pop("name", "Partner"), scopes, **kwargs
        )
        return token

    return make


@pytest.fixture
def cw_token(token_maker, caseworker: User) -> str:  # noqa: ANN001
    return token_maker(caseworker)


@pytest.fixture
def sup_token(token_maker, supervisor: User) -> str:  # noqa: ANN001
    return token_maker(supervisor)


class Api:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None, lang: str = "en") -> None:
        self.client = client
        self.token = token
        self.lang = lang

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept-Language": self.lang}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return {**headers, **(extra or {})}

    def get(self, path: str, **kwargs):  # noqa: ANN003, ANN201
        return self.client.get(
            "/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, json: object = None, **kwargs):  # noqa: ANN003, ANN201
        return self.client.post(
            "/api/v1" + path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, json: object = None, **kwargs):  # noqa: ANN003, ANN201
        return self.client.patch(
            "/api/v1" + path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )


@pytest.fixture
def cw_api(client, cw_token) -> Api:  # noqa: ANN001
    return Api(client, cw_token)


@pytest.fixture
def sup_api(client, sup_token) -> Api:  # noqa: ANN001
    return Api(client, sup_token)


def assert_error(response, status: int, code: str) -> dict:  # noqa: ANN001
    """The API's one error shape, as JSON."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


__all__ = ["Api", "ApiClient", "Role", "assert_error", "make_user"]
