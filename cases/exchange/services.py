"""PFIF exchange rules: what an import creates or updates, what an export may share.

Import: persons become inquiries in the intake queue (default) or cases; notes become case
notes or inquiry updates; every record is also kept whole (``PfifRecord``), so nothing a
partner sent is lost. Importing is idempotent on record ids: the same record again changes
nothing, a newer version (later source_date) updates, and a record whose domain is ours is
left alone when we already know it ("only the original repository edits a record").

Export: only cases whose family consented to sharing with other organisations and never
withdrew it, plus the partner records we hold, given back as they came. The humanitarian rule
is that sharing is an explicit, logged act: every import and export is audited.

docs/pfif.md has the field mapping both ways.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from .. import places
from ..audit import services as audit
from ..auth.models import Role, User
from ..auth.services import hash_password
from ..casework import services as casework
from ..casework.access import can_work_on, visible_cases
from ..casework.models import (
    Case,
    CaseNote,
    CaseStatus,
    ClosureReason,
    NoteKind,
    NoteVisibility,
    Sex,
    StatusChange,
)
from ..clock import utcnow
from ..extensions import db
from ..inquiries.models import Inquiry, InquiryState, InquiryUpdate
from ..matching.models import DecisionKind, DecisionState, MatchDecision
from ..phones import PhoneError, to_e164
from ..retention import services as retention
from . import mapping, pfif
from .models import PfifRecord

INTO = ("inquiries", "cases")
PERSON = "person"
NOTE = "note"
# Stored on inquiries an import created: no information notice was shown by us.
NOTICE = "pfif"
CHANNEL = "pfif"
PURGE_RULE = "pfif_expired"

# What the family is told about a status is never "dead" or "detained" from a web page, and
# partner registries publish note statuses: those changes stay in Athar (docs/pfif.md).
STATUS_OF_CASE = {
    CaseStatus.NEW: "information_sought",
    CaseStatus.OPEN: "information_sought",
    CaseStatus.LOCATED_ALIVE: "believed_alive",
    CaseStatus.LOCATED_DETAINED: "believed_alive",
}
STATUS_OF_CLOSURE = {
    ClosureReason.IN_CONTACT: "believed_alive",
    ClosureReason.NO_TRACE: "believed_missing",
}
# The neutral sentence on an exported status note; never the caseworker's reason.
STATUS_TEXT = {
    "information_sought": "The search for this person is under way.",
    "believed_alive": "This person is believed to be alive.",
    "believed_missing": "This person is still missing.",
}
LINK_TEXT = "The organisation believes these records describe the same person."


class PfifError(Exception):
    """The file or the request was refused; ``str(error)`` is a translated message."""


@dataclass
class Outcome:
    record_id: str
    kind: str  # person | note
    action: str  # created | updated | skipped
    # created: "new"; updated: "newer" or "kept_staff_edits"; skipped: "unchanged",
    # "older", "expired", "own_record", "no_person", "erased", "not_visible", "invalid".
    reason: str
    target: str | None = None  # the case reference or the inquiry reference
    detail: str | None = None  # for "invalid": which check failed (pfif.RecordError codes)


@dataclass
class PfifSummary:
    outcomes: list[Outcome] = field(default_factory=list)
    # CSV only: template columns the header lacked and the rows were read with.
    restored_columns: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        totals = {"created": 0, "updated": 0, "skipped": 0}
        for outcome in self.outcomes:
            totals[outcome.action] += 1
        return totals

    def as_dict(self) -> dict:
        return {
            "counts": self.counts(),
            "outcomes": [asdict(o) for o in self.outcomes],
            "restored_columns": list(self.restored_columns),
        }


def own_domain() -> str:
    return current_app.config["PFIF_DOMAIN"]


def person_id(case: Case) -> str:
    return f"{own_domain()}/person.{case.reference}"


# --- import -------------------------------------------------------------------------------


def import_pfif(
    actor: User,
    data: bytes,
    into: str = "inquiries",
    *,
    owner: User | None = None,
    domain: str | None = None,
    own_records: bool = False,
) -> PfifSummary:
    """Import a PFIF XML file (1.1 to 1.4) or a Person Finder CSV file, in one transaction.

    Persons become inquiries in the intake queue (``into="inquiries"``) or cases owned by
    ``owner`` (default: the actor). ``domain`` completes CSV record ids that lack one. A file
    refused as a whole (not PFIF, too large, a DTD or entities) raises PfifError and writes
    nothing; single bad records are skipped and listed in the summary.

    Records under our own domain that this database does not hold are taken in only with
    ``own_records`` (the operator's command line restoring an export): through the API a
    partner could otherwise publish words, such as a "believed dead" status, in our name.
    """
    if into not in INTO:
        raise PfifError(_l("Import into inquiries or into cases."))
    if not actor.active or not actor.works_cases:
        raise PfifError(_l("Only caseworkers and supervisors can import records."))
    if into == "cases" and owner is not None and owner.id != actor.id:
        if actor.role != Role.SUPERVISOR:
            raise PfifError(_l("Only a supervisor can create a case for someone else."))
        if not owner.active or not owner.works_cases:
            raise PfifError(_l("A case can only go to an active caseworker or supervisor."))
    try:
        document = pfif.parse(data, domain=domain)
    except pfif.PfifFormatError as error:
        raise PfifError(str(error)) from error
    run = _Import(actor, into, owner or actor, own_records=own_records)
    summary = PfifSummary(restored_columns=document.restored_columns)
    for record_id, kind, code in document.invalid:
        summary.outcomes.append(Outcome(record_id, kind, "skipped", "invalid", detail=code))
    try:
        for person in document.persons:
            summary.outcomes.append(run.person(person))
        for note in document.notes:
            summary.outcomes.append(run.note(note))
        counts = summary.counts()
        audit.record("pfif_import", actor=actor, item_count=counts["created"] + counts["updated"])
        db.session.commit()
    except casework.CaseRuleError as error:
        db.session.rollback()
        raise PfifError(str(error)) from error
    except Exception:
        db.session.rollback()
        raise
    return summary


class _Import:
    """One import run: the actor, where persons go, and "now"."""

    def __init__(self, actor: User, into: str, owner: User, *, own_records: bool = False) -> None:
        self.actor = actor
        self.own_records = own_records
        self.into = into
        self.owner = owner
        self.now = utcnow()
        self.domain = own_domain()
        self._secret_hash: str | None = None

    # -- persons --

    def person(self, fields: dict[str, str]) -> Outcome:
        record_id = fields["person_record_id"]
        stored = _stored(PERSON, record_id)
        outcome = self._known_or_refused(stored, fields, PERSON, record_id)
        if outcome is not None:
            return outcome
        if stored is None:
            stored = self._store(PERSON, record_id, record_id, fields)
            target = self._create_target(stored, fields)
            return Outcome(record_id, PERSON, "created", "new", target)
        _restore(stored, fields, self.now)
        reason = self._update_target(stored, fields)
        return Outcome(record_id, PERSON, "updated", reason, _target_of(stored))

    def _known_or_refused(
        self, stored: PfifRecord | None, fields: dict[str, str], kind: str, record_id: str
    ) -> Outcome | None:
        """The outcome when the record is not taken in; None when it is to be written."""
        if stored is not None and self._hidden(stored):
            return Outcome(record_id, kind, "skipped", "not_visible")
        if stored is not None and stored.purged_at is not None:
            return Outcome(record_id, kind, "skipped", "expired")
        expiry = pfif.parse_time(fields.get("expiry_date"))
        if expiry is not None and expiry <= self.now:
            if stored is not None:
                stored.expiry_date = expiry  # `flask pfif purge-expired` removes it
            return Outcome(record_id, kind, "skipped", "expired", _target_of(stored))
        if stored is None:
            # Our own record in a database that does not know it (a restore, or a round trip
            # into a fresh installation) is taken in like any other, from the operator only.
            if _domain(record_id) == self.domain and not self.own_records:
                return Outcome(record_id, kind, "skipped", "own_record")
            return None
        if _comparable(stored.fields) == _comparable(fields):
            return Outcome(record_id, kind, "skipped", "unchanged", _target_of(stored))
        if _domain(record_id) == self.domain:
            return Outcome(record_id, kind, "skipped", "own_record", _target_of(stored))
        person = stored if kind == PERSON else _stored(PERSON, stored.person_record_id)
        if person is not None and _where_notes_go(person) == (None, None):
            # Erased here (a family's deletion request, retention): never taken in again.
            return Outcome(record_id, kind, "skipped", "erased")
        if not _is_newer(fields, stored):
            return Outcome(record_id, kind, "skipped", "older", _target_of(stored))
        return None

    def _hidden(self, stored: PfifRecord) -> bool:
        """Whether the record is about a person on a case the actor may not work on.

        An import acts as its user, as the pages do: it neither writes into nor names a case
        that user cannot see (an untriaged inquiry is open to all case staff)."""
        person = stored if stored.kind == PERSON else _stored(PERSON, stored.person_record_id)
        if person is None:
            return False
        case, _inquiry = _where_notes_go(person)
        if case is None and person.inquiry is None:
            case = person.case  # erased or anonymised: still not the actor's to touch
        return case is not None and not can_work_on(self.actor, case)

    def _store(self, kind: str, record_id: str, person: str, fields: dict) -> PfifRecord:
        stored = PfifRecord(
            kind=kind,
            record_id=record_id,
            person_record_id=person,
            imported_by_id=self.actor.id,
            first_imported_at=self.now,
        )
        _restore(stored, fields, self.now)
        db.session.add(stored)
        return stored

    def _create_target(self, stored: PfifRecord, fields: dict[str, str]) -> str:
        values = person_values(fields)
        if self.into == "cases":
            case = casework.open_case(self.actor, _case_details(values), self.owner)
            self._keep_our_reference(case, stored.record_id)
            stored.case = case
            db.session.flush()
            stored.case_synced_at = case.updated_at
            return case.reference
        inquiry = Inquiry(
            reference=_new_inquiry_reference(),
            secret_hash=self._unusable_secret(),
            created_at=self.now,
            channel=CHANNEL,
            locale="ar",
            notice_version=NOTICE,
            consent_search=True,
            consent_share=False,
            consent_at=self.now,
            inquirer_name=_inquirer_name(fields),
            inquirer_relationship="other",
            inquirer_phone=_phone(fields.get("author_phone")),
            inquirer_language="ar",
        )
        _fill_inquiry(inquiry, values)
        db.session.add(inquiry)
        stored.inquiry = inquiry
        return inquiry.reference

    def _keep_our_reference(self, case: Case, record_id: str) -> None:
        """A record of ours coming back (restore, round trip) keeps its case reference when
        that reference is free here."""
        prefix = f"{self.domain}/person."
        if not record_id.startswith(prefix):
            return
        reference = record_id[len(prefix) :]
        if len(reference) > 16 or not reference:
            return
        taken = db.session.scalar(select(Case.id).where(Case.reference == reference))
        if taken is None:
            case.reference = reference

    def _unusable_secret(self) -> str:
        # The family code of an imported inquiry is random and never shown, so no one can
        # open its status page. One hash per run: argon2 per record would make imports slow.
        if self._secret_hash is None:
            self._secret_hash = hash_password(secrets.token_urlsafe(32))
        return self._secret_hash

    def _update_target(self, stored: PfifRecord, fields: dict[str, str]) -> str:
        """Carry a newer version into what the record produced, unless staff took it over:
        an inquiry once triaged, a case edited since the import."""
        values = person_values(fields)
        inquiry = stored.inquiry
        if inquiry is not None:
            if inquiry.state != InquiryState.NEW:
                return "kept_staff_edits"
            _fill_inquiry(inquiry, values)
            return "newer"
        case = stored.case
        if case is None or case.anonymised_at is not None:
            return "kept_staff_edits"
        if stored.case_synced_at is None or case.updated_at != stored.case_synced_at:
            return "kept_staff_edits"
        details = casework.details_of(case)
        new = _case_details(values)
        for name in PERSON_CASE_FIELDS:
            setattr(details, name, getattr(new, name))
        casework._apply(case, details)
        case.updated_at = self.now
        stored.case_synced_at = self.now
        audit.record("case_edit", "case", case.id, self.actor)
        return "newer"

    # -- notes --

    def note(self, fields: dict[str, str]) -> Outcome:
        record_id = fields["note_record_id"]
        stored = _stored(NOTE, record_id)
        outcome = self._known_or_refused(stored, fields, NOTE, record_id)
        if outcome is not None:
            return outcome
        person = _stored(PERSON, fields["person_record_id"])
        if person is None:
            return Outcome(record_id, NOTE, "skipped", "no_person")
        if self._hidden(person):
            return Outcome(record_id, NOTE, "skipped", "not_visible")
        if person.purged_at is not None:
            return Outcome(record_id, NOTE, "skipped", "expired")
        case, inquiry = _where_notes_go(person)
        if case is None and inquiry is None:
            return Outcome(record_id, NOTE, "skipped", "erased")
        created = stored is None
        if stored is None:
            stored = self._store(NOTE, record_id, fields["person_record_id"], fields)
        else:
            _restore(stored, fields, self.now)
        body = _note_body(fields)
        if case is not None:
            note = CaseNote(
                case_id=case.id,
                author_id=self.actor.id,
                created_at=self.now,
                kind=NoteKind.INFORMATION,
                visibility=NoteVisibility.INTERNAL,
                body=body,
                # A newer version is appended as a correction: notes are never edited.
                corrects_id=None if created else stored.case_note_id,
            )
            db.session.add(note)
            db.session.flush()
            stored.case_note_id = note.id
            stored.case_id = case.id
            case.last_activity_at = self.now
            audit.record("note_add", "case", case.id, self.actor)
            target = case.reference
        else:
            update = InquiryUpdate(inquiry_id=inquiry.id, created_at=self.now, body=body)
            db.session.add(update)
            db.session.flush()
            stored.inquiry_update_id = update.id
            stored.inquiry_id = inquiry.id
            target = inquiry.reference
        if created:
            return Outcome(record_id, NOTE, "created", "new", target)
        return Outcome(record_id, NOTE, "updated", "newer", target)


def _stored(kind: str, record_id: str) -> PfifRecord | None:
    return db.session.scalar(select(PfifRecord).filter_by(kind=kind, record_id=record_id))


def _restore(stored: PfifRecord, fields: dict[str, str], now: datetime) -> None:
    stored.fields = fields
    stored.source_date = pfif.parse_time(fields.get("source_date"))
    stored.entry_date = pfif.parse_time(fields.get("entry_date"))
    stored.expiry_date = pfif.parse_time(fields.get("expiry_date"))
    stored.last_imported_at = now


def _domain(record_id: str) -> str:
    return record_id.partition("/")[0]


def _comparable(fields: dict[str, str]) -> dict[str, str]:
    # A repository serving a record sets its own entry_date: that alone is no change.
    return {k: v for k, v in fields.items() if k != "entry_date"}


def _is_newer(fields: dict[str, str], stored: PfifRecord) -> bool:
    """A later source_date (or, without one, a later entry_date) than the version we hold."""
    for name, held in (("source_date", stored.source_date), ("entry_date", stored.entry_date)):
        offered = pfif.parse_time(fields.get(name))
        if offered is not None or held is not None:
            return offered is not None and (held is None or offered > held)
    return False


def _target_of(stored: PfifRecord | None) -> str | None:
    if stored is None:
        return None
    if stored.case is not None:
        return stored.case.reference
    if stored.inquiry is not None:
        return stored.inquiry.reference
    return None


def _where_notes_go(person: PfifRecord) -> tuple[Case | None, Inquiry | None]:
    """The case (directly, or through the inquiry it was linked to) or the untriaged inquiry
    that a note about this person belongs on; neither when its data was erased."""
    case = person.case
    inquiry = person.inquiry
    if inquiry is not None:
        if inquiry.state == InquiryState.ERASED:
            return None, None
        if inquiry.case is not None:
            case = inquiry.case
        else:
            return None, inquiry
    if case is None or case.anonymised_at is not None:
        return None, None
    return case, None


def _note_body(fields: dict[str, str]) -> str:
    text = fields.get("text")
    if text:
        return text
    marks = [fields.get("status"), fields.get("linked_person_record_id")]
    return "[" + " · ".join(m for m in marks if m) + "]" if any(marks) else "[PFIF]"


def _new_inquiry_reference() -> str:
    from ..inquiries.services import REFERENCE_DIGITS

    while True:
        reference = str(secrets.randbelow(9) + 1) + "".join(
            str(secrets.randbelow(10)) for _ in range(REFERENCE_DIGITS - 1)
        )
        if db.session.scalar(select(Inquiry.id).filter_by(reference=reference)) is None:
            return reference


def _inquirer_name(fields: dict[str, str]) -> str:
    name = (
        fields.get("author_name")
        or fields.get("source_name")
        or _domain(fields["person_record_id"])
    )
    return name[:200]


def _phone(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return to_e164(raw)
    except PhoneError:
        return None


# --- person fields <-> case and inquiry columns --------------------------------------------

# The case columns a PFIF person fills (an update from a partner rewrites only these).
PERSON_CASE_FIELDS = (
    "given_name",
    "father_name",
    "grandfather_name",
    "great_grandfather_name",
    "laqab",
    "name_as_entered",
    "sex",
    "birth_year",
    "birth_month",
    "birth_day",
    "age",
    "age_estimated",
    "governorate_pcode",
    "district_pcode",
    "locality",
    "circumstances",
    "latin_names",
    "aliases",
)


def person_values(fields: dict[str, str]) -> dict:
    """The values a PFIF person gives a case: Arabic name parts from the first line of
    full_name (or from given/family name), the other lines as Latin spellings, alternate
    names as aliases, places as P-codes or text, birth date and age."""
    names = mapping.lines(fields.get("full_name"))
    first = names[0] if names else ""
    given_hint = fields.get("given_name")
    family_hint = fields.get("family_name")
    if mapping.is_arabic(first) or not (given_hint or family_hint):
        parts = mapping.split_name(first, given_hint, family_hint)
        latin = names[1:]
    else:
        # A name in Latin (or another script) only: the partner's given and family names are
        # the best parts we have, and every line of full_name is a spelling.
        parts = mapping.NameParts(
            given=(given_hint or first.split()[0])[: mapping.NAME_PART_MAX],
            laqab=(family_hint or "")[: mapping.NAME_PART_MAX] or None,
        )
        latin = names
    place = mapping.resolve_place(fields.get("home_state"), fields.get("home_city"))
    locality = [fields.get("home_neighborhood"), *place.leftovers]
    country = fields.get("home_country")
    if country and country != "IQ":
        locality.append(country)
    year, month, day = mapping.birth_parts(fields.get("date_of_birth"))
    age, estimated = mapping.age_of(fields.get("age"))
    sex = fields.get("sex")
    return {
        "given_name": parts.given or "?",
        "father_name": parts.father,
        "grandfather_name": parts.grandfather,
        "great_grandfather_name": parts.great_grandfather,
        "laqab": parts.laqab,
        "name_as_entered": first[: mapping.NAME_AS_ENTERED_MAX] or None,
        "sex": sex if sex in (Sex.MALE, Sex.FEMALE, Sex.OTHER) else Sex.UNKNOWN,
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "age": age,
        "age_estimated": estimated,
        "governorate_pcode": place.governorate_pcode,
        "district_pcode": place.district_pcode,
        "locality": ", ".join(p for p in locality if p)[: mapping.LOCALITY_MAX] or None,
        "circumstances": fields.get("description"),
        "latin_names": [n[: mapping.OTHER_NAME_MAX] for n in latin][: mapping.MAX_OTHER_NAMES],
        "aliases": [
            n[: mapping.OTHER_NAME_MAX] for n in mapping.lines(fields.get("alternate_names"))
        ][: mapping.MAX_OTHER_NAMES],
    }


def _case_details(values: dict) -> casework.CaseDetails:
    return casework.CaseDetails(**{k: values[k] for k in PERSON_CASE_FIELDS})


def _fill_inquiry(inquiry: Inquiry, values: dict) -> None:
    """An inquiry has fewer columns than a case: Latin names, sex and the place as text stay
    in the stored record and show beside it (templates/exchange/_origin.html)."""
    for name in ("given_name", "father_name", "grandfather_name", "great_grandfather_name"):
        setattr(inquiry, name, values[name])
    inquiry.laqab = values["laqab"]
    inquiry.age = values["age"]
    inquiry.birth_year = values["birth_year"]
    inquiry.governorate_pcode = values["governorate_pcode"]
    inquiry.district_pcode = values["district_pcode"]
    inquiry.details = values["circumstances"]


# --- export -------------------------------------------------------------------------------


def _consented() -> object:
    """SQL condition: a family linked to the case consented to sharing with other
    organisations, and no family linked to it withdrew consent or had its data erased."""
    agreed = exists().where(
        Inquiry.case_id == Case.id,
        Inquiry.consent_share.is_(True),
        Inquiry.state != InquiryState.ERASED,
    )
    refused = exists().where(
        Inquiry.case_id == Case.id,
        or_(Inquiry.consent_withdrawn_at.is_not(None), Inquiry.state == InquiryState.ERASED),
    )
    return and_(agreed, ~refused)


def exportable_cases(actor: User | None) -> list[Case]:
    """Cases whose records may leave Athar: consented, not anonymised, and visible to the
    actor (the operator's command line sees every case)."""
    stmt = select(Case).where(Case.anonymised_at.is_(None), _consented()).order_by(Case.id)
    if actor is not None:
        stmt = visible_cases(actor, stmt)
    return list(db.session.scalars(stmt))


def export_pfif(
    actor: User | None, since: datetime | None = None, include_contacts: bool = False
) -> bytes:
    """PFIF 1.4 XML of what may be shared, audited as one export.

    ``actor`` None is the operator (all exportable cases); a user gets only cases they can see.
    ``since`` keeps records entered or changed at or after that time (naive UTC). Contact
    details (the family contact as author, phones and e-mails in partner records) only with
    ``include_contacts``.
    """
    if actor is not None and (not actor.active or not actor.works_cases):
        raise PfifError(_l("Only caseworkers and supervisors can export records."))
    now = utcnow()
    cases = exportable_cases(actor)
    by_case = {case.id: case for case in cases}
    source = current_app.config["PFIF_SOURCE_NAME"]
    persons: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    for case in cases:
        persons.append(_person_record(case, source, include_contacts))
        notes += _case_notes(case, source)
        notes += _status_notes(case, source)
        notes += _link_notes(case, by_case, source)
    emitted = {p["person_record_id"] for p in persons} | {n["note_record_id"] for n in notes}
    for stored in _shareable_records(actor, now):
        record = _partner_record(stored, include_contacts)
        key = "person_record_id" if stored.kind == PERSON else "note_record_id"
        if record[key] in emitted:
            continue  # ours, regenerated from the case: that version is the current one
        (persons if stored.kind == PERSON else notes).append(record)
    if since is not None:
        cutoff = pfif.format_time(since)
        persons = [p for p in persons if p.get("entry_date", "") >= cutoff]
        notes = [n for n in notes if n.get("entry_date", "") >= cutoff]
    data = pfif.serialise(*_nest(persons, notes))
    audit.record("pfif_export", actor=actor, item_count=len(persons) + len(notes))
    db.session.commit()
    return data


def _nest(
    persons: list[dict[str, str]], notes: list[dict[str, str]]
) -> tuple[list[tuple[dict[str, str], list[dict[str, str]]]], list[dict[str, str]]]:
    ids = {p["person_record_id"] for p in persons}
    nested: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
    loose = []
    for note in notes:
        if note.get("person_record_id") in ids:
            nested[note["person_record_id"]].append(note)
        else:
            loose.append(note)
    return [(p, nested[p["person_record_id"]]) for p in persons], loose


def _person_record(case: Case, source: str, include_contacts: bool) -> dict[str, str]:
    full_name = "\n".join([case.arabic_name, *case.latin_names])
    gov = places.governorate(case.governorate_pcode)
    district = places.district(case.district_pcode)
    record = {
        "person_record_id": person_id(case),
        "entry_date": pfif.format_time(case.updated_at),
        "author_name": source,
        "source_name": source,
        "source_date": pfif.format_time(case.updated_at),
        "full_name": full_name,
        "given_name": case.given_name,
        "family_name": case.laqab or "",
        "alternate_names": "\n".join(case.aliases),
        "sex": case.sex if case.sex in (Sex.MALE, Sex.FEMALE, Sex.OTHER) else "",
        "date_of_birth": mapping.date_of_birth(case.birth_year, case.birth_month, case.birth_day)
        or "",
        "age": str(case.age) if case.age is not None else "",
        "home_neighborhood": case.locality or "",
        "home_city": district.name_en if district else "",
        "home_state": gov.name_en if gov else "",
        "home_country": "IQ",
    }
    if include_contacts:
        family = _consenting_inquirer(case)
        if family is not None:
            record["author_name"] = family.inquirer_name
            record["author_phone"] = family.inquirer_phone or ""
    return {k: v for k, v in record.items() if v}


def _consenting_inquirer(case: Case) -> Inquiry | None:
    """The family whose contact may leave with the case: one that agreed to sharing.

    Not the case's first contact: contacts typed by staff and families who never agreed to
    sharing sit on the same case, and their numbers are not ours to give to a partner."""
    return db.session.scalar(
        select(Inquiry)
        .where(
            Inquiry.case_id == case.id,
            Inquiry.consent_share.is_(True),
            Inquiry.consent_withdrawn_at.is_(None),
            Inquiry.state != InquiryState.ERASED,
            Inquiry.inquirer_phone.is_not(None),
        )
        .order_by(Inquiry.created_at, Inquiry.id)
        .limit(1)
    )


def _imported_note_ids(case: Case) -> set[int]:
    return set(
        db.session.scalars(
            select(PfifRecord.case_note_id).where(
                PfifRecord.case_id == case.id, PfifRecord.case_note_id.is_not(None)
            )
        )
    )


def _case_notes(case: Case, source: str) -> list[dict[str, str]]:
    """The notes a caseworker marked shareable (families see them too); never internal ones,
    and not the partner notes an import put on the case (those go back as they came)."""
    imported = _imported_note_ids(case)
    notes = db.session.scalars(
        select(CaseNote)
        .where(CaseNote.case_id == case.id, CaseNote.visibility == NoteVisibility.SHAREABLE)
        .order_by(CaseNote.created_at, CaseNote.id)
    )
    return [
        {
            "note_record_id": f"{own_domain()}/note.{note.id}",
            "person_record_id": person_id(case),
            "entry_date": pfif.format_time(note.created_at),
            "author_name": source,
            "source_date": pfif.format_time(note.created_at),
            "text": note.body,
        }
        for note in notes
        if note.id not in imported
    ]


def pfif_status(change: StatusChange) -> str | None:
    """The PFIF note status of a status change; None when it is not shared (deaths,
    detention's detail, closures that say nothing about the person)."""
    if change.to_status == CaseStatus.CLOSED:
        return STATUS_OF_CLOSURE.get(change.closure_reason or "")
    return STATUS_OF_CASE.get(change.to_status)


def _status_notes(case: Case, source: str) -> list[dict[str, str]]:
    changes = db.session.scalars(
        select(StatusChange)
        .where(StatusChange.case_id == case.id)
        .order_by(StatusChange.created_at, StatusChange.id)
    )
    out = []
    for change in changes:
        status = pfif_status(change)
        if status is None:
            continue
        out.append(
            {
                "note_record_id": f"{own_domain()}/note.status.{change.id}",
                "person_record_id": person_id(case),
                "entry_date": pfif.format_time(change.created_at),
                "author_name": source,
                "source_date": pfif.format_time(change.created_at),
                "status": status,
                "text": STATUS_TEXT[status],
            }
        )
    return out


def _link_notes(case: Case, by_case: dict[int, Case], source: str) -> list[dict[str, str]]:
    """A merged duplicate is linked both ways by a note on each record, as PFIF asks, when
    both cases are exported."""
    pairs: list[tuple[Case, Case]] = []
    if case.duplicate_of_id in by_case:
        pairs.append((case, by_case[case.duplicate_of_id]))
    for other in by_case.values():
        if other.duplicate_of_id == case.id:
            pairs.append((other, case))
    out = []
    for duplicate, kept in pairs:
        other = kept if duplicate.id == case.id else duplicate
        when = db.session.scalar(
            select(MatchDecision.decided_at)
            .where(
                MatchDecision.kind == DecisionKind.SAME,
                MatchDecision.state == DecisionState.APPROVED,
                MatchDecision.duplicate_id == duplicate.id,
            )
            .order_by(MatchDecision.decided_at.desc())
            .limit(1)
        )
        stamp = pfif.format_time(when or duplicate.updated_at)
        out.append(
            {
                "note_record_id": f"{own_domain()}/note.link.{case.reference}.{other.reference}",
                "person_record_id": person_id(case),
                "linked_person_record_id": person_id(other),
                "entry_date": stamp,
                "author_name": source,
                "source_date": stamp,
                "text": LINK_TEXT,
            }
        )
    return out


def _shareable_records(actor: User | None, now: datetime) -> Iterable[PfifRecord]:
    """Partner records we hold and may give back: not expired or purged, and not about a
    person whose data was erased here; for a user, only those on cases they can see."""
    stmt = (
        select(PfifRecord)
        .where(
            PfifRecord.purged_at.is_(None),
            PfifRecord.fields_json.is_not(None),
            or_(PfifRecord.expiry_date.is_(None), PfifRecord.expiry_date > now),
        )
        .order_by(PfifRecord.kind.desc(), PfifRecord.id)  # persons, then notes
    )
    visible: set[int] | None = None
    if actor is not None:
        visible = set(db.session.scalars(visible_cases(actor, select(Case.id))))
    persons: dict[str, PfifRecord] = {}
    for stored in db.session.scalars(stmt):
        person = stored if stored.kind == PERSON else persons.get(stored.person_record_id)
        if person is None:
            person = _stored(PERSON, stored.person_record_id)
        if person is None or not _still_held(person, visible):
            continue
        if stored.kind == PERSON:
            persons[stored.record_id] = stored
        yield stored


def _still_held(person: PfifRecord, visible: set[int] | None) -> bool:
    if person.purged_at is not None:
        return False
    case, inquiry = _where_notes_go(person)
    if case is None and inquiry is None:
        return False
    if visible is None:
        return True
    return case is not None and case.id in visible


def _partner_record(stored: PfifRecord, include_contacts: bool) -> dict[str, str]:
    """The record as the partner sent it, with our entry_date (when it entered Athar, as
    PFIF asks of a repository serving a copy) and without contact details unless asked."""
    record = dict(stored.fields)
    record["entry_date"] = pfif.format_time(stored.last_imported_at)
    if not include_contacts:
        for name in pfif.CONTACT_FIELDS - {"author_name"}:
            record.pop(name, None)
    return record


# --- expiry -------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    records: int = 0
    inquiries: int = 0


def purge_expired(now: datetime | None = None) -> PurgeResult:
    """Remove the fields of stored records whose expiry date has passed, or whose person's
    data was erased here, keeping a tombstone so the record is not taken in again; erase the
    untriaged inquiries they created (through the retention rules, with a destruction
    record). Notes go with their person."""
    now = now or utcnow()
    result = PurgeResult()
    live = select(PfifRecord).where(PfifRecord.purged_at.is_(None))
    expired_persons: set[str] = set()
    for stored in db.session.scalars(live.where(PfifRecord.kind == PERSON)):
        expired = stored.expiry_date is not None and stored.expiry_date <= now
        case, inquiry = _where_notes_go(stored)
        if not expired and (case is not None or inquiry is not None):
            continue
        expired_persons.add(stored.record_id)
        if inquiry is not None and inquiry.state == InquiryState.NEW:
            retention.erase_inquiry(inquiry, reason=retention.RETENTION, rule=PURGE_RULE, now=now)
            result.inquiries += 1
        _tombstone(stored, now)
        result.records += 1
    for stored in db.session.scalars(live.where(PfifRecord.kind == NOTE)):
        expired = stored.expiry_date is not None and stored.expiry_date <= now
        if expired or stored.person_record_id in expired_persons:
            _tombstone(stored, now)
            result.records += 1
    if result.records:
        audit.record("purge", "pfif_record", None, None, item_count=result.records)
    db.session.commit()
    return result


def _tombstone(stored: PfifRecord, now: datetime) -> None:
    stored.fields = None
    stored.purged_at = now


# --- for the case and inquiry pages -------------------------------------------------------


@dataclass
class Origin:
    """Where a case or an inquiry came from, for the small notice on its page."""

    source_name: str
    record_id: str
    fields: dict[str, str]
    notes: list[dict[str, str]]


def origin_of(case: Case | None = None, inquiry: Inquiry | None = None) -> Origin | None:
    """The partner record a case or an inquiry was created from, with its notes."""
    conditions = []
    if case is not None:
        conditions.append(PfifRecord.case_id == case.id)
        conditions.append(PfifRecord.inquiry_id.in_(select(Inquiry.id).filter_by(case_id=case.id)))
    if inquiry is not None:
        conditions.append(PfifRecord.inquiry_id == inquiry.id)
    if not conditions:
        return None
    stored = db.session.scalar(
        select(PfifRecord)
        .where(PfifRecord.kind == PERSON, PfifRecord.purged_at.is_(None), or_(*conditions))
        .order_by(PfifRecord.id)
        .limit(1)
    )
    if stored is None:
        return None
    fields = stored.fields
    notes = [
        n.fields
        for n in db.session.scalars(
            select(PfifRecord)
            .where(
                PfifRecord.kind == NOTE,
                PfifRecord.person_record_id == stored.record_id,
                PfifRecord.purged_at.is_(None),
            )
            .order_by(PfifRecord.source_date, PfifRecord.id)
        )
    ]
    return Origin(fields.get("source_name") or stored.domain, stored.record_id, fields, notes)
