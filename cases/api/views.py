"""The JSON API under /api/v1. Thin, like the pages: check the shape, let the web form judge
the values, call the same service, answer JSON.

Every view declares its scope with ``@operation(Scope...)``; the blueprint's ``before_request``
refuses any view that does not (a forgotten declaration fails closed). The cookie guard sees
the views as public: a browser's login never opens the API, only a bearer token does, and the
token's client acts as exactly one staff account with that account's access.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse as parse_limit
from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields
from sqlalchemy import func, or_, select
from werkzeug.exceptions import BadRequest, HTTPException

from ..audit import services as audit
from ..auth.guard import public
from ..auth.models import User
from ..casework import services as casework
from ..casework.access import can_see_contacts, can_work_on
from ..casework.forms import CaseForm, NoteForm
from ..casework.listing import COUNT_CAP, CaseFilter, bounded_count, count_filters, filtered_cases
from ..casework.models import ApprovalRequest, Case, CaseNote, StatusChange
from ..clock import utcnow
from ..errors import database_unavailable, log_unexpected, unavailable
from ..exchange import services as exchange
from ..extensions import db, limiter
from ..inquiries import services as inquiries
from ..inquiries.forms import InquiryForm
from ..inquiries.models import Inquiry, InquiryState
from ..matching import decisions
from ..matching.candidates import Match, find_matches
from ..matching.records import PersonRecord
from . import schemas
from . import services as clients
from .errors import ApiError, error_response, from_api_error
from .forms import flatten, validated
from .models import Scope

bp = Blueprint("api", __name__)
F = TypeVar("F", bound=Callable)

OPEN = "open"
JSON = "application/json"
PFIF_TYPES = ("application/pfif+xml", "application/xml", "text/xml")
AUTH_FAILURES = "api-auth-failure"


@dataclass
class Operation:
    """What a view does, for the guard (scope) and the OpenAPI document (the rest)."""

    scope: str
    summary: str
    tag: str
    args: type[Schema] | None = None
    body: type[Schema] | None = None
    body_types: tuple[str, ...] = (JSON,)
    responses: dict[int, type[Schema] | str | None] = field(default_factory=dict)
    description: str = ""


def operation(scope: Scope | str, summary: str, tag: str, **kwargs) -> Callable[[F], F]:  # noqa: ANN003
    """Declare a view's scope (``OPEN`` for the document only) and describe it."""

    def mark(view: F) -> F:
        view.api_operation = Operation(str(scope), summary, tag, **kwargs)
        return public(view)  # for the cookie guard; the token check is below

    return mark


# --- authentication, limits, errors -------------------------------------------------------


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _space, token = header.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None


def rate_limit_key() -> str:
    """One budget per token (so per client), or per address without one."""
    token = bearer_token()
    if token:
        return "api-client:" + clients.hash_token(token)[:32]
    return "api-address:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)


def _auth_failures_blocked() -> int | None:
    """Seconds to wait when this address has sent too many bad tokens, else None."""
    item = parse_limit(current_app.config["API_AUTH_FAILURE_LIMIT"])
    key = request.remote_addr or ""
    if limiter.limiter.test(item, AUTH_FAILURES, key):
        return None
    reset_at = limiter.limiter.get_window_stats(item, AUTH_FAILURES, key).reset_time
    return max(1, int(reset_at - time.time()))


def _count_auth_failure() -> None:
    item = parse_limit(current_app.config["API_AUTH_FAILURE_LIMIT"])
    limiter.limiter.hit(item, AUTH_FAILURES, request.remote_addr or "")


