"""Request bodies and parameters as hostile input: one guarded JSON loader and one check of
query strings and forms, used by every JSON route (the API's argument parser and Flask's
``request.get_json``) so that no body can reach the services malformed.

What it refuses, before any service sees the input:
- JSON bodies over ``MAX_JSON_BYTES`` (413), also when sent chunked without a length;
- JSON nested deeper than ``JSON_MAX_DEPTH`` (Python's parser would otherwise raise
  RecursionError, or later code recurse as deep), or objects of more than
  ``JSON_MAX_OBJECT_KEYS`` members (no object of this API has that many; validating
  hundreds of thousands of keys costs seconds);
- integers longer than Python's digit limit (a ValueError that is not a JSONDecodeError);
- lone UTF-16 surrogates (``"\\ud800"``), which no database can store as UTF-8;
- NUL characters in any string, key, query parameter or form field (PostgreSQL text cannot
  hold them, and they truncate strings in C libraries).
"""

import json
import re
from datetime import UTC, date, datetime

from flask import Request, current_app, request
from flask import json as flask_json
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint as _SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from emergency.errors import DomainError

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Escapes that decode to a lone surrogate or to NUL; the raw text is checked first so that
# ordinary bodies (most of them) skip the walk over every string.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadBody(DomainError):
    """A request body or parameter that cannot be accepted as it is."""

    status = 400
    code = "bad_request"

    def __init__(self, message, details=None, status=None, code=None):
        super().__init__(message, details, code)
        if status:
            self.status = status


def loads(data, max_depth=None, max_keys=None):
    """Parse a JSON document, raising BadBody for anything malformed or hostile."""
    if max_depth is None:
        max_depth = current_app.config["JSON_MAX_DEPTH"]
    if max_keys is None:
        max_keys = current_app.config["JSON_MAX_OBJECT_KEYS"]
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadBody(str(_l("the body is not UTF-8 text")),
                          {"_body": [str(_l("not UTF-8"))]}) from None
        raw = data
    else:
        text, raw = data, data.encode("utf-8", "surrogatepass")
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadBody(str(_l("the JSON body is nested too deeply")),
                      {"_body": [str(_l("at most %(n)s levels", n=max_depth))]}) from None
    except json.JSONDecodeError as exc:
        raise BadBody(str(_l("the body is not valid JSON")),
                      {"_body": [str(_l("line %(line)s, column %(col)s: %(msg)s",
                                        line=exc.lineno, col=exc.colno, msg=exc.msg))]}) from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits.
        raise BadBody(str(_l("a number in the body is too long")),
                      {"_body": [str(_l("numbers have at most 4300 digits"))]}) from None
    _check(value, max_depth, max_keys, _SUSPECT_ESCAPE.search(raw) is not None)
    return value


def _check(value, max_depth, max_keys, strings):
    """Walk containers (and, when the text had suspect escapes, strings) without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                _too_deep(max_depth)
            if len(item) > max_keys:
                raise BadBody(str(_l("an object in the body has too many members")),
                              {_path_of(value, item): [str(_l("at most %(n)s members",
                                                              n=max_keys))]},
                              status=422, code="invalid")
            for key, child in item.items():
                if strings:
                    _check_string(key, value)
                if isinstance(child, dict | list):
                    stack.append((child, depth + 1))
                elif strings and isinstance(child, str):
                    _check_string(child, value)
        elif isinstance(item, list):
            if depth > max_depth:
                _too_deep(max_depth)
            for child in item:
                if isinstance(child, dict | list):
                    stack.append((child, depth + 1))
                elif strings and isinstance(child, str):
                    _check_string(child, value)
        elif strings and isinstance(item, str):
            _check_string(item, value)


def _too_deep(max_depth):
    """Refuse a body nested deeper than allowed."""
    raise BadBody(str(_l("the JSON body is nested too deeply")),
                  {"_body": [str(_l("at most %(n)s levels", n=max_depth))]})


def _check_string(text, document):
    """Refuse NUL characters and lone surrogates, naming the field they are in."""
    if "\x00" in text:
        raise BadBody(str(_l("text may not contain NUL characters")),
                      {_path_of(document, text): [str(_l("contains a NUL character"))]},
                      status=422, code="invalid")
    if _SURROGATE.search(text):
        raise BadBody(str(_l("text contains an invalid character (a lone surrogate)")),
                      {_path_of(document, text): [str(_l("invalid Unicode"))]})


def _path_of(document, target):
    """The dotted path of the first place ``target`` occurs in ``document`` (for messages)."""
    stack = [(document, "")]
    while stack:
        item, path = stack.pop()
        if item is target:
            return path or "_body"
        if isinstance(item, dict):
            for key, child in item.items():
                if key is target:
                    return f"{path}.{key}" if path else key
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return "_body"


def check_parameters():
    """Refuse NUL characters in the query string and in form fields (before_request)."""
    for name, values in request.args.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            raise BadBody(str(_l("text may not contain NUL characters")),
                          {_printable(name): [str(_l("contains a NUL character"))]},
                          status=422, code="invalid")
    if request.method in BODY_METHODS and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.form.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                raise BadBody(str(_l("text may not contain NUL characters")),
                              {_printable(name): [str(_l("contains a NUL character"))]},
                              status=422, code="invalid")
    if request.method in BODY_METHODS and request.is_json:
        # Flask 3.1: a per-request limit that also holds for chunked bodies without a length.
        request.max_content_length = min(current_app.config["MAX_JSON_BYTES"],
                                         current_app.config["MAX_CONTENT_LENGTH"])


def _printable(name):
    """A parameter name safe to echo in an error."""
    return name.replace("\x00", "\\0")[:64] or "_query"


class GuardedParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through the guarded loader."""

    def _raw_load_json(self, req):
        """The request's JSON body, parsed once and checked (``missing`` if not JSON)."""
        if not is_json_request(req):
            return core.missing
        return loads(req.get_data(cache=True))


class Blueprint(_SmorestBlueprint):
    """flask-smorest's Blueprint whose arguments come through the guarded parser."""

    ARGUMENTS_PARSER = GuardedParser()


class _GuardedJSON:
    """The ``json_module`` of requests: ``request.get_json`` parses through the guard."""

    @staticmethod
    def loads(data, **_kwargs):
        """Parse with the same checks as the API's argument parser."""
        return loads(data)

    @staticmethod
    def dumps(obj, **kwargs):
        """Serialise as Flask does."""
        return flask_json.dumps(obj, **kwargs)


class GuardedRequest(Request):
    """Flask's request whose JSON body is read through the guarded loader, and whose body
    limit holds for bodies without a length."""

    json_module = _GuardedJSON

    def get_data(self, *args, **kwargs):
        """The body; 413 when a body without Content-Length goes past the limit."""
        data = super().get_data(*args, **kwargs)
        limit = self.max_content_length
        if (limit is not None and self.content_length is None and isinstance(data, bytes)
                and len(data) >= limit):
            # Werkzeug stops a chunked stream at the limit without saying so; one more
            # read past it raises RequestEntityTooLarge.
            self.stream.read(1)
        return data


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON output with dates and times in ISO 8601 (Flask writes RFC 1123)."""

    @staticmethod
    def default(o):
        """Dates as YYYY-MM-DD, times with their offset (naive ones are UTC)."""
        if isinstance(o, datetime):
            return (o if o.tzinfo else o.replace(tzinfo=UTC)).isoformat()
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def init_app(app):
    """Guard every request's parameters and every JSON body of the app; ISO times out."""
    app.request_class = GuardedRequest
    app.json = JSONProvider(app)
    app.before_request(check_parameters)
