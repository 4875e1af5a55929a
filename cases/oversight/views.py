from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..auth.guard import roles
from ..auth.models import Role
from ..casework import services
from ..casework.forms import LABELS, DecisionForm
from ..casework.models import ApprovalRequest, ApprovalState, Case
from ..extensions import db
from ..inquiries import services as inquiry_services
from ..inquiries.models import DataRequest

bp = Blueprint("oversight", __name__)


@bp.route("/approvals")
@roles(Role.SUPERVISOR)
def approvals():
    pending = db.session.scalars(
        db.select(ApprovalRequest)
        .filter_by(state=ApprovalState.PENDING)
        .order_by(ApprovalRequest.requested_at)
        .options(
            selectinload(ApprovalRequest.case).selectinload(Case.owner),
            selectinload(ApprovalRequest.requested_by),
        )
    ).all()
    return render_template(
        "oversight/approvals.html",
        pending=pending,
        data_requests=inquiry_services.pending_data_requests(),
        form=DecisionForm(),
        labels=LABELS,
    )


@bp.route("/data-requests/<int:request_id>/<any(accept, decline):decision>", methods=["POST"])
@roles(Role.SUPERVISOR)
def decide_data_request(request_id: int, decision: str):
    data_request = db.get_or_404(DataRequest, request_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            inquiry_services.decide_data_request(
                current_user, data_request, decision == "accept", form.comment.data
            )
        except inquiry_services.InquiryError as error:
            flash(str(error), "error")
        else:
            flash(_("Decision recorded."), "success")
    return redirect(url_for("oversight.approvals"))


@bp.route("/approvals/<int:request_id>/<any(approve, reject):decision>", methods=["POST"])
@roles(Role.SUPERVISOR)
def decide(request_id: int, decision: str):
    approval = db.get_or_404(ApprovalRequest, request_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_approval(
                current_user, approval, decision == "approve", form.comment.data or ""
            )
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            if decision == "approve":
                flash(_("Approved: the case status has changed."), "success")
            else:
                flash(_("Rejected: the requester sees your comment on the timeline."), "success")
    else:
        flash(_("The comment is too long."), "error")
    return redirect(url_for("casework.show", case_id=approval.case_id))
