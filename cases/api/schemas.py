"""The API's JSON shapes (marshmallow): what a client may send, what it gets back.

The request schemas check the *shape* of what is sent (types, required fields, no unknown
fields: no mass assignment). The *values* are then checked by the web form for the same act
(cases.api.forms), so the API and the pages can never disagree on what is valid. Limits the
forms enforce (lengths, ranges) are copied from the forms' validators into the schemas'
metadata, so the OpenAPI document states them without a second set of numbers to keep in step.
The same classes generate the OpenAPI document (cases.api.openapi).
"""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange

from .. import places
from ..casework.forms import CaseForm, ContactForm, DocumentForm, NoteForm, StatusForm
from ..casework.listing import SORTS
from ..casework.models import (
    CaseStatus,
    ClosureReason,
    ContactChannel,
    DocumentType,
    NoteKind,
    NoteVisibility,
    Sex,
)
from ..inquiries.forms import CONTACT_PREFERENCES, RELATIONSHIPS, InquiryForm
from ..inquiries.models import FamilyStatus, InquiryState

MAX_LIMIT = 100
MAX_PAGE = 100_000
MAX_ROW_ID = 2**31 - 1
LANGUAGES = ("ar", "ckb", "en")

# marshmallow's own messages, in the reader's language (some are WTForms' msgids, already
# translated in our catalogs).
FIELD_MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field cannot be null."),
    "too_large": _l("Number too large."),
    "invalid_utf8": _l("Not valid text."),
    "validator_failed": _l("Invalid value."),
}
INVALID = {
    fields.Integer: _l("Not a valid integer value."),
    fields.Date: _l("Not a valid date value."),
    fields.DateTime: _l("Not a valid date and time."),
    fields.Boolean: _l("Not a valid boolean."),
    fields.List: _l("Not a valid list."),
    fields.String: _l("Not a valid string."),
}
CHOICE_MESSAGE = _l("Not a valid choice.")


class Str(fields.String):
    """Text as people typed it: NUL bytes dropped (PostgreSQL refuses them), and text that is
    not valid Unicode (lone surrogates from JSON escapes) refused rather than crashing later."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise self.make_error("invalid_utf8") from error
        return text.replace("\x00", "")


class UtcDateTime(fields.DateTime):
    """An ISO 8601 date and time; stored times are naive UTC (cases.clock), so is this."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError) as error:
            raise self.make_error("invalid") from error

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if value is None:
            return None
        return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


class JsonBool(fields.Boolean):
    """true or false, not "yes", 1 or "on": a JSON API takes JSON's booleans."""

    truthy = frozenset({True})
    falsy = frozenset({False})


class BaseSchema(Schema):
    """Unknown fields are refused; messages follow the reader's language."""

    class Meta:
        ordered = True

    error_messages = {
        "unknown": _l("Unknown field."),
        "type": _l("Invalid input type."),
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        messages = dict(FIELD_MESSAGES)
        for kind, message in INVALID.items():
            if isinstance(field_obj, kind):
                messages["invalid"] = message
                break
        if isinstance(field_obj, fields.Nested):
            messages["type"] = _l("Invalid input type.")
        field_obj.error_messages.update(messages)


def limits(unbound: UnboundField) -> dict:
    """The OpenAPI limits (maxLength, minimum, maximum) a form field's validators enforce."""
    validators = unbound.kwargs.get("validators") or (
        unbound.args[1] if len(unbound.args) > 1 else []
    )
    found: dict = {}
    for check in validators:
        if isinstance(check, Length) and check.max >= 0:
            found["maxLength"] = check.max
        if isinstance(check, NumberRange):
            if check.min is not None:
                found["minimum"] = check.min
            if check.max is not None:
                found["maximum"] = check.max
    return found


def one_of(values) -> validate.OneOf:  # noqa: ANN001
    return validate.OneOf([str(v) for v in values], error=CHOICE_MESSAGE)


def text(form_field: UnboundField | None = None, **kwargs) -> Str:  # noqa: ANN003
    metadata = {**(limits(form_field) if form_field else {}), **kwargs.pop("metadata", {})}
    return Str(metadata=metadata, **kwargs)


def optional_text(form_field: UnboundField | None = None, **kwargs) -> Str:  # noqa: ANN003
    return text(form_field, allow_none=True, load_default=None, **kwargs)


def optional_int(form_field: UnboundField) -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, load_default=None, metadata=limits(form_field)
    )


