"""The feature collections of the OGC API: what each one is, and how its items, single
features and extent are read through the owning domain's service (scope included).

No Flask here. Every collection names the properties it shows (a whitelist), so a field
added to a service record never leaves through this service by accident: no personal data
(members, reporters, contacts, staff names) and no free text written about people (hazard
descriptions) is listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from alerts import listing as warning_listing
from emergency.errors import Conflict, Forbidden, NotFound
from emergency.geo import service as geo_service
from hazards import service as hazard_service
from incidents import service as incident_service
from registry import teams as registry_teams
from risk import reports as risk_reports
from risk import service as risk_service

RISK_PREFIX = "risk-"
RISK_ID = re.compile(r"^risk-([1-9][0-9]{0,9})$")
# At most this many finished runs are offered as collections (newest first).
MAX_RISK_COLLECTIONS = 200


@dataclass(frozen=True)
class Collection:
    """One feature collection: its id, words, geometry kind, properties and readers.

    ``items(session, user, bbox, period, limit, offset, after)`` -> (features,
    numberMatched); ``item(session, user, feature_id)`` -> a feature; ``extent(session,
    user)`` -> ``{"bbox", "interval"}``. ``period`` is (start, end), either None when open,
    or None. A collection with a ``cursor`` (cursor_of(feature) -> text, read(text) -> key
    or None when malformed) pages by key: ``after`` is the key of the last feature of the
    page before, and no rows are skipped in the database.
    """

    id: str
    title: str
    description: str
    geometry: str  # "point" or "polygon"
    properties: dict  # name -> JSON schema type
    items: object
    item: object
    extent: object
    temporal: str | None = None  # the property that holds the time, when it has times
    integer_ids: bool = True
    keywords: tuple = field(default=())
    cursor: tuple | None = None  # (cursor_of, read)


def _text(value):
    """A value as JSON shows it: times in ISO 8601 with their offset."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def _pick(record, names):
    """The named fields of a service record, times as text."""
    return {name: _text(record.get(name)) for name in names}


def _feature(fid, geometry, properties):
    """A GeoJSON Feature around a geometry given as a mapping or as GeoJSON text (kept as
    text: documents.encode writes it out as it is)."""
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def _integer(key, what):
    """A feature id of an integer-keyed collection, or NotFound."""
    if not re.fullmatch(r"[1-9][0-9]{0,17}", key or ""):
        raise NotFound(f"no {what} {key}")
    return int(key)


def _since_until(period):
    """(since, until) of a period for services filtering on one time column."""
    return period if period else (None, None)


# ---- areas and grids --------------------------------------------------------------------

AREA_PROPS = {"code": "string", "name": "string", "name_en": "string", "level": "string",
              "parent_code": "string"}


def _area(record):
    """An area record as a Feature (id: its code)."""
    return _feature(record["code"], record["geometry"], _pick(record, AREA_PROPS))


def _areas(session, user, bbox, period, limit, offset, after=None):
    records, total = geo_service.list_areas(session, bbox=bbox, limit=limit, offset=offset)
    return [_area(r) for r in records], total


GRID_PROPS = {"code": "string", "name": "string", "area_code": "string"}


def _grid(record):
    """A grid record as a Feature (id: its code; its staff are not shown)."""
    return _feature(record["code"], record["geometry"], _pick(record, GRID_PROPS))


def _grids(session, user, bbox, period, limit, offset, after=None):
    records, total = geo_service.list_grids(session, bbox=bbox, limit=limit, offset=offset)
    return [_grid(r) for r in records], total


# ---- rescue teams -------------------------------------------------------------------------

TEAM_PROPS = {"name": "string", "category": "string", "status": "string",
              "grade": "integer", "graded_on": "string", "service_radius_km": "number",
              "org_id": "integer", "org_name": "string"}


def _team(record):
    """A team record as a Feature (no members, no contacts)."""
    return _feature(record["id"], record["location"], _pick(record, TEAM_PROPS))


def _teams(session, user, bbox, period, limit, offset, after=None):
    records, total = registry_teams.list_teams(session, user, bbox=bbox, limit=limit,
                                               offset=0 if after else offset, after_id=after)
    return [_team(r) for r in records], total


