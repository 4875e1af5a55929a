"""The fast paths of the import: the dry run's rows kept for the import, and the XLSX reader's
DTD guard in front of ElementTree's C parser."""

from __future__ import annotations

import gc
import io
import json
import zipfile
import zlib
from datetime import date, timedelta

import pytest
from defusedxml import DTDForbidden
from openpyxl import Workbook
from sqlalchemy import func, select

from cases import crypto
from cases.casework.models import Case
from cases.extensions import db
from cases.imports import reading, services, stored
from cases.imports.models import BatchState
from cases.imports.writer import new_references
from tests.factories import make_case
from tests.imports.test_imports import AR_HEADER, GOOD, csv_bytes

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
).replace("&lol0;", "&lol;")
SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def evil_sheet(prolog: str, body: str) -> bytes:
    return (
        f"{prolog}<worksheet {SHEET_NS}><sheetData>"
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{body}</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()


@pytest.mark.parametrize(
    ("prolog", "body"),
    [
        (BILLION_LAUGHS, "&lol9;"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        ('<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">', "x"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/">%p;]>', "x"),
        ('<?xml version="1.0"?>', "&undeclared;"),
    ],
)
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_xlsx_with_a_dtd_or_entities_is_refused(supervisor, prolog, body, part) -> None:
    data = xlsx_bytes([["Name"], ["علي"]])
    if part == "xl/sharedStrings.xml":
        strings = f"{prolog}<sst {SHEET_NS}><si><t>{body}</t></si></sst>".encode()
        data = replace_part(data, part, strings)
    else:
        data = replace_part(data, part, evil_sheet(prolog, body))
    with pytest.raises(services.ImportRuleError, match="damaged"):
        services.upload(supervisor, data, "evil.xlsx")


def test_refuse_dtd_stops_before_the_internal_subset() -> None:
    data = replace_part(xlsx_bytes([["a"]]), "x.xml", evil_sheet(BILLION_LAUGHS, "&lol9;"))
    archive = zipfile.ZipFile(io.BytesIO(data))
    with pytest.raises(DTDForbidden):
        reading._refuse_dtd(archive, "x.xml")


def test_xlsx_with_shared_strings_rich_text_and_rows_reads_as_before() -> None:
    data = xlsx_bytes([["Name", "Phone"], ["علي", 7701234567], [None, None], ["حسن", "x"]])
    strings = (
        f'<?xml version="1.0"?><sst {SHEET_NS}><si><r><t>Na</t></r><r><t>me</t></r>'
        "<rPh><t>ignored</t></rPh></si><si><t>علي &amp; حسن</t></si></sst>"
    ).encode()
    sheet = (
        f'<?xml version="1.0"?><worksheet {SHEET_NS}><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Phone</t></is></c>'
        '</row><row r="3"><c r="A3" t="s"><v>1</v></c><c r="C3"><v>7701234567</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    data = replace_part(
        replace_part(data, "xl/sharedStrings.xml", strings), "xl/worksheets/sheet1.xml", sheet
    )
    opened = reading.open_sheet(data)
    assert opened.header == ["Name", "Phone"]
    assert list(opened.rows) == [(3, ["علي & حسن", None, 7701234567])]


def dry_run(supervisor, rows: list[list[str]]):  # noqa: ANN001, ANN201
    batch = services.upload(supervisor, csv_bytes([AR_HEADER, *rows]), "list.csv")
    columns = services.mapping_of(batch)["columns"]
    return batch, services.check(supervisor, batch, columns, supervisor.id)


def test_import_takes_the_checked_rows_without_reading_the_file(supervisor) -> None:
    batch, report = dry_run(supervisor, [GOOD])
    assert batch.checked_rows is not None
    assert "علي".encode() not in batch.checked_rows  # encrypted
    # The file is not read again: a file swapped after the dry run changes nothing.
    batch.content = crypto.encrypt_bytes(b"not a spreadsheet at all \x00")
    db.session.commit()
    assert services.import_valid_rows(supervisor, batch, report.valid) == 1
    case = db.session.scalar(select(Case))
    assert case.given_name == "علي" and case.laqab == "الجنابي" and case.import_row == 2
    db.session.refresh(batch)
    assert batch.state == BatchState.IMPORTED
    assert batch.content is None and batch.checked_rows is None


def test_case_recorded_after_the_dry_run_is_flagged_at_import(supervisor, caseworker) -> None:
    header = ["الاسم", "اسم الأب", "اسم الجد", "هاتف المبلغ", "اسم المبلغ"]
    row = ["كرار", "علي", "حسين", "0770 123 4567", "أم كرار"]
    batch = services.upload(supervisor, csv_bytes([header, row]), "list.csv")
    columns = services.mapping_of(batch)["columns"]
    assert services.check(supervisor, batch, columns, supervisor.id).flags == []
    existing = make_case(caseworker)  # the mother's phone is +9647701234567
    assert services.import_valid_rows(supervisor, batch, 1) == 1
    report = services.load_report(batch)
    assert [(r, reasons, case_id) for r, reasons, _o, case_id, _ref in report.flags] == [
        (2, ["phone"], existing.id)
    ]


def test_the_count_confirmed_must_still_hold(supervisor) -> None:
    batch, report = dry_run(supervisor, [GOOD, GOOD])
    assert report.valid == 2
    with pytest.raises(services.ImportRuleError, match="checks differently"):
        services.import_valid_rows(supervisor, batch, 3)
    assert gc.isenabled()  # the collector paused for the bulk work is back on after a refusal
    assert db.session.scalar(select(func.count(Case.id))) == 0
    assert services.import_valid_rows(supervisor, batch, 2) == 2


def test_a_dry_run_of_another_day_reads_the_file_again(supervisor) -> None:
    batch, _report = dry_run(supervisor, [GOOD])
    columns = services.mapping_of(batch)["columns"]
    yesterday = date.today() - timedelta(days=1)
    assert stored.unpack(batch.checked_rows, columns, date.today()) is not None
    assert stored.unpack(batch.checked_rows, columns, yesterday) is None
    assert stored.unpack(batch.checked_rows, columns[:-1] + [""], date.today()) is None
    assert stored.unpack(b"garbage", columns, date.today()) is None
    payload = json.loads(zlib.decompress(crypto.decrypt_bytes(batch.checked_rows)))
    payload["today"] = yesterday.isoformat()
    payload["rows"] = []  # were it trusted, nothing would be imported
    batch.checked_rows = crypto.encrypt_bytes(zlib.compress(json.dumps(payload).encode()))
    db.session.commit()
    assert services.import_valid_rows(supervisor, batch, 1) == 1


def test_kept_rows_round_trip_every_field(supervisor) -> None:
    row = GOOD[:]
    row[0] = "عبد الله حسين كاظم"
    batch, _report = dry_run(supervisor, [GOOD, row])
    columns = services.mapping_of(batch)["columns"]
    first = services._check_all(batch, columns, date.today())
    kept = stored.unpack(batch.checked_rows, columns, date.today())
    assert [c.details for c in kept.valid] == [c.details for c in first.valid]
    assert [c.number for c in kept.valid] == [c.number for c in first.valid]
    assert kept.keys == first.keys
    assert kept.hashes.known() == first.hashes.known()


def test_choosing_another_sheet_or_discarding_drops_the_kept_rows(supervisor) -> None:
    batch, _report = dry_run(supervisor, [GOOD])
    services.discard(supervisor, batch)
    assert batch.checked_rows is None
    batch, _report = dry_run(supervisor, [GOOD])
    batch.created_at = batch.created_at - timedelta(days=2)
    db.session.commit()
    services.purge_stale_batches()
    db.session.refresh(batch)
    assert batch.checked_rows is None


def test_new_references_are_well_formed_and_unique(supervisor) -> None:
    references = new_references(3000)
    assert len(set(references)) == 3000
    allowed = set("23456789BCDFGHJKMNPQRSTVWXZ")
    for reference in references:
        assert len(reference) == 10 and reference[3] == reference[7] == "-"
        assert set(reference.replace("-", "")) <= allowed
