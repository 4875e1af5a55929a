"""`flask retention purge`: the dry run lists and changes nothing; the real run reports."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.extensions import db
from cases.retention import services as retention
from cases.retention.models import DestructionRecord

from .factories import close, linked_inquiry, marked_case, text_everywhere


def test_dry_run_lists_what_would_go_and_changes_nothing(
    app, runner, caseworker, supervisor
) -> None:
    gone = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    linked_inquiry(caseworker, gone, 1)
    kept = close(caseworker, supervisor, marked_case(caseworker, 2), "duplicate", 10)
    held = close(caseworker, supervisor, marked_case(caseworker, 3), "in_contact", 2000)
    retention.set_legal_hold(supervisor, held, True, "Court order")
    before = text_everywhere()

    result = runner.invoke(args=["retention", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    gone_line = next(line for line in lines if gone.reference in line)
    assert "closed" in gone_line and "100 days" in gone_line and "closed_duplicate" in gone_line
    assert kept.reference not in result.output
    held_line = next(line for line in lines if held.reference in line)
    assert "legal hold: kept" in held_line
    assert "would anonymise 1 cases" in result.output and "1 kept by legal hold" in result.output
    assert text_everywhere() == before
    assert db.session.scalar(select(func.count(DestructionRecord.id))) == 0


def test_purge_reports_and_a_second_run_does_nothing(app, runner, caseworker, supervisor) -> None:
    gone = close(caseworker, supervisor, marked_case(caseworker, 1), "duplicate", 100)
    linked_inquiry(caseworker, gone, 1)

    first = runner.invoke(args=["retention", "purge", "--batch-size", "1"])
    assert first.exit_code == 0, first.output
    assert "1 cases anonymised, 1 inquiries erased, 2 destruction records written" in first.output

    second = runner.invoke(args=["retention", "purge"])
    assert "0 cases anonymised, 0 inquiries erased, 0 destruction records" in second.output
    assert db.session.scalar(select(func.count(DestructionRecord.id))) == 2


def test_old_staff_login_records_and_spent_invitations_go(app, runner, caseworker, admin) -> None:
    from datetime import timedelta

    from cases.auth import invitations, sessions
    from cases.auth.models import Invitation, StaffSession
    from cases.clock import utcnow
    from cases.extensions import db

    old = utcnow() - timedelta(days=app.config["STAFF_RECORD_DAYS"] + 1)
    invitations.reset_by_invitation(admin, caseworker)  # (it ends the account's sessions)
    ended_long_ago, _ = sessions.open_session(caseworker, "10.0.0.1", "Firefox")
    abandoned, _ = sessions.open_session(caseworker, "10.0.0.2", "Chrome")
    recent, _ = sessions.open_session(caseworker, "10.0.0.3", "Safari")
    ended_long_ago.ended_at, ended_long_ago.end_reason = old, "logout"
    abandoned.last_seen_at = old
    db.session.execute(db.update(Invitation).values(expires_at=old))
    db.session.commit()

    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert "2 old login records and 1 spent invitation links" in dry.output
    assert db.session.scalar(db.select(db.func.count(StaffSession.id))) == 3

    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "2 old login records and 1 spent invitation links deleted" in result.output
    left = db.session.scalars(db.select(StaffSession.ip)).all()
    assert left == ["10.0.0.3"]
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_purge_also_empties_expired_partner_records_and_stale_uploads(
    app, runner, caseworker, supervisor
) -> None:
    from datetime import timedelta

    from cases.clock import utcnow
    from cases.exchange import pfif
    from cases.exchange.models import PfifRecord
    from cases.exchange.services import import_pfif
    from cases.imports import services as imports
    from cases.imports.models import BatchState, ImportBatch
    from cases.inquiries.models import Inquiry, InquiryState

    person = {
        "person_record_id": "partner.org/person.7",
        "source_date": "2024-05-01T10:00:00Z",
        "full_name": "حسين علي كاظم",
        "expiry_date": pfif.format_time(utcnow() + timedelta(days=1)),
    }
    import_pfif(caseworker, pfif.serialise([(person, [])]))
    batch = imports.upload(supervisor, "given_name\r\nعلي\r\n".encode(), "list.csv")
    # A day and more later: the partner's record expired, the upload was left half-way.
    db.session.execute(db.update(PfifRecord).values(expiry_date=utcnow() - timedelta(hours=1)))
    batch.created_at = utcnow() - timedelta(days=2)
    db.session.commit()

    result = runner.invoke(args=["retention", "purge"])

    assert result.exit_code == 0, result.output
    assert "1 expired records emptied, 1 untriaged inquiries from them erased" in result.output
    assert "Spreadsheet imports: 1 stale uploads deleted" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(PfifRecord.purged_at)) is not None
    assert db.session.scalar(select(Inquiry.state)) == InquiryState.ERASED
    stale = db.session.get(ImportBatch, batch.id)
    assert stale.state == BatchState.DISCARDED and stale.content is None
