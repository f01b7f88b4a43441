"""Officials, training courses and attendance (one row per official, course and day)."""

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

TOPICS = ("law", "skills", "command", "other")
MANDATORY_FOR = ("leaders", "all")


class Official(Base):
    """A government official whose training is tracked (a public work identity: no contact
    details or identity numbers are kept; docs/training.md)."""

    __tablename__ = "training_officials"
    __audit_name__ = "official"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str] = mapped_column(String(200), index=True,
                                            comment="department or unit (单位/部门)")
    position: Mapped[str] = mapped_column(String(100), default="", comment="post (职务)")
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True,
                                                  comment="area of the department")
    leader: Mapped[bool] = mapped_column(Boolean, default=False,
                                         comment="a leading official (领导干部)")
    active: Mapped[bool] = mapped_column(Boolean, default=True,
                                         comment="false: left the post, kept for history")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Course(Base):
    """A training course; a mandatory one must be passed once in every calendar year."""

    __tablename__ = "training_courses"
    __audit_name__ = "course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(12), comment="law|skills|command|other")
    hours: Mapped[object] = mapped_column(Numeric(5, 1), comment="class hours credited")
    mandatory_for: Mapped[str | None] = mapped_column(
        String(8), index=True, comment="leaders|all; null: optional")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True,
                                         comment="false: no longer offered nor required")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Attendance(Base):
    """An official's attendance of a course on a day, and whether they passed."""

    __tablename__ = "training_attendance"
    __audit_name__ = "attendance"
    __table_args__ = (UniqueConstraint("course_id", "official_id", "held_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    official_id: Mapped[int] = mapped_column(
        ForeignKey("training_officials.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[object] = mapped_column(Date, index=True)
    passed: Mapped[bool] = mapped_column(Boolean, default=True,
                                         comment="passed the course's assessment")
    source: Mapped[str] = mapped_column(String(8), default="form",
                                        comment="form|import (a sign-in sheet)")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
