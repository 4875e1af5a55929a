"""Fault tests (issue 8): a worker killed during writes, PostgreSQL restarted under load, many
concurrent writers on SQLite. Each scenario drives the real staff forms of a gunicorn on
loopback, then checks the database: no partial record, no acknowledged write missing.

    .venv/bin/python bench/faults.py --short      # CI (.ci/faults), about 2 minutes
    .venv/bin/python bench/faults.py              # longer runs, more clients
    .venv/bin/python bench/faults.py --only sqlite

PostgreSQL scenarios run on a private cluster this script creates (port 54329, a temporary
folder) and stops afterwards: the machine's own PostgreSQL is never touched. Redis is used on
database FAULTS_REDIS_DB (default 6) of 127.0.0.1:6379 when it answers.

An acknowledged write is a form POST answered with its redirect (302). A request cut off by the
kill has no answer: the client cannot know, so it is "in doubt" and only has to be whole.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cases.ops.gunicorn_conf import keepalive as KEEPALIVE_SECONDS  # noqa: E402, N812

BIN = ROOT / ".venv" / "bin"
WORK = Path(os.environ.get("FAULTS_DIR", Path(tempfile.gettempdir()) / "faults"))
PASSWORD = "faults passphrase 1234"
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "54329"))
REDIS_DB = os.environ.get("FAULTS_REDIS_DB", "6")
# Fixed keys: the databases are thrown away after each run.
SECRET_KEY = "faults-only-secret-key-" + "0" * 32
DATA_KEYS = "dGVzdC1vbmx5LWRhdGEta2V5LTMyLWJ5dGVzLWxvbmc="
LOOKUP_KEY = "faults-only-lookup-key-at-least-32-characters"
LOCKED = "database is locked"
LOCK_WAIT = timedelta(seconds=11)
STATUS_CYCLE = {"new": "open", "open": "located_alive", "located_alive": "open"}


# --- results -------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request as the client saw it."""

    action: str  # create, note, status, view
    key: str  # the unique text the write carries, to find it in the database
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (connection error, timeout)
    acked: bool  # the write was acknowledged (its redirect came back)
    error: str = ""  # connection error class, or what was wrong with the answer
    case_id: int | None = None
    retry_after: str | None = None
    locked: bool = False  # the answer mentions "database is locked"
    traceback: bool = False
    detail: str = ""  # a connection error's message, for the post-mortem


@dataclass
class Report:
    name: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def check(self, label: str, ok: bool, detail: str = "") -> None:
        self.checks.append((label, ok, detail))

    def figure(self, line: str) -> None:
        self.figures.append(line)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def show(self) -> None:
        print(f"\n== {self.name}: {'PASS' if self.passed else 'FAIL'}", flush=True)
        for line in self.figures:
            print(f"   {line}")
        for label, ok, detail in self.checks:
            print(f"   [{'ok' if ok else 'FAIL'}] {label}" + (f": {detail}" if detail else ""))
        sys.stdout.flush()


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_figures(report: Report, outcomes: list[Outcome], seconds: float) -> None:
    writes = [o for o in outcomes if o.action != "view"]
    acked = [o for o in writes if o.acked]
    times = [(o.ended - o.started) * 1000 for o in outcomes if o.status is not None]
    statuses = Counter(str(o.status) if o.status is not None else o.error for o in outcomes)
    report.figure(
        f"{len(outcomes)} requests in {seconds:.1f} s ({len(outcomes) / seconds:.1f}/s), "
        f"{len(acked)} acknowledged writes ({len(acked) / seconds:.1f}/s)"
    )
    report.figure(
        f"latency p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms, "
        f"p99 {percentile(times, 0.99):.0f} ms, max {max(times, default=0):.0f} ms"
    )
    report.figure("answers: " + ", ".join(f"{k} x{v}" for k, v in sorted(statuses.items())))


