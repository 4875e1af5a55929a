"""Deny by default: every endpoint needs a login and a role unless it is declared public.

Views declare who may reach them with ``@roles(...)`` or ``@public``. A view that declares
neither is refused to everyone, so a forgotten decorator fails closed instead of open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

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
    """Record when this login began; called right after login_user()."""
    now = int(time.time())
    session["auth_at"] = now
    session["seen_at"] = now


def session_expired() -> bool:
    """True once a staff session passed its absolute lifetime or sat idle too long.

    Flask renews the cookie on every request, so its own lifetime is not an absolute limit;
    these timestamps are.
    """
    now = int(time.time())
    auth_at = session.get("auth_at")
    seen_at = session.get("seen_at")
    if not isinstance(auth_at, int) or not isinstance(seen_at, int):
        return True
    cfg = current_app.config
    if (
        now - auth_at > cfg["SESSION_ABSOLUTE_SECONDS"]
        or now - seen_at > cfg["SESSION_IDLE_SECONDS"]
    ):
        return True
    session["seen_at"] = now
    return False


def init_app(app: Flask) -> None:
    @app.before_request
    def enforce_access():  # noqa: ANN202 - Flask hook
        if request.endpoint is None:
            return None  # no route matched: let the 404/405 handlers answer
        is_public, allowed = endpoint_policy(app, request.endpoint)
        if is_public:
            return None
        if current_user.is_authenticated and session_expired():
            logout_user()
            session.clear()
            flash(_("Your session ended. Please log in again."), "info")
        if not current_user.is_authenticated:
            # Only a page can be returned to: a form's address would answer the GET with 405.
            back_to = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=back_to))
        if current_user.role not in allowed:
            abort(403)
        return None