@bp.before_request
def authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    op: Operation | None = getattr(view, "api_operation", None)
    if op is None:
        raise ApiError(403)  # a view without a declared scope is refused to every token
    if op.scope == OPEN:
        return
    wait = _auth_failures_blocked()
    if wait is not None:
        raise ApiError(429, headers={"Retry-After": str(wait)})
    client = clients.authenticate(bearer_token())
    if client is None:
        _count_auth_failure()
        raise ApiError(401, headers={"WWW-Authenticate": 'Bearer realm="athar"'})
    g.api_client = client
    # Services that read the current user see the client's account; no session is involved.
    g._login_user = client.user
    client.last_used_at = utcnow()
    audit.record("api_request", "api_client", client.id, client.user, commit=True)
    if op.scope not in client.scope_set:
        raise ApiError(
            403,
            _l("This token does not have the “%(scope)s” scope.", scope=op.scope),
            headers={"WWW-Authenticate": 'Bearer realm="athar", error="insufficient_scope"'},
        )


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return from_api_error(error)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    code = error.code or 500
    methods = getattr(error, "valid_methods", None) or ()
    return error_response(code, headers={"Allow": ", ".join(methods)} if methods else None)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception) -> Response:
    if database_unavailable(error):
        return unavailable(error)
    db.session.rollback()
    log_unexpected(error)
    return error_response(500)


def actor() -> User:
    return g.api_client.user


# --- reading requests ---------------------------------------------------------------------


def _load(schema: Schema, data: object, *, partial: bool = False) -> dict:
    try:
        return schema.load(data, partial=partial)
    except ValidationError as error:
        raise ApiError(422, fields=flatten(error.messages)) from error


def json_body(schema: type[Schema], *, partial: bool = False) -> dict:
    """The JSON body checked against ``schema``: 415 if it is not JSON, 400 if it does not
    parse, 422 with each field's messages if its shape is wrong."""
    if request.mimetype != JSON:
        raise ApiError(415)
    try:
        data = request.get_json()
    except (BadRequest, RecursionError) as error:
        # RecursionError: arrays nested deeper than the parser's stack ("[[[[…"), which
        # json.loads does not report as a ValueError.
        raise ApiError(400, _l("The body is not valid JSON.")) from error
    return _load(schema(), data, partial=partial)


def query_args(schema: type[Schema]) -> dict:
    """The query string checked against ``schema``; lists may repeat, nothing else may."""
    instance = schema()
    data: dict = {}
    for name in request.args:
        values = request.args.getlist(name)
        declared = instance.fields.get(name)
        if isinstance(declared, ma_fields.List):
            data[name] = values
        elif len(values) > 1:
            raise ApiError(422, fields={name: [_("Give this only once.")]})
        else:
            data[name] = values[0]
    return _load(instance, data)


def case_by_reference(reference: str) -> Case:
    """The case if the client's account may see it, else 404 (as on the web: nothing tells
    that a case it may not see exists)."""
    case = db.session.scalar(select(Case).filter_by(reference=reference.strip().upper()[:16]))
    if case is None or not can_work_on(actor(), case):
        raise ApiError(404)
    return case


def inquiry_by_reference(reference: str) -> Inquiry:
    """As the intake pages: an inquiry waiting in the queue is open to all case staff; once on
    a case it follows that case's access rules."""
    inquiry = inquiries.inquiry_by_reference(reference[:40])
    if inquiry is None or (inquiry.case is not None and not can_work_on(actor(), inquiry.case)):
        raise ApiError(404)
    return inquiry


def created(body: Mapping, location: str, status: int = 201) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = location
    return response


# --- what is sent back --------------------------------------------------------------------


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def case_summary(case: Case) -> dict:
    return {
        "reference": case.reference,
        "status": case.status,
        "closure_reason": case.closure_reason,
        "name": case.arabic_name,
        "sex": case.sex,
        "age": case.age,
        "birth_year": case.birth_year,
        "governorate_pcode": case.governorate_pcode,
        "district_pcode": case.district_pcode,
        "owner": _name(case.owner),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "last_activity_at": case.last_activity_at,
    }


