"""Sign-in machinery: Flask-Login for sessions and bearer tokens, CSRF for cookie writes."""

from flask import request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from emergency.auth import service
from emergency.auth.models import User
from emergency.db import get_session
from emergency.errors import Unauthorized

login_manager = LoginManager()
csrf = CSRFProtect()

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def _load_session_user(user_id):
    """The user of a signed session cookie."""
    try:
        user = get_session().get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None


@login_manager.request_loader
def _load_token_user(req):
    """The user of an ``Authorization: Bearer`` token."""
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return service.user_for_token(get_session(), header[7:].strip())


@login_manager.unauthorized_handler
def _unauthorized():
    """Signed-out requests to protected routes get the contract's 401."""
    raise Unauthorized("sign in or send a valid bearer token")


def _api_csrf():
    """Cookie-authenticated writes to the API need the CSRF header; token clients do not."""
    if request.method not in UNSAFE or not request.path.startswith("/api/"):
        return
    if request.headers.get("Authorization"):
        return
    from flask import session

    if session.get("_user_id"):
        csrf.protect()


def init_app(app):
    """Bind Flask-Login and CSRF protection to the app."""
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
