"""The file store's one small interface and its database and folder kinds. No Flask here.

Keys are relative posix paths (``hazards/ab/<sha256>.jpg``) and files are write-once: a key
names the same bytes forever (content-addressed, or unique), so a second ``put`` of a key
that exists is a no-op and no host can ever read a half-replaced file.
"""

import hashlib
import mimetypes
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from emergency.db import utcnow
from emergency.errors import Invalid, NotFound
from emergency.files.models import StoredFile, StoredFileChunk

CHUNK_BYTES = 256 * 1024
MAX_KEY = 300
_FILES = StoredFile.__table__
_CHUNKS = StoredFileChunk.__table__


def check_key(key):
    """The key itself when it is a safe relative posix path, else Invalid."""
    parts = PurePosixPath(key).parts if isinstance(key, str) else ()
    if (not parts or len(key) > MAX_KEY or key.startswith("/") or "\\" in key
            or any(p in ("", ".", "..") for p in key.split("/"))):
        raise Invalid(f"bad file key {key!r}", {"key": ["a relative path without '..'"]})
    return key


def guess_type(key):
    """A content type from the key's extension (application/octet-stream when unknown)."""
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def pieces(source, size=CHUNK_BYTES):
    """The bytes of ``source`` (bytes or a binary file object) in pieces of at most ``size``."""
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), size):
            yield bytes(view[start:start + size])
        return
    while True:
        piece = source.read(size)
        if not piece:
            return
        yield piece


@dataclass
class StoredObject:
    """A file as read from a store: its metadata and its bytes as an iterator of pieces."""

    key: str
    size: int
    content_type: str
    sha256: str | None
    chunks: object  # a zero-argument callable returning an iterator of bytes

    def read(self):
        """The whole file (for small files; stream ``chunks()`` otherwise)."""
        return b"".join(self.chunks())


class FileStore:
    """What every kind of store offers."""

    kind = ""

    def bind(self, conn):
        """The store working inside ``conn``'s transaction (only the database kind needs it)."""
        return self

    def put(self, key, source, content_type=None):
        """Keep ``source`` (bytes or a binary file) under ``key``; False when it was there."""
        raise NotImplementedError

    def open(self, key):
        """The StoredObject under ``key``, or NotFound."""
        raise NotImplementedError

    def exists(self, key):
        """Whether ``key`` holds a file."""
        raise NotImplementedError

    def delete(self, key):
        """Remove the file under ``key`` (nothing when there is none)."""
        raise NotImplementedError

    def keys(self):
        """Every key, in sorted order."""
        raise NotImplementedError


class DatabaseStore(FileStore):
    """Files in ``stored_files``/``stored_file_chunks``: in the transaction of the caller, so a
    photo's row and its bytes commit (or roll back) together, on both backends."""

    kind = "database"

    def __init__(self, conn=None, chunk_bytes=CHUNK_BYTES):
        self.conn, self.chunk_bytes = conn, chunk_bytes

    def bind(self, conn):
        """This store on a session or connection."""
        return DatabaseStore(conn, self.chunk_bytes)

    def _row(self, key):
        """The file's row or None."""
        if self.conn is None:
            raise RuntimeError("DatabaseStore used without bind(session)")
        return self.conn.execute(select(_FILES).where(_FILES.c.key == key)).first()

    def put(self, key, source, content_type=None):
        """Write the file chunk by chunk in a savepoint; a concurrent writer of the same key
        makes this one a no-op (the key's bytes are the same by construction)."""
        check_key(key)
        if self._row(key) is not None:
            return False
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(_FILES).values(
                    key=key, content_type=content_type or guess_type(key), size=0, sha256="",
                    chunks=0, created_at=utcnow()))
                digest, size, seq = hashlib.sha256(), 0, 0
                for piece in pieces(source, self.chunk_bytes):
                    self.conn.execute(insert(_CHUNKS).values(file_key=key, seq=seq, data=piece))
                    digest.update(piece)
                    size += len(piece)
                    seq += 1
                self.conn.execute(update(_FILES).where(_FILES.c.key == key).values(
                    size=size, sha256=digest.hexdigest(), chunks=seq))
        except IntegrityError:
            if self._row(key) is not None:
                return False
            raise
        return True

    def open(self, key):
        """The file; its chunks are read one query at a time as they are iterated."""
        row = self._row(key)
        if row is None:
            raise NotFound(f"no stored file {key}")
        conn = self.conn
        query = select(_CHUNKS.c.data).where(_CHUNKS.c.file_key == key)

        def chunks():
            for seq in range(row.chunks):
                yield bytes(conn.execute(query.where(_CHUNKS.c.seq == seq)).scalar_one())

        return StoredObject(key, row.size, row.content_type, row.sha256, chunks)

    def exists(self, key):
        """Whether the key has a row."""
        return self._row(key) is not None

    def delete(self, key):
        """Remove the row (its chunks go with it)."""
        self.conn.execute(_CHUNKS.delete().where(_CHUNKS.c.file_key == key))
        self.conn.execute(_FILES.delete().where(_FILES.c.key == key))

    def keys(self, batch=1000):
        """Every key in order, read in batches (keyset paging keeps memory flat)."""
        after = None
        while True:
            query = select(_FILES.c.key).order_by(_FILES.c.key).limit(batch)
            if after is not None:
                query = query.where(_FILES.c.key > after)
            found = self.conn.execute(query).scalars().all()
            yield from found
            if len(found) < batch:
                return
            after = found[-1]


class FolderStore(FileStore):
    """Files under a local folder: one host only (development, and files of older versions)."""

    kind = "folder"

    def __init__(self, folder, chunk_bytes=CHUNK_BYTES):
        self.root, self.chunk_bytes = Path(folder), chunk_bytes

    def _path(self, key):
        """The file's path under the folder."""
        return self.root / check_key(key)

    def put(self, key, source, content_type=None):
        """Write atomically (a unique temporary name, then rename)."""
        path = self._path(key)
        if path.is_file():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unique per writer: threads of one process share the pid.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as out:
            for piece in pieces(source, self.chunk_bytes):
                out.write(piece)
        os.replace(tmp, path)
        return True

    def open(self, key):
        """The file, read in pieces as it is iterated."""
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no stored file {key}")

        def chunks():
            with open(path, "rb") as src:
                yield from pieces(src, self.chunk_bytes)

        return StoredObject(key, path.stat().st_size, guess_type(key), None, chunks)

    def exists(self, key):
        """Whether the file is there."""
        return self._path(key).is_file()

    def delete(self, key):
        """Remove the file."""
        self._path(key).unlink(missing_ok=True)

    def keys(self):
        """Every file's relative path (temporary files of unfinished writes left out)."""
        if not self.root.is_dir():
            return iter(())
        return iter(sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                           if p.is_file() and not (p.name.startswith(".")
                                                   and p.name.endswith(".tmp"))))
