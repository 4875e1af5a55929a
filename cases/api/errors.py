"""JSON errors of the API: one shape for every status, in the reader's language.

``{"error": {"code": "not_found", "message": "...", "fields": {...}}}``: ``code`` is stable for
programs, ``message`` is for people, ``fields`` (validation errors only) maps each field to its
messages. A 500 says nothing about its cause. Kept free of other imports of the package so
cases.errors can use it for the errors raised before a view is found (unknown address, wrong
method, too large).
"""

from __future__ import annotations

from flask import Request, Response, has_request_context, jsonify, request
from flask_babel import lazy_gettext as _l

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("A valid API token is required."),
    403: _l("This token is not allowed to do that."),
    404: _l("There is nothing here, or this token may not see it."),
    405: _l("This address does not accept that method."),
    409: _l("The request conflicts with the current state of the record."),
    413: _l("What you sent is too large."),
    415: _l("Send the body as JSON (Content-Type: application/json)."),
    422: _l("Some fields need attention. Nothing was saved."),
    429: _l("Too many requests. Wait and try again."),
    500: _l("Something went wrong on our side. The error has been recorded."),
    503: _l("The service is briefly unavailable. Nothing was saved; try again in a minute."),
}


class ApiError(Exception):
    """Raised by API views to answer with an error; the handler turns it into JSON."""

    def __init__(
        self,
        status: int,
        message: object | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.message = message
        self.code = code
        self.fields = fields
        self.extra = extra or {}
        self.headers = headers or {}


def is_api_request(req: Request | None = None) -> bool:
    if req is None:
        if not has_request_context():
            return False
        req = request
    return req.path.startswith(API_PREFIX)


def error_response(
    status: int,
    message: object | None = None,
    *,
    code: str | None = None,
    fields: dict[str, list[str]] | None = None,
    extra: dict | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The JSON error response; statuses outside the documented set answer as 400 or 500."""
    if status not in CODES:
        status = 500 if status >= 500 else 400
    body: dict = {
        "code": code or CODES[status],
        "message": str(message or MESSAGES[status]),
    }
    if fields:
        body["fields"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
    body.update(extra or {})
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_api_error(error: ApiError) -> Response:
    return error_response(
        error.status,
        error.message,
        code=error.code,
        fields=error.fields,
        extra=error.extra,
        headers=error.headers,
    )