def choice(values, *, nullable: bool = False, default: object = None, **kwargs) -> Str:  # noqa: ANN001, ANN003
    """A value from a fixed list; its values go into the OpenAPI document as an enum."""
    options = [str(v) for v in values]
    if nullable:
        kwargs.update(allow_none=True, load_default=default)
    elif default is not None:
        kwargs.update(load_default=default)
    return Str(validate=one_of(options), **kwargs)


def max_rows(count: int) -> validate.Length:
    return validate.Length(max=count, error=_l("At most %(num)s entries.", num=count))


# --- requests -----------------------------------------------------------------------------


class DocumentInput(BaseSchema):
    doc_type = choice(DocumentType, default="national_id")
    number = text(DocumentForm.number, required=True)


class ContactInput(BaseSchema):
    name = text(ContactForm.name, required=True)
    relationship = optional_text(ContactForm.relationship)
    phone = optional_text(
        ContactForm.phone,
        metadata={"description": "As people write it; stored as E.164", "example": "07701234567"},
    )
    preferred_language = choice(LANGUAGES, default="ar")


def max_length(count: int) -> validate.Length:
    """The length check of columns no form field bounds one by one (a form's text area of
    one name per line bounds only the whole)."""
    return validate.Length(
        max=count,
        error=lazy_ngettext(
            "Field cannot be longer than %(max)d character.",
            "Field cannot be longer than %(max)d characters.",
            count,
            max=count,
        ),
    )


def _name_list() -> fields.List:
    return fields.List(Str(validate=max_length(200)), load_default=list)


class CaseInput(BaseSchema):
    """The missing person's details, as on the case form (CaseDetails is the allow-list)."""

    given_name = text(CaseForm.given_name, required=True)
    father_name = optional_text(CaseForm.father_name)
    grandfather_name = optional_text(CaseForm.grandfather_name)
    great_grandfather_name = optional_text(CaseForm.great_grandfather_name)
    laqab = optional_text(CaseForm.laqab)
    name_as_entered = optional_text(CaseForm.name_as_entered)
    mother_name = optional_text(CaseForm.mother_name)
    latin_names = _name_list()
    aliases = _name_list()
    sex = choice(Sex, default="male")
    birth_year = optional_int(CaseForm.birth_year)
    birth_month = optional_int(CaseForm.birth_month)
    birth_day = optional_int(CaseForm.birth_day)
    age = optional_int(CaseForm.age)
    age_estimated = JsonBool(load_default=False)
    governorate_pcode = optional_text(metadata={"description": "OCHA P-code", "example": "IQG07"})
    district_pcode = optional_text(metadata={"description": "OCHA P-code", "example": "IQG07Q04"})
    locality = optional_text(CaseForm.locality)
    phones = fields.List(Str(validate=max_length(40)), load_default=list)
    documents = fields.List(fields.Nested(DocumentInput), load_default=list, validate=max_rows(8))
    departure_date = fields.Date(allow_none=True, load_default=None)
    destination_country = optional_text(metadata={"description": "ISO 3166 alpha-2"})
    route = optional_text(CaseForm.route)
    travel_company = optional_text(CaseForm.travel_company)
    last_contact_date = fields.Date(allow_none=True, load_default=None)
    last_contact_channel = choice(ContactChannel, nullable=True)
    last_known_location = optional_text(CaseForm.last_known_location)
    circumstances = optional_text(CaseForm.circumstances)
    distinguishing_marks = optional_text(CaseForm.distinguishing_marks)
    contacts = fields.List(
        fields.Nested(ContactInput),
        load_default=list,
        validate=max_rows(8),
        metadata={"description": "Family contacts: only the owner and supervisors see them."},
    )