def _read_id(text):
    """A team cursor (its id) as an int, or None when malformed."""
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,17}", text) else None


def _read_cell(text):
    """A cell cursor ("row.col") as (row, col), or None when malformed."""
    match = re.fullmatch(r"([0-9]{1,9})\.([0-9]{1,9})", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


# ---- hazard reports -----------------------------------------------------------------------

HAZARD_PROPS = {"category": "string", "category_label": "string", "severity": "string",
                "severity_label": "string", "status": "string", "grid_code": "string",
                "area_code": "string", "created_at": "string", "updated_at": "string",
                "due_at": "string", "closed_at": "string", "overdue": "boolean"}


def _hazard(record):
    """A report as a Feature: no reporter, no description, no photos."""
    return _feature(record["id"], record["location"], _pick(record, HAZARD_PROPS))


def _hazards(session, user, bbox, period, limit, offset, after=None):
    since, until = _since_until(period)
    records, total = hazard_service.list_reports(session, user, bbox=bbox, since=since,
                                                 until=until, limit=limit, offset=offset)
    return [_hazard(r) for r in records], total


# ---- incidents ----------------------------------------------------------------------------

INCIDENT_PROPS = {"title": "string", "incident_type": "string", "status": "string",
                  "area_code": "string", "occurred_at": "string", "response_level": "integer",
                  "plan_id": "integer", "metrics": "object"}


def _incident(record, geometry):
    """An incident as a Feature."""
    return _feature(record["id"], geometry, _pick(record, INCIDENT_PROPS))


def _incidents(session, user, bbox, period, limit, offset, after=None):
    since, until = _since_until(period)
    records, total = incident_service.list_incidents(session, user, bbox=bbox, since=since,
                                                     until=until, limit=limit, offset=offset)
    return [_incident(r, r["geometry"]) for r in records], total


def _incident_item(session, user, feature_id):
    record = incident_service.get_incident(session, user, _integer(feature_id, "incident"))
    return _incident(record, record["location"])


# ---- warnings -----------------------------------------------------------------------------

WARNING_PROPS = {"title": "string", "hazard_type": "string", "level": "string",
                 "status": "string", "active": "boolean", "area_codes": "array",
                 "onset": "string", "expires": "string", "published_at": "string",
                 "lifted_at": "string", "description": "string", "instruction": "string",
                 "version": "integer"}


def _warning(record):
    """A warning as a Feature (the warned area; no author or approver names)."""
    return _feature(record["id"], record["geometry"], _pick(record, WARNING_PROPS))


def _warnings(session, user, bbox, period, limit, offset, after=None):
    records, total = warning_listing.list_warnings(session, user, bbox=bbox, period=period,
                                                   limit=limit, offset=offset)
    return [_warning(r) for r in records], total


# ---- the collections of fixed name ------------------------------------------------------

FIXED = (
    Collection("areas", "Administrative areas", "Districts, streets and communities "
               "(GB/T 2260 style codes); feature id: the area code.", "polygon", AREA_PROPS,
               _areas, lambda s, u, fid: _area(geo_service.get_area(s, fid)),
               lambda s, u: geo_service.areas_extent(s), integer_ids=False),
    Collection("grids", "Management grids", "Community management grids (网格); feature "
               "id: the grid code.", "polygon", GRID_PROPS,
               _grids, lambda s, u, fid: _grid(geo_service.get_grid(s, fid)),
               lambda s, u: geo_service.grids_extent(s), integer_ids=False),
    Collection("teams", "Rescue teams", "Registered social rescue teams the user may see, "
               "at their base.", "point", TEAM_PROPS, _teams,
               lambda s, u, fid: _team(registry_teams.get_team(s, u, _integer(fid, "team"))),
               registry_teams.teams_extent, cursor=(lambda f: str(f["id"]), _read_id)),
    Collection("hazards", "Hazard reports", "Hazard reports of grid staff the user may "
               "see; time: when reported.", "point", HAZARD_PROPS, _hazards,
               lambda s, u, fid: _hazard(hazard_service.get_report(
                   s, u, _integer(fid, "hazard report"))),
               hazard_service.reports_extent, temporal="created_at"),
    Collection("incidents", "Incidents", "Incidents the user may see; time: when they "
               "occurred.", "point", INCIDENT_PROPS, _incidents, _incident_item,
               incident_service.incidents_extent, temporal="occurred_at"),
    Collection("warnings", "Warnings (预警)", "Warnings the user may read, by warned area; "
               "time: from onset to expiry.", "polygon", WARNING_PROPS, _warnings,
               lambda s, u, fid: _warning(warning_listing.get_warning(
                   s, u, _integer(fid, "warning"))),
               warning_listing.warnings_extent, temporal="onset/expires"),
)
BY_ID = {c.id: c for c in FIXED}


# ---- risk assessment cells, one collection per finished run -------------------------------

RISK_PROPS = {"hazard": "number", "exposure": "number", "vulnerability": "number",
              "capacity": "number", "risk": "number", "level": "integer", "colour": "string",
              "teams": "integer", "gap": "boolean", "area_code": "string",
              "grid_code": "string", "row": "integer", "col": "integer", "area_m2": "number",
              "likelihood": "integer", "consequence": "integer"}


def risk_collection(run):
    """The collection of a finished run's cells (``run``: an assessment record)."""
    run_id = run["id"]

    def items(session, user, bbox, period, limit, offset, after=None):
        return risk_reports.cell_records(session, run_id, bbox=bbox, limit=limit,
                                         offset=0 if after else offset, order="grid",
                                         after=after)

    def item(session, user, feature_id):
        return risk_reports.cell(session, run_id, _integer(feature_id, "cell"))

    return Collection(
        f"{RISK_PREFIX}{run_id}",
        f"Risk cells of assessment {run_id} ({run['area_code']}, {run['cell_size_m']} m)",
        f"Cells of the finished risk assessment {run_id} of area {run['area_code']}, "
        f"{run['cell_size_m']} m: hazard, exposure, vulnerability, capacity, risk and level "
        "(1 highest, red) per cell; by row and column of the run's grid.", "polygon",
        RISK_PROPS,
        items, item, lambda s, u: risk_reports.run_extent(s, run_id),
        keywords=("risk", str(run["area_code"])),
        cursor=(lambda f: f"{f['properties']['row']}.{f['properties']['col']}", _read_cell))


def _risk_by_id(session, collection_id):
    """The collection of the run named by ``risk-<id>`` when it is done, or NotFound."""
    match = RISK_ID.match(collection_id)
    if match:
        try:
            run = risk_service.assessment_dict(
                risk_service.get_assessment(session, int(match.group(1))))
        except NotFound:
            run = None
        if run is not None and run["status"] == "done":
            return risk_collection(run)
    raise NotFound(f"no collection {collection_id}")


def readable(session, user, collection):
    """The collection's extent when the user may read it, else None (a role the owning
    service refuses, e.g. incidents for organisation administrators)."""
    try:
        return collection.extent(session, user)
    except (Forbidden, Conflict):
        return None


def all_collections(session, user):
    """(collection, extent) of every collection the user may read: the fixed ones, then
    one per finished risk assessment, newest first."""
    found = []
    for collection in FIXED:
        extent = readable(session, user, collection)
        if extent is not None:
            found.append((collection, extent))
    runs, _total = risk_service.list_assessments(session, status="done",
                                                 limit=MAX_RISK_COLLECTIONS)
    for run in runs:
        collection = risk_collection(run)
        found.append((collection, collection.extent(session, user)))
    return found


def get_collection(session, user, collection_id):
    """One collection by id; NotFound when unknown, Forbidden when the role may not read
    it (as the JSON API answers)."""
    collection = BY_ID.get(collection_id) or _risk_by_id(session, collection_id)
    return collection, collection.extent(session, user)


def find(session, collection_id):
    """One collection by id without its extent (item requests), or NotFound."""
    return BY_ID.get(collection_id) or _risk_by_id(session, collection_id)
