"""The /users page (admin): list with search, create, edit role and scope, deactivate."""

from flask import Blueprint, render_template, url_for
from flask_babel import lazy_gettext as _l

from emergency.auth import service
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, ROLES
from emergency.db import get_session

bp = Blueprint("users_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/users/static")

NAV = [("users_pages.index", _l("Users"), {ADMIN})]

ROLE_NAMES = {"admin": _l("Bureau administrator"), "planner": _l("Planner"),
              "dispatcher": _l("Dispatcher"), "grid_staff": _l("Grid staff"),
              "org_admin": _l("Organisation administrator"), "auditor": _l("Auditor")}


def _text():
    """Every string the page's script shows, in the page's language."""
    return {
        "active": str(_l("Active")), "inactive": str(_l("Deactivated")),
        "edit": str(_l("Edit")), "save": str(_l("Save")), "cancel": str(_l("Cancel")),
        "deactivate": str(_l("Deactivate")), "reactivate": str(_l("Reactivate")),
        "confirm_deactivate": str(_l("Deactivate {name}? Their sessions and API tokens stop "
                                     "working at once.")),
        "confirm_reactivate": str(_l("Reactivate {name}? They will need to sign in again.")),
        "grids": str(_l("Grids")), "org": str(_l("Organisation")),
        "area": str(_l("District")), "new_password": str(_l("New password (optional)")),
        "display_name": str(_l("Display name")), "role": str(_l("Role")),
        "none": str(_l("No users match.")), "you": str(_l("(you)")),
        "saved": str(_l("Saved.")), "created": str(_l("User created.")),
        "total": str(_l("{n} users")),
        "picker": {"none": str(_l("No matches")), "count": str(_l("{n} results")),
                   "remove": str(_l("Remove"))},
        "sources": {"grids": url_for("areas.pick_grids"), "orgs": url_for("registry.pick_orgs"),
                    "areas": url_for("areas.pick_areas", level="district")},
    }


@bp.route("/users")
@allow(ADMIN)
def index():
    """User administration: the first page of users; search and changes go through the API."""
    users, total = service.list_users(get_session(), limit=200)
    roles = [{"value": r, "label": str(ROLE_NAMES[r])} for r in ROLES]
    text = _text()
    picker = {f"data-text-{k}": v for k, v in text["picker"].items()}
    return render_template("auth/users.html", roles=roles, text=text, me=actor().id,
                           users=[_page_record(u) for u in users], total=total, picker=picker)


def _page_record(user):
    """A user as the page's script needs it (the API's shape without the timestamp)."""
    record = service.user_record(user)
    record.pop("created_at")
    return record
