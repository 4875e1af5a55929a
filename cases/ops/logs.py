"""A request id on every request and every log line, and one access line per request.

The id comes from the proxy's ``X-Request-ID`` when it looks like one (nginx's $request_id),
else a new one; it goes back to the client in the same header, so a caseworker's "it failed"
can be found in the logs without anyone reading what they typed.

Log lines never hold personal data. The access line names the route's pattern
(``/cases/<int:case_id>``), never the path or query string: a path can hold an invitation token
or a family's reference, a query string a searched name. No client address either: the audit
trail keeps that where access to it is itself recorded.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

ACCESS_LOGGER = "athar.access"
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class RedactRequestFilter(logging.Filter):
    """gunicorn quotes the request's URI when a request fails below the app ("Error handling
    request /invite/<token>?..."): keep the message, drop the URI."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Error handling request"):
            record.msg = "Error handling request"
            record.args = ()
        return True


def init_app(app: Flask) -> None:
    access = logging.getLogger(ACCESS_LOGGER)

    def assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    # First of all: the login guard may answer (a redirect) before later hooks run.
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)

    @app.after_request
    def log_request(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        if access.isEnabledFor(logging.INFO):
            started = g.get("request_started")
            access.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": request.method,
                    "route": request.url_rule.rule if request.url_rule else None,
                    "endpoint": request.endpoint,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                    if started
                    else None,
                },
            )
        return response
