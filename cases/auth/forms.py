from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

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
