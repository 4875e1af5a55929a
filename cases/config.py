"""Settings: defaults here, then ``instance/config.py``, then the environment.

Production refuses to start without a real SECRET_KEY: a guessable key would let anyone forge a
staff session.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

CONNECT_TIMEOUT_SECONDS = 5


class Config:
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, for this exact host and path "/".
    SESSION_COOKIE_NAME = "__Host-athar"
    # How many reverse proxies (nginx, a load balancer) sit in front of the app and add
    # X-Forwarded-* headers: the client address is read from that many hops back.
    TRUSTED_PROXIES = 0
    LOGIN_LIMIT_PER_ADDRESS = "20 per 15 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    # Wrong two-factor codes per account: a guess has 3 chances in a million (a 30 s window).
    LOGIN_CODE_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 3600  # cookie lifetime; the guard enforces the limits below
    SESSION_ABSOLUTE_SECONDS = 12 * 3600  # a staff login lasts a working day at most
    SESSION_IDLE_SECONDS = 30 * 60  # an unattended screen logs out
    INVITATION_HOURS = 72  # how long a link to set a new account's password works
    INVITATION_LIMIT = "20 per 15 minutes"  # opening and answering invitation links, per address
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_I18N_ENABLED = True
    BABEL_DEFAULT_LOCALE = "ar"
    BABEL_DEFAULT_TIMEZONE = "Asia/Baghdad"
    LANGUAGES = ("ar", "en")  # staff pages
    PUBLIC_LANGUAGES = ("ar", "ckb", "en")  # the pages families use
    # One uploaded file plus its form; anything larger gets the 413 page before it is read.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024  # one photo or PDF
    ATTACHMENT_FOLDER = None  # encrypted uploads; None means <instance>/attachments
    # Spreadsheet import (cases.imports): its upload alone may exceed MAX_CONTENT_LENGTH.
    # 100,000 rows of a typical Arabic list take about 30 MB as CSV, 10 MB as XLSX.
    IMPORT_MAX_BYTES = 40 * 1024 * 1024
    IMPORT_MAX_ROWS = 200_000
    REDIS_URL = None  # shared rate limits and caches; the REDIS_URL environment variable sets it
    RATELIMIT_STORAGE_URI = "memory://"
    # Redis down: count limits in each worker's memory meanwhile, never drop them.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    INQUIRY_SUBMIT_LIMIT = "5 per hour"
    STATUS_CHECK_LIMIT = "10 per 15 minutes"
    STATUS_CHECK_PER_REFERENCE_LIMIT = "5 per 15 minutes"
    FAMILY_SESSION_SECONDS = 20 * 60
    # The JSON API (cases/api): requests per client token, and bad tokens per address.
    API_RATE_LIMIT = "300 per minute"
    API_AUTH_FAILURE_LIMIT = "20 per 15 minutes"
    CACHE_TYPE = "SimpleCache"  # per process; RedisCache when REDIS_URL is set
    DASHBOARD_CACHE_SECONDS = 300
    # The intake queue's "may already have a case" marks are kept this long per inquiry.
    INTAKE_MARK_SECONDS = 300
    # A case page's "possible duplicates" are kept this long. A new case, an edit of this case
    # or a decision about it shows at once; an edit of another case after at most this long.
    CASE_MATCHES_SECONDS = 300
    # Name rarity weights for matching (cases.matching.weights) are recounted this often.
    MATCH_WEIGHTS_SECONDS = 3600
    STALE_DAYS = 30  # a case with no note or status change for this long needs a look
    # Days personal data is kept once a record reaches its final state; `flask retention purge`
    # then anonymises it (docs/retention.md explains each value). Open cases are never purged.
    RETENTION_DAYS: dict = {
        "closed_duplicate": 90,
        "closed_family_withdrew": 30,
        "closed_in_contact": 730,
        "closed_no_trace": 1825,
        "closed_death_confirmed": 1825,
        "closed_other": 730,
        "inquiry_rejected": 30,
        "inquiry_consent_withdrawn": 30,
    }
    TOTP_FAILURE_LIMIT = 20  # wrong codes in a row before only an admin can reopen the login
    # How long a family may open "what we hold about you" after a supervisor accepts.
    ACCESS_GRANT_DAYS = 30
    # Records of staff logins (address, browser) and spent invitation links.
    STAFF_RECORD_DAYS = 90
    CASES_PER_PAGE = 25
    # argon2id parameters (RFC 9106 second recommendation, lower memory for small servers).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 2
    # PFIF exchange (cases.exchange, docs/pfif.md): the domain our record ids start with
    # (set it to a domain the organisation controls, e.g. ATHAR_PFIF_DOMAIN=athar.example.org)
    # and the source_name partners see on our records.
    PFIF_DOMAIN = "athar.invalid"
    PFIF_SOURCE_NAME = "Athar"
    # Folder of pg_dump and pg_restore for `flask backup`; None: the server's version from
    # /usr/lib/postgresql/<major>/bin, then PATH.
    BACKUP_PG_BIN = None
    DEMO = False
    ENV_NAME = "production"


class TestingConfig(Config):
    TESTING = True
    ENV_NAME = "testing"
    SECRET_KEY = "test-only-secret-key"  # noqa: S105 - never used outside tests
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "athar"
    # A cheap KDF keeps the suite fast; production parameters are tested in test_passwords.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    DASHBOARD_CACHE_SECONDS = 0  # tests see every change at once
    IMPORT_MAX_BYTES = 2 * 1024 * 1024
    IMPORT_MAX_ROWS = 1000
    INTAKE_MARK_SECONDS = 0
    CASE_MATCHES_SECONDS = 0
    MATCH_WEIGHTS_SECONDS = 0
    # Fixed keys so a failing test can be replayed; never used outside tests.
    DATA_KEYS = ["dGVzdC1vbmx5LWRhdGEta2V5LTMyLWJ5dGVzLWxvbmc="]
    LOOKUP_KEY = "test-only-lookup-key-at-least-32-characters"  # noqa: S105
    PFIF_DOMAIN = "athar.test"
    PFIF_SOURCE_NAME = "Athar test"


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` from defaults, the instance folder and the environment."""
    if test_config is not None:
        app.config.from_object(TestingConfig)
        app.config.from_mapping(test_config)
    else:
        app.config.from_object(Config)
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("ATHAR")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        for name in ("SECRET_KEY", "DATA_KEYS", "LOOKUP_KEY", "REDIS_URL"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
    if app.config.get("REDIS_URL"):
        # Rate limits and caches shared by every worker and machine.
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
        app.config["CACHE_TYPE"] = "RedisCache"
        app.config["CACHE_REDIS_URL"] = app.config["REDIS_URL"]
        # A Redis that stops answering costs a request one second, not a hung worker.
        timeouts = {"socket_timeout": 1, "socket_connect_timeout": 1}
        app.config.setdefault("CACHE_OPTIONS", timeouts)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", timeouts)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + str(Path(app.instance_path) / "athar.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = _with_driver(uri)
    # errors.py logs unexpected exceptions, and a database error quotes the statement's values
    # (names, notes, what families wrote) unless told not to.
    options = {"hide_parameters": True, **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that does not answer must give the 503 page in seconds, not hang a worker.
        options["connect_args"] = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            **options.get("connect_args", {}),
        }
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"].startswith(
        "__Host-"
    ):
        # Browsers drop __Host- cookies that are not Secure: plain-http set-ups would never log in.
        app.config["SESSION_COOKIE_NAME"] = app.config["SESSION_COOKIE_NAME"][len("__Host-") :]
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set. Put it in instance/config.py or the SECRET_KEY environment "
            "variable (`make run` writes one for a local demo)."
        )


def _with_driver(uri: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri
