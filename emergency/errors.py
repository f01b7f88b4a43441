"""Domain errors raised by services and the one place that turns them into HTTP errors
(and, for commands, into command-line errors)."""

from contextlib import contextmanager

import click
from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy.exc import DataError, DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from emergency.i18n import translate_message
from emergency.vocabulary import field_label


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


def error_body(status, code, message, details=None, labels=None):
    """The contract's JSON error shape, its texts in the request's language; each message in
    ``details`` opens with the label people see for its field (``labels`` overrides the
    shared table), while the keys stay the fields' names."""
    return {"error": {"code": code, "message": translate_message(str(message)),
                      "details": _labelled(details or {}, labels or {})}}


def error_response(status, code, message, details=None, labels=None):
    """A JSON error response."""
    response = jsonify(error_body(status, code, message, details, labels))
    response.status_code = status
    return response


def _label(key, labels):
    """The label of a field key; a dotted key (``layers.0.weight``) reads 图层 › 1 › 权重."""
    if key in labels:
        return labels[key]
    return " › ".join(str(int(part) + 1) if part.isdigit() else field_label(part)
                      for part in str(key).split("."))


def _labelled(details, labels, path=()):
    """``details`` translated, each message prefixed with its field's label (the nearest
    named field of its path, row numbers and list positions included)."""
    if isinstance(details, dict):
        return {key: _labelled(value, labels, (*path, key)) for key, value in details.items()}
    if isinstance(details, list | tuple):
        return [_labelled(value, labels, path) for value in details]
    if not isinstance(details, str):
        return details
    text = translate_message(details)
    names = [_label(key, labels) if isinstance(key, str) and not key.isdigit()
             else str(int(key) + 1) for key in path if key not in NOT_FIELDS]
    if not names or any(key in NOT_FIELDS for key in path[-1:]):
        return text
    return _("%(label)s: %(message)s", label=" › ".join(names), message=text)


def describe_error(exc, limit=5):
    """A domain error as one line for a page (a flash message or a form's alert): its
    message, then each field's messages under its label, in the request's language."""
    parts = [" ".join(_leaves(value))
             for value in list(_labelled(exc.details, {}).values())[:limit]]
    message = translate_message(str(exc.message))
    return message + (" — " + "; ".join(p for p in parts if p) if parts else "")


def _leaves(value):
    """The texts (and numbers) inside a details value, in order."""
    if isinstance(value, dict):
        return [leaf for child in value.values() for leaf in _leaves(child)]
    if isinstance(value, list | tuple):
        return [leaf for child in value for leaf in _leaves(child)]
    return [str(value)]


# Keys of details that hold no field (their messages carry no label).
NOT_FIELDS = {"_body", "_request", "_schema", "rows", "fields", "bad_rows", "database"}


def _named(keys, labels):
    """The fields ``keys`` by their labels, as a list in the request's language."""
    names = [_label(key, labels) for key in keys]
    return pgettext("list separator", ", ").join(names) or field_label("_body")


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


def _schema_labels(exc, details):
    """Labels the failing schema gives its fields (``metadata={"label": ...}``)."""
    schema = (getattr(exc, "data", None) or {}).get("schema")
    fields = getattr(schema, "fields", {}) or {}
    return {key: str(fields[key].metadata["label"]) for key in details
            if key in fields and fields[key].metadata.get("label")}


def handle_http_exception(exc):
    """Render any werkzeug HTTP error (including webargs 400/422) in the contract's shape."""
    status = exc.code or 500
    if status == 422:
        details = _webargs_details(exc)
        labels = _schema_labels(exc, details)
        message = _("Some input is not valid: %(fields)s",
                    fields=_named(sorted(details), labels))
        return error_response(422, "invalid", message, details, labels)
    code = HTTP_CODES.get(status, "error")
    message = exc.description if status != 400 or not hasattr(exc, "data") else "malformed input"
    if status == 400 and getattr(exc, "data", None):
        details = _webargs_details(exc)
        return error_response(400, "bad_request", "malformed request body", details,
                              _schema_labels(exc, details))
    if _wants_html():
        return error_page(status, translate_message(message))
    return error_response(status, code, message)


def handle_domain_error(exc):
    """Render a service's domain error."""
    if isinstance(exc, Unauthorized) and _wants_html():
        return redirect(url_for("web.login", next=request.full_path))
    if _wants_html():
        return error_page(exc.status, translate_message(exc.message))
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
