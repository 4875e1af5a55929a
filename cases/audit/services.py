"""Writing and checking the audit trail.

``record()`` is called by the services and views that act, inside their own transaction, so the
act and its trace are committed together or not at all. Each event's hash covers its own
fields and the previous event's hash; ``verify()`` walks the chain and names every row that no
longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Row, select, text

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db
from .models import AuditEvent

GENESIS_HASH = "0" * 64
# Any fixed number: the PostgreSQL advisory lock that lets one writer extend the chain at a time.
CHAIN_LOCK_KEY = 0x41544841522D41
HASH_VERSION = "v1"

ACCOUNT_ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "account_change",
    # Invitation links and server-side sessions (cases/auth/invitations.py, sessions.py).
    "invitation_create",
    "invitation_use",
    "session_end",
    # Two-factor authentication (cases/auth/totp.py).
    "totp_enable",
    "totp_disable",
    "totp_reset",
    "totp_locked",
    "recovery_code_used",
    "recovery_codes_new",
)
CASE_OPEN_ACTIONS = ("case_view", "case_print")
ACTIONS = frozenset(
    {
        *ACCOUNT_ACTIONS,
        *CASE_OPEN_ACTIONS,
        "case_search",
        "case_create",
        "case_edit",
        "note_add",
        "status_request",
        "status_change",
        "approval_decide",
        "approval_withdraw",
        "assign",
        "share",
        "export",
        "data_request_decide",
        "legal_hold",
        "purge",
        "attachment_add",
        "attachment_view",
        "attachment_remove",
        # "Not the same person" and "same person" decisions (cases/matching/decisions.py).
        "match_decision",
        # Working with others (issue 7): PFIF exchange, API clients, spreadsheet import.
        "pfif_import",
        "pfif_export",
        "api_client_create",
        "api_client_revoke",
        "api_request",
        "spreadsheet_upload",
        "spreadsheet_import",
        "spreadsheet_discard",
        # Operators' backups (cases/backup): every record copied out, or restored over the data.
        "backup_create",
        "backup_restore",
    }
)


def record(
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    actor: User | None = None,
    *,
    item_count: int | None = None,
    commit: bool = False,
) -> AuditEvent:
    """Append one event to the chain in the current transaction.

    The actor defaults to the logged-in user and the IP to the request's client address. Pass
    ``commit=True`` from views that change nothing else (a case view, a search, a login);
    services leave it False and commit the event with their own change.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Held until this transaction ends, so no two writers read the same "latest" hash.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=str(actor.role) if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        item_count=item_count,
        ip=_client_ip(),
        prev_hash="",
        hash="",
    )
    # Insert first: on SQLite the insert takes the database's write lock, so the previous
    # event read next cannot change before this transaction ends.
    session.add(event)
    session.flush()
    event.prev_hash = (
        session.scalar(
            select(AuditEvent.hash)
            .where(AuditEvent.id < event.id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        or GENESIS_HASH
    )
    event.hash = event_hash(event)
    session.flush()
    if commit:
        session.commit()
    return event


def _client_ip() -> str | None:
    # ProxyFix (configured in create_app) has already put the real client in remote_addr.
    if not has_request_context() or not request.remote_addr:
        return None
    return request.remote_addr[:45]


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def event_hash(event: AuditEvent | Row) -> str:
    """SHA-256 over a canonical JSON of the event's fields and the previous event's hash."""
    fields = [
        HASH_VERSION,
        event.id,
        _iso(event.at),
        event.actor_id,
        event.actor_role,
        event.action,
        event.object_type,
        event.object_id,
        event.item_count,
        event.ip,
        event.prev_hash,
    ]
    canonical = json.dumps(fields, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass
class ChainReport:
    """What ``verify()`` found: how many events, which were altered, where links are broken."""

    count: int = 0
    last_hash: str = GENESIS_HASH
    altered: list[int] = field(default_factory=list)
    # Ids whose prev_hash is not the hash of the row before: something there was deleted,
    # inserted or rewritten.
    broken_links: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.altered and not self.broken_links


def _events(batch: int = 1000) -> Iterator[Row]:
    # Plain rows in keyset pages: a long trail neither fills the session nor one huge result.
    table = AuditEvent.__table__
    last_id = 0
    while True:
        rows = db.session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify() -> ChainReport:
    """Recompute every event's hash and every link of the chain, in id order."""
    report = ChainReport()
    expected_prev = GENESIS_HASH
    for event in _events():
        report.count += 1
        if event.prev_hash != expected_prev:
            report.broken_links.append(event.id)
        if event_hash(event) != event.hash:
            report.altered.append(event.id)
        expected_prev = event.hash
    report.last_hash = expected_prev
    return report
