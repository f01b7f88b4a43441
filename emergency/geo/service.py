"""Areas and grids: create, read, find by location, import from files. No Flask here."""

import json
import re

import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import Float, bindparam, func, or_, select

from emergency import spatial
from emergency.auth.models import User, UserGrid
from emergency.errors import Conflict, Invalid, NotFound
from emergency.geo.models import AREA_LEVELS, Area, Grid
from emergency.spatial.extents import extent
from emergency.spatial.tiles import tile_layer

CODE_RE = re.compile(r"^[0-9]{2,12}$")
GRID_CODE_RE = re.compile(r"^[0-9A-Za-z_\-]{1,32}$")


def as_multipolygon(geom):
    """Promote a Polygon to a MultiPolygon; refuse anything else."""
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    raise Invalid("geometry must be a Polygon or MultiPolygon",
                  {"geometry": [f"got {geom.geom_type}"]})


def _area_columns(bind):
    """Columns of an area as the API shows it."""
    t = Area.__table__
    return [t.c.id, t.c.code, t.c.name, t.c.name_en, t.c.level, t.c.parent_code,
            spatial.as_geojson(bind, t.c.geom).label("geometry")]


def _area_dict(row):
    """An area row as a plain dict (geometry is GeoJSON text)."""
    return {"id": row.id, "code": row.code, "name": row.name, "name_en": row.name_en,
            "level": row.level, "parent_code": row.parent_code, "geometry": row.geometry}


def _check_area(session, code, level, parent_code):
    """Validate an area's code, level and parent."""
    problems = {}
    if not CODE_RE.match(code or ""):
        problems["code"] = ["2 to 12 digits"]
    if level not in AREA_LEVELS:
        problems["level"] = [f"must be one of {', '.join(AREA_LEVELS)}"]
    if problems:
        raise Invalid("invalid area", problems)
    if parent_code:
        parent = session.scalar(select(Area).where(Area.code == parent_code))
        if parent is None:
            raise Invalid(f"unknown parent area {parent_code}",
                          {"parent_code": [f"no area {parent_code}"]})
        if AREA_LEVELS.index(parent.level) >= AREA_LEVELS.index(level):
            raise Invalid("parent must be of a higher level",
                          {"parent_code": [f"{parent.level} cannot contain a {level}"]})
    elif level not in ("province", "city"):
        raise Invalid(f"a {level} needs a parent area", {"parent_code": ["required"]})


def create_area(session, code, name, level, geometry, parent_code=None, name_en=""):
    """Create an administrative area; a second one with the same code is a conflict."""
    _check_area(session, code, level, parent_code)
    if session.scalar(select(Area.id).where(Area.code == code)):
        raise Conflict(f"area {code} exists")
    area = Area(code=code, name=name, name_en=name_en or "", level=level,
                parent_code=parent_code or None,
                geom=from_shape(as_multipolygon(geometry), srid=4326))
    session.add(area)
    session.flush()
    return area


def upsert_area(session, code, name, level, geometry, parent_code=None, name_en=""):
    """Create the area or update its name, level, parent and boundary (imports)."""
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        return create_area(session, code, name, level, geometry, parent_code, name_en)
    _check_area(session, code, level, parent_code)
    area.name, area.level, area.parent_code = name, level, parent_code or None
    area.name_en = name_en or area.name_en
    area.geom = from_shape(as_multipolygon(geometry), srid=4326)
    session.flush()
    return area


def get_area(session, code):
    """One area with its geometry, or NotFound."""
    row = session.execute(select(*_area_columns(session)).where(Area.code == code)).first()
    if row is None:
        raise NotFound(f"no area {code}")
    return _area_dict(row)


