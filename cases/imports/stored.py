"""The dry run's valid rows, kept encrypted in the batch so the import need not read the file
again.

Reading and checking 100,000 rows costs 20–40 s; the supervisor who clicks "Import" has just
seen their check, so the import takes the rows as checked and only asks the database again for
likely duplicates (cases may have been recorded meanwhile). The rows are compact JSON, zlib
compressed and encrypted with the data keys like the file itself (cases.crypto), and deleted
with it. Anything that could make them differ from a fresh check sends the import back to the
file: another day (dates are checked against today), another mapping, another CaseDetails
shape, or a blob that does not decrypt.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, fields
from datetime import date

from .. import crypto
from ..casework.services import CaseDetails, ContactDetails, DocumentDetails
from .duplicates import RowKeys
from .rows import CheckedRow
from .writer import Hashes

VERSION = 2
_FIELDS = tuple(f.name for f in fields(CaseDetails))
_DATES = frozenset({"departure_date", "last_contact_date"})
_LISTS = frozenset({"latin_names", "aliases", "phones"})
_COMPRESSION = 1  # level 1: a third of level 6's time for a slightly larger blob


def _details_row(details: CaseDetails) -> list:
    row = []
    for name in _FIELDS:
        value = getattr(details, name)
        if name in _DATES:
            value = value.isoformat() if value is not None else None
        elif name == "documents":
            value = [[d.doc_type, d.number] for d in value]
        elif name == "contacts":
            value = [[c.name, c.relationship, c.phone_e164, c.preferred_language] for c in value]
        row.append(value)
    return row


def _details_of(row: list) -> CaseDetails:
    values = dict(zip(_FIELDS, row, strict=True))
    for name in _DATES:
        if values[name] is not None:
            values[name] = date.fromisoformat(values[name])
    values["documents"] = [DocumentDetails(*d) for d in values["documents"]]
    values["contacts"] = [ContactDetails(*c) for c in values["contacts"]]
    return CaseDetails(**values)


@dataclass
class Kept:
    """What the dry run kept: its valid rows, their duplicate keys and the number hashes."""

    valid: list[CheckedRow]
    keys: list[RowKeys]
    hashes: Hashes


def _keys_row(keys: RowKeys) -> list:
    return [
        keys.number,
        keys.names,
        keys.year,
        keys.mother,
        sorted(keys.phones),
        sorted(keys.documents),
    ]


def _keys_of(row: list) -> RowKeys:
    number, names, year, mother, phones, documents = row
    return RowKeys(
        number, tuple(names) if names else None, year, mother, set(phones), set(documents)
    )


def pack(kept: Kept, columns: list[str], today: date) -> bytes:
    """The encrypted blob of the rows a check found valid, with what they depend on."""
    phones, documents = kept.hashes.known()
    payload = {
        "version": VERSION,
        "fields": _FIELDS,
        "columns": columns,
        "today": today.isoformat(),
        "rows": [
            [
                checked.number,
                checked.recorded_on.isoformat() if checked.recorded_on else None,
                _details_row(checked.details),
            ]
            for checked in kept.valid
        ],
        "keys": [_keys_row(keys) for keys in kept.keys],
        "phone_hashes": phones,
        "document_hashes": documents,
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return crypto.encrypt_bytes(zlib.compress(text.encode(), _COMPRESSION))


def unpack(blob: bytes | None, columns: list[str], today: date) -> Kept | None:
    """The rows of ``pack`` when they still stand for a fresh check with ``columns`` on
    ``today``; None when the file must be read and checked again."""
    if blob is None:
        return None
    try:
        payload = json.loads(zlib.decompress(crypto.decrypt_bytes(blob)))
        if (
            payload.get("version") != VERSION
            or tuple(payload.get("fields") or ()) != _FIELDS
            or payload.get("columns") != columns
            or payload.get("today") != today.isoformat()
        ):
            return None
        valid = [
            CheckedRow(
                number,
                _details_of(details),
                [],
                date.fromisoformat(recorded_on) if recorded_on else None,
            )
            for number, recorded_on, details in payload["rows"]
        ]
        keys = [_keys_of(row) for row in payload["keys"]]
        if [k.number for k in keys] != [c.number for c in valid]:
            return None
        hashes = Hashes(payload["phone_hashes"], payload["document_hashes"])
        return Kept(valid, keys, hashes)
    except (crypto.CryptoError, zlib.error, ValueError, TypeError, KeyError):
        return None
