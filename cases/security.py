"""Response headers that keep pages from being framed, sniffed, cached or leaking referrers."""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, Response, request

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
