"""Tables of incidents, their timeline, dispatches, requisitions and compensation claims."""

from geoalchemy2 import Geometry
from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emergency.db import Base, UTCDateTime, utcnow
from emergency.spatial import partial_index

INCIDENT_STATUSES = ("open", "responding", "closed")
DISPATCH_STATUSES = ("requested", "accepted", "declined", "en_route", "on_scene", "completed",
                     "cancelled")
ACTIVE_DISPATCH = ("requested", "accepted", "en_route", "on_scene")
REQUISITION_STATUSES = ("requisitioned", "returned")
COMPENSATION_STATUSES = ("submitted", "approved", "rejected", "appealed", "paid")
ITEM_KINDS = ("personnel", "meals", "lodging", "transport", "fuel", "equipment_damage",
              "consumables", "property", "other")

# The database itself refuses a second active dispatch of one team, so concurrent requests
# cannot both win whatever the application checks (both backends support partial indexes).
_ACTIVE_SQL = "status IN ('requested', 'accepted', 'en_route', 'on_scene')"
_OPEN_CLAIM_SQL = "status <> 'rejected'"


class Incident(Base):
    """An emergency at a place and time, with its metrics, plan and response level."""

    __tablename__ = "incidents"
    __audit_name__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    incident_type: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True,
                                        comment="open|responding|closed")
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True, nullable=False),
                             comment="WGS-84 lon/lat")
    area_code: Mapped[str | None] = mapped_column(String(12), index=True,
                                                  comment="most local area containing it")
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict,
                                          comment="deaths, injured, missing, affected, ...")
    plan_id: Mapped[int | None] = mapped_column(Integer, comment="applicable published plan")
    plan_version: Mapped[int | None] = mapped_column(Integer)
    plan_title: Mapped[str | None] = mapped_column(String(300))
    response_level: Mapped[int | None] = mapped_column(Integer, comment="1..4, 1 most severe")
    matched: Mapped[list] = mapped_column(JSON, default=list, comment="criteria that matched")
    required_forces: Mapped[list] = mapped_column(
        JSON, default=list, comment="[{category, count}] of the level's plan")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    after_action: Mapped[dict | None] = mapped_column(
        JSON, comment="closing record: summary, dead, missing, injured, losses_yuan, lessons")


class IncidentEvent(Base):
    """One entry of an incident's timeline (creation, metrics, level, dispatch steps)."""

    __tablename__ = "incident_events"
    __audit_name__ = "incident_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Dispatch(Base):
    """A request for a team to help at an incident, and its progress."""

    __tablename__ = "dispatches"
    __audit_name__ = "dispatch"
    __table_args__ = (
        partial_index("uq_dispatches_active_team", "team_id", unique=True, where=_ACTIVE_SQL),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True,
                                        comment="the team's organisation, for scope")
    task: Mapped[str] = mapped_column(Text, default="")
    members_requested: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True,
                                        comment="|".join(DISPATCH_STATUSES))
    distance_km: Mapped[object | None] = mapped_column(Numeric(9, 2))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    en_route_at: Mapped[object | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[object | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[object | None] = mapped_column(UTCDateTime,
                                                    comment="completed, declined or cancelled")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Requisition(Base):
    """Property requisitioned under a written order, to be returned or compensated."""

    __tablename__ = "requisitions"
    __audit_name__ = "requisition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(40), unique=True,
                                              comment="written requisition order (征用令)")
    legal_basis: Mapped[str] = mapped_column(
        String(300), server_default="", comment="the law and article of the requisition")
    authority: Mapped[str] = mapped_column(String(200), server_default="",
                                           comment="the organ that ordered it")
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_contact_enc: Mapped[str] = mapped_column(String(300), info={"personal": True},
                                                   comment="owner's contact, AES-GCM sealed")
    owner_contact_masked: Mapped[str] = mapped_column(String(40))
    property: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[object] = mapped_column(Numeric(12, 2))
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    ends_at: Mapped[object | None] = mapped_column(UTCDateTime)
    valuation: Mapped[object] = mapped_column(Numeric(14, 2), comment="yuan")
    status: Mapped[str] = mapped_column(String(14), default="requisitioned", index=True,
                                        comment="requisitioned|returned")
    returned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    return_condition: Mapped[str | None] = mapped_column(String(20),
                                                         comment="intact|damaged|lost")
    return_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Compensation(Base):
    """A compensation claim for a dispatch or a requisition."""

    __tablename__ = "compensations"
    __audit_name__ = "compensation"
    __table_args__ = (
        # One live claim per dispatch or requisition: a retried submission cannot pay twice.
        partial_index("uq_compensations_open_dispatch", "dispatch_id", unique=True,
                      where=_OPEN_CLAIM_SQL),
        partial_index("uq_compensations_open_requisition", "requisition_id", unique=True,
                      where=_OPEN_CLAIM_SQL),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    dispatch_id: Mapped[int | None] = mapped_column(ForeignKey("dispatches.id"))
    requisition_id: Mapped[int | None] = mapped_column(ForeignKey("requisitions.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True,
                                               comment="claimant organisation (dispatches)")
    claimant: Mapped[str] = mapped_column(String(200), comment="organisation or owner name")
    total: Mapped[object] = mapped_column(Numeric(14, 2), comment="yuan")
    status: Mapped[str] = mapped_column(String(12), default="submitted", index=True,
                                        comment="|".join(COMPENSATION_STATUSES))
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
    paid_by: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The appeal (救济): the first rejection is kept here when it is appealed; the appeal's
    # decision is then the review above, by another administrator.
    rejected_by: Mapped[str | None] = mapped_column(String(64),
                                                    comment="who rejected it before the appeal")
    rejected_at: Mapped[object | None] = mapped_column(UTCDateTime)
    rejection_note: Mapped[str | None] = mapped_column(Text)
    appeal_reason: Mapped[str | None] = mapped_column(Text, comment="the claimant's reason")
    appealed_by: Mapped[str | None] = mapped_column(String(64))
    appealed_at: Mapped[object | None] = mapped_column(UTCDateTime)


class CompensationItem(Base):
    """One line of a claim: kind × quantity × unit price."""

    __tablename__ = "compensation_items"
    __audit_name__ = "compensation_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    compensation_id: Mapped[int] = mapped_column(
        ForeignKey("compensations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="|".join(ITEM_KINDS))
    quantity: Mapped[object] = mapped_column(Numeric(12, 2))
    unit_price: Mapped[object] = mapped_column(Numeric(12, 2), comment="yuan")
    amount: Mapped[object] = mapped_column(Numeric(14, 2), comment="quantity × unit price")
    note: Mapped[str] = mapped_column(Text, default="")


CHECKIN_KINDS = ("in", "out")


class DispatchMember(Base):
    """A member of the dispatched team named to go (by the organisation or an admin)."""

    __tablename__ = "dispatch_members"
    __audit_name__ = "dispatch_member"
    __table_args__ = (UniqueConstraint("dispatch_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    named_by: Mapped[str] = mapped_column(String(64), default="")
    named_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class DispatchCheckin(Base):
    """A member's arrival at (in) or departure from (out) the scene of a dispatch."""

    __tablename__ = "dispatch_checkins"
    __audit_name__ = "dispatch_checkin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(3), comment="in|out")
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=False),
                             comment="where the member checked in or out, WGS-84")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
