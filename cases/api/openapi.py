"""The OpenAPI 3 document, generated from the routes and the schemas the views use.

Each operation lists every status it can answer: its own (success, 409) from its declaration,
and those that follow from what it takes: a token (401, 403, 429), a reference in the path
(404), a query string (422), a body (400, 413, 415, 422). schemathesis checks the running app
against this document (tests/api/test_schema.py, .ci/api-fuzz).
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from . import schemas

TITLE = "Athar API"
VERSION = "1.0.0"
CACHE_KEY = "athar_openapi"

DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No token, or a token that is unknown, revoked or expired, or whose account is "
    "disabled or changed role.",
    403: "The token lacks the scope, or the account may not do this.",
    404: "No such record, or the account may not see it.",
    409: "The record's state does not allow this (or, for a new case: possible duplicates).",
    413: "The body is too large.",
    415: "The body is not of a type this operation takes.",
    422: "Some fields are not valid; `fields` says which and why.",
    429: "Too many requests from this client (or bad tokens from this address).",
    500: "Unexpected error; it has been recorded.",
}
SUCCESS = {200: "OK", 201: "Created", 202: "Accepted: waiting for a supervisor's approval"}
SCOPE_DESCRIPTION = {
    "read": "read cases, notes, status history and the intake queue",
    "write": "open and edit cases, add notes, change statuses, record inquiries",
    "pfif": "import and export PFIF 1.4",
}
INTRO = (
    """Partner tools use Athar through this API. Each client has a token, made by an
administrator, that acts as one caseworker or supervisor account: the client sees and does
exactly what that account may (a caseworker sees their own and shared cases; family contacts
only for the case owner and supervisors). Send it as `Authorization: Bearer athar_...`.

Tokens carry scopes: """
    + "; ".join(f"`{k}` to {v}" for k, v in SCOPE_DESCRIPTION.items())
    + """.

Every error has the same shape: `{"error": {"code": "...", "message": "...", "fields": {...}}}`,
with `message` in the language of `Accept-Language` (Arabic or English)."""
)


def _path(rule: str) -> tuple[str, list[str]]:
    """Flask's ``/cases/<reference>`` as OpenAPI's ``/cases/{reference}``, with the names."""
    names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule), names


def _error(code: int) -> dict:
    response: dict = {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": "ErrorOut"}},
    }
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
    if code == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait.",
                "schema": {"type": "integer"},
                "required": True,
            }
        }
    return response


def _success(code: int, kind: object) -> dict:
    response: dict = {"description": SUCCESS.get(code, "OK")}
    if kind == "pfif":
        response["content"] = {"application/pfif+xml": {"schema": {"type": "string"}}}
    elif kind == "document":
        response["content"] = {"application/json": {"schema": {"type": "object"}}}
    elif kind is not None:
        response["content"] = {"application/json": {"schema": kind}}
    return response


def _operation(op, endpoint: str, path_names: list[str]) -> dict:  # noqa: ANN001
    codes: set[int] = {429, 500}
    if op.scope != "open":
        codes |= {401, 403}
    if path_names:
        codes.add(404)
    if op.args is not None:
        codes.add(422)
    if op.body is not None or op.body_types != ("application/json",):
        codes |= {413, 415, 422}
        if op.body is not None:
            codes.add(400)
    responses = {str(code): _error(code) for code in sorted(codes)}
    for code, kind in op.responses.items():
        responses[str(code)] = _error(code) if code >= 400 else _success(code, kind)
    operation: dict = {
        "operationId": endpoint.split(".")[-1],
        "summary": op.summary,
        "tags": [op.tag],
        "responses": dict(sorted(responses.items())),
    }
    if op.description:
        operation["description"] = op.description
    if op.scope == "open":
        operation["security"] = []
    else:
        operation["description"] = (
            operation.get("description", "") + f"\n\nScope: `{op.scope}`."
        ).strip()
    parameters: list = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in path_names
    ]
    if op.args is not None:
        parameters.append({"in": "query", "schema": op.args})
    if parameters:
        operation["parameters"] = parameters
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    elif op.body_types != ("application/json",):
        operation["requestBody"] = {
            "required": True,
            "content": {kind: {"schema": {"type": "string"}} for kind in op.body_types},
        }
    return operation


def build(app: Flask) -> dict:
    """The document for the API routes registered on ``app``."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": INTRO},
        security=[{"bearerAuth": []}],
    )
    spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "An API client's token."},
    )
    spec.components.schema("ErrorOut", schema=schemas.ErrorOut)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        op = getattr(app.view_functions[rule.endpoint], "api_operation", None)
        if op is None:
            continue
        path, names = _path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(op, rule.endpoint, names)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document(app: Flask) -> dict:
    """The document, built once per application."""
    if CACHE_KEY not in app.extensions:
        app.extensions[CACHE_KEY] = build(app)
    return app.extensions[CACHE_KEY]
