"""The file field used by staff and family forms, and the staff upload form."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import StringField
from wtforms.validators import Length, Optional

from ..forms import BaseForm
from . import services
from .models import AttachmentKind

# What the browser's file picker offers; the server checks the content whatever it is told.
ACCEPT_PHOTOS = "image/jpeg,image/png,image/webp"
ACCEPT_ANY = ACCEPT_PHOTOS + ",application/pdf"


class UploadField(FileField):
    """A file run through the attachment checks once the field's validators pass.

    The clean file is left on ``field.clean`` (None when nothing was chosen); a refused file
    becomes the field's error message, so the rest of the form keeps what was typed.
    """

    def __init__(
        self,
        label: object = None,
        validators: list | None = None,
        kinds: Iterable[AttachmentKind] = tuple(AttachmentKind),
        **kwargs: object,
    ) -> None:
        self.kinds = frozenset(kinds)
        accept = ACCEPT_ANY if AttachmentKind.DOCUMENT in self.kinds else ACCEPT_PHOTOS
        render_kw = {"accept": accept, **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.clean: services.CleanFile | None = None

    def post_validate(self, form: BaseForm, validation_stopped: bool) -> None:
        self.clean = None
        storage = self.data
        if validation_stopped or self.errors or not isinstance(storage, FileStorage):
            return
        if not storage:
            return
        try:
            clean = services.clean_upload(storage.stream, storage.filename)
        except services.AttachmentError as error:
            self.errors.append(str(error))
            return
        if clean.kind not in self.kinds:
            self.errors.append(str(_l("Please choose a photo (JPEG, PNG or WebP).")))
            return
        self.clean = clean

    @property
    def chosen(self) -> bool:
        """Whether a file was sent (a browser cannot refill a file field after an error)."""
        return isinstance(self.data, FileStorage) and bool(self.data)


class AttachmentForm(BaseForm):
    file = UploadField(
        _l("Photo or document"),
        validators=[FileRequired(message=_l("Choose a file to add."))],
    )
    description = StringField(
        _l("What it shows (optional)"), validators=[Optional(), Length(max=200)]
    )


def upload_hint(field: UploadField) -> str:
    """The formats and size limit, for the hint under a file field."""
    size = services.max_bytes() // 2**20
    if AttachmentKind.DOCUMENT in field.kinds:
        return str(_l("JPEG, PNG or WebP photos, or PDF documents, up to %(size)s MB.", size=size))
    return str(_l("A JPEG, PNG or WebP photo, up to %(size)s MB.", size=size))
