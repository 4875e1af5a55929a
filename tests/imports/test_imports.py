"""Spreadsheet import: upload, mapping, dry run, import or nothing, duplicates, equivalence."""

from __future__ import annotations

import io
import random
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from cases import crypto
from cases.audit.models import AuditEvent
from cases.auth.models import Role
from cases.casework import services as case_services
from cases.casework.models import (
    Assignment,
    Case,
    CaseName,
    CaseNameToken,
    CasePhone,
    FamilyContact,
    IdentityDocument,
    StatusChange,
)
from cases.casework.services import CaseDetails, ContactDetails, DocumentDetails
from cases.demo import names as demo_names
from cases.extensions import db
from cases.imports import namekeys, services
from cases.imports.fields import guess_mapping
from cases.imports.models import BatchState, ImportBatch
from cases.imports.rows import phone_e164
from cases.matching import keys
from cases.matching.normalize import index_tokens, normalize_arabic
from cases.phones import PhoneError, to_e164
from tests.factories import make_case, make_user

AR_HEADER = [
    "الاسم الرباعي",
    "اسم الأم",
    "الجنس",
    "تاريخ الولادة",
    "المحافظة",
    "القضاء",
    "رقم الهاتف",
    "رقم الجواز",
    "اسم المبلغ",
    "هاتف المبلغ",
]
GOOD = [
    "علي حسين كاظم جبار الجنابي",
    "زينب عباس محمد",
    "ذكر",
    "12/03/1998",
    "بابل",
    "المسيب",
    "0780 111 2233",
    "A1234567",
    "أم علي",
    "07705556677",
]


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    text = "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in r) for r in rows)
    return text.encode(encoding)


def upload(client, data: bytes, name: str = "list.csv"):  # noqa: ANN001, ANN201
    return client.post(
        "/oversight/imports/upload",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def latest_batch() -> ImportBatch:
    return db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))


def check(client, batch: ImportBatch, columns: list[str], owner_id: int):  # noqa: ANN001, ANN201
    form = {f"column-{i}": key for i, key in enumerate(columns)} | {"owner_id": str(owner_id)}
    return client.post(f"/oversight/imports/{batch.id}/mapping", data=form)


@pytest.fixture
def sup_client(client, auth, supervisor):  # noqa: ANN001, ANN201
    auth.login(supervisor)
    return client


