"""One source of "now" so every stored time is naive UTC, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
