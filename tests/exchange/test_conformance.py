"""Person Finder's own PFIF files import without losing a field, and come back out unchanged.

The expected values are read here with the standard library from the trusted test files and
renamed by hand (1.2 names to 1.4), independently of the parser under test.
"""

from __future__ import annotations

import csv
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from sqlalchemy import func, select

from cases.casework.models import Case, CaseNote
from cases.exchange import pfif
from cases.exchange.models import PfifRecord
from cases.exchange.services import export_pfif, import_pfif
from cases.extensions import db
from cases.inquiries.models import Inquiry, InquiryUpdate

DATA = Path(__file__).parent / "data"
V14 = DATA / "personfinder-test.pfif-1.4.xml"
V12 = DATA / "personfinder-test.pfif-1.2.xml"
CSV_FILE = DATA / "personfinder-sample-import.csv"
# How PFIF 1.2 names map to 1.4 (zesty.ca/pfif/1.4, "changes from 1.3").
RENAMES_1_2 = {
    "first_name": "given_name",
    "last_name": "family_name",
    "found": "author_made_contact",
}


def _expected_from_xml(path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    root = ElementTree.parse(path).getroot()
    ns = root.tag[1:].split("}")[0]
    persons, notes = [], []

    def fields(element: Element) -> dict[str, str]:
        out = {}
        for child in element:
            name = child.tag.split("}")[1]
            value = (child.text or "").strip()
            if name in ("note", "person") or not value:
                continue
            out[RENAMES_1_2.get(name, name)] = value
        return out

    for person in root.findall(f"{{{ns}}}person"):
        record = fields(person)
        if "other" in record:  # "description:\n    text" in 1.2 is 1.4's description
            record["description"] = record.pop("other").removeprefix("description:").strip()
        if "full_name" not in record:
            record["full_name"] = f"{record['given_name']} {record['family_name']}"
        persons.append(record)
        for note in person.findall(f"{{{ns}}}note"):
            note_record = fields(note)
            note_record["person_record_id"] = record["person_record_id"]
            notes.append(note_record)
    return persons, notes


def _stored(kind: str) -> dict[str, dict[str, str]]:
    rows = db.session.scalars(select(PfifRecord).filter_by(kind=kind)).all()
    return {row.record_id: row.fields for row in rows}


def _exported(data: bytes) -> tuple[dict[str, dict], dict[str, dict]]:
    document = pfif.parse(data)
    assert document.invalid == []
    persons = {p["person_record_id"]: p for p in document.persons}
    notes = {n["note_record_id"]: n for n in document.notes}
    return persons, notes


def _without_entry_date(record: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in record.items() if k != "entry_date"}


@pytest.mark.parametrize("path", [V14, V12], ids=["pfif-1.4", "pfif-1.2"])
def test_person_finder_xml_imports_every_field(app, caseworker, path: Path) -> None:
    persons, notes = _expected_from_xml(path)
    summary = import_pfif(caseworker, path.read_bytes())
    assert summary.counts() == {"created": 5, "updated": 0, "skipped": 0}

    stored_persons, stored_notes = _stored("person"), _stored("note")
    for person in persons:
        held = stored_persons[person["person_record_id"]]
        for name, value in person.items():
            assert held[name] == value, name
        assert set(held) == set(person)
    for note in notes:
        held = stored_notes[note["note_record_id"]]
        for name, value in note.items():
            assert held[name] == value, name
        assert set(held) == set(note)

    # Given back field by field; entry_date is the time it entered Athar, as PFIF asks of a
    # repository serving a copy.
    out_persons, out_notes = _exported(export_pfif(None, include_contacts=True))
    for person in persons:
        exported = out_persons[person["person_record_id"]]
        assert _without_entry_date(exported) == _without_entry_date(person)
        assert exported["entry_date"] != person["entry_date"]
    for note in notes:
        assert _without_entry_date(out_notes[note["note_record_id"]]) == _without_entry_date(note)


def test_person_finder_1_4_person_shows_on_the_inquiry(app, client, auth, caseworker) -> None:
    summary = import_pfif(caseworker, V14.read_bytes())
    inquiry = db.session.scalar(select(Inquiry))
    assert summary.outcomes[0].target == inquiry.reference
    assert inquiry.channel == "pfif"
    assert inquiry.consent_search is True and inquiry.consent_share is False
    assert inquiry.given_name == "_test_given_name"
    assert inquiry.laqab == "_test_family_name"
    assert inquiry.age == 40  # "35-45", as its middle
    assert inquiry.details == "_test_description"
    assert inquiry.governorate_pcode is None  # "_test_home_state" is no Iraqi governorate
    assert db.session.scalar(select(func.count(InquiryUpdate.id))) == 4

    auth.login(caseworker)
    page = client.get(f"/intake/{inquiry.id}").get_data(as_text=True)
    assert "From partner registry _test_source_name, record test.google.com/person.21009" in page
    assert "_test_full_name2" in page
    assert "test.google.com/person.999" in page  # the partner's duplicate link
    assert "_test_author_phone" not in page and "_test_author_email" not in page


def test_person_finder_1_2_person_into_cases(app, client, auth, caseworker) -> None:
    summary = import_pfif(caseworker, V12.read_bytes(), into="cases")
    case = db.session.scalar(select(Case))
    assert summary.outcomes[0].target == case.reference
    assert case.owner_id == caseworker.id
    assert case.given_name == "_test_first_name"
    assert case.laqab == "_test_last_name"
    assert case.sex == "female"
    assert (case.birth_year, case.birth_month, case.birth_day) == (1970, 1, None)
    assert case.circumstances == "_test_description"
    assert case.latin_names == ["_test_first_name _test_last_name"]
    assert case.locality == "_test_home_neighborhood, _test_home_city, _test_home_state, US"
    bodies = db.session.scalars(select(CaseNote.body).order_by(CaseNote.id)).all()
    assert bodies == ["_test_text", "new comment - testing", "change only the status",
                      "backdated change"]  # fmt: skip

    auth.login(caseworker)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "From partner registry _test_source_name" in page
    assert "_test_first_name" in page


def test_person_finder_csv_imports_person_and_note(app, caseworker) -> None:
    with CSV_FILE.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, row = rows[0], rows[1]
    # The sample's header lacks home_street, which its row still has (an empty cell): read in
    # Person Finder's template order, every value lands in its column.
    columns = [*header[:15], "home_street", *header[15:]]
    values = {name: value for name, value in zip(columns, row, strict=True) if value}

    summary = import_pfif(caseworker, CSV_FILE.read_bytes(), domain="partner.example")
    assert summary.restored_columns == ["home_street"]
    assert summary.counts() == {"created": 2, "updated": 0, "skipped": 0}
    person = _stored("person")["partner.example/1"]
    note = _stored("note")["partner.example/1"]
    for name in ("author_name", "source_name", "source_date", "full_name", "description", "sex"):
        assert person[name] == values[name]
    assert note["text"] == values["text"] == "He is missing"
    assert note["status"] == values["status"] == "believed_missing"
    assert note["author_made_contact"] == values["author_made_contact"].lower() == "false"
    assert note["author_name"] == values["author_name"]  # shared columns
    assert note["person_record_id"] == "partner.example/1"

    out_persons, out_notes = _exported(export_pfif(None, include_contacts=True))
    assert _without_entry_date(out_persons["partner.example/1"]) == person
    assert _without_entry_date(out_notes["partner.example/1"]) == note


def test_contacts_in_partner_records_leave_only_with_the_option(app, caseworker) -> None:
    import_pfif(caseworker, V14.read_bytes())
    plain = export_pfif(None).decode()
    assert "_test_author_phone" not in plain
    assert "_test_author_email" not in plain
    assert "_test_phone_of_found_person" not in plain
    assert "_test_author_name" in plain  # a name, not a way to reach someone
    assert "_test_author_phone" in export_pfif(None, include_contacts=True).decode()
