"""Invitation links: a new (or reset) account sets its own password; nobody else ever knows it.

The link's token is shown once to whoever issued it and stored only as its SHA-256, like a
session key: a copy of the database cannot be turned into working links. A link works once,
for INVITATION_HOURS, and only while the account is active.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from ..audit import services as audit
from ..clock import utcnow
from ..extensions import db
from . import services
from .models import Invitation, Role, User

MAX_TOKEN_LENGTH = 100  # tokens are 43 characters; anything far longer is not worth hashing


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_new_user(
    creator: User | None, username: str, role: Role | str, display_name: str = ""
) -> tuple[User, str]:
    """Create an account with no usable password and a link to set one.

    Returns the account and the link's token, which is not stored and cannot be shown again.
    Raises AccountError for a refused username or role.
    """
    username = services.check_new_account(username, role)
    user = services.add_user(username, role, display_name, services.unusable_password_hash())
    token = _issue(user, creator)
    db.session.commit()
    return user, token


def reset_by_invitation(creator: User | None, user: User) -> str:
    """Replace the password of ``user`` with a new invitation link.

    The old password stops working, every session of the account ends and earlier links that
    were not used yet stop working. Returns the new link's token.
    """
    user.password_hash = services.unusable_password_hash()
    services.end_sessions(user, reason="password_reset")
    db.session.execute(
        delete(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
    )
    token = _issue(user, creator)
    db.session.commit()
    return token


def _issue(user: User, creator: User | None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        user_id=user.id,
        token_hash=token_hash(token),
        created_by_id=creator.id if creator is not None else None,
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["INVITATION_HOURS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation_create", "user", user.id, actor=creator)
    return token


def find_valid(token: str) -> Invitation | None:
    """The unused, unexpired invitation of an active account with this token, or None.

    Unknown, used, expired and disabled all give None: the page says the same for each.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    invitation = db.session.scalar(select(Invitation).filter_by(token_hash=token_hash(token)))
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.expires_at <= utcnow()
        or not invitation.user.active
    ):
        return None
    return invitation


class InvitationUsedError(Exception):
    """The link was used between opening the page and sending the form."""


def accept(invitation: Invitation, password: str) -> User:
    """Set the invited account's password from its link; the link is used up.

    Raises AccountError for a password the rules refuse, and leaves the link usable so the
    invitee can try again. Raises InvitationUsedError if the link was used meanwhile.
    """
    services.check_password_rules(password)
    user = invitation.user
    # One UPDATE that only matches an unused link: two tabs sending at once cannot both win.
    used = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise InvitationUsedError
    user.password_hash = services.hash_password(password)
    services.end_sessions(user, reason="password_change")
    audit.record("invitation_use", "user", user.id, actor=user)
    db.session.commit()
    return user


def pending_invitations() -> dict[int, Invitation]:
    """The newest unused, unexpired invitation per user id, for the accounts page."""
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at)
    )
    return {invitation.user_id: invitation for invitation in rows}


def purge_spent(before: datetime, dry_run: bool = False) -> int:
    """Delete invitations used or expired before ``before``; returns how many (would) go."""
    spent = or_(Invitation.used_at < before, Invitation.expires_at < before)
    if dry_run:
        return db.session.scalar(select(func.count(Invitation.id)).where(spent)) or 0
    return db.session.execute(delete(Invitation).where(spent)).rowcount
