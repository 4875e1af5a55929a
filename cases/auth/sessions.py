"""Server-side staff sessions: each login is a row that can be listed, timed out and ended.

The browser's signed cookie carries a random key; the row keeps only its SHA-256. A request is
logged in only while its row is live: not ended, used within the idle limit and younger than
the absolute limit, both measured on the server. Ending the row ends that login wherever its
cookie is, copies included (ASVS V7.3.1-2, V7.4.1-2).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, has_request_context, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from ..audit import services as audit
from ..clock import utcnow
from ..extensions import db
from .models import StaffSession, User

COOKIE_KEY = "staff_session"
# last_seen_at is written at most once a minute per session: a write on every request would make
# every page view a database write (on SQLite, a wait for the one write lock). The idle limit is
# counted from that stored time, so an idle session may end up to a minute early, never late.
SEEN_WRITE_INTERVAL = timedelta(seconds=60)
USER_AGENT_LENGTH = 200
IP_LENGTH = 45  # the longest textual IPv6 address


class SessionError(Exception):
    """A session cannot be ended as asked; ``str(error)`` is safe to show the user."""


def key_hash(key: str) -> str:
    """The stored form of a session key: SHA-256 is enough for 256 random bits."""
    return hashlib.sha256(key.encode()).hexdigest()


def cookie_key_hash() -> str | None:
    """The key hash named by this request's cookie, or None outside a request or logged out."""
    if not has_request_context():
        return None
    key = session.get(COOKIE_KEY)
    return key_hash(key) if isinstance(key, str) and key else None


def open_session(
    user: User, ip: str | None = None, user_agent: str | None = None
) -> tuple[StaffSession, str]:
    """Record a new login of ``user``; returns the row and the key for the browser's cookie."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(
        user_id=user.id,
        key_hash=key_hash(key),
        created_at=now,
        last_seen_at=now,
        ip=_clean(ip, IP_LENGTH),
        user_agent=_clean(user_agent, USER_AGENT_LENGTH),
    )
    # Only now is the person in: a correct password still waiting for its code is no login.
    user.last_login_at = now
    db.session.add(row)
    db.session.commit()
    return row, key


def resume(user_id: int, hashed_key: str | None) -> StaffSession | None:
    """The live session of ``user_id`` with this key hash, or None.

    A session found past its idle or absolute limit is ended here, so the row says why it
    stopped; a live one has its last_seen_at moved on (at most once a minute).
    """
    if not hashed_key:
        return None
    row = db.session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.user))  # one query per request, not two
        .filter_by(key_hash=hashed_key)
    )
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return None
    now = utcnow()
    reason = _timed_out(row, now)
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        # The owner is named as actor: this runs while Flask-Login is still loading the user.
        audit.record("session_end", "user", row.user_id, actor=row.user)
        db.session.commit()
        return None
    if now - row.last_seen_at >= SEEN_WRITE_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    return row


def _timed_out(row: StaffSession, now: datetime) -> str | None:
    cfg = current_app.config
    if now - row.created_at > timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"]):
        return "expired"
    if now - row.last_seen_at > timedelta(seconds=cfg["SESSION_IDLE_SECONDS"]):
        return "idle"
    return None


def end_current(reason: str) -> None:
    """End the session this request's cookie names (logging out); commits."""
    hashed = cookie_key_hash()
    if hashed is None:
        return
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.key_hash == hashed, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    db.session.commit()


def end_all(user: User, reason: str, keep_key_hash: str | None = None) -> int:
    """End every open session of ``user`` (but the one with ``keep_key_hash``); no commit.

    Returns how many ended. The caller commits with the change that made this necessary.
    """
    stmt = update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
    )
    if keep_key_hash is not None:
        stmt = stmt.where(StaffSession.key_hash != keep_key_hash)
    result = db.session.execute(stmt.values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount


def _live(stmt):  # noqa: ANN001, ANN202
    cfg = current_app.config
    now = utcnow()
    return stmt.where(
        StaffSession.ended_at.is_(None),
        StaffSession.created_at >= now - timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"]),
        StaffSession.last_seen_at >= now - timedelta(seconds=cfg["SESSION_IDLE_SECONDS"]),
    )


def active_sessions(user: User) -> list[StaffSession]:
    """The open sessions of ``user``, most recently used first.

    Sessions past a limit but not yet visited since (and so not yet marked ended) are left out:
    they can no longer be used.
    """
    stmt = _live(select(StaffSession).where(StaffSession.user_id == user.id))
    return list(db.session.scalars(stmt.order_by(StaffSession.last_seen_at.desc())))


def active_session_counts() -> dict[int, int]:
    """Open sessions per user id, for the accounts page."""
    stmt = _live(select(StaffSession.user_id, func.count(StaffSession.id))).group_by(
        StaffSession.user_id
    )
    return {user_id: count for user_id, count in db.session.execute(stmt)}


def end_other_session(user: User, session_id: int) -> None:
    """``user`` ends one of their own sessions from another browser; commits.

    The session in use is ended by logging out, so a stray click cannot lock the user out.
    """
    row = db.session.get(StaffSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise SessionError(_l("That session has already ended."))
    if row.key_hash == cookie_key_hash():
        raise SessionError(_l("This is the session you are using. Log out to end it."))
    row.ended_at, row.end_reason = utcnow(), "revoked"
    audit.record("session_end", "user", user.id, actor=user)
    db.session.commit()


_BROWSERS = (
    ("Edge", r"\bEdg(e|A|iOS)?/"),
    ("Opera", r"\bOPR/|\bOpera\b"),
    ("Samsung Internet", r"\bSamsungBrowser/"),
    ("Firefox", r"\bFirefox/|\bFxiOS/"),
    ("Chrome", r"\bChrome/|\bCriOS/"),
    ("Safari", r"\bSafari/"),
)
_SYSTEMS = (
    ("Android", r"\bAndroid\b"),
    ("iPhone", r"\biPhone\b"),
    ("iPad", r"\biPad\b"),
    ("Windows", r"\bWindows\b"),
    ("macOS", r"\bMacintosh\b"),
    ("ChromeOS", r"\bCrOS\b"),
    ("Linux", r"\bLinux\b"),
)


def describe_browser(user_agent: str | None) -> str:
    """A short, recognisable name such as "Firefox, Windows"; the raw header is shown as a title.

    Browsers are named in the Latin script they use themselves, so nothing here is translated
    except the fallback.
    """
    text = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, text)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, text)), None)
    parts = [part for part in (browser, system) if part]
    return ", ".join(parts) if parts else str(_l("Unknown browser"))


def _clean(value: str | None, length: int) -> str | None:
    if not value:
        return None
    # Headers are the client's to choose: no NUL (PostgreSQL refuses it), no unbounded length.
    return value.replace("\x00", "")[:length] or None


def purge_old(before: datetime, dry_run: bool = False) -> int:
    """Delete the records of logins (address, browser) that ended or went idle before
    ``before``; returns how many (would) go. Retention calls it: staff are data subjects too."""
    stale = or_(
        StaffSession.ended_at < before,
        StaffSession.ended_at.is_(None) & (StaffSession.last_seen_at < before),
    )
    if dry_run:
        return db.session.scalar(select(func.count(StaffSession.id)).where(stale)) or 0
    return db.session.execute(delete(StaffSession).where(stale)).rowcount
