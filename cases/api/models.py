"""API clients: a partner tool acting as one staff account, through a bearer token.

Only the token's SHA-256 is stored: the token is random and long (256 bits), so a fast hash is
enough, and a copy of this table cannot be replayed against the API.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..clock import utcnow
from ..extensions import db


class Scope(StrEnum):
    READ = "read"  # list and read cases, notes, status history, inquiries
    WRITE = "write"  # create and edit cases, add notes, change statuses, submit inquiries
    PFIF = "pfif"  # import and export PFIF records


class ApiClient(db.Model):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The staff account the client acts as: it gets exactly that account's access.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The account's role when the client was made: a role change stops the client.
    user_role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[str] = mapped_column(String(60))  # comma-separated Scope values
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, not secret, so people can tell tokens apart.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)

    def state(self, now: datetime | None = None) -> str:
        """ "active", "revoked" or "expired" (the account's own state is checked apart)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"

    def __repr__(self) -> str:
        return f"<ApiClient {self.id} {self.token_prefix}>"