def _like(text):
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_areas(session, level=None, parent_code=None, bbox=None, q=None, limit=100, offset=0):
    """Areas matching the filters (``q``: part of the name or English name, or the code),
    ordered by code, with the total count."""
    t = Area.__table__
    where = []
    if q:
        pattern = _like(q.strip().lower())
        where.append(or_(func.lower(t.c.name).like(pattern, escape="\\"),
                         func.lower(t.c.name_en).like(pattern, escape="\\"),
                         t.c.code == q.strip()))
    if level:
        where.append(t.c.level == level)
    if parent_code:
        where.append(t.c.parent_code == parent_code)
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(*_area_columns(session)).where(*where)
                           .order_by(t.c.code).limit(limit).offset(offset))
    return [_area_dict(r) for r in rows], total


def area_tile(session, level, z, x, y, simplify=None):
    """Areas of one level meeting web-mercator tile z/x/y as a vector tile layer ``areas``
    (code, name, level), simplified by ``simplify`` degrees (``spatial.tiles.tile_layer``:
    MVT bytes on PostGIS, rows on SpatiaLite)."""
    t = Area.__table__
    return tile_layer(session, t, z, x, y, [t.c.code, t.c.name, t.c.level],
                      where=[t.c.level == level], layer="areas", simplify=simplify)


def areas_extent(session):
    """The bounding box of every area: ``{"bbox", "interval": None}``."""
    return extent(session, Area.__table__.c.geom)


def district_outlines(session, limit=1000):
    """The districts as a GeoJSON FeatureCollection (id = code; code and name), for maps."""
    records, _total = list_areas(session, level="district", limit=limit)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r["code"], "geometry": json.loads(r["geometry"]),
         "properties": {"code": r["code"], "name": r["name"]}} for r in records]}


def areas_at(session, lon, lat):
    """Codes of every area containing the point, most local first."""
    t = Area.__table__
    rows = session.execute(select(t.c.code, t.c.level)
                           .where(spatial.covers_point_filter(session, t, lon, lat))).all()
    rows.sort(key=lambda r: AREA_LEVELS.index(r.level), reverse=True)
    return [r.code for r in rows]


def district_at(session, lon, lat):
    """The code of the district-level area covering the point, or None."""
    t = Area.__table__
    return session.scalar(select(t.c.code).where(
        t.c.level == "district", spatial.covers_point_filter(session, t, lon, lat))
        .order_by(t.c.code).limit(1))


def area_descendants(session, code):
    """The code of an area and of every area below it, by parent links (a city's code is no
    prefix of its districts': 500000 → 500103)."""
    found, frontier = [code], [code]
    while frontier:
        frontier = list(session.scalars(select(Area.code).where(Area.parent_code.in_(frontier))))
        found.extend(frontier)
    return found


def in_area(session, column, code):
    """Filter: ``column`` (an area code) is the area or one of its descendants."""
    return column.in_(area_descendants(session, code))


def _grid_columns(bind):
    """Columns of a grid as the API shows it."""
    t = Grid.__table__
    return [t.c.id, t.c.code, t.c.name, t.c.area_code,
            spatial.as_geojson(bind, t.c.geom).label("geometry")]


def _staff_by_grid(session, codes):
    """Usernames of the staff assigned to each grid code."""
    staff = {code: [] for code in codes}
    if not codes:
        return staff
    rows = session.execute(select(UserGrid.grid_code, User.username)
                           .join(User, User.id == UserGrid.user_id)
                           .where(UserGrid.grid_code.in_(codes))
                           .order_by(User.username))
    for code, username in rows:
        staff[code].append(username)
    return staff


def _grid_dicts(session, rows):
    """Grid rows as dicts with their staff."""
    staff = _staff_by_grid(session, [r.code for r in rows])
    return [{"id": r.id, "code": r.code, "name": r.name, "area_code": r.area_code,
             "staff": staff[r.code], "geometry": r.geometry} for r in rows]


def create_grid(session, code, name, area_code, geometry):
    """Create a management grid inside an existing area."""
    if not GRID_CODE_RE.match(code or ""):
        raise Invalid("invalid grid code", {"code": ["1-32 letters, digits, '_' or '-'"]})
    if not session.scalar(select(Area.id).where(Area.code == area_code)):
        raise Invalid(f"unknown area {area_code}", {"area_code": [f"no area {area_code}"]})
    if session.scalar(select(Grid.id).where(Grid.code == code)):
        raise Conflict(f"grid {code} exists")
    grid = Grid(code=code, name=name, area_code=area_code,
                geom=from_shape(as_multipolygon(geometry), srid=4326))
    session.add(grid)
    session.flush()
    return grid


