"""The table of live events, written in the transaction of the change they announce."""

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

EVENT_TYPES = ("incident.created", "incident.updated", "dispatch.created", "dispatch.updated",
               "hazard.created", "hazard.updated", "warning.published", "warning.lifted",
               "measure.created", "measure.lifted", "disaster.created")


class LiveEvent(Base):
    """One announced change. Its id is the SSE ``id:``; rows older than a day may be pruned.

    The scope columns say who may read it: ``audience`` ``bureau`` (bureau roles, limited by
    ``area_code`` for district-scoped staff), ``public`` (everyone signed in); ``org_id``
    also lets that organisation's admin read it, ``grid_code`` that grid's staff.
    """

    __tablename__ = "live_events"
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(40), comment="|".join(EVENT_TYPES))
    resource_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict, comment="the event's JSON payload")
    audience: Mapped[str] = mapped_column(String(12), default="bureau",
                                          comment="bureau|public")
    area_code: Mapped[str | None] = mapped_column(String(12))
    org_id: Mapped[int | None] = mapped_column(Integer)
    grid_code: Mapped[str | None] = mapped_column(String(32))
