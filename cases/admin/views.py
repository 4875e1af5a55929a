from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import services
from ..auth.guard import roles
from ..auth.models import Role, User
from ..casework.forms import ActionForm
from ..extensions import db, limiter
from .forms import ROLE_LABELS, NewUserForm, RoleForm

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@roles(Role.ADMIN)
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.username.data, form.role.data, form.password.data, form.display_name.data
            )
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    everyone = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template(
        "admin/users.html",
        users=everyone,
        form=form,
        action_form=ActionForm(),
        role_form=RoleForm(),
        role_labels=ROLE_LABELS,
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
