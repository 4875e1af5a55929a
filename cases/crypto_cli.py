"""`flask crypto ...`: new keys, key rotation, lookup hashes and a check of the encrypted data.

Encrypted columns are found in the models by their type (``EncryptedString``), so a column
encrypted later is rotated and checked without touching this file. Every command works a
batch of rows at a time, committing after each: an interrupted rotation leaves every value
readable (old and new keys both decrypt) and simply continues on the next run.

Output is counts only: never a value, never a key but the fresh ones ``new-keys`` prints.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import (
    Column,
    Connection,
    Row,
    String,
    and_,
    bindparam,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from . import crypto
from .crypto import CryptoError, EncryptedString, IndexedColumn
from .extensions import db

crypto_cli = AppGroup("crypto", help="Encryption keys and the encrypted columns.")

BATCH_SIZE = 1_000
# Every Fernet token starts with the version byte 0x80 and a 64-bit timestamp, which base64
# writes as "gAAAAA"; a phone or document number never does.
FERNET_MARK = "gAAAAA"


def encrypted_columns() -> list[Column]:
    """Every EncryptedString column of every table the models define."""
    return [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedString)
    ]


def _name(column: ColumnElement) -> str:
    return f"{column.table.name}.{column.name}"


def _as_text(column: Column) -> ColumnElement:
    # The stored text as it is, without the column type's decryption.
    return type_coerce(column, String()).label(column.name)


def _batches(
    connection: Connection, column: Column, extra: Sequence[Column] = (), size: int = BATCH_SIZE
) -> Iterator[list[Row]]:
    """Rows (primary key..., raw value, *extra) with a value, in primary-key order."""
    table = column.table
    key = list(table.primary_key.columns)
    last: tuple | None = None
    while True:
        stmt = (
            select(*key, _as_text(column), *extra)
            .where(column.is_not(None))
            .order_by(*key)
            .limit(size)
        )
        if last is not None:
            stmt = stmt.where(key[0] > last[0] if len(key) == 1 else tuple_(*key) > tuple_(*last))
        rows = connection.execute(stmt).all()
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][: len(key)])


def _write(connection: Connection, column: Column, changes: list[tuple[tuple, Any]]) -> None:
    """Store raw text (already encrypted, or a hash) by primary key, as one executemany."""
    if not changes:
        return
    key = list(column.table.primary_key.columns)
    stmt = (
        update(column.table)
        .where(and_(*(c == bindparam(f"key_{i}") for i, c in enumerate(key))))
        .values({column.name: bindparam("new_value", type_=String())})
    )
    params = [
        {"new_value": value, **{f"key_{i}": part for i, part in enumerate(pk)}}
        for pk, value in changes
    ]
    connection.execute(stmt, params)


def rotate_column(connection: Connection, column: Column, size: int = BATCH_SIZE) -> dict:
    """Re-encrypt the values of ``column`` that are not yet under the first key."""
    counts = {"rotated": 0, "current": 0, "unreadable": 0}
    width = len(column.table.primary_key.columns)
    for rows in _batches(connection, column, size=size):
        changes = []
        for row in rows:
            token = row[width]
            if crypto.is_current(token):
                counts["current"] += 1
                continue
            try:
                changes.append((tuple(row[:width]), crypto.rotate(token)))
            except CryptoError:
                counts["unreadable"] += 1
        _write(connection, column, changes)
        connection.commit()
        counts["rotated"] += len(changes)
    return counts


def reindex_column(
    connection: Connection, indexed: IndexedColumn, size: int = BATCH_SIZE, write: bool = True
) -> dict:
    """Recompute the lookup hashes of one encrypted column; with ``write=False`` only count."""
    value = indexed.value.property.columns[0]
    hash_column = indexed.hash.property.columns[0]
    counts = {"stale": 0, "unreadable": 0}
    width = len(value.table.primary_key.columns)
    for rows in _batches(connection, value, [hash_column], size=size):
        changes = []
        for row in rows:
            try:
                fresh = indexed.index.of(crypto.decrypt(row[width]))
            except CryptoError:
                counts["unreadable"] += 1
                continue
            if fresh != row[width + 1]:
                changes.append((tuple(row[:width]), fresh))
        counts["stale"] += len(changes)
        if write:
            _write(connection, hash_column, changes)
            connection.commit()
    return counts


def encrypt_plaintext(connection: Connection, size: int = BATCH_SIZE) -> int:
    """Encrypt values stored before their column was encrypted, and hash them; returns how many.

    For the migration that turns a plain column into an encrypted one (pass ``op.get_bind()``;
    nothing is committed here). A value that is not a Fernet token is plain text; a token that
    no key decrypts is left alone for `flask crypto check` to report.
    """
    done = 0
    for column in encrypted_columns():
        width = len(column.table.primary_key.columns)
        for rows in _batches(connection, column, size=size):
            changes = [
                (tuple(row[:width]), crypto.encrypt(row[width]))
                for row in rows
                if not row[width].startswith(FERNET_MARK)
            ]
            _write(connection, column, changes)
            done += len(changes)
    for indexed in crypto.INDEXED_COLUMNS:
        value = indexed.value.property.columns[0]
        hash_column = indexed.hash.property.columns[0]
        width = len(value.table.primary_key.columns)
        for rows in _batches(connection, value, size=size):
            changes = []
            for row in rows:
                try:
                    plain = crypto.decrypt(row[width])
                except CryptoError:
                    continue
                changes.append((tuple(row[:width]), indexed.index.of(plain)))
            _write(connection, hash_column, changes)
    return done


@crypto_cli.command("new-keys", with_appcontext=False)
def new_keys() -> None:
    """Print a fresh DATA_KEYS and LOOKUP_KEY.

    For a new instance, put both in instance/config.py (or the environment). To rotate, put
    the new data key FIRST and keep the old one after it, restart, run `flask crypto rotate`,
    then drop the old key. Keep a copy of the keys apart from the database backups: without
    them the encrypted values are lost.
    """
    data_key = crypto.new_key()
    lookup_key = secrets.token_hex(32)
    click.echo("# instance/config.py")
    click.echo(f"DATA_KEYS = [{data_key!r}]")
    click.echo(f"LOOKUP_KEY = {lookup_key!r}")
    click.echo("# or the environment")
    click.echo(f"DATA_KEYS={data_key}")
    click.echo(f"LOOKUP_KEY={lookup_key}")


@crypto_cli.command("rotate")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1))
def rotate(batch_size: int) -> None:
    """Re-encrypt every encrypted value under the first key of DATA_KEYS."""
    unreadable = 0
    with db.engine.connect() as connection:
        for column in encrypted_columns():
            counts = rotate_column(connection, column, batch_size)
            unreadable += counts["unreadable"]
            click.echo(
                f"{_name(column)}: {counts['rotated']} re-encrypted, "
                f"{counts['current']} already under the current key, "
                f"{counts['unreadable']} unreadable"
            )
    # Uploaded files are encrypted with the same keys: dropping the old key must not lose them.
    from .attachments.services import rotate_files

    files = rotate_files()
    unreadable += files["unreadable"]
    click.echo(
        f"attachments (files): {files['rotated']} re-encrypted, "
        f"{files['current']} already under the current key, {files['unreadable']} unreadable"
        + (f", {files['failed']} could not be written (see the log)" if files["failed"] else "")
    )
    if files["failed"]:
        raise click.ClickException(
            f"{files['failed']} files could not be rewritten and are still under the old key: "
            "free disk space and run `flask crypto rotate` again before removing the old key."
        )
    if unreadable:
        raise click.ClickException(
            f"{unreadable} values do not decrypt with any key in DATA_KEYS and were left as "
            "they are. Do not remove an old key before `flask crypto check` reports none."
        )


@crypto_cli.command("reindex")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1))
def reindex(batch_size: int) -> None:
    """Recompute every lookup hash, after LOOKUP_KEY was changed."""
    with db.engine.connect() as connection:
        for indexed in crypto.INDEXED_COLUMNS:
            counts = reindex_column(connection, indexed, batch_size)
            click.echo(
                f"{_name(indexed.hash.property.columns[0])}: {counts['stale']} recomputed, "
                f"{counts['unreadable']} skipped (value unreadable)"
            )


@crypto_cli.command("check")
def check() -> None:
    """Decrypt every encrypted value and recompute every lookup hash; report counts only."""
    problems = 0
    with db.engine.connect() as connection:
        for column in encrypted_columns():
            total = unreadable = older = 0
            width = len(column.table.primary_key.columns)
            for rows in _batches(connection, column):
                for row in rows:
                    total += 1
                    try:
                        crypto.decrypt(row[width])
                    except CryptoError:
                        unreadable += 1
                        continue
                    older += not crypto.is_current(row[width])
            problems += unreadable
            click.echo(
                f"{_name(column)}: {total} values, {unreadable} unreadable, "
                f"{older} under an older key"
            )
        for indexed in crypto.INDEXED_COLUMNS:
            counts = reindex_column(connection, indexed, write=False)
            problems += counts["stale"]
            click.echo(f"{_name(indexed.hash.property.columns[0])}: {counts['stale']} stale")
    from .attachments.services import check_files

    files = check_files()
    problems += files["unreadable"]
    click.echo(
        f"attachments (files): {files['files']} files, {files['unreadable']} unreadable, "
        f"{files['older']} under an older key"
    )
    if problems:
        raise click.ClickException(
            f"{problems} problems. Unreadable values need the key they were encrypted with "
            "back in DATA_KEYS; stale hashes are fixed by `flask crypto reindex`."
        )
    click.echo("All encrypted values decrypt and every lookup hash is current.")


def init_app(app: Flask) -> None:
    app.cli.add_command(crypto_cli)


if __name__ == "__main__":
    # `python -m cases.crypto_cli new-keys` works where `flask crypto new-keys` cannot: on an
    # instance that has no keys yet, which the app refuses to load.
    crypto_cli(prog_name="python -m cases.crypto_cli")
