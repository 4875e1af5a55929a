"""The intake queue: caseworkers turn inquiries into cases, attach them, or reject them."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..attachments import services as files
from ..attachments.views import file_response
from ..auth.guard import CASE_STAFF, roles
from ..casework.access import can_see_contacts, can_work_on
from ..casework.forms import LABELS
from ..extensions import db
from . import services
from .forms import RELATIONSHIPS, AttachForm, ConfirmForm, RejectForm
from .models import Alert, Inquiry

bp = Blueprint("intake", __name__)


@bp.route("/")
@roles(*CASE_STAFF)
def queue():
    # A family on the phone reads out its reference: take the caseworker straight to it.
    typed = request.args.get("reference", "")
    if typed:
        inquiry = services.inquiry_by_reference(typed)
        if inquiry is not None:
            return redirect(url_for("intake.show", inquiry_id=inquiry.id))
        flash(_("No inquiry has this reference."), "error")
    inquiries = services.intake_queue()
    return render_template(
        "intake/queue.html",
        inquiries=inquiries,
        matched=services.strongly_matched(inquiries),
        reference=typed[:40],
    )


def _get_inquiry(inquiry_id: int) -> Inquiry:
    """An inquiry waiting in the queue is open to all case staff, who triage together; once it
    is on a case it follows that case's access rules (ids are sequential: no reading every
    family's name and phone by counting)."""
    inquiry = db.get_or_404(Inquiry, inquiry_id)
    if inquiry.case is not None and not can_work_on(current_user, inquiry.case):
        abort(404)
    return inquiry


@bp.route("/<int:inquiry_id>")
@roles(*CASE_STAFF)
def show(inquiry_id: int):
    return _inquiry_page(_get_inquiry(inquiry_id))


@bp.route("/<int:inquiry_id>/files/<int:attachment_id>")
@roles(*CASE_STAFF)
def family_file(inquiry_id: int, attachment_id: int):
    """A photo or document the family sent, for triage. Once the inquiry is on a case, its
    files follow the case's access rules (opened from the case page)."""
    inquiry = _get_inquiry(inquiry_id)
    attachment = files.attachment_on_inquiry(inquiry, attachment_id)
    if attachment is None or inquiry.case_id is not None:
        abort(404)
    return file_response(attachment, services.format_reference(inquiry.reference))


def _inquiry_page(
    inquiry: Inquiry, attach_form: AttachForm | None = None, reject_form: RejectForm | None = None
) -> str:
    """The inquiry with possible matches; a failed POST passes its form back with errors."""
    candidates = services.possible_matches(current_user, inquiry)
    known = {m.case.id for m in candidates} | {inquiry.case_id}
    family_cases = [
        (case, can_work_on(current_user, case))
        for case in services.cases_with_family_phone(inquiry, exclude=known)
    ]
    return render_template(
        "intake/show.html",
        inquiry=inquiry,
        show_contact=inquiry.case is None or can_see_contacts(current_user, inquiry.case),
        files=files.attachments_for_inquiry(inquiry) if inquiry.case_id is None else [],
        reference=services.format_reference(inquiry.reference),
        candidates=candidates,
        family_cases=family_cases,
        confirm_form=ConfirmForm(),
        attach_form=attach_form or AttachForm(),
        reject_form=reject_form or RejectForm(),
        labels=LABELS,
        relationships=RELATIONSHIPS,
    )


@bp.route("/<int:inquiry_id>/create-case", methods=["POST"])
@roles(*CASE_STAFF)
def create_case(inquiry_id: int):
    inquiry = _get_inquiry(inquiry_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("intake.show", inquiry_id=inquiry.id))
    try:
        case = services.create_case_from_inquiry(current_user, inquiry)
    except services.InquiryError as error:
        flash(str(error), "error")
        return redirect(url_for("intake.show", inquiry_id=inquiry.id))
    flash(_("Case %(ref)s created from the inquiry.", ref=case.reference), "success")
    return redirect(url_for("casework.show", case_id=case.id))


@bp.route("/<int:inquiry_id>/attach", methods=["POST"])
@roles(*CASE_STAFF)
def attach(inquiry_id: int):
    inquiry = _get_inquiry(inquiry_id)
    form = AttachForm()
    if form.validate_on_submit():
        case = services.find_case_by_reference(current_user, form.case_reference.data)
        if case is None:
            form.case_reference.errors.append(_("No case with this reference that you work on."))
        else:
            try:
                services.attach_to_case(current_user, inquiry, case)
            except services.InquiryError as error:
                flash(str(error), "error")
            else:
                flash(_("Inquiry attached to case %(ref)s.", ref=case.reference), "success")
                return redirect(url_for("casework.show", case_id=case.id))
    return _inquiry_page(inquiry, attach_form=form), 400


@bp.route("/<int:inquiry_id>/reject", methods=["POST"])
@roles(*CASE_STAFF)
def reject(inquiry_id: int):
    inquiry = _get_inquiry(inquiry_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_inquiry(current_user, inquiry, form.reason.data, form.comment.data)
        except services.InquiryError as error:
            flash(str(error), "error")
        else:
            flash(_("Inquiry rejected."), "success")
            return redirect(url_for("intake.queue"))
    return _inquiry_page(inquiry, reject_form=form), 400


@bp.route("/alerts")
@roles(*CASE_STAFF)
def alerts():
    unread = db.session.scalars(
        select(Alert)
        .where(Alert.user_id == current_user.id, Alert.read_at.is_(None))
        .order_by(Alert.created_at.desc())
    ).all()
    return render_template("intake/alerts.html", alerts=unread)


@bp.route("/alerts/<int:alert_id>/open", methods=["POST"])
@roles(*CASE_STAFF)
def open_alert(alert_id: int):
    alert = db.get_or_404(Alert, alert_id)
    if alert.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        services.mark_alerts_read(current_user, alert.case)
    return redirect(url_for("casework.show", case_id=alert.case_id) + "#timeline")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["inquiry_ref"] = services.format_reference

    @app.context_processor
    def alert_count() -> dict:
        if current_user.is_authenticated and current_user.works_cases:
            return {"unread_alerts": services.unread_alerts(current_user)}
        return {"unread_alerts": 0}
