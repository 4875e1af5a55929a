from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import CheckboxInput, ListWidget

from ..api.models import Scope
from ..forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "dir": "ltr"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class LanguageForm(BaseForm):
    lang = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("ar", "العربية"),
            SelectChoice("ckb", "کوردی"),
            SelectChoice("en", "English"),
        ],
    )
    next = HiddenField()


class LogoutForm(BaseForm):
    """Only a CSRF token: logging out is a POST so no link or image can do it."""


# --- two-factor authentication (cases/auth/totp.py) ---


def _code_field(label: object) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(), Length(max=64)],
        render_kw={
            "autocomplete": "one-time-code",
            "dir": "ltr",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


def _current_password_field(label: object) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class LoginCodeForm(BaseForm):
    """The login's second step: a code from the app, or a recovery code."""

    code = _code_field(_l("Code"))


class TwoFactorSetupForm(BaseForm):
    password = _current_password_field(_l("Your password"))
    code = _code_field(_l("Code from the app"))


class RecoveryCodesForm(BaseForm):
    password = _current_password_field(_l("Your password"))


class TwoFactorOffForm(BaseForm):
    password = _current_password_field(_l("Your password"))
    code = _code_field(_l("Code from the app"))


# --- the account page and invitation links (cases/auth/sessions.py, invitations.py) ---


def _new_password_field(label: object) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )


def _confirmation_field() -> PasswordField:
    return PasswordField(
        _l("The same password again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password_field(_l("New password"))
    confirm = _confirmation_field()


class InvitationForm(BaseForm):
    password = _new_password_field(_l("Choose a password"))
    confirm = _confirmation_field()


class EndSessionForm(BaseForm):
    """Only a CSRF token: ending a session is a POST."""


# --- API clients for one's own account (cases/api/services.py) ---

SCOPE_LABELS = {
    Scope.READ: _l("Read: cases, notes, status history, intake queue"),
    Scope.WRITE: _l("Write: open and edit cases, add notes, change statuses, record inquiries"),
    Scope.PFIF: _l("PFIF: import and export records"),
}


class ApiClientForm(BaseForm):
    """A new API client acting as the account holder: what it may do, until when.

    Shown on the account page next to the password form, so it is built with a prefix
    ("api-") to keep the two forms' field ids apart.
    """

    name = StringField(
        _l("Name of the client (the partner or tool)"),
        validators=[DataRequired(), Length(max=120)],
    )
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(str(value), label) for value, label in SCOPE_LABELS.items()],
        validators=[DataRequired(_l("Choose at least one scope."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    # Re-authentication: a token reads case files as this account (ASVS V7.5.1), so a
    # browser left logged in is not enough to make one.
    password = _current_password_field(_l("Your password"))

    def validate_expires_on(self, field: DateField) -> None:
        if field.data is not None and field.data <= date.today():
            raise FieldError(_l("The expiry date must be in the future."))


class RevokeApiClientForm(BaseForm):
    """Only a CSRF token: revoking only takes access away, like ending a session."""
