"""Hostile input to every form field and query parameter of every endpoint (issue 5).

The sweep walks ``app.url_map`` like tests/auth/test_access_sweep.py. For each endpoint it logs
in with a role allowed to use it, builds the URL with real object ids (a case the caseworker
owns, an inquiry, an approval request, a data request, an alert), finds the fields the pages'
forms declare by parsing the HTML of every GET page the role can open, and sends each payload to
each field in turn, the other fields keeping the page's own values so the hostile one is the
only thing wrong.

Every response: no 500, no unescaped script or image tag, no traceback. Afterwards the database
holds no NUL byte, nothing longer than its column allows, and no 1 MB string.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import String, Text, select

from cases.api import services as api_services
from cases.attachments import services as attachment_services
from cases.auth import invitations, sessions
from cases.auth.guard import endpoint_policy
from cases.auth.models import Role, User
from cases.casework import services as case_services
from cases.extensions import db, limiter
from cases.imports import services as import_services
from cases.inquiries import services as inquiry_services
from cases.inquiries.models import Alert, RequestKind
from cases.inquiries.public import FAMILY_AT, FAMILY_KEY
from cases.matching import decisions as match_decisions

from .factories import PASSWORD, enrol_two_factor, make_case, pass_second_step
from .inquiries.factories import make_inquiry

MEGABYTE = "x" * (1024 * 1024)
BROKEN_UTF8 = object()  # sent as the raw bytes %FF%FE%FA, not as text
PAYLOADS: tuple[object, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "; DROP TABLE cases; --",
    "\u202etxt.exe",
    MEGABYTE,
    "a\x00b",
    BROKEN_UTF8,
)
FORBIDDEN_IN_BODY = ("<script>alert(1)</script>", "<img src=x onerror", "Traceback")

# Query parameters the views read from request.args without a form on the page.
QUERY_PARAMETERS = {
    "auth.login": {"next"},
    "casework.case_list": {"page"},
    "intake.queue": {"reference"},
    "oversight.dashboard": {"stale_days"},
    "reports.aggregate": {"months"},
    "reports.aggregate_csv": {"months"},
}
# A few required fields that need a plausible value for the other fields to reach the database.
FILL = {"given_name": "Test", "reason": "A reason", "body": "Some news"}
# Endpoints that act once on their object: each request gets a fresh one.
ONE_SHOT = {
    "casework.withdraw",
    "casework.change_status",
    "oversight.decide",
    "oversight.decide_data_request",
    "intake.create_case",
    "intake.reject",
    "intake.attach",
    "intake.open_alert",
    "admin.set_active",
    "auth.accept_invitation",
    "attachments.remove",
    "matching.not_same",
    "matching.propose",
    "matching.inquiry_not_same",
    "matching.withdraw",
    "matching.undo",
    "oversight.decide_merge",
    "imports.import_rows",
    "imports.discard",
    "admin.api_client_revoke",
    "auth.api_client_revoke",
}
# The JSON API takes no forms: schemathesis fuzzes it against its OpenAPI document
# (tests/api/test_schema.py, .ci/api-fuzz).
SKIPPED = {"static"}
API_PREFIX = "api."
UNTESTED_METHODS = {"HEAD", "OPTIONS"}


# --- forms on the pages ---------------------------------------------------------------------


@dataclass
class FormSpec:
    action: str
    method: str
    defaults: dict[str, list[str]] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)


class FormParser(HTMLParser):
    """Every <form>: its action, method, field names and the values the page filled in."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[FormSpec] = []
        self._form: FormSpec | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self._text: list[str] = []
        self._formactions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_url).path
            self._form = FormSpec(action, (a.get("method") or "get").upper())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if a.get("formaction"):
            # A button that sends the same form elsewhere (approve / reject).
            self._formactions.append(urlsplit(a["formaction"]).path)
        name = a.get("name")
        if tag == "input" and name:
            form.fields.add(name)
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.defaults.setdefault(name, []).append(a.get("value", "y"))
            elif kind not in ("submit", "button", "file"):
                form.defaults.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select" and name:
            form.fields.add(name)
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._selected:
                self._selected = True
                form.defaults[self._select] = [value]
        elif tag == "textarea" and name:
            form.fields.add(name)
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            form = self._form
            for action in self._formactions:
                self.forms.append(FormSpec(action, form.method, form.defaults, form.fields))
            self._form, self._formactions = None, []
        elif tag == "select" and self._select and self._form is not None:
            if not self._selected and self._first_option is not None:
                self._form.defaults[self._select] = [self._first_option]
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.defaults[self._textarea] = ["".join(self._text).lstrip("\n")]
            self._textarea = None