class NewCaseInput(CaseInput):
    confirm_new_person = JsonBool(
        load_default=False,
        metadata={
            "description": "Create the case even though existing cases may be the same person "
            "(answered 409 with them otherwise)."
        },
    )


class CaseUpdateInput(CaseInput):
    """Any subset of the case's fields; those not sent keep their value."""

    given_name = text(CaseForm.given_name)


class NoteInput(BaseSchema):
    body = text(NoteForm.body, required=True)
    kind = choice(NoteKind, default="other")
    visibility = choice(NoteVisibility, default="internal")
    corrects_id = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ROW_ID, error=_l("No such note.")),
        metadata={"description": "The id of the note on this case that this one corrects."},
    )


class StatusInput(BaseSchema):
    to_status = choice(CaseStatus, required=True)
    reason = text(StatusForm.reason, required=True)
    closure_reason = choice(ClosureReason, nullable=True)

    @validates_schema
    def closure_needs_reason(self, data: dict, **kwargs) -> None:  # noqa: ANN003
        if data.get("to_status") == CaseStatus.CLOSED and not data.get("closure_reason"):
            raise ValidationError(
                _l("Choose a reason for closing the case."), field_name="closure_reason"
            )


class InquiryInput(BaseSchema):
    """A family's inquiry taken by a partner (a phone line, a partner's office)."""

    inquirer_name = text(InquiryForm.inquirer_name, required=True)
    inquirer_relationship = choice(RELATIONSHIPS, required=True)
    inquirer_phone = text(
        InquiryForm.inquirer_phone, required=True, metadata={"example": "0770 123 4567"}
    )
    inquirer_channel = choice(CONTACT_PREFERENCES, default="phone")
    inquirer_language = choice(LANGUAGES, default="ar")
    given_name = text(InquiryForm.given_name, required=True)
    father_name = optional_text(InquiryForm.father_name)
    grandfather_name = optional_text(InquiryForm.grandfather_name)
    great_grandfather_name = optional_text(InquiryForm.great_grandfather_name)
    laqab = optional_text(InquiryForm.laqab)
    mother_name = optional_text(InquiryForm.mother_name)
    age = optional_int(InquiryForm.age)
    birth_year = optional_int(InquiryForm.birth_year)
    governorate_pcode = optional_text()
    district_pcode = optional_text()
    last_contact_date = fields.Date(allow_none=True, load_default=None)
    last_contact_channel = choice(ContactChannel, nullable=True)
    destination_country = optional_text()
    travel_company = optional_text(InquiryForm.travel_company)
    route = optional_text(InquiryForm.route)
    details = optional_text(InquiryForm.details)
    consent_search = JsonBool(
        required=True, metadata={"description": "The family agreed to the search: must be true."}
    )
    consent_share = JsonBool(load_default=False)


# --- query strings ------------------------------------------------------------------------


class PageArgs(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_LIMIT))


class CaseListArgs(PageArgs):
    status = fields.List(Str(validate=one_of(CaseStatus)), load_default=list)
    governorate = Str(
        load_default=None,
        validate=one_of(p.pcode for p in places.governorates()),
        metadata={"description": "OCHA P-code"},
    )
    district = Str(
        load_default=None,
        validate=one_of(p.pcode for p in places.districts()),
        metadata={"description": "OCHA P-code"},
    )
    q = Str(load_default=None, validate=validate.Length(max=200), metadata={"maxLength": 200})
    age_min = fields.Integer(load_default=None, validate=validate.Range(min=0, max=120))
    age_max = fields.Integer(load_default=None, validate=validate.Range(min=0, max=120))
    contact_from = fields.Date(load_default=None)
    contact_to = fields.Date(load_default=None)
    created_from = fields.Date(load_default=None)
    created_to = fields.Date(load_default=None)
    inactive_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=3650))
    updated_since = UtcDateTime(
        load_default=None,
        metadata={"description": "Only cases edited, noted or moved since then (ISO 8601)."},
    )
    sort = Str(load_default="activity", validate=one_of(SORTS))


