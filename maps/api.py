"""Map layers by viewport as GeoJSON, with ETags, gzip and place search (JSON API)."""

from flask import Response, request
from marshmallow import Schema, fields, validate

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import EVERYONE
from emergency.db import get_session, replica_session
from emergency.geojson import BBoxField
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema, QuerySchema
from maps import providers, responses, search, tile_layers
from maps.tilemath import snap_bbox

blp = Blueprint("maplayers", __name__, url_prefix="/api/v1",
                description="Map layers loaded by viewport, and place search for map pages")


class LayerQuery(QuerySchema):
    """The viewport of one layer request."""

    bbox = BBoxField(required=True, metadata={"description": "minlon,minlat,maxlon,maxlat"})
    zoom = fields.Integer(required=True, validate=validate.Range(0, 22))
    assessment_id = fields.Integer(validate=validate.Range(1, 2**31))
    category = fields.String(validate=validate.Length(max=40))


class TileQuery(QuerySchema):
    """Parameters of a vector tile layer."""

    assessment = fields.Integer(validate=validate.Range(1, 2**31), metadata={
        "description": "the finished assessment run (required for the risk layer)"})
    category = fields.String(validate=validate.Length(max=40),
                             metadata={"description": "teams of one category"})


class SearchQuery(QuerySchema):
    """A place name or a coordinate."""

    q = fields.String(required=True, validate=validate.Length(1, 80))


class LayerInfo(Schema):
    """One layer a map page can load."""

    name = fields.String()
    kind = fields.String()
    params = fields.List(fields.String())


class Place(Schema):
    """A place found by name, or a parsed coordinate."""

    label = fields.String()
    kind = fields.String(metadata={"description": "coordinate, district, street, ..."})
    code = fields.String()
    lon = fields.Float()
    lat = fields.Float()
    bbox = fields.List(fields.Float())


def _send(encoded, immutable=False):
    """A JSON response with a content-derived ETag (304 when unchanged), gzip when accepted."""
    # The ETag is derived from the content, so every worker agrees on it without shared
    # state and it changes exactly when the data does.
    headers = {"ETag": f'"{encoded.etag}"', "Vary": "Accept-Encoding",
               "Cache-Control": "private, max-age=3600" if immutable else "private, no-cache"}
    if encoded.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    data = encoded.data
    if "gzip" in (request.headers.get("Accept-Encoding") or "") and len(data) > 200:
        data = encoded.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(data, mimetype="application/geo+json", headers=headers)


@blp.route("/maps/layers", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, Schema.from_dict({"items": fields.List(fields.Nested(LayerInfo))},
                                    name="LayerCatalogue"))
def catalogue():
    """The layers a map page can load, with their extra parameters."""
    return {"items": providers.catalogue()}


@blp.route("/maps/layers/<name>", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(LayerQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def layer(query, name):
    """One layer's features in a viewport (bbox snapped to the zoom's tile grid)."""
    bbox = snap_bbox(query["bbox"], query["zoom"])
    params = {k: query[k] for k in ("assessment_id", "category") if query.get(k) is not None}
    encoded, immutable = responses.layer_response(
        replica_session(), actor(), name, bbox, query["zoom"], params,
        gzip="gzip" in (request.headers.get("Accept-Encoding") or ""))
    return _send(encoded, immutable=immutable)


@blp.route("/maps/tiles/<layer>/<int:z>/<int:x>/<int:y>.mvt", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(TileQuery, location="query")
@blp.response(200, {"type": "string", "format": "binary"}, content_type=tile_layers.MIME,
              description=(
    "A Mapbox vector tile with one layer named as the path's (risk, hazards, teams, areas)"))
@blp.alt_response(204, description="No feature of the layer meets the tile")
@blp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
def tile(query, layer, z, x, y):
    """One web-mercator tile of a map layer as a Mapbox vector tile (same scopes as the
    layers; a finished risk run's tiles never change and may be cached for a day)."""
    params = {k: query[k] for k in ("assessment", "category") if query.get(k) is not None}
    found = tile_layers.tile(get_session(), actor(), layer, z, x, y, params)
    encoded = found.encoded
    headers = {"ETag": f'"{encoded.etag}"', "Vary": "Accept-Encoding, Cookie, Authorization",
               "Cache-Control": "private, max-age=86400" if found.immutable
               else "private, no-cache"}
    if encoded.etag in request.if_none_match:
        return Response(status=304, headers=headers)
    if not encoded.data:
        return Response(status=204, headers=headers)
    data = encoded.data
    if "gzip" in (request.headers.get("Accept-Encoding") or "") and len(data) > 200:
        data = encoded.gzipped()
        headers["Content-Encoding"] = "gzip"
    return Response(data, mimetype=tile_layers.MIME, headers=headers)


@blp.route("/maps/search", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(SearchQuery, location="query")
@blp.response(200, Schema.from_dict({"items": fields.List(fields.Nested(Place))},
                                    name="PlaceList"))
def place_search(query):
    """Places matching a name (districts, streets) or one parsed coordinate."""
    return {"items": search.search(get_session(), query["q"])}
