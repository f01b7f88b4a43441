"""Tables of the registry: organisations, teams, members, certificates, insurance, training."""

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow
from emergency.spatial import knn_index, point_cover_index
from emergency.vocabulary import TEAM_CATEGORIES

ORG_STATUSES = ("submitted", "approved", "rejected")
# incidents import the team categories by this name
CATEGORIES = TEAM_CATEGORIES
TEAM_STATUSES = ("available", "dispatched", "unavailable")


class Organisation(Base):
    """A social emergency force organisation registered with the bureau (备案登记)."""

    __tablename__ = "organisations"
    __audit_name__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True,
                                             comment="unified social credit code (GB 32100)")
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone_enc: Mapped[str] = mapped_column(String(200), info={"personal": True},
                                                   comment="contact mobile, AES-GCM sealed")
    contact_phone_masked: Mapped[str] = mapped_column(String(11), comment="138****5678")
    address: Mapped[str] = mapped_column(String(300), default="")
    area_code: Mapped[str | None] = mapped_column(String(12), index=True,
                                                  comment="district found from the location")
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                             comment="office, WGS-84 lon/lat")
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True,
                                        comment="submitted|approved|rejected")
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    verify_by: Mapped[object | None] = mapped_column(Date, comment="annual re-verification due")
    submitted_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class RescueTeam(Base):
    """A rescue team of an organisation, in one YJ/T 1 category, based at a point."""

    __tablename__ = "teams"
    __audit_name__ = "team"
    __table_args__ = (
        # Recommendations search the nearest teams of one category. On PostGIS this index
        # (btree_gist, migration 0008) lets the KNN scan of a rare category walk only that
        # category's teams instead of filtering every nearer team.
        knn_index("ix_teams_category_location", "category", "location"),
        # The search stops at the largest service radius of the category's teams: this
        # index answers that maximum without reading the table.
        Index("ix_teams_category_radius", "category", "service_radius_km"),
        # The forces and operations maps count a category's teams in squares (and the forces
        # page counts every category's): on SQLite from this index alone, without the table,
        # when the query states ON_MAP (registry.teams).
        point_cover_index("ix_teams_map", "category", "status", "org_id", "location",
                          where="category <> ''"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), index=True, comment="|".join(TEAM_CATEGORIES))
    status: Mapped[str] = mapped_column(String(12), default="available", index=True,
                                        comment="available|dispatched|unavailable")
    grade: Mapped[int | None] = mapped_column(Integer, comment="official grade 1..3, 1 highest")
    graded_on: Mapped[object | None] = mapped_column(Date)
    service_radius_km: Mapped[float] = mapped_column(Numeric(7, 2), default=50)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                             comment="base, WGS-84 lon/lat")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Readiness summary for recommendations, kept by database triggers on members and
    # insurance_policies (migration 0008): never written here, read by incidents.
    member_count: Mapped[int] = mapped_column(Integer, server_default="0",
                                              comment="kept by triggers (0008)")
    insured_members: Mapped[int] = mapped_column(
        Integer, server_default="0",
        comment="members insured on each day of insured_from..insured_until (kept by triggers)")
    insured_from: Mapped[object | None] = mapped_column(
        Date, server_default=text("'0001-01-01'"),
        comment="first day insured_members holds; NULL: count live")
    insured_until: Mapped[object | None] = mapped_column(
        Date, server_default=text("'9999-12-31'"),
        comment="last day insured_members holds; NULL: count live")


class TeamEquipment(Base):
    """Equipment a team holds: a type and a quantity."""

    __tablename__ = "team_equipment"
    __audit_name__ = "team_equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)


class TeamMember(Base):
    """A member of a team; ID number and phone are sealed, masked copies kept for display."""

    __tablename__ = "members"
    __audit_name__ = "member"
    __table_args__ = (UniqueConstraint("team_id", "person_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_enc: Mapped[str] = mapped_column(String(200), info={"personal": True},
                                               comment="resident ID, AES-GCM sealed")
    id_number_masked: Mapped[str] = mapped_column(String(18), comment="500103********123X")
    phone_enc: Mapped[str] = mapped_column(String(200), info={"personal": True},
                                           comment="mobile, AES-GCM sealed")
    phone_masked: Mapped[str] = mapped_column(String(11), comment="138****5678")
    person_hash: Mapped[str] = mapped_column(String(64), index=True,
                                             info={"secret": True,
                                                   "lookup_hash_of": "id_number_enc"},
                                             comment="HMAC-SHA256 of the ID number: one person "
                                             "across organisations")
    skills: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(Base):
    """A member's qualification certificate; valid today when it has not expired."""

    __tablename__ = "certificates"
    __audit_name__ = "certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100), default="")
    expires_on: Mapped[object | None] = mapped_column(Date, index=True)


class InsurancePolicy(Base):
    """An accident insurance policy covering a member between two dates (inclusive)."""

    __tablename__ = "insurance_policies"
    __audit_name__ = "insurance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    insurer: Mapped[str] = mapped_column(String(200))
    policy_number: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[object] = mapped_column(Date)
    ends_on: Mapped[object] = mapped_column(Date, index=True)
    coverage_amount: Mapped[object] = mapped_column(Numeric(14, 2), comment="yuan")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Training(Base):
    """A training session or joint drill of teams, possibly with professional teams."""

    __tablename__ = "trainings"
    __audit_name__ = "training"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    held_on: Mapped[object] = mapped_column(Date, index=True)
    hours: Mapped[object] = mapped_column(Numeric(5, 1))
    topic: Mapped[str] = mapped_column(String(200))
    with_professional: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    comment="professional teams took part")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")


class TrainingTeam(Base):
    """A team taking part in a training session."""

    __tablename__ = "training_teams"
    __audit_name__ = "training_team"

    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"),
                                             primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)


class TrainingMember(Base):
    """A member attending a training session (their hours count from it)."""

    __tablename__ = "training_members"
    __audit_name__ = "training_member"

    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"),
                                             primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
