"""The table of emergency measures (应急处置措施) and their numbered decisions (决定书)."""

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

MEASURE_KINDS = ("requisition", "traffic_control", "evacuation", "closure", "suspension",
                 "price_intervention", "other")
# Stored states; "expired" is computed at read time (ends_at passed without lifting).
MEASURE_STATUSES = ("in_force", "lifted")
LISTED_STATUSES = ("in_force", "lifted", "expired")


class Measure(Base):
    """A measure a government takes in an incident, under a numbered written decision."""

    __tablename__ = "measures"
    __audit_name__ = "measure"
    __table_args__ = (
        # One number per place in a year's series: concurrent decisions cannot share one.
        UniqueConstraint("order_year", "order_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24), index=True, comment="|".join(MEASURE_KINDS))
    order_year: Mapped[int] = mapped_column(Integer, comment="year of the decision's number")
    order_seq: Mapped[int] = mapped_column(Integer, comment="place in that year's series")
    order_number: Mapped[str] = mapped_column(String(60), unique=True,
                                              comment="decision number, e.g. 渝应急决〔2026〕12号")
    legal_basis: Mapped[str] = mapped_column(String(300),
                                             comment="the law and article it rests on")
    authority: Mapped[str] = mapped_column(String(200), comment="the issuing organ")
    scope = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True,
                                   nullable=False), comment="where it applies, WGS-84")
    starts_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True,
                                                   comment="null: until lifted")
    note: Mapped[str] = mapped_column(Text, default="", comment="content of the measure")
    status: Mapped[str] = mapped_column(String(10), default="in_force", index=True,
                                        comment="in_force|lifted (expired is computed)")
    lifted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lift_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
