"""Pages for families: no account, Arabic first, nothing about anyone else's case.

After a successful status check the inquiry id is kept in the (signed) session for a short
while, so the family can add information or withdraw without typing the code again.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guard import public
from ..errors import render_error
from ..extensions import db, limiter
from . import services
from .forms import AddInformationForm, ConfirmForm, InquiryForm, StatusCheckForm
from .models import Inquiry, RequestKind

bp = Blueprint("family", __name__)

FAMILY_KEY = "family_inquiry"
FAMILY_AT = "family_at"


def _config(name: str):  # noqa: ANN202
    return lambda: current_app.config[name]


def _reference_key() -> str:
    return "ref:" + services.digits_only(request.form.get("reference"))[:12]


@bp.route("/")
@public
def start():
    if current_user.is_authenticated:
        from ..auth.views import home_for

        return redirect(home_for(current_user))
    return render_template("family/start.html")


@bp.route("/privacy")
@public
def notice():
    return render_template("family/notice.html", version=services.NOTICE_VERSION)


@bp.route("/inquiry", methods=["GET", "POST"])
@public
@limiter.limit(_config("INQUIRY_SUBMIT_LIMIT"), methods=["POST"])
def new_inquiry():
    form = InquiryForm()
    if form.validate_on_submit():
        if form.is_bot():
            return render_error(
                400, _("Not accepted"), _("Your inquiry could not be accepted. Please call us.")
            )
        inquiry, secret = services.submit_inquiry(form.to_details(), locale=str(get_locale()))
        # Rendered, not redirected: the secret must never travel in a URL or be stored.
        return render_template(
            "family/receipt.html",
            reference=services.format_reference(inquiry.reference),
            secret=services.format_secret(secret),
            version=services.NOTICE_VERSION,
        )
    return render_template("family/inquiry.html", form=form, version=services.NOTICE_VERSION)


@bp.route("/check", methods=["GET", "POST"])
@public
@limiter.limit(_config("STATUS_CHECK_LIMIT"), methods=["POST"])
@limiter.limit(
    _config("STATUS_CHECK_PER_REFERENCE_LIMIT"), key_func=_reference_key, methods=["POST"]
)
def check():
    form = StatusCheckForm()
    if form.validate_on_submit():
        inquiry = services.find_inquiry(form.reference.data, form.secret.data)
        if inquiry is not None:
            session.pop(FAMILY_KEY, None)
            session[FAMILY_KEY] = inquiry.id
            session[FAMILY_AT] = int(time.time())
            return redirect(url_for("family.result"))
        # One message for an unknown reference and a wrong code.
        flash(_("We could not find an inquiry with this reference and code."), "error")
        form.secret.data = ""
    return render_template("family/check.html", form=form)


def _family_inquiry() -> Inquiry:
    """The inquiry this browser proved it holds the code for, while that proof is fresh."""
    inquiry_id = session.get(FAMILY_KEY)
    checked_at = session.get(FAMILY_AT, 0)
    fresh = time.time() - checked_at < current_app.config["FAMILY_SESSION_SECONDS"]
    inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id and fresh else None
    if inquiry is None:
        session.pop(FAMILY_KEY, None)
        abort(_redirect_to_check())
    return inquiry


def _redirect_to_check():  # noqa: ANN202
    flash(_("Please enter your reference and code again."), "info")
    return redirect(url_for("family.check"))


@bp.route("/check/result")
@public
def result():
    return _result_page(_family_inquiry())


def _result_page(inquiry: Inquiry, add_form: AddInformationForm | None = None) -> str:
    """The family's view of its inquiry; a failed addition passes its form back."""
    return render_template(
        "family/result.html",
        inquiry=inquiry,
        status=services.family_status(inquiry),
        notes=services.shareable_notes(inquiry),
        reference=services.format_reference(inquiry.reference),
        add_form=add_form or AddInformationForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/check/add", methods=["POST"])
@public
@limiter.limit(_config("INQUIRY_SUBMIT_LIMIT"))
def add_information():
    inquiry = _family_inquiry()
    form = AddInformationForm()
    if form.validate_on_submit():
        services.add_family_information(inquiry, form.body.data)
        flash(_("Thank you. Your caseworker will see what you added."), "success")
        return redirect(url_for("family.result"))
    return _result_page(inquiry, add_form=form), 400


@bp.route("/check/<any(withdraw, delete):what>", methods=["POST"])
@public
def data_request(what: str):
    inquiry = _family_inquiry()
    if ConfirmForm().validate_on_submit():
        kind = RequestKind.WITHDRAW_CONSENT if what == "withdraw" else RequestKind.DELETION
        services.request_about_data(inquiry, kind)
        if kind == RequestKind.WITHDRAW_CONSENT:
            flash(_("Your consent is withdrawn. A supervisor will contact you."), "success")
        else:
            flash(_("Your request to delete your information was sent to a supervisor."), "success")
    return redirect(url_for("family.result"))


@bp.route("/check/finish", methods=["POST"])
@public
def finish():
    ConfirmForm().validate_on_submit()
    session.pop(FAMILY_KEY, None)
    session.pop(FAMILY_AT, None)
    flash(_("You have closed your inquiry page."), "info")
    return redirect(url_for("family.start"))


@bp.after_request
def no_store(response):  # noqa: ANN001, ANN201
    response.headers["Cache-Control"] = "no-store"
    return response
