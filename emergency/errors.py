"""Domain errors raised by services and the one place that turns them into HTTP errors
(and, for commands, into command-line errors)."""

from contextlib import contextmanager

import click
from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError, DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message, details=None, code=None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class Invalid(DomainError):
    """Well-formed input that breaks a rule; ``details`` names each bad field."""

    status = 422
    code = "invalid"


class NotFound(DomainError):
    """The object does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class Forbidden(DomainError):
    """Authenticated, but not allowed or outside the caller's scope."""

    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    """No or bad credentials."""

    status = 401
    code = "unauthorized"


class TooMany(DomainError):
    """Too many attempts in a short time."""

    status = 429
    code = "too_many_requests"


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
    503: "unavailable",
}


def error_body(status, code, message, details=None):
    """The contract's JSON error shape."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status, code, message, details=None):
    """A JSON error response."""
    response = jsonify(error_body(status, code, message, details))
    response.status_code = status
    return response


@contextmanager
def cli_errors():
    """Turn a domain error raised in the block into a clean command-line error (its message
    and each detail on a line of its own)."""
    try:
        yield
    except DomainError as exc:
        details = "".join(f"\n  {k}: {v}" for k, v in exc.details.items())
        raise click.ClickException(f"{exc.message}{details}") from None


# Titles of the HTML error pages browsers get, in the user's language.
ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You are not allowed to see this page"),
    404: _l("Page not found"),
    405: _l("This action is not possible here"),
    409: _l("This conflicts with the record's current state"),
    413: _l("The upload is too large"),
    422: _l("Some input is not valid"),
    429: _l("Too many requests; please wait a moment"),
    500: _l("Something went wrong on the server; the error has been logged"),
    503: _l("The service is busy; please try again shortly"),
}


def _wants_html():
    """True for page requests, which get an HTML error page instead of JSON."""
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best in ("text/html", None)


def _webargs_details(exc):
    """Flatten webargs/marshmallow messages to {field: [messages]}."""
    messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
    if not messages:
        return {}
    details = {}
    for _location, fields in messages.items():
        if isinstance(fields, dict):
            details.update(fields)
        else:
            details["_body"] = fields
    return details


def handle_http_exception(exc):
    """Render any werkzeug HTTP error (including webargs 400/422) in the contract's shape."""
    status = exc.code or 500
    if status == 422:
        details = _webargs_details(exc)
        names = ", ".join(sorted(details)) or "body"
        return error_response(422, "invalid", f"invalid input: {names}", details)
    code = HTTP_CODES.get(status, "error")
    message = exc.description if status != 400 or not hasattr(exc, "data") else "malformed input"
    if status == 400 and getattr(exc, "data", None):
        details = _webargs_details(exc)
        return error_response(400, "bad_request", "malformed request body", details)
    if _wants_html():
        return error_page(status, message)
    return error_response(status, code, message)


def handle_domain_error(exc):
    """Render a service's domain error."""
    if isinstance(exc, Unauthorized) and _wants_html():
        return redirect(url_for("web.login", next=request.full_path))
    if _wants_html():
        return error_page(exc.status, exc.message)
    return error_response(exc.status, exc.code, exc.message, exc.details)


def error_page(status, message):
    """The HTML error page a browser gets: a title in the user's language, then the detail."""
    title = ERROR_TITLES.get(status) or ERROR_TITLES[500 if status >= 500 else 400]
    if status >= 500:
        message = ""  # nothing of the server's insides on a page
    return render_template("error.html", status=status, title=title, message=message), status


def handle_database_unavailable(exc):
    """A database that is gone for a moment gives 503; the client retries."""
    current_app.logger.warning("database unavailable: %s", str(exc).splitlines()[0])
    return error_response(503, "unavailable", "database busy or unavailable; retry shortly")


def handle_out_of_range(exc):
    """A number too large for the database column (SQLite OverflowError, PostgreSQL
    numeric_value_out_of_range) is bad input, not a server error."""
    current_app.logger.info("value out of range: %s", type(exc).__name__)
    return error_response(422, "invalid", "a number in the request is out of range",
                          {"_request": ["a number is too large or too small"]})


def init_app(app):
    """Register the one mapping from exceptions to JSON errors."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(DisconnectionError, handle_database_unavailable)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(DataError, handle_out_of_range)