# --- the objects the views need --------------------------------------------------------------


@dataclass
class World:
    caseworker: User
    supervisor: User
    admin: User
    case_id: int
    inquiry_id: int
    family_inquiry_id: int
    approval: tuple[int, int]  # (case id, request id)
    data_request_id: int
    alert_id: int
    invitation_token: str = ""
    attachment_id: int = 0
    # Matching: a second file on the world's case, a case like the world's inquiry, and a
    # decision for each endpoint that acts on one.
    twin_id: int = 0
    inquiry_match_id: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    # A spreadsheet upload waiting for its mapping, and an API client to revoke.
    batch_id: int = 0
    api_client_id: int = 0


def _closure_request(caseworker: User) -> tuple[int, int]:
    case = make_case(caseworker)
    request = case_services.change_status(
        caseworker, case, "closed", "The family asked us to stop", "duplicate"
    )
    return case.id, request.id


def _linked_inquiry(caseworker: User) -> int:
    inquiry, _ = make_inquiry()
    linked = inquiry_services.create_case_from_inquiry(caseworker, inquiry)
    assert linked.owner_id == caseworker.id
    return inquiry.id


def _new_alert(world: World) -> int:
    inquiry = db.session.get(inquiry_services.Inquiry, world.family_inquiry_id)
    inquiry_services.add_family_information(inquiry, "more news")
    return db.session.scalar(select(Alert.id).order_by(Alert.id.desc()).limit(1))


def _new_invitation() -> str:
    _, token = invitations.invite_new_user(
        None, f"invitee-{secrets.token_hex(4)}", Role.CASEWORKER, "Invitee"
    )
    return token


def _other_session(user: User) -> int:
    """A session of ``user`` in another browser, which the account page can end."""
    return sessions.open_session(user, "192.0.2.1", "Mozilla/5.0 Firefox/128.0")[0].id


def _new_attachment(world: World) -> int:
    """A document on the world's case (each one different: duplicates are refused)."""
    content = b"%PDF-1.4\n%" + secrets.token_hex(8).encode() + b"\n%%EOF\n"
    clean = attachment_services.clean_upload(io.BytesIO(content), "a.pdf")
    case = db.session.get(case_services.Case, world.case_id)
    return attachment_services.add_to_case(world.caseworker, case, clean).id


def _new_twin(world: World) -> int:
    """Another file on the man of the world's case: a possible duplicate of it."""
    return make_case(world.caseworker).id


def _new_decision(world: World, endpoint: str) -> int:
    """A merge waiting for a supervisor, or (to undo) a "not the same person", on the world's
    case, each with a new file so that every request has a decision to act on."""
    case = db.session.get(case_services.Case, world.case_id)
    other = db.session.get(case_services.Case, _new_twin(world))
    if endpoint == "matching.undo":
        return match_decisions.mark_not_same(world.caseworker, case, other_case=other).id
    return match_decisions.propose_same(world.caseworker, other, case, "Same man").id


def _case_like_the_inquiry(caseworker: User) -> int:
    """A case the intake page suggests for the world's inquiries (see make_inquiry)."""
    return make_case(
        caseworker,
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        great_grandfather_name=None,
        laqab="الخفاجي",
        mother_name="زينب علي حسين",
        age=23,
        latin_names=[],
    ).id


def _new_batch(supervisor: User) -> int:
    """A checked two-sheet workbook: its pages show the sheet choice, import and discard."""
    book = openpyxl.Workbook()
    book.active.append(["given_name"])
    book.active.append(["علي"])
    book.create_sheet("Other").append(["given_name"])
    data = io.BytesIO()
    book.save(data)
    batch = import_services.upload(supervisor, data.getvalue(), "list.xlsx")
    import_services.check(supervisor, batch, ["given_name"], supervisor.id)
    return batch.id


def _new_api_client(caseworker: User) -> int:
    """A client the caseworker made for herself: her account page and the admin's list show it,
    each with a revoke button."""
    return api_services.create_client(caseworker, caseworker, "Partner", ["read"])[0].id


