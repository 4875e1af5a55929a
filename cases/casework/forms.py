"""Forms for case files. Labels and messages are lazy so they follow the reader's language."""

from __future__ import annotations

import re
from datetime import date

from babel import Locale
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.validators import ValidationError as FieldError

from .. import places
from ..forms import BaseForm, SubForm
from ..identity_documents import DOCUMENT_INDEX
from ..phones import PhoneError, to_e164
from .models import ContactChannel, DocumentType, NoteKind, NoteVisibility, Sex
from .services import MAX_BULK_ASSIGN, CaseDetails, ContactDetails, DocumentDetails

LABELS = {
    # Shown everywhere a status, reason or kind is displayed; one place to translate them.
    "status": {
        "new": _l("New"),
        "open": _l("Open (tracing)"),
        "located_alive": _l("Located alive"),
        "located_detained": _l("Located in detention"),
        "located_deceased": _l("Located deceased"),
        "closed": _l("Closed"),
    },
    "closure": {
        "in_contact": _l("In contact or reunited"),
        "death_confirmed": _l("Death confirmed"),
        "family_withdrew": _l("Family withdrew"),
        "duplicate": _l("Duplicate of another case"),
        "no_trace": _l("No trace after search"),
    },
    "sex": {
        "male": _l("Male"),
        "female": _l("Female"),
        "other": _l("Other"),
        "unknown": _l("Unknown"),
    },
    "channel": {
        "phone": _l("Phone call"),
        "whatsapp": _l("WhatsApp"),
        "telegram": _l("Telegram"),
        "facebook": _l("Facebook"),
        "other": _l("Other"),
    },
    "note_kind": {
        "call": _l("Call"),
        "visit": _l("Visit"),
        "information": _l("Information received"),
        "referral": _l("Referral"),
        "other": _l("Other"),
    },
    "visibility": {
        "internal": _l("Internal"),
        "shareable": _l("Shareable with the family"),
    },
    "document": {
        "national_id": _l("National ID card"),
        "civil_id": _l("Civil status ID"),
        "passport": _l("Passport"),
        "residence_card": _l("Residence card"),
        "military_contract": _l("Military contract"),
        "other": _l("Other document"),
    },
    "approval": {
        "pending": _l("Waiting for a supervisor"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
        "withdrawn": _l("Withdrawn"),
    },
    "language": {"ar": "العربية", "ckb": "کوردی", "en": "English"},
}


def options(pairs, blank: object | None = None) -> list[SelectChoice]:  # noqa: ANN001
    """SelectChoices from (value, label) pairs, optionally after a blank first option."""
    first = [SelectChoice("", blank)] if blank is not None else []
    return first + [SelectChoice(str(value), label) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """Each language named in itself, marked with its ``lang`` so screen readers say it right."""
    return [
        SelectChoice(code, name, render_kw={"lang": code})
        for code, name in LABELS["language"].items()
    ]


NOT_KNOWN = _l("— not known —")


def choices(group: str, values, blank: bool = False) -> list[SelectChoice]:  # noqa: ANN001
    """Options for an enum whose labels live in LABELS[group]."""
    return options(((str(v), LABELS[group][str(v)]) for v in values), NOT_KNOWN if blank else None)


# Destinations families report most; the rest follow alphabetically.
COMMON_DESTINATIONS = ("RU", "BY", "UA", "TR", "AE", "IR", "SY", "DE")


def country_choices() -> list[SelectChoice]:
    names = Locale.parse(str(get_locale())).territories
    codes = sorted(
        (c for c in names if len(c) == 2 and c.isalpha() and c not in COMMON_DESTINATIONS),
        key=lambda c: names[c],
    )
    return options(((c, names[c]) for c in COMMON_DESTINATIONS + tuple(codes)), NOT_KNOWN)


def governorate_choices(blank: object = NOT_KNOWN) -> list[SelectChoice]:
    locale = str(get_locale())
    return options(((g.pcode, g.name(locale)) for g in places.governorates()), blank)


def district_choices(blank: object = NOT_KNOWN) -> list[SelectChoice]:
    """Districts grouped under their governorate, as <optgroup>s."""
    locale = str(get_locale())
    return [SelectChoice("", blank)] + [
        SelectChoice(d.pcode, d.name(locale), optgroup=gov.name(locale))
        for gov in places.governorates()
        for d in places.districts(gov.pcode)
    ]


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class DocumentForm(SubForm):
    doc_type = SelectField(
        _l("Document type"), choices=choices("document", DocumentType), default="national_id"
    )
    number = StringField(_l("Document number"), validators=[Optional(), Length(max=60)])

    def validate_number(self, field: StringField) -> None:
        # Only letters and digits are kept for matching (identity_documents.lookup_form): a
        # "number" of punctuation alone would have no key and could not be saved.
        if (field.data or "").strip() and DOCUMENT_INDEX.of(field.data) is None:
            raise FieldError(_l("A document number needs letters or digits."))


class ContactForm(SubForm):
    # No Optional(): it would stop validation of an empty name before validate_name runs,
    # and a row with a phone but no name would be dropped without a word.
    name = StringField(_l("Name"), validators=[Length(max=200)])
    relationship = StringField(
        _l("Relationship to the missing person"), validators=[Optional(), Length(max=60)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    preferred_language = SelectField(
        _l("Preferred language"),
        choices=language_choices(),
        default="ar",
    )

    def validate_phone(self, field: StringField) -> None:
        if field.data:
            try:
                field.e164 = to_e164(field.data)
            except PhoneError as error:
                raise FieldError(
                    _l("This is not a phone number we can call. Example: 0770 123 4567")
                ) from error

    def validate_name(self, field: StringField) -> None:
        if not (field.data or "").strip() and (self.phone.data or self.relationship.data):
            raise FieldError(_l("Give the name of the family contact."))


class PlaceChecks:
    """Validators for the governorate, district and destination pickers a form declares."""

    def validate_governorate_pcode(self, field: SelectField) -> None:
        if field.data and places.governorate(field.data) is None:
            raise FieldError(_l("Choose a governorate from the list."))

    def validate_district_pcode(self, field: SelectField) -> None:
        if not field.data:
            return
        district = places.district(field.data)
        if district is None:
            raise FieldError(_l("Choose a district from the list."))
        if self.governorate_pcode.data and self.governorate_pcode.data != district.parent:
            raise FieldError(_l("This district is not in the governorate chosen."))

    def validate_destination_country(self, field: SelectField) -> None:
        if field.data and field.data not in {c.value for c in field.choices}:
            raise FieldError(_l("Choose a country from the list."))


def _name_length() -> list:
    return [Optional(), Length(max=80)]


class CaseForm(PlaceChecks, BaseForm):
    given_name = StringField(
        _l("Given name"), validators=[DataRequired(), Length(max=80)], render_kw={"dir": "auto"}
    )
    father_name = StringField(_l("Father's name"), validators=_name_length())
    grandfather_name = StringField(_l("Grandfather's name"), validators=_name_length())
    great_grandfather_name = StringField(_l("Great-grandfather's name"), validators=_name_length())
    laqab = StringField(_l("Family or tribal name (laqab)"), validators=_name_length())
    name_as_entered = StringField(
        _l("Name exactly as the family gave it"), validators=[Optional(), Length(max=300)]
    )
    latin_names = TextAreaField(
        _l("Latin spellings (one per line)"), validators=[Optional(), Length(max=2000)]
    )
    aliases = TextAreaField(
        _l("Other names and former names (one per line)"),
        validators=[Optional(), Length(max=2000)],
    )
    mother_name = StringField(_l("Mother's full name"), validators=[Optional(), Length(max=200)])
    sex = SelectField(_l("Sex"), choices=choices("sex", Sex), default="male")
    birth_year = IntegerField(
        _l("Year of birth"), validators=[Optional(), NumberRange(min=1900, max=2100)]
    )
    birth_month = IntegerField(
        _l("Month of birth"), validators=[Optional(), NumberRange(min=1, max=12)]
    )
    birth_day = IntegerField(
        _l("Day of birth"), validators=[Optional(), NumberRange(min=1, max=31)]
    )
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(min=0, max=120)])
    age_estimated = BooleanField(_l("Age is an estimate"))
    governorate_pcode = SelectField(_l("Governorate"), validate_choice=False)
    district_pcode = SelectField(_l("District"), validate_choice=False)
    locality = StringField(
        _l("Town, village or neighbourhood"), validators=[Optional(), Length(max=200)]
    )
    phones = TextAreaField(
        _l("His phone numbers (one per line)"), validators=[Optional(), Length(max=500)]
    )
    documents = FieldList(FormField(DocumentForm), min_entries=2, max_entries=8)
    departure_date = DateField(_l("Date of departure"), validators=[Optional()])
    destination_country = SelectField(_l("Destination country"), validate_choice=False)
    route = TextAreaField(_l("Route"), validators=[Optional(), Length(max=4000)])
    travel_company = StringField(
        _l("Travel company or agent"), validators=[Optional(), Length(max=200)]
    )
    last_contact_date = DateField(_l("Date of last contact"), validators=[Optional()])
    last_contact_channel = SelectField(
        _l("Channel of last contact"), choices=choices("channel", ContactChannel, blank=True)
    )
    last_known_location = StringField(
        _l("Last known location"), validators=[Optional(), Length(max=300)]
    )
    circumstances = TextAreaField(
        _l("Circumstances of disappearance"), validators=[Optional(), Length(max=20000)]
    )
    distinguishing_marks = TextAreaField(
        _l("Distinguishing marks"), validators=[Optional(), Length(max=4000)]
    )
    contacts = FieldList(FormField(ContactForm), min_entries=2, max_entries=8)
    # Sent by the button under the duplicate warning of a new case (casework.views.create).
    different_person = BooleanField(_l("This is a different person — save anyway"))

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.governorate_pcode.choices = governorate_choices()
        self.district_pcode.choices = district_choices()
        self.destination_country.choices = country_choices()
        # Always offer an empty row to add one more document or contact without JavaScript.
        for rows in (self.documents, self.contacts):
            full = rows.entries and _row_filled(rows.entries[-1])
            if full and len(rows.entries) < rows.max_entries:
                rows.append_entry()

    def validate_birth_day(self, field: IntegerField) -> None:
        if field.data is None:
            return
        if not self.birth_month.data or not self.birth_year.data:
            raise FieldError(_l("Give the month and year too, or leave the day empty."))
        try:
            born = date(self.birth_year.data, self.birth_month.data, field.data)
        except ValueError as error:
            raise FieldError(_l("This date does not exist.")) from error
        if born > date.today():
            raise FieldError(_l("The date of birth is in the future."))

    def validate_birth_year(self, field: IntegerField) -> None:
        # validate_birth_day only checks a full date; a year alone must not be ahead either.
        if field.data is not None and field.data > date.today().year:
            raise FieldError(_l("The date of birth is in the future."))

    def validate_birth_month(self, field: IntegerField) -> None:
        if field.data is not None and not self.birth_year.data:
            raise FieldError(_l("Give the year too, or leave the month empty."))

    def validate_phones(self, field: TextAreaField) -> None:
        numbers = []
        for line in _lines(field.data):
            try:
                numbers.append(to_e164(line))
            except PhoneError as error:
                # gettext, not _l: a lazy string counts as safe HTML in Jinja (__html__), and
                # this message carries what the user typed.
                raise FieldError(
                    gettext(
                        "“%(value)s” is not a phone number we can call. Example: 0770 123 4567",
                        value=line,
                    )
                ) from error
        field.e164 = numbers

    def validate_last_contact_date(self, field: DateField) -> None:
        if field.data and field.data > date.today():
            raise FieldError(_l("The date of last contact is in the future."))

    def to_details(self) -> CaseDetails:
        """The validated form as CaseDetails: only the fields listed here are ever written."""
        district = places.district(self.district_pcode.data)
        return CaseDetails(
            given_name=self.given_name.data.strip(),
            father_name=_clean(self.father_name.data),
            grandfather_name=_clean(self.grandfather_name.data),
            great_grandfather_name=_clean(self.great_grandfather_name.data),
            laqab=_clean(self.laqab.data),
            name_as_entered=_clean(self.name_as_entered.data),
            mother_name=_clean(self.mother_name.data),
            sex=self.sex.data,
            birth_year=self.birth_year.data,
            birth_month=self.birth_month.data,
            birth_day=self.birth_day.data,
            age=self.age.data,
            age_estimated=bool(self.age_estimated.data),
            governorate_pcode=(district.parent if district else None)
            or _clean(self.governorate_pcode.data),
            district_pcode=_clean(self.district_pcode.data),
            locality=_clean(self.locality.data),
            departure_date=self.departure_date.data,
            destination_country=_clean(self.destination_country.data),
            route=_clean(self.route.data),
            travel_company=_clean(self.travel_company.data),
            last_contact_date=self.last_contact_date.data,
            last_contact_channel=_clean(self.last_contact_channel.data),
            last_known_location=_clean(self.last_known_location.data),
            circumstances=_clean(self.circumstances.data),
            distinguishing_marks=_clean(self.distinguishing_marks.data),
            latin_names=_lines(self.latin_names.data),
            aliases=_lines(self.aliases.data),
            phones=getattr(self.phones, "e164", []),
            documents=[
                DocumentDetails(e.doc_type.data, e.number.data.strip())
                for e in self.documents.entries
                if e.number.data and e.number.data.strip()
            ],
            contacts=[
                ContactDetails(
                    name=e.form.name.data.strip(),
                    relationship=_clean(e.form.relationship.data),
                    phone_e164=getattr(e.form.phone, "e164", None),
                    preferred_language=e.form.preferred_language.data,
                )
                for e in self.contacts.entries
                if e.form.name.data and e.form.name.data.strip()
            ],
        )

    @classmethod
    def from_details(cls, details: CaseDetails) -> CaseForm:
        """A form prefilled for editing (names as one per line, numbers for reading out)."""
        data = {k: v for k, v in vars(details).items() if k not in _LIST_FIELDS}
        data["latin_names"] = "\n".join(details.latin_names)
        data["aliases"] = "\n".join(details.aliases)
        data["phones"] = "\n".join(details.phones)
        data["documents"] = [vars(d) for d in details.documents]
        data["contacts"] = [
            {
                "name": c.name,
                "relationship": c.relationship,
                "phone": c.phone_e164,
                "preferred_language": c.preferred_language,
            }
            for c in details.contacts
        ]
        return cls(data=data)


_LIST_FIELDS = {"latin_names", "aliases", "phones", "documents", "contacts"}


def _row_filled(entry) -> bool:  # noqa: ANN001
    return any(
        (sub.data or "").strip() if isinstance(sub.data, str) else False
        for name, sub in entry.form._fields.items()
        if name not in {"doc_type", "preferred_language"}
    )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class NoteForm(BaseForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=20000)])
    kind = SelectField(_l("Kind"), choices=choices("note_kind", NoteKind), default="call")
    visibility = SelectField(
        _l("Who may see it"), choices=choices("visibility", NoteVisibility), default="internal"
    )
    corrects_id = HiddenField()

    def validate_corrects_id(self, field: HiddenField) -> None:
        if field.data and not field.data.isdigit():
            raise FieldError(_l("The note to correct is not on this case."))


