"""CAP 1.2 alerts from other bureaus (the meteorological bureau's rainstorm warnings, the
natural-resources bureau's geological-hazard warnings) imported as published warnings.

No Flask. The source's sender and identifier are kept (``source``, ``source_identifier``)
with its document (``source_xml``): the same sender and identifier again is the stored
warning, never a second one; an Update that references an imported alert changes that
warning (a new version); a Cancel lifts it. Four eyes do not apply: the source bureau ran its
own release procedure, and only administrators and planners (who may publish) import.
"""

import json

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Polygon
from sqlalchemy import String, cast, select

from alerts import cap, service
from alerts.models import EarlyWarning
from emergency.auth.roles import ADMIN, PLANNER
from emergency.db import utcnow
from emergency.errors import Conflict, DomainError, Forbidden, Invalid
from emergency.geo.models import Area

IMPORTERS = (ADMIN, PLANNER)
# A CAP alert is a few kilobytes; a meteorological bureau's with detailed polygons some tens.
MAX_BYTES = 512 * 1024


class TooLarge(DomainError):
    """A document over MAX_BYTES."""

    status = 413
    code = "too_large"


def too_large():
    """The error for a document over MAX_BYTES."""
    return TooLarge("the CAP document is larger than 512 KB", {"_body": ["at most 512 KB"]})


def _like(text):
    """``text`` for a LIKE pattern, its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_imported(session, sender, identifier):
    """The warning imported from (sender, identifier), as its latest message or as one it
    superseded (kept in ``references``), or None."""
    found = session.scalar(select(EarlyWarning).where(
        EarlyWarning.source == sender, EarlyWarning.source_identifier == identifier))
    if found is not None:
        return found
    # References are JSON text: match the entry as JSON writes it, then check it parsed.
    piece = _like(json.dumps(f"{sender},{identifier},")[1:-1])
    candidates = session.scalars(select(EarlyWarning).where(
        EarlyWarning.source == sender,
        cast(EarlyWarning.references, String).like(f"%{piece}%", escape="\\")))
    for warning in candidates:
        if any(ref.split(",")[:2] == [sender, identifier] for ref in warning.references or []):
            return warning
    return None


def _checked(alert, own_sender, now):
    """Invalid (422) naming the element when the alert cannot become a warning of ours."""
    if alert.status != "Actual":
        raise Invalid("only actual alerts are imported",
                      {"cap:status": ["only Actual alerts are imported, not exercises or tests"]})
    if alert.msg_type not in ("Alert", "Update", "Cancel"):
        raise Invalid("only Alert, Update and Cancel messages are imported",
                      {"cap:msgType": ["only Alert, Update and Cancel messages are imported"]})
    if alert.scope != "Public":
        raise Invalid("only public alerts are imported",
                      {"cap:scope": ["only Public alerts are published to everyone"]})
    if alert.sender == own_sender:
        raise Invalid("this is an alert of this bureau",
                      {"cap:sender": ["this bureau's own alerts are not imported"]})
    if alert.msg_type == "Cancel":
        return
    problems = {}
    if not alert.categories:
        problems["cap:info"] = ["an alert or update needs an info block"]
    elif alert.level is None:
        problems["cap:severity"] = ["Extreme, Severe, Moderate or Minor (red, orange, yellow, "
                                "blue); Unknown cannot be graded"]
    if alert.categories and alert.expires is None:
        problems["cap:expires"] = ["required: a warning ends at a known time"]
    elif alert.expires is not None and alert.expires <= now:
        problems["cap:expires"] = ["already passed"]
    elif alert.expires is not None and alert.onset and alert.expires <= alert.onset:
        problems["cap:expires"] = ["must be after onset"]
    if alert.categories and not alert.areas:
        problems["cap:area"] = ["an alert needs an area"]
    if problems:
        raise Invalid("the CAP alert cannot be imported", problems)


def _place(session, alert, region):
    """(area codes we know, warned geometry) of an alert; Invalid when it names no place of
    the served region."""
    codes = alert.area_codes
    known = []
    for start in range(0, len(codes), 500):
        known.extend(session.scalars(select(Area.code).where(
            Area.code.in_(codes[start:start + 500]))))
    known = [c for c in codes if c in set(known)]
    rings = [p for a in alert.areas for p in a.polygons]
    geometry = None
    if rings:
        parts = [Polygon(r) for r in rings]
        if not all(p.is_valid and not p.is_empty for p in parts):
            raise Invalid("the CAP alert cannot be imported",
                          {"cap:polygon": ["a polygon crosses itself or has no area"]})
        geometry = shapely.MultiPolygon(parts)
        minlon, minlat, maxlon, maxlat = region
        x0, y0, x1, y1 = geometry.bounds
        if x0 < minlon or y0 < minlat or x1 > maxlon or y1 > maxlat:
            raise Invalid("the CAP alert cannot be imported",
                          {"cap:polygon": ["outside the served region"]})
        if not known:
            known = service._districts_under(session, geometry)
    if not known:
        raise Invalid("the CAP alert cannot be imported",
                      {"cap:geocode": ["no GB/T 2260 area code or polygon of the served region"]})
    if geometry is None:
        geometry = service.areas_union(session, known)
    return known, geometry


def _apply(warning, alert):
    """Copy an alert's content onto a warning."""
    warning.title = (alert.headline or alert.event)[:200]
    warning.hazard_type = alert.hazard_type
    warning.level = alert.level
    warning.onset = alert.onset
    warning.expires = alert.expires
    warning.description = alert.description
    warning.instruction = alert.instruction
    warning.source_identifier = alert.identifier
    warning.source_xml = alert.document


