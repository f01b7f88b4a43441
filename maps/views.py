"""HTML map pages: each gets its data from services and its map from maps.pages."""

import json

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l

from emergency.auth.permissions import allow
from emergency.auth.roles import EVERYONE
from emergency.db import get_session
from emergency.geo import service as geo
from maps import pages

# static/maps/*.js draw every map page's data (maps/data.py), at /maps/static/maps/.
bp = Blueprint("maps", __name__, url_prefix="/maps", template_folder="templates",
               static_folder="static")

NAV = [("maps.districts", _l("Districts map"), None)]


def render_map(fmap, title):
    """Render a folium map inside the shell."""
    return render_template("maps/map.html", title=title, **pages.page_parts(fmap))


@bp.route("/districts")
@allow(EVERYONE)
def districts():
    """The districts of the bureau's city on a map."""
    records, _total = geo.list_areas(get_session(), level="district", limit=1000)
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r["code"], "geometry": json.loads(r["geometry"]),
         "properties": {"code": r["code"], "name": r["name"]}} for r in records]}
    fmap = pages.districts_map(collection, current_app.config["BASEMAP_TILE_URL"],
                               current_app.config["BASEMAP_ATTRIBUTION"])
    return render_map(fmap, _l("Districts map"))
