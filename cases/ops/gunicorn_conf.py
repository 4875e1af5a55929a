"""gunicorn's configuration for Athar: `make serve` and docs/deploy.md use it.

    gunicorn --config python:cases.ops.gunicorn_conf app:app

Settings come from the environment (the app's own from the environment or instance/config.py):
ATHAR_BIND (default 127.0.0.1:8000; nginx in front), WEB_CONCURRENCY worker processes (default
2 per core + 1), ATHAR_THREADS threads per worker (default 4), ATHAR_TIMEOUT seconds a request may
take (default 300: a 100,000-row spreadsheet import runs inside one request; the proxy's timeout
must be as long, see docs/import.md).
"""

from __future__ import annotations

import os

bind = os.environ.get("ATHAR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = int(os.environ.get("ATHAR_THREADS", "4"))
timeout = int(os.environ.get("ATHAR_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests, so no slow leak outlives a day's work.
max_requests = 5000
max_requests_jitter = 500
# Load the app once in the master and fork: start-up cost is paid once, memory is shared.
preload_app = True
# gunicorn's access log would write every path and query string (invitation tokens, searched
# names): the app writes its own access line without them (cases/ops/logs.py).
accesslog = None
# gunicorn 24+ opens a control socket in the home folder: one per user, so two servers on one
# machine would collide; signals do the same job (TERM to stop; not HUP for new code: with the
# app preloaded, new workers would fork from the old code, so restart instead).
control_socket_disable = True
errorlog = "-"
loglevel = os.environ.get("ATHAR_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "cases.ops.logs.RequestIdFilter"},
        "redact": {"()": "cases.ops.logs.RedactRequestFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        # SQLAlchemy and werkzeug would log statements and paths at INFO.
        "sqlalchemy": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
        # Flask-Limiter logs the key of a limit reached at INFO: a typed username (often a
        # password typed in the wrong box), a family's reference, a client address.
        "flask-limiter": {"level": "WARNING"},
    },
}


def post_fork(server, worker) -> None:  # noqa: ANN001
    """Each worker opens its own database connections: none may be shared across a fork."""
    from app import app
    from cases.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)


def when_ready(server) -> None:  # noqa: ANN001
    from app import app

    _count_name_weights(server, app)

    if not app.config.get("REDIS_URL"):
        server.log.warning(
            "REDIS_URL is not set: rate limits and caches are kept per worker. Set it in "
            "production (docs/deploy.md)."
        )


def _count_name_weights(server, app) -> None:  # noqa: ANN001
    """Count matching's name weights once in the master, before the workers are forked: each
    would otherwise count them on its first case page (seconds at a million cases)."""
    from cases.extensions import db
    from cases.matching.weights import current_weights

    with app.app_context():
        try:
            current_weights()
        except Exception:  # noqa: BLE001 - the workers count them later instead
            server.log.warning("Name weights not counted at start; workers will count them.")
        finally:
            db.session.remove()
            db.engine.dispose()
