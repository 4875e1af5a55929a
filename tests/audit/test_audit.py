"""The audit trail: one event per act, no content, a hash chain that reveals tampering."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cases.audit import services as audit
from cases.audit.models import AuditEvent
from cases.auth import services as auth_services
from cases.auth.models import Role
from cases.casework import services
from cases.casework.models import CaseStatus
from cases.extensions import db

from ..conftest import audit_guard_lifted
from ..factories import make_case, pass_second_step

NOTE_BODY = "Seen near the Zakho crossing by his cousin Qasim"


def events(action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def only(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, f"{action}: {found}"
    return found[0]


def all_columns_text() -> str:
    table = AuditEvent.__table__
    return " ".join(str(v) for row in db.session.execute(select(table)) for v in row)


def log_in(client, user) -> None:  # noqa: ANN001
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.post(
        "/login", data={"username": user.username, "password": "correct horse battery staple"}
    )
    response = pass_second_step(client, user.username, response)
    assert response.status_code == 302


# --- the services write one event each, with no content ---------------------------------------


def test_case_acts_write_one_event_each_and_no_content(caseworker, supervisor, second_supervisor):
    case = make_case(caseworker)
    created = only("case_create")
    assert (created.actor_id, created.actor_role) == (caseworker.id, Role.CASEWORKER)
    assert (created.object_type, created.object_id) == ("case", case.id)

    services.update_case(caseworker, case, services.details_of(case))
    services.add_note(caseworker, case, NOTE_BODY)
    services.change_status(caseworker, case, CaseStatus.OPEN, "first call made")
    request = services.change_status(
        caseworker, case, CaseStatus.CLOSED, "the family asked", "family_withdrew"
    )
    services.decide_approval(supervisor, request, False, "call them again first")
    services.assign_case(supervisor, case, second_supervisor, "holiday")
    for action, actor in [
        ("case_edit", caseworker),
        ("note_add", caseworker),
        ("status_change", caseworker),
        ("status_request", caseworker),
        ("approval_decide", supervisor),
        ("assign", supervisor),
    ]:
        event = only(action)
        assert (event.actor_id, event.object_type, event.object_id) == (actor.id, "case", case.id)
        assert event.ip is None  # no request: a service called directly

    stored = all_columns_text()
    for secret in (
        NOTE_BODY,
        "Qasim",
        case.given_name,
        case.arabic_name,
        case.reference,
        "first call made",
        "holiday",
        "call them again first",
    ):
        assert secret not in stored
    assert audit.verify().ok


def test_share_and_bulk_reassign_write_one_event_per_case(caseworker, other_caseworker, supervisor):
    first, second = make_case(caseworker), make_case(caseworker)
    services.share_case(caseworker, first, other_caseworker)
    share = only("share")
    assert (share.actor_id, share.object_id) == (caseworker.id, first.id)
    moved = services.reassign_cases(supervisor, [first.id, second.id], other_caseworker, "leave")
    assert moved == 2
    assert sorted(e.object_id for e in events("assign")) == [first.id, second.id]


def test_a_refused_act_leaves_no_event(caseworker, other_caseworker):
    case = make_case(caseworker)
    with pytest.raises(services.CaseRuleError):
        services.add_note(other_caseworker, case, NOTE_BODY)
    db.session.rollback()
    assert events("note_add") == []


def test_account_changes_are_recorded(caseworker):
    auth_services.set_role(caseworker, Role.SUPERVISOR)
    auth_services.set_active(caseworker, False)
    auth_services.set_password(caseworker, "another long passphrase")
    changes = [e for e in events("account_change") if e.object_id == caseworker.id]
    # Creation, role, disabling, password.
    assert len(changes) == 4
    assert "another long passphrase" not in all_columns_text()


def test_unknown_actions_are_refused(app):
    with pytest.raises(ValueError):
        audit.record("read_mind")


# --- requests: who, from where ----------------------------------------------------------------


def test_login_logout_and_failed_login(client, caseworker):
    client.post("/login", data={"username": caseworker.username, "password": "wrong guess!!"})
    client.post("/login", data={"username": "nobody-here", "password": "wrong guess!!"})
    failed = events("login_failed")
    assert [(e.object_type, e.object_id) for e in failed] == [("user", caseworker.id), (None, None)]
    assert all(e.actor_id is None and e.ip == "127.0.0.1" for e in failed)
    assert "nobody-here" not in all_columns_text()
    assert "wrong guess" not in all_columns_text()

    log_in(client, caseworker)
    login = only("login")
    assert (login.actor_id, login.actor_role, login.object_id) == (
        caseworker.id,
        Role.CASEWORKER,
        caseworker.id,
    )
    assert login.ip == "127.0.0.1"
    client.post("/logout")
    assert only("logout").actor_id == caseworker.id


def test_opening_and_printing_a_case_are_recorded(client, caseworker, case):
    log_in(client, caseworker)
    assert client.get(f"/cases/{case.id}").status_code == 200
    view = only("case_view")
    assert (view.actor_id, view.object_type, view.object_id) == (caseworker.id, "case", case.id)
    assert view.ip == "127.0.0.1"
    client.get(f"/cases/{case.id}/print")
    assert only("case_print").object_id == case.id


def test_a_search_records_only_that_it_happened_and_how_many_filters(client, caseworker, case):
    log_in(client, caseworker)
    client.get("/cases/")
    client.get("/cases/?sort=name")
    assert events("case_search") == []  # no filter: browsing, not searching
    client.get("/cases/?q=Jabbar&status=new&sort=name")
    search = only("case_search")
    assert (search.actor_id, search.item_count, search.object_id) == (caseworker.id, 2, None)
    assert "Jabbar" not in all_columns_text()


def test_an_export_is_recorded_with_its_row_count(client, supervisor, caseworker):
    make_case(caseworker)
    log_in(client, supervisor)
    response = client.post(
        "/oversight/reports/export",
        data={"format": "csv", "password": "correct horse battery staple"},
        buffered=True,  # so the test client closes the temporary file
    )
    assert response.status_code == 200
    export = only("export")
    assert (export.actor_id, export.object_type, export.item_count) == (
        supervisor.id,
        "case_list",
        1,
    )
    client.get("/oversight/reports/aggregate.csv")
    assert len(events("export")) == 2


def test_admin_account_changes_name_the_admin(client, admin, caseworker):
    log_in(client, admin)
    client.post(f"/admin/users/{caseworker.id}/disable")
    change = events("account_change")[-1]
    assert (change.actor_id, change.actor_role, change.object_id) == (
        admin.id,
        Role.ADMIN,
        caseworker.id,
    )


# --- the chain ---------------------------------------------------------------------------------


def _some_events(caseworker) -> list[int]:  # noqa: ANN001
    case = make_case(caseworker)
    services.add_note(caseworker, case, NOTE_BODY)
    services.update_case(caseworker, case, services.details_of(case))
    return [e.id for e in events()]


def test_the_chain_links_every_event(runner, caseworker):
    ids = _some_events(caseworker)
    rows = events()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"OK: {len(ids)} events" in result.output


def _tamper(sql: str, **params: object) -> None:
    """Change the trail as the database owner would, past the append-only triggers."""
    db.session.commit()
    with db.engine.begin() as conn, audit_guard_lifted(conn):
        conn.execute(text(sql), params)
    db.session.expire_all()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET action = 'case_view' WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_a_sealed_event(caseworker, sql):
    ids = _some_events(caseworker)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(sql), {"id": ids[0]})
        db.session.flush()
    db.session.rollback()
    assert [e.id for e in events()] == ids
    assert db.session.get(AuditEvent, ids[0]).action != "case_view"


def test_postgresql_refuses_to_truncate_the_trail(app, caseworker):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite's DELETE is covered above")
    ids = _some_events(caseworker)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events"))
    db.session.rollback()
    assert len(events()) == len(ids)


def test_verify_names_an_altered_row(runner, caseworker):
    ids = _some_events(caseworker)
    target = ids[len(ids) // 2]
    _tamper("UPDATE audit_events SET action = 'case_view' WHERE id = :id", id=target)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"ALTERED: events whose content no longer matches their hash: {target}" in result.output


def test_verify_finds_a_row_rewritten_with_a_fresh_hash(runner, caseworker):
    # Someone who knows the scheme recomputes the row's hash; the next row's link still breaks.
    ids = _some_events(caseworker)
    target = db.session.get(AuditEvent, ids[1])
    target.actor_id = None
    fresh = audit.event_hash(target)
    db.session.rollback()
    _tamper(
        "UPDATE audit_events SET actor_id = NULL, hash = :hash WHERE id = :id",
        hash=fresh,
        id=ids[1],
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"{ids[2]}" in result.output.split("BROKEN LINK")[1]


def test_verify_finds_a_deleted_row(runner, caseworker):
    ids = _some_events(caseworker)
    middle = ids[len(ids) // 2]
    _tamper("DELETE FROM audit_events WHERE id = :id", id=middle)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    following = ids[ids.index(middle) + 1]
    assert "BROKEN LINK" in result.output
    assert str(following) in result.output.split("BROKEN LINK")[1]


def test_verify_finds_a_deleted_first_row(runner, caseworker):
    ids = _some_events(caseworker)
    _tamper("DELETE FROM audit_events WHERE id = :id", id=ids[0])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert str(ids[1]) in result.output.split("BROKEN LINK")[1]


def test_an_empty_trail_verifies(runner, app):
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "OK: 0 events" in result.output


# --- pages -------------------------------------------------------------------------------------


def test_supervisors_see_who_opened_a_case(client, caseworker, supervisor, case):
    log_in(client, caseworker)
    client.get(f"/cases/{case.id}")
    client.post("/logout")
    log_in(client, supervisor)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/audit/case/{case.id}" in page
    response = client.get(f"/audit/case/{case.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Zainab" in html and "Maryam" in html
    assert "127.0.0.1" in html
    assert client.get("/audit/case/999999").status_code == 404


def test_caseworkers_cannot_see_who_opened_a_case(client, caseworker, case):
    log_in(client, caseworker)
    assert client.get(f"/audit/case/{case.id}").status_code == 403
    assert client.get("/audit/accounts").status_code == 403


def test_admins_see_account_events_but_not_case_events(client, admin, caseworker, case):
    client.post("/login", data={"username": caseworker.username, "password": "wrong guess!!"})
    log_in(client, admin)
    assert client.get(f"/audit/case/{case.id}").status_code == 403
    response = client.get("/audit/accounts")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Failed login" in html and "Logged in" in html and "Account changed" in html
    assert "Zainab" in html
    # Case acts (creating this case) are not account events.
    assert case.reference not in html
    assert "case_create" not in html


def test_concurrent_writers_keep_one_chain(app, runner):
    # Each thread has its own session and connection, as parallel requests would.
    def write(n: int) -> None:
        with app.app_context():
            for _ in range(n):
                audit.record("login_failed", commit=True)
            db.session.remove()

    threads = [threading.Thread(target=write, args=(15,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = audit.verify()
    assert (report.count, report.ok) == (60, True)
