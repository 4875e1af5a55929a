"""Forms for decisions about suggested matches. One page shows a form per suggestion, so the
templates write the fields with ids of their own; these classes parse what comes back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import BaseForm

COMMENT_MAX = 2000
REASON_MAX = 4000


class NotSameForm(BaseForm):
    """ "Not the same person"; a comment may say what tells them apart."""

    comment = TextAreaField(
        _l("What tells them apart (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX)],
    )


class ProposeMergeForm(BaseForm):
    """ "Same person": which file is kept, and why they are one person."""

    keep = RadioField(
        _l("Which file is kept"),
        choices=[
            SelectChoice("this", _l("This case")),
            SelectChoice("other", _l("The other case")),
        ],
        default="this",
    )
    reason = TextAreaField(
        _l("Why they are the same person"),
        validators=[
            DataRequired(_l("Say why you believe they are the same person.")),
            Length(max=REASON_MAX),
        ],
    )


class UndoForm(BaseForm):
    """Undo a decision; undoing a merge needs a reason (a rule of the service)."""

    reason = TextAreaField(_l("Why"), validators=[Optional(), Length(max=REASON_MAX)])