def test_csv_import_end_to_end(sup_client, supervisor, caseworker) -> None:
    data = csv_bytes(
        [
            AR_HEADER,
            GOOD,
            ["", "", "", "", "", "", "", "", "", ""],
            GOOD[:0]
            + ["حيدر عبد الأمير جاسم", "", "male", "1999", "Babil", "Al-Hilla", "", "", "", ""],
        ]
    )
    response = upload(sup_client, data)
    assert response.status_code == 302
    batch = latest_batch()
    mapping = services.mapping_of(batch)["columns"]
    assert mapping == [
        "full_name",
        "mother_name",
        "sex",
        "birth_date",
        "governorate",
        "district",
        "phone",
        "passport_number",
        "contact_name",
        "contact_phone",
    ]
    page = sup_client.get(f"/oversight/imports/{batch.id}/mapping")
    assert "زينب عباس محمد" in page.get_data(as_text=True)
    assert check(sup_client, batch, mapping, caseworker.id).status_code == 302
    assert db.session.scalar(select(func.count(Case.id))) == 0  # the dry run writes nothing
    report_page = sup_client.get(f"/oversight/imports/{batch.id}").get_data(as_text=True)
    assert "Import the 2 valid rows" in report_page
    response = sup_client.post(f"/oversight/imports/{batch.id}/import", data={"expected": "2"})
    assert response.status_code == 302
    cases = db.session.scalars(select(Case).order_by(Case.import_row)).all()
    assert [(c.given_name, c.import_row) for c in cases] == [("علي", 2), ("حيدر", 4)]
    first = cases[0]
    assert (first.father_name, first.grandfather_name, first.great_grandfather_name) == (
        "حسين",
        "كاظم",
        "جبار",
    )
    assert first.laqab == "الجنابي"
    assert first.name_as_entered == GOOD[0]
    assert first.owner_id == caseworker.id and first.created_by_id == supervisor.id
    assert (first.birth_year, first.birth_month, first.birth_day) == (1998, 3, 12)
    assert first.district_pcode == "IQG07Q04" and first.governorate_pcode == "IQG07"
    assert [p.e164 for p in first.phones] == ["+9647801112233"]
    assert first.documents[0].doc_type == "passport" and first.documents[0].number == "A1234567"
    assert first.contacts[0].phone_e164 == "+9647705556677"
    assert cases[1].father_name == "عبد الأمير"
    assert cases[1].birth_year == 1999 and cases[1].district_pcode == "IQG07Q02"
    assert db.session.scalar(select(func.count(StatusChange.id))) == 2
    assert db.session.scalar(select(func.count(Assignment.id))) == 2
    batch = db.session.get(ImportBatch, batch.id)
    db.session.refresh(batch)
    assert batch.state == BatchState.IMPORTED and batch.content is None
    events = db.session.scalars(select(AuditEvent).filter_by(action="spreadsheet_import")).all()
    assert [e.item_count for e in events] == [2]
    case_page = sup_client.get(f"/cases/{first.id}").get_data(as_text=True)
    assert "Imported from <bdi>list.csv</bdi>, row 2" in case_page
    # A second click does not import twice.
    sup_client.post(f"/oversight/imports/{batch.id}/import", data={"expected": "2"})
    assert db.session.scalar(select(func.count(Case.id))) == 2


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [("utf-8", ",", False), ("utf-8", ";", True), ("cp1256", ";", False), ("utf-8", "\t", False)],
)
def test_csv_encodings_and_delimiters(sup_client, supervisor, encoding, delimiter, bom) -> None:
    data = csv_bytes([AR_HEADER, GOOD, GOOD], delimiter, encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    assert upload(sup_client, data).status_code == 302
    batch = latest_batch()
    assert services.mapping_of(batch)["columns"][0] == "full_name"
    report = services.check(supervisor, batch, services.mapping_of(batch)["columns"], supervisor.id)
    assert report.valid == 2, report.problems
    # The second row repeats the first: flagged as a likely duplicate within the file.
    assert report.flags[0][0] == 3 and report.flags[0][2] == 2


def test_xlsx_english_headers_excel_dates_and_numbers(sup_client, supervisor) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "Given name",
            "Father's name",
            "Grandfather",
            "Sex",
            "Date of birth",
            "District",
            "Mobile",
            "Last contact",
            "Notes",
        ]
    )
    sheet.append(
        [
            "Hussein",
            "Ali",
            "Kadhim",
            "M",
            datetime(1995, 7, 1),
            "Al-Mussyab",
            7701234567,
            datetime(2024, 1, 5),
            '=HYPERLINK("http://x","y")',
        ]
    )
    sheet["I2"].data_type = "s"  # typed text, not a formula
    out = io.BytesIO()
    book.save(out)
    assert upload(sup_client, out.getvalue(), "list.xlsx").status_code == 302
    batch = latest_batch()
    columns = services.mapping_of(batch)["columns"]
    assert columns == [
        "given_name",
        "father_name",
        "grandfather_name",
        "sex",
        "birth_date",
        "district",
        "phone",
        "last_contact_date",
        "circumstances",
    ]
    report = services.check(supervisor, batch, columns, supervisor.id)
    assert report.valid == 1, report.problems
    services.import_valid_rows(supervisor, batch, 1)
    case = db.session.scalar(select(Case))
    assert (case.birth_year, case.birth_month, case.birth_day) == (1995, 7, 1)
    assert case.last_contact_date.isoformat() == "2024-01-05"
    assert [p.e164 for p in case.phones] == ["+9647701234567"]
    assert case.circumstances == '=HYPERLINK("http://x","y")'  # kept as text, never evaluated


