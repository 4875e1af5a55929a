from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..auth.services import MIN_PASSWORD_LENGTH
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
    password = PasswordField(
        _l("Temporary password (at least %(n)d characters)", n=MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(max=128)],
    )


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    # Re-authentication: a role change is a privilege change (ASVS V7.5.1).
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
