"""Backup and restore of every application table and the file store. No Flask here.

A backup is one zip file:
- ``manifest.json``: format version, schema revision, source backend, creation time, and for
  every table its row count and the SHA-256 of its data member; for every upload its checksum;
- ``tables/<name>.jsonl``: one JSON object per row, values encoded by column type (geometry
  as hex EWKB, timestamps as ISO 8601 with offset, decimals as strings, JSON as JSON);
- ``uploads/<key>``: the photos and other files of the file store (emergency.files), of
  whichever kind (the database store's own tables are not dumped as rows: a backup made
  with one kind of store restores into any other).

Restore checks every checksum before it writes anything, refuses a database that holds any
row, inserts in dependency order in one transaction and moves the id sequences past the
restored ids (where the backend keeps them apart from the table).
"""

import base64
import hashlib
import json
import os
import zipfile
import zlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from sqlalchemy import JSON, Date, DateTime, Float, LargeBinary, Numeric, func, select, text

from emergency import spatial
from emergency.db import utcnow
from emergency.domains import metadata
from emergency.errors import Conflict, Invalid
from emergency.files.models import StoredFile, StoredFileChunk
from emergency.files.store import FileStore, FolderStore, guess_type

FORMAT = "emergency-backup/1"
BATCH = 1000


# The database kind of the file store: its files travel as uploads/ members instead.
FILE_TABLES = {StoredFile.__tablename__, StoredFileChunk.__tablename__}
PIECE = 1 << 20


def tables():
    """Every application table dumped as rows, in dependency order (parents first)."""
    return [t for t in metadata().sorted_tables if t.name not in FILE_TABLES]


def file_store(files):
    """The FileStore a caller named: a store, a folder path (older callers), or None."""
    if files is None or isinstance(files, FileStore):
        return files
    return FolderStore(files)


def schema_revision(conn):
    """The Alembic revision the database is at (None when not migrated)."""
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001  (no alembic_version table: not migrated)
        return None


def _encode(column, value):
    """One column value as a JSON-safe value that decodes back to exactly the same value."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Geometry):
        data = value.data
        # SpatiaLite hands back EWKB as a hex string, PostGIS as bytes: store hex either way.
        return data.lower() if isinstance(data, str) else bytes(data).hex()
    if isinstance(kind, (DateTime,)) or isinstance(value, datetime):
        return value.isoformat()
    if isinstance(kind, Date) or isinstance(value, date):
        return value.isoformat()
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return str(value)
    if isinstance(kind, LargeBinary) or isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _decode(column, value):
    """The inverse of _encode for the column's type."""
    if value is None:
        return None
    kind = column.type
    impl = getattr(kind, "impl", kind)
    if isinstance(kind, Geometry):
        return WKBElement(bytes.fromhex(value), srid=kind.srid, extended=True)
    if isinstance(impl, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(impl, Date):
        return date.fromisoformat(value)
    if isinstance(impl, Numeric) and not isinstance(impl, Float):
        return Decimal(value)
    if isinstance(impl, LargeBinary):
        return base64.b64decode(value)
    if isinstance(impl, JSON):
        return value
    return value


def _backup_files(zf, store, manifest):
    """Copy every stored file into the zip, piece by piece."""
    for key in store.keys():
        digest = hashlib.sha256()
        with zf.open(f"uploads/{key}", "w", force_zip64=True) as out:
            for piece in store.open(key).chunks():
                digest.update(piece)
                out.write(piece)
        manifest["uploads"][key] = digest.hexdigest()


def backup(engine, path, files=None, progress=None):
    """Write a consistent, complete backup to ``path``; returns the manifest.

    ``files`` is the file store (emergency.files; the database kind reads inside the same
    snapshot as the tables), a folder path, or None for no files.
    """
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(),
                "backend": spatial.backend_name(engine), "tables": {}, "uploads": {}}
    tmp = f"{path}.partial"
    conn = spatial.snapshot(engine)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                             allowZip64=True) as zf:
            manifest["revision"] = schema_revision(conn)
            for table in tables():
                digest = hashlib.sha256()
                count = 0
                order = [c for c in table.primary_key.columns] or list(table.columns)
                rows = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table).order_by(*order))
                with zf.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as out:
                    for row in rows.mappings():
                        line = json.dumps({c.name: _encode(c, row[c.name])
                                           for c in table.columns},
                                          ensure_ascii=False, sort_keys=True) + "\n"
                        data = line.encode()
                        digest.update(data)
                        out.write(data)
                        count += 1
                manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
                if progress:
                    progress(table.name, count)
            store = file_store(files)
            if store is not None:
                _backup_files(zf, store.bind(conn), manifest)
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        conn.rollback()
        conn.close()
    os.replace(tmp, path)
    return manifest


def _bad(message):
    """A refusal naming the backup file as the problem."""
    return Invalid(message, {"file": [message]})