def test_problems_reported_by_row_and_column_in_both_languages(client, auth, supervisor) -> None:
    bad = ["", "x" * 201, "maybe", "31/02/2020", "Atlantis", "", "0770abc", "", "", "12345"]
    data = csv_bytes([AR_HEADER, GOOD, bad])
    auth.login(supervisor, lang="ar")
    upload(client, data)
    batch = latest_batch()
    report = services.check(supervisor, batch, services.mapping_of(batch)["columns"], supervisor.id)
    assert report.valid == 1 and report.with_problems == 1
    codes = {(row, column, code) for row, column, code, _params in report.problems}
    assert codes == {
        (3, 0, "given_name_missing"),
        (3, 1, "too_long"),
        (3, 2, "unknown_sex"),
        (3, 3, "no_such_date"),
        (3, 4, "unknown_governorate"),
        (3, 6, "bad_phone"),
        (3, 9, "bad_contact_phone"),
        (3, 8, "contact_name_missing"),
    }
    page = client.get(f"/oversight/imports/{batch.id}").get_data(as_text=True)
    assert "اسم الأم" in page and "Atlantis" in page
    assert "ليس" in page or "غير" in page  # Arabic messages
    auth.logout()
    auth.login(supervisor, lang="en")
    page = client.get(f"/oversight/imports/{batch.id}").get_data(as_text=True)
    assert "“Atlantis” is not a governorate of Iraq we know." in page
    assert "The given name is missing." in page
    download = client.get(f"/oversight/imports/{batch.id}/problems.csv")
    assert download.status_code == 200
    text = download.get_data().decode("utf-8-sig")
    assert "Row,Column,Problem" in text and "3,الجنس," in text


def test_import_nothing_deletes_the_file(sup_client, supervisor) -> None:
    upload(sup_client, csv_bytes([AR_HEADER, GOOD]))
    batch = latest_batch()
    stored = batch.content
    assert stored is not None and b"\xd8\xb9\xd9\x84\xd9\x8a" not in stored  # encrypted
    assert crypto.decrypt_bytes(stored).startswith("الاسم".encode())
    services.check(supervisor, batch, services.mapping_of(batch)["columns"], supervisor.id)
    assert sup_client.post(f"/oversight/imports/{batch.id}/discard").status_code == 302
    db.session.refresh(batch)
    assert batch.state == BatchState.DISCARDED and batch.content is None
    assert db.session.scalar(select(func.count(Case.id))) == 0
    assert services.import_valid_rows.__name__  # the service refuses a finished batch:
    with pytest.raises(services.ImportRuleError):
        services.import_valid_rows(supervisor, batch)


def test_row_like_an_existing_case_is_flagged(sup_client, supervisor, caseworker) -> None:
    existing = make_case(caseworker)  # محمد عماد جبار …, phone of the mother +9647701234567
    header = ["الاسم", "اسم الأب", "اسم الجد", "العمر", "هاتف المبلغ", "اسم المبلغ"]
    same_name = ["محمد", "عماد", "جبار", "24", "", ""]
    same_phone = ["كرار", "علي", "حسين", "", "0770 123 4567", "أم كرار"]
    upload(sup_client, csv_bytes([header, same_name, same_phone, ["زيد", "", "", "", "", ""]]))
    batch = latest_batch()
    columns = services.mapping_of(batch)["columns"]
    assert columns == [
        "given_name",
        "father_name",
        "grandfather_name",
        "age",
        "contact_phone",
        "contact_name",
    ]
    report = services.check(supervisor, batch, columns, supervisor.id)
    flagged = {(row, case_id, tuple(reasons)) for row, reasons, _o, case_id, _r in report.flags}
    assert flagged == {(2, existing.id, ("name",)), (3, existing.id, ("phone",))}
    page = sup_client.get(f"/oversight/imports/{batch.id}").get_data(as_text=True)
    assert existing.reference in page
    assert services.import_valid_rows(supervisor, batch, 3) == 3  # flagged rows still imported


