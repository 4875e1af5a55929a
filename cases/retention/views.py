"""Legal hold on a case: set or lifted by a supervisor from the case page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guard import roles
from ..auth.models import Role
from ..casework.access import get_case
from . import services
from .forms import REASON_MAX, LegalHoldForm

bp = Blueprint("retention", __name__)
PREFIX = "hold"  # the case page has other "reason" fields


@bp.app_template_global()
def legal_hold_form() -> LegalHoldForm:
    return LegalHoldForm(prefix=PREFIX)


@bp.route("/cases/<int:case_id>/legal-hold/<any(hold, release):action>", methods=["POST"])
@roles(Role.SUPERVISOR)
def legal_hold(case_id: int, action: str):
    case = get_case(current_user, case_id)
    form = LegalHoldForm(prefix=PREFIX)
    if not form.validate_on_submit():
        flash(_("Say why (at most %(max)s characters).", max=REASON_MAX), "error")
    else:
        try:
            services.set_legal_hold(current_user, case, action == "hold", form.reason.data)
        except services.RetentionError as error:
            flash(str(error), "error")
        else:
            if action == "hold":
                flash(_("This case is on legal hold: it will not be purged or deleted."), "success")
            else:
                flash(_("The legal hold is lifted."), "success")
    return redirect(url_for("casework.show", case_id=case.id) + "#legal-hold")
