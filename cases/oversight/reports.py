"""Supervisors' exports of the case list and the aggregate report. Thin: parse, call, render."""

from __future__ import annotations

import io
from typing import IO

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import PasswordField, RadioField
from wtforms.validators import DataRequired, Length

from ..audit import services as audit
from ..auth.guard import roles
from ..auth.models import Role
from ..auth.services import MAX_PASSWORD_LENGTH, check_password
from ..casework.forms import options
from ..casework.listing import COUNT_CAP, bounded_count, case_filter_from_args, filtered_cases
from ..clock import utcnow
from ..extensions import db, limiter
from ..forms import BaseForm
from . import aggregates, exports
from .models import ExportRecord

bp = Blueprint("reports", __name__)

EXPORT_LIMIT = "10 per 15 minutes"  # re-authentication guesses and exports alike
LOG_PER_PAGE = 50


class ExportForm(BaseForm):
    format = RadioField(
        _l("File format"),
        choices=options([("xlsx", _l("Excel (XLSX)")), ("csv", _l("CSV (UTF-8)"))]),
        default="xlsx",
    )
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


def _export_limit() -> str:
    return current_app.config.get("EXPORT_LIMIT", EXPORT_LIMIT)


def _per_account() -> str:
    # Per account, so colleagues behind one office address do not share a budget.
    if current_user.is_authenticated:
        return f"export:{current_user.id}"
    return f"export-ip:{get_remote_address()}"


def _stamp() -> str:
    return to_user_timezone(utcnow()).strftime("%Y%m%d-%H%M")


@bp.route("/export", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
@limiter.limit(_export_limit, key_func=_per_account, methods=["POST"])
def export():
    """The filtered case list as a file, after the supervisor re-enters their password."""
    # The filters travel in the query string of both the page and its form's action.
    _filter_form, filters = case_filter_from_args(request.args)
    form = ExportForm()
    if form.validate_on_submit():
        if check_password(current_user, form.password.data):
            out, _record = exports.export_cases(current_user, filters, form.format.data)
            return _download(out, form.format.data)
        # Someone at an unattended, logged-in screen may be guessing: leave a trace (no secret).
        current_app.logger.warning("Export re-authentication failed for user %s", current_user.id)
        form.password.errors.append(_("This is not your password."))
    failed = request.method == "POST"
    recorded = exports.recorded_filters(exports.filters_to_record(filters))
    return render_template(
        "oversight/export.html",
        form=form,
        failed=failed,
        summary=exports.describe_filters(recorded, exports.staff_names([recorded])),
        count=bounded_count(filtered_cases(current_user, filters)),
        count_cap=COUNT_CAP,
        args=request.args.to_dict(flat=False),
    )


def _download(out: IO[bytes], fmt: str) -> Response:
    response = send_file(
        out,
        mimetype=exports.MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"athar-cases-{_stamp()}.{fmt}",
        etag=False,
        conditional=False,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/exports")
@roles(Role.SUPERVISOR)
def export_log():
    """Recent exports: who, when, which format, which filters, how many rows."""
    page = db.paginate(
        db.select(ExportRecord)
        .order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc())
        .options(selectinload(ExportRecord.user)),
        per_page=LOG_PER_PAGE,
        error_out=False,
        max_per_page=LOG_PER_PAGE,
    )
    filters = {record.id: exports.recorded_filters(record.filters) for record in page.items}
    names = exports.staff_names(filters.values())
    return render_template(
        "oversight/export_log.html",
        page=page,
        summaries={key: exports.describe_filters(f, names) for key, f in filters.items()},
    )


def _report() -> aggregates.AggregateReport:
    months = aggregates.clamp_months(request.args.get("months", type=int))
    return aggregates.aggregate_report(current_user, months, str(get_locale()))


@bp.route("/aggregate")
@roles(Role.SUPERVISOR)
def aggregate():
    report = _report()
    return render_template(
        "oversight/report.html",
        report=report,
        table=aggregates.report_table(report),
        suppressed=aggregates.SUPPRESSED,
        hidden_total=aggregates.HIDDEN_TOTAL,
        max_months=aggregates.MAX_MONTHS,
    )


@bp.route("/aggregate.csv")
@roles(Role.SUPERVISOR)
def aggregate_csv():
    # Only suppressed figures leave here, so unlike the case export no password is asked.
    report = _report()
    out = io.BytesIO()
    aggregates.write_report_csv(report, out)
    audit.record("export", "aggregate_report", commit=True)
    response = Response(out.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=athar-report-{report.months}m-{_stamp()}.csv"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
