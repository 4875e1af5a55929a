"""The app behind gunicorn with the shipped config, as `make serve` starts it: JSON logs, and
rate limits shared through Redis by servers that share nothing else in memory."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis

from .test_serving import redis_answers

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(instance: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FLASK_APP": "app.py",
        "ATHAR_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdef",
        "DATA_KEYS": "dGVzdC1vbmx5LWRhdGEta2V5LTMyLWJ5dGVzLWxvbmc=",
        "LOOKUP_KEY": "test-only-lookup-key-at-least-32-characters",
        "ATHAR_SESSION_COOKIE_SECURE": "false",
        "WEB_CONCURRENCY": "1",
        "ATHAR_THREADS": "2",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def _migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [BIN / "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """A running server's base URL; on exit it is stopped and its log lines are filled in."""
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "gunicorn", "--config", "python:cases.ops.gunicorn_conf", "app:app"],
        cwd=ROOT,
        env={**env, "ATHAR_BIND": f"127.0.0.1:{port}"},
        stderr=subprocess.PIPE,
        text=True,
    )
    base, log = f"http://127.0.0.1:{port}", []
    try:
        _wait_for(f"{base}/healthz")
        yield base, log
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        log.extend(errors.splitlines())


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_gunicorn_serves_with_the_shipped_config_and_logs_json(tmp_path):
    env = _environment(tmp_path)
    _migrate(env)
    with gunicorn(env) as (base, log):
        assert _get(f"{base}/readyz") == 200
        assert _get(f"{base}/check/SECRET-TOKEN?q=name") == 404
    lines = [json.loads(line) for line in log if line.strip()]
    access = [line for line in lines if line["logger"] == "athar.access"]
    assert {line["route"] for line in access} >= {"/readyz", "/healthz"}
    assert all(line["request_id"] and line["time"] for line in access)
    assert not any("SECRET-TOKEN" in line for line in log)
    assert any("REDIS_URL is not set" in line["message"] for line in lines)


class Browser:
    """Cookies and CSRF tokens, as a browser keeps them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def post_form(self, path: str, data: dict[str, str]) -> int:
        with self.opener.open(self.base + path, timeout=10) as page:
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode())
        body = urllib.parse.urlencode({**data, "csrf_token": token.group(1)}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (make services)")
def test_two_servers_count_failed_logins_together_through_redis(tmp_path):
    prefix = f"athar-test-{secrets.token_hex(4)}"
    env = _environment(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/11",
        ATHAR_RATELIMIT_KEY_PREFIX=prefix,
        ATHAR_LOGIN_LIMIT_PER_ACCOUNT="4 per 15 minutes",
    )
    _migrate(env)
    wrong = {"username": "zainab", "password": "not the password"}
    try:
        with gunicorn(env) as (one, log_one), gunicorn(env) as (two, log_two):
            first, second = Browser(one), Browser(two)
            assert [first.post_form("/login", wrong) for _ in range(2)] == [200, 200]
            assert [second.post_form("/login", wrong) for _ in range(2)] == [200, 200]
            # Four tries spent across both servers: the fifth is refused wherever it lands.
            assert first.post_form("/login", wrong) == 429
            assert second.post_form("/login", wrong) == 429
        # The limiter's own log line names the key it counted: the typed username.
        assert not [line for line in log_one + log_two if "zainab" in line]
    finally:
        client = Redis.from_url("redis://127.0.0.1:6379/11")
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()


def test_pages_keep_working_while_redis_is_away(tmp_path):
    """Every server's Redis gone: limits are counted in memory, cached duplicate suggestions
    and intake marks are computed afresh; nothing answers 503."""
    env = _environment(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:1/0",
        ATHAR_DEMO="true",
        ATHAR_CASE_MATCHES_SECONDS="300",
    )
    _migrate(env)
    subprocess.run(
        [BIN / "flask", "demo", "init", "--cases", "30"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    # "caseworker  caseworker  <password>": role, username, password.
    lines = (tmp_path / "demo-credentials.txt").read_text(encoding="utf-8").splitlines()
    password = next(line.split()[2] for line in lines if line.split()[:2] == ["caseworker"] * 2)
    with gunicorn(env) as (base, _):
        staff = Browser(base)
        assert staff.post_form("/login", {"username": "caseworker", "password": password}) == 200
        with staff.opener.open(f"{base}/cases/", timeout=10) as page:
            listing = page.read().decode()
        found = re.search(r'href="(/cases/\d+)"', listing)
        assert found, listing[-2500:]
        first_case = found.group(1)
        for path in (first_case, first_case, "/intake/", "/readyz"):
            with staff.opener.open(base + path, timeout=10) as page:
                assert page.status == 200, path
