"""JSON API for incidents, recommendations, dispatches, requisitions and compensation."""

import io

from flask import current_app, jsonify, send_file

from emergency.audit import service as audit
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_session, replica_session
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema
from incidents import compensation as claims
from incidents import dispatch as dispatches
from incidents import onscene, schemas
from incidents import service as incidents
from incidents.reports import deadline
from incidents.reports import schemas as report_schemas
from incidents.reports import service as reports
from registry.crypto import app_cipher

blp = Blueprint("incidents", __name__, url_prefix="/api/v1",
                description="Incidents, dispatch of rescue teams, requisitions, compensation")

WRITERS = (ADMIN, DISPATCHER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_minutes():
    """INCIDENT_REPORT_MINUTES: the initial report is due this long after opening."""
    return current_app.config["INCIDENT_REPORT_MINUTES"]


def _incident_out(session, incident):
    """An incident as the API shows it, with the state of its information reports."""
    return {**incidents.incident_dict(session, incident),
            **deadline.state_of(session, incident, _report_minutes())}


def _rate_overrides():
    """The configured compensation rates (INCIDENT_COMPENSATION_RATES), if any."""
    return current_app.config.get("INCIDENT_COMPENSATION_RATES") or {}


@blp.route("/incidents", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.IncidentIn)
@blp.response(201, schemas.IncidentOut)
def create_incident(body):
    """Open an incident; the applicable plan and response level are found at once."""
    session = get_session()
    incident = incidents.create_incident(session, actor(), **body)
    return _incident_out(session, incident)


@blp.route("/incidents/evaluate", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.IncidentEvaluate)
@blp.response(200, schemas.EvaluationOut)
def evaluate_incident(body):
    """The plan and response level that would apply to such an incident; nothing stored."""
    return incidents.evaluate_incident(get_session(), actor(), **body)


@blp.route("/incidents", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.IncidentQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_incidents(query):
    """Incidents as a FeatureCollection (filters status, since, incident_type, bbox)."""
    records, total = incidents.list_incidents(replica_session(), actor(),
                                              report_minutes=_report_minutes(), **query)
    features = [feature(r["id"], r["geometry"], {k: v for k, v in r.items()
                                                 if k != "geometry"}) for r in records]
    for f in features:
        f["properties"]["occurred_at"] = f["properties"]["occurred_at"].isoformat()
    return geojson_response(feature_collection(features, total))


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.IncidentOut)
def get_incident(incident_id):
    """One incident with its plan, level, forces still missing and report state."""
    session = get_session()
    return _incident_out(session, incidents.incident_in_scope(session, actor(), incident_id))


@blp.route("/incidents/<int:incident_id>", methods=["PATCH"])
@allow(WRITERS)
@blp.arguments(schemas.IncidentPatch)
@blp.response(200, schemas.IncidentOut)
def update_incident(body, incident_id):
    """Change title, metrics (the level is re-evaluated; a note gives the reason) or status
    (open/responding; closing is POST /incidents/{id}/close)."""
    session = get_session()
    incident = incidents.update_incident(session, actor(), incident_id, **body)
    return _incident_out(session, incident)


@blp.route("/incidents/<int:incident_id>/transition", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.IncidentTransition)
@blp.response(200, schemas.IncidentOut)
def transition_incident(body, incident_id):
    """Move an incident between open and responding (closing: POST .../close)."""
    session = get_session()
    incident = incidents.transition_incident(session, actor(), incident_id, body["to"],
                                             body["note"])
    return _incident_out(session, incident)


@blp.route("/incidents/<int:incident_id>/close", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.IncidentClose)
@blp.response(200, schemas.IncidentOut)
def close_incident(body, incident_id):
    """Close with the after-action record; 409 while a dispatch is active."""
    session = get_session()
    incident = incidents.close_incident(session, actor(), incident_id, **body)
    return _incident_out(session, incident)


@blp.route("/incidents/<int:incident_id>/timeline", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.TimelineOut)
def incident_timeline(incident_id):
    """What happened, oldest first: metrics, level changes, dispatch steps, claims."""
    events = incidents.timeline(get_session(), actor(), incident_id)
    return {"items": events, "total": len(events)}


@blp.route("/incidents/<int:incident_id>/reports", methods=["POST"])
@allow(WRITERS)
@blp.arguments(report_schemas.ReportIn)
@blp.response(201, report_schemas.ReportOut)
def create_report(body, incident_id):
    """Make the incident's next information report: initial (首报, once), follow-up (续报,
    after the initial) or final (终报, closes the series; the incident must be closed)."""
    report = reports.create_report(get_session(), actor(), incident_id,
                                   minutes=_report_minutes(), **body)
    return reports.report_dict(report)


@blp.route("/incidents/<int:incident_id>/reports", methods=["GET"])
@allow(BUREAU)
@blp.response(200, report_schemas.ReportList)
def list_reports(incident_id):
    """The incident's information reports in order, whether the initial report is overdue,
    and which kinds may come next."""
    return reports.list_reports(get_session(), actor(), incident_id, _report_minutes())


@blp.route("/incidents/<int:incident_id>/recommendations", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.RecommendationQuery, location="query")
@blp.response(200, schemas.RecommendationsOut)
def recommendations(query, incident_id):
    """The nearest qualifying teams, and nearby teams left out with the reason."""
    result = incidents.incident_recommendations(
        get_session(), actor(), incident_id, query.get("category"), query["limit"],
        query.get("radius_km"), current_app.config["REQUIRE_INSURED_DISPATCH"])
    # The service already builds exactly what RecommendationsOut dumps (plain ints, floats
    # and strings; a test holds them equal), so skip marshmallow on this hot path: a
    # Response passes through @blp.response, which still documents the schema.
    return jsonify(result)


@blp.route("/incidents/<int:incident_id>/dispatches", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.DispatchIn)
@blp.response(201, schemas.DispatchOut)
def create_dispatch(body, incident_id):
    """Request a team; a team already on an active dispatch gives 409."""
    session = get_session()
    dispatch = dispatches.create_dispatch(
        session, actor(), incident_id, require_insured=
        current_app.config["REQUIRE_INSURED_DISPATCH"], **body)
    return dispatches.dispatch_dict(session, dispatch)


@blp.route("/incidents/<int:incident_id>/dispatches", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.DispatchList)
def incident_dispatches(incident_id):
    """Dispatches of an incident."""
    session = get_session()
    incidents.incident_in_scope(session, actor(), incident_id)
    items, total = dispatches.list_dispatches(session, actor(), incident_id=incident_id,
                                              limit=1000)
    return {"items": items, "total": total}


@blp.route("/dispatches", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.arguments(schemas.DispatchQuery, location="query")
@blp.response(200, schemas.DispatchList)
def list_dispatches(query):
    """Dispatches in the caller's scope (an org_admin sees their own teams')."""
    items, total = dispatches.list_dispatches(get_session(), actor(), **query)
    return {"items": items, "total": total}


@blp.route("/dispatches/<int:dispatch_id>", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.response(200, schemas.DispatchOut)
def get_dispatch(dispatch_id):
    """One dispatch."""
    return dispatches.get_dispatch(get_session(), actor(), dispatch_id)


@blp.route("/dispatches/<int:dispatch_id>/transition", methods=["POST"])
@allow(ADMIN, DISPATCHER, ORG_ADMIN)
@blp.arguments(schemas.DispatchTransition)
@blp.response(200, schemas.DispatchOut)
def transition_dispatch(body, dispatch_id):
    """Answer or advance a dispatch; the team's status follows."""
    session = get_session()
    dispatch = dispatches.transition(session, actor(), dispatch_id, body["to"], body["note"])
    return dispatches.dispatch_dict(session, dispatch)


@blp.route("/dispatches/<int:dispatch_id>/members", methods=["POST"])
@allow(ADMIN, ORG_ADMIN)
@blp.arguments(schemas.MembersIn)
@blp.response(200, schemas.DispatchMemberList)
def name_members(body, dispatch_id):
    """Name the members who go (the whole list; the team's org_admin or an admin)."""
    items = onscene.name_members(get_session(), actor(), dispatch_id, body["member_ids"])
    return {"items": items, "total": len(items)}


@blp.route("/dispatches/<int:dispatch_id>/members", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.response(200, schemas.DispatchMemberList)
def dispatch_members(dispatch_id):
    """The members named on a dispatch, on scene or not, and their hours there."""
    items = onscene.members_of(get_session(), actor(), dispatch_id)
    return {"items": items, "total": len(items)}


@blp.route("/dispatches/<int:dispatch_id>/checkins", methods=["POST"])
@allow(ADMIN, DISPATCHER, ORG_ADMIN)
@blp.arguments(schemas.CheckinIn)
@blp.response(201, schemas.CheckinOut)
def check_in_or_out(body, dispatch_id):
    """Record a member's arrival (in) or departure (out) at the scene."""
    where = body.get("location")
    return onscene.check(get_session(), actor(), dispatch_id, body["member_id"], body["kind"],
                         where.x if where is not None else None,
                         where.y if where is not None else None)


@blp.route("/dispatches/<int:dispatch_id>/checkins", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.response(200, schemas.CheckinList)
def dispatch_checkins(dispatch_id):
    """The check-ins and outs of a dispatch, oldest first."""
    items = onscene.checkins_of(get_session(), actor(), dispatch_id)
    return {"items": items, "total": len(items)}


@blp.route("/members/<int:member_id>/service", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.response(200, schemas.ServiceOut)
def member_service(member_id):
    """A member's volunteer service hours, in all and per dispatch."""
    return onscene.service_hours(get_session(), actor(), member_id)


@blp.route("/incidents/<int:incident_id>/requisitions", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.RequisitionIn)
@blp.response(201, schemas.RequisitionOut)
def create_requisition(body, incident_id):
    """Requisition property under a numbered written order."""
    requisition = dispatches.create_requisition(get_session(), app_cipher(), actor(),
                                                incident_id, **body)
    return dispatches.requisition_dict(requisition)


@blp.route("/incidents/<int:incident_id>/requisitions", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.RequisitionList)
def list_requisitions(incident_id):
    """The register of what was requisitioned for an incident."""
    items = dispatches.list_requisitions(get_session(), actor(), incident_id)
    return {"items": items, "total": len(items)}


@blp.route("/requisitions/<int:requisition_id>", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.RequisitionOut)
def get_requisition(requisition_id):
    """One requisition."""
    return dispatches.requisition_dict(dispatches.get_requisition(get_session(), actor(),
                                                                  requisition_id))


@blp.route("/requisitions/<int:requisition_id>/return", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.RequisitionReturn)
@blp.response(200, schemas.RequisitionOut)
def return_requisition(body, requisition_id):
    """Record that requisitioned property came back, and in what condition."""
    requisition = dispatches.return_requisition(get_session(), actor(), requisition_id,
                                                **body)
    return dispatches.requisition_dict(requisition)


@blp.route("/dispatches/<int:dispatch_id>/compensation/prefill", methods=["GET"])
@allow(ADMIN, DISPATCHER, ORG_ADMIN)
@blp.response(200, schemas.PrefillOut)
def prefill(dispatch_id):
    """Personnel days, meals and lodging pre-filled from the rate table."""
    return claims.prefill(get_session(), actor(), dispatch_id, _rate_overrides())


@blp.route("/dispatches/<int:dispatch_id>/compensation", methods=["POST"])
@allow(ADMIN, DISPATCHER, ORG_ADMIN)
@blp.arguments(schemas.ClaimIn)
@blp.response(201, schemas.ClaimOut)
def claim_dispatch(body, dispatch_id):
    """Submit a compensation claim for a dispatch."""
    session = get_session()
    claim = claims.claim_for_dispatch(session, actor(), dispatch_id, body["items"])
    return claims.claim_dict(session, claim)


@blp.route("/requisitions/<int:requisition_id>/compensation", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.ClaimIn)
@blp.response(201, schemas.ClaimOut)
def claim_requisition(body, requisition_id):
    """Submit a compensation claim for requisitioned property."""
    session = get_session()
    claim = claims.claim_for_requisition(session, actor(), requisition_id, body["items"])
    return claims.claim_dict(session, claim)


@blp.route("/compensations/<int:claim_id>", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.response(200, schemas.ClaimOut)
def get_claim(claim_id):
    """One claim with its items."""
    return claims.get_claim(get_session(), actor(), claim_id)


@blp.route("/compensations/<int:claim_id>/review", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.ReviewIn)
@blp.response(200, schemas.ClaimOut)
def review_claim(body, claim_id):
    """Approve or reject a submitted claim."""
    session = get_session()
    claim = claims.review(session, actor(), claim_id, body["decision"], body["note"])
    return claims.claim_dict(session, claim)


@blp.route("/compensations/<int:claim_id>/appeal", methods=["POST"])
@allow(claims.SUBMITTERS)
@blp.arguments(schemas.AppealIn)
@blp.response(200, schemas.ClaimOut)
def appeal_claim(body, claim_id):
    """Appeal a rejected claim with a reason (the claimant, once); another administrator
    than the one who rejected it decides (POST .../review)."""
    session = get_session()
    claim = claims.appeal(session, actor(), claim_id, body["reason"])
    return claims.claim_dict(session, claim)


@blp.route("/compensations/<int:claim_id>/pay", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.PayIn, required=False)
@blp.response(200, schemas.ClaimOut)
def pay_claim(body, claim_id):
    """Record the payment of an approved claim."""
    session = get_session()
    claim = claims.pay(session, actor(), claim_id, (body or {}).get("note", ""))
    return claims.claim_dict(session, claim)


@blp.route("/compensations", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.arguments(schemas.LedgerQuery, location="query")
@blp.response(200, schemas.LedgerOut)
def ledger(query):
    """The ledger (filters status, from, to, org_id, incident_id); format=xlsx exports it."""
    session = get_session()
    fmt = query.pop("format")
    book = claims.ledger(session, actor(), **query)
    if fmt != "xlsx":
        return book
    audit.record(session, "compensation.export", "compensation", None,
                 {k: str(v) for k, v in query.items()})
    return send_file(io.BytesIO(claims.ledger_xlsx(book)), mimetype=XLSX, as_attachment=True,
                     download_name="compensation-ledger.xlsx")
