"""Who may do what: one decorator per route, and scope checks for services."""

import functools

from flask import request
from flask_login import current_user

from emergency.auth.roles import ADMIN
from emergency.db import get_session
from emergency.errors import Forbidden, Unauthorized
from emergency.geo.service import area_descendants


def actor():
    """The signed-in user of this request, or None."""
    user = current_user
    return user if user and user.is_authenticated else None


def allow(*roles):
    """Let only these roles call the view; 401 when signed out, 403 for other roles."""
    allowed = frozenset().union(*({r} if isinstance(r, str) else set(r) for r in roles))

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = actor()
            if user is None:
                raise Unauthorized("sign in or send a valid bearer token")
            if user.role not in allowed:
                raise Forbidden(f"role {user.role} may not {request.method} {request.path}")
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed
        return wrapper

    return decorate


def public(view):
    """Mark a view as open to everyone, so the architecture test knows it is on purpose."""
    view.allowed_roles = None
    return view


def require_area_scope(user, area_codes, session=None):
    """Bureau staff scoped to an area may act only on objects inside it.

    Inside means the area itself or any area below it by parent links (a city code such as
    500000 is no prefix of its districts' 5001xx/5002xx codes). Without a session the
    request's own is used.
    """
    if user.role == ADMIN or not user.area_code:
        return
    codes = [code for code in area_codes if code]
    if codes:
        if session is None:
            session = get_session()
        if set(codes) & set(area_descendants(session, user.area_code)):
            return
    raise Forbidden("outside your district")
