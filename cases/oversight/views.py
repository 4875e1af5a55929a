from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import places
from ..auth.guard import roles
from ..auth.models import Role
from ..casework import services
from ..casework.forms import LABELS, DecisionForm
from ..casework.models import ApprovalRequest, ApprovalState, Case
from ..extensions import db, limiter
from ..i18n import RTL_LANGUAGES
from ..inquiries import services as inquiry_services
from ..inquiries.forms import DataDecisionForm
from ..inquiries.models import DataRequest
from ..matching import decisions as match_decisions
from ..matching.models import DecisionKind, MatchDecision
from ..retention import services as retention
from . import charts, stats

DISTRICTS_SHOWN = 20

bp = Blueprint("oversight", __name__)


@bp.route("/")
@roles(Role.SUPERVISOR)
def dashboard():
    stale_days = request.args.get("stale_days", type=int) or current_app.config["STALE_DAYS"]
    stale_days = min(max(stale_days, 1), 365)
    figures = stats.dashboard(stale_days)
    locale = str(get_locale())
    rtl = locale in RTL_LANGUAGES
    open_statuses = list(stats.OPEN_STATUSES)
    status_rows = [
        (LABELS["status"][s], n, url_for("casework.case_list", status=s))
        for s, n in figures.by_status.items()
    ]
    governorate_rows = [
        (places.place_name(code, locale), n, url_for("casework.case_list", governorate=code))
        for code, n in figures.by_governorate
    ]
    district_rows = [
        (places.place_name(code, locale), n, url_for("casework.case_list", district=code))
        for code, n in figures.by_district[:DISTRICTS_SHOWN]
    ]
    month_links = [
        url_for(
            "casework.case_list",
            created_from=m.isoformat(),
            created_to=(stats.next_month(m) - timedelta(days=1)).isoformat(),
        )
        for m in figures.months
    ]
    month_labels = [format_date(m, "MMM yy") for m in figures.months]
    return render_template(
        "oversight/dashboard.html",
        figures=figures,
        labels=LABELS,
        status_chart=charts.bar_chart(status_rows, rtl),
        governorate_chart=charts.bar_chart(governorate_rows, rtl),
        district_chart=charts.bar_chart(district_rows, rtl),
        status_rows=status_rows,
        governorate_rows=governorate_rows,
        district_rows=district_rows,
        trend_chart=charts.line_chart(
            [
                (_("New cases"), figures.new_cases, "series-cases"),
                (_("New inquiries"), figures.new_inquiries, "series-inquiries"),
            ],
            month_labels,
            rtl,
        ),
        month_labels=month_labels,
        month_links=month_links,
        open_statuses=open_statuses,
        stale_url=url_for(
            "casework.case_list", status=open_statuses, inactive_days=figures.stale_days
        ),
    )


@bp.route("/approvals")
@roles(Role.SUPERVISOR)
def approvals():
    return _approvals_page()


def _approvals_page(
    failed: tuple[int, DataDecisionForm] | None = None,
    failed_merge: tuple[int, DecisionForm, str] | None = None,
) -> str:
    """The approvals page; a refused decision on a family's request or on a merge passes its
    form (and, for a merge, the message) back."""
    pending = db.session.scalars(
        db.select(ApprovalRequest)
        .filter_by(state=ApprovalState.PENDING)
        .order_by(ApprovalRequest.requested_at)
        .options(
            selectinload(ApprovalRequest.case).selectinload(Case.owner),
            selectinload(ApprovalRequest.requested_by),
        )
    ).all()
    data_requests = inquiry_services.pending_data_requests()
    return render_template(
        "oversight/approvals.html",
        pending=pending,
        data_requests=data_requests,
        deletion_plans={
            r.id: retention.deletion_plan(r) for r in data_requests if r.kind == "deletion"
        },
        failed_id=failed[0] if failed else None,
        failed_form=failed[1] if failed else None,
        form=DataDecisionForm(),
        merges=match_decisions.pending_merges(),
        failed_merge=failed_merge,
        merge_form=DecisionForm(),
        labels=LABELS,
    )


def _per_account() -> str:
    # Re-entering a password: a budget per supervisor, like exports.
    return f"data-decision:{current_user.id}"


@bp.route("/data-requests/<int:request_id>/<any(accept, decline):decision>", methods=["POST"])
@roles(Role.SUPERVISOR)
# Only refused decisions (a wrong password among them) count: a busy day of decisions does not.
@limiter.limit(
    "10 per 15 minutes",
    key_func=_per_account,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 400,
)
def decide_data_request(request_id: int, decision: str):
    data_request = db.get_or_404(DataRequest, request_id)
    form = DataDecisionForm()
    if not form.validate_on_submit():
        flash(_("The comment or the password is too long."), "error")
        return _approvals_page((data_request.id, form)), 400
    try:
        inquiry_services.decide_data_request(
            current_user,
            data_request,
            decision == "accept",
            form.comment.data,
            password=form.password.data,
        )
    except inquiry_services.InquiryError as error:
        form.password.data = ""
        form.comment.errors.append(str(error))
        return _approvals_page((data_request.id, form)), 400
    if decision == "accept" and data_request.kind == "deletion":
        flash(_("Accepted: the family's information has been deleted."), "success")
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


@bp.route("/merges/<int:decision_id>/<any(approve, reject):decision>", methods=["POST"])
@roles(Role.SUPERVISOR)
def decide_merge(decision_id: int, decision: str):
    """Approve (and so carry out) or reject a proposal that two cases are the same person."""
    merge = db.get_or_404(MatchDecision, decision_id)
    if merge.kind != DecisionKind.SAME:
        abort(404)
    form = DecisionForm()
    try:
        if not form.validate_on_submit():
            raise match_decisions.MatchDecisionError(_("The comment is too long."))
        match_decisions.decide_same(
            current_user, merge, decision == "approve", form.comment.data or ""
        )
    except match_decisions.MatchDecisionError as error:
        return _approvals_page(failed_merge=(merge.id, form, str(error))), 400
    if decision == "approve":
        flash(
            _(
                "Merged: case %(dup)s is closed as a duplicate of case %(kept)s.",
                dup=merge.duplicate.reference,
                kept=merge.surviving.reference,
            ),
            "success",
        )
    else:
        flash(_("Rejected: the requester sees your comment on the timeline."), "success")
    return redirect(url_for("oversight.approvals") + "#merges")
