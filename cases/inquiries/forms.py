"""Forms for families (public) and for intake triage (staff)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.validators import ValidationError as FieldError

from .. import places
from ..attachments.forms import UploadField
from ..attachments.models import AttachmentKind
from ..auth.services import MAX_PASSWORD_LENGTH
from ..casework.forms import (
    PlaceChecks,
    choices,
    country_choices,
    district_choices,
    governorate_choices,
    language_choices,
    options,
)
from ..casework.models import ContactChannel
from ..forms import BaseForm
from ..phones import PhoneError, to_e164
from .models import RejectReason
from .services import CORRECTION_MAX, InquiryDetails

RELATIONSHIPS = {
    "mother": _l("Mother"),
    "father": _l("Father"),
    "brother": _l("Brother"),
    "sister": _l("Sister"),
    "wife": _l("Wife"),
    "son": _l("Son"),
    "daughter": _l("Daughter"),
    "uncle": _l("Uncle"),
    "cousin": _l("Cousin"),
    "other": _l("Other relative or friend"),
}
CONTACT_PREFERENCES = {
    "phone": _l("Phone call"),
    "whatsapp": _l("WhatsApp"),
    "telegram": _l("Telegram"),
    "sms": _l("Text message (SMS)"),
}


def _name(label: object, required: bool = False) -> StringField:
    checks = [DataRequired()] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=80)])


class InquiryForm(PlaceChecks, BaseForm):
    # About the person asking.
    inquirer_name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    inquirer_relationship = SelectField(
        _l("You are his"), choices=options(RELATIONSHIPS.items()), default="mother"
    )
    inquirer_phone = StringField(
        _l("Your phone number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"},
    )
    inquirer_channel = SelectField(
        _l("How should we contact you?"),
        choices=options(CONTACT_PREFERENCES.items()),
        default="phone",
    )
    inquirer_language = SelectField(_l("Your language"), choices=language_choices(), default="ar")
    # About the missing person.
    given_name = _name(_l("His name"), required=True)
    father_name = _name(_l("His father's name"))
    grandfather_name = _name(_l("His grandfather's name"))
    great_grandfather_name = _name(_l("His great-grandfather's name"))
    laqab = _name(_l("Family or tribal name (laqab)"))
    mother_name = StringField(
        _l("His mother's full name"), validators=[Optional(), Length(max=200)]
    )
    age = IntegerField(
        _l("His age"),
        validators=[Optional(), NumberRange(min=0, max=120)],
        render_kw={"inputmode": "numeric"},
    )
    birth_year = IntegerField(
        _l("Year of birth, if you know it"),
        validators=[Optional(), NumberRange(min=1900, max=2100)],
        render_kw={"inputmode": "numeric"},
    )
    governorate_pcode = SelectField(_l("Governorate"), validate_choice=False)
    district_pcode = SelectField(_l("District"), validate_choice=False)
    last_contact_date = DateField(_l("When did you last hear from him?"), validators=[Optional()])
    last_contact_channel = SelectField(
        _l("How did he contact you last?"),
        choices=choices("channel", ContactChannel, blank=True),
    )
    destination_country = SelectField(_l("Which country did he go to?"), validate_choice=False)
    travel_company = StringField(
        _l("Travel company or person who arranged the journey"),
        validators=[Optional(), Length(max=200)],
    )
    route = TextAreaField(
        _l("The route he took, if you know it"), validators=[Optional(), Length(max=2000)]
    )
    details = TextAreaField(
        _l("Anything else that can help us find him"),
        validators=[Optional(), Length(max=10000)],
    )
    photo = UploadField(
        _l("A photo of him (optional)"),
        validators=[Optional()],
        kinds=[AttachmentKind.PHOTO],
    )
    consent_search = BooleanField(
        _l("I agree that the organisation uses this information to search for him.")
    )
    consent_share = BooleanField(
        _l(
            "I agree that the organisation may share it with other humanitarian organisations "
            "that can help with the search (never with authorities without asking me)."
        )
    )
    # Honeypot: hidden from people, filled by bots.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.governorate_pcode.choices = governorate_choices()
        self.district_pcode.choices = district_choices()
        self.destination_country.choices = country_choices()

    def validate_inquirer_phone(self, field: StringField) -> None:
        try:
            field.e164 = to_e164(field.data or "")
        except PhoneError as error:
            raise FieldError(
                _l("This is not a phone number we can call. Example: 0770 123 4567")
            ) from error

    def validate_consent_search(self, field: BooleanField) -> None:
        if not field.data:
            raise FieldError(_l("We can only search with your consent. Please tick this box."))

    def validate_last_contact_date(self, field: DateField) -> None:
        if field.data and field.data > date.today():
            raise FieldError(_l("This date is in the future."))

    def validate_birth_year(self, field: IntegerField) -> None:
        if field.data and field.data > date.today().year:
            raise FieldError(_l("This year is in the future."))

    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())

    def to_details(self) -> InquiryDetails:
        """The validated form as InquiryDetails; only the fields named there are written."""
        values = {}
        for name in InquiryDetails.__dataclass_fields__:
            value = self[name].data
            values[name] = (value.strip() or None) if isinstance(value, str) else value
        values["inquirer_phone"] = self.inquirer_phone.e164
        values["consent_search"] = bool(self.consent_search.data)
        values["consent_share"] = bool(self.consent_share.data)
        district = places.district(values["district_pcode"])
        if district is not None:
            values["governorate_pcode"] = district.parent
        return InquiryDetails(**values)


class StatusCheckForm(BaseForm):
    reference = StringField(
        _l("Reference number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )
    secret = StringField(
        _l("Secret code"),
        validators=[DataRequired(), Length(max=60)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"},
    )


class AddInformationForm(BaseForm):
    body = TextAreaField(
        _l("What would you like to add?"), validators=[Optional(), Length(max=10000)]
    )
    file = UploadField(_l("A photo or document (optional)"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        """Text, a file or both; an empty form says the text is missing."""
        if not super().validate(extra_validators):
            return False
        if not (self.body.data or "").strip() and self.file.clean is None:
            self.body.errors.append(_l("This field is required."))
            return False
        return True


class ConfirmForm(BaseForm):
    """A button that posts nothing but its CSRF token."""


class DeletionRequestForm(BaseForm):
    include_case = BooleanField(
        _l("Also delete the file about my relative. The search for him will stop.")
    )


class CorrectionForm(BaseForm):
    what_is_wrong = TextAreaField(
        _l("What is wrong?"),
        validators=[DataRequired(), Length(max=CORRECTION_MAX)],
        render_kw={"maxlength": CORRECTION_MAX},
    )
    what_it_should_be = TextAreaField(
        _l("What should it say?"),
        validators=[DataRequired(), Length(max=CORRECTION_MAX)],
        render_kw={"maxlength": CORRECTION_MAX},
    )


class DataDecisionForm(BaseForm):
    """A supervisor's decision on a family's request; deleting needs the password again."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])
    password = PasswordField(
        _l("Your password (to delete)"),
        validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)],
    )


class AttachForm(BaseForm):
    case_reference = StringField(
        _l("Case reference"), validators=[DataRequired(), Length(max=16)], render_kw={"dir": "ltr"}
    )


class RejectForm(BaseForm):
    reason = SelectField(
        _l("Why"),
        choices=options(
            [(RejectReason.SPAM.value, _l("Spam")), (RejectReason.INVALID.value, _l("Invalid"))]
        ),
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
