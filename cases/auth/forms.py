from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

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
