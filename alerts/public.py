"""Warnings for the public, no sign-in: the GeoJSON and Atom feeds and each CAP document
(JSON API blueprint ``blp``), and the printable page /public/warnings (``bp``).

Feeds are cacheable: a content-derived ETag (the same on every app host), 304 for a
matching If-None-Match, and ``Cache-Control: public, max-age=60``.
"""

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from alerts import cap, feeds
from emergency.auth.permissions import public
from emergency.db import get_session, utcnow
from emergency.jsonbody import Blueprint as ApiBlueprint

blp = ApiBlueprint("public_warnings", __name__, url_prefix="/api/v1",
                   description="Warnings for the public (预警信息公开): GeoJSON, Atom, CAP 1.2; "
                   "no sign-in")
bp = Blueprint("public_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/public/warnings/static")

MAX_AGE = 60  # seconds a client or proxy may reuse a feed without asking


def _links():
    """The absolute links the feeds give."""
    return feeds.Links(
        cap=lambda wid: url_for("public_warnings.cap_document", warning_id=wid, _external=True),
        page=lambda wid: url_for("public_pages.warnings_page", _external=True) + f"#w{wid}",
        feed=url_for("public_warnings.atom_feed", _external=True),
        html=url_for("public_pages.warnings_page", _external=True))


def cached(data, mimetype, max_age=MAX_AGE):
    """A public response with a content-derived ETag; 304 when the client holds it (also
    the compressed variant's tag, which the compressor suffixes with the algorithm)."""
    tag = feeds.etag(data)
    headers = {"ETag": f'"{tag}"', "Cache-Control": f"public, max-age={max_age}",
               "Vary": "Accept-Encoding"}
    held = {t.split(":", 1)[0] for t in request.if_none_match.as_set()}
    if tag in held or request.if_none_match.star_tag:
        return Response(status=304, headers=headers)
    return Response(data, mimetype=mimetype, headers=headers)


@blp.route("/public/warnings", methods=["GET"])
@public
@blp.response(200, content_type=feeds.GEOJSON_MIMETYPE,
              description="FeatureCollection of the active published warnings: title, level, "
              "hazard_type, onset, expires, areas (names), cap (link to the CAP document), url")
@blp.alt_response(304, description="unchanged since the ETag given in If-None-Match")
def public_geojson():
    """The active published warnings as GeoJSON (simplified outlines), no sign-in."""
    return cached(feeds.geojson(get_session(), utcnow(), _links()), feeds.GEOJSON_MIMETYPE)


@blp.route("/public/warnings.atom", methods=["GET"])
@public
@blp.response(200, content_type=feeds.ATOM_MIMETYPE,
              description="Atom 1.0 feed; each entry links to its CAP 1.2 document")
@blp.alt_response(304, description="unchanged since the ETag given in If-None-Match")
def atom_feed():
    """The Atom feed of the active warnings (and of those lifted in the last day, as their
    CAP Cancel), no sign-in."""
    data = feeds.atom(get_session(), utcnow(), _links(), current_app.config["CAP_SENDER"])
    return cached(data, feeds.ATOM_MIMETYPE)


@blp.route("/public/warnings/<int:warning_id>.cap", methods=["GET"])
@public
@blp.response(200, content_type=cap.MIMETYPE, description="CAP 1.2 alert")
@blp.alt_response(404, description="no such warning, or not published")
def cap_document(warning_id):
    """The CAP 1.2 document of a published (or lifted, or expired) warning, no sign-in;
    drafts, approved and cancelled warnings are not found."""
    db = get_session()
    warning = feeds.ever_published(db, warning_id)
    page = url_for("public_pages.warnings_page", _external=True) + f"#w{warning.id}"
    data = feeds.cap_document(db, warning, current_app.config["CAP_SENDER"], web=page)
    return cached(data, cap.MIMETYPE)


LEVEL_CLASSES = {"red": "level-red", "orange": "level-orange", "yellow": "level-yellow",
                 "blue": "level-blue"}
LEVEL_LABELS_EN = {"red": "Red warning", "orange": "Orange warning",
                   "yellow": "Yellow warning", "blue": "Blue warning"}


@bp.route("/public/warnings")
@public
def warnings_page():
    """The active warnings on a map and as a printable list, Chinese first, no sign-in."""
    db = get_session()
    lang = get_locale().language
    items = feeds.page_items(db, utcnow(), lang)
    labels = feeds.LEVEL_LABELS if lang == "zh" else LEVEL_LABELS_EN
    for item in items:
        item["level_label"] = labels[item["level"]]
    tiles = current_app.config["BASEMAP_TILE_URL"]
    map_data = {
        "warnings": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": i["id"], "geometry": i["geometry"],
             "properties": {"id": i["id"], "title": i["title"], "level": i["level"],
                            "level_label": i["level_label"]}}
            for i in items if i["geometry"]]},
        "districts": feeds.district_base(db) if not tiles else None,
        "tiles": {"url": tiles, "attribution": current_app.config["BASEMAP_ATTRIBUTION"]}
        if tiles else None,
    }
    return render_template("alerts/public_warnings.html", items=items, map_data=map_data,
                           level_classes=LEVEL_CLASSES, legend=list(labels.items()),
                           now=utcnow(), title=_l("Warnings in force"))
