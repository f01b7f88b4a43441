"""Administrative areas and community management grids (网格)."""

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

AREA_LEVELS = ("province", "city", "district", "street", "community")


class Area(Base):
    """An administrative area with a GB/T 2260 style code and its boundary."""

    __tablename__ = "areas"
    __audit_name__ = "area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True,
                                      comment="GB/T 2260 code (6 digits) or a longer local code")
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(12), index=True,
                                       comment="province|city|district|street|community")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True,
                                  nullable=False), comment="boundary, WGS-84 lon/lat")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Grid(Base):
    """A community management grid, the unit grid staff look after."""

    __tablename__ = "grids"
    __audit_name__ = "grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True,
                                           comment="the community (or street) it belongs to")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True,
                                  nullable=False), comment="boundary, WGS-84 lon/lat")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
