"""The JSON documents of the OGC API – Features service, built from plain values: landing
page, conformance, collection descriptions, feature pages and the OpenAPI 3.0 definition.
No Flask here: the caller passes the absolute URLs (``base``: the service root, no slash
at the end). Features may carry their geometry as GeoJSON text, written out as it is by
``encode``."""

import json
from urllib.parse import quote

from maps.ogc import params

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
TITLE = "Emergency management platform: OGC API – Features"


def _link(href, rel, type_, title=None):
    """One link object."""
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base):
    """The landing page."""
    return {
        "title": TITLE,
        "description": "Areas, grids, rescue teams, hazard reports, incidents, warnings "
                       "and risk assessment cells, as the signed-in user may see them.",
        "links": [
            _link(f"{base}", "self", JSON, "this document"),
            _link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
            _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections", "data", JSON, "the feature collections"),
        ],
    }


def conformance():
    """The conformance declaration."""
    return {"conformsTo": CONFORMANCE}


def _iso(value):
    """A time as ISO 8601 text (or None)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def describe(base, collection, extent):
    """One collection's description, with its extent and links."""
    url = f"{base}/collections/{collection.id}"
    body = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(url, "self", JSON, "this collection"),
            _link(f"{url}/items", "items", GEOJSON, "its features"),
        ],
    }
    if collection.keywords:
        body["keywords"] = list(collection.keywords)
    found = {}
    if extent.get("bbox"):
        found["spatial"] = {"bbox": [extent["bbox"]], "crs": CRS84}
    if collection.temporal:
        interval = extent.get("interval") or [None, None]
        found["temporal"] = {"interval": [[_iso(interval[0]), _iso(interval[1])]],
                             "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    if found:
        body["extent"] = found
    return body


def collections(base, described):
    """The collections document from (collection, extent) pairs."""
    return {
        "links": [_link(f"{base}/collections", "self", JSON, "this document")],
        "collections": [describe(base, c, e) for c, e in described],
    }


def page(base, collection_id, query, features, matched, offset, limit, stamp,
         cursor_of=None):
    """One page of items with self, next, prev and collection links; ``query`` holds the
    request's other parameters, kept in the paging links. With ``cursor_of`` (a collection
    paged by key) the next link carries the last feature's cursor beside its offset, so
    the next page is found by key, not by skipping rows."""
    url = f"{base}/collections/{collection_id}/items"

    def at(start, cursor=None):
        kept = {k: v for k, v in query.items() if k not in ("offset", "limit", "cursor")}
        kept.update(limit=str(limit), offset=str(start))
        if cursor is not None:
            kept["cursor"] = cursor
        return url + "?" + "&".join(f"{k}={_quote(v)}" for k, v in kept.items())

    links = [_link(at(offset, query.get("cursor")), "self", GEOJSON, "this page"),
             _link(f"{base}/collections/{collection_id}", "collection", JSON,
                   "the collection")]
    if features and offset + len(features) < matched:
        cursor = cursor_of(features[-1]) if cursor_of else None
        links.append(_link(at(offset + len(features), cursor), "next", GEOJSON,
                           "next page"))
    if offset > 0:
        links.append(_link(at(max(offset - limit, 0)), "prev", GEOJSON, "previous page"))
    return {"type": "FeatureCollection", "features": features, "numberMatched": matched,
            "numberReturned": len(features), "timeStamp": stamp, "links": links}


def _quote(value):
    """A query value escaped for a URL."""
    return quote(str(value), safe=",:.")


def item(base, collection_id, feature):
    """One feature with its self and collection links."""
    url = f"{base}/collections/{collection_id}"
    return {**feature, "links": [
        _link(f"{url}/items/{feature['id']}", "self", GEOJSON, "this feature"),
        _link(url, "collection", JSON, "the collection")]}


# ---- the OpenAPI 3.0 definition -------------------------------------------------------------

def _param(name, where, schema, description, required=False, **extra):
    """An OpenAPI parameter object."""
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema, **extra}


