"""Error pages in the reader's language; never a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, Response, current_app, g, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .api.errors import error_response, is_api_request
from .extensions import db, login_manager

RETRY_AFTER_SECONDS = 10

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Not allowed"), _l("Your account is not allowed to open this page.")),
    404: (_l("Not found"), _l("There is no page here, or you are not allowed to see it.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many attempts"), _l("Please wait a few minutes and try again.")),
    503: (
        _l("Briefly unavailable"),
        _l(
            "Athar cannot reach its database just now. Nothing saved before is lost. If you "
            "were sending a form, it was not saved: go back, and send it again in a minute."
        ),
    ),
    500: (
        _l("Something went wrong"),
        _l("The error has been recorded. Nothing you saved before is lost. Please try again."),
    ),
}


def render_error(code: int, title: object | None = None, message: object | None = None):  # noqa: ANN201
    if is_api_request():
        # Errors raised before an API view runs (unknown address, wrong method, too large)
        # answer in the API's JSON shape, never as a page.
        return error_response(code)
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    return (
        render_template(
            "error.html",
            code=code,
            title=title or default_title,
            message=message or default_message,
        ),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # noqa: ANN202
        return render_error(
            400,
            _l("The form expired"),
            _l(
                "For your safety the form could not be accepted. Go back, reload the page and "
                "send it again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # noqa: ANN202
        if error.code is None or error.code < 400:
            return error
        if is_api_request():
            methods = getattr(error, "valid_methods", None) or ()
            allow = {"Allow": ", ".join(methods)} if methods else None
            return error_response(error.code, headers=allow)
        return render_error(error.code if error.code in MESSAGES else 400)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):  # noqa: ANN202
        if database_unavailable(error):
            return unavailable(error)
        log_unexpected(error)
        return render_error(500)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):  # noqa: ANN202
        return render_error(500)

    # Registered after Flask-SQLAlchemy's (db.init_app comes first), so it runs first.
    @app.teardown_appcontext
    def end_database_session(_error: BaseException | None) -> None:
        """End the request's transaction. When the database went away after the answer was
        made (a restart between the view's last query and the end of the request), the
        ROLLBACK fails: the answer still goes out instead of becoming the server's bare 500,
        the connection is dropped and the database rolls back whatever was not committed."""
        try:
            db.session.remove()
        except DBAPIError as error:
            if not database_unavailable(error):
                raise
            current_app.logger.warning("Database gone after the answer: %s", _database_facts(error))
            db.session().invalidate()  # the Session itself: scoped_session has no invalidate
            db.session.remove()


def database_unavailable(error: Exception) -> bool:
    """The database did not answer, dropped the connection, or is busy (restart, fail-over,
    a full pool, SQLite's write lock held too long), or Redis did not answer: worth trying
    again, not a bug."""
    if isinstance(error, OperationalError | PoolTimeout | RedisConnectionError | RedisTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def unavailable(error: Exception) -> Response:
    """The 503 page with Retry-After; the failed transaction is dropped, nothing half-saved."""
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone; the pool replaces it on the next checkout
        db.session().invalidate()
    current_app.logger.warning("Database unavailable: %s", _database_facts(error))
    # The page's layout asks who is logged in, which needs the database: render it as anonymous.
    g._login_user = login_manager.anonymous_user()
    response = make_response(render_error(503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def log_unexpected(error: Exception) -> None:
    """Log an unhandled error for the operators, without the personal data it may quote.

    A database error's message can hold the values of the statement: SQLAlchemy's parameters
    are hidden (hide_parameters), but PostgreSQL itself repeats values in its DETAIL ("Key
    (username)=(zainab) already exists") and in messages such as "invalid input syntax". For
    those only the error class, SQLSTATE, table, column and constraint go to the log, with the
    stack's frames.
    """
    frames = "".join(traceback.format_tb(error.__traceback__))
    if not isinstance(error, DBAPIError):
        # The class and the frames; not the message, which may quote what someone typed.
        current_app.logger.error("Unhandled error: %s\n%s", type(error).__qualname__, frames)
        return
    current_app.logger.error("Unhandled database error: %s\n%s", _database_facts(error), frames)


def _database_facts(error: Exception) -> str:
    """Error class, SQLSTATE, table, column and constraint: never the values."""
    original = getattr(error, "orig", None) or error
    diag = getattr(original, "diag", None)
    facts = {
        "error": type(original).__name__,
        "sqlstate": getattr(original, "sqlstate", None),
        "table": getattr(diag, "table_name", None),
        "column": getattr(diag, "column_name", None),
        "constraint": getattr(diag, "constraint_name", None),
    }
    if diag is None and isinstance(error, DBAPIError):
        # SQLite's messages name the constraint and never quote values.
        facts["message"] = str(original)
    return " ".join(f"{key}={value}" for key, value in facts.items() if value)
