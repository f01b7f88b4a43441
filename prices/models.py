"""Price observations, commodity settings, anomaly alerts with their steps, and complaints."""

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow
from emergency.spatial.indexes import partial_index

STATUSES = ("open", "acknowledged", "referred", "closed")
# What an alert's status may become (POST /prices/alerts/{id}/transition). Closing is
# possible from every active state (a false alarm, a price back to normal); referring goes
# to market regulation (市场监管) after the bureau has acknowledged the alert.
TRANSITIONS = {
    "open": ("acknowledged", "closed"),
    "acknowledged": ("referred", "closed"),
    "referred": ("closed",),
    "closed": (),
}
ACTIVE = ("open", "acknowledged", "referred")
NOTE_REQUIRED = ("referred", "closed")
COMPLAINT_KINDS = ("gouging", "hoarding", "rumour", "fake", "other")
COMPLAINT_SOURCES = ("hotline", "online", "visit", "inspection", "other")


class CommoditySetting(Base):
    """A commodity added to the built-in catalogue, or an override of a built-in one (its
    name, unit, baseline days or alert ratio); empty thresholds follow the configuration."""

    __tablename__ = "price_commodities"
    __audit_name__ = "price_commodity"

    code: Mapped[str] = mapped_column(String(32), primary_key=True,
                                      comment="catalogue key, e.g. rice")
    name: Mapped[str] = mapped_column(String(60), comment="Chinese name")
    name_en: Mapped[str] = mapped_column(String(60), default="")
    unit: Mapped[str] = mapped_column(String(16), comment="unit priced, e.g. kg")
    baseline_days: Mapped[int | None] = mapped_column(
        Integer, comment="days of the baseline; null: PRICE_BASELINE_DAYS")
    alert_ratio: Mapped[float | None] = mapped_column(
        Float, comment="rise over the baseline that raises an alert (0.2 = 20 %); null: "
        "PRICE_ALERT_RATIO")
    active: Mapped[bool] = mapped_column(default=True, comment="offered in forms")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PriceObservation(Base):
    """One price seen: a commodity at a market of an area on a day (natural key)."""

    __tablename__ = "price_observations"
    __audit_name__ = "price_observation"
    __table_args__ = (
        UniqueConstraint("commodity", "area_code", "market", "observed_on",
                         name="uq_price_observations_natural"),
        Index("ix_price_observations_series", "commodity", "area_code", "observed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commodity: Mapped[str] = mapped_column(String(32), comment="catalogue key")
    unit: Mapped[str] = mapped_column(String(16))
    market: Mapped[str] = mapped_column(String(100), comment="market or store name")
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    observed_on: Mapped[object] = mapped_column(Date, index=True, comment="day (Beijing)")
    price_fen: Mapped[int] = mapped_column(BigInteger, comment="price in fen (1/100 yuan); "
                                           "the API shows yuan")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PriceAlert(Base):
    """An abnormal price of a commodity in an area; at most one active per pair."""

    __tablename__ = "price_alerts"
    __audit_name__ = "price_alert"
    __table_args__ = (
        partial_index("uq_price_alerts_active", "commodity", "area_code", unique=True,
                      where="status <> 'closed'"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commodity: Mapped[str] = mapped_column(String(32), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True, comment="|".join(STATUSES))
    latest_on: Mapped[object] = mapped_column(Date, comment="the day whose price is abnormal")
    baseline_fen: Mapped[int] = mapped_column(BigInteger, comment="baseline in fen (median "
                                              "of the daily prices of the days before)")
    latest_fen: Mapped[int] = mapped_column(BigInteger, comment="that day's price in fen "
                                            "(median over markets)")
    ratio: Mapped[float] = mapped_column(Float, comment="rise over the baseline (0.27 = 27 %)")
    baseline_days: Mapped[int] = mapped_column(Integer, comment="days of the baseline used")
    threshold: Mapped[float] = mapped_column(Float, comment="alert ratio used")
    raised_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="", comment="note of the last step")


class PriceAlertStep(Base):
    """One recorded step of an alert (raised, updated by a new price, or a workflow step)."""

    __tablename__ = "price_alert_steps"
    __audit_name__ = "price_alert_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("price_alerts.id", ondelete="CASCADE"),
                                          index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(64), comment="username or 'system'")
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class PriceComplaint(Base):
    """A public complaint about prices (gouging, hoarding, rumours, fakes) at a point."""

    __tablename__ = "price_complaints"
    __audit_name__ = "price_complaint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True, comment="|".join(COMPLAINT_KINDS))
    source: Mapped[str] = mapped_column(String(16), comment="|".join(COMPLAINT_SOURCES))
    commodity: Mapped[str | None] = mapped_column(String(32), index=True)
    place: Mapped[str] = mapped_column(String(200), default="", comment="market, shop or "
                                       "address as told")
    description: Mapped[str] = mapped_column(Text)
    area_code: Mapped[str | None] = mapped_column(String(12), index=True,
                                                  comment="district of the location")
    received_on: Mapped[object] = mapped_column(Date, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                         comment="location, WGS-84 lon/lat")
