"""Sign-in machinery: Flask-Login for sessions and bearer tokens, CSRF for cookie writes."""

from flask import current_app, g, request, session
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from emergency.auth import service, sessions, throttle
from emergency.config import ConfigError
from emergency.db import get_session, read_session
from emergency.errors import Unauthorized

login_manager = LoginManager()
csrf = CSRFProtect()

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SID_KEY = "_sid"  # the server-side session id inside the signed cookie


@login_manager.user_loader
def _load_session_user(user_id):
    """The user of a signed session cookie whose server-side session is still live."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    sid, hours = session.get(SID_KEY), current_app.config["SESSION_MAX_HOURS"]
    return _signed_in(lambda db: sessions.user_for(db, user_id, sid, hours))


def _bearer_user(req):
    """The user of a valid ``Authorization: Bearer`` token, else None."""
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = header[7:].strip()
    return _signed_in(lambda db: service.user_for_token(db, token))


def _signed_in(find):
    """The user ``find(session)`` reads, as an object of the request's session.

    A write request's session on SpatiaLite takes the database's one write lock at its first
    statement (BEGIN IMMEDIATE): signing in there would queue every write request twice for
    the lock, once only to read who is asking. So the read runs on the lock-free reader and
    the user joins the request's session without a query; the request takes the lock when it
    first uses its own session. Elsewhere (reads; PostGIS) it runs on the request's session.
    """
    db = get_session()
    if request.method not in UNSAFE:
        return find(db)
    reader = read_session()
    if reader is db:
        return find(db)
    try:
        user = find(reader)
        return None if user is None else db.merge(user, load=False)
    finally:
        reader.rollback()  # ends the read snapshot and returns its connection


@login_manager.request_loader
def _load_token_user(req):
    """The user of an ``Authorization: Bearer`` token."""
    return _bearer_user(req)


@login_manager.unauthorized_handler
def _unauthorized():
    """Signed-out requests to protected routes get the contract's 401."""
    raise Unauthorized("sign in or send a valid bearer token")


def _api_csrf():
    """Cookie-authenticated writes to the API need the CSRF header; token clients do not.

    Only a *valid* bearer token lifts the check, and then the token's user is the one who acts
    (not the cookie's): any other Authorization header, bogus or not Bearer at all, leaves the
    request to its cookie and so to CSRF protection.
    """
    if request.method not in UNSAFE or not request.path.startswith("/api/"):
        return
    if request.headers.get("Authorization"):
        user = _bearer_user(request)
        if user is not None:
            g._login_user = user  # Flask-Login's per-request user: the token authenticates
            return
    if session.get("_user_id"):
        csrf.protect()


def _check_config(config):
    """The throttling and session settings must make sense."""
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_ACCOUNT_MAX_FAILURES", "LOGIN_ADDRESS_MAX_FAILURES",
                 "LOGIN_BACKOFF_SECONDS", "LOGIN_BACKOFF_MAX_SECONDS", "LOGIN_WINDOW_SECONDS",
                 "LOGIN_HASH_CONCURRENCY", "SESSION_MAX_HOURS"):
        if config[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    if config["LOGIN_HASH_WAIT_SECONDS"] < 0 or config["LOGIN_KNOWN_ADDRESS_DAYS"] < 0:
        raise ConfigError("LOGIN_HASH_WAIT_SECONDS and LOGIN_KNOWN_ADDRESS_DAYS must be >= 0")


def init_app(app):
    """Bind Flask-Login and CSRF protection to the app."""
    _check_config(app.config)
    throttle.hash_gate(app)
    login_manager.init_app(app)
    # "strong" would drop to anonymous whenever a cookie session (e.g. one holding only the
    # CSRF token) has no identifier yet, before the bearer-token loader is ever tried; "basic"
    # marks such sessions non-fresh instead and lets tokens work for clients that keep cookies.
    login_manager.session_protection = "basic"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.before_request(_api_csrf)
    for name, blueprint in app.blueprints.items():
        if name != "web" and blueprint.url_prefix and blueprint.url_prefix.startswith("/api/"):
            csrf.exempt(blueprint)
