"""A hostile review of the exchange code (issue 7): the JSON API, PFIF and spreadsheet import.

Each test is an attack that worked before the review.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from cases.audit.models import AuditEvent
from cases.casework.models import Case, CaseNote
from cases.exchange import pfif
from cases.exchange.models import PfifRecord
from cases.exchange.services import export_pfif, import_pfif
from cases.extensions import db
from cases.imports import services as import_services
from cases.inquiries import services as inquiries

from ..api.conftest import Api, assert_error, cw_api, cw_token, sup_api, sup_token, token_maker
from ..factories import make_case
from ..inquiries.factories import make_inquiry

# The API suite's fixtures, used here too.
__all__ = ["cw_api", "cw_token", "sup_api", "sup_token", "token_maker"]

PARTNER = "partner.example.org/person.1"


def _person(source_date: str = "2025-01-02T03:04:05Z", **extra: str) -> dict[str, str]:
    return {
        "person_record_id": PARTNER,
        "source_date": source_date,
        "full_name": "حسين علي كاظم الساعدي",
        "given_name": "حسين",
        "family_name": "الساعدي",
        **extra,
    }


def _note(number: int, source_date: str = "2025-02-01T00:00:00Z") -> dict[str, str]:
    return {
        "note_record_id": f"partner.example.org/note.{number}",
        "person_record_id": PARTNER,
        "author_name": "Someone",
        "source_date": source_date,
        "text": "Injected into a case the sender may not see.",
    }


def _post_pfif(api: Api, data: bytes, into: str = "inquiries"):  # noqa: ANN202
    return api.client.post(
        f"/api/v1/pfif?into={into}",
        data=data,
        headers=api.headers({"Content-Type": "application/pfif+xml"}),
    )


@pytest.fixture
def others_case(caseworker) -> Case:  # noqa: ANN001
    """A case Zainab opened from a partner's record: Ali may not see it."""
    import_pfif(caseworker, pfif.serialise([(_person(), [])]), into="cases")
    case = db.session.scalar(select(Case))
    assert case.owner_id == caseworker.id
    return case


@pytest.fixture
def ali_api(client, token_maker, other_caseworker) -> Api:  # noqa: ANN001
    return Api(client, token_maker(other_caseworker))


# --- PFIF import into cases the importer cannot see ------------------------------------------


def test_a_pfif_note_cannot_be_written_into_a_case_the_importer_cannot_see(
    others_case, ali_api
) -> None:  # noqa: ANN001
    response = _post_pfif(ali_api, pfif.serialise([], [_note(1)]))

    assert response.status_code == 200, response.get_json()
    assert db.session.scalar(select(func.count()).select_from(CaseNote)) == 0
    assert others_case.reference not in response.get_data(as_text=True)
    assert response.get_json()["counts"]["created"] == 0


def test_a_newer_pfif_person_cannot_rewrite_a_case_the_importer_cannot_see(
    others_case, ali_api
) -> None:  # noqa: ANN001
    newer = _person("2025-03-01T00:00:00Z", full_name="مزور مزور مزور", given_name="مزور")

    response = _post_pfif(ali_api, pfif.serialise([(newer, [])]), into="cases")

    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert others_case.given_name == "حسين"
    stored = db.session.scalar(select(PfifRecord).filter_by(kind="person"))
    assert stored.fields["given_name"] == "حسين"  # the held record is not replaced either
    assert others_case.reference not in response.get_data(as_text=True)


def test_an_expired_copy_cannot_mark_anothers_case_record_for_purging(others_case, ali_api) -> None:  # noqa: ANN001
    expired = _person(expiry_date="2020-01-01T00:00:00Z")

    response = _post_pfif(ali_api, pfif.serialise([(expired, [])]))

    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.scalar(select(PfifRecord).filter_by(kind="person")).expiry_date is None
    assert others_case.reference not in response.get_data(as_text=True)


def test_the_same_record_again_does_not_name_a_case_the_importer_cannot_see(
    others_case, ali_api
) -> None:  # noqa: ANN001
    response = _post_pfif(ali_api, pfif.serialise([(_person(), [])]))

    assert response.status_code == 200, response.get_json()
    assert others_case.reference not in response.get_data(as_text=True)


