"""Helpers shared by the bench scripts: a fresh app on SQLite or PostgreSQL, timing, output."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases import create_app  # noqa: E402
from cases.extensions import db  # noqa: E402

PASSWORD = "bench passphrase 1234"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def bench_app(backend: str, name: str):  # noqa: ANN201
    """A fresh, empty app on ``backend`` ("sqlite" or "postgresql"), its schema created."""
    config: dict = {"WTF_CSRF_ENABLED": False}
    if backend == "sqlite":
        path = Path(tempfile.gettempdir()) / f"athar-bench-{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    else:
        schema = f"athar_bench_{name}"
        setup = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL})
        with setup.app_context(), db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        config["SQLALCHEMY_DATABASE_URI"] = PG_URL
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": f"-csearch_path={schema}"}
        }
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def drop_bench_app(app, backend: str, name: str) -> None:  # noqa: ANN001
    """Delete what bench_app(backend, name) created: the PostgreSQL schema or SQLite files."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend == "sqlite":
        path = Path(tempfile.gettempdir()) / f"athar-bench-{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    setup = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL})
    with setup.app_context(), db.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "athar_bench_{name}" CASCADE'))
    with setup.app_context():
        db.engine.dispose()


def analyse(app) -> None:  # noqa: ANN001
    """Refresh planner statistics and PostgreSQL's visibility map (which index-only scans
    need), as a production database's autovacuum would after a bulk load."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds per call of ``fn`` over ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.1f} ms   p95 {p(values, 0.95):7.1f} ms"


def staffed_app(backend: str, name: str, caseworkers: int):  # noqa: ANN201
    """A fresh bench app with one supervisor (bench-sup) and caseworkers bench-cw0, 1, …"""
    from cases.auth.models import Role
    from cases.auth.services import create_user

    app = bench_app(backend, name)
    with app.app_context():
        supervisor = create_user("bench-sup", Role.SUPERVISOR, PASSWORD)
        _enrol(supervisor)
        for i in range(caseworkers):
            create_user(f"bench-cw{i}", Role.CASEWORKER, PASSWORD)
    return app


def grow(app, backend: str, sizes: list[int]) -> Iterator[int]:  # noqa: ANN001
    """Seed synthetic cases up to each size in turn, yielding once each size is ready."""
    from cases.demo.seed import seed_cases

    seeded = 0
    for size in sizes:
        start = time.perf_counter()
        with app.app_context():
            seed_cases(size - seeded, seed=size)
        seeded = size
        analyse(app)
        print(f"\n[{backend}] {size:,} cases (seeded in {time.perf_counter() - start:.0f} s)")
        yield size


def _enrol(user) -> None:  # noqa: ANN001
    """Supervisors must use two-factor authentication; the bench one gets it at once."""
    import pyotp

    from cases.auth import totp

    # Enrolled with a code from a minute ago, so the login's current code is not a replay.
    secret = totp.new_secret()
    earlier = time.time() - 60
    totp.enable(user, secret, PASSWORD, pyotp.TOTP(secret).at(earlier), now=earlier)


def logged_in(app, username: str):  # noqa: ANN001, ANN201
    """A test client logged in as ``username``, pages in English."""
    import pyotp

    from cases.auth.models import User

    client = app.test_client()
    client.post("/language", data={"lang": "en"})
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.headers.get("Location", "").endswith("/login/code"):
        with app.app_context():
            secret = db.session.scalar(db.select(User.totp_secret).filter_by(username=username))
        client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    return client