def _new_data_request(caseworker: User) -> int:
    inquiry = db.session.get(inquiry_services.Inquiry, _linked_inquiry(caseworker))
    return inquiry_services.request_about_data(inquiry, RequestKind.DELETION).id


@pytest.fixture
def world(
    app: Flask, tmp_path, caseworker, other_caseworker, supervisor, admin, case
) -> Iterator[World]:
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "attachments")
    family_inquiry_id = _linked_inquiry(caseworker)
    built = World(
        caseworker=caseworker,
        supervisor=supervisor,
        admin=admin,
        case_id=case.id,
        inquiry_id=make_inquiry()[0].id,
        family_inquiry_id=family_inquiry_id,
        approval=_closure_request(caseworker),
        data_request_id=0,
        alert_id=0,
    )
    built.data_request_id = _new_data_request(caseworker)
    built.alert_id = _new_alert(built)
    built.invitation_token = _new_invitation()
    built.attachment_id = _new_attachment(built)
    built.twin_id = _new_twin(built)
    built.inquiry_match_id = _case_like_the_inquiry(caseworker)
    built.batch_id = _new_batch(supervisor)
    built.api_client_id = _new_api_client(caseworker)
    pending_merge = _new_decision(built, "matching.withdraw")
    built.decisions = {
        "matching.withdraw": pending_merge,
        "oversight.decide_merge": pending_merge,
        "matching.undo": _new_decision(built, "matching.undo"),
    }
    enabled = limiter.enabled
    limiter.enabled = False  # the sweep sends far more than a family or a caseworker would
    yield built
    limiter.enabled = enabled


def _values(endpoint: str, rule, world: World, fresh: bool) -> dict[str, object]:  # noqa: ANN001
    if fresh and endpoint in ONE_SHOT:
        if endpoint in ("casework.withdraw", "oversight.decide"):
            world.approval = _closure_request(world.caseworker)
        elif endpoint == "casework.change_status":
            world.case_id = make_case(world.caseworker).id
        elif (
            endpoint.startswith("intake.") and endpoint != "intake.open_alert"
        ) or endpoint == "matching.inquiry_not_same":
            world.inquiry_id = make_inquiry()[0].id
        elif endpoint in ("matching.not_same", "matching.propose"):
            world.twin_id = _new_twin(world)
        elif endpoint in world.decisions:
            world.decisions[endpoint] = _new_decision(world, endpoint)
        elif endpoint == "intake.open_alert":
            world.alert_id = _new_alert(world)
        elif endpoint == "oversight.decide_data_request":
            world.data_request_id = _new_data_request(world.caseworker)
        elif endpoint == "auth.accept_invitation":
            world.invitation_token = _new_invitation()
        elif endpoint == "attachments.remove":
            world.attachment_id = _new_attachment(world)
        elif endpoint.startswith("imports."):
            world.batch_id = _new_batch(world.supervisor)
        elif endpoint in ("admin.api_client_revoke", "auth.api_client_revoke"):
            world.api_client_id = _new_api_client(world.caseworker)
        elif endpoint == "admin.set_active":
            db.session.expire_all()
            world.caseworker.active = True
            db.session.commit()
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if name == "case_id":
            values[name] = {
                "casework.withdraw": world.approval[0],
                "matching.inquiry_not_same": world.inquiry_match_id,
            }.get(endpoint, world.case_id)
        elif name == "other_case_id":
            values[name] = world.twin_id
        elif name == "decision_id":
            values[name] = world.decisions[endpoint]
        elif name == "request_id":
            values[name] = (
                world.data_request_id
                if endpoint == "oversight.decide_data_request"
                else world.approval[1]
            )
        elif name == "inquiry_id":
            values[name] = world.inquiry_id
        elif name == "alert_id":
            values[name] = world.alert_id
        elif name == "attachment_id":
            values[name] = world.attachment_id
        elif name == "user_id":
            values[name] = world.caseworker.id
        elif name == "token":
            values[name] = world.invitation_token
        elif name == "batch_id":
            values[name] = world.batch_id
        elif name == "client_id":
            values[name] = world.api_client_id
        elif name == "session_id":
            values[name] = _other_session(world.caseworker)
        elif hasattr(converter, "items"):
            values[name] = sorted(converter.items)[0]
        else:
            raise AssertionError(f"teach the hostile sweep to fill {endpoint}'s {name}")
    return values


