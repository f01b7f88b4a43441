"""The /jobs page: a user's background jobs (an administrator's: everyone's) with status,
progress and cancel."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from emergency import listing as paging
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.errors import DomainError, error_body
from emergency.i18n import translate_message
from emergency.jobs import kinds, service
from emergency.jobs.models import STATUSES
from emergency.vocabulary import local_minute

bp = Blueprint("jobs_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/jobs/static")

# In the menu of the roles that start jobs today (risk runs); the page answers everyone.
NAV = [("jobs_pages.index", _l("Background jobs"), {ADMIN, PLANNER})]

STATUS_LABELS = {"queued": lazy_pgettext("job status", "Queued"),
                 "running": lazy_pgettext("job status", "Running"),
                 "done": lazy_pgettext("job status", "Done"),
                 "failed": lazy_pgettext("job status", "Failed"),
                 "cancelled": lazy_pgettext("job status", "Cancelled")}


def _row(record):
    """A job as the page shows it: its kind's name, status words, Beijing times, a link."""
    kind = kinds.KINDS.get(record.kind)
    link = None
    if kind is not None and kind.link and record.subject_id is not None \
            and record.status == "done":
        endpoint, argument = kind.link
        link = url_for(endpoint, **{argument: record.subject_id})
    data = service.job_dict(record)
    done = record.status == "done" and record.result is not None
    file = (record.result or {}).get("file") if done else None
    data.update(summary=kind.describe(record.result) if done and kind and kind.describe
                else "",
                download=url_for("jobs.job_result", job_id=record.id) if file else None,
                download_name=file.get("name", "") if file else "",
                download_size=_size(file.get("size")) if file else "",
                label=str(kind.label) if kind else record.kind,
                status_label=str(STATUS_LABELS.get(record.status, record.status)),
                created=local_minute(record.created_at),
                finished=local_minute(record.finished_at) if record.finished_at else "",
                link=link)
    problem = (record.result or {}).get("error") if record.status == "failed" else None
    if isinstance(problem, dict):
        data["error"] = _failure(problem)
    return data


def _failure(problem):
    """A failed job's reason in the reader's language, from the error it kept (code, message,
    details; the worker wrote its ``error`` text outside any request, so in English): the
    page then reads as the 422 of the same import would."""
    body = error_body(422, problem.get("code", "invalid"), problem.get("message", ""),
                      problem.get("details"))["error"]
    texts = _texts(body["details"])
    return body["message"] + (" — " + " | ".join(texts) if texts else "")


def _texts(details):
    """Every message of an error's details, in order (lists and nested fields flattened)."""
    if isinstance(details, dict):
        return [text for value in details.values() for text in _texts(value)]
    if isinstance(details, list | tuple):
        return [text for value in details for text in _texts(value)]
    return [str(details)]


def _size(size):
    """A file size for people (KB/MB)."""
    size = int(size or 0)
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(size, 1) / 1024:.0f} KB"


@bp.route("/jobs")
@allow(EVERYONE)
def index():
    """The caller's jobs, newest first, filtered by status, paged."""
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    limit = paging.page_size(request.args.get("limit"))
    offset = paging.int_arg(request.args.get("offset"), 0, 0, 10_000_000)
    rows, total = service.list_jobs(get_session(), actor(), status=status, limit=limit,
                                    offset=offset)
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "jobs/index.html", rows=[_row(r) for r in rows], total=total, status=status,
        statuses=[(s, str(STATUS_LABELS[s])) for s in STATUSES], limit=limit,
        everyone=actor().role == ADMIN,
        page_links=paging.page_links(total, limit, offset),
        page_url=lambda o: url_for(".index", **args, offset=o),
        texts={s: str(STATUS_LABELS[s]) for s in STATUSES})


@bp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@allow(EVERYONE)
def cancel(job_id):
    """Cancel one job from the page."""
    try:
        record = service.cancel(get_session(), job_id, actor())
        if record.status == "cancelled":
            flash(_("Job %(id)s cancelled.", id=job_id), "success")
        else:
            flash(_("Job %(id)s will stop at its next step.", id=job_id), "info")
    except DomainError as exc:
        flash(translate_message(exc.message), "danger")
    return redirect(url_for(".index", status=request.args.get("status") or None))
