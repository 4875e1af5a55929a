"""The JSON API under /api/v1 for partner tools (per-client tokens with scopes)."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from .errors import is_api_request

URL_PREFIX = "/api/v1"


class NoSessionsForApi(SecureCookieSessionInterface):
    """Under /api/ the session cookie is neither read nor written.

    Only a bearer token opens the API: a browser logged in to the pages gets 401 there, so a
    page of another site cannot use a staff login through the API (no CSRF), and API
    responses never set a cookie.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_request(request):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:  # noqa: ANN001
        from flask import request

        if is_api_request(request):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Register the API: its blueprint (outside CSRF: no cookies), its sessionless requests
    and its CLI."""
    from ..extensions import csrf
    from . import cli, models  # noqa: F401 - the model's table must be known to create_all
    from .views import bp

    app.session_interface = NoSessionsForApi()
    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
    cli.init_app(app)
