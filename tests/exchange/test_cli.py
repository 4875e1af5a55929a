"""`flask pfif import`, `export` and `purge-expired` through Flask's CLI runner."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cases.casework.models import Case
from cases.exchange import pfif
from cases.extensions import db
from cases.inquiries import services as inquiries
from cases.inquiries.models import Inquiry
from tests.factories import make_case
from tests.inquiries.factories import make_inquiry

DATA = Path(__file__).parent / "data"
V14 = DATA / "personfinder-test.pfif-1.4.xml"


def test_import_prints_counts_and_why_records_were_skipped(app, runner, caseworker) -> None:
    first = runner.invoke(args=["pfif", "import", str(V14), "--as", caseworker.username])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created 5, updated 0, skipped 0")
    assert db.session.scalar(select(func.count(Inquiry.id))) == 1

    again = runner.invoke(args=["pfif", "import", str(V14), "--as", caseworker.username])
    assert again.exit_code == 0, again.output
    lines = again.output.splitlines()
    assert lines[0] == "created 0, updated 0, skipped 5"
    assert "skipped person test.google.com/person.21009" in lines[1]
    assert "already imported, unchanged" in lines[1]


def test_import_into_cases_for_an_owner(app, runner, supervisor, caseworker) -> None:
    result = runner.invoke(
        args=[
            "pfif",
            "import",
            str(V14),
            "--into",
            "cases",
            "--as",
            supervisor.username,
            "--owner",
            caseworker.username,
        ]  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    case = db.session.scalar(select(Case))
    assert case.owner_id == caseworker.id and case.created_by_id == supervisor.id


def test_csv_import_needs_and_takes_a_domain(app, runner, caseworker) -> None:
    path = str(DATA / "personfinder-sample-import.csv")
    refused = runner.invoke(args=["pfif", "import", path, "--as", caseworker.username])
    assert refused.exit_code != 0
    assert "File refused, nothing imported" in refused.output
    assert "domain" in refused.output
    result = runner.invoke(
        args=["pfif", "import", path, "--as", caseworker.username, "--domain", "partner.org"]
    )
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    assert "lacked home_street" in result.output


def test_a_refused_file_exits_non_zero_with_a_clear_message(
    app, runner, caseworker, tmp_path
) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_bytes(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    result = runner.invoke(args=["pfif", "import", str(evil), "--as", caseworker.username])
    assert result.exit_code == 1
    assert "File refused, nothing imported" in result.output
    assert "DTD" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count(Inquiry.id))) == 0


def test_unknown_user_is_refused(app, runner) -> None:
    result = runner.invoke(args=["pfif", "import", str(V14), "--as", "nobody"])
    assert result.exit_code != 0
    assert "No account named 'nobody'" in result.output


def test_export_to_stdout_and_to_a_file(app, runner, caseworker, tmp_path) -> None:
    case = make_case(caseworker)
    inquiry, _ = make_inquiry(consent_share=True)
    inquiries.attach_to_case(caseworker, inquiry, case)

    result = runner.invoke(args=["pfif", "export"])
    assert result.exit_code == 0, result.output
    document = pfif.parse(result.stdout_bytes)
    assert [p["person_record_id"] for p in document.persons] == [
        f"athar.test/person.{case.reference}"
    ]
    assert "+9647801234567" not in result.output

    target = tmp_path / "out.xml"
    with_contacts = runner.invoke(args=["pfif", "export", "--include-contacts", "-o", str(target)])
    assert with_contacts.exit_code == 0, with_contacts.output
    assert "Warning: the export contains contact details" in with_contacts.stderr
    assert b"+9647801234567" in target.read_bytes()

    later = runner.invoke(args=["pfif", "export", "--since", "2999-01-01T00:00:00Z"])
    assert pfif.parse(later.stdout_bytes).persons == []
    bad = runner.invoke(args=["pfif", "export", "--since", "last week"])
    assert bad.exit_code == 2


def test_purge_expired_command(app, runner, caseworker) -> None:
    result = runner.invoke(args=["pfif", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "records purged 0, inquiries erased 0"