def case_detail(case: Case, user: User) -> dict:
    visible = can_see_contacts(user, case)
    data = case_summary(case)
    data.update({name: getattr(case, name) for name in casework.SCALAR_FIELDS})
    data.update(
        latin_names=case.latin_names,
        aliases=case.aliases,
        phones=[p.e164 for p in case.phones],
        documents=[{"doc_type": d.doc_type, "number": d.number} for d in case.documents],
        anonymised=case.anonymised_at is not None,
        duplicate_of=case.duplicate_of.reference if case.duplicate_of else None,
        contacts_visible=visible,
        contacts=[
            {
                "name": c.name,
                "relationship": c.relationship_to_person,
                "phone": c.phone_e164,
                "preferred_language": c.preferred_language,
            }
            for c in case.contacts
        ]
        if visible
        else [],
    )
    return schemas.CaseOut().dump(data)


def note_out(note: CaseNote) -> dict:
    return schemas.NoteOut().dump(
        {
            "id": note.id,
            "created_at": note.created_at,
            "author": _name(note.author),
            "kind": note.kind,
            "visibility": note.visibility,
            "body": note.body,
            "corrects_id": note.corrects_id,
        }
    )


def status_change_out(change: StatusChange) -> dict:
    return schemas.StatusChangeOut().dump(
        {
            "id": change.id,
            "created_at": change.created_at,
            "actor": _name(change.actor),
            "from_status": change.from_status,
            "to_status": change.to_status,
            "closure_reason": change.closure_reason,
            "reason": change.reason,
            "approval_id": change.approval_id,
        }
    )


def approval_out(approval: ApprovalRequest | None) -> dict | None:
    if approval is None:
        return None
    return schemas.ApprovalOut().dump(
        {
            "id": approval.id,
            "to_status": approval.to_status,
            "closure_reason": approval.closure_reason,
            "reason": approval.reason,
            "state": approval.state,
            "requested_at": approval.requested_at,
            "requested_by": _name(approval.requested_by),
        }
    )


def match_out(match: Match) -> dict:
    case = match.case
    return {
        "reference": case.reference,
        "score": match.result.score,
        "band": match.result.band or "possible",
        "visible": match.visible,
        "name": case.arabic_name if match.visible else None,
        "held_by": None if match.visible else _name(case.owner),
        "reasons": [{"verdict": r.verdict, "detail": str(r.detail)} for r in match.result.reasons]
        if match.visible
        else [],
    }


INQUIRY_FIELDS = (
    "given_name",
    "father_name",
    "grandfather_name",
    "great_grandfather_name",
    "laqab",
    "mother_name",
    "age",
    "birth_year",
    "governorate_pcode",
    "district_pcode",
    "last_contact_date",
    "last_contact_channel",
    "destination_country",
    "travel_company",
    "route",
    "details",
    "consent_search",
    "consent_share",
)
INQUIRER_FIELDS = (
    "inquirer_name",
    "inquirer_relationship",
    "inquirer_phone",
    "inquirer_language",
    "inquirer_channel",
)


def inquiry_out(inquiry: Inquiry, user: User) -> dict:
    # The family's own details as on the intake page: visible while the inquiry waits, then
    # only to those who may see the case's family contacts.
    visible = inquiry.case is None or can_see_contacts(user, inquiry.case)
    data = {name: getattr(inquiry, name) for name in INQUIRY_FIELDS}
    data.update({name: getattr(inquiry, name) if visible else None for name in INQUIRER_FIELDS})
    data.update(
        reference=inquiries.format_reference(inquiry.reference),
        state=inquiry.state,
        created_at=inquiry.created_at,
        channel=inquiry.channel,
        family_status=inquiries.family_status(inquiry),
        case_reference=inquiry.case.reference if inquiry.case else None,
        name=inquiry.arabic_name,
        contact_visible=visible,
    )
    return schemas.InquiryOut().dump(data)


# --- the document -------------------------------------------------------------------------


@bp.route("/openapi.json")
@operation(OPEN, "This document (OpenAPI 3)", "meta", responses={200: "document"})
def openapi_document() -> Response:
    from .openapi import document

    return jsonify(document(current_app))


# --- cases --------------------------------------------------------------------------------


