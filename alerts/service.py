"""Warnings: drafting, changes, the four-eyes release steps, lifting and expiry.

No Flask here: callers pass the acting user, the served region, the CAP sender and prefix
(``Release``) and, for tests and the demo, the time. Reads are in alerts/listing.py.

Four eyes: who drafted or changed a warning's content never approves or publishes it (the
Emergency Response Law's release procedure). A change after publication is a new version
(CAP Update): made by an administrator or planner other than the author, with a reason, and
released at once; lifting is a CAP Cancel and also a new version.
"""

from dataclasses import dataclass

import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import delete, select

from alerts.models import FINAL, TRANSITIONS, EarlyWarning, WarningArea, WarningStep
from emergency import spatial
from emergency.auth.permissions import require_area_scope
from emergency.auth.roles import ADMIN, DISPATCHER, PLANNER
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid
from emergency.events.service import publish
from emergency.geo.models import Area
from emergency.vocabulary import LOCAL_ZONE

DRAFTERS = (ADMIN, PLANNER, DISPATCHER)
RELEASERS = (ADMIN, PLANNER)  # approve, publish, change after publication, lift
CHINA_BBOX = (73.4, 3.8, 135.1, 53.6)
MAX_AREAS = 2000
CONTENT = ("title", "hazard_type", "level", "area_codes", "geometry", "onset", "expires",
           "description", "instruction")
NOTE_NEEDED = {"cancelled": "give the reason for cancelling",
               "lifted": "give the reason for lifting"}


@dataclass(frozen=True)
class Release:
    """What publishing needs from the configuration: CAP sender and identifier prefix."""

    sender: str = "cq-emergency@example.gov.cn"
    prefix: str = "cn-cq-emergency"

    def identifier(self, warning):
        """The CAP identifier of the warning's current version."""
        return f"{self.prefix}-{warning.id}-{warning.version}"


DEFAULT_RELEASE = Release()


def cap_time(moment):
    """A time as CAP writes it: Beijing time to the second with its offset."""
    return moment.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")


def effective_status(status, expires, now):
    """The status as read: a published warning past its expiry is expired (before the job)."""
    if status == "published" and expires is not None and expires <= now:
        return "expired"
    return status


# ---------------------------------------------------------------------------------------------
# Validation

def _check_region(geometry, region):
    """Invalid unless the drawn area lies inside the served region."""
    minlon, minlat, maxlon, maxlat = region or CHINA_BBOX
    x0, y0, x1, y1 = geometry.bounds
    if x0 < minlon or y0 < minlat or x1 > maxlon or y1 > maxlat:
        raise Invalid("geometry outside the served region",
                      {"geometry": [f"outside the served region (longitude {minlon}..{maxlon}, "
                                    f"latitude {minlat}..{maxlat})"]})


def _as_multipolygon(geometry):
    """A Polygon or MultiPolygon as a MultiPolygon (other kinds dropped: a union's lines)."""
    if geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    if geometry.geom_type == "MultiPolygon":
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type == "Polygon"]
    parts += [p for g in getattr(geometry, "geoms", []) if g.geom_type == "MultiPolygon"
              for p in g.geoms]
    return shapely.MultiPolygon(parts) if parts else None


def _check_areas(session, codes):
    """The codes, de-duplicated in order; Invalid naming the unknown ones."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if len(codes) > MAX_AREAS:
        raise Invalid("too many areas", {"area_codes": [f"at most {MAX_AREAS} areas"]})
    known = set()
    for start in range(0, len(codes), 500):
        known.update(session.scalars(select(Area.code).where(
            Area.code.in_(codes[start:start + 500]))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Invalid("unknown areas: " + ", ".join(unknown[:20]),
                      {"area_codes": ["unknown areas: " + ", ".join(unknown[:20])]})
    return codes


def _districts_under(session, geometry):
    """Codes of the districts a drawn area meets (its areas when none were picked)."""
    t = Area.__table__
    rows = session.execute(select(t.c.code, spatial.as_wkb(session, t.c.geom).label("wkb"))
                           .where(t.c.level == "district",
                                  spatial.bbox_filter(session, t, geometry.bounds))
                           .order_by(t.c.code)).all()
    return [r.code for r in rows if shapely.from_wkb(bytes(r.wkb)).intersects(geometry)]


def _validate(session, data, region, now):
    """Check a warning's whole content (after a change); fills area_codes from a drawing."""
    problems = {}
    onset, expires = data.get("onset"), data.get("expires")
    if onset and expires and expires <= onset:
        problems["expires"] = ["must be after onset"]
    elif expires and expires <= now:
        problems["expires"] = ["already passed"]
    if not (data.get("title") or "").strip():
        problems["title"] = ["required"]
    if problems:
        raise Invalid("invalid warning: " + ", ".join(sorted(problems)), problems)
    geometry = data.get("geometry")
    if geometry is not None:
        _check_region(geometry, region)
        data["geometry"] = geometry = _as_multipolygon(geometry)
    data["area_codes"] = _check_areas(session, data.get("area_codes") or [])
    if not data["area_codes"]:
        if geometry is None:
            raise Invalid("give areas or draw the warned area",
                          {"area_codes": ["give areas or draw the warned area"]})
        data["area_codes"] = _districts_under(session, geometry)
        if not data["area_codes"]:
            raise Invalid("geometry outside every area",
                          {"geometry": ["outside every area of the served region"]})
    return data


