"""OGC API – Features at /ogc: the HTTP adapter. Each route checks the caller, reads its
parameters, asks maps.ogc.collections for the data and answers the document of
maps.ogc.documents. Same sign-in as the JSON API (bearer token or session), same scopes."""

from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import EVERYONE
from emergency.db import get_session
from emergency.errors import DomainError, error_response
from maps.ogc import collections, documents, params

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


@bp.errorhandler(DomainError)
def _domain_error(exc):
    """Every error of this service in the contract's JSON shape (clients are GIS tools:
    no sign-in page redirect, no HTML error page)."""
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _base():
    """The service's absolute root URL (no slash at the end)."""
    return url_for("ogc.landing", _external=True).rstrip("/")


def _send(body, mimetype=documents.JSON):
    """A JSON document."""
    return Response(documents.encode(body), mimetype=mimetype)


def _args(known):
    """The query parameters (first value each), refusing unknown ones."""
    args = {k: request.args.get(k) for k in request.args}
    params.check_known(args, known)
    return args


@bp.route("", strict_slashes=False)
@allow(EVERYONE)
def landing():
    """The landing page: links to the API definition, conformance and collections."""
    _args(params.OTHER_PARAMS)
    return _send(documents.landing(_base()))


@bp.route("/conformance", strict_slashes=False)
@allow(EVERYONE)
def conformance():
    """The conformance classes: core, GeoJSON, OpenAPI 3.0."""
    _args(params.OTHER_PARAMS)
    return _send(documents.conformance())


@bp.route("/api", strict_slashes=False)
@allow(EVERYONE)
def api():
    """The OpenAPI 3.0 definition of this service."""
    _args(params.OTHER_PARAMS)
    ids = [c.id for c, _extent in collections.all_collections(get_session(), actor())]
    return _send(documents.openapi(_base(), ids), documents.OPENAPI)


@bp.route("/collections", strict_slashes=False)
@allow(EVERYONE)
def collection_list():
    """Every collection the user may read, with extents."""
    _args(params.OTHER_PARAMS)
    described = collections.all_collections(get_session(), actor())
    return _send(documents.collections(_base(), described))


@bp.route("/collections/<collection_id>", strict_slashes=False)
@allow(EVERYONE)
def collection(collection_id):
    """One collection's description and extent."""
    _args(params.OTHER_PARAMS)
    found, extent = collections.get_collection(get_session(), actor(), collection_id)
    return _send(documents.describe(_base(), found, extent))


@bp.route("/collections/<collection_id>/items", strict_slashes=False)
@allow(EVERYONE)
def items(collection_id):
    """A page of a collection's features (bbox, datetime, limit, offset or cursor), with
    paging links and counts; paged and filtered in the database."""
    args = _args(params.ITEMS_PARAMS)
    session = get_session()
    found = collections.find(session, collection_id)
    params.bbox_crs(args.get("bbox-crs"))
    bbox = params.bbox(args.get("bbox"))
    limit, offset = params.limit(args.get("limit")), params.offset(args.get("offset"))
    period = params.period(args.get("datetime"))
    if args.get("datetime") is not None and not found.temporal:
        raise params.BadParameter("datetime", f"collection {found.id} has no times")
    after = params.cursor(args.get("cursor"), found.cursor[1] if found.cursor else None)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    features, matched = found.items(session, actor(), bbox, period, limit, offset, after)
    cursor_of = found.cursor[0] if found.cursor else None
    body = documents.page(_base(), found.id, args, features, matched, offset, limit, stamp,
                          cursor_of)
    return _send(body, documents.GEOJSON)


@bp.route("/collections/<collection_id>/items/<feature_id>")
@allow(EVERYONE)
def item(collection_id, feature_id):
    """One feature of a collection."""
    _args(params.OTHER_PARAMS)
    session = get_session()
    found = collections.find(session, collection_id)
    feature = found.item(session, actor(), feature_id)
    return _send(documents.item(_base(), found.id, feature), documents.GEOJSON)
