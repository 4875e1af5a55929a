"""PFIF parsing and writing (cases.exchange.pfif): versions, renames, CSV, hostile XML."""

from __future__ import annotations

from pathlib import Path

import pytest
from defusedxml import ElementTree

from cases.exchange import pfif

DATA = Path(__file__).parent / "data"
NS = {"pfif": pfif.NAMESPACE}


def _xml(body: str, version: str = "1.4") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/{version}">{body}</pfif:pfif>'
    ).encode()


PERSON = (
    "<pfif:person><pfif:person_record_id>example.org/p1</pfif:person_record_id>"
    "<pfif:source_date>2024-05-01T10:00:00Z</pfif:source_date>"
    "<pfif:full_name>Ali Hassan</pfif:full_name></pfif:person>"
)


def test_reads_each_version_namespace() -> None:
    for version in ("1.1", "1.2", "1.3", "1.4"):
        document = pfif.parse(_xml(PERSON, version))
        assert document.version == version
        assert document.persons[0]["full_name"] == "Ali Hassan"


def test_old_field_names_become_1_4_names() -> None:
    body = (
        "<pfif:person><pfif:person_record_id>example.org/p1</pfif:person_record_id>"
        "<pfif:first_name>Ali</pfif:first_name><pfif:last_name>Hassan</pfif:last_name>"
        "<pfif:home_zip>10001</pfif:home_zip>"
        "<pfif:other>description:\n    tall, scar on the left hand\n</pfif:other>"
        "<pfif:note><pfif:note_record_id>example.org/n1</pfif:note_record_id>"
        "<pfif:found>TRUE</pfif:found><pfif:text>seen</pfif:text></pfif:note>"
        "</pfif:person>"
    )
    document = pfif.parse(_xml(body, "1.1"))
    person = document.persons[0]
    assert person["given_name"] == "Ali"
    assert person["family_name"] == "Hassan"
    assert person["full_name"] == "Ali Hassan"  # mandatory in 1.4: joined as Person Finder does
    assert person["home_postal_code"] == "10001"
    assert person["description"] == "tall, scar on the left hand"
    assert "first_name" not in person and "other" not in person
    note = document.notes[0]
    assert note["author_made_contact"] == "true"
    assert note["person_record_id"] == "example.org/p1"  # a nested note belongs to its person


def test_other_with_other_labels_is_kept_whole_as_description() -> None:
    body = (
        "<pfif:person><pfif:person_record_id>example.org/p1</pfif:person_record_id>"
        "<pfif:first_name>Ali</pfif:first_name>"
        "<pfif:other>height: 180\ndescription: tall</pfif:other></pfif:person>"
    )
    person = pfif.parse(_xml(body, "1.2")).persons[0]
    assert person["description"] == "height: 180\ndescription: tall"


def test_values_are_stripped_and_empty_fields_dropped() -> None:
    body = (
        "<pfif:person><pfif:person_record_id> example.org/p1 </pfif:person_record_id>"
        "<pfif:full_name>\n  Ali  \n</pfif:full_name><pfif:home_city>   </pfif:home_city>"
        "<pfif:sex>MALE</pfif:sex><pfif:home_country>iq</pfif:home_country></pfif:person>"
    )
    person = pfif.parse(_xml(body)).persons[0]
    assert person == {
        "person_record_id": "example.org/p1",
        "full_name": "Ali",
        "sex": "male",
        "home_country": "IQ",
    }


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("sex", "unknown", "bad_sex"),
        ("date_of_birth", "1990-13", "bad_date_of_birth"),
        ("age", "40-30", "bad_age"),
        ("source_date", "yesterday", "bad_time"),
        ("person_record_id", "no-domain", "bad_id"),
    ],
)
def test_a_bad_record_is_listed_and_the_others_read(field: str, value: str, code: str) -> None:
    bad = (
        f"<pfif:person><pfif:person_record_id>example.org/bad</pfif:person_record_id>"
        f"<pfif:full_name>X</pfif:full_name><pfif:{field}>{value}</pfif:{field}></pfif:person>"
    )
    document = pfif.parse(_xml(bad + PERSON))
    assert [p["person_record_id"] for p in document.persons] == ["example.org/p1"]
    assert document.invalid[0][1:] == ("person", code)


def test_top_level_notes_keep_their_person() -> None:
    note = (
        "<pfif:note><pfif:note_record_id>example.org/n1</pfif:note_record_id>"
        "<pfif:person_record_id>other.org/p9</pfif:person_record_id>"
        "<pfif:status>believed_alive</pfif:status></pfif:note>"
    )
    document = pfif.parse(_xml(PERSON + note))
    assert document.notes == [
        {
            "note_record_id": "example.org/n1",
            "person_record_id": "other.org/p9",
            "status": "believed_alive",
        }
    ]


