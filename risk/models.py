"""Risk layers, their features, assessments (runs) and the cells of each run."""

from geoalchemy2 import Geometry
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

LAYER_ROLES = ("hazard", "exposure", "vulnerability")
RUN_STATUSES = ("queued", "running", "done", "failed")
METHODS = ("composite", "matrix")


class RiskLayer(Base):
    """An imported hazard, exposure or vulnerability layer."""

    __tablename__ = "risk_layers"
    __audit_name__ = "risk_layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), index=True,
                                      comment="hazard|exposure|vulnerability")
    value_field: Mapped[str | None] = mapped_column(String(100),
                                                    comment="numeric field read as value")
    likelihood_field: Mapped[str | None] = mapped_column(String(100),
                                                         comment="1..5, matrix method")
    consequence_field: Mapped[str | None] = mapped_column(String(100),
                                                          comment="1..5, matrix method")
    geometry_kind: Mapped[str] = mapped_column(String(16), comment="point|polygon")
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    value_max: Mapped[float] = mapped_column(Float, default=0.0,
                                             comment="largest |value|: default normaliser")
    source_crs: Mapped[str] = mapped_column(String(200), default="",
                                            comment="CRS the file was read in")
    source_file: Mapped[str] = mapped_column(String(300), default="")
    minx: Mapped[float | None] = mapped_column(Float)
    miny: Mapped[float | None] = mapped_column(Float)
    maxx: Mapped[float | None] = mapped_column(Float)
    maxy: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class RiskLayerFeature(Base):
    """One feature of a layer: its value and geometry (WGS-84). Written in bulk (Core)."""

    __tablename__ = "risk_layer_features"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("risk_layers.id", ondelete="CASCADE"),
                                          index=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    likelihood: Mapped[int | None] = mapped_column(SmallInteger)
    consequence: Mapped[int | None] = mapped_column(SmallInteger)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True, nullable=False),
                         comment="point or polygon, WGS-84 lon/lat")


class RiskAssessment(Base):
    """One assessment run over an area; immutable once done."""

    __tablename__ = "risk_assessments"
    __audit_name__ = "risk_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    cell_size_m: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16), default="composite")
    layers: Mapped[list] = mapped_column(JSON, default=list,
                                         comment="[{layer_id, weight, scale}] as requested")
    params: Mapped[dict] = mapped_column(JSON, default=dict,
                                         comment="model parameters with defaults filled in")
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    epsg: Mapped[int | None] = mapped_column(Integer, comment="metric CRS of the cells")
    cell_count: Mapped[int] = mapped_column(Integer, default=0)
    team_count: Mapped[int] = mapped_column(Integer, default=0,
                                            comment="teams the capacity was taken from")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)


class RiskCell(Base):
    """One analysis cell of a run with its components. Written in bulk (Core/COPY)."""

    __tablename__ = "risk_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    __table_args__ = (Index("ix_risk_cells_run_cell", "assessment_id", "row", "col",
                            unique=True),)

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer, comment="row in the run's metric grid")
    col: Mapped[int] = mapped_column(Integer, comment="column in the run's metric grid")
    area_code: Mapped[str | None] = mapped_column(String(12),
                                                  comment="most local area holding the cell")
    grid_code: Mapped[str | None] = mapped_column(String(32),
                                                  comment="management grid holding the cell")
    area_m2: Mapped[float] = mapped_column(Float)
    hazard: Mapped[float] = mapped_column(Float)
    exposure: Mapped[float] = mapped_column(Float)
    vulnerability: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float] = mapped_column(Float)
    teams: Mapped[int] = mapped_column(Integer, comment="teams whose radius reaches the cell")
    likelihood: Mapped[int | None] = mapped_column(SmallInteger)
    consequence: Mapped[int | None] = mapped_column(SmallInteger)
    risk: Mapped[float] = mapped_column(Float)
    level: Mapped[int] = mapped_column(SmallInteger, comment="1 (重大, red) .. 4 (低, blue)")
    gap: Mapped[bool] = mapped_column(Boolean, default=False,
                                      comment="level 1-2 and no team reaches it")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True,
                                  nullable=False), comment="cell clipped to the area, WGS-84")
