"""Running Athar in production: health probes, request ids and JSON logs, the gunicorn config.

docs/deploy.md describes the set-ups; ``gunicorn_conf`` is the server's config file.
"""

from __future__ import annotations

from flask import Flask

from . import health, logs


def init_app(app: Flask) -> None:
    logs.init_app(app)
    app.register_blueprint(health.bp)
