"""Warnings for the public: each published warning's CAP document, the active warnings as
GeoJSON and an Atom feed of their CAP documents. No Flask: the routes (alerts/public.py) pass
the links, the CAP sender and the time.

Nothing unpublished leaves here: drafts, approved and cancelled warnings are never read, the
GeoJSON holds only published warnings before their expiry, the Atom feed also the Cancel of
warnings lifted in the last day (CAP consumers need it to withdraw them). No personal data:
warnings hold no person's data, and no user appears (authors are not named).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import shapely
import shapely.geometry
from lxml import etree
from sqlalchemy import func, or_, select

from alerts import cap
from alerts.models import EarlyWarning
from emergency import spatial
from emergency.errors import Conflict, NotFound
from emergency.geo import service as geo
from emergency.geo.models import Area
from maps.cache import LRU
from plans.incident_types import label as hazard_label

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MIMETYPE = "application/atom+xml"
GEOJSON_MIMETYPE = "application/geo+json"
# Lifted warnings stay in the Atom feed this long, as their CAP Cancel.
CANCEL_KEPT = timedelta(hours=24)
# Public maps need outlines, not survey lines: ~100 m tolerance, 4 decimals (~10 m).
SIMPLIFY_DEGREES = 0.001
DECIMALS = 4
LEVEL_LABELS = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警"}
LEVEL_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
# Simplified outlines by (warning id, version): a version's geometry never changes.
# (The districts' base map is kept there too, by their count and last change.)
OUTLINES = LRU(16 * 2**20, weigh=lambda v: len(v) if isinstance(v, str) else 2**17)
# Feed documents by what they depend on (_state): every host makes the same bytes for the
# same database state, so a cached feed is never stale and its ETag is the same everywhere.
FEEDS = LRU(16 * 2**20, weigh=len)


@dataclass
class Links:
    """Absolute links the feeds give: ``cap(id)`` the public CAP document, ``page(id)`` the
    public page's entry, ``feed`` the Atom feed itself, ``html`` the public page."""

    cap: object
    page: object
    feed: str = ""
    html: str = ""


def ever_published(session, warning_id, conflict=False):
    """A warning that has been released (ours published, or imported); else NotFound (the
    public must not learn that a draft exists), or Conflict for staff (``conflict``)."""
    warning = session.get(EarlyWarning, warning_id)
    if warning is not None and (warning.cap_identifier or warning.source):
        return warning
    if conflict and warning is not None:
        raise Conflict("a warning has a CAP document once it is published",
                       {"status": [warning.status]})
    raise NotFound("no such published warning", {"id": [str(warning_id)]})


def area_names(session, codes):
    """{code: name} of the given area codes (unknown codes left out)."""
    codes = list(dict.fromkeys(codes))
    names = {}
    for start in range(0, len(codes), 500):
        names.update(session.execute(select(Area.code, Area.name)
                                     .where(Area.code.in_(codes[start:start + 500]))).all())
    return names


def warning_geometry(session, warning):
    """The warned area as a shapely geometry (stored at publication), or None."""
    t = EarlyWarning.__table__
    wkb = session.scalar(select(spatial.as_wkb(session, t.c.geometry))
                         .where(t.c.id == warning.id))
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else None


def cap_document(session, warning, sender, web=None):
    """The CAP 1.2 document of a released warning: an imported one as its source sent it,
    ours built from its current version (Alert, Update or Cancel)."""
    if warning.source_xml:
        return warning.source_xml.encode("utf-8")
    if not warning.cap_identifier:
        raise NotFound("no such published warning", {"id": [str(warning.id)]})
    return cap.alert_document(warning, sender=sender,
                              area_names=area_names(session, warning.area_codes or []),
                              geometry=warning_geometry(session, warning), web=web)


def _public(now, lifted_since=None):
    """The filter of the warnings the public sees: published before expiry, and (for the
    Atom feed) those lifted since ``lifted_since``."""
    t = EarlyWarning.__table__
    active = (t.c.status == "published") & (t.c.expires > now)
    return active if lifted_since is None else or_(
        active, (t.c.status == "lifted") & (t.c.lifted_at > lifted_since))