class PfifExportArgs(BaseSchema):
    since = UtcDateTime(load_default=None)
    include_contacts = fields.Boolean(
        load_default=False,
        metadata={"description": "Family contacts too; only for accounts that may see them."},
    )


class PfifImportArgs(BaseSchema):
    into = Str(load_default="inquiries", validate=one_of(("inquiries", "cases")))


# --- responses ----------------------------------------------------------------------------


class ReasonOut(Schema):
    verdict = fields.String(required=True)
    detail = fields.String(required=True)


class MatchOut(Schema):
    """A case that may be the same person. One the client's account may not open shows only
    its reference and who holds it, as on the web."""

    reference = fields.String(required=True)
    score = fields.Integer(required=True)
    band = fields.String(required=True)
    visible = fields.Boolean(required=True)
    name = fields.String(allow_none=True)
    held_by = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonOut))


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Validation errors only: each field's messages."},
    )
    matches = fields.List(fields.Nested(MatchOut))


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)


class CaseSummaryOut(Schema):
    reference = fields.String(required=True)
    status = fields.String(required=True)
    closure_reason = fields.String(allow_none=True, required=True)
    name = fields.String(required=True)
    sex = fields.String(required=True)
    age = fields.Integer(allow_none=True, required=True)
    birth_year = fields.Integer(allow_none=True, required=True)
    governorate_pcode = fields.String(allow_none=True, required=True)
    district_pcode = fields.String(allow_none=True, required=True)
    owner = fields.String(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    last_activity_at = UtcDateTime(required=True)


class DocumentOut(Schema):
    doc_type = fields.String(required=True)
    number = fields.String(required=True)


class ContactOut(Schema):
    name = fields.String(required=True)
    relationship = fields.String(allow_none=True, required=True)
    phone = fields.String(allow_none=True, required=True)
    preferred_language = fields.String(allow_none=True, required=True)


class CaseOut(CaseSummaryOut):
    given_name = fields.String(required=True)
    father_name = fields.String(allow_none=True, required=True)
    grandfather_name = fields.String(allow_none=True, required=True)
    great_grandfather_name = fields.String(allow_none=True, required=True)
    laqab = fields.String(allow_none=True, required=True)
    name_as_entered = fields.String(allow_none=True, required=True)
    mother_name = fields.String(allow_none=True, required=True)
    latin_names = fields.List(fields.String(), required=True)
    aliases = fields.List(fields.String(), required=True)
    birth_month = fields.Integer(allow_none=True, required=True)
    birth_day = fields.Integer(allow_none=True, required=True)
    age_estimated = fields.Boolean(required=True)
    locality = fields.String(allow_none=True, required=True)
    phones = fields.List(fields.String(), required=True)
    documents = fields.List(fields.Nested(DocumentOut), required=True)
    departure_date = fields.Date(allow_none=True, required=True)
    destination_country = fields.String(allow_none=True, required=True)
    route = fields.String(allow_none=True, required=True)
    travel_company = fields.String(allow_none=True, required=True)
    last_contact_date = fields.Date(allow_none=True, required=True)
    last_contact_channel = fields.String(allow_none=True, required=True)
    last_known_location = fields.String(allow_none=True, required=True)
    circumstances = fields.String(allow_none=True, required=True)
    distinguishing_marks = fields.String(allow_none=True, required=True)
    anonymised = fields.Boolean(required=True)
    duplicate_of = fields.String(allow_none=True, required=True)
    contacts_visible = fields.Boolean(
        required=True,
        metadata={
            "description": "False: the family contacts exist but this account may not "
            "see them (they are then left out)."
        },
    )
    contacts = fields.List(fields.Nested(ContactOut), required=True)


class CasePageOut(Schema):
    items = fields.List(fields.Nested(CaseSummaryOut), required=True)
    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    total_is_capped = fields.Boolean(
        required=True, metadata={"description": "True: there are more than `total` cases."}
    )
    next_page = fields.Integer(allow_none=True, required=True)


class NoteOut(Schema):
    id = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    author = fields.String(allow_none=True, required=True)
    kind = fields.String(required=True)
    visibility = fields.String(required=True)
    body = fields.String(required=True)
    corrects_id = fields.Integer(allow_none=True, required=True)


class NoteListOut(Schema):
    items = fields.List(fields.Nested(NoteOut), required=True)


class StatusChangeOut(Schema):
    id = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    actor = fields.String(allow_none=True, required=True)
    from_status = fields.String(allow_none=True, required=True)
    to_status = fields.String(required=True)
    closure_reason = fields.String(allow_none=True, required=True)
    reason = fields.String(required=True)
    approval_id = fields.Integer(allow_none=True, required=True)


class ApprovalOut(Schema):
    id = fields.Integer(required=True)
    to_status = fields.String(required=True)
    closure_reason = fields.String(allow_none=True, required=True)
    reason = fields.String(required=True)
    state = fields.String(required=True)
    requested_at = UtcDateTime(required=True)
    requested_by = fields.String(allow_none=True, required=True)


class StatusHistoryOut(Schema):
    status = fields.String(required=True)
    items = fields.List(fields.Nested(StatusChangeOut), required=True)
    pending = fields.Nested(ApprovalOut, allow_none=True, required=True)


class InquiryOut(Schema):
    reference = fields.String(required=True)
    state = fields.String(required=True, validate=one_of(InquiryState))
    created_at = UtcDateTime(required=True)
    channel = fields.String(required=True)
    family_status = fields.String(required=True, validate=one_of(FamilyStatus))
    case_reference = fields.String(allow_none=True, required=True)
    name = fields.String(required=True)
    given_name = fields.String(allow_none=True, required=True)
    father_name = fields.String(allow_none=True, required=True)
    grandfather_name = fields.String(allow_none=True, required=True)
    great_grandfather_name = fields.String(allow_none=True, required=True)
    laqab = fields.String(allow_none=True, required=True)
    mother_name = fields.String(allow_none=True, required=True)
    age = fields.Integer(allow_none=True, required=True)
    birth_year = fields.Integer(allow_none=True, required=True)
    governorate_pcode = fields.String(allow_none=True, required=True)
    district_pcode = fields.String(allow_none=True, required=True)
    last_contact_date = fields.Date(allow_none=True, required=True)
    last_contact_channel = fields.String(allow_none=True, required=True)
    destination_country = fields.String(allow_none=True, required=True)
    travel_company = fields.String(allow_none=True, required=True)
    route = fields.String(allow_none=True, required=True)
    details = fields.String(allow_none=True, required=True)
    consent_search = fields.Boolean(required=True)
    consent_share = fields.Boolean(required=True)
    contact_visible = fields.Boolean(required=True)
    inquirer_name = fields.String(allow_none=True, required=True)
    inquirer_relationship = fields.String(allow_none=True, required=True)
    inquirer_phone = fields.String(allow_none=True, required=True)
    inquirer_language = fields.String(allow_none=True, required=True)
    inquirer_channel = fields.String(allow_none=True, required=True)


class InquiryPageOut(Schema):
    items = fields.List(fields.Nested(InquiryOut), required=True)
    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True)


class InquiryReceiptOut(Schema):
    reference = fields.String(required=True)
    secret = fields.String(
        required=True,
        metadata={"description": "Shown this once: only its hash is kept. Give it to the family."},
    )


class PfifCountsOut(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    skipped = fields.Integer(required=True)


class PfifOutcomeOut(Schema):
    record_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "person or note"})
    action = fields.String(required=True, validate=one_of(("created", "updated", "skipped")))
    reason = fields.String(required=True)
    target = fields.String(
        allow_none=True, metadata={"description": "The case or inquiry reference."}
    )
    detail = fields.String(allow_none=True)


class PfifSummaryOut(Schema):
    """What an import did (cases.exchange.services.PfifSummary)."""

    counts = fields.Nested(PfifCountsOut, required=True)
    outcomes = fields.List(fields.Nested(PfifOutcomeOut), required=True)
    restored_columns = fields.List(fields.String(), required=True)
