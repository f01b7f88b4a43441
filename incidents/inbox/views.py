"""HTML pages of an organisation's dispatch inbox: its dispatches (live), answering one,
naming the members who go, checking them in and out on scene, and their service hours.

The list and the detail page are drawn by static scripts (incidents/inbox/static/inbox/) from
JSON the page carries and from the JSON API they call again on every change or live event; the
service-hour pages are plain server-rendered tables.
"""

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import Point, shape

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import BUREAU, ORG_ADMIN
from emergency.db import get_session
from emergency.errors import Forbidden
from emergency.geo import service as geo
from emergency.vocabulary import CATEGORY_LABELS
from incidents import dispatch as dispatches
from incidents import onscene, schemas
from incidents import service as incidents
from maps import pages
from maps.data import MapData, circle, line
from plans.incident_types import INCIDENT_TYPES
from plans.incident_types import label as type_label
from registry import members as registry_members
from registry import teams as registry_teams
from registry.crypto import app_cipher

bp = Blueprint("inbox_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/inbox/static")
READERS = BUREAU | {ORG_ADMIN}
NAV = [("inbox_pages.inbox", _l("Dispatch tasks"), READERS),
       ("inbox_pages.service_page", _l("Service hours"), {ORG_ADMIN})]
LIST_LIMIT = 200
ROSTER_LIMIT = 1000
SCENE_COLOUR, TEAM_COLOUR = "#b71c1c", "#1565c0"

