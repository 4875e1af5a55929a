"""Case pages for caseworkers and supervisors. Thin: parse a form, call a service, render."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import places
from ..auth.guard import CASE_STAFF, roles
from ..auth.models import Role, User
from ..auth.services import case_staff
from ..extensions import db
from . import services, workflow
from .access import get_case
from .forms import (
    LABELS,
    ActionForm,
    AssignForm,
    CaseFilterForm,
    CaseForm,
    DecisionForm,
    NoteForm,
    ShareForm,
    StatusForm,
    choices,
    district_choices,
    governorate_choices,
    options,
)
from .listing import COUNT_CAP, DEFAULT_SORT, SORTS, CaseFilter, bounded_count, filtered_cases
from .models import ApprovalRequest, Case, CaseShare, CaseStatus
from .timeline import case_timeline

bp = Blueprint("casework", __name__)
MAX_PAGE = 100_000  # beyond this an OFFSET only burdens the database


@bp.route("/")
@roles(*CASE_STAFF)
def case_list():
    form = CaseFilterForm(request.args)
    form.governorate.choices = governorate_choices(blank=_("All"))
    form.district.choices = district_choices(blank=_("All"))
    form.owner.choices = options(((u.id, u.display_name) for u in case_staff()), _("All"))
    form.validate()
    filters = CaseFilter(
        status=[s for s in (form.status.data or []) if s in LABELS["status"]],
        governorate=_valid(form.governorate.data, places.governorate),
        district=_valid(form.district.data, places.district),
        owner_id=int(form.owner.data) if (form.owner.data or "").isdigit() else None,
        age_min=None if form.age_min.errors else form.age_min.data,
        age_max=None if form.age_max.errors else form.age_max.data,
        contact_from=None if form.contact_from.errors else form.contact_from.data,
        contact_to=None if form.contact_to.errors else form.contact_to.data,
        q=(form.q.data or "").strip()[:200] or None,
        sort=form.sort.data if form.sort.data in SORTS else DEFAULT_SORT,
    )
    stmt = filtered_cases(current_user, filters).options(selectinload(Case.owner))
    page = db.paginate(
        stmt,
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE),
        per_page=current_app.config["CASES_PER_PAGE"],
        error_out=False,
        max_per_page=100,
        count=False,
    )
    page.total = bounded_count(stmt)
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    return render_template(
        "casework/list.html",
        form=form,
        page=page,
        filters=filters,
        args=args,
        labels=LABELS,
        count_cap=COUNT_CAP,
    )


def _valid(value: str | None, lookup) -> str | None:  # noqa: ANN001
    return value if value and lookup(value) is not None else None


@bp.route("/new", methods=["GET", "POST"])
@roles(*CASE_STAFF)
def create():
    form = CaseForm()
    if form.validate_on_submit():
        try:
            case = services.create_case(current_user, form.to_details())
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            flash(_("Case %(ref)s created.", ref=case.reference), "success")
            return redirect(url_for("casework.show", case_id=case.id))
    elif form.errors:
        flash(_("Some fields need attention. Nothing was saved yet."), "error")
    return render_template("casework/edit.html", form=form, case=None, labels=LABELS)


@bp.route("/<int:case_id>")
@roles(*CASE_STAFF)
def show(case_id: int):
    return _case_page(get_case(current_user, case_id))


def _case_page(
    case: Case, note_form: NoteForm | None = None, status_form: StatusForm | None = None
) -> str:
    """The case page; a failed POST passes its form back so nothing typed is lost."""
    status_form = status_form or StatusForm()
    status_form.to_status.choices = choices(
        "status", [s for s in CaseStatus if s in workflow.allowed_targets(case.status)]
    )
    status_form.closure_reason.choices = choices(
        "closure", workflow.closure_reasons_for(case.status), blank=True
    )
    staff = case_staff()
    assign_form = AssignForm(prefix="assign")
    assign_form.owner_id.choices = options(
        (u.id, u.display_name) for u in staff if u.id != case.owner_id
    )
    shares = db.session.scalars(
        select(CaseShare).where(CaseShare.case_id == case.id).options(selectinload(CaseShare.user))
    ).all()
    shared_ids = {s.user_id for s in shares}
    share_form = ShareForm()
    share_form.user_id.choices = options(
        (u.id, u.display_name)
        for u in staff
        if u.id != case.owner_id and u.id not in shared_ids and u.role == Role.CASEWORKER
    )
    return render_template(
        "casework/show.html",
        case=case,
        timeline=case_timeline(case),
        pending=services.pending_approval(case),
        note_form=note_form or NoteForm(),
        status_form=status_form,
        decision_form=DecisionForm(),
        assign_form=assign_form,
        share_form=share_form,
        action_form=ActionForm(),
        shares=shares,
        labels=LABELS,
        needs_approval=workflow.NEEDS_APPROVAL,
    )


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@roles(*CASE_STAFF)
def edit(case_id: int):
    case = get_case(current_user, case_id)
    if request.method == "POST":
        form = CaseForm()
    else:
        form = CaseForm.from_details(services.details_of(case))
    if form.validate_on_submit():
        services.update_case(current_user, case, form.to_details())
        flash(_("Changes saved."), "success")
        return redirect(url_for("casework.show", case_id=case.id))
    if form.errors:
        flash(_("Some fields need attention. Nothing was saved yet."), "error")
    return render_template("casework/edit.html", form=form, case=case, labels=LABELS)


@bp.route("/<int:case_id>/notes", methods=["POST"])
@roles(*CASE_STAFF)
def add_note(case_id: int):
    case = get_case(current_user, case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.add_note(
                current_user,
                case,
                form.body.data,
                kind=form.kind.data,
                visibility=form.visibility.data,
                corrects_id=int(form.corrects_id.data) if form.corrects_id.data else None,
            )
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            flash(_("Note added."), "success")
            return redirect(url_for("casework.show", case_id=case.id) + "#timeline")
    else:
        flash(_("The note was not saved: it cannot be empty."), "error")
    return _case_page(case, note_form=form), 400


@bp.route("/<int:case_id>/status", methods=["POST"])
@roles(*CASE_STAFF)
def change_status(case_id: int):
    case = get_case(current_user, case_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            result = services.change_status(
                current_user,
                case,
                form.to_status.data,
                form.reason.data,
                form.closure_reason.data or None,
            )
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            if isinstance(result, ApprovalRequest):
                flash(_("Request sent to a supervisor for approval."), "success")
            else:
                flash(_("Status changed."), "success")
            return redirect(url_for("casework.show", case_id=case.id))
    else:
        flash(_("Say why the status changes."), "error")
    return _case_page(case, status_form=form), 400


@bp.route("/<int:case_id>/approvals/<int:request_id>/withdraw", methods=["POST"])
@roles(*CASE_STAFF)
def withdraw(case_id: int, request_id: int):
    case = get_case(current_user, case_id)
    approval = db.get_or_404(ApprovalRequest, request_id)
    if approval.case_id != case.id or not ActionForm().validate_on_submit():
        return redirect(url_for("casework.show", case_id=case.id))
    try:
        services.withdraw_approval(current_user, approval)
    except services.CaseRuleError as error:
        flash(str(error), "error")
    else:
        flash(_("Request withdrawn."), "success")
    return redirect(url_for("casework.show", case_id=case.id))


@bp.route("/<int:case_id>/assign", methods=["POST"])
@roles(Role.SUPERVISOR)
def assign(case_id: int):
    case = get_case(current_user, case_id)
    form = AssignForm(prefix="assign")
    to_user = db.session.get(User, form.owner_id.data) if form.validate_on_submit() else None
    if to_user is None:
        flash(_("Choose who should take the case."), "error")
    else:
        try:
            services.assign_case(current_user, case, to_user, form.reason.data)
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            flash(_("Case given to %(name)s.", name=to_user.display_name), "success")
    return redirect(url_for("casework.show", case_id=case.id))


@bp.route("/<int:case_id>/share", methods=["POST"])
@roles(*CASE_STAFF)
def share(case_id: int):
    case = get_case(current_user, case_id)
    form = ShareForm()
    with_user = db.session.get(User, form.user_id.data) if form.validate_on_submit() else None
    if with_user is None:
        flash(_("Choose a colleague to share the case with."), "error")
    else:
        try:
            services.share_case(current_user, case, with_user)
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            flash(_("Case shared with %(name)s.", name=with_user.display_name), "success")
    return redirect(url_for("casework.show", case_id=case.id))
