"""JSON API of emergency measures: issue, lift, the register, one measure (or its printable
decision with ?format=html) and the usual legal bases."""

from flask import Response, current_app, render_template

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER
from emergency.db import get_session
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema
from incidents.measures import legal_bases, schemas
from incidents.measures import service as measures
from incidents.measures.views import decision_context

blp = Blueprint("measures", __name__, url_prefix="/api/v1",
                description="Emergency measures, their legal basis, decisions and lifting")

WRITERS = (ADMIN, DISPATCHER)
JSON_TIMES = ("starts_at", "ends_at", "lifted_at", "created_at")


def _prefix():
    """MEASURE_ORDER_PREFIX of the app."""
    return current_app.config["MEASURE_ORDER_PREFIX"]


@blp.route("/incidents/<int:incident_id>/measures", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.MeasureIn)
@blp.response(201, schemas.MeasureOut)
def create_measure(body, incident_id):
    """Issue a measure under the year's next decision number (legal basis, authority,
    scope and period required)."""
    measure = measures.create_measure(get_session(), actor(), incident_id, prefix=_prefix(),
                                      **body)
    return measures.measure_dict(measure)


@blp.route("/measures/<int:measure_id>/lift", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.LiftIn, required=False)
@blp.response(200, schemas.MeasureOut)
def lift_measure(body, measure_id):
    """Lift a measure; a second lifting is 409."""
    measure = measures.lift_measure(get_session(), actor(), measure_id,
                                    (body or {}).get("note", ""))
    return measures.measure_dict(measure)


@blp.route("/measures", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.MeasureQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_measures(query):
    """The register as a FeatureCollection: measures (their scope as geometry) and
    requisitions (kind requisition, no geometry; feature id ``requisition-N``)."""
    records, total = measures.list_measures(get_session(), actor(), **query)
    features = []
    for record in records:
        props = {k: (v.isoformat() if k in JSON_TIMES and v is not None else v)
                 for k, v in record.items() if k != "scope"}
        fid = record["id"] if record["source"] == "measure" else f"requisition-{record['id']}"
        features.append(feature(fid, record["scope"], props))
    return geojson_response(feature_collection(features, total))


@blp.route("/measures/<int:measure_id>", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.MeasureGet, location="query")
@blp.response(200, schemas.MeasureOut)
def get_measure(query, measure_id):
    """One measure; ``format=html`` is its printable decision (决定书)."""
    session = get_session()
    measure = measures.get_measure(session, actor(), measure_id)
    if query["format"] == "html":
        page = render_template("measures/decision.html",
                               **decision_context(session, actor(), measure))
        return Response(page, mimetype="text/html")
    return measures.measure_dict(measure)


@blp.route("/measures/legal-bases", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.LegalBasisList)
def list_legal_bases():
    """The usual legal bases offered as choices (source named in the answer)."""
    items = legal_bases.choices()
    return {"items": items, "total": len(items), "source": legal_bases.SOURCE}
