"""Hazard reports, their workflow steps, photos and published bulletins."""

from geoalchemy2 import Geometry
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from emergency.db import Base, UTCDateTime, utcnow

CATEGORIES = ("geological", "flood", "fire", "gas", "hazardous_chemicals", "building",
              "traffic", "other")
SEVERITIES = ("major", "general")
STATUSES = ("reported", "verified", "rectifying", "rectified", "closed", "rejected")
OPEN_STATUSES = ("reported", "verified", "rectifying", "rectified")


class HazardReport(Base):
    """A safety hazard reported at a point inside a management grid."""

    __tablename__ = "hazard_reports"
    __audit_name__ = "hazard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True,
                                           comment="id chosen by the reporting device; "
                                           "retries with the same id never duplicate")
    category: Mapped[str] = mapped_column(String(24), index=True,
                                          comment="|".join(CATEGORIES))
    severity: Mapped[str] = mapped_column(String(8), comment="major (重大) | general (一般)")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), index=True, comment="|".join(STATUSES))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grids.code"), index=True,
                                           comment="grid containing the location")
    area_code: Mapped[str] = mapped_column(String(12), index=True,
                                           comment="the grid's area, copied for fast filters")
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    stage_started_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow,
                                                     comment="when the current status began")
    due_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True,
                                                  comment="deadline of the current stage; "
                                                  "null once closed or rejected")
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True,
                                                     comment="when closed or rejected")
    escalated_at: Mapped[object | None] = mapped_column(UTCDateTime,
                                                        comment="last escalation (督办)")
    escalated_stage: Mapped[str | None] = mapped_column(String(12),
                                                        comment="status that was escalated")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                         comment="location, WGS-84 lon/lat")


class HazardEvent(Base):
    """One recorded step of a report: a transition or an escalation, with actor and note."""

    __tablename__ = "hazard_events"
    __audit_name__ = "hazard_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(12), comment="transition|escalation")
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64), comment="username or 'system'")
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[HazardReport] = relationship()


STORE_KEY = "key in the file store (FILE_STORE)"


class HazardPhoto(Base):
    """A photo of a report, re-encoded without metadata and kept in the file store."""

    __tablename__ = "hazard_photos"
    __audit_name__ = "hazard_photo"
    __table_args__ = (UniqueConstraint("report_id", "upload_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hazard_reports.id", ondelete="CASCADE"),
                                           index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_events.id"),
                                                 comment="the step it documents, e.g. "
                                                 "rectification")
    stage: Mapped[str] = mapped_column(String(12), comment="report status when uploaded")
    path: Mapped[str] = mapped_column(String(200), comment=STORE_KEY)
    thumb_path: Mapped[str] = mapped_column(String(200), comment=STORE_KEY)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer, comment="bytes of the stored file")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), comment="checksum of the stored file")
    upload_sha256: Mapped[str] = mapped_column(String(64), comment="checksum of the bytes "
                                               "received; a resent photo is stored once")
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class HazardBulletin(Base):
    """A published periodic bulletin: counts and overdue list, free of personal data."""

    __tablename__ = "hazard_bulletins"
    __audit_name__ = "hazard_bulletin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_from: Mapped[str] = mapped_column(String(10), comment="first day, YYYY-MM-DD")
    period_to: Mapped[str] = mapped_column(String(10), comment="last day, YYYY-MM-DD")
    title: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[dict] = mapped_column(JSON, comment="the bulletin as published")
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
