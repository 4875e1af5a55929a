"""API client rules: who may get a token, what it may do, when it stops working."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import services as audit
from ..auth.models import Role, User
from ..clock import utcnow
from ..extensions import db
from .models import ApiClient, Scope

TOKEN_PREFIX = "athar_"  # noqa: S105 - a marker, not a secret
# What the admin pages show of a token: the fixed prefix and six random characters.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MAX_TOKEN_LENGTH = 200


class ApiClientError(Exception):
    """A rule refused the action; ``str(error)`` is the message for the user."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """``athar_`` and 256 random bits: too many to guess, so a fast hash may store it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_client(
    actor: User,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[ApiClient, str]:
    """A new client acting as ``user``; returns it and the token, to be shown once.

    The client gets that account's access and nothing more, so only accounts that work on
    cases qualify: an admin account reads no case files, and neither may its token.
    """
    if actor.role != Role.ADMIN:
        raise ApiClientError(_l("Only an administrator can create API clients."))
    if not user.active or not user.works_cases:
        raise ApiClientError(
            _l("An API client can only act as an active caseworker or supervisor.")
        )
    chosen = sorted({str(Scope(s)) for s in scopes})
    if not chosen:
        raise ApiClientError(_l("Choose at least one scope."))
    name = (name or "").strip()
    if not name:
        raise ApiClientError(_l("Give the client a name."))
    if expires_at is not None and expires_at <= utcnow():
        raise ApiClientError(_l("The expiry date must be in the future."))
    token = new_token()
    client = ApiClient(
        name=name[:120],
        user_id=user.id,
        user_role=user.role,
        scopes=",".join(chosen),
        token_hash=hash_token(token),
        token_prefix=token[:SHOWN_PREFIX_LENGTH],
        created_by_id=actor.id,
        expires_at=expires_at,
    )
    db.session.add(client)
    db.session.flush()
    audit.record("api_client_create", "api_client", client.id, actor)
    db.session.commit()
    return client, token


def revoke_client(actor: User, client: ApiClient) -> ApiClient:
    """The token stops working at once; the client stays listed with who revoked it."""
    if actor.role != Role.ADMIN:
        raise ApiClientError(_l("Only an administrator can revoke API clients."))
    if client.revoked_at is not None:
        raise ApiClientError(_l("This client was already revoked."))
    client.revoked_at = utcnow()
    client.revoked_by_id = actor.id
    audit.record("api_client_revoke", "api_client", client.id, actor)
    db.session.commit()
    return client


def authenticate(token: str | None) -> ApiClient | None:
    """The client whose token this is, if it may still be used; None otherwise.

    A client stops working when it is revoked or expired, and when the account it acts as is
    disabled, is no longer case staff or has changed role since the client was made (its
    access would no longer be what the admin granted).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None
    client = db.session.scalar(select(ApiClient).filter_by(token_hash=hash_token(token)))
    if client is None or client.state() != "active":
        return None
    user = client.user
    if not user.active or not user.works_cases or user.role != client.user_role:
        return None
    return client


def clients() -> list[ApiClient]:
    """Every client, newest first, for the admin page."""
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id.desc())))
