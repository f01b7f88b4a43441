"""Emergency measures: issuing one under a numbered decision, lifting it, the register (which
lists requisitions too, as measures of kind requisition) and the maps' in-force scopes.

No Flask here. A measure is ``expired`` when its ``ends_at`` has passed without lifting: that
is computed when it is read, never stored, so no job has to run for it.
"""

import json

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, mapping
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from emergency import spatial
from emergency.auth.roles import ADMIN, DISPATCHER
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid
from emergency.events.service import publish
from emergency.vocabulary import LOCAL_ZONE
from incidents import service as incidents
from incidents.measures.models import LISTED_STATUSES, MEASURE_KINDS, Measure
from incidents.models import Incident, Requisition

WRITERS = (ADMIN, DISPATCHER)
DEFAULT_PREFIX = "渝应急决"
# Attempts at the next number of the year when concurrent decisions take it first.
NUMBER_ATTEMPTS = 50


def order_number(prefix, year, seq):
    """The decision's number as written on it: 渝应急决〔2026〕12号."""
    return f"{prefix}〔{year}〕{seq}号"


def _check_writer(user):
    """Measures are issued and lifted by the bureau's administrators and dispatchers."""
    if user.role not in WRITERS:
        raise Forbidden(f"role {user.role} may not issue or lift measures")


def _text(value, field, longest, problems):
    """A required, stripped text of at most ``longest`` characters."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        problems[field] = ["required"]
    elif len(value) > longest:
        problems[field] = [f"at most {longest} characters"]
    return value


def check_measure(kind, legal_basis, authority, scope, starts_at, ends_at=None, note=""):
    """The measure's fields checked and cleaned; Invalid naming every bad field."""
    problems = {}
    if kind not in MEASURE_KINDS:
        problems["kind"] = [f"one of {', '.join(MEASURE_KINDS)}"]
    legal_basis = _text(legal_basis, "legal_basis", 300, problems)
    authority = _text(authority, "authority", 200, problems)
    if scope is None or scope.geom_type not in ("Polygon", "MultiPolygon") or scope.is_empty:
        problems["scope"] = ["a Polygon or MultiPolygon"]
    elif not scope.is_valid:
        problems["scope"] = ["an invalid polygon"]
    if starts_at is None:
        problems["starts_at"] = ["required"]
    elif ends_at is not None and ends_at <= starts_at:
        problems["ends_at"] = ["must be after starts_at"]
    if not isinstance(note, str) or len(note) > 5000:
        problems["note"] = ["text of at most 5000 characters"]
    if problems:
        raise Invalid("invalid measure", problems)
    if scope.geom_type == "Polygon":
        scope = MultiPolygon([scope])
    return {"kind": kind, "legal_basis": legal_basis, "authority": authority, "scope": scope,
            "starts_at": starts_at, "ends_at": ends_at, "note": note.strip()}


def _insert_numbered(session, measure, prefix):
    """Give the measure the next number of this year's series and insert it.

    Two decisions made at once may read the same highest number; the database's unique
    (order_year, order_seq) refuses the second, which reads again (its savepoint undone)
    and takes the next one.
    """
    year = utcnow().astimezone(LOCAL_ZONE).year
    for _attempt in range(NUMBER_ATTEMPTS):
        seq = (session.scalar(select(func.max(Measure.order_seq))
                              .where(Measure.order_year == year)) or 0) + 1
        measure.order_year, measure.order_seq = year, seq
        measure.order_number = order_number(prefix, year, seq)
        try:
            with session.begin_nested():
                session.add(measure)
                session.flush()
            return measure
        except IntegrityError:
            if measure in session:
                session.expunge(measure)
    raise Conflict("no decision number could be assigned; try again", code="number_busy")


def create_measure(session, user, incident_id, kind, legal_basis, authority, scope,
                   starts_at, ends_at=None, note="", prefix=DEFAULT_PREFIX):
    """Issue a measure for an incident under the year's next decision number."""
    _check_writer(user)
    incident = incidents.incident_or_404(session, incident_id)
    incidents.check_district(session, user, incident.area_code)
    values = check_measure(kind, legal_basis, authority, scope, starts_at, ends_at, note)
    if incident.status == "closed":
        raise Conflict("the incident is closed", code="incident_closed")
    measure = Measure(incident_id=incident.id, kind=values["kind"],
                      legal_basis=values["legal_basis"], authority=values["authority"],
                      scope=from_shape(values["scope"], srid=4326),
                      starts_at=values["starts_at"], ends_at=values["ends_at"],
                      note=values["note"], status="in_force", lift_note="",
                      created_by=user.username, created_at=utcnow())
    _insert_numbered(session, measure, prefix or DEFAULT_PREFIX)
    incidents._event(session, incident.id, user.username, "measure", measure_id=measure.id,
                     order_number=measure.order_number, measure_kind=measure.kind,
                     status="in_force")
    publish(session, "measure.created", measure.id, audience="bureau",
            area_code=incident.area_code, incident_id=incident.id, kind=measure.kind,
            order_number=measure.order_number)
    return measure


def measure_or_404(session, measure_id, lock=False):
    """The measure, or NotFound."""
    return get_or_404(session, Measure, measure_id, "measure", lock=lock)