def upsert_grid(session, code, name, area_code, geometry):
    """Create the grid or update its name, area and boundary (imports)."""
    grid = session.scalar(select(Grid).where(Grid.code == code))
    if grid is None:
        return create_grid(session, code, name, area_code, geometry)
    if not session.scalar(select(Area.id).where(Area.code == area_code)):
        raise Invalid(f"unknown area {area_code}", {"area_code": [f"no area {area_code}"]})
    grid.name, grid.area_code = name, area_code
    grid.geom = from_shape(as_multipolygon(geometry), srid=4326)
    session.flush()
    return grid


def get_grid(session, code):
    """One grid with its geometry and staff, or NotFound."""
    row = session.execute(select(*_grid_columns(session)).where(Grid.code == code)).first()
    if row is None:
        raise NotFound(f"no grid {code}")
    return _grid_dicts(session, [row])[0]


def list_grids(session, area_code=None, bbox=None, codes=None, limit=100, offset=0):
    """Grids matching the filters (an area includes its sub-areas), with the total count."""
    t = Grid.__table__
    where = []
    if area_code:
        where.append(in_area(session, t.c.area_code, area_code))
    if codes is not None:
        where.append(t.c.code.in_(list(codes)))
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(*_grid_columns(session)).where(*where)
                           .order_by(t.c.code).limit(limit).offset(offset)).all()
    return _grid_dicts(session, rows), total


def grids_extent(session):
    """The bounding box of every grid: ``{"bbox", "interval": None}``."""
    return extent(session, Grid.__table__.c.geom)


def _grid_at_statement(bind):
    """The grid containing a point (bound as ``lon``, ``lat``), the first by code."""
    t = Grid.__table__
    point = bindparam("lon", type_=Float), bindparam("lat", type_=Float)
    return (select(t.c.code, t.c.area_code).where(spatial.covers_point_filter(bind, t, *point))
            .order_by(t.c.code).limit(1))


# The grid look-up of every new hazard report, built once per backend: composing the
# spatial filter and its cache key cost about three times the query itself on SpatiaLite.
_GRID_AT = spatial.once_per_backend(_grid_at_statement)


def _assigned_grid_at_statement(bind):
    """``_grid_at_statement`` with ``assigned``: whether that grid is one of the user's (bound
    as ``user_id``), asked in the same query."""
    t, g = Grid.__table__, UserGrid.__table__
    assigned = (select(g.c.grid_code).where(g.c.user_id == bindparam("user_id"),
                                            g.c.grid_code == t.c.code)
                .exists().label("assigned"))
    return _grid_at_statement(bind).add_columns(assigned)


_ASSIGNED_GRID_AT = spatial.once_per_backend(_assigned_grid_at_statement)


def grid_at(session, lon, lat):
    """The code of the management grid containing the point, or None."""
    return grid_and_area_at(session, lon, lat)[0]


def grid_and_area_at(session, lon, lat):
    """(grid code, area code) of the management grid containing the point (the first by
    code where grids touch), or (None, None)."""
    statement = _GRID_AT(session)
    row = session.execute(statement, {"lon": float(lon), "lat": float(lat)}).first()
    return (row.code, row.area_code) if row else (None, None)


def assigned_grid_at(session, lon, lat, user_id):
    """(grid code, area code, whether the grid is assigned to ``user_id``) of the management
    grid containing the point, as ``grid_and_area_at`` finds it, in one query (a grid staff
    member's new report asks both); (None, None, False) outside every grid."""
    statement = _ASSIGNED_GRID_AT(session)
    row = session.execute(statement, {"lon": float(lon), "lat": float(lat),
                                      "user_id": int(user_id)}).first()
    return (row.code, row.area_code, bool(row.assigned)) if row else (None, None, False)
