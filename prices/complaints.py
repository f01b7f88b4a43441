"""Public complaints about prices in emergencies (价格投诉): gouging (哄抬价格), hoarding
(囤积居奇), price rumours (散布涨价信息) and fakes (假冒伪劣), recorded by bureau staff at a
point and mapped. No Flask here.

The complainant's name and phone are not stored here: the hotline (12345/12315) that took
the call keeps them; this register holds what was reported, where, and who recorded it.
"""

import json

from geoalchemy2.shape import from_shape
from sqlalchemy import func, select

from emergency import spatial
from emergency.auth.models import User
from emergency.auth.permissions import require_area_scope
from emergency.db import utcnow
from emergency.errors import Invalid
from emergency.geo import service as geo_service
from prices import catalogue as cat
from prices.models import PriceComplaint
from prices.service import _scope_codes, today

T = PriceComplaint.__table__


def create_complaint(session, user, kind, description, location, source="hotline",
                     commodity=None, place="", received_on=None, region=None):
    """Record a complaint at a point (its district is found from the point)."""
    lon, lat = location.x, location.y
    minlon, minlat, maxlon, maxlat = region or (73.4, 3.8, 135.1, 53.6)
    if not (minlon <= lon <= maxlon and minlat <= lat <= maxlat):
        raise Invalid("location outside the served region",
                      {"location": ["outside the served region"]})
    if commodity and commodity not in cat.catalogue(session, include_inactive=True):
        raise Invalid("unknown commodity", {"commodity": ["unknown commodity; see GET "
                                                          "/api/v1/prices/commodities"]})
    received_on = received_on or today()
    if received_on > today():
        raise Invalid("invalid complaint", {"received_on": ["not a day from 2000 to today"]})
    area_code = geo_service.district_at(session, lon, lat)
    if area_code:
        require_area_scope(user, [area_code], session)
    complaint = PriceComplaint(kind=kind, source=source, commodity=commodity or None,
                               place=place.strip(), description=description.strip(),
                               area_code=area_code, received_on=received_on,
                               created_by=user.id, created_at=utcnow(),
                               geom=from_shape(location, srid=4326))
    session.add(complaint)
    session.flush()
    return get_complaint(session, complaint.id)


def _select(session):
    """The columns of a complaint record, with the recorder's name and the location."""
    return (select(T.c.id, T.c.kind, T.c.source, T.c.commodity, T.c.place, T.c.description,
                   T.c.area_code, T.c.received_on, T.c.created_at,
                   User.username.label("created_by"),
                   spatial.as_geojson(session, T.c.geom).label("location"))
            .select_from(T.outerjoin(User, User.id == T.c.created_by)))


def _record(row):
    """A complaint row as a dict."""
    record = dict(row._mapping)
    record["location"] = json.loads(record["location"]) if record["location"] else None
    record["created_by"] = record["created_by"] or ""
    return record


def get_complaint(session, complaint_id):
    """One complaint as a dict."""
    return _record(session.execute(_select(session).where(T.c.id == complaint_id)).one())


def list_complaints(session, user, kind=None, commodity=None, area_code=None, since=None,
                    bbox=None, limit=100, offset=0):
    """Complaints, newest first, with the total."""
    where = []
    if kind:
        where.append(T.c.kind == kind)
    if commodity:
        where.append(T.c.commodity == commodity)
    if area_code:
        where.append(geo_service.in_area(session, T.c.area_code, area_code))
    scope = _scope_codes(session, user)
    if scope is not None:
        where.append(T.c.area_code.in_(scope))
    if since:
        where.append(T.c.received_on >= since)
    if bbox:
        where.append(spatial.bbox_filter(session, T, bbox))
    total = session.scalar(select(func.count()).select_from(T).where(*where))
    rows = session.execute(_select(session).where(*where).order_by(
        T.c.received_on.desc(), T.c.id.desc()).limit(limit).offset(offset)).all()
    return [_record(r) for r in rows], total
