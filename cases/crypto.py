"""Encryption at rest for the most sensitive values, and keyed hashes to find them again.

Phone numbers, document numbers, TOTP secrets and uploaded files are stored encrypted with
Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``). The keys come from the
environment or ``instance/``, never from the database, so a stolen database dump or backup
reads as noise without them.

``DATA_KEYS`` is a list of Fernet keys (or one comma-separated string): the first encrypts,
every one of them decrypts, so a key can be rotated by putting a new one first and running
``flask crypto rotate``. ``LOOKUP_KEY`` keys the HMAC used for "blind index" columns: an exact
match on a phone or document number compares keyed hashes, which reveal nothing without the
key and cannot be reversed by trying every Iraqi phone number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import String, event
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

EXTENSION = "athar_crypto"


class _Keys(NamedTuple):
    every: MultiFernet  # decrypts with any configured key, encrypts with the first
    current: Fernet  # the first key alone: tells a rotated value from one still to rotate
    lookup: bytes


class CryptoError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


def data_keys(app: Flask) -> list[str]:
    """The configured DATA_KEYS, newest first: a list, or one comma-separated string."""
    return _key_list(app.config.get("DATA_KEYS"))


def _key_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(part).strip() for part in value if str(part).strip()]
    return []


def init_app(app: Flask) -> None:
    """Check the keys once at start-up: a missing or malformed key must stop the app."""
    keys = data_keys(app)
    lookup = app.config.get("LOOKUP_KEY") or ""
    if not keys or not lookup:
        raise RuntimeError(
            "DATA_KEYS and LOOKUP_KEY are not set. Put them in instance/config.py or the "
            "ATHAR_DATA_KEYS and ATHAR_LOOKUP_KEY environment variables "
            "(`flask crypto new-keys` prints fresh ones; `make run` writes them "
            "for a demo)."
        )
    try:
        fernets = [Fernet(key) for key in keys]
    except ValueError as error:
        raise RuntimeError("DATA_KEYS holds a key that is not a valid Fernet key.") from error
    if len(lookup) < 32:
        raise RuntimeError("LOOKUP_KEY must be at least 32 characters of random text.")
    app.extensions[EXTENSION] = _Keys(MultiFernet(fernets), fernets[0], lookup.encode())


def _state() -> _Keys:
    return current_app.extensions[EXTENSION]


def new_key() -> str:
    """A fresh random Fernet key, for DATA_KEYS."""
    return Fernet.generate_key().decode()


def encrypt(text: str) -> str:
    return _state().every.encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _state().every.decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise CryptoError("stored value does not decrypt with any configured key") from error


def encrypt_bytes(data: bytes) -> bytes:
    return _state().every.encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _state().every.decrypt(token)
    except InvalidToken as error:
        raise CryptoError("stored file does not decrypt with any configured key") from error


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first (current) key.

    Raises CryptoError when no configured key decrypts it.
    """
    try:
        return _state().every.rotate(token.encode()).decode()
    except InvalidToken as error:
        raise CryptoError("stored value does not decrypt with any configured key") from error


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the first key (nothing to rotate)."""
    return is_current_bytes(token.encode())


def rotate_bytes(token: bytes) -> bytes:
    """``rotate`` for a stored file's bytes."""
    try:
        return _state().every.rotate(token)
    except InvalidToken as error:
        raise CryptoError("stored file does not decrypt with any configured key") from error


def is_current_bytes(token: bytes) -> bool:
    """``is_current`` for a stored file's bytes."""
    try:
        _state().current.decrypt(token)
    except InvalidToken:
        return False
    return True


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash of an already-normalised value, for exact lookups.

    ``purpose`` separates the uses, so equal phone and document numbers hash differently.
    """
    key = _state().lookup
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BlindIndex:
    """How one kind of value is hashed for lookups: its purpose and its normal form.

    ``normalise`` turns any way of writing the value into one canonical string (E.164 for a
    phone), so "0770 123 4567" and "+9647701234567" hash alike.
    """

    purpose: str
    normalise: Callable[[str], str]

    def of(self, value: str | None) -> str | None:
        """The hash to store or to look up; None for an empty value."""
        key = self.normalise(value) if value else ""
        return blind_index(key, self.purpose) if key else None


@dataclass(frozen=True)
class IndexedColumn:
    index: BlindIndex
    value: InstrumentedAttribute
    hash: InstrumentedAttribute


# Every encrypted column that has a hash next to it, for `flask crypto reindex` and `check`.
INDEXED_COLUMNS: list[IndexedColumn] = []


def keep_blind_index(
    value: InstrumentedAttribute, hash_: InstrumentedAttribute, index: BlindIndex
) -> None:
    """Recompute ``hash_`` whenever ``value`` is set on a model, so no code path can forget it.

    Core inserts bypass the ORM and must set the hash themselves with ``index.of`` (the demo
    seeder does); `flask crypto check` reports any row where they did not.
    """
    name = hash_.key

    def refresh(target: Any, new: str | None, old: Any, initiator: Any) -> None:
        setattr(target, name, index.of(new))

    event.listen(value, "set", refresh)
    INDEXED_COLUMNS.append(IndexedColumn(index, value, hash_))


class EncryptedString(TypeDecorator):
    """A text column stored encrypted; Python code sees plain text.

    The column is wider than the value: Fernet adds a version byte, a timestamp, an IV, padding
    and a MAC, all base64-encoded (a 13-character phone number becomes about 120 characters).
    """

    impl = String
    cache_ok = True

    class comparator_factory(String.Comparator):  # noqa: N801 - the name SQLAlchemy looks up
        """Refuses SQL comparisons: equal plain texts encrypt differently, so ``=`` never
        matches. Lookups go through the blind index column instead."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.is_, operators.is_not) or (
                op in (operators.eq, operators.ne) and other == (None,)
            ):
                return super().operate(op, *other, **kwargs)
            raise TypeError(
                f"{self.expr} is encrypted and cannot be compared in SQL; "
                "compare its blind index column instead"
            )

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise TypeError(f"{self.expr} is encrypted and cannot be compared in SQL")

    def __init__(self, length: int = 255) -> None:
        super().__init__(length)

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        if value is None:
            return None
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        if value is None:
            return None
        return decrypt(value)
