"""Probes for load balancers and orchestrators.

``/healthz`` says the process answers (it touches nothing else), so a balancer restarts a stuck
worker but not one whose database is down. ``/readyz`` says whether this instance can serve
staff and families: the database answers and the schema is at the migrations' head. It also
reports whether Redis answers, without depending on it: every server shares one Redis, and
losing it must not take them all out of the balancer (limits are then counted per process,
caches recomputed). Neither says more than "ok" or "unavailable" per check: no host names,
versions or error messages for a stranger to read. docs/deploy.md keeps both off the internet.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..auth.guard import public
from ..extensions import csrf, db

bp = Blueprint("ops", __name__)
MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"
PROBE_TIMEOUT_SECONDS = 2


@bp.get("/healthz")
@public
def healthz() -> Response:
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@public
def readyz() -> Response:
    checks = {"database": database_check(), "redis": redis_check(current_app)}
    # Redis is reported, not required: every server shares it, so its loss must not take them
    # all out of the balancer; meanwhile limits are counted per process and caches recomputed.
    ready = checks["database"] == "ok"
    return _answer(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )


def database_check() -> str:
    """ "ok", "unavailable" (no answer) or "migrations pending" (run `flask db upgrade`)."""
    try:
        revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        db.session.rollback()
        return "unavailable"
    return "ok" if revision in migration_heads() else "migrations pending"


def redis_check(app: Flask) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    try:
        client = Redis.from_url(
            url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
        with client:
            client.ping()
    except RedisError:
        return "unavailable"
    return "ok"


@cache
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def _answer(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


csrf.exempt(bp)