@bp.route("/cases")
@operation(
    Scope.READ,
    "List the cases this account may see, filtered and sorted as the case list",
    "cases",
    args=schemas.CaseListArgs,
    responses={200: schemas.CasePageOut},
)
def case_list() -> Response:
    args = query_args(schemas.CaseListArgs)
    filters = CaseFilter(
        status=args["status"] or None,
        governorate=args["governorate"],
        district=args["district"],
        age_min=args["age_min"],
        age_max=args["age_max"],
        contact_from=args["contact_from"],
        contact_to=args["contact_to"],
        created_from=args["created_from"],
        created_to=args["created_to"],
        inactive_days=args["inactive_days"],
        q=(args["q"] or "").strip() or None,
        sort=args["sort"],
    )
    stmt = filtered_cases(actor(), filters)
    if args["updated_since"] is not None:
        since = args["updated_since"]
        stmt = stmt.where(or_(Case.updated_at >= since, Case.last_activity_at >= since))
    limit, page = args["limit"], args["page"]
    cases = db.session.scalars(stmt.limit(limit).offset((page - 1) * limit)).all()
    total = bounded_count(stmt)
    used = count_filters(filters) + (args["updated_since"] is not None)
    if used:
        audit.record("case_search", item_count=used, actor=actor(), commit=True)
    body = {
        "items": [case_summary(c) for c in cases],
        "page": page,
        "limit": limit,
        "total": min(total, COUNT_CAP),
        "total_is_capped": total > COUNT_CAP,
        "next_page": page + 1 if page * limit < total and page < schemas.MAX_PAGE else None,
    }
    return jsonify(schemas.CasePageOut().dump(body))


@bp.route("/cases", methods=["POST"])
@operation(
    Scope.WRITE,
    "Open a case (owned by this account), as the new case form",
    "cases",
    body=schemas.NewCaseInput,
    responses={201: schemas.CaseOut, 409: None},
    description="Cases that may already be the same person are answered 409 with the matches; "
    "send `confirm_new_person: true` to open the case anyway.",
)
def create_case() -> Response:
    data = json_body(schemas.NewCaseInput)
    confirmed = data.pop("confirm_new_person")
    details = validated(CaseForm, data).to_details()
    user = actor()
    matches = find_matches(user, PersonRecord.from_details(details))
    if matches and not confirmed:
        raise ApiError(
            409,
            _l(
                "Existing cases may be the same person. Check them, or send "
                "confirm_new_person: true to open a new case anyway."
            ),
            code="possible_duplicate",
            extra={"matches": [match_out(m) for m in matches]},
        )
    try:
        case = casework.create_case(user, details)
    except casework.CaseRuleError as error:
        raise ApiError(409, str(error)) from error
    for match in matches:
        # As the web form: "a different person" is remembered for the cases this account
        # works on, so the new case does not suggest them again.
        if match.visible:
            try:
                decisions.mark_not_same(user, case, other_case=match.case)
            except decisions.MatchDecisionError:
                continue
    return created(case_detail(case, user), url_for(".case_show", reference=case.reference))


@bp.route("/cases/<reference>")
@operation(
    Scope.READ,
    "A case's details; family contacts only for its owner and supervisors",
    "cases",
    responses={200: schemas.CaseOut},
)
def case_show(reference: str) -> Response:
    case = case_by_reference(reference)
    audit.record("case_view", "case", case.id, actor(), commit=True)
    return jsonify(case_detail(case, actor()))


@bp.route("/cases/<reference>", methods=["PATCH"])
@operation(
    Scope.WRITE,
    "Change a case's details; fields not sent keep their value",
    "cases",
    body=schemas.CaseUpdateInput,
    responses={200: schemas.CaseOut, 409: None},
)
def case_update(reference: str) -> Response:
    case = case_by_reference(reference)
    changes = json_body(schemas.CaseUpdateInput, partial=True)
    user = actor()
    if case.anonymised_at is not None:
        raise ApiError(
            409, _l("This case was anonymised under the retention rules and cannot be changed.")
        )
    if "contacts" in changes and not can_see_contacts(user, case):
        raise ApiError(
            403,
            _l("Only the case owner and supervisors can see or change the family's contacts."),
        )
    current = _as_input(casework.details_of(case))
    current.update(changes)
    details = validated(CaseForm, current).to_details()
    try:
        casework.update_case(user, case, details)
    except casework.CaseRuleError as error:
        raise ApiError(409, str(error)) from error
    return jsonify(case_detail(case, user))