# --- who sends it ----------------------------------------------------------------------------


def _role_for(app: Flask, endpoint: str) -> Role | None:
    is_public, allowed = endpoint_policy(app, endpoint)
    if is_public:
        return None
    for role in (Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN):
        if role in allowed:
            return role
    raise AssertionError(f"{endpoint} allows nobody")


def _sign_in(client, world: World, role: Role | None) -> None:  # noqa: ANN001
    if role is None:
        with client.session_transaction() as session:
            session.clear()
            session["lang"] = "en"
            session[FAMILY_KEY] = world.family_inquiry_id
            session[FAMILY_AT] = int(time.time())
        return
    user = {Role.CASEWORKER: world.caseworker, Role.SUPERVISOR: world.supervisor}.get(
        role, world.admin
    )
    with client.session_transaction() as session:
        session.clear()
        session["lang"] = "en"
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    response = pass_second_step(client, user.username, response)
    assert response.status_code == 302, f"{user.username} could not log in"


# Forms shown only to an account that uses two-factor authentication: the caseworker gets it.
TWO_FACTOR_ON = {"auth.recovery_codes", "auth.two_factor_off", "admin.reset_two_factor"}


def _awaiting_code(client, world: World) -> None:  # noqa: ANN001
    """The password step done, the code not yet: the state the code form answers."""
    response = client.post(
        "/login", data={"username": world.supervisor.username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/login/code"


def _rules(app: Flask) -> list:
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.endpoint not in SKIPPED and not r.endpoint.startswith(API_PREFIX)
        ),
        key=lambda r: r.rule,
    )


def _cases() -> list[tuple[str, str]]:
    from cases import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    seen = []
    for rule in _rules(app):
        for method in sorted(rule.methods - UNTESTED_METHODS):
            if (rule.endpoint, method) not in seen:
                seen.append((rule.endpoint, method))
    return seen


def _forms_seen_by(app: Flask, client, world: World, role: Role | None) -> list[FormSpec]:  # noqa: ANN001
    adapter = app.url_map.bind("localhost")
    forms: list[FormSpec] = []
    urls: list[str] = []
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        is_public, allowed = endpoint_policy(app, rule.endpoint)
        if not (is_public or role in allowed):
            continue
        url = adapter.build(rule.endpoint, _values(rule.endpoint, rule, world, fresh=False))
        urls.append(url)
    # The case waiting for a decision shows the approve / reject buttons.
    urls.append(adapter.build("casework.show", {"case_id": world.approval[0]}))
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = FormParser(url)
        parser.feed(response.get_data(as_text=True))
        forms.extend(parser.forms)
    return forms


def _fields_for(forms: list[FormSpec], url: str, method: str) -> tuple[set[str], dict]:
    path = urlsplit(url).path
    fields: set[str] = set()
    defaults: dict[str, list[str]] = {}
    for form in forms:
        if form.action == path and form.method == method:
            fields |= form.fields
            for name, value in form.defaults.items():
                defaults.setdefault(name, value)
    fields.discard("csrf_token")
    defaults.pop("csrf_token", None)
    return fields, defaults


# --- sending ---------------------------------------------------------------------------------


def _encode(data: dict[str, list[str]], hostile_field: str, payload: object) -> str:
    pairs = [(k, v) for k, values in data.items() if k != hostile_field for v in values]
    body = urlencode(pairs, encoding="utf-8")
    if payload is BROKEN_UTF8:
        hostile = f"{quote(hostile_field)}=%FF%FE%FA"
    else:
        hostile = urlencode([(hostile_field, payload)], encoding="utf-8")
    return f"{body}&{hostile}" if body else hostile


def _check(response, what: str) -> list[str]:  # noqa: ANN001
    problems = []
    if response.status_code >= 500:
        problems.append(f"{what} -> {response.status_code}")
    body = response.get_data(as_text=True)
    for needle in FORBIDDEN_IN_BODY:
        if needle in body:
            problems.append(f"{what}: {needle!r} in the response")
    return problems


def _describe(payload: object) -> str:
    if payload is BROKEN_UTF8:
        return "broken UTF-8"
    text = str(payload)
    return f"{len(text)} chars" if len(text) > 60 else repr(text)


