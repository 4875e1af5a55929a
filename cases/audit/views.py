"""Audit pages: supervisors see who opened a case, admins see account events."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_login import current_user, user_logged_in, user_logged_out
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select

from ..auth.guard import roles
from ..auth.models import Role, User
from ..casework.access import get_case
from ..extensions import db
from . import cli, services
from .models import AuditEvent

bp = Blueprint("audit", __name__)
PER_PAGE = 50


@bp.route("/case/<int:case_id>")
@roles(Role.SUPERVISOR)
def case_viewers(case_id: int):
    """Everyone who opened or printed this case file, newest first."""
    case = get_case(current_user, case_id)
    page = _page(
        select(AuditEvent).where(
            AuditEvent.object_type == "case",
            AuditEvent.object_id == case.id,
            AuditEvent.action.in_(services.CASE_OPEN_ACTIONS),
        )
    )
    return render_template(
        "audit/case.html", case=case, page=page, names=_names(page.items, subjects=False)
    )


@bp.route("/accounts")
@roles(Role.ADMIN)
def account_events():
    """Logins, failed logins, logouts and account changes; never what was done to cases."""
    page = _page(select(AuditEvent).where(AuditEvent.action.in_(services.ACCOUNT_ACTIONS)))
    return render_template("audit/accounts.html", page=page, names=_names(page.items))


def _page(stmt: Select) -> Pagination:
    return db.paginate(
        stmt.order_by(AuditEvent.id.desc()),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )


def _names(events: list[AuditEvent], subjects: bool = True) -> dict[int, str]:
    """Display names of the actors (and, for account events, the accounts acted on)."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if subjects:
        ids |= {e.object_id for e in events if e.object_type == "user" and e.object_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {ident: name for ident, name in rows}


def _logged_in(_app: Flask, user: User, **_extra: object) -> None:
    services.record("login", "user", user.id, actor=user, commit=True)


def _logged_out(_app: Flask, user: User, **_extra: object) -> None:
    # Also sent when the guard ends an expired session: that is a logout too.
    if user is not None and user.is_authenticated:
        services.record("logout", "user", user.id, actor=user, commit=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/audit")
    app.cli.add_command(cli.audit_cli)
    user_logged_in.connect(_logged_in, app)
    user_logged_out.connect(_logged_out, app)
