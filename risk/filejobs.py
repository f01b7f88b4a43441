"""Large layer imports and cell exports as background jobs (issue 21).

The request keeps the uploaded file in the shared file store and queues a job record in one
transaction; any worker on any host takes it. The import reads the file, checks it and stores
every feature in one transaction that also writes the job's result, so it is all or nothing
and a run retried after its worker died finds the result there and imports nothing twice.
An export keeps the file it makes in the store, under a key of its job record, for its owner
to download from the jobs page (or ``GET /api/v1/jobs/{id}/result``).
"""

import tempfile

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.audit import service as audit
from emergency.jobs import results
from emergency.jobs import service as jobs
from emergency.jobs.kinds import JobKind
from risk import layers, reports

IMPORT_KIND = "risk.import_layer"
EXPORT_KIND = "risk.export_cells"
SUMMARY_KIND = "risk.export_summary"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The form fields of POST /layers a job carries to import_layer.
LAYER_ARGS = ("name", "role", "value_field", "likelihood_field", "consequence_field", "crs",
              "encoding", "layer", "repair")
EXPORT_TYPES = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json"}


def queue_import(session, upload, filename, form, actor):
    """Keep the upload in the file store and queue its import; the job record. The form is
    checked first (Invalid at once); the file's content is checked by the job."""
    layers.check_form(form.get("name"), form.get("role"), form.get("value_field"),
                      form.get("likelihood_field"), form.get("consequence_field"))
    key = results.keep_upload(session, upload, filename)
    args = {k: form.get(k) for k in LAYER_ARGS if form.get(k) not in (None, "")}
    return jobs.submit(session, IMPORT_KIND, actor, upload=key, source_name=filename, **args)


def run_import(job):
    """Import the kept file in one transaction with the job's result (once)."""
    if job.stored_before():
        return  # an earlier run imported it and let its upload go
    args = dict(job.args)
    key = args.pop("upload")
    source_name = args.pop("source_name", None)
    name, role = args.pop("name", ""), args.pop("role", "")
    with tempfile.TemporaryDirectory(prefix="layer-job-") as folder:
        path = job.short(lambda s: results.fetch_upload(s, key, folder), readonly=True)
        job.progress(0.1)

        def work(session):
            record, repaired = layers.import_layer(session, path, name, role, actor=job.actor,
                                                   source_name=source_name, **args)
            results.drop_upload(session, key)
            return {"subject_id": record.id, "layer_id": record.id, "name": record.name,
                    "features": record.feature_count, "repaired": repaired[:100]}

        job.finish_once(work)


def queue_export(session, assessment_id, fmt, actor):
    """Queue an export of a done run's cells (NotFound/Conflict when it has none)."""
    reports.check_exportable(session, assessment_id)
    return jobs.submit(session, EXPORT_KIND, actor, subject_id=assessment_id, format=fmt)


def run_export(job):
    """Write the cells file and keep it in the store with the job's result (once)."""
    if job.stored_before():
        return
    fmt = job.args.get("format", "gpkg")
    data, filename = job.short(lambda s: reports.export_cells(s, job.subject_id, fmt),
                               readonly=True)
    job.progress(0.8)

    def work(session):
        file = results.keep_result(session, job.record_id, data, filename, EXPORT_TYPES[fmt])
        audit.record(session, "risk_assessment.export", "risk_assessment", job.subject_id,
                     {"format": fmt, "what": "cells", "job": job.record_id})
        return {"file": file, "cells_of": job.subject_id}

    job.finish_once(work)


def queue_summary_export(session, assessment_id, actor):
    """Queue the .xlsx of a done run's summary (NotFound/Conflict when it has none)."""
    reports.check_exportable(session, assessment_id)
    return jobs.submit(session, SUMMARY_KIND, actor, subject_id=assessment_id, format="xlsx")


def run_summary_export(job):
    """Write the summary workbook and keep it in the store with the job's result (once)."""
    if job.stored_before():
        return
    data, filename = job.short(lambda s: reports.summary_xlsx(s, job.subject_id),
                               readonly=True)
    job.progress(0.8)

    def work(session):
        file = results.keep_result(session, job.record_id, data, filename, XLSX)
        audit.record(session, "risk_assessment.export", "risk_assessment", job.subject_id,
                     {"format": "xlsx", "what": "summary", "job": job.record_id})
        return {"file": file, "summary_of": job.subject_id}

    job.finish_once(work)


def import_ended(session, record):
    """A failed or cancelled import lets its kept upload go."""
    results.drop_upload(session, (record.args or {}).get("upload"))


def describe_import(result):
    """What the jobs page says of a done import."""
    return _("Layer %(name)s imported: %(n)s features.", name=result.get("name", ""),
             n=result.get("features", 0))


def describe_export(result):
    """What the jobs page says of a done export."""
    return _("Cells of assessment %(id)s, ready to download.", id=result.get("cells_of", ""))


def describe_summary(result):
    """What the jobs page says of a done summary export."""
    return _("Summary of assessment %(id)s, ready to download.",
             id=result.get("summary_of", ""))


JOBS = (
    JobKind(IMPORT_KIND, run_import, _l("Layer import"), on_end=import_ended,
            link=("risk_pages.index", "layer_id"), describe=describe_import),
    JobKind(EXPORT_KIND, run_export, _l("Risk cells export"), describe=describe_export),
    JobKind(SUMMARY_KIND, run_summary_export, _l("Risk summary export"),
            describe=describe_summary),
)