def _supersede(warning, alert):
    """Keep the warning's current message in its references before a newer one replaces
    it (so that message, sent again, is still found: no duplicate)."""
    sent = warning.published_at or warning.updated_at
    warning.references = [*(warning.references or []),
                          cap.reference(warning.source, warning.source_identifier, sent)]
    warning.version += 1


def import_alert(session, user, data, *, own_sender, region, now=None):
    """Import one CAP 1.2 document: (warning, created). The same sender and identifier again
    returns the stored warning (created False)."""
    now = now or utcnow()
    if user.role not in IMPORTERS:
        raise Forbidden("only administrators and planners import warnings")
    alert = cap.parse_alert(data)
    existing = find_imported(session, alert.sender, alert.identifier)
    if existing is not None:
        return existing, False
    _checked(alert, own_sender, now)
    target = None
    for sender, identifier, _sent in alert.references:
        target = find_imported(session, sender, identifier)
        if target is not None:
            break
    if alert.msg_type == "Cancel":
        if target is None:
            raise Invalid("the CAP alert cannot be imported",
                          {"cap:references": ["refers to no imported warning"]})
        return _cancel(session, user, target, alert, now), False
    codes, geometry = _place(session, alert, region)
    if target is not None:
        return _update(session, user, target, alert, codes, geometry, now), False
    warning = EarlyWarning(status="published", source=alert.sender, author_id=None,
                           published_by=user.id, published_at=alert.sent, version=1,
                           references=[], note=alert.note, area_codes=codes,
                           created_at=now, updated_at=now)
    _apply(warning, alert)
    warning.geometry = from_shape(geometry, srid=4326)
    session.add(warning)
    session.flush()
    service._set_areas(session, warning, codes)
    service._step(session, warning, "import", "published", user, _note(alert), now)
    service._announce(session, warning, "warning.published")
    session.flush()
    return warning, True


def _note(alert):
    """The recorded note of an imported message: who sent which message."""
    return f"CAP {alert.msg_type} {alert.sender},{alert.identifier}"


def _update(session, user, warning, alert, codes, geometry, now):
    """An Update from the source: the warning's next version."""
    if warning.status in ("lifted", "cancelled"):
        raise Conflict("the referenced warning was already lifted",
                       {"cap:references": ["the referenced warning was already lifted"]})
    start = warning.status
    _supersede(warning, alert)
    _apply(warning, alert)
    warning.status = "published"
    warning.published_at = alert.sent
    warning.published_by = user.id
    warning.note = alert.note
    warning.updated_at = now
    warning.geometry = from_shape(geometry, srid=4326)
    if codes != list(warning.area_codes or []):
        service._set_areas(session, warning, codes)
    session.flush()
    service._step(session, warning, "import", "published", user, _note(alert), now, start)
    service._announce(session, warning, "warning.published")
    session.flush()
    return warning


def _cancel(session, user, warning, alert, now):
    """A Cancel from the source: the warning is lifted."""
    if warning.status in ("lifted", "cancelled"):
        raise Conflict("the referenced warning was already lifted",
                       {"cap:references": ["the referenced warning was already lifted"]})
    start = warning.status
    _supersede(warning, alert)
    warning.source_identifier = alert.identifier
    warning.source_xml = alert.document
    warning.status = "lifted"
    warning.lifted_at = now
    warning.note = alert.note or alert.description
    warning.updated_at = now
    session.flush()
    service._step(session, warning, "import", "lifted", user, _note(alert), now, start)
    service._announce(session, warning, "warning.lifted")
    session.flush()
    return warning
