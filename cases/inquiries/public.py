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
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..attachments import services as attachments
from ..auth.guard import public
from ..errors import render_error
from ..extensions import db, limiter
from ..security import posted_field
from . import services
from .forms import (
    CONTACT_PREFERENCES,
    RELATIONSHIPS,
    AddInformationForm,
    ConfirmForm,
    CorrectionForm,
    DeletionRequestForm,
    InquiryForm,
    StatusCheckForm,
)
from .models import Inquiry, InquiryState, RequestKind

bp = Blueprint("family", __name__)

FAMILY_KEY = "family_inquiry"
FAMILY_AT = "family_at"


def _config(name: str):  # noqa: ANN202
    return lambda: current_app.config[name]


def _reference_key() -> str:
    return "ref:" + services.digits_only(posted_field("reference"))[:12]


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
        if form.photo.clean is not None:
            try:
                attachments.add_from_family(inquiry, form.photo.clean)
            except attachments.AttachmentError:
                # The inquiry is saved: the family must still get its code.
                flash(
                    _("The photo could not be saved. You can add it later with your code."),
                    "error",
                )
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


def _family_inquiry(writable: bool = False) -> Inquiry:
    """The inquiry this browser proved it holds the code for, while that proof is fresh.

    ``writable``: the family is adding to it, which an erased inquiry no longer accepts.
    """
    inquiry_id = session.get(FAMILY_KEY)
    checked_at = session.get(FAMILY_AT, 0)
    fresh = time.time() - checked_at < current_app.config["FAMILY_SESSION_SECONDS"]
    inquiry = db.session.get(Inquiry, inquiry_id) if inquiry_id and fresh else None
    if inquiry is None:
        session.pop(FAMILY_KEY, None)
        abort(_redirect_to_check())
    if writable and inquiry.state == InquiryState.ERASED:
        flash(_("Your information has already been deleted."), "info")
        abort(redirect(url_for("family.result")))
    return inquiry


def _redirect_to_check():  # noqa: ANN202
    flash(_("Please enter your reference and code again."), "info")
    return redirect(url_for("family.check"))


@bp.route("/check/result")
@public
def result():
    return _result_page(_family_inquiry())


def _result_page(
    inquiry: Inquiry,
    add_form: AddInformationForm | None = None,
    correction_form: CorrectionForm | None = None,
) -> str:
    """The family's view of its inquiry; a failed addition or correction passes its form back."""
    return render_template(
        "family/result.html",
        inquiry=inquiry,
        status=services.family_status(inquiry),
        notes=services.shareable_notes(inquiry),
        reference=services.format_reference(inquiry.reference),
        add_form=add_form or AddInformationForm(),
        confirm_form=ConfirmForm(),
        deletion_form=DeletionRequestForm(),
        correction_form=correction_form or CorrectionForm(),
        requests=services.family_requests(inquiry),
        access_granted=services.access_granted(inquiry),
    )


@bp.route("/check/add", methods=["POST"])
@public
@limiter.limit(_config("INQUIRY_SUBMIT_LIMIT"))
def add_information():
    inquiry = _family_inquiry(writable=True)
    form = AddInformationForm()
    if form.validate_on_submit():
        text = (form.body.data or "").strip()
        if text:
            services.add_family_information(inquiry, text)
        if form.file.clean is not None:
            try:
                attachments.add_from_family(inquiry, form.file.clean)
            except attachments.AttachmentError as error:
                if not text:
                    form.file.errors.append(str(error))
                    return _result_page(inquiry, add_form=form), 400
                flash(str(error), "error")  # the text is saved; only the file was refused
        flash(_("Thank you. Your caseworker will see what you added."), "success")
        return redirect(url_for("family.result"))
    return _result_page(inquiry, add_form=form), 400


REQUEST_KINDS = {
    "withdraw": RequestKind.WITHDRAW_CONSENT,
    "delete": RequestKind.DELETION,
    "access": RequestKind.ACCESS,
}
REQUEST_SENT = {
    RequestKind.WITHDRAW_CONSENT: _l("Your consent is withdrawn. A supervisor will contact you."),
    RequestKind.DELETION: _l("Your request to delete your information was sent to a supervisor."),
    RequestKind.ACCESS: _l(
        "Your request was sent to a supervisor. Once it is accepted, this page will show "
        "what we hold about you."
    ),
}


@bp.route("/check/<any(withdraw, delete, access):what>", methods=["POST"])
@public
@limiter.limit(_config("INQUIRY_SUBMIT_LIMIT"))
def data_request(what: str):
    inquiry = _family_inquiry(writable=True)
    form = DeletionRequestForm() if what == "delete" else ConfirmForm()
    if form.validate_on_submit():
        kind = REQUEST_KINDS[what]
        include_case = bool(form.include_case.data) if what == "delete" else False
        try:
            services.request_about_data(inquiry, kind, include_case=include_case)
        except services.InquiryError as error:
            flash(str(error), "error")
        else:
            flash(str(REQUEST_SENT[kind]), "success")
    return redirect(url_for("family.result") + "#rights-h")


@bp.route("/check/correct", methods=["POST"])
@public
@limiter.limit(_config("INQUIRY_SUBMIT_LIMIT"))
def correction():
    inquiry = _family_inquiry(writable=True)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            services.request_about_data(
                inquiry,
                RequestKind.CORRECTION,
                what_is_wrong=form.what_is_wrong.data,
                what_it_should_be=form.what_it_should_be.data,
            )
        except services.InquiryError as error:
            form.what_is_wrong.errors.append(str(error))
        else:
            flash(_("Your correction was sent to a supervisor."), "success")
            return redirect(url_for("family.result") + "#rights-h")
    return _result_page(inquiry, correction_form=form), 400


@bp.route("/check/held")
@public
def held():
    """What we hold about the family, once a supervisor accepted their access request."""
    inquiry = _family_inquiry()
    if not services.access_granted(inquiry):
        flash(_("This page opens once a supervisor has accepted your request."), "info")
        return redirect(url_for("family.result"))
    return render_template(
        "family/held.html",
        held=services.held_about(inquiry),
        reference=services.format_reference(inquiry.reference),
        relationships=RELATIONSHIPS,
        contact_preferences=CONTACT_PREFERENCES,
    )


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
