"""Warnings (预警), the areas each covers, and the recorded steps of each."""

from geoalchemy2 import Geometry
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

LEVELS = ("red", "orange", "yellow", "blue")  # 红橙黄蓝, red most severe
STATUSES = ("draft", "approved", "published", "lifted", "cancelled", "expired")
# What a warning's status may become, and by which step (POST /warnings/{id}/transition).
# "expired" is set only by the expiry job (emergency warnings expire); changing an approved
# warning (PATCH) returns it to draft.
TRANSITIONS = {
    "draft": ("approved", "cancelled"),
    "approved": ("published", "cancelled"),
    "published": ("lifted",),
    "lifted": (),
    "cancelled": (),
    "expired": (),
}
FINAL = ("lifted", "cancelled", "expired")


class EarlyWarning(Base):
    """A warning to the public: level, hazard, areas, period, text, and its release steps."""

    __tablename__ = "warnings"
    __audit_name__ = "warning"
    __table_args__ = (UniqueConstraint("source", "source_identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    hazard_type: Mapped[str] = mapped_column(
        String(40), index=True, comment="plans.incident_types key (e.g. meteorological)")
    level: Mapped[str] = mapped_column(String(8), index=True,
                                       comment="red|orange|yellow|blue (红橙黄蓝)")
    status: Mapped[str] = mapped_column(String(12), index=True, comment="|".join(STATUSES))
    area_codes: Mapped[list] = mapped_column(
        JSON, default=list, comment="GB/T 2260 codes of the areas warned (each in areas)")
    geometry = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True),
        comment="drawn area, or (from publication) the union of the areas; WGS-84")
    onset: Mapped[object] = mapped_column(UTCDateTime)
    expires: Mapped[object] = mapped_column(UTCDateTime, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    instruction: Mapped[str] = mapped_column(Text, default="",
                                             comment="what people should do (防御指南)")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True,
                                                  comment="who drafted it; null for imports")
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)
    lifted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="", comment="note of the last step")
    version: Mapped[int] = mapped_column(
        Integer, default=1, comment="+1 on each change after publication (CAP Update)")
    cap_identifier: Mapped[str | None] = mapped_column(
        String(200), unique=True,
        comment="CAP identifier of the current version, set at publication")
    references: Mapped[list] = mapped_column(
        JSON, default=list,
        comment="earlier CAP alerts as 'sender,identifier,sent' (Update and Cancel)")
    source: Mapped[str | None] = mapped_column(
        String(200), comment="null for our own; for imports the CAP sender")
    source_identifier: Mapped[str | None] = mapped_column(
        String(200), comment="the imported alert's CAP identifier")
    source_xml: Mapped[str | None] = mapped_column(Text, comment="the imported CAP document")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WarningArea(Base):
    """One area a warning covers: the area_codes list as rows, for filters by area."""

    __tablename__ = "warning_areas"
    __audit__ = False  # a copy of EarlyWarning.area_codes, which is audited
    __table_args__ = (Index("ix_warning_areas_area_code", "area_code"),)

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"),
                                            primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)


class WarningStep(Base):
    """One recorded step of a warning (drafted, changed, approved, published, ...)."""

    __tablename__ = "warning_steps"
    __audit_name__ = "warning_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(12), comment="create|update|transition|expiry|"
                                      "import")
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer, default=1)
    actor: Mapped[str] = mapped_column(String(64), comment="username or 'system'")
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
