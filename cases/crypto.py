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

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

EXTENSION = "athar_crypto"


class CryptoError(RuntimeError):
    """A stored value could not be decrypted with any configured key."""


def _key_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(part).strip() for part in value if str(part).strip()]
    return []


def init_app(app: Flask) -> None:
    """Check the keys once at start-up: a missing or malformed key must stop the app."""
    keys = _key_list(app.config.get("DATA_KEYS"))
    lookup = app.config.get("LOOKUP_KEY") or ""
    if not keys or not lookup:
        raise RuntimeError(
            "DATA_KEYS and LOOKUP_KEY are not set. Put them in instance/config.py or the "
            "ATHAR_DATA_KEYS and ATHAR_LOOKUP_KEY environment variables "
            "(`flask crypto new-keys` prints fresh ones; `make run` writes them for a demo)."
        )
    try:
        fernet = MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise RuntimeError("DATA_KEYS holds a key that is not a valid Fernet key.") from error
    if len(lookup) < 32:
        raise RuntimeError("LOOKUP_KEY must be at least 32 characters of random text.")
    app.extensions[EXTENSION] = (fernet, lookup.encode())


def _state() -> tuple[MultiFernet, bytes]:
    return current_app.extensions[EXTENSION]


def new_key() -> str:
    """A fresh random Fernet key, for DATA_KEYS."""
    return Fernet.generate_key().decode()


def encrypt(text: str) -> str:
    return _state()[0].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _state()[0].decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise CryptoError("stored value does not decrypt with any configured key") from error


def encrypt_bytes(data: bytes) -> bytes:
    return _state()[0].encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _state()[0].decrypt(token)
    except InvalidToken as error:
        raise CryptoError("stored file does not decrypt with any configured key") from error


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first (current) key."""
    return _state()[0].rotate(token.encode()).decode()


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash of an already-normalised value, for exact lookups.

    ``purpose`` separates the uses, so equal phone and document numbers hash differently.
    """
    key = _state()[1]
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedString(TypeDecorator):
    """A text column stored encrypted; Python code sees plain text.

    The column is wider than the value: Fernet adds a version byte, a timestamp, an IV, padding
    and a MAC, all base64-encoded (a 13-character phone number becomes about 120 characters).
    """

    impl = String
    cache_ok = True

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