class StatusForm(BaseForm):
    to_status = SelectField(_l("New status"), validators=[InputRequired()], validate_choice=False)
    closure_reason = SelectField(
        _l("Reason for closing"), choices=choices("closure", LABELS["closure"], blank=True)
    )
    reason = TextAreaField(
        _l("Why (recorded on the timeline)"), validators=[DataRequired(), Length(max=4000)]
    )


class DecisionForm(BaseForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=4000)])


class AssignForm(BaseForm):
    owner_id = SelectField(_l("Give the case to"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


ROW_ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_ROW_ID = 2**31 - 1  # an INTEGER column on PostgreSQL: anything larger is a database error


def row_id(value: object) -> int | None:
    """A posted id as an int, or None when it cannot be the id of a row (ASCII digits only)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ROW_ID.fullmatch(value) and int(value) <= MAX_ROW_ID:
        return int(value)
    return None


class CaseIdsField(Field):
    """The case ids ticked on the list.

    Values that cannot be a case id are dropped, not an error: a tampered or stale form must
    neither crash nor keep the valid ticks from being acted on.
    """

    submitted = 0

    def process_formdata(self, valuelist: list[str]) -> None:
        self.submitted = len(valuelist)
        ids = (row_id(v) for v in valuelist)
        self.data = list(dict.fromkeys(i for i in ids if i is not None))

    def pre_validate(self, form: BaseForm) -> None:
        if self.submitted > MAX_BULK_ASSIGN:
            raise StopValidation(
                _l("At most %(num)s cases can be given at once.", num=MAX_BULK_ASSIGN)
            )


class BulkAssignForm(BaseForm):
    """Give the cases ticked on the list to one person; the reason is a rule of the service."""

    case_ids = CaseIdsField(default=list)
    to_user_id = SelectField(_l("Give the selected cases to"), coerce=row_id, validate_choice=False)
    reason = TextAreaField(
        _l("Reason (recorded on each case's timeline)"),
        validators=[Optional(), Length(max=2000)],
    )
    next = HiddenField()


class ShareForm(BaseForm):
    user_id = SelectField(_l("Share with"), coerce=int, validate_choice=False)


class ActionForm(BaseForm):
    """A button that posts nothing but its CSRF token."""


class CaseFilterForm(SubForm):
    """The case list's query string; invalid values are ignored, never an error page."""

    q = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    status = SelectMultipleField(_l("Status"), choices=choices("status", LABELS["status"]))
    governorate = SelectField(_l("Governorate"), validate_choice=False)
    district = SelectField(_l("District"), validate_choice=False)
    owner = SelectField(_l("Caseworker"), validate_choice=False)
    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(min=0, max=120)])
    age_max = IntegerField(_l("Age to"), validators=[Optional(), NumberRange(min=0, max=120)])
    contact_from = DateField(_l("Last contact from"), validators=[Optional()])
    contact_to = DateField(_l("Last contact to"), validators=[Optional()])
    created_from = DateField(_l("Opened from"), validators=[Optional()])
    created_to = DateField(_l("Opened to"), validators=[Optional()])
    inactive_days = IntegerField(
        _l("No note or status change for (days)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )
    sort = SelectField(
        _l("Sort by"),
        choices=options(
            [
                ("activity", _l("Latest activity")),
                ("oldest_activity", _l("Oldest activity")),
                ("created", _l("Newest case")),
                ("name", _l("Name")),
                ("last_contact", _l("Last contact")),
                ("reference", _l("Reference")),
            ]
        ),
        default="activity",
    )
