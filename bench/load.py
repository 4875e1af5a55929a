"""Load: a working day's mix of staff and family requests against gunicorn on PostgreSQL.

    .venv/bin/python bench/load.py [--cases 1000000] [--users 50] [--duration 120]
        [--quick] [--reseed] [--drop] [--port 8765] [--workers N] [--ratio-seconds 20]
        [--skip-ratio] [--prepare-only]

--quick is a smoke run (10 users for 20 s). Logs, the acknowledged writes and every request's
time go to /tmp/load (LOAD_WORK); LOAD_DB names another database (e.g. a small one for a smoke
test: LOAD_DB=load_smoke ... --cases 3000 --quick).

Not run in CI: it seeds a million cases (about 15 minutes the first time) and keeps two cores
busy for minutes. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on
127.0.0.1:6379, and locust in the venv: `make load-test` installs the `load` extra and runs it.

1. Prepare the database ``athar_load``: create it, apply the schema with ``flask db upgrade``
   (the real deploy step), add staff accounts (caseworkers; supervisors with two-factor
   authentication), seed N synthetic cases with the demo seeder, add families' inquiries with a
   known reference and code, then VACUUM ANALYZE. The seeder shares the cases among all 92
   bench staff, so each caseworker holds about 11,000 of the million. A later run reuses the
   database when it already holds N cases; ``--reseed`` starts again from an empty database.
2. Start gunicorn on loopback as production does (``cases.ops.gunicorn_conf``), with fixed bench
   keys, a Redis database of its own (flushed first) and rate limits raised, since every
   virtual user comes from 127.0.0.1.
3. Drive the mixed workload (bench/load_locustfile.py) with locust, headless: staff log in once,
   list cases, search names in Arabic and Latin letters, open cases, add notes, change statuses;
   families check their inquiry's status. Every acknowledged write is logged to a file.
4. Print requests, throughput, p50/p95/p99 overall and per request type, errors, and the
   lost-write check: every acknowledged note and status change must be in the database.
5. Two closed-loop phases without think time, one on a case page and one on the bare /healthz,
   to show how much of a worker's capacity a case page takes.
6. Stop gunicorn. The database is kept for the next run; ``--drop`` removes it (and exits).

Goals: 0 errors, 0 lost writes, p95 <= 300 ms. Each is printed as PASS or FAIL. Latency
depends on what else the machine runs: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VENV_BIN = ROOT / ".venv" / "bin"
WORK = Path(os.environ.get("LOAD_WORK", "/tmp/load"))  # noqa: S108 - one bench at a time
DB_NAME = os.environ.get("LOAD_DB", "athar_load")  # another name for a smoke test
PG_HOST = "127.0.0.1"
PG_PORT = "5432"
PG_USER = "postgres"
DATABASE_URL = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{DB_NAME}"
REDIS_DB = 5
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"

# Fixed keys for the bench database only: the seeder encrypts with them and gunicorn, the
# lost-write check and the next run must decrypt with the same ones.
SECRET_KEY = "load-bench-secret-key-not-for-production-0123456789"  # noqa: S105
DATA_KEYS = base64.urlsafe_b64encode(b"load-bench-data-key-32-bytes-abc").decode()
LOOKUP_KEY = "load-bench-lookup-key-at-least-32-characters"  # noqa: S105

PASSWORD = "load bench passphrase 5678"  # noqa: S105 - every bench account's password
CASEWORKERS = 80
SUPERVISORS = 12
INQUIRIES = 300
SEED = 20261126

# Every virtual user comes from 127.0.0.1: per-address limits would throttle the bench itself.
RAISED_LIMITS = {
    "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
    "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
    "LOGIN_CODE_LIMIT_PER_ACCOUNT": "100000 per minute",
    "STATUS_CHECK_LIMIT": "100000 per minute",
    "STATUS_CHECK_PER_REFERENCE_LIMIT": "100000 per minute",
    "INQUIRY_SUBMIT_LIMIT": "100000 per minute",
    "API_RATE_LIMIT": "100000 per minute",
}


# --- accounts and inquiries the workload knows -------------------------------------------------


def caseworker_name(i: int) -> str:
    return f"load-cw{i:03d}"


def supervisor_name(i: int) -> str:
    return f"load-sup{i:02d}"


def inquiry_reference(i: int) -> str:
    """The reference of bench inquiry ``i``: 8 digits starting with 7, like the app's own."""
    return f"7{i:07d}"


