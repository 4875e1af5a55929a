"""Staff accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..crypto import EncryptedString
from ..extensions import db


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Two-factor authentication (cases/auth/totp.py). The shared secret is encrypted at rest:
    # anyone who reads it can make codes. The last accepted 30-second time step makes each
    # code good for one login only.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Wrong second-step codes in a row; at TOTP_FAILURE_LIMIT only an admin reset opens it again.
    totp_failures: Mapped[int] = mapped_column(default=0)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def works_cases(self) -> bool:
        """Caseworkers and supervisors hold case files; admins never do."""
        return self.role in (Role.CASEWORKER, Role.SUPERVISOR)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class StaffSession(db.Model):
    """One login of one browser, kept on the server so it can be listed and ended.

    The browser holds a random key in its signed session cookie; only the key's SHA-256 is
    stored, so a copy of this table cannot be replayed as a login.
    """

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user_id_ended_at", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    # logout, idle, expired, password_change, disabled, role_change, revoked, totp_reset ...
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """A one-time link by which a new or reset account sets its own password.

    Only the SHA-256 of the link's token is stored; the link itself is shown once.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