def _as_input(details: casework.CaseDetails) -> dict:
    """A case's saved details in the request's shape, for a partial update to build on."""
    data = {name: getattr(details, name) for name in casework.SCALAR_FIELDS}
    data.update(
        latin_names=list(details.latin_names),
        aliases=list(details.aliases),
        phones=list(details.phones),
        documents=[{"doc_type": d.doc_type, "number": d.number} for d in details.documents],
        contacts=[
            {
                "name": c.name,
                "relationship": c.relationship,
                "phone": c.phone_e164,
                "preferred_language": c.preferred_language or "ar",
            }
            for c in details.contacts
        ],
    )
    return data


# --- notes --------------------------------------------------------------------------------


@bp.route("/cases/<reference>/notes")
@operation(
    Scope.READ,
    "A case's notes, oldest first",
    "notes",
    responses={200: schemas.NoteListOut},
)
def note_list(reference: str) -> Response:
    case = case_by_reference(reference)
    notes = db.session.scalars(
        select(CaseNote).filter_by(case_id=case.id).order_by(CaseNote.created_at, CaseNote.id)
    ).all()
    audit.record("case_view", "case", case.id, actor(), commit=True)
    return jsonify({"items": [note_out(n) for n in notes]})


@bp.route("/cases/<reference>/notes", methods=["POST"])
@operation(
    Scope.WRITE,
    "Add a note; a correction names the note it corrects (nothing is edited)",
    "notes",
    body=schemas.NoteInput,
    responses={201: schemas.NoteOut, 409: None},
)
def note_add(reference: str) -> Response:
    case = case_by_reference(reference)
    data = json_body(schemas.NoteInput)
    form = validated(NoteForm, data)
    corrects_id = data["corrects_id"]
    if corrects_id is not None:
        target = db.session.get(CaseNote, corrects_id)
        if target is None or target.case_id != case.id:
            raise ApiError(
                422, fields={"corrects_id": [_("The note to correct is not on this case.")]}
            )
    try:
        note = casework.add_note(
            actor(),
            case,
            form.body.data,
            kind=form.kind.data,
            visibility=form.visibility.data,
            corrects_id=corrects_id,
        )
    except casework.CaseRuleError as error:
        raise ApiError(409, str(error)) from error
    return created(note_out(note), url_for(".note_list", reference=case.reference))


# --- status -------------------------------------------------------------------------------


@bp.route("/cases/<reference>/status-changes")
@operation(
    Scope.READ,
    "A case's status, its history (oldest first) and the request waiting for a supervisor",
    "status",
    responses={200: schemas.StatusHistoryOut},
)
def status_list(reference: str) -> Response:
    case = case_by_reference(reference)
    changes = db.session.scalars(
        select(StatusChange)
        .filter_by(case_id=case.id)
        .order_by(StatusChange.created_at, StatusChange.id)
    ).all()
    audit.record("case_view", "case", case.id, actor(), commit=True)
    return jsonify(
        {
            "status": case.status,
            "items": [status_change_out(c) for c in changes],
            "pending": approval_out(casework.pending_approval(case)),
        }
    )


@bp.route("/cases/<reference>/status-changes", methods=["POST"])
@operation(
    Scope.WRITE,
    "Change a case's status (201), or ask a supervisor where the change needs one (202)",
    "status",
    body=schemas.StatusInput,
    responses={201: schemas.StatusChangeOut, 202: schemas.ApprovalOut, 409: None},
    description='Closing a case and "located deceased" wait for a supervisor other than the '
    "requester: the answer is then 202 with the pending request.",
)
def status_change(reference: str) -> Response:
    case = case_by_reference(reference)
    data = json_body(schemas.StatusInput)
    try:
        result = casework.change_status(
            actor(), case, data["to_status"], data["reason"], data["closure_reason"]
        )
    except casework.CaseRuleError as error:
        raise ApiError(409, str(error)) from error
    location = url_for(".status_list", reference=case.reference)
    if isinstance(result, ApprovalRequest):
        return created(approval_out(result), location, status=202)
    return created(status_change_out(result), location)