# --- processes: a private PostgreSQL, gunicorn ----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str] | None = None, check: bool = True) -> str:
    done = subprocess.run(  # noqa: S603 - fixed commands of this script
        cmd, env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in WORK/pg, on its own port and socket folder."""

    def __init__(self, port: int = PG_PORT) -> None:
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not versions:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.port = port
        self.dir = WORK / "pg"
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + list(args)

    def start(self) -> None:
        self.stop_leftover()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        run(
            self._cmd(
                str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("fsync = off\nfull_page_writes = off\nmax_connections = 200\n")
        self.pg_ctl("start")

    def pg_ctl(self, action: str, *extra: str) -> str:
        options = f"-p {self.port} -k {self.dir}"
        return run(
            self._cmd(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                "-l", str(self.dir / "log"), "-w", "-t", "60", action, *extra,
            )
        )  # fmt: skip

    def stop_leftover(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "fast")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def accepts(self) -> bool:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                connect_timeout=2,
            ) as conn:  # fmt: skip
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False


def redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return f"redis://127.0.0.1:6379/{REDIS_DB}"
    except OSError:
        return None


def app_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment a deployment would give the app (every setting from it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATHAR_")}
    env.update(
        FLASK_APP="app.py",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        DATA_KEYS=DATA_KEYS,
        LOOKUP_KEY=LOOKUP_KEY,
        ATHAR_INSTANCE_PATH=str(instance),
        ATHAR_SESSION_COOKIE_SECURE="false",
        # Every client logs in from 127.0.0.1.
        ATHAR_LOGIN_LIMIT_PER_ADDRESS="100000 per minute",
        ATHAR_LOGIN_LIMIT_PER_ACCOUNT="100000 per minute",
        ATHAR_LOG_LEVEL="warning",
    )
    if url := redis_url():
        env["REDIS_URL"] = url
    env.pop("WEB_CONCURRENCY", None)
    return env


def prepare_database(env: dict[str, str], caseworkers: int) -> None:
    """Migrations as a deploy step would run them, then one caseworker account per client."""
    instance = Path(env["ATHAR_INSTANCE_PATH"])
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    run([str(BIN / "flask"), "db", "upgrade"], env=env)
    script = (
        "import sys\n"
        "from cases import create_app\n"
        "from cases.auth.services import create_user\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    for i in range(int(sys.argv[1])):\n"
        f"        create_user(f'fault-cw{{i}}', 'caseworker', {PASSWORD!r})\n"
    )
    fast_kdf = dict(env, ATHAR_ARGON2_TIME_COST="1", ATHAR_ARGON2_MEMORY_COST="8192")
    run([str(BIN / "python"), "-c", script, str(caseworkers)], env=fast_kdf)


class Gunicorn:
    """gunicorn with the project's config file (cases/ops/gunicorn_conf.py) on a free port."""

    def __init__(
        self, env: dict[str, str], workers: int, threads: int, log: Path, app: str = "app:app"
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        cmd = [str(BIN / "gunicorn")]
        if (ROOT / "cases" / "ops" / "gunicorn_conf.py").exists():
            cmd += ["--config", "python:cases.ops.gunicorn_conf"]
        cmd += [
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread", "--timeout", "60",
            app,
        ]  # fmt: skip
        self.log_path = log
        self._log = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed command
            cmd, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    if requests.get(self.base + "/login", timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The master's children: its workers."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def busiest_worker(self, sample: float = 0.5) -> int:
        """The worker that used the most CPU time over ``sample`` seconds."""
        before = {pid: cpu_ticks(pid) for pid in self.worker_pids()}
        time.sleep(sample)
        return max(before, key=lambda pid: cpu_ticks(pid) - before[pid])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def cpu_ticks(pid: int) -> int:
    """User and system CPU time of a process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


@contextmanager
def serving(
    env: dict[str, str], workers: int, threads: int, name: str, app: str = "app:app"
) -> Iterator[Gunicorn]:
    server = Gunicorn(env, workers, threads, WORK / f"{name}-gunicorn.log", app)
    try:
        yield server
    finally:
        server.stop()


# --- a member of staff in a browser ----------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')  # fmt: skip
CASE_URL = re.compile(r"/cases/(\d+)(?:#.*)?$")


class Staff:
    """One caseworker's browser: a cookie jar, a CSRF token, the forms' POSTs."""

    def __init__(self, base: str, username: str, timeout: float = 30) -> None:
        self.base = base
        self.username = username
        self.timeout = timeout
        self.http = requests.Session()
        self.csrf = ""

    def _token(self, html: str) -> str:
        match = CSRF.search(html)
        if not match:
            raise RuntimeError(f"{self.username}: no CSRF token on the page")
        return match.group(1) or match.group(2)

    def login(self) -> None:
        page = self.http.get(self.base + "/login", timeout=self.timeout)
        answer = self.http.post(
            self.base + "/login",
            data={
                "csrf_token": self._token(page.text),
                "username": self.username,
                "password": PASSWORD,
            },
            allow_redirects=False,
            timeout=self.timeout,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username}: login answered {answer.status_code}")
        # The token is bound to the session; a page after login carries the one to use.
        self.csrf = self._token(self.http.get(self.base + "/cases/new", timeout=self.timeout).text)

    def _send(self, action: str, key: str, method: str, path: str, data: dict | None) -> Outcome:
        started = time.monotonic()
        try:
            answer = self.http.request(
                method,
                self.base + path,
                data=data,
                allow_redirects=False,
                timeout=self.timeout,
                headers={"Accept-Language": "ar"},
            )
        except requests.RequestException as error:
            outcome = Outcome(
                action, key, started, time.monotonic(), None, False, type(error).__name__
            )
            outcome.detail = str(error)[:300]
            return outcome
        ended = time.monotonic()
        body = answer.text
        outcome = Outcome(
            action,
            key,
            started,
            ended,
            answer.status_code,
            acked=False,
            retry_after=answer.headers.get("Retry-After"),
            locked=LOCKED in body,
            traceback="Traceback" in body,
        )
        location = answer.headers.get("Location", "")
        if method == "POST" and answer.status_code == 302 and (found := CASE_URL.search(location)):
            outcome.acked = True
            outcome.case_id = int(found.group(1))
        elif method == "GET" and answer.status_code == 200:
            outcome.acked = True
        elif answer.status_code == 503:
            outcome.error = unavailable_page_problem(answer)
        else:
            outcome.error = f"HTTP {answer.status_code} {location}".strip()
        return outcome

    def create_case(self, key: str) -> Outcome:
        data = {"csrf_token": self.csrf, "given_name": key, "sex": "male", "different_person": "y"}
        data["last_contact_channel"] = ""  # "not known"
        return self._send("create", key, "POST", "/cases/new", data)

    def add_note(self, case_id: int, key: str) -> Outcome:
        data = {"csrf_token": self.csrf, "body": key, "kind": "call", "visibility": "internal"}
        outcome = self._send("note", key, "POST", f"/cases/{case_id}/notes", data)
        outcome.case_id = case_id if outcome.acked else None
        return outcome

    def change_status(self, case_id: int, to_status: str, key: str) -> Outcome:
        data = {"csrf_token": self.csrf, "to_status": to_status, "reason": key}
        data["closure_reason"] = ""
        outcome = self._send("status", key, "POST", f"/cases/{case_id}/status", data)
        outcome.case_id = case_id if outcome.acked else None
        return outcome

    def view(self, case_id: int) -> Outcome:
        return self._send("view", "", "GET", f"/cases/{case_id}", None)


def unavailable_page_problem(answer: requests.Response) -> str:
    """What is wrong with a 503 answer, or "" when it is the app's clear page."""
    problems = []
    if not answer.headers.get("Retry-After"):
        problems.append("no Retry-After")
    if "text/html" not in answer.headers.get("Content-Type", ""):
        problems.append("not HTML")
    if 'lang="ar"' not in answer.text:
        problems.append("not in Arabic")
    if "Traceback" in answer.text or "OperationalError" in answer.text:
        problems.append("shows the error")
    return "503 " + ", ".join(problems) if problems else ""


class Writer(threading.Thread):
    """A caseworker working through their own cases until told to stop: notes, status changes,
    now and then a new case, and (with ``views``) opening a case page."""

    def __init__(self, staff: Staff, index: int, stop: threading.Event, views: float) -> None:
        super().__init__(daemon=True)
        self.staff = staff
        self.index = index
        self.stop_event = stop
        self.views = views
        self.random = random.Random(index)  # noqa: S311 - a workload, not a secret
        self.cases: dict[int, str] = {}  # case id -> status the client knows it is in
        self.outcomes: list[Outcome] = []
        self.count = 0

    def key(self, kind: str) -> str:
        self.count += 1
        return f"fault-{kind}-{self.index}-{self.count}-{self.random.getrandbits(32):08x}"

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.step()

    def step(self) -> None:
        roll = self.random.random()
        if not self.cases or roll < 0.1:
            outcome = self.staff.create_case(self.key("case"))
            if outcome.acked and outcome.case_id is not None:
                self.cases[outcome.case_id] = "new"
        elif roll < 0.1 + self.views:
            outcome = self.staff.view(self.random.choice(list(self.cases)))
        elif roll < 0.55:
            outcome = self.staff.add_note(self.random.choice(list(self.cases)), self.key("note"))
        else:
            case_id = self.random.choice(list(self.cases))
            outcome = self.staff.change_status(
                case_id, STATUS_CYCLE[self.cases[case_id]], self.key("status")
            )
            if outcome.acked:
                self.cases[case_id] = STATUS_CYCLE[self.cases[case_id]]
            elif outcome.status is None or outcome.status >= 500:
                # Maybe applied, maybe not: this client no longer knows the case's status.
                del self.cases[case_id]
        self.outcomes.append(outcome)
        if outcome.status is None or outcome.status >= 500:
            time.sleep(0.05)  # as a person would, rather than hammering a failing server


def start_writers(
    base: str, clients: int, views: float = 0.0
) -> tuple[list[Writer], threading.Event]:
    stop = threading.Event()
    writers = []
    for i in range(clients):
        staff = Staff(base, f"fault-cw{i}")
        staff.login()
        writers.append(Writer(staff, i, stop, views))
    for writer in writers:
        writer.start()
    return writers, stop


def finish(writers: list[Writer], stop: threading.Event) -> list[Outcome]:
    stop.set()
    for writer in writers:
        writer.join(timeout=120)
    return [o for w in writers for o in w.outcomes]


# --- what the database must hold ---------------------------------------------------------------


def missing_acknowledged(engine: Engine, outcomes: list[Outcome]) -> dict[str, int]:
    """Acknowledged writes not found in the database, per kind."""
    queries = {
        "create": "SELECT given_name FROM cases WHERE given_name LIKE 'fault-case-%'",
        "note": "SELECT body FROM case_notes WHERE body LIKE 'fault-note-%'",
        "status": "SELECT reason FROM status_changes WHERE reason LIKE 'fault-status-%'",
    }
    missing = {}
    with engine.connect() as conn:
        for action, sql in queries.items():
            stored = set(conn.execute(text(sql)).scalars())
            wanted = {o.key for o in outcomes if o.action == action and o.acked}
            missing[action] = len(wanted - stored)
    return missing


def partial_records(engine: Engine) -> dict[str, int]:
    """Rows that a write left without their companions: each count must be 0."""
    checks = {
        "case without its opening status row": """
            SELECT count(*) FROM cases c WHERE NOT EXISTS (
              SELECT 1 FROM status_changes s WHERE s.case_id = c.id AND s.from_status IS NULL)""",
        "case without its assignment": """
            SELECT count(*) FROM cases c WHERE NOT EXISTS (
              SELECT 1 FROM assignments a WHERE a.case_id = c.id)""",
        "case without its search tokens": """
            SELECT count(*) FROM cases c WHERE NOT EXISTS (
              SELECT 1 FROM case_name_tokens t WHERE t.case_id = c.id)""",
        "case created without exactly one audit event": """
            SELECT count(*) FROM cases c WHERE (SELECT count(*) FROM audit_events e
              WHERE e.action = 'case_create' AND e.object_id = c.id) <> 1""",
        "case whose notes and note audit events differ in number": """
            SELECT count(*) FROM cases c WHERE
              (SELECT count(*) FROM case_notes n WHERE n.case_id = c.id) <>
              (SELECT count(*) FROM audit_events e
                 WHERE e.action = 'note_add' AND e.object_id = c.id)""",
        "case whose status changes and their audit events differ in number": """
            SELECT count(*) FROM cases c WHERE
              (SELECT count(*) FROM status_changes s
                 WHERE s.case_id = c.id AND s.from_status IS NOT NULL) <>
              (SELECT count(*) FROM audit_events e
                 WHERE e.action = 'status_change' AND e.object_id = c.id)""",
        "case whose status is not its last status change's": """
            SELECT count(*) FROM cases c WHERE c.status <> (
              SELECT s.to_status FROM status_changes s WHERE s.case_id = c.id
              ORDER BY s.id DESC LIMIT 1)""",
    }
    with engine.connect() as conn:
        found = {label: conn.execute(text(sql)).scalar_one() for label, sql in checks.items()}
        # add_note moves the case's last activity on just before the note row is stamped.
        rows = conn.execute(
            text(
                "SELECT c.last_activity_at, max(n.created_at) FROM cases c "
                "JOIN case_notes n ON n.case_id = c.id GROUP BY c.id, c.last_activity_at"
            )
        ).all()
    # Both times are taken in the one transaction, the note's after any wait for the write lock
    # (SQLite's busy timeout is 10 s): a note saved without moving its case on would lag more.
    found["case whose last activity is older than its last note"] = sum(
        1
        for activity, last_note in rows
        if _as_datetime(last_note) - _as_datetime(activity) > LOCK_WAIT
    )
    return found


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def audit_chain_problems(env: dict[str, str]) -> str:
    """The audit trail's hash chain, checked by the app's own verifier ("" when intact)."""
    script = (
        "from cases import create_app\n"
        "from cases.audit.services import verify\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    r = verify()\n"
        "    print(r.count, len(r.broken_links), len(r.altered))\n"
    )
    count, broken, altered = run([str(BIN / "python"), "-c", script], env=env).split()[-3:]
    if broken == "0" and altered == "0":
        return ""
    return f"{count} events, {broken} broken links, {altered} altered"


def check_database(report: Report, env: dict[str, str], outcomes: list[Outcome]) -> None:
    engine = create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    try:
        missing = missing_acknowledged(engine, outcomes)
        acked = sum(1 for o in outcomes if o.acked and o.action != "view")
        report.check(
            "every acknowledged write is in the database",
            not any(missing.values()),
            f"{acked} acknowledged, missing: " + ", ".join(f"{k} {v}" for k, v in missing.items()),
        )
        partial = partial_records(engine)
        bad = {label: n for label, n in partial.items() if n}
        report.check(
            "no partial record",
            not bad,
            "; ".join(f"{label}: {n}" for label, n in bad.items())
            or f"{len(partial)} invariants hold",
        )
    finally:
        engine.dispose()
    problems = audit_chain_problems(env)
    report.check("the audit chain verifies", not problems, problems)


# --- scenario 1: kill -9 a worker during writes ------------------------------------------------


def kill_worker_scenario(pg: PrivatePostgres, short: bool) -> Report:
    report = Report("kill -9 a gunicorn worker during writes (PostgreSQL)")
    clients, seconds, kills = (12, 20, 2) if short else (24, 60, 4)
    env = app_env(pg.create_database("faults_kill"), WORK / "kill-instance")
    prepare_database(env, clients)
    with serving(env, workers=2, threads=4, name="kill") as server:
        writers, stop = start_writers(server.base, clients)
        started = time.monotonic()
        killed: list[tuple[int, float]] = []
        for _ in range(kills):
            time.sleep(seconds / (kills + 1))
            victims = server.worker_pids()
            # The busiest: kept-alive connections stay with one worker, which may leave the other
            # idle, and killing an idle worker would test nothing.
            victim = server.busiest_worker()
            os.kill(victim, signal.SIGKILL)
            killed.append((victim, time.monotonic()))
            log(f"kill -9 worker {victim} (workers were {victims})")
        time.sleep(seconds / (kills + 1))
        outcomes = finish(writers, stop)
        elapsed = time.monotonic() - started
        respawned = wait_for(lambda: len(server.worker_pids()) >= server.workers, 30)
        after = Staff(server.base, "fault-cw0")
        after.login()
        page = after.view(next(iter(writers[0].cases), 1))
        workers_now = server.worker_pids()

    load_figures(report, outcomes, elapsed)
    cut = [o for o in outcomes if o.status is None]
    in_doubt = [o for o in cut if o.action != "view"]
    report.figure(
        f"{len(killed)} workers killed; {len(cut)} requests cut off "
        f"({', '.join(f'{k} x{v}' for k, v in Counter(o.error for o in cut).items()) or 'none'})"
    )
    report.figure(f"{len(in_doubt)} writes in doubt (no answer); {committed(env, in_doubt)}")
    report.check(
        "the master replaced every killed worker",
        respawned and not {pid for pid, _ in killed} & set(workers_now),
        f"workers now {workers_now}",
    )
    report.check("the service still answers a logged-in case page", page.acked, page.error)
    wrong = [o for o in outcomes if o.status is not None and not o.acked]
    report.check(
        "no request answered with an error; cut-off ones got a connection error",
        not wrong,
        describe(wrong) or f"{len(cut)} cut off, none answered wrongly",
    )
    # A kill cuts the requests the worker was serving, and the keep-alive connections it held:
    # a client finds such a connection dead when it next sends on it, which is at most
    # gunicorn's keep-alive time after the kill (the worker would have closed it by then).
    for_kill = [
        o
        for o in cut
        if any(o.started <= at + KEEPALIVE_SECONDS and at <= o.ended + 0.5 for _, at in killed)
    ]
    report.check(
        "the kills cut off requests in flight or connections held, and only those",
        bool(cut) and len(for_kill) == len(cut),
        f"{len(for_kill)} of {len(cut)} cut off were in flight at a kill or sent on its "
        f"worker's connections within {KEEPALIVE_SECONDS} s after it",
    )
    check_database(report, env, outcomes)
    return report


def committed(env: dict[str, str], in_doubt: list[Outcome]) -> str:
    """How many of the unanswered writes turned out to be saved (whole, as checked)."""
    if not in_doubt:
        return "none to look up"
    engine = create_engine(env["DATABASE_URL"])
    keys = [o.key for o in in_doubt]
    with engine.connect() as conn:
        found = 0
        for table, column in (("cases", "given_name"), ("case_notes", "body")):
            found += len(
                conn.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} = ANY(:keys)"),  # noqa: S608
                    {"keys": keys},
                ).all()
            )
        found += len(
            conn.execute(
                text("SELECT reason FROM status_changes WHERE reason = ANY(:keys)"), {"keys": keys}
            ).all()
        )
    engine.dispose()
    return f"{found} of them were saved, {len(keys) - found} were not"


def describe(outcomes: list[Outcome], limit: int = 5) -> str:
    counts = Counter(f"{o.action} {o.error or o.status}" for o in outcomes)
    text = ", ".join(f"{k} x{v}" for k, v in counts.most_common(limit))
    details = [o for o in outcomes if o.detail]
    if details:
        first = details[0]
        text += f" (the first after {first.ended - first.started:.1f} s: {first.detail})"
    return text


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# --- scenario 2: restart PostgreSQL under load ---------------------------------------------------


class Prober(threading.Thread):
    """Polls a few pages every 0.1 s and records when each answer came and what it was."""

    def __init__(self, base: str, staff: Staff, case_id: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.staff = staff
        self.case_id = case_id
        self.stop_event = stop
        self.seen: list[tuple[float, str, int | None, str]] = []  # at, what, status, problem

    def run(self) -> None:
        while not self.stop_event.is_set():
            for what, probe in (
                ("case page", lambda: self.staff.view(self.case_id)),
                ("/readyz", lambda: self._get("/readyz")),
                ("/healthz", lambda: self._get("/healthz")),
            ):
                outcome = probe()
                self.seen.append((outcome.ended, what, outcome.status, outcome.error))
            time.sleep(0.1)

    def _get(self, path: str) -> Outcome:
        started = time.monotonic()
        try:
            answer = requests.get(self.base + path, timeout=10)
        except requests.RequestException as error:
            return Outcome(
                "probe", path, started, time.monotonic(), None, False, type(error).__name__
            )
        error = ""
        if answer.status_code == 503 and path != "/readyz":
            error = unavailable_page_problem(answer)
        return Outcome("probe", path, started, time.monotonic(), answer.status_code, False, error)


@dataclass
class Outage:
    mode: str  # pg_ctl's shutdown mode: "fast" (clean) or "immediate" (as a crash)
    down_at: float = 0.0  # pg_ctl stop called
    stopped_at: float = 0.0  # PostgreSQL gone
    up_at: float = 0.0  # PostgreSQL accepts connections again


def restart_scenario(pg: PrivatePostgres, short: bool, restarts: int | None = None) -> Report:
    report = Report("restart PostgreSQL during load")
    clients, settle, outage = (8, 8, 3) if short else (20, 20, 8)
    modes = ("fast", "immediate")
    restarts = restarts or (1 if short else 2)
    outages = [Outage(modes[i % 2]) for i in range(restarts)]
    env = app_env(pg.create_database("faults_restart"), WORK / "restart-instance")
    prepare_database(env, clients + 1)
    with serving(env, workers=2, threads=4, name="restart") as server:
        probe_staff = Staff(server.base, f"fault-cw{clients}")
        probe_staff.login()
        probe_case = probe_staff.create_case("fault-case-probe-1")
        writers, stop = start_writers(server.base, clients, views=0.2)
        prober = Prober(server.base, probe_staff, probe_case.case_id or 1, stop)
        prober.start()
        started = time.monotonic()
        for down in outages:
            time.sleep(settle)
            log(f"pg_ctl stop -m {down.mode}; {outage} s later pg_ctl start")
            down.down_at = time.monotonic()
            pg.pg_ctl("stop", "-m", down.mode)
            down.stopped_at = time.monotonic()
            time.sleep(outage)
            pg.pg_ctl("start")
            wait_for(pg.accepts, 60)
            down.up_at = time.monotonic()
        time.sleep(settle)
        outcomes = finish(writers, stop)
        prober.join(timeout=30)
        elapsed = time.monotonic() - started

    load_figures(report, outcomes, elapsed)
    bad = [o for o in outcomes if o.status is None or (not o.acked and o.status != 503)]
    bad_503 = [o for o in outcomes if o.status == 503 and o.error]
    unavailable = [o for o in outcomes if o.status == 503]
    report.check(
        "no 500, no error page but 503, no connection cut by the app",
        not bad,
        describe(bad) or f"{len(outcomes)} answers",
    )
    report.check(
        "every 503 is the clear Arabic page with Retry-After",
        not bad_503 and bool(unavailable),
        describe(bad_503) or f"{len(unavailable)} such pages",
    )
    report.check(
        "no stack trace or 'OperationalError' on any page",
        not any(o.traceback for o in outcomes),
    )
    for i, down in enumerate(outages):
        until = outages[i + 1].down_at if i + 1 < len(outages) else float("inf")
        outage_checks(report, down, until, outcomes, prober.seen)
    check_database(report, env, outcomes)
    return report


def outage_checks(
    report: Report, down: Outage, until: float, outcomes: list[Outcome], seen: list[tuple]
) -> None:
    """Figures and checks of one outage: the answers meanwhile, the probes, the recovery
    (looked at until the next outage)."""
    name = f"stop -m {down.mode}"
    window = [o for o in outcomes if o.ended >= down.stopped_at and o.started <= down.up_at]
    answers = Counter(str(o.status) if o.status else o.error for o in window)
    report.figure(
        f"{name}: PostgreSQL away {down.up_at - down.down_at:.1f} s; answers meanwhile: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(answers.items()))
    )
    probes = [s for s in seen if down.stopped_at + 0.5 <= s[0] <= down.up_at - 0.5]
    health = [s for s in probes if s[1] == "/healthz"]
    ready = [s for s in probes if s[1] == "/readyz"]
    report.check(
        f"{name}: /healthz answers 200 while the database is down",
        bool(health) and all(s[2] == 200 for s in health),
        describe_probes(health),
    )
    report.check(
        f"{name}: /readyz answers 503 while the database is down",
        bool(ready) and all(s[2] == 503 for s in ready),
        describe_probes(ready),
    )
    after = [s for s in seen if down.up_at <= s[0] < until]
    recovered = {what: settled_after(after, what, down.up_at) for what in ("case page", "/readyz")}
    writes_back = [o.ended for o in outcomes if o.acked and down.up_at <= o.started < until]
    report.figure(
        f"{name}: once PostgreSQL accepted connections, 200 for good after: "
        + ", ".join(
            f"{what} {f'{t:.1f} s' if t is not None else 'never'}" for what, t in recovered.items()
        )
        + (
            f"; first acknowledged write after {min(writes_back) - down.up_at:.1f} s"
            if writes_back
            else ""
        )
    )
    page = recovered["case page"]
    report.check(
        f"{name}: the app answers 200 again by itself within 10 s",
        page is not None and page <= 10,
        f"{page:.1f} s" if page is not None else "never",
    )


def settled_after(seen: list[tuple], what: str, since: float) -> float | None:
    """Seconds after ``since`` from which the probe of ``what`` answered 200 every time (not a
    lucky answer between failures), or None."""
    mine = [s for s in seen if s[1] == what]
    last_bad = max((s[0] for s in mine if s[2] != 200), default=None)
    good = [s[0] for s in mine if s[2] == 200 and (last_bad is None or s[0] > last_bad)]
    return good[0] - since if good else None


def describe_probes(probes: list[tuple[float, str, int | None, str]]) -> str:
    counts = Counter(str(s[2]) if s[2] is not None else "no answer" for s in probes)
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())) or "no probe in the window"


