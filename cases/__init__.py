"""Athar (أثر): case management for families searching for missing relatives."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import crypto, errors, i18n, security
from .auth import cli as user_cli
from .auth import guard
from .auth.services import load_user
from .config import load_config
from .extensions import cache, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error pages, CLI."""
    app = Flask(
        __name__,
        # Deployments may keep config.py and the SQLite file elsewhere (read-only code trees).
        instance_path=os.environ.get("ATHAR_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    load_config(app, test_config)
    if app.config.get("TRUSTED_PROXIES"):
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # Ids beyond a 64-bit integer would overflow the database driver: make them plain 404s.
    app.url_map.converters["int"] = BoundedIntConverter

    crypto.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.session_protection = "basic"
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    guard.init_app(app)

    from .admin.views import bp as admin_bp
    from .api import init_app as api_init
    from .attachments.views import bp as attachments_bp
    from .audit import views as audit
    from .auth.views import bp as auth_bp
    from .backup import init_app as backup_init
    from .casework.views import bp as casework_bp
    from .crypto_cli import init_app as crypto_cli_init
    from .demo.cli import init_app as demo_init
    from .exchange import init_app as pfif_init
    from .imports import init_app as imports_init
    from .inquiries import views as intake
    from .inquiries.public import bp as family_bp
    from .matching.views import bp as matching_bp
    from .ops import init_app as ops_init
    from .oversight.reports import bp as reports_bp
    from .oversight.views import bp as oversight_bp
    from .retention import init_app as retention_init

    app.register_blueprint(family_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(intake.bp, url_prefix="/intake")
    app.register_blueprint(casework_bp, url_prefix="/cases")
    app.register_blueprint(attachments_bp, url_prefix="/cases")
    app.register_blueprint(oversight_bp, url_prefix="/oversight")
    app.register_blueprint(reports_bp, url_prefix="/oversight/reports")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(matching_bp, url_prefix="/matching")

    intake.init_app(app)
    audit.init_app(app)
    user_cli.init_app(app)
    crypto_cli_init(app)
    demo_init(app)
    retention_init(app)
    pfif_init(app)
    imports_init(app)
    api_init(app)
    backup_init(app)
    ops_init(app)
    return app