def _set_areas(session, warning, codes):
    """Store the area codes on the warning and as rows for filters."""
    warning.area_codes = list(codes)
    if warning.id is not None:
        session.execute(delete(WarningArea).where(WarningArea.warning_id == warning.id))
    session.flush()
    session.add_all([WarningArea(warning_id=warning.id, area_code=c) for c in codes])


def areas_union(session, codes):
    """The union of the areas' boundaries as a MultiPolygon (None for no areas)."""
    t = Area.__table__
    shapes = []
    for start in range(0, len(codes), 500):
        rows = session.scalars(select(spatial.as_wkb(session, t.c.geom))
                               .where(t.c.code.in_(codes[start:start + 500])))
        shapes.extend(shapely.from_wkb(bytes(w)) for w in rows)
    if not shapes:
        return None
    return _as_multipolygon(shapely.union_all(shapes))


# ---------------------------------------------------------------------------------------------
# Steps

def _step(session, warning, kind, to, user, note="", now=None, start=None):
    """Record one step of the warning."""
    session.add(WarningStep(warning_id=warning.id, kind=kind, from_status=start,
                            to_status=to, version=warning.version,
                            actor=user.username if user else "system", at=now or utcnow(),
                            note=note or ""))


def content_authors(session, warning_id):
    """User names of whoever drafted or changed the warning's content."""
    return set(session.scalars(select(WarningStep.actor).where(
        WarningStep.warning_id == warning_id, WarningStep.kind.in_(("create", "update")))))


def _check_four_eyes(session, warning, user, step):
    """Forbidden when the user drafted or changed the content they would now release."""
    if warning.author_id == user.id or user.username in content_authors(session, warning.id):
        raise Forbidden(f"you drafted or changed this warning: another administrator or "
                        f"planner must {step} it", {"to": ["four eyes: not by its author"]},
                        code="four_eyes")


def _check_note(to, note):
    """Invalid when the step needs a reason and none is given."""
    if to in NOTE_NEEDED and not (note or "").strip():
        raise Invalid("a reason is required for this step", {"note": [NOTE_NEEDED[to]]},
                      code="reason_required")


def _announce(session, warning, kind):
    """A live event for everyone signed in (published warnings are public)."""
    publish(session, kind, warning.id, audience="public", status=warning.status,
            level=warning.level, version=warning.version, title=warning.title,
            hazard_type=warning.hazard_type, area_codes=list(warning.area_codes)[:50])


def _new_version(warning, release, now):
    """Start the next CAP message of a published warning (Update or Cancel)."""
    if warning.cap_identifier:
        sent = warning.published_at or now
        warning.references = [*(warning.references or []),
                              f"{release.sender},{warning.cap_identifier},{cap_time(sent)}"]
    warning.version += 1
    warning.cap_identifier = release.identifier(warning)


# ---------------------------------------------------------------------------------------------
# Operations

def create_warning(session, user, region=None, now=None, **data):
    """Draft a warning (status draft, version 1)."""
    now = now or utcnow()
    if user.role not in DRAFTERS:
        raise Forbidden("only administrators, planners and dispatchers draft warnings")
    data = _validate(session, {k: data.get(k) for k in CONTENT}, region, now)
    require_area_scope(user, data["area_codes"], session)
    warning = EarlyWarning(
        title=data["title"].strip(), hazard_type=data["hazard_type"], level=data["level"],
        status="draft", area_codes=data["area_codes"], onset=data["onset"],
        expires=data["expires"], description=data.get("description") or "",
        instruction=data.get("instruction") or "", author_id=user.id, note="", version=1,
        references=[], created_at=now, updated_at=now,
        geometry=from_shape(data["geometry"], srid=4326) if data.get("geometry") else None)
    session.add(warning)
    session.flush()
    _set_areas(session, warning, data["area_codes"])
    _step(session, warning, "create", "draft", user, now=now)
    session.flush()
    return warning


def _current(warning):
    """The warning's content as a dict of CONTENT fields (geometry as shapely or None)."""
    data = {k: getattr(warning, k) for k in CONTENT if k != "geometry"}
    data["geometry"] = None
    if warning.geometry is not None:
        data["geometry"] = to_shape(warning.geometry)
    return data


