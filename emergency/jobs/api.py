"""JSON API of background jobs: a user's own jobs (an administrator's: all), and cancel."""

from flask import jsonify, url_for
from marshmallow import Schema, fields, validate

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import EVERYONE
from emergency.db import get_session
from emergency.files import stored_file_response
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
    result = fields.Dict(allow_none=True, metadata={
        "description": "what the job produced: an import's report (e.g. layer_id, features), "
                       "an export's file (name, content_type, size); a failed import's "
                       "bad rows and fields under error"})
    result_url = fields.String(allow_none=True, metadata={
        "description": "where its owner downloads the file it made (done exports)"})


@blp.route("/jobs", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(JobQuery, location="query")
@blp.response(200, items_schema(JobOut, "JobList"))
def list_jobs(query):
    """The caller's background jobs, newest first (administrators see everyone's)."""
    rows, total = service.list_jobs(get_session(), actor(), **query)
    return {"items": [job_out(r) for r in rows], "total": total}


def job_out(record):
    """A job as the API shows it, with the URL of its file when it made one."""
    data = service.job_dict(record)
    has_file = record.status == "done" and (record.result or {}).get("file")
    data["result_url"] = url_for("jobs.job_result", job_id=record.id) if has_file else None
    return data


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, JobOut)
def get_job(job_id):
    """One job with its status and progress."""
    return job_out(service.get_job(get_session(), job_id, actor()))


@blp.route("/jobs/<int:job_id>/result", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, description="the file the job made (its owner or an administrator)")
def job_result(job_id):
    """Download the file a done export job made (404 when it made none)."""
    record, stored = service.result_file(get_session(), job_id, actor())
    response = stored_file_response(stored)
    response.headers.set("Content-Disposition", "attachment",
                         filename=record.result["file"].get("name") or "result")
    return response


@blp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@allow(EVERYONE)
@blp.response(200, JobOut)
def cancel_job(job_id):
    """Cancel a queued job, or ask a running one to stop (409 once it has ended)."""
    return job_out(service.cancel(get_session(), job_id, actor()))


def accepted(record, **extra):
    """The 202 answer of a request that queued a job: the job as GET /jobs/{id} shows it
    (plus ``extra``), with its URL in ``Location`` and ``url``."""
    url = url_for("jobs.get_job", job_id=record.id)
    response = jsonify({**JobOut().dump(job_out(record)), "url": url, **extra})
    response.status_code = 202
    response.headers["Location"] = url
    return response