# --- inquiries ----------------------------------------------------------------------------


@bp.route("/inquiries")
@operation(
    Scope.READ,
    "The intake queue: inquiries waiting for triage, oldest first",
    "inquiries",
    args=schemas.PageArgs,
    responses={200: schemas.InquiryPageOut},
)
def inquiry_list() -> Response:
    args = query_args(schemas.PageArgs)
    limit, page = args["limit"], args["page"]
    waiting = select(Inquiry).filter_by(state=InquiryState.NEW)
    found = db.session.scalars(
        waiting.order_by(Inquiry.created_at, Inquiry.id).limit(limit).offset((page - 1) * limit)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    user = actor()
    body = {
        "items": [inquiry_out(i, user) for i in found],
        "page": page,
        "limit": limit,
        "total": total,
        "next_page": page + 1 if page * limit < total and page < schemas.MAX_PAGE else None,
    }
    return jsonify(body)  # the items are dumped already


@bp.route("/inquiries/<reference>")
@operation(
    Scope.READ,
    "An inquiry by its reference (1234-5678)",
    "inquiries",
    responses={200: schemas.InquiryOut},
)
def inquiry_show(reference: str) -> Response:
    return jsonify(inquiry_out(inquiry_by_reference(reference), actor()))


@bp.route("/inquiries", methods=["POST"])
@operation(
    Scope.WRITE,
    "Record a family's inquiry as the public form does; the secret code is returned once",
    "inquiries",
    body=schemas.InquiryInput,
    responses={201: schemas.InquiryReceiptOut},
)
def inquiry_submit() -> Response:
    data = json_body(schemas.InquiryInput)
    form = validated(InquiryForm, data)
    try:
        inquiry, secret = inquiries.submit_inquiry(
            form.to_details(), locale=data["inquirer_language"], channel="api"
        )
    except inquiries.InquiryError as error:
        raise ApiError(422, fields={"consent_search": [str(error)]}) from error
    reference = inquiries.format_reference(inquiry.reference)
    return created(
        {"reference": reference, "secret": inquiries.format_secret(secret)},
        url_for(".inquiry_show", reference=reference),
    )


# --- PFIF ---------------------------------------------------------------------------------


@bp.route("/pfif")
@operation(
    Scope.PFIF,
    "Export cases as PFIF 1.4 (contacts only when asked and allowed)",
    "pfif",
    args=schemas.PfifExportArgs,
    responses={200: "pfif"},
)
def pfif_export() -> Response:
    args = query_args(schemas.PfifExportArgs)
    user = actor()
    if args["include_contacts"] and not user.is_supervisor:
        raise ApiError(
            403, _l("Only a supervisor's account can export the families' contact details.")
        )
    try:
        data = exchange.export_pfif(user, args["since"], include_contacts=args["include_contacts"])
    except exchange.PfifError as error:
        raise ApiError(403, str(error)) from error
    return Response(data, mimetype="application/pfif+xml")


@bp.route("/pfif", methods=["POST"])
@operation(
    Scope.PFIF,
    "Import PFIF 1.4 records as inquiries (default) or cases",
    "pfif",
    args=schemas.PfifImportArgs,
    body_types=PFIF_TYPES,
    responses={200: schemas.PfifSummaryOut},
)
def pfif_import() -> Response:
    args = query_args(schemas.PfifImportArgs)
    if request.mimetype not in PFIF_TYPES:
        raise ApiError(
            415, _l("Send the records as PFIF XML (Content-Type: application/pfif+xml).")
        )
    try:
        summary = exchange.import_pfif(actor(), request.get_data(), into=args["into"])
    except exchange.PfifError as error:
        raise ApiError(422, str(error), code="invalid_pfif") from error
    return jsonify(schemas.PfifSummaryOut().dump(summary.as_dict()))
