"""The web shell: sign-in, sign-out, language, home page, and every domain's pages."""

from urllib.parse import urlencode, urlparse

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from emergency.auth import service as auth_service
from emergency.auth import sessions as auth_sessions
from emergency.auth import throttle
from emergency.auth.permissions import actor, allow, public
from emergency.auth.roles import EVERYONE, GRID_STAFF, ROLE_LABELS
from emergency.auth.web import SID_KEY
from emergency.db import get_session
from emergency.domains import DOMAINS
from hazards import views as hazard_pages
from maps.views import operations_parts

bp = Blueprint("web", __name__)


def _safe_next(target):
    """Only same-site relative paths are followed after sign-in."""
    if not target:
        return None
    # Control characters would split the Location header; a backslash is read by browsers as
    # a slash, so "/\\host" would leave the site.
    if any(ch < " " or ch in "\\\x7f" for ch in target):
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign-in form; repeated failures are throttled."""
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:64]
        # No stored password is longer than 1024 characters: a longer one cannot match, and
        # hashing megabytes would only cost CPU.
        password = (request.form.get("password") or "")[:1025]
        db = get_session()
        addr = request.remote_addr or ""
        config = current_app.config
        try:
            user = auth_service.authenticate(
                db, username, password, addr, throttle.Policy.from_config(config),
                throttle.hash_gate(current_app), config["LOGIN_HASH_WAIT_SECONDS"])
        except (throttle.Throttled, throttle.Busy) as exc:
            if isinstance(exc, throttle.Busy):
                flash(_("Signing in is busy. Please try again in a moment."), "warning")
            else:
                flash(_("Too many failed sign-ins. Please try again in %(seconds)s seconds.",
                        seconds=exc.retry_after), "danger")
            return render_template("login.html"), exc.status, {
                "Retry-After": str(exc.retry_after)}
        if user is not None:
            # Signing in again in the same browser ends the session it held before.
            auth_sessions.revoke(db, session.get(SID_KEY))
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(user)
            session[SID_KEY] = auth_sessions.start(db, user, addr, config["SESSION_MAX_HOURS"])
            db.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("web.index"))
        db.commit()
        flash(_("Wrong user name or password."), "danger")
        status = 401
    return render_template("login.html"), status


@bp.route("/logout", methods=["POST"])
@allow(EVERYONE)
def logout():
    """Sign out: the server-side session ends, so a copy of the cookie is worthless too."""
    auth_sessions.revoke(get_session(), session.get(SID_KEY))
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@bp.route("/")
@allow(EVERYONE)
def index():
    """Home: the operations map and what each role works on; grid staff get their phone
    home instead (a big report button, their grids, their own reports)."""
    user = actor()
    if user.role == GRID_STAFF:
        return render_template("home_staff.html", user=user,
                               role_label=ROLE_LABELS[user.role],
                               **hazard_pages.staff_home(get_session(), user))
    return render_template("index.html", user=user, role_label=ROLE_LABELS[user.role],
                           **operations_parts(get_session()))


def switch_language_url(lang):
    """This page in another language, keeping its query (filters, page, search)."""
    args = request.args.copy()
    args["lang"] = lang
    return "?" + urlencode(list(args.items(multi=True)))


def nav_items(user):
    """Navigation entries visible to a user's role."""
    items = []
    for endpoint, label, roles in current_app.config.get("NAV", []):
        if user is not None and (roles is None or user.role in roles):
            if endpoint in current_app.view_functions:
                items.append((url_for(endpoint), label))
    return items


def init_app(app):
    """Register the shell and every domain's pages; share the navigation with templates."""
    app.register_blueprint(bp)
    app.config.setdefault("NAV", [])
    views = [module for domain in DOMAINS for module in domain.views]
    for module in views:
        app.register_blueprint(module.bp)
    # The navigation reads from the top layer down: the maps first, user accounts last.
    for module in reversed(views):
        app.config["NAV"].extend(getattr(module, "NAV", []))

    @app.context_processor
    def _shell():
        user = actor()
        # The page's language as the catalogue chose it (?lang=, the session, Accept-Language):
        # <html lang> and the language switch follow the words on the page.
        lang = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {"current_actor": user, "nav": nav_items(user), "lang": lang,
                "lang_switch_url": switch_language_url("en" if lang == "zh" else "zh")}
