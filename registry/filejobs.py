"""Large roster imports and exports as background jobs (issue 21), beside the synchronous
routes of the contract.

The request checks what it can at once (the team, the user's right to it, that a file came)
and keeps the upload in the shared file store with a queued job record, in one transaction.
A worker on any host reads it back and imports every row in one transaction that also
writes the job's result: all rows or none (a bad row fails the job with its report), and a
run retried after its worker died finds the result there and imports nothing twice. An
export keeps the .xlsx it makes under a key of its job record for its owner to download.
"""

import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.errors import Invalid
from emergency.files import app_store
from emergency.jobs import owners, results
from emergency.jobs import service as jobs
from emergency.jobs.kinds import JobKind
from registry import crypto, roster
from registry.members import check_reveal
from registry.service import check_read, check_write, team_org_id

IMPORT_KIND = "registry.import_roster"
EXPORT_KIND = "registry.export_roster"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def queue_import(session, user, team_id, upload, filename):
    """Keep a roster upload and queue its import; the job record. The team, the right to
    change it and the presence of a file are checked at once; the rows by the job."""
    check_write(user, team_org_id(session, team_id), session)
    if upload is None:
        raise Invalid("upload an .xlsx file in the field 'file'", {"file": ["required"]})
    key = results.keep_upload(session, upload, filename or "roster.xlsx")
    return jobs.submit(session, IMPORT_KIND, user.username, subject_id=team_id, upload=key,
                       source_name=(filename or "")[:200])


def run_import(job):
    """Import the kept roster in one transaction with the job's result (once)."""
    if job.stored_before():
        return  # an earlier run imported it and let its upload go
    key = job.args["upload"]
    data = job.short(lambda s: b"".join(app_store(s).open(key).chunks()), readonly=True)
    job.progress(0.2)

    def work(session):
        user = owners.active_owner(session, job.actor)
        count = roster.import_roster(session, crypto.app_cipher(), user, job.subject_id,
                                     io.BytesIO(data))
        results.drop_upload(session, key)
        return {"team_id": job.subject_id, "imported": count,
                "source_name": job.args.get("source_name", "")}

    job.finish_once(work)


def import_ended(session, record):
    """A failed or cancelled import lets its kept upload go."""
    results.drop_upload(session, (record.args or {}).get("upload"))


def queue_export(session, user, team_id, reveal=False):
    """Queue an export of a team's roster (NotFound/Forbidden at once, as the synchronous
    export answers); revealed only for a role allowed to, the reveal audited by the job."""
    org_id = team_org_id(session, team_id)
    check_read(user, org_id)
    if reveal:
        check_reveal(user, org_id)
    return jobs.submit(session, EXPORT_KIND, user.username, subject_id=team_id,
                       reveal=bool(reveal))


def run_export(job):
    """Write the roster .xlsx and keep it in the store with the job's result (once)."""
    if job.stored_before():
        return
    reveal = bool(job.args.get("reveal"))
    filename = f"team-{job.subject_id}-roster.xlsx"

    def work(session):
        # One transaction: the file, the audit of a reveal, and the result go together.
        user = owners.active_owner(session, job.actor)
        data = roster.export_roster(session, crypto.app_cipher(), user, job.subject_id, reveal)
        file = results.keep_result(session, job.record_id, data, filename, XLSX)
        return {"file": file, "team_id": job.subject_id, "revealed": reveal}

    job.finish_once(work)


def describe_import(result):
    """What the jobs page says of a done roster import."""
    return _("%(count)d members imported.", count=result.get("imported", 0))


def describe_export(result):
    """What the jobs page says of a done roster export."""
    return _("Roster of team %(id)s, ready to download.", id=result.get("team_id", ""))


JOBS = (
    JobKind(IMPORT_KIND, run_import, _l("Roster import"), on_end=import_ended,
            link=("registry_pages.team", "team_id"), describe=describe_import),
    JobKind(EXPORT_KIND, run_export, _l("Roster export"),
            link=("registry_pages.team", "team_id"), describe=describe_export),
)
