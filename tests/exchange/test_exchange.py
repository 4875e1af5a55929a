"""Export rules, the round trip, idempotency, updates, expiry (cases.exchange.services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cases import places
from cases.audit.models import AuditEvent
from cases.auth.models import Role
from cases.casework import services as casework
from cases.casework.models import Case, CaseNote, NoteVisibility
from cases.clock import utcnow
from cases.exchange import pfif
from cases.exchange.models import PfifRecord
from cases.exchange.services import PfifError, export_pfif, import_pfif, purge_expired
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Inquiry, InquiryState
from cases.matching import decisions
from tests.conftest import _empty_tables
from tests.factories import make_case, make_user
from tests.inquiries.factories import make_inquiry

DOMAIN = "athar.test"


def _shared_case(owner, **details):  # noqa: ANN001, ANN003, ANN202
    """A case whose family consented to sharing with other organisations."""
    case = make_case(owner, **details)
    inquiry, _ = make_inquiry(consent_share=True)
    inquiries.attach_to_case(owner, inquiry, case)
    return case


def _records(data: bytes) -> tuple[dict[str, dict], dict[str, dict]]:
    document = pfif.parse(data)
    assert document.invalid == []
    return (
        {p["person_record_id"]: p for p in document.persons},
        {n["note_record_id"]: n for n in document.notes},
    )


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (PfifRecord, Case, CaseNote, Inquiry)
    )


def _partner_xml(source_date: str = "2024-05-01T10:00:00Z", **extra: str) -> bytes:
    fields = {
        "person_record_id": "partner.org/person.1",
        "source_date": source_date,
        "full_name": "حسين علي كاظم الساعدي\nHussein Ali Kadhim",
        "given_name": "حسين",
        "family_name": "الساعدي",
        "alternate_names": "أبو علي",
        "sex": "male",
        "age": "27",
        "home_state": "Babylon",
        "home_city": "المسيب",
        "home_country": "IQ",
        **extra,
    }
    note = {
        "note_record_id": "partner.org/note.1",
        "author_name": "Partner volunteer",
        "source_date": source_date,
        "status": "believed_missing",
        "text": "Last seen at the airport.",
    }
    return pfif.serialise([(fields, [note])])


# --- export rules -------------------------------------------------------------------------


def test_export_writes_the_case_as_a_person(app, caseworker) -> None:
    case = _shared_case(
        caseworker,
        given_name="عبد الله",
        latin_names=["Abdullah Imad Jabbar", "Abdallah Emad"],
        aliases=["أبو حسن"],
        birth_year=1999,
        birth_month=3,
        locality="حي الجمهورية",
    )
    persons, _ = _records(export_pfif(None))
    person = persons[f"{DOMAIN}/person.{case.reference}"]
    assert person["full_name"] == (
        "عبد الله عماد جبار كاظم الجنابي\nAbdullah Imad Jabbar\nAbdallah Emad"
    )
    assert person["given_name"] == "عبد الله"
    assert person["family_name"] == "الجنابي"
    assert person["alternate_names"] == "أبو حسن"
    assert person["sex"] == "male"
    assert person["date_of_birth"] == "1999-03"
    assert person["age"] == "24"
    assert person["home_state"] == "Babil"
    assert person["home_city"] == places.district("IQG07Q04").name_en
    assert person["home_country"] == "IQ"
    assert person["home_neighborhood"] == "حي الجمهورية"
    assert person["source_name"] == "Athar test"
    assert "author_phone" not in person
    assert "description" not in person  # internal free text stays inside


def test_only_consented_cases_are_exported(app, caseworker) -> None:
    shared = _shared_case(caseworker)
    silent = make_case(caseworker, given_name="زيد")  # no family consented
    withdrawn = _shared_case(caseworker, given_name="كريم")
    family, _ = make_inquiry(consent_share=True)
    inquiries.attach_to_case(caseworker, family, withdrawn)
    inquiries.request_about_data(family, "withdraw_consent")  # one of two families withdrew
    persons, _ = _records(export_pfif(None))
    assert set(persons) == {f"{DOMAIN}/person.{shared.reference}"}
    assert silent.reference not in str(persons)


def test_a_caseworker_exports_only_cases_they_can_see(app, caseworker, other_caseworker) -> None:
    mine = _shared_case(caseworker)
    theirs = _shared_case(other_caseworker, given_name="زيد")
    persons, _ = _records(export_pfif(caseworker))
    assert set(persons) == {f"{DOMAIN}/person.{mine.reference}"}
    persons, _ = _records(export_pfif(None))
    assert f"{DOMAIN}/person.{theirs.reference}" in persons


def test_contacts_only_with_the_option(app, caseworker) -> None:
    case = _shared_case(caseworker)
    persons, _ = _records(export_pfif(None, include_contacts=True))
    person = persons[f"{DOMAIN}/person.{case.reference}"]
    assert person["author_phone"] == "+9647801234567"
    assert person["author_name"] == "زينب كاظم"
    assert "+9647801234567" not in export_pfif(None).decode()


def test_notes_statuses_and_duplicate_links(app, caseworker, supervisor, second_supervisor) -> None:
    case = _shared_case(caseworker)
    casework.add_note(caseworker, case, "Seen in Moscow in May.", visibility="shareable")
    casework.add_note(caseworker, case, "Internal: call the brother.", visibility="internal")
    casework.change_status(caseworker, case, "open", "search starts")
    casework.change_status(caseworker, case, "located_alive", "he called")
    duplicate = _shared_case(caseworker, given_name="محمّد")
    decision = decisions.propose_same(supervisor, duplicate, case, "same man")
    decisions.decide_same(second_supervisor, decision, True, None)

    _, notes = _records(export_pfif(None))
    texts = [n.get("text") for n in notes.values()]
    assert "Seen in Moscow in May." in texts
    assert not any("Internal" in (t or "") for t in texts)
    assert not any("he called" in (t or "") or "search starts" in (t or "") for t in texts)
    statuses = [n["status"] for n in notes.values() if n.get("status")]
    assert statuses.count("believed_alive") == 1
    assert "information_sought" in statuses
    mine, other = f"{DOMAIN}/person.{case.reference}", f"{DOMAIN}/person.{duplicate.reference}"
    links = {(n["person_record_id"], n["linked_person_record_id"]) for n in notes.values()
             if n.get("linked_person_record_id")}  # fmt: skip
    assert links == {(mine, other), (other, mine)}


def test_deaths_are_not_published(app, caseworker, supervisor) -> None:
    case = _shared_case(caseworker)
    casework.change_status(caseworker, case, "open", "search starts")
    request = casework.change_status(caseworker, case, "located_deceased", "reported")
    casework.decide_approval(supervisor, request, True, "")
    assert case.status == "located_deceased"
    _, notes = _records(export_pfif(None))
    assert "believed_dead" not in {n.get("status") for n in notes.values()}


def test_anonymised_cases_are_never_exported(app, caseworker, supervisor) -> None:
    from cases.retention import services as retention

    case = _shared_case(caseworker)
    retention.anonymise_case(case, reason="retention", actor=supervisor)
    db.session.commit()
    persons, _ = _records(export_pfif(None))
    assert persons == {}


def test_since_keeps_recent_records(app, caseworker) -> None:
    case = _shared_case(caseworker)
    later = utcnow() + timedelta(hours=1)
    assert _records(export_pfif(None, since=later)) == ({}, {})
    persons, _ = _records(export_pfif(None, since=case.updated_at - timedelta(seconds=1)))
    assert list(persons) == [f"{DOMAIN}/person.{case.reference}"]


def test_exports_and_imports_are_audited(app, caseworker) -> None:
    _shared_case(caseworker)
    export_pfif(caseworker)
    import_pfif(caseworker, _partner_xml())
    events = {
        e.action: e.item_count
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["pfif_export", "pfif_import"]))
        )
    }
    assert events["pfif_export"] >= 1
    assert events["pfif_import"] == 2


# --- round trip ---------------------------------------------------------------------------

COMPARED = (
    "given_name",
    "father_name",
    "grandfather_name",
    "great_grandfather_name",
    "laqab",
    "sex",
    "birth_year",
    "birth_month",
    "birth_day",
    "age",
    "governorate_pcode",
    "district_pcode",
    "locality",
)


def _snapshot(case: Case) -> dict:
    return {
        **{name: getattr(case, name) for name in COMPARED},
        "latin_names": case.latin_names,
        "aliases": case.aliases,
    }


def _note_texts(case: Case) -> list[str]:
    return sorted(
        db.session.scalars(select(CaseNote.body).where(CaseNote.case_id == case.id)).all()
    )


def test_export_import_round_trip_gives_back_the_same_records(
    app, caseworker, supervisor, second_supervisor
) -> None:
    first = _shared_case(
        caseworker,
        given_name="عبد الله",
        latin_names=["Abdullah Imad Jabbar"],
        aliases=["أبو حسن", "Abu Hassan"],
        birth_year=1999,
        birth_month=3,
        birth_day=7,
        locality="حي الجمهورية",
    )
    casework.add_note(caseworker, first, "Seen in Moscow in May.", visibility="shareable")
    casework.change_status(caseworker, first, "open", "search starts")
    second = _shared_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        great_grandfather_name=None,
        laqab=None,
        sex="unknown",
        governorate_pcode="IQG12",
        district_pcode=None,
        latin_names=[],
    )
    third = _shared_case(caseworker, given_name="محمّد", latin_names=["Mohammed"])
    decision = decisions.propose_same(supervisor, third, first, "same man")
    decisions.decide_same(second_supervisor, decision, True, None)
    exported = export_pfif(None)
    before = {c.reference: _snapshot(c) for c in (first, second, third)}

    db.session.close()  # end this transaction: PostgreSQL's TRUNCATE would wait for it
    _empty_tables()
    importer = make_user("noor", Role.CASEWORKER, "Noor")
    summary = import_pfif(importer, exported, into="cases", own_records=True)
    assert summary.counts()["skipped"] == 0

    restored = {c.reference: c for c in db.session.scalars(select(Case))}
    assert set(restored) == set(before)  # our references come back with our records
    first_persons, first_notes = _records(exported)
    for reference, snapshot in before.items():
        assert _snapshot(restored[reference]) == snapshot, reference
        # Every note shared about him is on the case again, the shareable note, the status
        # change (as its neutral sentence) and the duplicate link among them.
        shared = [n["text"] for n in first_notes.values()
                  if n["person_record_id"] == f"{DOMAIN}/person.{reference}"]  # fmt: skip
        assert _note_texts(restored[reference]) == sorted(shared)
    assert "Seen in Moscow in May." in _note_texts(restored[first.reference])

    again_persons, again_notes = _records(export_pfif(None))
    assert set(again_persons) == set(first_persons)
    assert set(again_notes) == set(first_notes)
    for key, record in first_persons.items():
        assert {**again_persons[key], "entry_date": ""} == {**record, "entry_date": ""}
    for key, record in first_notes.items():
        assert {**again_notes[key], "entry_date": ""} == {**record, "entry_date": ""}


# --- idempotency and updates ----------------------------------------------------------------


def test_importing_twice_changes_nothing(app, caseworker) -> None:
    first = import_pfif(caseworker, _partner_xml())
    assert first.counts() == {"created": 2, "updated": 0, "skipped": 0}
    rows = _counts()
    second = import_pfif(caseworker, _partner_xml())
    assert second.counts() == {"created": 0, "updated": 0, "skipped": 2}
    assert {o.reason for o in second.outcomes} == {"unchanged"}
    assert _counts() == rows


def test_partner_person_lands_on_the_right_names_and_places(app, caseworker) -> None:
    import_pfif(caseworker, _partner_xml(), into="cases")
    case = db.session.scalar(select(Case))
    assert (case.given_name, case.father_name, case.grandfather_name, case.laqab) == (
        "حسين",
        "علي",
        "كاظم",
        "الساعدي",
    )
    assert case.latin_names == ["Hussein Ali Kadhim"]
    assert case.aliases == ["أبو علي"]
    assert (case.governorate_pcode, case.district_pcode) == ("IQG07", "IQG07Q04")
    assert case.age == 27 and case.age_estimated is False
    note = db.session.scalar(select(CaseNote))
    assert note.body == "Last seen at the airport."
    assert note.visibility == NoteVisibility.INTERNAL


def test_a_newer_version_updates_an_untouched_case(app, caseworker) -> None:
    import_pfif(caseworker, _partner_xml(), into="cases")
    summary = import_pfif(caseworker, _partner_xml("2024-06-01T10:00:00Z", age="28"), into="cases")
    assert [(o.kind, o.action, o.reason) for o in summary.outcomes] == [
        ("person", "updated", "newer"),
        ("note", "updated", "newer"),
    ]
    case = db.session.scalar(select(Case))
    assert case.age == 28
    notes = db.session.scalars(select(CaseNote).order_by(CaseNote.id)).all()
    assert len(notes) == 2 and notes[1].corrects_id == notes[0].id  # appended, never edited
    stored = db.session.scalar(select(PfifRecord).filter_by(kind="person"))
    assert stored.fields["age"] == "28"


def test_a_newer_version_keeps_what_staff_edited(app, caseworker) -> None:
    import_pfif(caseworker, _partner_xml(), into="cases")
    case = db.session.scalar(select(Case))
    details = casework.details_of(case)
    details.age = 30
    casework.update_case(caseworker, case, details)
    summary = import_pfif(caseworker, _partner_xml("2024-06-01T10:00:00Z", age="28"), into="cases")
    assert summary.outcomes[0].reason == "kept_staff_edits"
    assert db.session.get(Case, case.id).age == 30


def test_an_older_version_is_skipped(app, caseworker) -> None:
    import_pfif(caseworker, _partner_xml("2024-06-01T10:00:00Z"))
    summary = import_pfif(caseworker, _partner_xml("2024-01-01T10:00:00Z", age="99"))
    assert {o.reason for o in summary.outcomes} == {"older"}


def test_records_in_our_name_come_only_from_the_operator(app, caseworker) -> None:
    reference = _shared_case(caseworker).reference
    data = export_pfif(None)
    db.session.close()
    _empty_tables()
    importer = make_user("noor", Role.CASEWORKER, "Noor")
    # Through the API a partner could publish in our name: refused, nothing written.
    summary = import_pfif(importer, data, into="cases")
    assert {(o.action, o.reason) for o in summary.outcomes} == {("skipped", "own_record")}
    assert db.session.scalar(select(Case.id)) is None
    # The operator restoring an export (`flask pfif import`) takes them in.
    restored = import_pfif(importer, data, into="cases", own_records=True)
    assert {o.action for o in restored.outcomes} == {"created"}
    assert db.session.scalar(select(Case.reference)) == reference


def test_our_own_records_are_not_edited_by_others(app, caseworker) -> None:
    case = _shared_case(caseworker)
    data = export_pfif(None)
    # Known here as a case: its record is new to the table.
    import_pfif(caseworker, data, own_records=True)
    changed = data.replace(b"<pfif:age>24</pfif:age>", b"<pfif:age>50</pfif:age>").replace(
        pfif.format_time(case.updated_at).encode(), b"2099-01-01T00:00:00Z"
    )
    summary = import_pfif(caseworker, changed)
    person = next(o for o in summary.outcomes if o.kind == "person")
    assert (person.action, person.reason) == ("skipped", "own_record")


# --- expiry -------------------------------------------------------------------------------


def test_expired_records_are_skipped(app, caseworker) -> None:
    summary = import_pfif(caseworker, _partner_xml(expiry_date="2001-01-01T00:00:00Z"))
    assert [(o.kind, o.reason) for o in summary.outcomes] == [
        ("person", "expired"),
        ("note", "no_person"),
    ]
    assert _counts() == (0, 0, 0, 0)


def test_purge_expired_erases_and_remembers(app, caseworker) -> None:
    soon = pfif.format_time(utcnow() + timedelta(days=1))
    import_pfif(caseworker, _partner_xml(expiry_date=soon))
    inquiry = db.session.scalar(select(Inquiry))
    assert purge_expired().records == 0
    result = purge_expired(utcnow() + timedelta(days=2))
    assert (result.records, result.inquiries) == (2, 1)
    assert db.session.get(Inquiry, inquiry.id).state == InquiryState.ERASED
    assert all(r.fields_json is None for r in db.session.scalars(select(PfifRecord)))
    assert b"partner.org" not in export_pfif(None)
    summary = import_pfif(caseworker, _partner_xml(expiry_date=soon))
    assert {o.reason for o in summary.outcomes} == {"expired"}


def test_erased_families_are_not_exported_or_taken_back(app, caseworker, supervisor) -> None:
    from cases.retention import services as retention

    import_pfif(caseworker, _partner_xml())
    retention.erase_inquiry(db.session.scalar(select(Inquiry)), reason="retention")
    db.session.commit()
    assert b"partner.org" not in export_pfif(None)
    summary = import_pfif(caseworker, _partner_xml("2025-01-01T00:00:00Z"))
    assert {o.reason for o in summary.outcomes} == {"erased"}
    assert purge_expired().records == 2


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"not xml at all",
    ],
)
def test_refused_files_write_nothing(app, caseworker, data: bytes) -> None:
    with pytest.raises(PfifError):
        import_pfif(caseworker, data)
    assert _counts() == (0, 0, 0, 0)
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "pfif_import")
        )
        == 0
    )


def test_who_may_import(app, caseworker, other_caseworker, admin) -> None:
    with pytest.raises(PfifError):
        import_pfif(admin, _partner_xml())
    with pytest.raises(PfifError):
        import_pfif(caseworker, _partner_xml(), into="cases", owner=other_caseworker)
    with pytest.raises(PfifError):
        import_pfif(caseworker, _partner_xml(), into="elsewhere")
    with pytest.raises(PfifError):
        export_pfif(admin)
