"""Flask extensions, created unbound and attached in ``create_app``."""

import contextlib
import sqlite3

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so Alembic migrations are stable on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
migrate = Migrate()
cache = Cache()
# Limits are declared on the routes that need them (public forms, login); none by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def cache_get_many(*keys: str) -> list:
    """The cached values, None for each when the cache does not answer (Redis away): the
    caller computes them, so a lost Redis makes pages slower, never unavailable."""
    try:
        return list(cache.get_many(*keys))
    except RedisError:
        return [None] * len(keys)


def cache_set_many(values: dict, timeout: int) -> None:
    """Keep ``values``; nothing happens when the cache does not answer."""
    with contextlib.suppress(RedisError):
        cache.set_many(values, timeout=timeout)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    """SQLite: enforce foreign keys (ON DELETE CASCADE), let readers work during a write (WAL)
    and wait for a busy lock instead of failing at once.

    Transactions are left to pysqlite, which begins one just before the first INSERT, UPDATE or
    DELETE, so a write's wait for the lock starts from a fresh snapshot and the busy timeout
    applies. Do not make the first read begin the transaction (SQLAlchemy's "serializable"
    recipe for pysqlite): a deferred transaction that reads, then writes after another
    connection wrote, gets "database is locked" at once; with BEGIN IMMEDIATE every request,
    reads included, queues for the one write lock. bench/faults.py measured both (fewer writes
    per second, waits past the busy timeout); tests/ops/test_sqlite_concurrency.py guards this.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
