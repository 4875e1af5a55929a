"""Import pages for supervisors: upload, map the columns, read the dry run, decide."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..audit import services as audit
from ..auth.guard import roles
from ..auth.models import Role
from ..extensions import db
from . import services
from .fields import IGNORE, TARGETS
from .forms import DiscardForm, ImportForm, MappingForm, SheetForm, UploadForm
from .models import ImportBatch
from .report import column_name, problem_text, problems_csv, reason_text

bp = Blueprint("imports", __name__)
PER_PAGE = 200


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _owner_choices() -> list[tuple[int, str]]:
    return [(u.id, u.display_name or u.username) for u in services.owner_choices()]


@bp.route("/")
@roles(Role.SUPERVISOR)
def start():
    return render_template(
        "imports/start.html",
        form=UploadForm(),
        batches=list(services.recent_batches()),
        max_mb=services.max_bytes() // 2**20,
        max_rows=services.max_rows(),
    )


@bp.route("/upload", methods=["POST"])
@roles(Role.SUPERVISOR)
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.stream.read(services.max_bytes() + 1)
        try:
            batch = services.upload(current_user, data, storage.filename)
        except services.ImportRuleError as error:
            form.file.errors.append(str(error))
        else:
            return redirect(url_for("imports.mapping", batch_id=batch.id))
    return (
        render_template(
            "imports/start.html",
            form=form,
            batches=list(services.recent_batches()),
            max_mb=services.max_bytes() // 2**20,
            max_rows=services.max_rows(),
        ),
        400,
    )


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@roles(Role.SUPERVISOR)
def mapping(batch_id: int):
    batch = _batch(batch_id)
    if not batch.is_open:
        return redirect(url_for("imports.show", batch_id=batch.id))
    try:
        preview = services.preview(batch)
    except services.ImportRuleError as error:
        flash(str(error), "error")
        return redirect(url_for("imports.show", batch_id=batch.id))
    saved = services.mapping_of(batch)
    form = MappingForm(data={"owner_id": saved.get("owner_id") or current_user.id})
    form.owner_id.choices = _owner_choices()
    columns = list(saved.get("columns") or [IGNORE] * len(preview.header))
    columns = (columns + [IGNORE] * len(preview.header))[: len(preview.header)]
    error = None
    if request.method == "POST":
        columns = [request.form.get(f"column-{i}", IGNORE) for i in range(len(preview.header))]
        if form.validate_on_submit():
            try:
                services.check(current_user, batch, columns, form.owner_id.data)
            except services.ImportRuleError as problem:
                error = str(problem)
            else:
                return redirect(url_for("imports.show", batch_id=batch.id))
        else:
            error = _("Check the fields below.")
    sheet_form = SheetForm(data={"sheet": preview.sheet_name})
    sheet_form.sheet.choices = [(name, name) for name in preview.sheet_names]
    return render_template(
        "imports/mapping.html",
        batch=batch,
        preview=preview,
        columns=columns,
        targets=TARGETS,
        form=form,
        sheet_form=sheet_form,
        error=error,
        column_name=column_name,
    ), (400 if error else 200)


@bp.route("/<int:batch_id>/sheet", methods=["POST"])
@roles(Role.SUPERVISOR)
def sheet(batch_id: int):
    batch = _batch(batch_id)
    form = SheetForm()
    if form.validate_on_submit() and form.sheet.data:
        try:
            services.choose_sheet(current_user, batch, form.sheet.data)
        except services.ImportRuleError as error:
            flash(str(error), "error")
    return redirect(url_for("imports.mapping", batch_id=batch.id))


@bp.route("/<int:batch_id>")
@roles(Role.SUPERVISOR)
def show(batch_id: int):
    batch = _batch(batch_id)
    report = services.load_report(batch)
    header = report.header if report else []
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    problems = report.problems[(page - 1) * PER_PAGE : page * PER_PAGE] if report else []
    return render_template(
        "imports/show.html",
        batch=batch,
        report=report,
        header=header,
        problems=problems,
        page=page,
        pages=max(1, -(-len(report.problems) // PER_PAGE)) if report else 1,
        import_form=ImportForm(data={"expected": report.valid if report else None}),
        discard_form=DiscardForm(),
        problem_text=problem_text,
        reason_text=reason_text,
        column_name=lambda index: column_name(header, index),
    )


@bp.route("/<int:batch_id>/problems.csv")
@roles(Role.SUPERVISOR)
def problems_download(batch_id: int):
    batch = _batch(batch_id)
    report = services.load_report(batch)
    if report is None:
        abort(404)
    # The problems quote values of the file (phone numbers, places): taking them out is audited.
    audit.record("export", "import_batch", batch.id, item_count=len(report.problems), commit=True)
    response = Response(problems_csv(report, report.header), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="import-{batch.id}-problems.csv"'
    )
    return response


@bp.route("/<int:batch_id>/import", methods=["POST"])
@roles(Role.SUPERVISOR)
def import_rows(batch_id: int):
    batch = _batch(batch_id)
    form = ImportForm()
    if form.validate_on_submit():
        try:
            count = services.import_valid_rows(current_user, batch, form.expected.data)
        except services.ImportRuleError as error:
            flash(str(error), "error")
        else:
            flash(
                ngettext("%(num)s case was imported.", "%(num)s cases were imported.", count),
                "success",
            )
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.route("/<int:batch_id>/discard", methods=["POST"])
@roles(Role.SUPERVISOR)
def discard(batch_id: int):
    batch = _batch(batch_id)
    if DiscardForm().validate_on_submit():
        try:
            services.discard(current_user, batch)
        except services.ImportRuleError as error:
            flash(str(error), "error")
        else:
            flash(_("Nothing was imported. The file was deleted."), "success")
    return redirect(url_for("imports.start"))


def raise_upload_limit() -> None:
    """The app allows 10 MB a request; a supervisor's spreadsheet upload may be larger.

    Runs before any other hook reads the body (CSRF reads the form), and only for the upload
    of a logged-in supervisor.
    """
    if request.endpoint != "imports.upload":
        return
    if current_user.is_authenticated and current_user.role == Role.SUPERVISOR:
        request.max_content_length = services.max_bytes() + 256 * 1024
    else:
        request.max_content_length = current_app.config.get("MAX_CONTENT_LENGTH")