def _response(description, media, schema_ref):
    """An OpenAPI response with one media type."""
    return {"description": description,
            "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


ERRORS = {
    "400": _response("A parameter is malformed or unknown", JSON, "Error"),
    "401": _response("No or bad credentials (send Authorization: Bearer <token>)", JSON,
                     "Error"),
    "403": _response("The user's role may not read this collection or feature", JSON,
                     "Error"),
}


def _get(summary, operation_id, responses, parameters=()):
    """An OpenAPI GET operation."""
    return {"get": {"summary": summary, "operationId": operation_id, "tags": ["OGC API"],
                    "parameters": list(parameters), "responses": {**responses, **ERRORS}}}


def openapi(base, collection_ids):
    """The OpenAPI 3.0 definition of the service (``collection_ids``: those the user may
    read, named in the collectionId parameter's examples)."""
    collection_id = _param("collectionId", "path", {"type": "string"},
                           "areas, grids, teams, hazards, incidents, warnings, or risk-<id> "
                           "(the cells of a finished risk assessment)",
                           examples={c: {"value": c} for c in collection_ids[:20]})
    feature_id = _param("featureId", "path", {"type": "string"},
                        "the feature's id (a code for areas and grids, a number otherwise)")
    items_params = [
        collection_id,
        _param("bbox", "query", {"type": "array", "minItems": 4, "maxItems": 6,
                                 "items": {"type": "number"}},
               "minlon,minlat,maxlon,maxlat in WGS-84 (CRS84); features meeting the box",
               style="form", explode=False),
        _param("bbox-crs", "query", {"type": "string", "enum": [CRS84]},
               "the CRS of bbox (only CRS84)"),
        _param("limit", "query", {"type": "integer", "minimum": 1,
                                  "maximum": params.MAX_LIMIT,
                                  "default": params.DEFAULT_LIMIT},
               f"features per page (default {params.DEFAULT_LIMIT}, larger values are "
               f"lowered to {params.MAX_LIMIT})", style="form", explode=False),
        _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0},
               "features skipped (the next and prev links carry it)"),
        _param("cursor", "query", {"type": "string"},
               "where the page starts, as a next link gives it (teams and risk cells are "
               "paged by key: the page after that feature; offset then only numbers it)"),
        _param("datetime", "query", {"type": "string"},
               "an RFC 3339 instant or interval (start/end, '..' for an open end); only for "
               "collections with times (hazards, incidents, warnings)",
               style="form", explode=False),
        _param("f", "query", {"type": "string", "enum": ["json"]}, "the encoding"),
        _param("lang", "query", {"type": "string", "enum": ["zh", "en"]},
               "the language of error messages (else Accept-Language)"),
    ]
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": "1.0.0",
                 "description": "OGC API – Features, Part 1: Core, with GeoJSON. Every "
                                "request needs a bearer token (or a signed-in session)."},
        "servers": [{"url": base}],
        "security": [{"bearer": []}],
        "paths": {
            "/": _get("Landing page", "getLandingPage",
                      {"200": _response("The landing page", JSON, "LandingPage")}),
            "/conformance": _get("Conformance classes", "getConformance",
                                 {"200": _response("The conformance classes", JSON,
                                                   "Conformance")}),
            "/api": _get("This API definition", "getApi",
                         {"200": {"description": "The OpenAPI 3.0 document",
                                  "content": {OPENAPI: {"schema": {"type": "object"}}}}}),
            "/collections": _get("The feature collections", "getCollections",
                                 {"200": _response("The collections", JSON, "Collections")}),
            "/collections/{collectionId}": _get(
                "One collection", "describeCollection",
                {"200": _response("The collection", JSON, "Collection"),
                 "404": _response("No such collection", JSON, "Error")}, [collection_id]),
            "/collections/{collectionId}/items": _get(
                "Features of a collection", "getFeatures",
                {"200": _response("A page of features", GEOJSON, "FeatureCollection"),
                 "404": _response("No such collection", JSON, "Error")}, items_params),
            "/collections/{collectionId}/items/{featureId}": _get(
                "One feature", "getFeature",
                {"200": _response("The feature", GEOJSON, "Feature"),
                 "404": _response("No such collection or feature", JSON, "Error")},
                [collection_id, feature_id]),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }


def _schemas():
    """The component schemas the operations name."""
    link = {"type": "object", "required": ["href"],
            "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                           "type": {"type": "string"}, "title": {"type": "string"}}}
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                              "geometry": {"type": "object", "nullable": True},
                              "properties": {"type": "object", "nullable": True},
                              "links": links}}
    return {
        "Link": link,
        "LandingPage": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"},
                                       "description": {"type": "string"}, "links": links}},
        "Conformance": {"type": "object", "required": ["conformsTo"],
                        "properties": {"conformsTo": {"type": "array",
                                                      "items": {"type": "string"}}}},
        "Collection": {"type": "object", "required": ["id", "links"],
                       "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                      "description": {"type": "string"},
                                      "itemType": {"type": "string"},
                                      "crs": {"type": "array", "items": {"type": "string"}},
                                      "extent": {"type": "object"}, "links": links}},
        "Collections": {"type": "object", "required": ["links", "collections"],
                        "properties": {"links": links, "collections": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Collection"}}}},
        "Feature": feature,
        "FeatureCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Feature"}},
                           "numberMatched": {"type": "integer", "minimum": 0},
                           "numberReturned": {"type": "integer", "minimum": 0},
                           "timeStamp": {"type": "string", "format": "date-time"},
                           "links": links}},
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "object", "properties": {
                      "code": {"type": "string"}, "message": {"type": "string"},
                      "details": {"type": "object"}}}}},
    }


# ---- writing documents out ------------------------------------------------------------------

def _dumps(value):
    """Compact JSON text (times as text)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _feature_text(feature):
    """A feature as JSON text; a geometry given as GeoJSON text is put in as it is."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, str):
        return _dumps(feature)
    head = _dumps({k: v for k, v in feature.items() if k != "geometry"})
    return f'{head[:-1]},"geometry":{geometry}}}'


def encode(body):
    """A document as UTF-8 JSON bytes: a FeatureCollection's features and a single
    Feature through ``_feature_text``, anything else as it is."""
    if body.get("type") == "Feature":
        return _feature_text(body).encode()
    if body.get("type") == "FeatureCollection":
        head = _dumps({k: v for k, v in body.items() if k != "features"})
        features = ",".join(_feature_text(f) for f in body["features"])
        return f'{head[:-1]},"features":[{features}]}}'.encode()
    return _dumps(body).encode()