def read_manifest(zf):
    """The manifest of an open backup, verified against every member's checksum."""
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except KeyError:
        raise _bad("not a backup: manifest.json missing") from None
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise _bad(f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(f"unknown backup format (expected {FORMAT})")
    known = {t.name for t in tables()}
    for name, info in manifest.get("tables", {}).items():
        if name not in known:
            raise _bad(f"backup holds table {name!r} this version does not know")
        digest, lines = hashlib.sha256(), 0
        try:
            # Streamed: a risk-cell table can be hundreds of megabytes.
            with zf.open(f"tables/{name}.jsonl") as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    digest.update(chunk)
                    lines += chunk.count(b"\n")
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _bad(f"table {name}: member unreadable ({exc})") from None
        if digest.hexdigest() != info.get("sha256"):
            raise _bad(f"table {name}: checksum mismatch (file damaged)")
        if lines != info.get("rows"):
            raise _bad(f"table {name}: row count mismatch (file damaged)")
    for rel, digest in manifest.get("uploads", {}).items():
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise _bad(f"upload {rel!r}: unsafe path")
        check = hashlib.sha256()
        try:
            with zf.open(f"uploads/{rel}") as member:
                for piece in iter(lambda: member.read(PIECE), b""):
                    check.update(piece)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _bad(f"upload {rel}: member unreadable ({exc})") from None
        if check.hexdigest() != digest:
            raise _bad(f"upload {rel}: checksum mismatch (file damaged)")
    return manifest


def _open(path):
    """Open a backup zip, turning a damaged container into a clear refusal."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(f"not a readable backup: {exc}") from None


def non_empty_tables(conn):
    """Names of application tables that hold at least one row."""
    return [t.name for t in tables()
            if conn.execute(select(func.count()).select_from(t)).scalar()]


def restore(engine, path, files=None, progress=None):
    """Restore a backup into a freshly migrated, empty database and ``files`` (the file store,
    a folder path, or None when the backup holds no files); returns the manifest."""
    with _open(path) as zf:
        manifest = read_manifest(zf)
        written, store = [], file_store(files)
        with engine.connect() as conn:
            with conn.begin():
                revision = schema_revision(conn)
                if revision is None:
                    raise Conflict("the database is not migrated; run `emergency db upgrade`")
                if revision != manifest.get("revision"):
                    raise Conflict(f"backup is at schema revision {manifest.get('revision')}, "
                                   f"the database at {revision}; upgrade to the same revision")
                busy = non_empty_tables(conn)
                if busy:
                    raise Conflict("restore needs an empty database; these tables hold rows: "
                                   + ", ".join(busy))
                try:
                    for table in tables():
                        info = manifest["tables"].get(table.name)
                        if info is None:
                            continue
                        _restore_table(conn, zf, table)
                        if progress:
                            progress(table.name, info["rows"])
                    spatial.reset_sequences(conn, tables())
                    if store is not None:
                        # The database kind writes inside this transaction (all or nothing).
                        store = store.bind(conn)
                    _restore_files(zf, manifest, store, written)
                except BaseException:
                    if store is not None and store.kind != "database":
                        for key in written:
                            store.delete(key)
                    raise
    return manifest


def _self_references(table):
    """(child column, parent column) pairs of foreign keys from a table to itself."""
    return [(fk.parent.name, fk.column.name) for fk in table.foreign_keys
            if fk.column.table is table]


def _parents_first(rows, refs):
    """Rows ordered so that a row's parent (same table) is inserted before it."""
    pending = rows
    done = {parent: set() for _child, parent in refs}
    ordered = []
    while pending:
        ready, later = [], []
        waiting = {parent: {r[parent] for r in pending} for _child, parent in refs}
        for row in pending:
            ok = all(row[child] is None or row[child] in done[parent]
                     or row[child] not in waiting[parent] or row[child] == row[parent]
                     for child, parent in refs)
            (ready if ok else later).append(row)
        if not ready:  # a cycle inside the data: keep the order, the database will judge
            ready, later = later, []
        for row in ready:
            for _child, parent in refs:
                done[parent].add(row[parent])
        ordered.extend(ready)
        pending = later
    return ordered


def _restore_table(conn, zf, table):
    """Insert every row of one table in batches."""
    columns = {c.name: c for c in table.columns}
    refs = _self_references(table)
    batch = []
    with zf.open(f"tables/{table.name}.jsonl") as lines:
        for line in lines:
            raw = json.loads(line)
            batch.append({name: _decode(columns[name], value)
                          for name, value in raw.items() if name in columns})
            if len(batch) >= BATCH and not refs:
                conn.execute(table.insert(), batch)
                batch = []
    if refs:
        # Trees (areas, plan revisions) are small enough to order in memory.
        batch = _parents_first(batch, refs)
        for start in range(0, len(batch), BATCH):
            conn.execute(table.insert(), batch[start:start + BATCH])
    elif batch:
        conn.execute(table.insert(), batch)


def _restore_files(zf, manifest, store, written):
    """Put the backup's files into the store, streamed; ``written`` collects the keys added
    (so that a failure can take them out of a store outside the transaction)."""
    if not manifest.get("uploads"):
        return
    if store is None:
        raise Invalid("the backup holds files but no file store was given",
                      {"FILE_STORE": ["required"]})
    for key in manifest["uploads"]:
        with zf.open(f"uploads/{key}") as src:
            if store.put(key, src, guess_type(key)):
                written.append(key)
