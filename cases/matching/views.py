"""Decisions about suggested matches, taken from the case page and the intake page.

Thin: fetch through the access helpers (another person's case or inquiry is a 404), parse a
form, call one service in cases.matching.decisions. A refused decision re-renders the page it
came from with the words typed and the message beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guard import CASE_STAFF, roles
from ..casework.access import can_work_on, get_case
from ..casework.models import Case
from ..casework.views import _case_page
from ..extensions import db
from ..inquiries.models import Inquiry
from ..inquiries.views import _inquiry_page
from . import decisions
from .candidates import Match, find_matches
from .decisions import CaseDecisions, MatchDecisionError
from .forms import NotSameForm, ProposeMergeForm, UndoForm
from .models import DecisionKind, MatchDecision
from .records import PersonRecord

bp = Blueprint("matching", __name__)


@dataclass
class Failed:
    """A refused decision: which form (kind and the id it is about), what was typed, why."""

    kind: str  # not_same, same, undo
    ident: int
    form: NotSameForm | ProposeMergeForm | UndoForm
    errors: list[str] = field(default_factory=list)


@dataclass
class DuplicatesSection:
    """What the case page shows about duplicates of this case."""

    decisions: CaseDecisions
    matches: list[Match]
    inquiries: dict[int, list[Inquiry]]
    failed: Failed | None


@bp.app_template_global()
def may_open_case(case: Case | None) -> bool:
    return case is not None and can_work_on(current_user, case)


@bp.app_template_global()
def failed_decision(kind: str, ident: int) -> Failed | None:
    """The refused form for this suggestion or decision, to show again with its message."""
    failed: Failed | None = g.get("matching_failed")
    return failed if failed is not None and (failed.kind, failed.ident) == (kind, ident) else None


@bp.app_template_global()
def duplicates_section(case: Case) -> DuplicatesSection:
    """Merges, pending proposals, "not the same" decisions and possible duplicates of a case.

    No suggestions for a case that is itself a merged duplicate or has been anonymised; cases
    already decided about (either way) are not suggested again.
    """
    found = decisions.decisions_for(case)
    matches: list[Match] = []
    if case.duplicate_of_id is None and case.anonymised_at is None:
        matches = find_matches(
            current_user,
            PersonRecord.from_case(case),
            exclude_case_ids=found.decided_ids | {case.id},
            case_id=case.id,
            keep_seconds=current_app.config["CASE_MATCHES_SECONDS"],
        )
    return DuplicatesSection(
        decisions=found,
        matches=matches,
        inquiries=decisions.merged_inquiries(found.merged),
        failed=g.get("matching_failed"),
    )


def _refused(case: Case, failed: Failed):  # noqa: ANN202
    """The case page again, the refused form open with its words and message."""
    g.matching_failed = failed
    # Also flashed: the suggestion the form belonged to may have gone from the page.
    for message in failed.errors:
        flash(message, "error")
    return _case_page(case), 400


def _errors(form: NotSameForm | ProposeMergeForm | UndoForm) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _back(case: Case):  # noqa: ANN202
    return redirect(url_for("casework.show", case_id=case.id) + "#duplicates")


def _pair(case_id: int, other_case_id: int) -> tuple[Case, Case]:
    if case_id == other_case_id:
        abort(404)
    return get_case(current_user, case_id), get_case(current_user, other_case_id)


@bp.route("/cases/<int:case_id>/<int:other_case_id>/not-same", methods=["POST"])
@roles(*CASE_STAFF)
def not_same(case_id: int, other_case_id: int):
    case, other = _pair(case_id, other_case_id)
    form = NotSameForm()
    if not form.validate_on_submit():
        return _refused(case, Failed("not_same", other.id, form, _errors(form)))
    try:
        decisions.mark_not_same(current_user, case, other_case=other, comment=form.comment.data)
    except MatchDecisionError as error:
        return _refused(case, Failed("not_same", other.id, form, [str(error)]))
    flash(
        _(
            "Recorded: case %(ref)s is not the same person and will not be suggested again.",
            ref=other.reference,
        ),
        "success",
    )
    return _back(case)


@bp.route("/cases/<int:case_id>/<int:other_case_id>/same", methods=["POST"])
@roles(*CASE_STAFF)
def propose(case_id: int, other_case_id: int):
    case, other = _pair(case_id, other_case_id)
    form = ProposeMergeForm()
    if not form.validate_on_submit():
        return _refused(case, Failed("same", other.id, form, _errors(form)))
    surviving, duplicate = (case, other) if form.keep.data == "this" else (other, case)
    try:
        decisions.propose_same(current_user, duplicate, surviving, form.reason.data)
    except MatchDecisionError as error:
        return _refused(case, Failed("same", other.id, form, [str(error)]))
    flash(_("Merge proposed: a supervisor will decide."), "success")
    return _back(case)


@bp.route("/inquiries/<int:inquiry_id>/<int:case_id>/not-same", methods=["POST"])
@roles(*CASE_STAFF)
def inquiry_not_same(inquiry_id: int, case_id: int):
    # Like the intake pages: an inquiry on a case follows that case's access rules.
    inquiry = db.get_or_404(Inquiry, inquiry_id)
    if inquiry.case is not None and not can_work_on(current_user, inquiry.case):
        abort(404)
    case = get_case(current_user, case_id)
    form = NotSameForm()
    try:
        if not form.validate_on_submit():
            raise MatchDecisionError(_errors(form)[0])
        decisions.mark_not_same(current_user, case, inquiry=inquiry, comment=form.comment.data)
    except MatchDecisionError as error:
        g.matching_failed = Failed("inquiry_not_same", case.id, form, [str(error)])
        flash(str(error), "error")
        return _inquiry_page(inquiry), 400
    flash(
        _(
            "Recorded: case %(ref)s is not the person this family is looking for.",
            ref=case.reference,
        ),
        "success",
    )
    return redirect(url_for("intake.show", inquiry_id=inquiry.id))


def _decision(decision_id: int) -> MatchDecision:
    """The decision if the user works on every file it is about, else 404."""
    decision = db.get_or_404(MatchDecision, decision_id)
    files = [decision.case, decision.other_case]
    if decision.inquiry is not None:
        files.append(decision.inquiry.case)
    if not all(can_work_on(current_user, c) for c in files if c is not None):
        abort(404)
    return decision


def _from_case(decision: MatchDecision) -> Case:
    """The case page to return to: the kept case for a merge, else the first case."""
    return decision.surviving or decision.case


@bp.route("/decisions/<int:decision_id>/withdraw", methods=["POST"])
@roles(*CASE_STAFF)
def withdraw(decision_id: int):
    decision = _decision(decision_id)
    if decision.kind != DecisionKind.SAME or not UndoForm().validate_on_submit():
        return _back(_from_case(decision))
    try:
        decisions.withdraw_same(current_user, decision)
    except MatchDecisionError as error:
        flash(str(error), "error")
    else:
        flash(_("Merge proposal withdrawn."), "success")
    return _back(_from_case(decision))


@bp.route("/decisions/<int:decision_id>/undo", methods=["POST"])
@roles(*CASE_STAFF)
def undo(decision_id: int):
    decision = _decision(decision_id)
    case = _from_case(decision)
    form = UndoForm()
    try:
        if not form.validate_on_submit():
            raise MatchDecisionError(_errors(form)[0])
        if decision.kind == DecisionKind.SAME:
            decisions.undo_same(current_user, decision, form.reason.data)
        else:
            decisions.undo_not_same(current_user, decision, form.reason.data)
    except MatchDecisionError as error:
        return _refused(case, Failed("undo", decision.id, form, [str(error)]))
    if decision.kind == DecisionKind.SAME:
        flash(_("The merge is undone: the duplicate is back where it stood."), "success")
    else:
        flash(_("Undone: the two may be suggested again."), "success")
    return _back(case)
