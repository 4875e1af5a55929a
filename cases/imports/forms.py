"""Forms of the import pages. The column choices are checked by services.validate_mapping."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import Optional

from ..casework.forms import row_id
from ..forms import BaseForm


class UploadForm(BaseForm):
    file = FileField(
        _l("Spreadsheet (XLSX or CSV)"),
        validators=[FileRequired(message=_l("Choose a file to import."))],
        render_kw={"accept": ".xlsx,.csv,text/csv"},
    )


class MappingForm(BaseForm):
    """The owner of the new cases; each column's field is posted as ``column-<index>``."""

    owner_id = SelectField(_l("Give the new cases to"), coerce=row_id, validate_choice=False)


class SheetForm(BaseForm):
    sheet = SelectField(_l("Sheet"), validate_choice=False)


class ImportForm(BaseForm):
    """ "Import the valid rows": the count the supervisor saw, so a changed file is caught."""

    expected = IntegerField(validators=[Optional()])
    confirm = HiddenField()


class DiscardForm(BaseForm):
    pass
