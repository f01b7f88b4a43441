"""The table of direct disaster reports (灾情直报) made by grid staff at a point."""

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

# The natural-disaster subtypes of the incident classification (plans.incident_types), fire,
# and other: what grid staff report losses from.
KINDS = ("flood", "geological", "meteorological", "earthquake", "forest_fire", "drought",
         "fire", "other")
# The counts of a report, each a whole number >= 0.
COUNTS = ("affected", "dead", "missing", "injured", "houses_collapsed", "houses_damaged")


class DisasterReport(Base):
    """A direct disaster report: losses seen at a point inside a management grid."""

    __tablename__ = "disaster_reports"
    __audit_name__ = "disaster_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True,
                                           comment="id chosen by the reporting device; "
                                           "retries with the same id never duplicate")
    kind: Mapped[str] = mapped_column(String(24), index=True, comment="|".join(KINDS))
    affected: Mapped[int] = mapped_column(Integer, comment="people affected (受灾人口)")
    dead: Mapped[int] = mapped_column(Integer, comment="people dead (死亡)")
    missing: Mapped[int] = mapped_column(Integer, comment="people missing (失踪)")
    injured: Mapped[int] = mapped_column(Integer, comment="people injured (受伤)")
    houses_collapsed: Mapped[int] = mapped_column(Integer, comment="houses collapsed (倒塌)")
    houses_damaged: Mapped[int] = mapped_column(Integer, comment="houses damaged (损坏)")
    # Whole fen sum exactly on both backends (SQLite would sum a NUMERIC as a float).
    losses_fen: Mapped[int] = mapped_column(BigInteger, comment="direct economic losses in "
                                            "fen (1/100 yuan); the API shows yuan")
    note: Mapped[str] = mapped_column(Text, default="")
    grid_code: Mapped[str] = mapped_column(ForeignKey("grids.code"), index=True,
                                           comment="grid containing the location")
    area_code: Mapped[str] = mapped_column(String(12), index=True,
                                           comment="the grid's area, copied for fast filters")
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                         comment="location, WGS-84 lon/lat")
