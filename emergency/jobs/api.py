"""JSON API of background jobs: a user's own jobs (an administrator's: all), and cancel."""

from marshmallow import Schema, fields, validate

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import EVERYONE
from emergency.db import get_session
from emergency.jobs import service
from emergency.jobs.models import STATUSES
from emergency.jsonbody import Blueprint
from emergency.schemas import PageQuery, items_schema

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Background jobs")


class JobQuery(PageQuery):
    """Filters of GET /jobs."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.Length(1, 80))


class JobOut(Schema):
    """One background job."""

    id = fields.Integer()
    kind = fields.String(metadata={"description": "e.g. risk.run_assessment"})
    subject_id = fields.Integer(allow_none=True,
                                metadata={"description": "the record it works on"})
    owner = fields.String()
    status = fields.String(metadata={"description": "|".join(STATUSES)})
    progress = fields.Float(allow_none=True, metadata={"description": "0..1, when reported"})
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    cancel_requested = fields.Boolean()
    cancellable = fields.Boolean()
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)


@blp.route("/jobs", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(JobQuery, location="query")
@blp.response(200, items_schema(JobOut, "JobList"))
def list_jobs(query):
    """The caller's background jobs, newest first (administrators see everyone's)."""
    rows, total = service.list_jobs(get_session(), actor(), **query)
    return {"items": [service.job_dict(r) for r in rows], "total": total}


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, JobOut)
def get_job(job_id):
    """One job with its status and progress."""
    return service.job_dict(service.get_job(get_session(), job_id, actor()))


@blp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@allow(EVERYONE)
@blp.response(200, JobOut)
def cancel_job(job_id):
    """Cancel a queued job, or ask a running one to stop (409 once it has ended)."""
    return service.job_dict(service.cancel(get_session(), job_id, actor()))
