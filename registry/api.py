"""JSON API of the registry of social rescue forces."""

import io

from flask import current_app, request, send_file

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, ORG_ADMIN
from emergency.db import get_session, replica_session
from emergency.geo.schemas import PickItem, PickQuery
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jobs import api as jobs_api
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema, items_schema
from registry import crypto, filejobs, listing, members, roster, schemas, service, teams

blp = Blueprint("registry", __name__, url_prefix="/api/v1",
                description="Registry of social rescue forces: organisations, teams, members")

READERS = BUREAU | {ORG_ADMIN}
WRITERS = frozenset({ADMIN, ORG_ADMIN})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def region():
    """The served region (SERVED_BBOX) that team and organisation locations must lie in."""
    return current_app.config["SERVED_BBOX"]


@blp.route("/orgs", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.OrgIn)
@blp.response(201, schemas.OrgOut)
def register_org(body):
    """Register an organisation (status submitted); an org_admin without one becomes its admin."""
    session, user = get_session(), actor()
    org = service.register_org(session, crypto.app_cipher(), user, region=region(), **body)
    return service.get_org(session, user, org.id)


@blp.route("/orgs", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.OrgQuery, location="query")
@blp.response(200, schemas.OrgList)
def list_orgs(query):
    """Organisations (filters status, q, area_code, reverification_due)."""
    items, total = service.list_orgs(get_session(), actor(), **query)
    return {"items": items, "total": total}


@blp.route("/orgs/<int:org_id>", methods=["GET"])
@allow(READERS)
@blp.response(200, schemas.OrgOut)
def get_org(org_id):
    """One organisation."""
    return service.get_org(get_session(), actor(), org_id)


@blp.route("/orgs/<int:org_id>", methods=["PATCH"])
@allow(WRITERS)
@blp.arguments(schemas.OrgPatch)
@blp.response(200, schemas.OrgOut)
def update_org(body, org_id):
    """Edit an organisation's registration details."""
    session, user = get_session(), actor()
    service.update_org(session, crypto.app_cipher(), user, org_id, region=region(), **body)
    return service.get_org(session, user, org_id)


@blp.route("/orgs/<int:org_id>/review", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.OrgReviewIn)
@blp.response(200, schemas.OrgOut)
def review_org(body, org_id):
    """Approve or reject a submitted registration."""
    session, user = get_session(), actor()
    service.review_org(session, user, org_id, **body)
    return service.get_org(session, user, org_id)


@blp.route("/orgs/review", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.OrgBatchReviewIn)
@blp.response(200, schemas.OrgList)
def review_orgs(body):
    """Approve or reject several submitted registrations at once: all or none (409 naming
    those already decided); a rejection needs its reason; each decision is audited."""
    session, user = get_session(), actor()
    decided = service.review_orgs(session, user, body["ids"], body["decision"], body["note"])
    items = [service.get_org(session, user, org.id) for org in decided]
    return {"items": items, "total": len(items)}


@blp.route("/orgs/<int:org_id>/resubmit", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.OrgResubmitIn)
@blp.response(200, schemas.OrgOut)
def resubmit_org(body, org_id):
    """Send a rejected registration (or one due for re-verification) back for review."""
    session, user = get_session(), actor()
    service.resubmit_org(session, user, org_id, **body)
    return service.get_org(session, user, org_id)


@blp.route("/orgs/<int:org_id>/teams", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.TeamIn)
@blp.response(201, schemas.TeamOut)
def create_team(body, org_id):
    """Add a team to an organisation (status available)."""
    session, user = get_session(), actor()
    team = teams.create_team(session, user, org_id, region=region(), **body)
    return teams.get_team(session, user, team.id)


@blp.route("/teams", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.TeamQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_teams(query):
    """Teams as a FeatureCollection (filters category, status, org_id, bbox)."""
    records, total = teams.list_teams(replica_session(), actor(), **query)
    features = [feature(r["id"], r["location"], {k: v for k, v in r.items() if k != "location"})
                for r in records]
    return geojson_response(feature_collection(features, total))


@blp.route("/teams/<int:team_id>", methods=["GET"])
@allow(READERS)
@blp.response(200, schemas.TeamOut)
def get_team(team_id):
    """One team with equipment and readiness."""
    return teams.get_team(get_session(), actor(), team_id)


@blp.route("/teams/<int:team_id>", methods=["PATCH"])
@allow(WRITERS)
@blp.arguments(schemas.TeamPatch)
@blp.response(200, schemas.TeamOut)
def update_team(body, team_id):
    """Change a team (status, grade, location, radius, equipment...)."""
    session, user = get_session(), actor()
    teams.update_team(session, user, team_id, region=region(), **body)
    return teams.get_team(session, user, team_id)


@blp.route("/teams/<int:team_id>/members", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.MemberIn)
@blp.response(201, schemas.MemberOut)
def add_member(body, team_id):
    """Add a member; ID number and phone are verified, sealed and shown masked."""
    session, user = get_session(), actor()
    member = members.add_member(session, crypto.app_cipher(), user, team_id, **body)
    return members.get_member(session, crypto.app_cipher(), user, member.id)


@blp.route("/teams/<int:team_id>/members", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.MemberQuery, location="query")
@blp.response(200, schemas.MemberList)
def list_members(query, team_id):
    """A team's members, masked unless ?reveal=1 by an allowed role (audited)."""
    items, total = members.list_members(get_session(), crypto.app_cipher(), actor(), team_id,
                                        **query)
    return {"items": items, "total": total}


@blp.route("/teams/<int:team_id>/members/import", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.JobQuery, location="query")
@blp.response(201, schemas.RosterImportResult)
@blp.alt_response(202, description="with async=1: the queued import job (see GET /jobs/{id})")
def import_members(query, team_id):
    """Import an .xlsx roster (multipart field ``file``): every row or none. With
    ``async=1`` a background job imports it (202 with the job; its report lists bad rows)."""
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    if query["run_async"]:
        record = filejobs.queue_import(get_session(), actor(), team_id, stream,
                                       upload.filename if stream else "")
        return jobs_api.accepted(record)
    count = roster.import_roster(get_session(), crypto.app_cipher(), actor(), team_id, stream)
    return {"imported": count}


@blp.route("/teams/<int:team_id>/members/export", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.RevealQuery, location="query")
def export_members(query, team_id):
    """The roster as .xlsx, masked unless ?reveal=1 by an allowed role (audited)."""
    data = roster.export_roster(get_session(), crypto.app_cipher(), actor(), team_id,
                                query["reveal"])
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"team-{team_id}-roster.xlsx")


