"""Response headers that keep pages from being framed, sniffed, cached or leaking referrers."""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class InMemoryUploadRequest(Request):
    """Uploads stay in memory: Werkzeug would spool any request over 500 KB to a temporary
    file, so a family's photo would sit unencrypted on disk before it is cleaned and encrypted.
    MAX_CONTENT_LENGTH bounds the memory this takes."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


def posted_field(name: str) -> str:
    """A posted form field for a rate limit's key; "" when the body is refused as too large.

    The limiter computes its keys again after the 413 page is made; reading the form there
    would raise inside Flask-Limiter, which takes that for a broken storage and counts in each
    process's memory for a while: an oversized request must not switch the shared limits off.
    """
    try:
        return request.form.get(name) or ""
    except RequestEntityTooLarge:
        return ""


def init_app(app: Flask) -> None:
    app.request_class = InMemoryUploadRequest

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            # Case data must not linger in browser or proxy caches.
            response.headers["Cache-Control"] = "no-store"
        return response
