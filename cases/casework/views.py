"""Case pages for caseworkers and supervisors. Thin: parse a form, call a service, render."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import services as audit
from ..auth.guard import CASE_STAFF, roles
from ..auth.models import Role, User
from ..auth.services import case_staff
from ..auth.views import safe_next
from ..clock import utcnow
from ..extensions import db
from ..matching import decisions
from ..matching.candidates import Match, find_matches
from ..matching.records import PersonRecord
from . import services, workflow
from .access import can_see_contacts, get_case
from .forms import (
    LABELS,
    ActionForm,
    AssignForm,
    BulkAssignForm,
    CaseForm,
    DecisionForm,
    NoteForm,
    ShareForm,
    StatusForm,
    choices,
    options,
)
from .listing import (
    COUNT_CAP,
    bounded_count,
    case_filter_from_args,
    count_filters,
    filtered_cases,
)
from .models import ApprovalRequest, Case, CaseShare, CaseStatus
from .timeline import case_timeline

bp = Blueprint("casework", __name__)
MAX_PAGE = 100_000  # beyond this an OFFSET only burdens the database


@bp.app_template_global()
def contacts_visible(case: Case) -> bool:
    return can_see_contacts(current_user, case)


@bp.route("/")
@roles(*CASE_STAFF)
def case_list():
    form, filters = case_filter_from_args(request.args)
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
    if used := count_filters(filters):
        audit.record("case_search", item_count=used, commit=True)
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
        bulk_form=_bulk_assign_form() if current_user.role == Role.SUPERVISOR else None,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles(*CASE_STAFF)
def create():
    form = CaseForm()
    duplicates: list[Match] = []
    if form.validate_on_submit():
        details = form.to_details()
        # Before a second file is opened on someone, show the cases that may already be him.
        matches = find_matches(current_user, PersonRecord.from_details(details))
        if matches and not form.different_person.data:
            duplicates = matches
        else:
            try:
                case = services.create_case(current_user, details)
            except services.CaseRuleError as error:
                flash(str(error), "error")
            else:
                _remember_different(case, matches)
                flash(_("Case %(ref)s created.", ref=case.reference), "success")
                return redirect(url_for("casework.show", case_id=case.id))
    elif form.errors:
        flash(_("Some fields need attention. Nothing was saved yet."), "error")
    return render_template(
        "casework/edit.html", form=form, case=None, labels=LABELS, duplicates=duplicates
    )


def _remember_different(case: Case, matches: list[Match]) -> None:
    """The caseworker saved the new case as a different person from the cases the warning
    showed: remembered (cases.matching.decisions) for those they work on, so the new case's
    page does not suggest them again. Someone else's case stays for its holder to judge."""
    for match in matches:
        if match.visible:
            try:
                decisions.mark_not_same(current_user, case, other_case=match.case)
            except decisions.MatchDecisionError:
                continue  # decided in the meantime: nothing to remember


@bp.route("/<int:case_id>")
@roles(*CASE_STAFF)
def show(case_id: int):
    case = get_case(current_user, case_id)
    audit.record("case_view", "case", case.id, commit=True)
    return _case_page(case)


def _case_page(
    case: Case, note_form: NoteForm | None = None, status_form: StatusForm | None = None
) -> str:
    """The case page; a failed POST passes its form back so nothing typed is lost."""
    status_form = status_form or StatusForm()
    # A merged duplicate changes status only when a supervisor undoes the merge (matching).
    targets = workflow.allowed_targets(case.status) if case.duplicate_of_id is None else ()
    status_form.to_status.choices = choices("status", [s for s in CaseStatus if s in targets])
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
    if case.anonymised_at is not None:
        flash(
            _("This case was anonymised under the retention rules and cannot be changed."), "error"
        )
        return redirect(url_for("casework.show", case_id=case.id))
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


def _bulk_assign_form() -> BulkAssignForm:
    """The list's "give the ticked cases to…" form, returning to this very list afterwards."""
    form = BulkAssignForm()
    # A blank first choice, so no one receives cases because the supervisor forgot to choose.
    form.to_user_id.choices = options(
        ((u.id, u.display_name) for u in case_staff()), _("Choose a person")
    )
    form.next.data = request.full_path.rstrip("?")
    return form


@bp.route("/reassign", methods=["POST"])
@roles(Role.SUPERVISOR)
def reassign():
    form = BulkAssignForm()
    back = safe_next(form.next.data, url_for("casework.case_list"))
    valid = form.validate_on_submit() and form.to_user_id.data is not None
    to_user = db.session.get(User, form.to_user_id.data) if valid else None
    if form.case_ids.errors or form.reason.errors:
        flash((form.case_ids.errors or form.reason.errors)[0], "error")
    elif to_user is None:
        flash(_("Choose who should take the cases."), "error")
    else:
        try:
            moved = services.reassign_cases(
                current_user, form.case_ids.data, to_user, form.reason.data
            )
        except services.CaseRuleError as error:
            flash(str(error), "error")
        else:
            flash(
                ngettext(
                    "%(count)s case given to %(name)s.",
                    "%(count)s cases given to %(name)s.",
                    moved,
                    count=format_number(moved),
                    name=to_user.display_name,
                ),
                "success",
            )
    return redirect(back)


@bp.route("/<int:case_id>/print")
@roles(*CASE_STAFF)
def print_summary(case_id: int):
    case = get_case(current_user, case_id)
    audit.record("case_print", "case", case.id, commit=True)
    # Oldest first: on paper the case file reads as a story, from the day it was opened.
    timeline = [e for e in reversed(case_timeline(case)) if e.kind in ("note", "status")]
    return render_template(
        "casework/print.html",
        case=case,
        timeline=timeline,
        latest_status=next((e.item for e in reversed(timeline) if e.kind == "status"), None),
        pending=services.pending_approval(case),
        printed_at=utcnow(),
        labels=LABELS,
    )
