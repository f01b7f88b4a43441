"""What import and export jobs keep in the shared file store: the upload a request hands to
its job, and the file an export job makes for its owner to download.

Keys are write-once (emergency.files): an upload gets a fresh random folder, an export's file
is named by its job record, so a retried export puts the same key again (a no-op).
"""

import os
import re
import uuid

from emergency.files import app_store

UPLOADS = "jobs/uploads"
RESULTS = "jobs/results"


def safe_name(name, default="file"):
    """A file name fit for a key and a download: no folders, no odd characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = re.sub(r"[^\w.\-]+", "_", base)[:120].strip("._")
    return base or default


def keep_upload(session, source, filename):
    """Keep an uploaded file (bytes or a binary file) for a job; its key. On the database
    store it commits with the job record that names it, or not at all."""
    key = f"{UPLOADS}/{uuid.uuid4().hex}/{safe_name(filename)}"
    app_store(session).put(key, source)
    return key


def fetch_upload(session, key, folder):
    """Copy a kept upload into ``folder`` (keeping its suffix, which names its format); the
    path."""
    stored = app_store(session).open(key)
    path = os.path.join(folder, "upload" + os.path.splitext(key)[1].lower())
    with open(path, "wb") as out:
        for piece in stored.chunks():
            out.write(piece)
    return path


def drop_upload(session, key):
    """Remove a kept upload once its job has ended (nothing when it is gone already)."""
    if key:
        app_store(session).delete(key)


def keep_result(session, record_id, data, filename, content_type):
    """Keep the file a job made under a key of its record; the ``file`` part of its result."""
    key = f"{RESULTS}/{record_id}/{safe_name(filename)}"
    app_store(session).put(key, data, content_type)
    return {"key": key, "name": safe_name(filename), "content_type": content_type,
            "size": len(data)}


def open_result(session, record):
    """The stored file of a finished job's result, or None when it made none."""
    file = (record.result or {}).get("file")
    if not file:
        return None
    return app_store(session).open(file["key"])
