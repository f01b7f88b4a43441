"""Large price observation imports as background jobs (issue 21), beside the synchronous
POST /prices/observations/import of the contract.

The request checks the file's type and size at once and keeps it in the shared file store
with a queued job record, in one transaction. A worker on any host imports every row in one
transaction that also writes the job's result: all rows or none (a bad row fails the job
with its report of rows and fields), and a run retried after its worker died finds the
result there and stores nothing twice (the same file again would change nothing anyway:
rows of an existing commodity, area, market and day replace their price).
"""

import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency import uploads
from emergency.errors import Invalid
from emergency.files import app_store
from emergency.jobs import owners, results
from emergency.jobs import service as jobs
from emergency.jobs.kinds import JobKind
from prices import catalogue, importer

IMPORT_KIND = "prices.import_observations"
SUFFIXES = ("xlsx", "csv", "txt")


def queue_import(session, user, filename, stream, defaults, max_bytes, max_rows):
    """Keep an observations file and queue its import; the job record. A missing, foreign
    or too large file is refused at once (422/413); its rows are checked by the job."""
    if stream is None:
        raise Invalid("upload a file in the field 'file'", {"file": ["required"]})
    if (filename or "").lower().rsplit(".", 1)[-1] not in SUFFIXES:
        raise Invalid("unsupported file type", {"file": ["expected an .xlsx or .csv file"]})
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise uploads.TooLarge("the file is too large", {"file": [f"at most {max_bytes} bytes"]})
    key = results.keep_upload(session, data, filename)
    return jobs.submit(session, IMPORT_KIND, user.username, upload=key,
                       source_name=(filename or "")[:200], max_bytes=max_bytes,
                       max_rows=max_rows, baseline_days=defaults.baseline_days,
                       alert_ratio=defaults.alert_ratio, min_days=defaults.min_days)


def run_import(job):
    """Import the kept file in one transaction with the job's result (once)."""
    if job.stored_before():
        return  # an earlier run imported it and let its upload go
    args = job.args
    key = args["upload"]
    data = job.short(lambda s: b"".join(app_store(s).open(key).chunks()), readonly=True)
    job.progress(0.2)
    defaults = catalogue.Defaults(baseline_days=args["baseline_days"],
                                  alert_ratio=args["alert_ratio"], min_days=args["min_days"])

    def work(session):
        user = owners.active_owner(session, job.actor)
        outcome = importer.import_file(session, user, args["source_name"], io.BytesIO(data),
                                       defaults, args["max_bytes"], args["max_rows"])
        results.drop_upload(session, key)
        raised = sum(1 for a in outcome.get("alerts", []) if a.get("raised"))
        return {key_: outcome[key_] for key_ in ("rows", "created", "updated", "unchanged")} | {
            "alerts_raised": raised, "source_name": args["source_name"]}

    job.finish_once(work)


def import_ended(session, record):
    """A failed or cancelled import lets its kept upload go."""
    results.drop_upload(session, (record.args or {}).get("upload"))


def describe_import(result):
    """What the jobs page says of a done import."""
    return _("Imported %(rows)s rows: %(created)s new, %(updated)s changed, %(unchanged)s "
             "unchanged.", **{k: result.get(k, 0) for k in ("rows", "created", "updated",
                                                            "unchanged")})


JOBS = (JobKind(IMPORT_KIND, run_import, _l("Price observations import"),
                on_end=import_ended, describe=describe_import),)
