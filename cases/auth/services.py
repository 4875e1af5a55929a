"""Account rules: password hashing, authentication, creating and disabling staff."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ..audit import services as audit
from ..extensions import db
from . import sessions
from .models import Role, User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


class AccountError(Exception):
    """A rule about accounts was broken; ``str(error)`` is safe to show the user.

    ``field`` names the form field the message belongs beside.
    """

    def __init__(self, message: object, field: str = "password") -> None:
        super().__init__(message)
        self.field = field


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` with this deployment's cost parameters."""
    return _hasher().hash(password)


@cache
def _common_passwords() -> frozenset[str]:
    # The 30,000 most common passwords from leaked sets, shipped with zxcvbn.
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str) -> None:
    """Raise AccountError if ``password`` is too short, too long or a well-known password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("The password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
        )
    if password.lower() in _common_passwords() or password.strip().lower() in _common_passwords():
        raise AccountError(
            _l("This password is on the list of common passwords. Choose a passphrase.")
        )


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    Unknown users cost the same hash work as known ones, so timing does not reveal which
    usernames exist.
    """
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    hasher = _hasher()
    if user is None:
        _verify(hasher, _dummy_hash(), password)
        audit.record("login_failed", commit=True)
        return None
    if not _verify(hasher, user.password_hash, password) or not user.active:
        audit.record("login_failed", "user", user.id, commit=True)
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    db.session.commit()
    return user


def check_password(user: User, password: str) -> bool:
    """Re-authentication: is ``password`` the current password of this active account?

    Used before sensitive acts (exports) by someone already logged in; it changes nothing, so a
    wrong guess leaves no trace beyond the caller's rate limit.
    """
    return verify_secret(user.password_hash, password) and user.active


def verify_secret(stored: str | None, secret: str) -> bool:
    """Check ``secret`` against an argon2 hash; with no hash, spend the same time and fail."""
    hasher = _hasher()
    if stored is None:
        _verify(hasher, _dummy_hash(), secret)
        return False
    return _verify(hasher, stored, secret)


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    cached = current_app.extensions.get("athar_dummy_hash")
    if cached is None:
        cached = hash_password(secrets.token_urlsafe(16))
        current_app.extensions["athar_dummy_hash"] = cached
    return cached


def create_user(username: str, role: Role | str, password: str, display_name: str = "") -> User:
    """Create an active staff account with a password; raises AccountError on a taken name or
    weak password.

    For the command line, the demo and tests; the admin page invites instead
    (cases/auth/invitations.py), so no administrator ever knows a colleague's password.
    """
    username = check_new_account(username, role)
    check_password_rules(password)
    user = add_user(username, role, display_name, hash_password(password))
    db.session.commit()
    return user


def check_new_account(username: str, role: Role | str) -> str:
    """The normalised username for a new account; AccountError if it or the role is refused."""
    username = username.strip().lower()
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError(
            _l("A username may use letters, digits, '.', '-' and '_' only."), "username"
        )
    if role not in set(Role):
        raise AccountError(_l("Unknown role."), "role")
    if db.session.scalar(db.select(User.id).filter_by(username=username)) is not None:
        raise AccountError(_l("That username is already taken."), "username")
    return username


def add_user(username: str, role: Role | str, display_name: str, password_hash: str) -> User:
    """Add a checked account to the session (see check_new_account); the caller commits."""
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=Role(role),
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account_change", "user", user.id)
    return user


def unusable_password_hash() -> str:
    """An argon2id hash of a random secret nobody holds.

    An account waiting for its invitation gets one: a login attempt costs exactly the hash work
    of a real password and always fails, so timing does not tell such accounts apart.
    """
    return hash_password(secrets.token_urlsafe(32))


def set_active(user: User, active: bool) -> User:
    """Enable or disable an account; disabling ends all its sessions at once."""
    user.active = active
    if not active:
        end_sessions(user, reason="disabled")
    audit.record("account_change", "user", user.id)
    db.session.commit()
    return user


def set_role(user: User, role: Role) -> User:
    """Change a user's role; their open sessions end so the new role applies at once."""
    user.role = Role(role)
    end_sessions(user, reason="role_change")
    audit.record("account_change", "user", user.id)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> User:
    """Change a password (rules checked); every other session of the account ends.

    When the account's owner does it in a request, the session in use stays logged in.
    """
    check_password_rules(password)
    user.password_hash = hash_password(password)
    end_sessions(user, except_current=True, reason="password_change")
    audit.record("account_change", "user", user.id)
    db.session.commit()
    return user


def change_own_password(user: User, current_password: str, new_password: str) -> User:
    """The account page: the current password proves it is the owner, then set_password()."""
    if not check_password(user, current_password):
        raise AccountError(_l("This is not your current password."), "current_password")
    return set_password(user, new_password)


def end_sessions(user: User, except_current: bool = False, *, reason: str = "revoked") -> int:
    """End the open sessions of ``user``; with ``except_current``, all but this request's.

    ``reason`` is kept on each session row. Returns how many ended; the caller commits.
    """
    keep = sessions.cookie_key_hash() if except_current else None
    return sessions.end_all(user, reason, keep)


def revoke_sessions(user: User) -> int:
    """An administrator ends every session of ``user`` (a lost phone, a shared computer)."""
    ended = end_sessions(user, reason="revoked")
    audit.record("session_end", "user", user.id)
    db.session.commit()
    return ended


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: the cookie's user, only while its server-side session is live."""
    if not user_id.isdigit():
        return None
    live = sessions.resume(int(user_id), sessions.cookie_key_hash())
    if live is None or not live.user.active:
        return None
    return live.user


def case_staff() -> list[User]:
    """Active caseworkers and supervisors, who can own cases."""
    return list(
        db.session.scalars(
            db.select(User)
            .where(User.active.is_(True), User.role.in_([Role.CASEWORKER, Role.SUPERVISOR]))
            .order_by(User.display_name)
        )
    )