def _state(session, now, lifted_since=None):
    """What a feed's bytes depend on, in one cheap query: the last change of any warning and
    how many the public sees now. With no change, time only removes warnings from a feed
    (they expire, or their Cancel ages out), so the count tells which are left; a feed is
    made again only when this pair changes (area renames show with the next change)."""
    t = EarlyWarning.__table__
    return tuple(session.execute(select(
        select(func.max(t.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(t).where(_public(now, lifted_since))
        .scalar_subquery())).one())


def _cached(key, make):
    """The bytes FEEDS holds under ``key``, else ``make()``'s, kept."""
    found = FEEDS.get(key)
    if found is None:
        found = make()
        FEEDS.put(key, found)
    return found


def public_rows(session, now, lifted_since=None):
    """Released warnings for the public, most severe first, then newest."""
    t = EarlyWarning.__table__
    where = _public(now, lifted_since)
    rows = session.execute(select(
        t.c.id, t.c.title, t.c.level, t.c.hazard_type, t.c.status, t.c.onset, t.c.expires,
        t.c.area_codes, t.c.version, t.c.source, t.c.cap_identifier, t.c.description,
        t.c.instruction, t.c.published_at, t.c.updated_at, t.c.lifted_at).where(where)).all()
    return sorted(rows, key=lambda r: (LEVEL_ORDER.get(r.level, 9),
                                       -(r.published_at or r.updated_at).timestamp()))


def _round(coords):
    """Coordinates rounded to DECIMALS, nested as they come."""
    if coords and isinstance(coords[0], float | int):
        return [round(c, DECIMALS) for c in coords[:2]]
    return [_round(c) for c in coords]


def _outline(session, row):
    """The simplified outline of one warning as GeoJSON text (cached per version)."""
    key = (row.id, row.version, row.updated_at.isoformat())
    found = OUTLINES.get(key)
    if found is None:
        t = EarlyWarning.__table__
        wkb = session.scalar(select(spatial.as_wkb(session, t.c.geometry))
                             .where(t.c.id == row.id))
        if wkb is None:
            found = "null"
        else:
            shape = shapely.from_wkb(bytes(wkb)).simplify(SIMPLIFY_DEGREES,
                                                          preserve_topology=True)
            mapping = json.loads(shapely.to_geojson(shape))
            mapping["coordinates"] = _round(mapping["coordinates"])
            found = json.dumps(mapping, separators=(",", ":"))
        OUTLINES.put(key, found)
    return found


def _iso(moment):
    """A time as ISO 8601 with the Beijing offset (None stays None)."""
    return cap.cap_time(moment) if moment else None


def geojson(session, now, links, cached=True):
    """The active published warnings as a GeoJSON FeatureCollection (bytes, compact)."""
    if cached:
        return _cached(("geojson", links.cap(0), *_state(session, now)),
                       lambda: geojson(session, now, links, cached=False))
    rows = public_rows(session, now)
    names = area_names(session, [c for r in rows for c in (r.area_codes or [])])
    parts = []
    for r in rows:
        props = {"title": r.title, "level": r.level, "level_label": LEVEL_LABELS[r.level],
                 "hazard_type": r.hazard_type, "hazard_label": hazard_label(r.hazard_type),
                 "onset": _iso(r.onset), "expires": _iso(r.expires),
                 "published": _iso(r.published_at), "version": r.version,
                 "areas": [names.get(c, c) for c in (r.area_codes or [])],
                 "source": r.source or "", "cap": links.cap(r.id), "url": links.page(r.id)}
        text = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
        # The outline is cached as GeoJSON text: spliced in, not parsed and dumped again.
        parts.append(f'{{"type":"Feature","id":{r.id},"geometry":{_outline(session, r)},'
                     f'"properties":{text}}}')
    return (f'{{"type":"FeatureCollection","numberReturned":{len(parts)},'
            f'"features":[{",".join(parts)}]}}').encode()


def _atom(parent, name, text=None, **attrs):
    """An Atom child element."""
    child = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", {k: str(v) for k, v in
                                                               attrs.items()})
    if text is not None:
        child.text = text
    return child


def _updated(row):
    """When a warning last changed for the public (published, new version or lifted)."""
    return max(m for m in (row.published_at, row.updated_at, row.lifted_at) if m)


