"""The legal-hold form on the case page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm

REASON_MAX = 1000


class LegalHoldForm(BaseForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=REASON_MAX)],
        # The browser stops at the limit, so a refused form never loses a long text.
        render_kw={"maxlength": REASON_MAX, "required": True, "rows": 2},
    )