SWEEP = _cases()


@pytest.mark.parametrize(("endpoint", "method"), SWEEP, ids=[f"{m} {e}" for e, m in SWEEP])
def test_hostile_input_is_refused_or_stored_safely(app, client, world, endpoint, method) -> None:
    rule = next(r for r in _rules(app) if r.endpoint == endpoint and method in r.methods)
    role = _role_for(app, endpoint)
    if endpoint in TWO_FACTOR_ON:
        enrol_two_factor(world.caseworker)
    _sign_in(client, world, role)
    if endpoint == "auth.login_code":
        _awaiting_code(client, world)
    forms = _forms_seen_by(app, client, world, role)
    adapter = app.url_map.bind("localhost")
    url = adapter.build(endpoint, _values(endpoint, rule, world, fresh=False))
    fields, defaults = _fields_for(forms, url, method)
    if method == "GET":
        fields |= QUERY_PARAMETERS.get(endpoint, set())
    if method == "POST":
        assert fields or endpoint in FIELDLESS, f"no form on any page posts to {endpoint}"
    for name, value in FILL.items():
        if name in defaults and not any(defaults[name]):
            defaults[name] = [value]
    if method == "GET" and not fields:
        fields = {"q"}  # an unexpected parameter must do no harm either
    if method == "POST" and not fields:
        fields = {"unexpected"}

    problems: list[str] = []
    for name in sorted(fields):
        for payload in PAYLOADS:
            if endpoint == "auth.logout":
                _sign_in(client, world, role)  # logged out by the previous request
            url = adapter.build(endpoint, _values(endpoint, rule, world, fresh=True))
            encoded = _encode(defaults if method == "POST" else {}, name, payload)
            what = f"{method} {url} {name}={_describe(payload)}"
            if method == "GET":
                response = client.get(f"{url}?{encoded}")
            else:
                response = client.post(
                    url, data=encoded.encode(), content_type="application/x-www-form-urlencoded"
                )
            problems += _check(response, what)
    assert not problems, "\n".join(problems[:40])
    problems = _stored_problems()
    assert not problems, "\n".join(problems[:40])


# Endpoints whose form is only a button (CSRF token alone); an unexpected field is sent.
FIELDLESS = {
    "auth.logout",
    "casework.withdraw",
    "intake.create_case",
    "intake.open_alert",
    "admin.set_active",
    "auth.end_other_session",
    "attachments.remove",
    "family.data_request",
    "family.finish",
    "matching.withdraw",
    "admin.api_client_revoke",
    "auth.api_client_revoke",
    "imports.discard",
}


def _stored_problems() -> list[str]:
    """NUL bytes, values longer than their column, 1 MB strings: none of them may be stored."""
    db.session.rollback()
    problems = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if not isinstance(value, str):
                    continue
                where = f"{table.name}.{column.name}"
                if "\x00" in value:
                    problems.append(f"{where} holds a NUL byte")
                limit = getattr(column.type, "length", None)
                if limit and len(value) > limit:
                    problems.append(f"{where} holds {len(value)} chars, the column allows {limit}")
                if len(value) >= len(MEGABYTE):
                    problems.append(f"{where} holds a 1 MB string")
    return problems


@pytest.mark.parametrize("path", ["/login", "/check"])
def test_a_request_too_large_gets_the_friendly_page(app, client, monkeypatch, path) -> None:
    # Production config: the limiter falls back to per-process memory when its storage fails.
    monkeypatch.setattr(limiter, "_in_memory_fallback_enabled", True)
    # One uploaded file (8 MB) and its form fit; more is refused before it is read.
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    body = b"username=" + b"x" * (11 * 1024 * 1024) + b"&password=x&reference=1"
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    assert "<html" in page.lower()
    # The limits' keys are still computed without reading the refused body, so an oversized
    # request cannot move the shared (Redis) limits to per-process counting.
    assert limiter._storage_dead is False


def test_the_sweep_reaches_every_endpoint(app) -> None:
    covered = {endpoint for endpoint, _ in SWEEP}
    api = {endpoint for endpoint in app.view_functions if endpoint.startswith(API_PREFIX)}
    assert api, "the API's endpoints moved: update API_PREFIX"
    assert covered == set(app.view_functions) - SKIPPED - api
