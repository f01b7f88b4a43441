"""JSON API for areas and management grids."""

import json

from flask_babel import lazy_pgettext

from emergency.auth.permissions import allow
from emergency.auth.roles import ADMIN, EVERYONE
from emergency.db import get_session
from emergency.geo import lookup, schemas, service
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema, items_schema

blp = Blueprint("areas", __name__, url_prefix="/api/v1",
                description="Administrative areas and community management grids")

LEVEL_LABELS = {"province": lazy_pgettext("area level", "Province"),
                "city": lazy_pgettext("area level", "City"),
                "district": lazy_pgettext("area level", "District"),
                "street": lazy_pgettext("area level", "Street"),
                "community": lazy_pgettext("area level", "Community")}


def _single(record):
    """A record with its geometry text parsed."""
    return {**record, "geometry": json.loads(record["geometry"])}


def _collection(records, total, id_key="id"):
    """Records as a FeatureCollection."""
    features = [feature(r[id_key], r["geometry"],
                        {k: v for k, v in r.items() if k != "geometry"}) for r in records]
    return geojson_response(feature_collection(features, total))


@blp.route("/areas", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.AreaIn)
@blp.response(201, schemas.AreaOut)
def create_area(body):
    """Create an administrative area."""
    session = get_session()
    area = service.create_area(session, **body)
    return _single(service.get_area(session, area.code))


@blp.route("/areas", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.AreaQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_areas(query):
    """Areas as a FeatureCollection (filters level, parent_code, bbox)."""
    records, total = service.list_areas(get_session(), **query)
    return _collection(records, total)


@blp.route("/areas/<code>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.AreaOut)
def get_area(code):
    """One area."""
    return _single(service.get_area(get_session(), code))


@blp.route("/grids", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.GridIn)
@blp.response(201, schemas.GridOut)
def create_grid(body):
    """Create a management grid."""
    session = get_session()
    grid = service.create_grid(session, **body)
    return _single(service.get_grid(session, grid.code))


@blp.route("/grids", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.GridQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_grids(query):
    """Grids as a FeatureCollection (filters area_code, bbox)."""
    records, total = service.list_grids(get_session(), **query)
    return _collection(records, total)


@blp.route("/grids/<code>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.GridOut)
def get_grid(code):
    """One grid with its staff."""
    return _single(service.get_grid(get_session(), code))


def _hint(*parts):
    """Secondary text of a choice: its parts joined by a middle dot, blanks left out."""
    return " · ".join(str(p) for p in parts if p)


@blp.route("/pick/areas", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.AreaPickQuery, location="query")
@blp.response(200, items_schema(schemas.PickItem, "AreaPickList"))
def pick_areas(query):
    """Areas for a picker: by Chinese name, pinyin initials ("yzq" → 渝中区) or code."""
    found = lookup.pick_areas(get_session(), query["q"], level=query.get("level"),
                              parent_code=query.get("parent_code"), limit=query["limit"])
    items = [{**a, "value": a["code"], "label": a["name"],
              "hint": _hint(LEVEL_LABELS.get(a["level"], a["level"]), a["parent_name"],
                            a["code"])} for a in found]
    return {"items": items, "total": len(items)}


@blp.route("/pick/grids", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.GridPickQuery, location="query")
@blp.response(200, items_schema(schemas.PickItem, "GridPickList"))
def pick_grids(query):
    """Management grids for a picker: by name, pinyin initials or code (within an area)."""
    found = lookup.pick_grids(get_session(), query["q"], area_code=query.get("area_code"),
                              limit=query["limit"])
    items = [{**g, "value": g["code"], "label": g["name"],
              "hint": _hint(g["area_name"], g["code"])} for g in found]
    return {"items": items, "total": len(items)}