@blp.route("/teams/<int:team_id>/members/export", methods=["POST"])
@allow(READERS)
@blp.arguments(schemas.RevealQuery, location="query")
@blp.response(202, description="the queued export job; its file is downloaded from the "
              "job's result_url once it is done")
def queue_export_members(query, team_id):
    """Export the roster as .xlsx in a background job (same rules as the GET)."""
    record = filejobs.queue_export(get_session(), actor(), team_id, query["reveal"])
    return jobs_api.accepted(record)


@blp.route("/members/<int:member_id>", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.RevealQuery, location="query")
@blp.response(200, schemas.MemberOut)
def get_member(query, member_id):
    """One member, masked unless ?reveal=1 by an allowed role (audited)."""
    return members.get_member(get_session(), crypto.app_cipher(), actor(), member_id,
                              query["reveal"])


@blp.route("/members/<int:member_id>", methods=["PATCH"])
@allow(WRITERS)
@blp.arguments(schemas.MemberPatch)
@blp.response(200, schemas.MemberOut)
def update_member(body, member_id):
    """Correct a member's name, ID number, phone or skills (returned masked)."""
    session, user = get_session(), actor()
    members.update_member(session, crypto.app_cipher(), user, member_id, **body)
    return members.get_member(session, crypto.app_cipher(), user, member_id)


@blp.route("/members/<int:member_id>", methods=["DELETE"])
@allow(WRITERS)
@blp.response(204)
def delete_member(member_id):
    """Erase a member and their certificates, insurance and training attendance."""
    members.remove_member(get_session(), actor(), member_id)
    return ""


@blp.route("/members/<int:member_id>/insurance", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.InsuranceIn)
@blp.response(201, schemas.InsuranceOut)
def add_insurance(body, member_id):
    """Record an accident insurance policy of a member."""
    policy = members.add_insurance(get_session(), actor(), member_id, **body)
    return policy


@blp.route("/members/<int:member_id>/certificates", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.CertificateIn)
@blp.response(201, schemas.CertificateOut)
def add_certificate(body, member_id):
    """Record a certificate of a member."""
    return members.add_certificate(get_session(), actor(), member_id, **body)


@blp.route("/registry/expiring", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.ExpiringQuery, location="query")
@blp.response(200, schemas.ExpiringOut)
def expiring(query):
    """Insurance policies and certificates that end within ``days`` (default 30)."""
    return service.expiring(get_session(), actor(), **query)


@blp.route("/registry/person-lookup", methods=["POST"])
@allow(BUREAU)
@blp.arguments(schemas.PersonLookupIn)
@blp.response(200, schemas.PersonLookupOut)
def person_lookup(body):
    """Every membership of one person across organisations in the caller's district (found
    by keyed hash)."""
    return {"items": members.find_person(get_session(), crypto.app_cipher(), body["id_number"],
                                         actor())}


@blp.route("/trainings", methods=["POST"])
@allow(WRITERS)
@blp.arguments(schemas.TrainingIn)
@blp.response(201, schemas.TrainingOut)
def create_training(body):
    """Record a training session or joint drill."""
    session = get_session()
    user = actor()
    training = members.create_training(session, user, **body)
    return members.training_dict(session, training, user)


@blp.route("/trainings", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.TrainingQuery, location="query")
@blp.response(200, schemas.TrainingList)
def list_trainings(query):
    """Training sessions (filters team_id, year), newest first."""
    items, total = members.list_trainings(get_session(), actor(), **query)
    return {"items": items, "total": total}


@blp.route("/pick/orgs", methods=["GET"])
@allow(READERS)
@blp.arguments(PickQuery, location="query")
@blp.response(200, items_schema(PickItem, "OrgPickList"))
def pick_orgs(query):
    """Organisations for a picker: by name, pinyin initials, credit code or id (the caller's
    scope)."""
    found = listing.pick_orgs(get_session(), actor(), query["q"], query["limit"])
    items = [{"value": str(o["id"]), "label": o["name"], "name": o["name"],
              "hint": o["credit_code"]} for o in found]
    return {"items": items, "total": len(items)}
