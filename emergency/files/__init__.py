"""The file store every app host shares: photos and other kept uploads (issue 21).

One small interface (``emergency.files.store``), three kinds chosen by ``FILE_STORE``:
``database`` (the default: chunks in a table, on both backends), ``s3`` (an S3-compatible
object store) and ``folder`` (a local folder: one host only, for development and for files
of older versions still on disk).
"""

from flask import Response, current_app, stream_with_context

from emergency.files.store import CHUNK_BYTES, DatabaseStore, FileStore, FolderStore, StoredObject

KINDS = ("database", "s3", "folder")

__all__ = ["KINDS", "DatabaseStore", "FileStore", "FolderStore", "StoredObject", "app_store",
           "from_config", "stored_file_response"]


def from_config(config):
    """The (unbound) store a configuration mapping names."""
    kind = config.get("FILE_STORE") or "database"
    chunk = config.get("FILE_CHUNK_BYTES") or CHUNK_BYTES
    if kind == "database":
        return DatabaseStore(chunk_bytes=chunk)
    if kind == "folder":
        return FolderStore(config["UPLOAD_FOLDER"], chunk_bytes=chunk)
    if kind == "s3":
        from emergency.files.s3 import S3Store  # boto3 is loaded only when configured

        return S3Store.from_config(config, chunk_bytes=chunk)
    raise ValueError(f"FILE_STORE must be one of {', '.join(KINDS)}, not {kind!r}")


def app_store(session=None):
    """The running app's store (made once per app), bound to ``session`` when given."""
    store = current_app.extensions.get("emergency.files")
    if store is None:
        store = current_app.extensions["emergency.files"] = from_config(current_app.config)
    return store.bind(session) if session is not None else store


def stored_file_response(stored, max_age=3600):
    """A response streaming a StoredObject piece by piece (privately cacheable: the key's
    bytes never change)."""
    response = Response(stream_with_context(stored.chunks()), mimetype=stored.content_type,
                        direct_passthrough=True)
    response.content_length = stored.size
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    if stored.sha256:
        response.set_etag(stored.sha256)
    return response
