"""The database going away, for the tests of what people see meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError


@contextmanager
def database_gone(engine: Engine) -> Iterator[None]:
    """Every statement on ``engine`` fails as when PostgreSQL restarts, until the block ends."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("terminating connection"))

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)