def inquiry_secret(reference: str) -> str:
    """The 12-digit code of a bench inquiry, derived from its reference (first digit not 0)."""
    digest = hmac.new(LOOKUP_KEY.encode(), reference.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return str(1 + number % 9) + f"{(number // 9) % 10**11:011d}"


# --- environment ---------------------------------------------------------------------------------


def app_env(instance_path: Path) -> dict[str, str]:
    """The environment gunicorn, ``flask db upgrade`` and the seeder run with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATHAR_")}
    env.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SECRET_KEY=SECRET_KEY,
        DATA_KEYS=DATA_KEYS,
        LOOKUP_KEY=LOOKUP_KEY,
        ATHAR_INSTANCE_PATH=str(instance_path),
        ATHAR_SESSION_COOKIE_SECURE="false",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"ATHAR_{name}": value for name, value in RAISED_LIMITS.items()})
    return env


def use_app_env(instance_path: Path) -> None:
    """Make this process's create_app() see the bench database and keys."""
    os.environ.clear()
    os.environ.update(app_env(instance_path))


def psql(sql: str, database: str = "postgres") -> str:
    out = subprocess.run(  # noqa: S603
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", database, "-tAc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def database_exists() -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") == "1"  # noqa: S608


def drop_database() -> None:
    if database_exists():
        psql(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
        print(f"Dropped database {DB_NAME}.")


def seeded_cases() -> int:
    """Cases in the bench database, or -1 when it or its schema is missing."""
    if not database_exists():
        return -1
    try:
        return int(psql("SELECT count(*) FROM cases", DB_NAME))
    except subprocess.CalledProcessError:
        return -1


# --- 1. prepare ----------------------------------------------------------------------------------


def prepare(cases: int, reseed: bool, instance_path: Path) -> None:
    """Make ``athar_load`` hold ``cases`` seeded cases, bench staff and inquiries."""
    have = seeded_cases()
    ready = have >= cases and psql("SELECT count(*) FROM inquiries", DB_NAME) == str(INQUIRIES)
    if ready and not reseed:
        print(f"Database {DB_NAME} already holds {have:,} cases: reused (--reseed to redo).")
        return
    started = time.perf_counter()
    drop_database()
    psql(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run(  # noqa: S603
        [str(VENV_BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=app_env(instance_path),
        check=True,
    )
    print(f"Schema applied with flask db upgrade ({time.perf_counter() - started:.0f} s).")
    use_app_env(instance_path)
    from cases import create_app

    app = create_app()
    with app.app_context():
        add_staff()
        start = time.perf_counter()
        seed_cases_in_batches(cases)
        print(f"Seeded {cases:,} cases in {time.perf_counter() - start:.0f} s.")
        add_inquiries()
    vacuum_analyse()
    print(f"Database ready in {time.perf_counter() - started:.0f} s.")


def add_staff() -> None:
    """Caseworkers, and supervisors enrolled in two-factor authentication."""
    import pyotp

    from cases.auth import totp
    from cases.auth.models import Role
    from cases.auth.services import create_user

    for i in range(CASEWORKERS):
        create_user(caseworker_name(i), Role.CASEWORKER, PASSWORD, f"Load caseworker {i}")
    earlier = time.time() - 60  # enrolled a minute ago, so the first login's code is no replay
    for i in range(SUPERVISORS):
        user = create_user(supervisor_name(i), Role.SUPERVISOR, PASSWORD, f"Load supervisor {i}")
        secret = totp.new_secret()
        totp.enable(user, secret, PASSWORD, pyotp.TOTP(secret).at(earlier), now=earlier)
    print(f"Added {CASEWORKERS} caseworkers and {SUPERVISORS} supervisors.")


def seed_cases_in_batches(count: int) -> None:
    """The demo seeder, in chunks so the log shows progress."""
    from cases.demo.seed import seed_cases

    chunk = 100_000
    done = 0
    while done < count:
        size = min(chunk, count - done)
        start = time.perf_counter()
        seed_cases(size, seed=SEED + done)
        done += size
        print(
            f"  {done:>9,} cases ({time.perf_counter() - start:.0f} s for this chunk)", flush=True
        )


def add_inquiries() -> None:
    """Families' inquiries with known reference and code; two in three linked to a case."""
    from sqlalchemy import func, select

    from cases.auth.services import hash_password
    from cases.casework.models import Case
    from cases.extensions import db
    from cases.inquiries.models import Inquiry, InquiryState
    from cases.inquiries.services import NOTICE_VERSION

    rng = random.Random(SEED)
    last_case = db.session.scalar(select(func.max(Case.id))) or 0
    for i in range(INQUIRIES):
        reference = inquiry_reference(i)
        case_id = rng.randint(1, last_case) if last_case and i % 3 else None
        db.session.add(
            Inquiry(
                reference=reference,
                secret_hash=hash_password(inquiry_secret(reference)),
                notice_version=NOTICE_VERSION,
                consent_search=True,
                inquirer_name="أم علي (bench)",
                inquirer_relationship="mother",
                given_name="علي",
                father_name="حسين",
                grandfather_name="كاظم",
                state=InquiryState.LINKED if case_id else InquiryState.NEW,
                case_id=case_id,
            )
        )
    db.session.commit()
    print(f"Added {INQUIRIES} inquiries with known reference and code.")


def vacuum_analyse() -> None:
    start = time.perf_counter()
    psql("VACUUM ANALYZE", DB_NAME)
    print(f"VACUUM ANALYZE done in {time.perf_counter() - start:.0f} s.")


# --- what the virtual users need to know -------------------------------------------------------


def write_settings(path: Path, run: str, instance_path: Path) -> None:
    """Accounts (with the supervisors' two-factor secrets) and inquiries, for the locustfile."""
    from cases import create_app
    from cases.auth.models import User
    from cases.extensions import db

    use_app_env(instance_path)
    app = create_app()
    with app.app_context():
        secrets = dict(
            db.session.execute(
                db.select(User.username, User.totp_secret).where(User.username.like("load-sup%"))
            ).all()
        )
        db.engine.dispose()
    refs = [inquiry_reference(i) for i in range(INQUIRIES)]
    settings = {
        "run": run,
        "password": PASSWORD,
        "caseworkers": [caseworker_name(i) for i in range(CASEWORKERS)],
        "supervisors": [
            [supervisor_name(i), secrets[supervisor_name(i)]] for i in range(SUPERVISORS)
        ],
        "inquiries": [[ref, inquiry_secret(ref)] for ref in refs],
        "session_cookies": {},
        "case_page_id": None,
    }
    path.write_text(json.dumps(settings), encoding="utf-8")
    path.chmod(0o600)


# --- 2. gunicorn ---------------------------------------------------------------------------------


def flush_redis() -> None:
    from redis import Redis

    with Redis.from_url(REDIS_URL) as client:
        client.flushdb()


def start_gunicorn(
    port: int, instance_path: Path, workers: int | None, log: Path
) -> subprocess.Popen:
    """gunicorn as production runs it (cases.ops.gunicorn_conf), on loopback."""
    env = app_env(instance_path)
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    command = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        "python:cases.ops.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "app:app",
    ]
    with log.open("ab") as out:
        server = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    wait_ready(f"http://127.0.0.1:{port}/readyz", server)
    return server


def worker_count(workers: int | None) -> int:
    """Workers gunicorn starts: --workers, else cases.ops.gunicorn_conf's default."""
    return workers or int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}: see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f} s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    """TERM: workers finish their requests and exit, as on a deploy."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- 3. locust -----------------------------------------------------------------------------------


@dataclass
class Timing:
    at: float
    name: str
    ms: float
    ok: bool


def run_locust(
    base_url: str,
    classes: list[str],
    users: int,
    seconds: int,
    settings: Path,
    writes: Path,
    timings: Path,
    log: Path,
) -> list[Timing]:
    """Run locust headless with ``classes``; the request timings it recorded."""
    timings.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LOAD_ACCOUNTS": str(settings),
        "LOAD_WRITES": str(writes),
        "LOAD_TIMINGS": str(timings),
    }
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "load_locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 10)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        base_url,
        "--only-summary",
        "--exit-code-on-error",
        "0",
        *classes,
    ]
    with log.open("ab") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=out, check=True)  # noqa: S603
    return read_timings(timings)


def read_timings(path: Path) -> list[Timing]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return [Timing(float(at), name, float(ms), ok == "1") for at, name, ms, ok in csv.reader(f)]


# --- 4. figures and the lost-write check ---------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def print_figures(timings: list[Timing], seconds: int) -> tuple[int, float]:
    """Requests, throughput and percentiles overall and per request type; returns (errors, p95)."""
    by_name: dict[str, list[Timing]] = {}
    for t in timings:
        by_name.setdefault(t.name, []).append(t)
    errors = sum(not t.ok for t in timings)
    print(f"\nRequests: {len(timings):,}   throughput {len(timings) / seconds:.1f} req/s")
    print(f"  {'request':<34} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    rows = sorted(by_name.items(), key=lambda item: -len(item[1]))
    for name, items in [*rows, ("all", timings)]:
        ms = [t.ms for t in items]
        print(
            f"  {name:<34} {len(items):>7} {sum(not t.ok for t in items):>6} "
            f"{percentile(ms, 0.5):>8.0f} {percentile(ms, 0.95):>8.0f} {percentile(ms, 0.99):>8.0f}"
        )
    return errors, percentile([t.ms for t in timings], 0.95)


LOGIN_REQUESTS = ("GET /login", "POST /login", "POST /login/code")


def print_steady_state(timings: list[Timing], settle: float) -> None:
    """The same figures without the start: logins left out and the first ``settle`` seconds
    (every user arriving at once is a morning rush, not the working day). For information;
    the goals are judged on every request."""
    if not timings:
        return
    start = min(t.at for t in timings)
    steady = [t for t in timings if t.at >= start + settle and t.name not in LOGIN_REQUESTS]
    if not steady:
        return
    ms = [t.ms for t in steady]
    span = max(t.at for t in steady) - start - settle
    print(
        f"  steady state (after {settle:.0f} s, no logins): {len(steady)} requests, "
        f"{len(steady) / span if span > 0 else 0:.1f} req/s, p50 {percentile(ms, 0.5):.0f} ms, "
        f"p95 {percentile(ms, 0.95):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms"
    )


def machine_line() -> str:
    """Cores and load: the bench shares the machine with whatever else runs on it."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def read_writes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def lost_writes(writes: list[dict], instance_path: Path) -> list[dict]:
    """The acknowledged notes and status changes the database does not hold (read via the ORM,
    so encrypted note bodies are compared in clear)."""
    from cases import create_app
    from cases.casework.models import CaseNote, StatusChange
    from cases.extensions import db

    use_app_env(instance_path)
    app = create_app()
    notes = [w for w in writes if w["kind"] == "note"]
    changes = [w for w in writes if w["kind"] == "status"]
    with app.app_context():
        note_cases = {w["case"] for w in notes}
        change_cases = {w["case"] for w in changes}
        found_notes: set[tuple[int, str]] = set()
        for chunk in _chunks(sorted(note_cases), 1000):
            for note in db.session.scalars(db.select(CaseNote).where(CaseNote.case_id.in_(chunk))):
                found_notes.update((note.case_id, m) for m in _markers(note.body))
        found_changes: set[tuple[int, str, str]] = set()
        for chunk in _chunks(sorted(change_cases), 1000):
            stmt = db.select(StatusChange).where(StatusChange.case_id.in_(chunk))
            for change in db.session.scalars(stmt):
                found_changes.update(
                    (change.case_id, change.to_status, m) for m in _markers(change.reason)
                )
        db.engine.dispose()
    lost = [w for w in notes if (w["case"], w["marker"]) not in found_notes]
    lost += [w for w in changes if (w["case"], w["to"], w["marker"]) not in found_changes]
    return lost


def _markers(text: str | None) -> list[str]:
    return [word for word in (text or "").split() if word.startswith("load-")]


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def server_errors(log: Path, since: int) -> int:
    """ERROR lines gunicorn and the app logged after byte ``since`` of the log."""
    with log.open("rb") as f:
        f.seek(since)
        return sum(b'"level": "ERROR"' in line or b"Traceback" in line for line in f)


# --- 5. case page against /healthz ---------------------------------------------------------------


def log_in_for_ratio(base_url: str, settings: Path) -> None:
    """Log one caseworker in and store the session and one of their case ids in ``settings``."""
    import re

    import requests

    data = json.loads(settings.read_text(encoding="utf-8"))
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    with requests.Session() as http:
        page = http.get(f"{base_url}/login", timeout=30)
        form = {
            "csrf_token": token.search(page.text).group(1),
            "username": caseworker_name(CASEWORKERS - 1),
            "password": PASSWORD,
        }
        listing = http.post(f"{base_url}/login", data=form, timeout=30)
        case_id = int(re.search(r'href="/cases/(\d+)"', listing.text).group(1))
        data["session_cookies"] = http.cookies.get_dict()
    data["case_page_id"] = case_id
    settings.write_text(json.dumps(data), encoding="utf-8")


def closed_loop_rate(timings: list[Timing]) -> tuple[float, int]:
    """Requests per second between the first and last answer, and the failures."""
    if len(timings) < 2:
        return 0.0, sum(not t.ok for t in timings)
    span = max(t.at for t in timings) - min(t.at for t in timings)
    return len(timings) / span if span else 0.0, sum(not t.ok for t in timings)


# --- main ----------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to seed (default 1M)")
    parser.add_argument("--users", type=int, default=50, help="concurrent virtual users")
    parser.add_argument("--duration", type=int, default=120, help="seconds of mixed load")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 users for 20 s")
    parser.add_argument("--reseed", action="store_true", help="seed the database again")
    parser.add_argument("--drop", action="store_true", help="drop the bench database and exit")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config's)")
    parser.add_argument("--ratio-seconds", type=int, default=20, help="each closed-loop phase")
    parser.add_argument("--skip-ratio", action="store_true", help="no case page/healthz phases")
    parser.add_argument("--prepare-only", action="store_true", help="seed, then stop")
    args = parser.parse_args()
    if args.quick:
        args.users, args.duration, args.ratio_seconds = 10, 20, 10
    return args


def main() -> int:
    args = parse_args()
    if args.drop:
        drop_database()
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    instance_path = Path(tempfile.mkdtemp(prefix="instance-", dir=WORK))
    try:
        prepare(args.cases, args.reseed, instance_path)
        if args.prepare_only:
            return 0
        return run(args, instance_path)
    finally:
        shutil.rmtree(instance_path, ignore_errors=True)


def run(args: argparse.Namespace, instance_path: Path) -> int:
    run_id = time.strftime("%Y%m%d%H%M%S")
    settings = WORK / "accounts.json"
    writes = WORK / f"writes-{run_id}.jsonl"
    gunicorn_log = WORK / f"gunicorn-{run_id}.log"
    locust_log = WORK / f"locust-{run_id}.log"
    base_url = f"http://127.0.0.1:{args.port}"
    write_settings(settings, run_id, instance_path)
    print(f"Machine before the run: {machine_line()}")
    flush_redis()
    server = start_gunicorn(args.port, instance_path, args.workers, gunicorn_log)
    goals: list[tuple[str, bool]] = []
    try:
        workers = worker_count(args.workers)
        print(
            f"\ngunicorn ready on {base_url} (pid {server.pid}, {workers} workers "
            f"x {os.environ.get('ATHAR_THREADS', '4')} threads); mixed load: {args.users} users "
            f"for {args.duration} s, think time 1-3 s (log {locust_log})"
        )
        log_mark = gunicorn_log.stat().st_size
        timings = run_locust(
            base_url,
            ["Caseworker", "Supervisor", "Family"],
            args.users,
            args.duration,
            settings,
            writes,
            WORK / f"timings-{run_id}.csv",
            locust_log,
        )
        errors, p95 = print_figures(timings, args.duration)
        print_steady_state(timings, settle=2 * args.users / max(1, args.users // 10))
        print(f"  machine after the run: {machine_line()}")
        logged = server_errors(gunicorn_log, log_mark)
        acknowledged = read_writes(writes)
        lost = lost_writes(acknowledged, instance_path)
        kinds = {
            k: sum(w["kind"] == k for w in acknowledged) for k in ("note", "status", "refused")
        }
        print(
            f"\nWrites acknowledged: {kinds['note']} notes, {kinds['status']} status changes "
            f"({kinds['refused']} status changes refused by the workflow, not counted)"
        )
        for w in lost[:10]:
            print(f"  LOST {w}")
        print(f"  (acknowledged writes logged in {writes})")
        print(f"lost writes: {len(lost)}")
        print(f"errors: {errors} failed requests, {logged} errors in the server log")
        goals = [
            (f"0 errors (got {errors} + {logged} logged)", errors == 0 and logged == 0),
            (f"0 lost writes (got {len(lost)})", not lost),
            (f"p95 <= 300 ms (got {p95:.0f} ms)", p95 <= 300),
        ]
        if not args.skip_ratio:
            print_ratio(args, base_url, settings, writes, run_id, locust_log)
    finally:
        stop_gunicorn(server)
        print(f"\ngunicorn stopped (exit {server.returncode}). Database {DB_NAME} kept (--drop).")
    print("\nGoals")
    for text, ok in goals:
        print(f"  {verdict(ok)}  {text}")
    return 0 if all(ok for _, ok in goals) else 1


def print_ratio(
    args: argparse.Namespace,
    base_url: str,
    settings: Path,
    writes: Path,
    run_id: str,
    locust_log: Path,
) -> None:
    log_in_for_ratio(base_url, settings)
    rates = {}
    for cls, label in (("CasePage", "case page"), ("Healthz", "/healthz")):
        timings = run_locust(
            base_url,
            [cls],
            args.users,
            args.ratio_seconds,
            settings,
            writes,
            WORK / f"timings-{run_id}-{cls}.csv",
            locust_log,
        )
        rate, failed = closed_loop_rate(timings)
        ms = [t.ms for t in timings]
        rates[label] = rate
        print(
            f"  {label:<10} {rate:8.1f} req/s   p50 {percentile(ms, 0.5):6.0f} ms   "
            f"p95 {percentile(ms, 0.95):6.0f} ms   failures {failed}"
        )
    if rates["/healthz"]:
        print(f"  case page / healthz throughput: {rates['case page'] / rates['/healthz']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
