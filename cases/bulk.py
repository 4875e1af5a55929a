"""Writing many rows at once, for the demo seeder and the spreadsheet import.

Core's executemany spends more time preparing each row's parameters than the database takes to
store it, so rows go to the driver directly: COPY on PostgreSQL, executemany of the statement
Core compiles on SQLite. Each value is converted exactly as Core would convert it (tests compare
the stored rows with Core's), so an encrypted column is encrypted and its blind index matches.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, insert
from sqlalchemy.types import TypeDecorator


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Write ``rows`` (dicts with the same keys) into ``table`` in the connection's transaction."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, rows)
    else:
        _executemany(connection, table, rows)


def _converters(table: Table, columns: Iterable[str], dialect, only_decorated: bool) -> list:  # noqa: ANN001
    """(position, converter) for the columns whose values need Core's bind processing."""
    found = []
    for position, name in enumerate(columns):
        column_type = table.c[name].type
        if only_decorated and not isinstance(column_type, TypeDecorator):
            continue
        if convert := column_type.dialect_impl(dialect).bind_processor(dialect):
            found.append((position, convert))
    return found


def _copy(connection: Connection, table: Table, rows: list[dict]) -> None:
    # psycopg adapts naive datetimes, dates, booleans, None and StrEnum members to what Core
    # stores, so those values go as they are. Columns of the app's own types (EncryptedString)
    # are converted as Core would: encrypted.
    from psycopg import sql

    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    converters = _converters(table, columns, connection.dialect, only_decorated=True)
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[column] for column in columns]
            for position, convert in converters:
                values[position] = convert(values[position])
            copy.write_row(values)


def _executemany(connection: Connection, table: Table, rows: list[dict]) -> None:
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    columns = compiled.positiontup or []
    # The dialect's own converters, e.g. datetimes to SQLAlchemy's text format on SQLite.
    converters = _converters(table, columns, dialect, only_decorated=False)
    parameters = []
    for row in rows:
        values = [row[name] for name in columns]
        for position, convert in converters:
            values[position] = convert(values[position])
        parameters.append(values)
    connection.connection.driver_connection.executemany(str(compiled), parameters)
