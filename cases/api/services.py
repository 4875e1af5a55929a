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
# What the pages show of a token: the fixed prefix and six random characters.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MAX_TOKEN_LENGTH = 200


class ApiClientError(Exception):
    """A rule refused the action; ``str(error)`` is the message for the user."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """``athar_`` and 256 random bits: too many to guess, so a fast hash may store it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class Operator:
    """Whoever runs ``flask api`` on the server (an operator, the CI's fuzzing script).

    They hold the database and its keys already, so "only for your own account" would protect
    nothing from them; their acts are recorded with no actor. A web view never has one: it
    passes the logged-in account.
    """

    def __repr__(self) -> str:
        return "<Operator>"


OPERATOR = Operator()


def create_client(
    actor: User | Operator,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[ApiClient, str]:
    """A new client acting as ``user``; returns it and the token, to be shown once.

    A token reads and changes case files as its account, so only that account's holder may
    make one, on their own account page, after typing their password again: whoever else made
    it (an administrator, who must never read case files) would hold a key to files that are
    not theirs, and the audit trail would name the account's holder for what they did. The
    operator's command line is the one exception (see ``Operator``). The client gets that
    account's access and nothing more, so only accounts that work on cases qualify.
    """
    if isinstance(actor, User) and actor.id != user.id:
        raise ApiClientError(_l("You can create API clients only for your own account."))
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
        created_by_id=_actor_id(actor),
        expires_at=expires_at,
    )
    db.session.add(client)
    db.session.flush()
    audit.record("api_client_create", "api_client", client.id, _audited(actor))
    db.session.commit()
    return client, token


def revoke_client(actor: User | Operator, client: ApiClient) -> ApiClient:
    """The token stops working at once; the client stays listed with who revoked it.

    Its account's holder may revoke it (a tool they no longer use, a token they fear leaked),
    and so may an administrator, who sees every client but none of their tokens.
    """
    if isinstance(actor, User) and actor.role != Role.ADMIN and actor.id != client.user_id:
        raise ApiClientError(_l("You can revoke only your own API clients."))
    if client.revoked_at is not None:
        raise ApiClientError(_l("This client was already revoked."))
    client.revoked_at = utcnow()
    client.revoked_by_id = _actor_id(actor)
    audit.record("api_client_revoke", "api_client", client.id, _audited(actor))
    db.session.commit()
    return client


def _actor_id(actor: User | Operator) -> int | None:
    return actor.id if isinstance(actor, User) else None


def _audited(actor: User | Operator) -> User | None:
    return actor if isinstance(actor, User) else None


def authenticate(token: str | None) -> ApiClient | None:
    """The client whose token this is, if it may still be used; None otherwise.

    A client stops working when it is revoked or expired, and when the account it acts as is
    disabled, is no longer case staff or has changed role since the client was made (its
    access would no longer be what its holder granted).
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


def clients_of(user: User) -> list[ApiClient]:
    """The clients acting as ``user``, newest first, for their account page."""
    return list(
        db.session.scalars(
            select(ApiClient).filter_by(user_id=user.id).order_by(ApiClient.id.desc())
        )
    )


def own_client(user: User, client_id: int) -> ApiClient | None:
    """``user``'s client with this id; None for anyone else's, so a page answers 404 and
    reveals nothing about other people's clients."""
    return db.session.scalar(select(ApiClient).filter_by(id=client_id, user_id=user.id))
