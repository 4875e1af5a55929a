"""Deny by default: every endpoint needs a login and a role unless it is declared public.

Views declare who may reach them with ``@roles(...)`` or ``@public``. A view that declares
neither is refused to everyone, so a forgotten decorator fails closed instead of open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from . import sessions, totp
from .models import Role

F = TypeVar("F", bound=Callable)

PUBLIC_ATTR = "_athar_public"
ROLES_ATTR = "_athar_roles"


def public(view: F) -> F:
    """Reachable without logging in (login page, language switch, static files)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def roles(*allowed: Role) -> Callable[[F], F]:
    """Reachable by logged-in staff holding one of ``allowed``."""

    def mark(view: F) -> F:
        setattr(view, ROLES_ATTR, frozenset(allowed))
        return view

    return mark


CASE_STAFF = (Role.CASEWORKER, Role.SUPERVISOR)


def endpoint_policy(app: Flask, endpoint: str) -> tuple[bool, frozenset[Role]]:
    """(is public, roles allowed) for an endpoint; unknown endpoints allow nobody."""
    if endpoint == "static":
        return True, frozenset()
    view = app.view_functions.get(endpoint)
    if view is None:
        return False, frozenset()
    return bool(getattr(view, PUBLIC_ATTR, False)), getattr(view, ROLES_ATTR, frozenset())


def start_session() -> None:
    """Record this login on the server and give the browser its key; call right after
    login_user().

    From now on the login lasts exactly as long as its row in staff_sessions (sessions.py).
    """
    _, key = sessions.open_session(
        current_user._get_current_object(), request.remote_addr, request.user_agent.string
    )
    session[sessions.COOKIE_KEY] = key


def end_session(reason: str = "logout") -> None:
    """Log this browser out: its server-side session ends and its cookie keeps only the
    language."""
    sessions.end_current(reason)
    _forget_login()


def _forget_login() -> None:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


# All a supervisor or admin may open before setting up two-factor authentication (public pages
# such as the language switch and static files are open anyway).
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout"})


def enrolment_redirect() -> Response | None:
    """Supervisors and admins set up two-factor authentication before anything else."""
    if request.endpoint in ENROLMENT_ENDPOINTS or not totp.needs_enrolment(current_user):
        return None
    flash(_("Your role requires two-factor authentication. Set it up to continue."), "info")
    return redirect(url_for("auth.two_factor"))


def init_app(app: Flask) -> None:
    @app.context_processor
    def enrolment_state() -> dict:
        # While enrolment is required every other link would bounce back: the menu hides.
        waiting = current_user.is_authenticated and totp.needs_enrolment(current_user)
        return {"awaiting_enrolment": waiting}

    @app.before_request
    def enforce_access():  # noqa: ANN202 - Flask hook
        if request.endpoint is None:
            return None  # no route matched: let the 404/405 handlers answer
        is_public, allowed = endpoint_policy(app, request.endpoint)
        # Loading the user checks the server-side session first thing, before any view runs.
        stale = (
            request.endpoint != "static"
            and "_user_id" in session
            and not current_user.is_authenticated
        )
        if stale:
            # The cookie names a login the server no longer honours: logged out, ended from
            # elsewhere, timed out, or the account was disabled.
            _forget_login()
            flash(_("Your session ended. Please log in again."), "info")
        if is_public:
            return None
        if not current_user.is_authenticated:
            # Only a page can be returned to: a form's address would answer the GET with 405.
            back_to = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=back_to))
        if current_user.role not in allowed:
            abort(403)
        return enrolment_redirect()
