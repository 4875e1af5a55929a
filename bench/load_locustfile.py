"""The workload bench/load.py drives with locust: staff and families on a working day.

Not meant to be run by hand (bench/load.py prepares the database, starts gunicorn and passes
the settings below through the environment), but it can be:

    LOAD_ACCOUNTS=/tmp/load/accounts.json LOAD_WRITES=/tmp/load/writes.jsonl \
    LOAD_TIMINGS=/tmp/load/timings.csv .venv/bin/locust -f bench/load_locustfile.py \
    --headless -u 10 -r 2 -t 20s -H http://127.0.0.1:8765 Caseworker Supervisor Family

Staff log in once (password; supervisors also a two-factor code), then list their cases, search
names in Arabic and Latin letters, open cases, add notes and move cases along the workflow
(only transitions that need no supervisor's approval). Families check their inquiry's status on
the public pages. Every write the app acknowledges (it redirects to the case page with a success
message) is appended to LOAD_WRITES, so bench/load.py can look for it in the database. Every
request's time goes to LOAD_TIMINGS for exact percentiles.

CasePage and Healthz are the closed-loop users of the throughput comparison: no think time,
one page each.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from typing import Any

import pyotp
from locust import HttpUser, between, constant, events, task
from locust.clients import ResponseContextManager

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(\d+)"')
STATUS_SELECT = re.compile(r'name="to_status"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option[^>]*value="([a-z_]+)"')
# A supervisor approves these: the bench moves cases only along the other transitions.
NEEDS_APPROVAL = {"closed", "located_deceased"}
ERROR_PAGE = 'class="flash flash-error"'
SUCCESS = 'class="flash flash-success"'

# Names as caseworkers type them: common Arabic given names and family names, and the Latin
# spellings families and documents use.
ARABIC_NAMES = ("محمد", "علي", "حسين", "حيدر", "أحمد", "مصطفى", "كرار", "سجاد", "عباس", "حسن")
ARABIC_FULL = ("محمد علي", "علي حسين", "حيدر كاظم", "مصطفى جاسم", "عباس فاضل", "حسين علي")
LATIN_NAMES = ("Mohammed", "Ali", "Hussein", "Haider", "Ahmed", "Mustafa", "Karrar", "Abbas")
LATIN_FULL = ("Mohammed Ali", "Ali Hussein", "Haider Kadhim", "Mustafa Jasim", "Abbas Fadhil")


def _settings() -> dict[str, Any]:
    with open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8") as f:
        return json.load(f)


SETTINGS = _settings()
RUN = SETTINGS["run"]
_caseworkers = itertools.count()
_supervisors = itertools.count()
_writes = itertools.count()
_writes_file = open(os.environ["LOAD_WRITES"], "a", encoding="utf-8")  # noqa: SIM115
_timings_file = open(os.environ["LOAD_TIMINGS"], "a", encoding="utf-8")  # noqa: SIM115


@events.request.add_listener
def _time_request(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None,
    **_: Any,
) -> None:
    ok = 0 if exception else 1
    _timings_file.write(f"{time.time():.3f},{name},{response_time:.2f},{ok}\n")


@events.quitting.add_listener
def _close_files(**_: Any) -> None:
    _writes_file.flush()
    _timings_file.flush()


def record_write(entry: dict[str, Any]) -> None:
    _writes_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
    _writes_file.flush()


def csrf_token(html: str) -> str | None:
    found = CSRF.search(html)
    return found.group(1) if found else None


def expect(response: ResponseContextManager, marker: str) -> bool:
    """Success when the page answered 2xx (after redirects) and shows ``marker``."""
    if response.status_code >= 400 or response.status_code < 200:
        response.failure(f"HTTP {response.status_code}")
        return False
    if marker not in response.text:
        response.failure(f"page without {marker!r} at {response.url}")
        return False
    response.success()
    return True


class Staff(HttpUser):
    """A caseworker or supervisor at work: logs in once, then works through cases."""

    abstract = True
    wait_time = between(1, 3)
    username = ""
    totp_secret: str | None = None

    def on_start(self) -> None:
        self.case_ids: list[int] = []
        self.token: str | None = None
        self.log_in()

    def log_in(self) -> None:
        page = self.client.get("/login", name="GET /login")
        token = csrf_token(page.text)
        form = {"csrf_token": token, "username": self.username, "password": SETTINGS["password"]}
        with self.client.post(
            "/login", data=form, name="POST /login", catch_response=True
        ) as response:
            if self.totp_secret is None:
                expect(response, 'href="/cases/')
                self.remember(response.text)
                return
            if "/login/code" not in response.url:
                response.failure("no two-factor step after the password")
                return
            response.success()
            self.token = csrf_token(response.text)
        self.enter_code()

    def enter_code(self) -> None:
        for _attempt in range(3):
            code = pyotp.TOTP(self.totp_secret).now()
            with self.client.post(
                "/login/code",
                data={"csrf_token": self.token, "code": code},
                name="POST /login/code",
                catch_response=True,
            ) as response:
                if "/login/code" not in response.url:
                    expect(response, 'href="/cases/')
                    self.remember(response.text)
                    return
                # The code of this 30-second step was used already (a rerun within it): the
                # app refuses replays, so wait for the next one, as a person would.
                response.success()
                self.token = csrf_token(response.text) or self.token
            time.sleep(31 - time.time() % 30)

    def remember(self, html: str) -> None:
        """Keep the CSRF token and the case ids a page shows, for the next steps."""
        self.token = csrf_token(html) or self.token
        ids = [int(i) for i in CASE_LINK.findall(html)]
        if ids:
            self.case_ids = ids[:50]

    def a_case(self) -> int | None:
        if not self.case_ids:
            self.list_cases()
        return random.choice(self.case_ids) if self.case_ids else None

    @task(4)
    def list_cases(self) -> None:
        page = random.choice((1, 1, 1, 2, 3))
        with self.client.get(
            f"/cases/?page={page}", name="GET /cases/ (list)", catch_response=True
        ) as response:
            if expect(response, 'href="/cases/'):
                self.remember(response.text)

    @task(2)
    def search_arabic(self) -> None:
        q = random.choice(ARABIC_NAMES + ARABIC_FULL)
        with self.client.get(
            "/cases/", params={"q": q}, name="GET /cases/?q= (Arabic)", catch_response=True
        ) as response:
            expect(response, 'name="q"')

    @task(1)
    def search_latin(self) -> None:
        q = random.choice(LATIN_NAMES + LATIN_FULL)
        with self.client.get(
            "/cases/", params={"q": q}, name="GET /cases/?q= (Latin)", catch_response=True
        ) as response:
            expect(response, 'name="q"')

    def open_case(self, case_id: int) -> str | None:
        with self.client.get(
            f"/cases/{case_id}", name="GET /cases/[id]", catch_response=True
        ) as response:
            if expect(response, 'name="body"'):
                self.token = csrf_token(response.text) or self.token
                return response.text
        return None

    @task(5)
    def read_case(self) -> None:
        case_id = self.a_case()
        if case_id is not None:
            self.open_case(case_id)

    @task(2)
    def add_note(self) -> None:
        case_id = self.a_case()
        if case_id is None or self.open_case(case_id) is None:
            return
        marker = f"load-{RUN}-note-{next(_writes)}"
        body = f"اتصلت بالعائلة، لا أخبار جديدة. {marker}"
        form = {"csrf_token": self.token, "body": body, "kind": "call", "visibility": "internal"}
        with self.client.post(
            f"/cases/{case_id}/notes", data=form, name="POST /cases/[id]/notes", catch_response=True
        ) as response:
            if expect(response, SUCCESS):
                record_write({"kind": "note", "case": case_id, "marker": marker})

    @task(1)
    def change_status(self) -> None:
        case_id = self.a_case()
        if case_id is None:
            return
        html = self.open_case(case_id)
        select = STATUS_SELECT.search(html or "")
        targets = [s for s in OPTION.findall(select.group(1))] if select else []
        targets = [s for s in targets if s not in NEEDS_APPROVAL]
        if not targets:
            return  # nowhere to go without a supervisor, or a request is pending
        target = random.choice(targets)
        marker = f"load-{RUN}-status-{next(_writes)}"
        form = {
            "csrf_token": self.token,
            "to_status": target,
            "closure_reason": "",
            "reason": f"تحديث من الفريق. {marker}",
        }
        with self.client.post(
            f"/cases/{case_id}/status",
            data=form,
            name="POST /cases/[id]/status",
            catch_response=True,
        ) as response:
            if response.status_code == 400 or (
                response.ok and ERROR_PAGE in response.text and SUCCESS not in response.text
            ):
                # Refused by the workflow (someone moved the case first): the form comes back
                # with the reason; a correct answer, not a lost write.
                response.success()
                record_write({"kind": "refused", "case": case_id, "to": target})
                return
            if expect(response, SUCCESS):
                record_write({"kind": "status", "case": case_id, "to": target, "marker": marker})


class Caseworker(Staff):
    weight = 6

    def on_start(self) -> None:
        accounts = SETTINGS["caseworkers"]
        self.username = accounts[next(_caseworkers) % len(accounts)]
        super().on_start()


class Supervisor(Staff):
    weight = 1

    def on_start(self) -> None:
        accounts = SETTINGS["supervisors"]
        self.username, self.totp_secret = accounts[next(_supervisors) % len(accounts)]
        super().on_start()


class Family(HttpUser):
    """A family checking on its inquiry: reference and code on the public page."""

    weight = 1
    wait_time = between(1, 3)

    @task
    def check_status(self) -> None:
        self.client.cookies.clear()  # each check is a new visit
        reference, secret = random.choice(SETTINGS["inquiries"])
        page = self.client.get("/check", name="GET /check")
        form = {"csrf_token": csrf_token(page.text), "reference": reference, "secret": secret}
        with self.client.post(
            "/check", data=form, name="POST /check", catch_response=True
        ) as response:
            if "/check/result" not in response.url:
                response.failure(f"no result page for {reference} (at {response.url})")
                return
            expect(response, 'id="family-status"')


class CasePage(HttpUser):
    """Closed loop on one case page, with a session bench/load.py logged in beforehand."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.update(SETTINGS["session_cookies"])
        self.case_id = SETTINGS["case_page_id"]

    @task
    def case_page(self) -> None:
        with self.client.get(
            f"/cases/{self.case_id}", name="GET /cases/[id]", catch_response=True
        ) as response:
            expect(response, 'name="body"')


class Healthz(HttpUser):
    """Closed loop on the bare liveness probe: what the server gives with no app work."""

    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        with self.client.get("/healthz", name="GET /healthz", catch_response=True) as response:
            expect(response, "ok")