def update_warning(session, user, warning_id, changes, region=None, release=DEFAULT_RELEASE,
                   note="", now=None):
    """Change a warning's content.

    A draft stays a draft; an approved warning goes back to draft (its approval was for the
    old text); a published one gets a new version, released at once as a CAP Update (by an
    administrator or planner other than its author, with a reason). Lifted, cancelled and
    expired warnings cannot change (409).
    """
    now = now or utcnow()
    warning = get_or_404(session, EarlyWarning, warning_id, "warning", lock=True)
    status = effective_status(warning.status, warning.expires, now)
    require_area_scope(user, warning.area_codes, session)
    if status in FINAL:
        raise Conflict(f"a {status} warning cannot change", {"status": [status]})
    if user.role not in DRAFTERS:
        raise Forbidden("only administrators, planners and dispatchers change warnings")
    if user.role == DISPATCHER and warning.author_id != user.id:
        raise Forbidden("dispatchers change only the warnings they drafted")
    if status == "published":
        if user.role not in RELEASERS:
            raise Forbidden("only administrators and planners change a published warning")
        _check_four_eyes(session, warning, user, "change")
        if not (note or "").strip():
            raise Invalid("a reason is required for this step",
                          {"note": ["give the reason for the change"]},
                          code="reason_required")
    data = _current(warning)
    changes = {k: v for k, v in changes.items() if k in CONTENT}
    if status == "published" and "area_codes" in changes and "geometry" not in changes:
        data["geometry"] = None  # the stored union was of the old areas
    data.update(changes)
    data = _validate(session, data, region, now)
    require_area_scope(user, data["area_codes"], session)
    for key in ("title", "hazard_type", "level", "onset", "expires"):
        setattr(warning, key, data[key].strip() if key == "title" else data[key])
    warning.description = data.get("description") or ""
    warning.instruction = data.get("instruction") or ""
    if data["area_codes"] != list(warning.area_codes or []):
        _set_areas(session, warning, data["area_codes"])
    geometry = data.get("geometry")
    if status == "published" and geometry is None:
        geometry = areas_union(session, data["area_codes"])
    warning.geometry = from_shape(geometry, srid=4326) if geometry is not None else None
    warning.updated_at = now
    start = warning.status
    if status == "approved":
        warning.status = "draft"
        warning.approved_by = warning.approved_at = None
    if status == "published":
        _new_version(warning, release, now)
        warning.published_at = now
        warning.published_by = user.id
    warning.note = note or ""
    session.flush()
    _step(session, warning, "update", warning.status, user, note, now, start)
    if status == "published":
        _announce(session, warning, "warning.published")
    session.flush()
    return warning


def transition(session, user, warning_id, to, note="", release=DEFAULT_RELEASE, now=None):
    """Take one step: approve, publish, cancel or lift (see TRANSITIONS)."""
    now = now or utcnow()
    warning = get_or_404(session, EarlyWarning, warning_id, "warning", lock=True)
    status = effective_status(warning.status, warning.expires, now)
    require_area_scope(user, warning.area_codes, session)
    if to not in TRANSITIONS.get(status, ()):
        allowed = ", ".join(TRANSITIONS.get(status, ())) or "none"
        raise Conflict(f"a {status} warning cannot become {to}",
                       {"to": [f"allowed from {status}: {allowed}"]})
    if to in ("approved", "published", "lifted") and user.role not in RELEASERS:
        raise Forbidden(f"only administrators and planners may move a warning to {to}")
    if to == "cancelled" and user.role not in RELEASERS and warning.author_id != user.id:
        raise Forbidden("dispatchers cancel only the warnings they drafted")
    if to == "approved":
        _check_four_eyes(session, warning, user, "approve")
    elif to == "published":
        _check_four_eyes(session, warning, user, "publish")
    _check_note(to, note)
    if to == "published" and warning.expires <= now:
        raise Conflict("the warning's expiry has passed: change it before publishing",
                       {"expires": ["already passed"]})
    start = warning.status
    if to == "approved":
        warning.approved_by, warning.approved_at = user.id, now
    elif to == "published":
        if warning.geometry is None:
            union = areas_union(session, list(warning.area_codes))
            warning.geometry = from_shape(union, srid=4326) if union is not None else None
        warning.cap_identifier = release.identifier(warning)
        warning.published_by, warning.published_at = user.id, now
    elif to == "lifted":
        _new_version(warning, release, now)
        warning.lifted_at = now
    elif to == "cancelled":
        warning.cancelled_at = now
    warning.status = to
    warning.note = note or ""
    warning.updated_at = now
    session.flush()
    _step(session, warning, "transition", to, user, note, now, start)
    if to in ("published", "lifted"):
        _announce(session, warning, f"warning.{to}")
    session.flush()
    return warning


def expire_due(session, now=None):
    """Mark every published warning past its expiry as expired; returns how many.

    Each is recorded as a step by ``system`` (and audited) and announced to everyone signed
    in as ``warning.lifted`` with status ``expired``: it no longer applies.
    """
    now = now or utcnow()
    due = session.scalars(select(EarlyWarning).where(
        EarlyWarning.status == "published", EarlyWarning.expires <= now)
        .order_by(EarlyWarning.id).with_for_update()).all()
    for warning in due:
        warning.status = "expired"
        warning.note = "expired"
        warning.updated_at = now
        _step(session, warning, "expiry", "expired", None, "expired", now, "published")
        _announce(session, warning, "warning.lifted")
    session.flush()
    return len(due)
