"""The job records: what was asked, by whom, and how far it got (both backends)."""

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")


class JobRecord(Base):
    """One background job as its owner sees it. The queue itself (procrastinate's tables on
    PostGIS, its in-memory queue on SpatiaLite) only carries the record's id."""

    __tablename__ = "jobs"
    __audit__ = False  # progress is written every few per cent; the subject is audited
    __table_args__ = (Index("ix_jobs_status_deferred", "status", "deferred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), comment="task name, e.g. risk.run_assessment")
    subject_id: Mapped[int | None] = mapped_column(
        Integer, comment="id of the record the job works on (e.g. the risk assessment)")
    args: Mapped[dict] = mapped_column(JSON, default=dict, comment="the task's arguments")
    owner: Mapped[str] = mapped_column(String(64), index=True,
                                       comment="user name of who asked for it")
    status: Mapped[str] = mapped_column(String(12), default="queued",
                                        comment="|".join(STATUSES))
    progress: Mapped[float | None] = mapped_column(Float, comment="0..1 where the job reports")
    attempts: Mapped[int] = mapped_column(Integer, default=0, comment="runs started so far")
    error: Mapped[str] = mapped_column(String(2000), default="")
    result: Mapped[dict | None] = mapped_column(
        JSON, comment="what the job produced: an import's report, an export's file")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_job_id: Mapped[int | None] = mapped_column(
        Integer, comment="the queue's job id of the run that claimed it last")
    deferred_at: Mapped[object | None] = mapped_column(
        UTCDateTime, comment="when a worker last put it on the queue (null: not yet)")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