def lift_measure(session, user, measure_id, note=""):
    """Lift a measure (解除); lifting one already lifted is a conflict."""
    _check_writer(user)
    if not isinstance(note, str) or len(note) > 2000:
        raise Invalid("invalid note", {"note": ["text of at most 2000 characters"]})
    measure = measure_or_404(session, measure_id, lock=True)
    incidents.check_incident_id(session, user, measure.incident_id)
    if measure.status == "lifted":
        raise Conflict("the measure is already lifted", code="already_lifted")
    measure.status, measure.lifted_at = "lifted", utcnow()
    measure.lifted_by, measure.lift_note = user.username, note.strip()
    session.flush()
    incidents._event(session, measure.incident_id, user.username, "measure",
                     measure_id=measure.id, order_number=measure.order_number,
                     measure_kind=measure.kind, status="lifted", note=measure.lift_note)
    area = session.scalar(select(Incident.area_code).where(Incident.id == measure.incident_id))
    publish(session, "measure.lifted", measure.id, audience="bureau", area_code=area,
            incident_id=measure.incident_id, kind=measure.kind,
            order_number=measure.order_number)
    return measure


def status_of(status, ends_at, now):
    """The status as listed: a measure in force whose end has passed is expired."""
    if status == "in_force" and ends_at is not None and ends_at <= now:
        return "expired"
    return status


def measure_dict(measure, now=None, scope=None):
    """A measure as the API shows it (``scope`` a GeoJSON mapping)."""
    now = now or utcnow()
    if scope is None and measure.scope is not None:
        scope = mapping(to_shape(measure.scope))
    return {"id": measure.id, "source": "measure", "incident_id": measure.incident_id,
            "kind": measure.kind, "order_number": measure.order_number,
            "legal_basis": measure.legal_basis, "authority": measure.authority,
            "scope": scope, "starts_at": measure.starts_at, "ends_at": measure.ends_at,
            "note": measure.note, "status": status_of(measure.status, measure.ends_at, now),
            "lifted_at": measure.lifted_at, "lifted_by": measure.lifted_by,
            "lift_note": measure.lift_note, "created_by": measure.created_by,
            "created_at": measure.created_at}


def get_measure(session, user, measure_id):
    """One measure whose incident the user may read."""
    incidents.check_read(user)
    measure = measure_or_404(session, measure_id)
    incidents.check_incident_id(session, user, measure.incident_id)
    return measure


def _requisition_record(row, now):
    """A requisition listed as a measure of kind requisition (no drawn scope)."""
    status = "lifted" if row.status == "returned" else "in_force"
    return {"id": row.id, "source": "requisition", "incident_id": row.incident_id,
            "kind": "requisition", "order_number": row.order_number,
            "legal_basis": row.legal_basis, "authority": row.authority, "scope": None,
            "starts_at": row.starts_at, "ends_at": row.ends_at,
            "note": f"{row.property} × {row.quantity} ({row.owner_name})",
            "status": status_of(status, row.ends_at, now), "lifted_at": row.returned_at,
            "lifted_by": None, "lift_note": row.return_note or "",
            "created_by": row.created_by, "created_at": row.created_at}


def _status_filter(status_col, ends_col, status, now, held="in_force", ended="lifted"):
    """SQL for a listed status over a stored status column and an end column."""
    if status == "lifted":
        return [status_col == ended]
    running = [status_col == held]
    if status == "expired":
        return [*running, ends_col.is_not(None), ends_col <= now]
    return [*running, (ends_col.is_(None)) | (ends_col > now)]


def list_measures(session, user, status=None, incident_id=None, kind=None, bbox=None,
                  limit=100, offset=0, now=None):
    """The register: measures and requisitions in the user's district, newest first,
    filtered by listed status, incident and kind; (records, total)."""
    incidents.check_read(user)
    if status is not None and status not in LISTED_STATUSES:
        raise Invalid("unknown status", {"status": [", ".join(LISTED_STATUSES)]})
    if kind is not None and kind not in MEASURE_KINDS:
        raise Invalid("unknown kind", {"kind": [", ".join(MEASURE_KINDS)]})
    now = now or utcnow()
    scoped = incidents.incidents_in_district(session, user)
    m, r = Measure.__table__, Requisition.__table__
    where_m, where_r = [], []
    if scoped is not None:
        where_m.append(m.c.incident_id.in_(scoped))
        where_r.append(r.c.incident_id.in_(scoped))
    if incident_id is not None:
        where_m.append(m.c.incident_id == incident_id)
        where_r.append(r.c.incident_id == incident_id)
    if status is not None:
        where_m += _status_filter(m.c.status, m.c.ends_at, status, now)
        where_r += _status_filter(r.c.status, r.c.ends_at, status, now, "requisitioned",
                                  "returned")
    if bbox is not None:
        where_m.append(spatial.bbox_filter(session, m, bbox, column="scope"))
    if kind is not None:
        where_m.append(m.c.kind == kind)
    query = select(m, spatial.as_geojson(session, m.c.scope).label("scope_json")) \
        .where(*where_m)
    records = [measure_dict(_Row(row), now, json.loads(row["scope_json"]))
               for row in session.execute(query).mappings()]
    if kind in (None, "requisition") and bbox is None:
        for row in session.execute(select(r).where(*where_r)):
            records.append(_requisition_record(row, now))
    records.sort(key=lambda rec: (rec["starts_at"], rec["created_at"]), reverse=True)
    return records[offset:offset + limit], len(records)


class _Row:
    """A Core row read like a Measure (its scope already as GeoJSON)."""

    def __init__(self, row):
        self.__dict__.update(row)
        self.scope = None


def incident_measures(session, user, incident_id, now=None):
    """Every measure and requisition of one incident (the console's panel)."""
    incidents.incident_in_scope(session, user, incident_id)
    records, _total = list_measures(session, user, incident_id=incident_id, limit=10_000,
                                    now=now)
    return records
