"""The table of incident information reports (首报/续报/终报)."""

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow
from emergency.spatial import partial_index

REPORT_KINDS = ("initial", "follow_up", "final")


class IncidentReport(Base):
    """One information report on an incident to the higher authority: the initial report,
    a follow-up, or the final report that closes the series."""

    __tablename__ = "incident_reports"
    __audit_name__ = "incident_report"
    __table_args__ = (
        # The series' order; two concurrent reports cannot both take the same place.
        UniqueConstraint("incident_id", "seq"),
        # One initial and one final report per incident, whatever the application checks.
        partial_index("uq_incident_reports_initial", "incident_id", unique=True,
                      where="kind = 'initial'"),
        partial_index("uq_incident_reports_final", "incident_id", unique=True,
                      where="kind = 'final'"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), comment="initial|follow_up|final")
    seq: Mapped[int] = mapped_column(Integer, comment="place in the series: 1 is the initial")
    body: Mapped[str] = mapped_column(Text, comment="the report's text")
    dead: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    injured: Mapped[int] = mapped_column(Integer)
    losses_yuan: Mapped[object | None] = mapped_column(
        Numeric(16, 2), comment="direct economic losses in yuan; null: still being assessed")
    unit: Mapped[str] = mapped_column(String(200), comment="reporting unit (报送单位)")
    signer: Mapped[str] = mapped_column(String(100), comment="who signed it off (签发人)")
    reported_by: Mapped[str] = mapped_column(String(64), default="")
    reported_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
