"""Emergency plans, their frozen versions, drills and drill findings."""

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow

PLAN_KINDS = ("overall", "special", "department", "grassroots", "event")
PLAN_STATUSES = ("draft", "in_review", "published", "archived")
# A version's status: the plan statuses, plus "superseded" for a formerly published version.
VERSION_STATUSES = (*PLAN_STATUSES, "superseded")
DRILL_KINDS = ("tabletop", "functional", "full_scale", "double_blind")
FINDING_STATUSES = ("open", "in_progress", "done")
OPERATORS = (">=", ">", "<=", "<", "==")


class Plan(Base):
    """An emergency plan: its classification, the working version and its deadlines."""

    __tablename__ = "plans"
    __audit_name__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), comment="title of the working version")
    kind: Mapped[str] = mapped_column(String(12), index=True,
                                      comment="overall|special|department|grassroots|event")
    incident_type: Mapped[str] = mapped_column(String(40), index=True,
                                               comment="plans.incident_types key")
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    owner: Mapped[str] = mapped_column(String(200), default="",
                                       comment="owning unit of the working version")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True,
                                                  comment="the plan this one is under")
    status: Mapped[str] = mapped_column(String(12), index=True,
                                        comment="status of the working version")
    version: Mapped[int] = mapped_column(Integer, default=1, comment="working version number")
    published_version: Mapped[int | None] = mapped_column(
        Integer, comment="the version in force (null: none)")
    drill_interval_months: Mapped[int] = mapped_column(Integer)
    revision_interval_months: Mapped[int] = mapped_column(Integer)
    first_published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    published_at: Mapped[object | None] = mapped_column(
        UTCDateTime, comment="publication of the version in force")
    last_drill_on: Mapped[object | None] = mapped_column(Date)
    drill_due_on: Mapped[object | None] = mapped_column(
        Date, index=True, comment="next drill due: last drill (or publication) + interval")
    revision_due_on: Mapped[object | None] = mapped_column(
        Date, index=True, comment="revision due: publication in force + revision interval")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanVersion(Base):
    """One numbered version of a plan's content; frozen once it leaves draft."""

    __tablename__ = "plan_versions"
    __audit_name__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12),
                                        comment="draft|in_review|published|superseded|archived")
    content: Mapped[dict] = mapped_column(
        JSON, comment="title, owner, sections, response_levels (criteria, actions, forces)")
    history: Mapped[list] = mapped_column(JSON, default=list,
                                          comment="transitions: [{to, at, by, note}]")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)


class Drill(Base):
    """A drill of a plan: tabletop, functional, full-scale or double-blind."""

    __tablename__ = "plan_drills"
    __audit_name__ = "drill"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    plan_version: Mapped[int | None] = mapped_column(Integer,
                                                     comment="version in force when held")
    held_on: Mapped[object] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16),
                                      comment="tabletop|functional|full_scale|double_blind")
    title: Mapped[str] = mapped_column(String(200), default="")
    scenario: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[int | None] = mapped_column(Integer, comment="people taking part")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class DrillTeam(Base):
    """A registry team that took part in a drill (no FK: the registry may be absent)."""

    __tablename__ = "plan_drill_teams"
    __audit_name__ = "drill_team"

    drill_id: Mapped[int] = mapped_column(ForeignKey("plan_drills.id", ondelete="CASCADE"),
                                          primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True,
                                         comment="registry teams.id")


class DrillFinding(Base):
    """A problem found in a drill and its corrective action."""

    __tablename__ = "drill_findings"
    __audit_name__ = "drill_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("plan_drills.id", ondelete="CASCADE"),
                                          index=True)
    description: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="", comment="unit responsible")
    status: Mapped[str] = mapped_column(String(12), default="open",
                                        comment="open|in_progress|done")
    due_on: Mapped[object | None] = mapped_column(Date)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanFiling(Base):
    """The filing (备案) of a published plan version with the higher authority."""

    __tablename__ = "plan_filings"
    __audit_name__ = "plan_filing"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True,
                                         comment="the published version that was filed")
    authority: Mapped[str] = mapped_column(String(200),
                                           comment="the authority the plan was filed with")
    filed_on: Mapped[object] = mapped_column(Date, comment="day of filing (local calendar)")
    number: Mapped[str] = mapped_column(String(100), comment="filing number (备案编号)")
    recorded_by: Mapped[str] = mapped_column(String(64), default="",
                                             comment="user who recorded the filing")
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
