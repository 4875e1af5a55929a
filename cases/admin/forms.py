from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import CheckboxInput, ListWidget

from ..api.models import Scope
from ..casework.forms import row_id
from ..forms import BaseForm

ROLE_LABELS = {
    "caseworker": _l("Caseworker"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class NewUserForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="caseworker")
    # No password: the new colleague sets their own from an invitation link.


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    # Re-authentication: a role change is a privilege change (ASVS V7.5.1).
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ResetTwoFactorForm(BaseForm):
    """An administrator turns off someone's two-factor authentication (a lost phone)."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class AccountActionForm(BaseForm):
    """Ending someone's sessions or resetting their password: the admin's password first."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


SCOPE_LABELS = {
    Scope.READ: _l("Read: cases, notes, status history, intake queue"),
    Scope.WRITE: _l("Write: open and edit cases, add notes, change statuses, record inquiries"),
    Scope.PFIF: _l("PFIF: import and export records"),
}


class ApiClientForm(BaseForm):
    """A new API client: the account it acts as, what it may do, until when."""

    name = StringField(
        _l("Name of the client (the partner or tool)"),
        validators=[DataRequired(), Length(max=120)],
    )
    user_id = SelectField(_l("Acts as the account"), coerce=row_id, validate_choice=False)
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(str(value), label) for value, label in SCOPE_LABELS.items()],
        validators=[DataRequired(_l("Choose at least one scope."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    # Re-authentication: a token reads case files as the chosen account (ASVS V7.5.1).
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )

    def validate_user_id(self, field: SelectField) -> None:
        offered = {row_id(choice.value) for choice in field.choices if choice.value}
        if field.data is None or field.data not in offered:
            raise FieldError(_l("Choose a caseworker or supervisor account."))

    def validate_expires_on(self, field: DateField) -> None:
        if field.data is not None and field.data <= date.today():
            raise FieldError(_l("The expiry date must be in the future."))
