"""The append-only audit log table."""

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """Who did what to which record, and when. Never updated, never deleted."""

    __tablename__ = "audit_log"
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True, comment="username or 'system'")
    action: Mapped[str] = mapped_column(String(64), index=True,
                                        comment="<object>.<verb>, e.g. member.reveal")
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSON, default=dict,
                                          comment="changed fields; personal data redacted")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