STATUS_NAMES = {
    "requested": _l("Requested"), "accepted": _l("Accepted"), "declined": _l("Declined"),
    "en_route": _l("En route"), "on_scene": _l("On scene"), "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
LEVEL_NAMES = {1: _l("Level I"), 2: _l("Level II"), 3: _l("Level III"), 4: _l("Level IV")}


def _lang():
    """The page's language for the plans' type labels."""
    return "en" if str(get_locale()).startswith("en") else "zh"


def _labels():
    """Every text the inbox scripts show, translated on the server (scripts have no gettext)."""
    lang = _lang()
    return {
        "statuses": {k: str(v) for k, v in STATUS_NAMES.items()},
        "levels": {str(k): str(v) for k, v in LEVEL_NAMES.items()},
        "no_level": _("no response level"),
        "categories": {k: str(v) for k, v in CATEGORY_LABELS.items()},
        "types": {k: type_label(k, lang) for k in INCIDENT_TYPES},
        "new": pgettext("new dispatch request", "New"),
        "incident": pgettext("inbox", "Incident #%(id)s", id="{id}"),
        "team": _("Team"), "task": pgettext("inbox", "Task"),
        "members_requested": _("Members requested"),
        "members_named": _("Members named / requested"), "distance": pgettext("inbox", "Distance"),
        "km": _("km"), "requested_at": _("Requested at"), "open": _("Open the dispatch"),
        "empty": _("No dispatches yet."),
        "live_created": _("New dispatch request:"),
        "live_updated": _("Dispatch updated:"),
        "accept": _("Accept the dispatch"), "decline": _("Decline"),
        "decline_reason": _("Reason for declining"),
        "confirm_decline": _("Decline this dispatch?"),
        "steps": {"en_route": _("Set out (en route)"), "on_scene": _("Arrived on scene"),
                  "completed": _("Task completed")},
        "confirm_steps": {"accepted": _("Accept this dispatch?"),
                          "en_route": _("Confirm that the team has set out?"),
                          "on_scene": _("Confirm that the team is on scene?"),
                          "completed": _("Confirm that the task is completed?")},
        "save_members": _("Save the members who go"),
        "members_saved": _("Members saved."),
        "no_named": _("No member named yet."),
        "check_in": _("Check in (arrived)"), "check_out": _("Check out (left)"),
        "present": pgettext("member state", "On scene"),
        "absent": pgettext("member state", "Not on scene"),
        "hours": pgettext("inbox", "%(hours)s h", hours="{hours}"),
        "on_scene_now": _("On scene now:"),
        "geo_denied": _("The phone's location was refused. Allow this site to use your "
                        "location in the browser's settings and try again, or check in "
                        "without a location."),
        "without_location": _("Record without a location"),
        "geo_unavailable": _("The phone's location is not available right now (no signal or "
                             "timed out). Move to open sky and try again."),
        "geo_missing": _("This browser cannot give a location (a page served without HTTPS "
                         "cannot use the phone's position)."),
        "errors": {"409": _("Refused: the dispatch has changed or this step is not possible "
                            "now. The page shows the current state."),
                   "422": _("Refused: please check the input."),
                   "403": _("You may not do this."), "404": _("Not found."),
                   "other": _("The server could not do this. Please try again."),
                   "network": _("No connection to the server. Please try again.")},
        "codes": {"checked_in": _("Members who have checked in cannot be taken off the "
                                  "list."),
                  "already_in": _("This member is already checked in (perhaps recorded by "
                                  "someone else). The page shows the current state."),
                  "not_in": _("This member is not checked in, so cannot check out. The page "
                              "shows the current state."),
                  "wrong_state": _("The dispatch's current state does not allow this. The "
                                   "page shows the current state.")},
        "fields": {"note": _("A reason is required."),
                   "member_ids": _("Only members of this team can be named."),
                   "member_id": _("This member is not named on this dispatch."),
                   "location": _("A valid location is required."),
                   "kind": _("This check-in is not possible now.")},
    }


def _may_answer(user, dispatch):
    """Only the organisation's own admin answers and advances its dispatches here (the bureau
    reads; cancelling is done from the dispatch console)."""
    return user.role == ORG_ADMIN and user.org_id == dispatch["org_id"]


def _scene_map(session, incident, team_point, team_name):
    """A small offline map of the scene and where the team is based, over the outline of the
    district it happened in (the base when no tile server is configured)."""
    lon, lat = incident["location"]["coordinates"][:2]
    fmap = pages.base_map(current_app.config["BASEMAP_TILE_URL"],
                          current_app.config["BASEMAP_ATTRIBUTION"], location=(lat, lon),
                          zoom=12)
    outlines = geo.district_outlines(session)
    scene = Point(lon, lat)
    outlines["features"] = [f for f in outlines["features"]
                            if shape(f["geometry"]).covers(scene)]
    features = [pages.districts_layer(outlines)] if outlines["features"] else []
    features.append(circle(lat, lon, {"radius": 10, "color": "#000", "weight": 2, "fill": True,
                                  "fillColor": SCENE_COLOUR, "fillOpacity": 0.9},
                       tooltip=incident["title"]))
    if team_point:
        tlon, tlat = team_point["coordinates"][:2]
        features.append(line([(lat, lon), (tlat, tlon)], {"color": TEAM_COLOUR, "weight": 2,
                                                          "dashArray": "6 4"}))
        features.append(circle(tlat, tlon, {"radius": 7, "color": TEAM_COLOUR, "fill": True,
                                            "fillColor": TEAM_COLOUR, "fillOpacity": 0.85},
                               tooltip=team_name))
        pages.fit_view(fmap, [(lat, lon), (tlat, tlon)], padding=(20, 20), max_zoom=14)
    MapData("features", {"features": features}).add_to(fmap)
    return pages.page_parts(fmap)


@bp.route("/dispatches")
@allow(READERS)
def inbox():
    """The dispatches of the user's organisation (bureau roles: all in scope), new first."""
    session, user = get_session(), actor()
    items, total = dispatches.list_dispatches(session, user, limit=LIST_LIMIT)
    data = schemas.DispatchList().dump({"items": items, "total": total})
    return render_template("inbox/list.html", data=data, labels=_labels(), limit=LIST_LIMIT)


@bp.route("/dispatches/<int:dispatch_id>")
@allow(READERS)
def detail(dispatch_id):
    """One dispatch: answer it, name the members, check them in and out, their hours."""
    session, user = get_session(), actor()
    item = dispatches.get_dispatch(session, user, dispatch_id)
    incident = incidents.incident_dict(session, incidents.incident_or_404(
        session, item["incident_id"]))
    can_answer = _may_answer(user, item)
    roster = []
    if can_answer:
        roster, _total = registry_members.list_members(session, app_cipher(), user,
                                                       item["team_id"], limit=ROSTER_LIMIT)
        roster = [{"id": m["id"], "name": m["name"], "phone": m["phone"]} for m in roster]
    where = dispatches.team_locations(session, [item["team_id"]]).get(item["team_id"])
    level = incident["response_level"]
    return render_template(
        "inbox/detail.html", dispatch=schemas.DispatchOut().dump(item), incident=incident,
        roster=roster, can_answer=can_answer, labels=_labels(),
        console_url=url_for("incident_pages.console_page", incident_id=incident["id"])
        if user.role in BUREAU else None,
        type_label=type_label(incident["incident_type"], _lang()),
        level_label=str(LEVEL_NAMES[level]) if level in LEVEL_NAMES else _("no response level"),
        status_label=str(STATUS_NAMES.get(item["status"], item["status"])),
        **_scene_map(session, incident, where, item["team_name"]))


@bp.route("/dispatches/service")
@allow(ORG_ADMIN)
def service_page():
    """Every member of the organisation's teams with their total service hours on scene."""
    session, user = get_session(), actor()
    if not user.org_id:
        raise Forbidden("your account belongs to no organisation")
    team_rows, _total = registry_teams.list_teams(session, user, org_id=user.org_id,
                                                  limit=ROSTER_LIMIT)
    teams = []
    for team in team_rows:
        roster, _count = registry_members.list_members(session, app_cipher(), user, team["id"],
                                                       limit=ROSTER_LIMIT)
        rows = [{"id": m["id"], "name": m["name"], "phone": m["phone"],
                 "hours": onscene.service_hours(session, user, m["id"])["hours"]}
                for m in roster]
        teams.append({"id": team["id"], "name": team["name"], "members": rows})
    return render_template("inbox/service.html", teams=teams)


@bp.route("/dispatches/members/<int:member_id>/service")
@allow(READERS)
def member_service_page(member_id):
    """One member's service hours, dispatch by dispatch."""
    session, user = get_session(), actor()
    member = registry_members.get_member(session, app_cipher(), user, member_id)
    record = onscene.service_hours(session, user, member_id)
    return render_template("inbox/member_service.html", member=member, record=record)