def atom(session, now, links, sender, cached=True):
    """The Atom 1.0 feed of the public warnings, each entry linking to its CAP document
    (bytes). The feed's ``updated`` is the newest entry's, so an unchanged feed is
    byte-identical (and its ETag too)."""
    if cached:
        return _cached(("atom", links.feed, sender,
                        *_state(session, now, now - CANCEL_KEPT)),
                       lambda: atom(session, now, links, sender, cached=False))
    rows = public_rows(session, now, lifted_since=now - CANCEL_KEPT)
    names = area_names(session, [c for r in rows for c in (r.area_codes or [])])
    last = max((_updated(r) for r in rows), default=None)
    if last is None:
        t = EarlyWarning.__table__
        last = session.scalar(select(func.max(t.c.updated_at)).where(
            or_(t.c.cap_identifier.is_not(None), t.c.source.is_not(None))))
    return atom_document(rows, names, last, links, sender)


def atom_document(rows, names, last, links, sender):
    """The Atom feed of rows already read (``_rows``) and their area names (bytes)."""
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    _atom(feed, "id", links.feed)
    _atom(feed, "title", "预警信息")
    _atom(feed, "subtitle", "生效中的预警（CAP 1.2）")
    _atom(feed, "updated", _iso(last) if last else "1970-01-01T08:00:00+08:00")
    _atom(_atom(feed, "author"), "name", sender)
    _atom(feed, "link", rel="self", type=ATOM_MIMETYPE, href=links.feed)
    if links.html:
        _atom(feed, "link", rel="alternate", type="text/html", href=links.html)
    for r in rows:
        entry = _atom(feed, "entry")
        _atom(entry, "id", links.cap(r.id))
        lifted = r.status == "lifted"
        _atom(entry, "title", f"【{'解除' if lifted else ''}{LEVEL_LABELS[r.level]}】{r.title}")
        _atom(entry, "updated", _iso(_updated(r)))
        if r.published_at:
            _atom(entry, "published", _iso(r.published_at))
        _atom(_atom(entry, "author"), "name", r.source or sender)
        _atom(entry, "category", term=r.level, label=LEVEL_LABELS[r.level])
        areas = "、".join(names.get(c, c) for c in (r.area_codes or []))
        summary = f"{hazard_label(r.hazard_type)}；{areas}；{_iso(r.onset)} 至 {_iso(r.expires)}"
        _atom(entry, "summary", summary[:600])
        _atom(entry, "link", rel="alternate", type=cap.MIMETYPE, href=links.cap(r.id))
        _atom(entry, "link", rel="related", type="text/html", href=links.page(r.id))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")


def etag(data):
    """A content-derived entity tag: every app host gives the same one for the same bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


BASE_SIMPLIFY_DEGREES = 0.005  # ~500 m: the districts drawn under the warnings, not surveyed


def district_base(session):
    """The districts as light outlines for the public map's offline base: simplified, four
    decimals (the full outlines of Chongqing's 38 districts are ~640 KB, these ~90 KB), made
    again (~0.1 s) only when a district was added or changed."""
    key = ("districts", *session.execute(select(func.count(), func.max(Area.updated_at))
                                         .where(Area.level == "district")).one())
    found = OUTLINES.get(key)
    if found is not None:
        return found
    collection = geo.district_outlines(session)
    for item in collection["features"]:
        shape = shapely.geometry.shape(item["geometry"]).simplify(BASE_SIMPLIFY_DEGREES,
                                                                  preserve_topology=True)
        mapping = json.loads(shapely.to_geojson(shape))
        item["geometry"] = {"type": mapping["type"],
                            "coordinates": _round(mapping["coordinates"])}
    OUTLINES.put(key, collection)
    return collection


def page_items(session, now, lang="zh"):
    """The active published warnings for the public page: dicts of their fields, the area
    names and the simplified outline (GeoJSON mapping), most severe first."""
    rows = public_rows(session, now)
    names = area_names(session, [c for r in rows for c in (r.area_codes or [])])
    return [{"id": r.id, "title": r.title, "level": r.level,
             "level_label": LEVEL_LABELS[r.level], "hazard_type": r.hazard_type,
             "hazard_label": hazard_label(r.hazard_type, lang), "onset": r.onset,
             "expires": r.expires, "published": r.published_at, "source": r.source or "",
             "description": r.description or "", "instruction": r.instruction or "",
             "areas": [names.get(c, c) for c in (r.area_codes or [])],
             "geometry": json.loads(_outline(session, r))} for r in rows]