def test_imported_case_equals_one_made_by_the_form(supervisor) -> None:
    details = CaseDetails(
        given_name="عبد الله",
        father_name="حسين",
        grandfather_name="كاظم",
        laqab="الموسوي",
        name_as_entered="عبدالله حسين كاظم الموسوي",
        mother_name="فاطمة علي جاسم",
        birth_year=1997,
        governorate_pcode="IQG07",
        district_pcode="IQG07Q04",
        latin_names=["Abdullah Hussein Kadhim"],
        aliases=["Abu Ali"],
        phones=["+9647801112233"],
        documents=[DocumentDetails("passport", "A 123-4567")],
        contacts=[ContactDetails("أم عبدالله", "الأم", "+9647705556677", "ar")],
    )
    made = case_services.create_case(supervisor, details)
    header = [
        "الاسم الأول",
        "اسم الأب",
        "اسم الجد",
        "اللقب",
        "الاسم الرباعي",
        "اسم الأم",
        "سنة الولادة",
        "القضاء",
        "الاسم بالانكليزي",
        "اسم آخر",
        "رقم الهاتف",
        "رقم الجواز",
        "اسم المبلغ",
        "صلة القرابة",
        "هاتف المبلغ",
    ]
    row = [
        "عبد الله",
        "حسين",
        "كاظم",
        "الموسوي",
        "عبدالله حسين كاظم الموسوي",
        "فاطمة علي جاسم",
        "1997",
        "المسيب",
        "Abdullah Hussein Kadhim",
        "Abu Ali",
        "0780 111 2233",
        "A 123-4567",
        "أم عبدالله",
        "الأم",
        "0770 555 6677",
    ]
    batch = services.upload(supervisor, csv_bytes([header, row]), "same.csv")
    columns = services.mapping_of(batch)["columns"]
    assert "" not in columns
    services.check(supervisor, batch, columns, supervisor.id)
    assert services.import_valid_rows(supervisor, batch, 1) == 1
    imported = db.session.scalar(select(Case).where(Case.id != made.id))
    for column in Case.__table__.columns.keys():  # noqa: SIM118 - names, not columns
        if column in (
            "id",
            "reference",
            "created_at",
            "updated_at",
            "last_activity_at",
            "import_batch_id",
            "import_row",
        ):
            continue
        assert getattr(imported, column) == getattr(made, column), column

    def children(model, case_id, *columns):  # noqa: ANN001, ANN002, ANN202
        return sorted(
            tuple(getattr(r, c) for c in columns)
            for r in db.session.scalars(select(model).filter_by(case_id=case_id))
        )

    for model, columns_ in (
        (CaseNameToken, ("token", "skeleton")),
        (CaseName, ("kind", "name")),
        (CasePhone, ("e164", "e164_hash")),
        (IdentityDocument, ("doc_type", "number", "number_hash")),
        (
            FamilyContact,
            ("name", "relationship_to_person", "phone_e164", "phone_hash", "preferred_language"),
        ),
        (StatusChange, ("from_status", "to_status", "reason", "actor_id")),
        (Assignment, ("to_user_id", "from_user_id", "reason")),
    ):
        assert children(model, imported.id, *columns_) == children(model, made.id, *columns_)


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.ADMIN])
def test_others_get_403(client, auth, role) -> None:
    user = make_user("someone", role)
    auth.login(user)
    assert client.get("/oversight/imports/").status_code == 403
    assert upload(client, csv_bytes([AR_HEADER, GOOD])).status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "This is not a spreadsheet."),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "Old Excel files (.xls)"),
        (b"PK\x03\x04junk", "This file is damaged"),
        ("الاسم,الجنس\r\n".encode(), "The file has a header but no rows below it."),
        (b"   \r\n", "The file is empty."),
    ],
)
def test_junk_is_refused_with_a_message(sup_client, data, message) -> None:
    response = upload(sup_client, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_file_too_big(sup_client, app) -> None:
    app.config["IMPORT_MAX_BYTES"] = 1000
    response = upload(sup_client, csv_bytes([AR_HEADER] + [GOOD] * 50))
    assert response.status_code in (400, 413)
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 0


def test_too_many_rows_and_mapping_errors_keep_the_choices(sup_client, supervisor, app) -> None:
    app.config["IMPORT_MAX_ROWS"] = 2
    upload(sup_client, csv_bytes([AR_HEADER, GOOD, GOOD, GOOD]))
    batch = latest_batch()
    columns = ["", "", "sex", "", "", "", "", "", "", ""]
    page = check(sup_client, batch, columns, supervisor.id)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Choose the column with the given name" in text
    assert '<option value="sex" selected>' in text
    page = check(sup_client, batch, ["given_name", "given_name"] + columns[2:], supervisor.id)
    assert "Choose it for one column only" in page.get_data(as_text=True)
    page = check(sup_client, batch, services.mapping_of(batch)["columns"], supervisor.id)
    assert "more than 2 rows" in page.get_data(as_text=True)


def test_junk_cells_never_break_the_check(supervisor) -> None:
    rng = random.Random(3)
    alphabet = "=+-@\t\"';,0123456789/محمد٠١٢ abcé\u200f\ufeff"
    rows = [AR_HEADER] + [
        ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))) for _ in AR_HEADER]
        for _ in range(200)
    ]
    data = "\r\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows)
    batch = services.upload(supervisor, data.encode(), "junk.csv")
    report = services.check(supervisor, batch, services.mapping_of(batch)["columns"], supervisor.id)
    assert report.rows == 200
    services.import_valid_rows(supervisor, batch, report.valid)