# --- scenario 3: many concurrent writers on SQLite ---------------------------------------------


# For comparison only (--sqlite-begin): the app with SQLAlchemy beginning SQLite transactions at
# the first statement, as the pysqlite "serializable" recipe does, deferred or immediate.
BEGIN_RECIPE = """
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _no_pysqlite_begin(dbapi_connection, _record):
    dbapi_connection.isolation_level = None


@event.listens_for(Engine, "begin")
def _begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("{statement}")


from app import app  # noqa: E402
"""


def sqlite_app_spec(begin: str) -> tuple[str, str]:
    """The gunicorn app to serve and the PYTHONPATH it needs, for ``--sqlite-begin``."""
    if begin == "pysqlite":
        return "app:app", ""
    folder = WORK / "recipe"
    folder.mkdir(parents=True, exist_ok=True)
    statement = "BEGIN IMMEDIATE" if begin == "immediate" else "BEGIN"
    (folder / "recipe_app.py").write_text(BEGIN_RECIPE.format(statement=statement))
    return "recipe_app:app", str(folder)


def sqlite_scenario(short: bool, begin: str = "pysqlite") -> Report:
    title = "many concurrent writers on SQLite"
    report = Report(title if begin == "pysqlite" else f"{title} (transactions: BEGIN {begin})")
    clients, seconds, workers, threads = (30, 20, 4, 4) if short else (40, 45, 4, 8)
    instance = WORK / "sqlite-instance"
    env = app_env(f"sqlite:///{instance / 'athar.sqlite'}", instance)
    prepare_database(env, clients)
    app, path = sqlite_app_spec(begin)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, str(ROOT)]))
    with serving(env, workers=workers, threads=threads, name="sqlite", app=app) as server:
        writers, stop = start_writers(server.base, clients, views=0.15)
        started = time.monotonic()
        time.sleep(seconds)
        outcomes = finish(writers, stop)
        elapsed = time.monotonic() - started
    load_figures(report, outcomes, elapsed)
    report.figure(f"{clients} clients, {workers} workers x {threads} threads, {seconds} s")
    locked = [o for o in outcomes if o.locked]
    # The app answers SQLite's "database is locked" with its 503 page and logs it.
    logged = server.log_path.read_text(encoding="utf-8").count(LOCKED)
    report.check(
        "no 'database is locked' reached a user (in answers, in the server log)",
        not locked and not logged,
        f"{len(locked)} answers, {logged} log lines",
    )
    wrong = [o for o in outcomes if not o.acked]
    report.check("every request succeeded", not wrong, describe(wrong) or "all did")
    check_database(report, env, outcomes)
    return report


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about 2 minutes)")
    parser.add_argument(
        "--only", choices=("kill", "restart", "sqlite"), action="append", help="run only these"
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the instance folders in {WORK} for a post-mortem"
    )
    parser.add_argument(
        "--restarts",
        type=int,
        help="PostgreSQL restarts, clean and crash-like in turn (default 1, long mode 2)",
    )
    parser.add_argument(
        "--sqlite-begin",
        choices=("pysqlite", "deferred", "immediate"),
        default="pysqlite",
        help="for comparison: who begins SQLite transactions (default: pysqlite, as shipped)",
    )
    args = parser.parse_args(argv)
    chosen = args.only or ["kill", "restart", "sqlite"]
    WORK.mkdir(parents=True, exist_ok=True)
    WORK.chmod(0o755)  # the private PostgreSQL runs as "postgres" below it
    log(f"fault tests ({'short' if args.short else 'long'}): {', '.join(chosen)}; logs in {WORK}")
    reports: list[Report] = []
    started = time.monotonic()
    pg = PrivatePostgres() if {"kill", "restart"} & set(chosen) else None
    try:
        if pg is not None:
            pg.start()
            log(f"private PostgreSQL {pg.bin.parent.name} on port {pg.port}")
        for name in chosen:
            log(f"scenario {name}")
            try:
                if name == "kill":
                    reports.append(kill_worker_scenario(pg, args.short))
                elif name == "restart":
                    reports.append(restart_scenario(pg, args.short, args.restarts))
                else:
                    reports.append(sqlite_scenario(args.short, args.sqlite_begin))
            except Exception as error:  # noqa: BLE001 - report it as the scenario's failure
                failed = Report(name)
                failed.check("the scenario ran", False, f"{type(error).__name__}: {error}")
                reports.append(failed)
            reports[-1].show()
    finally:
        if pg is not None:
            pg.stop()
        if not args.keep:
            for leftover in WORK.glob("*-instance"):
                shutil.rmtree(leftover, ignore_errors=True)
    print(f"\n== fault tests took {time.monotonic() - started:.0f} s", flush=True)
    for report in reports:
        print(f"   {'PASS' if report.passed else 'FAIL'}  {report.name}")
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