# --- hostile and malformed input ------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>
<pfif:person_record_id>evil.org/1</pfif:person_record_id>
<pfif:full_name>&lol4;</pfif:full_name></pfif:person></pfif:pfif>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE pfif [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"><pfif:person>
<pfif:person_record_id>evil.org/1</pfif:person_record_id>
<pfif:full_name>&xxe;</pfif:full_name></pfif:person></pfif:pfif>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE pfif SYSTEM "http://evil.example/pfif.dtd">
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"></pfif:pfif>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE pfif [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd"> %remote;]>
<pfif:pfif xmlns:pfif="http://zesty.ca/pfif/1.4"></pfif:pfif>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY])
def test_dtds_and_entities_are_refused_unexpanded(app, data: bytes) -> None:
    with pytest.raises(pfif.PfifFormatError) as refused:
        pfif.parse(data)
    assert "DTD" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"<pfif:pfif xmlns:pfif='http://zesty.ca/pfif/1.4'><unclosed>", "well-formed"),
        (_xml(PERSON).replace(b"zesty.ca/pfif/1.4", b"example.org/other"), "not PFIF"),
        (_xml(PERSON).replace(b"zesty.ca/pfif/1.4", b"zesty.ca/pfif/2.0"), "not PFIF"),
        (b"name,age\nAli,30\n", "person_record_id"),
        (b"\xff\xfe\x00binary", "UTF-8"),
    ],
)
def test_malformed_files_are_refused_with_a_message(app, data: bytes, words: str) -> None:
    with pytest.raises(pfif.PfifFormatError) as refused:
        pfif.parse(data)
    assert words in str(refused.value)


def test_size_and_record_count_are_capped(app, monkeypatch) -> None:
    with pytest.raises(pfif.PfifFormatError, match="larger than"):
        pfif.parse(b"<" + b" " * pfif.MAX_BYTES)
    monkeypatch.setattr(pfif, "MAX_RECORDS", 2)
    with pytest.raises(pfif.PfifFormatError, match="more than 2 records"):
        pfif.parse(_xml(PERSON * 3))


# --- CSV --------------------------------------------------------------------------------------


def test_person_finder_csv_completes_ids_and_splits_person_and_note(app) -> None:
    data = (
        b"time_zone_offset\n3\n"
        b"person_record_id,full_name,source_date,note_record_id,text,found\n"
        b"p1,Ali Hassan,2024-05-01 13:00,n1,seen in Erbil,TRUE\n"
    )
    document = pfif.parse(data, domain="partner.org")
    assert document.persons == [
        {
            "person_record_id": "partner.org/p1",
            "source_date": "2024-05-01T10:00:00Z",  # local time minus the offset
            "full_name": "Ali Hassan",
        }
    ]
    assert document.notes[0]["note_record_id"] == "partner.org/n1"
    assert document.notes[0]["author_made_contact"] == "true"


def test_csv_ids_without_domain_need_one(app) -> None:
    with pytest.raises(pfif.PfifFormatError, match="domain"):
        pfif.parse(b"person_record_id,full_name\n1,Ali\n")


def test_a_csv_row_longer_than_the_header_is_refused_unless_template_order_explains_it(
    app,
) -> None:
    document = pfif.parse(b"person_record_id,full_name\n1,Ali,extra\n", domain="x.org")
    assert document.persons == []
    assert document.invalid == [("", "row", "columns")]


# --- writing ----------------------------------------------------------------------------------


def test_serialise_writes_1_4_in_spec_order_and_reads_back() -> None:
    person = {
        "full_name": "علي حسن\nAli Hassan",
        "person_record_id": "example.org/p1",
        "source_date": "2024-05-01T10:00:00Z",
        "description": "a < b & c",
    }
    note = {"note_record_id": "example.org/n1", "person_record_id": "example.org/p1", "text": "x"}
    data = pfif.serialise([(person, [note])])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(data)
    assert root.tag == "{http://zesty.ca/pfif/1.4}pfif"
    fields = [child.tag.split("}")[1] for child in root.find("pfif:person", NS)]
    assert fields == ["person_record_id", "source_date", "full_name", "description", "note"]
    document = pfif.parse(data)
    assert document.persons == [person]
    assert document.notes == [note]


def test_times_are_utc_with_z() -> None:
    from datetime import datetime

    assert pfif.format_time(datetime(2024, 5, 1, 10, 0, 0, 12345)) == "2024-05-01T10:00:00Z"
    assert pfif.parse_time("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, 0, 0)
    assert pfif.parse_time("2024-05-01") is None
