"""Staff pages for a case's photos and documents: add, open, remove. Thin, like casework."""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask import Blueprint, Response, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.guard import CASE_STAFF, roles
from ..casework.access import get_case
from ..casework.models import Case
from ..casework.views import _case_page
from ..inquiries.forms import ConfirmForm
from . import services
from .forms import AttachmentForm, upload_hint
from .models import Attachment

bp = Blueprint("attachments", __name__)

# The only types ever served as themselves; anything else would be a bug, sent as a download.
SERVED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
FILE_CSP = "sandbox; default-src 'none'"


@dataclass
class Section:
    """What the case page's files section shows."""

    items: list[Attachment]
    form: AttachmentForm
    confirm_form: ConfirmForm
    removable: set[int]


@bp.app_template_global()
def attachment_section(case: Case) -> Section:
    """The files section of the case page; a failed upload leaves its form on ``g``."""
    items = services.attachments_for_case(case, viewer=current_user)
    return Section(
        items=items,
        form=g.get("attachment_form") or AttachmentForm(),
        confirm_form=ConfirmForm(),
        removable={a.id for a in items if services.can_remove(current_user, case, a)},
    )


bp.add_app_template_global(upload_hint, "upload_hint")


@bp.route("/<int:case_id>/attachments", methods=["POST"])
@roles(*CASE_STAFF)
def upload(case_id: int):
    case = get_case(current_user, case_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            services.add_to_case(current_user, case, form.file.clean, form.description.data)
        except services.AttachmentError as error:
            form.file.errors.append(str(error))
        else:
            flash(_("The file was added."), "success")
            return redirect(url_for("casework.show", case_id=case.id) + "#attachments")
    flash(_("The file was not added. See the message beside it."), "error")
    g.attachment_form = form
    return _case_page(case), 400


@bp.route("/<int:case_id>/attachments/<int:attachment_id>")
@roles(*CASE_STAFF)
def download(case_id: int, attachment_id: int):
    case = get_case(current_user, case_id)
    attachment = services.attachment_on_case(case, attachment_id, viewer=current_user)
    if attachment is None:
        abort(404)
    return file_response(attachment, case.reference)


def file_response(attachment: Attachment, label: str) -> Response:
    """The decrypted file (audited), with headers that keep a browser from running it."""
    content = services.open_for(current_user, attachment)
    if content is None:
        abort(404)
    extension = SERVED_TYPES.get(attachment.content_type)
    mimetype = attachment.content_type if extension else "application/octet-stream"
    inline = attachment.is_photo and extension in ("jpg", "png")
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = '{}; filename="{}-{}.{}"'.format(
        "inline" if inline else "attachment",
        "".join(ch for ch in label if ch.isascii() and (ch.isalnum() or ch == "-")),
        attachment.id,
        extension or "bin",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route("/<int:case_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@roles(*CASE_STAFF)
def remove(case_id: int, attachment_id: int):
    case = get_case(current_user, case_id)
    attachment = services.attachment_on_case(case, attachment_id, viewer=current_user)
    if attachment is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.remove(current_user, case, attachment)
        except services.AttachmentError as error:
            flash(str(error), "error")
        else:
            flash(_("The file was deleted."), "success")
    return redirect(url_for("casework.show", case_id=case.id) + "#attachments")


@bp.cli.command("sweep")
@click.option("--min-age", default=3600, show_default=True, help="Spare files younger (s).")
def sweep_command(min_age: int) -> None:
    """Delete stored files that no attachment row names any more."""
    click.echo(f"Deleted {services.remove_orphan_files(min_age)} orphaned file(s).")
