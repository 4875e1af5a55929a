from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..api import services as api_clients
from ..api.models import ApiClient
from ..auth import invitations, services, sessions, totp
from ..auth.guard import roles
from ..auth.models import Role, User
from ..casework.forms import ActionForm
from ..extensions import db, limiter
from .forms import (
    ROLE_LABELS,
    AccountActionForm,
    NewUserForm,
    ResetTwoFactorForm,
    RoleForm,
)

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@roles(Role.ADMIN)
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user, token = invitations.invite_new_user(
                current_user._get_current_object(),
                form.username.data,
                form.role.data,
                form.display_name.data,
            )
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return _users_page(NewUserForm(formdata=None), invited=user, token=token)
    return _users_page(form)


def _users_page(form: NewUserForm, invited: User | None = None, token: str | None = None):  # noqa: ANN202
    """The accounts page; with ``token``, the invitation link shown this once and never again."""
    everyone = db.session.scalars(db.select(User).order_by(User.username)).all()
    link = url_for("auth.accept_invitation", token=token, _external=True) if token else None
    return render_template(
        "admin/users.html",
        users=everyone,
        form=form,
        action_form=ActionForm(),
        role_form=RoleForm(),
        reset_form=ResetTwoFactorForm(),
        account_form=AccountActionForm(),
        role_labels=ROLE_LABELS,
        session_counts=sessions.active_session_counts(),
        pending=invitations.pending_invitations(),
        invited=invited,
        invitation_link=link,
    )


@bp.route("/users/<int:user_id>/<any(disable, enable):action>", methods=["POST"])
@roles(Role.ADMIN)
def set_active(user_id: int, action: str):
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        if user.id == current_user.id:
            flash(_("You cannot disable your own account."), "error")
        else:
            services.set_active(user, action == "enable")
            flash(_("Account updated."), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles(Role.ADMIN)
@limiter.limit("10 per 15 minutes", methods=["POST"])
def set_role(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Enter your password to change a role."), "error")
    elif user.id == current_user.id:
        flash(_("You cannot change your own role."), "error")
    elif not services.check_password(current_user, form.password.data):
        flash(_("This is not your password. The role was not changed."), "error")
    else:
        services.set_role(user, Role(form.role.data))
        flash(_("Account updated."), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/two-factor", methods=["POST"])
@roles(Role.ADMIN)
@limiter.limit("10 per 15 minutes", methods=["POST"])
def reset_two_factor(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ResetTwoFactorForm()
    if not form.validate_on_submit():
        flash(_("Enter your password to reset two-factor authentication."), "error")
        return redirect(url_for("admin.users"))
    try:
        totp.reset(user, current_user, form.password.data)
    except services.AccountError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "Two-factor authentication of %(name)s was reset and their sessions ended.",
                name=user.username,
            ),
            "success",
        )
    return redirect(url_for("admin.users"))


def _reauthenticated(user: User, form: AccountActionForm) -> bool:
    """The admin re-entered their own password, for someone else's account (ASVS V7.5.1)."""
    if not form.validate_on_submit():
        flash(_("Enter your password to do this."), "error")
    elif user.id == current_user.id:
        flash(_("Use your own account page for your own sessions and password."), "error")
    elif not services.check_password(current_user, form.password.data):
        flash(_("This is not your password. Nothing was changed."), "error")
    else:
        return True
    return False


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@roles(Role.ADMIN)
@limiter.limit("10 per 15 minutes", methods=["POST"])
def end_sessions(user_id: int):
    """Log someone out everywhere (a lost phone, a shared computer left logged in)."""
    user = db.get_or_404(User, user_id)
    if _reauthenticated(user, AccountActionForm()):
        ended = services.revoke_sessions(user)
        flash(
            _("Sessions of %(name)s ended: %(n)d.", name=user.username, n=ended),
            "success",
        )
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@roles(Role.ADMIN)
@limiter.limit("10 per 15 minutes", methods=["POST"])
def reinvite(user_id: int):
    """Reset a password by invitation: the old one and all sessions stop, a new link is shown."""
    user = db.get_or_404(User, user_id)
    if not _reauthenticated(user, AccountActionForm()):
        return redirect(url_for("admin.users"))
    if not user.active:
        flash(_("Enable the account first: a disabled account cannot use a link."), "error")
        return redirect(url_for("admin.users"))
    token = invitations.reset_by_invitation(current_user._get_current_object(), user)
    flash(
        _("The password of %(name)s no longer works and their sessions ended.", name=user.username),
        "success",
    )
    return _users_page(NewUserForm(formdata=None), invited=user, token=token)


# --- API clients (cases/api) ------------------------------------------------------------------
# Each caseworker or supervisor makes their own clients on their account page: an admin reads
# no case files, so never holds a token. The admin sees every client and can revoke any.


@bp.route("/api-clients")
@roles(Role.ADMIN)
def api_client_list():
    return render_template(
        "admin/api_clients.html",
        clients=api_clients.clients(),
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
    )


@bp.route("/api-clients/<int:client_id>/revoke", methods=["POST"])
@roles(Role.ADMIN)
def api_client_revoke(client_id: int):
    """Revoking only takes access away, like disabling an account: no password needed."""
    client = db.get_or_404(ApiClient, client_id)
    if ActionForm().validate_on_submit():
        try:
            api_clients.revoke_client(current_user._get_current_object(), client)
        except api_clients.ApiClientError as error:
            flash(str(error), "error")
        else:
            flash(_("API client %(name)s revoked.", name=client.name), "success")
    return redirect(url_for("admin.api_client_list"))
