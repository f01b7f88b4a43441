"""Tables of the database file store: one row per file, its bytes in fixed-size chunks."""

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow


class StoredFile(Base):
    """A file kept in the database store; write-once (keys are content-addressed or unique)."""

    __tablename__ = "stored_files"
    __audit__ = False

    key: Mapped[str] = mapped_column(String(300), primary_key=True,
                                     comment="relative posix path, e.g. hazards/ab/<sha>.jpg")
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, default=0, comment="bytes")
    sha256: Mapped[str] = mapped_column(String(64), default="", comment="of the whole file")
    chunks: Mapped[int] = mapped_column(Integer, default=0, comment="number of chunk rows")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class StoredFileChunk(Base):
    """One piece of a stored file (FILE_CHUNK_BYTES at most), read and written one at a time
    so that a large file never sits in memory whole."""

    __tablename__ = "stored_file_chunks"
    __audit__ = False

    file_key: Mapped[str] = mapped_column(ForeignKey("stored_files.key", ondelete="CASCADE"),
                                          primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, comment="0, 1, 2, ...")
    data: Mapped[bytes] = mapped_column(LargeBinary)