def test_the_owner_still_updates_their_own_case(others_case, cw_api) -> None:  # noqa: ANN001
    response = _post_pfif(cw_api, pfif.serialise([], [_note(1)]))

    assert response.get_json()["counts"]["created"] == 1
    assert db.session.scalar(select(CaseNote)).case_id == others_case.id


# --- JSON bodies ---------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_not_a_500(cw_api, case) -> None:  # noqa: ANN001
    body = b"[" * 100_000 + b"]" * 100_000
    response = cw_api.client.post(
        f"/api/v1/cases/{case.reference}/notes",
        data=body,
        headers=cw_api.headers({"Content-Type": "application/json"}),
    )
    assert_error(response, 400, "bad_request")


# --- PFIF export: whose contact leaves ---------------------------------------------------------


def test_exported_contact_is_a_family_that_agreed_to_sharing(app, caseworker) -> None:  # noqa: ANN001
    """A case holds contacts typed by staff and families that never agreed to sharing: the
    contact exported "with contacts" must be the person who agreed, nobody else."""
    case = make_case(caseworker)  # its contact «أم محمد» +9647701234567 was typed by staff
    silent, _ = make_inquiry(inquirer_name="زوجته", inquirer_phone="+9647811111111")
    inquiries.attach_to_case(caseworker, silent, case)  # consent_share False, not withdrawn
    agreed, _ = make_inquiry(
        inquirer_name="أخوه", inquirer_phone="+9647822222222", consent_share=True
    )
    inquiries.attach_to_case(caseworker, agreed, case)

    exported = export_pfif(None, include_contacts=True).decode()

    assert case.reference in exported
    assert "+9647701234567" not in exported
    assert "+9647811111111" not in exported
    assert "زوجته" not in exported
    assert "+9647822222222" in exported


# --- spreadsheet import (cases/imports: fixes described in the review's report) ---------------

_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx_with_styles(styles_body: str) -> bytes:
    """A minimal workbook (header "name", one row) whose styles part is ``styles_body``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_SHEET_NS}" xmlns:r="{_REL_NS}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{_SHEET_NS}"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>الاسم</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>علي</t></is></c></row>'
            "</sheetData></worksheet>",
        )
        archive.writestr(
            "xl/styles.xml", f'<styleSheet xmlns="{_SHEET_NS}">{styles_body}</styleSheet>'
        )
    return buffer.getvalue()


def test_an_xlsx_whose_styles_unpack_to_millions_of_elements_is_refused(supervisor) -> None:  # noqa: ANN001
    bomb = _xlsx_with_styles("<a/>" * 2_500_000)  # 10 MB of empty elements, 10 KB zipped
    assert len(bomb) < 50_000

    with pytest.raises(import_services.ImportRuleError):
        import_services.upload(supervisor, bomb, "list.xlsx")


def test_a_spreadsheet_upload_is_audited(supervisor) -> None:  # noqa: ANN001
    batch = import_services.upload(supervisor, "الاسم\r\nعلي\r\n".encode(), "list.csv")

    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "import_batch", AuditEvent.object_id == batch.id
        )
    ).all()
    assert [e.actor_id for e in events] == [supervisor.id]


def test_the_problems_csv_download_is_audited(client, auth, supervisor) -> None:  # noqa: ANN001
    batch = import_services.upload(
        supervisor, "الاسم,رقم الهاتف\r\nعلي,0770abc123\r\n".encode(), "list.csv"
    )
    import_services.check(
        supervisor, batch, import_services.mapping_of(batch)["columns"], supervisor.id
    )
    auth.login(supervisor)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    download = client.get(f"/oversight/imports/{batch.id}/problems.csv")

    assert download.status_code == 200 and "0770abc123" in download.get_data(as_text=True)
    db.session.expire_all()
    actions = db.session.scalars(
        select(AuditEvent.action).order_by(AuditEvent.id).offset(before)
    ).all()
    assert [a for a in actions if a not in ("login", "login_2fa", "page_view")]


def test_import_nothing_keeps_no_values_from_the_file(supervisor) -> None:  # noqa: ANN001
    batch = import_services.upload(
        supervisor, "الاسم,رقم الهاتف\r\nعلي,0770abc123\r\n".encode(), "list.csv"
    )
    import_services.check(
        supervisor, batch, import_services.mapping_of(batch)["columns"], supervisor.id
    )
    assert batch.report is not None

    import_services.discard(supervisor, batch)

    db.session.refresh(batch)
    assert batch.content is None
    assert batch.report is None