def test_purge_stale_batches(supervisor) -> None:
    batch = services.upload(supervisor, csv_bytes([AR_HEADER, GOOD]), "old.csv")
    batch.created_at = datetime(2020, 1, 1)
    db.session.commit()
    assert services.purge_stale_batches() == 1
    db.session.refresh(batch)
    assert batch.content is None and batch.state == BatchState.DISCARDED


def test_guess_mapping_with_a_given_name_column_called_name() -> None:
    assert guess_mapping(["Name", "Father name", "Mother's name", "Phone", "Phone 2", "?"]) == [
        "given_name",
        "father_name",
        "mother_name",
        "phone",
        "phone",
        "",
    ]
    assert guess_mapping(["الاسم", "اسم الام"]) == ["full_name", "mother_name"]


def test_phone_fast_path_agrees_with_to_e164() -> None:
    rng = random.Random(5)
    samples = [f"07{rng.randrange(10**9):09d}" for _ in range(3000)]
    samples += [f"+9647{rng.randrange(10**9):09d}" for _ in range(500)]
    samples += ["٠٧٧٠١٢٣٤٥٦٧", "00964 770 123 4567", "0770-123-4567", "7701234567"]
    for raw in samples:
        try:
            expected = to_e164(raw)
        except PhoneError:
            expected = None
        try:
            got = phone_e164(raw)
        except PhoneError:
            got = None
        assert got == expected, raw


def test_word_by_word_keys_agree_with_matching() -> None:
    words = [n for n, _ in demo_names.YOUNG_MEN + demo_names.ELDER_MEN + demo_names.LAQABS]
    rng = random.Random(9)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 6))) for _ in range(2000)]
    texts += ["Abdul Rahman Ali", "Mohammed al-Hussaini", "ابو علي", "نور الدين", "صلاح الدين حسن"]
    for text in texts:
        assert namekeys.text_tokens(text) == index_tokens(text), text
        assert namekeys.name_key(text) == normalize_arabic(text), text
        assert namekeys.first_skeleton(text) == keys.first_skeleton(text), text
