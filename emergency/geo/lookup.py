"""Areas and grids found by name, pinyin initials or code, for the pickers. No Flask here.

A query with Chinese characters or digits is narrowed in SQL (name contains it, code starts
with it); a query of Latin letters may be pinyin initials ("yzq" → 渝中区), which SQL cannot
match, so the names in scope are read (names and codes only, no geometry; at most
``SCAN_MAX`` rows, ordered by code) and matched in Python with cached initials.
"""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from emergency.geo import names
from emergency.geo.models import Area, Grid
from emergency.geo.service import _like, in_area

# Most rows read to match pinyin initials (a city's ~10,000 communities fit; narrow grids
# by area for more).
SCAN_MAX = 20_000
# Most rows a literal (SQL) match reads before ranking.
LITERAL_MAX = 500
PICK_MAX = 20


def _ranked(query, rows, limit):
    """Rows (dicts) ranked by their name, English name and code; the best ``limit``."""
    scored = []
    for row in rows:
        scores = [names.rank(query, row["name"], row["code"])]
        if row.get("name_en"):
            scores.append(names.rank(query, row["name_en"]))
        scores = [s for s in scores if s is not None]
        if scores:
            scored.append((min(scores), len(row["name"]), row["code"], row))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


def _literal(column_name, column_code, query, extra=()):
    """SQL: the name (or extra names) contains the query, or the code starts with it."""
    q = names.normalise(query)
    pattern = _like(q)
    prefix = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    clauses = [func.lower(column_name).like(pattern, escape="\\"),
               func.lower(column_code).like(prefix, escape="\\")]
    clauses.extend(func.lower(c).like(pattern, escape="\\") for c in extra)
    return or_(*clauses)


def pick_areas(session, query="", level=None, parent_code=None, limit=10):
    """Areas matching the query: ``{code, name, name_en, level, parent_code, parent_name}``,
    best first (exact code, code prefix, name start, name contains, pinyin initials)."""
    limit = max(1, min(limit, PICK_MAX))
    a, parent = Area.__table__, aliased(Area)
    statement = (select(a.c.code, a.c.name, a.c.name_en, a.c.level, a.c.parent_code,
                        parent.name.label("parent_name"))
                 .outerjoin(parent, parent.code == a.c.parent_code))
    if level:
        statement = statement.where(a.c.level == level)
    if parent_code:
        statement = statement.where(in_area(session, a.c.parent_code, parent_code))
    if names.normalise(query) and not names.wants_initials(query):
        statement = statement.where(_literal(a.c.name, a.c.code, query, [a.c.name_en]))
        cap = LITERAL_MAX
    else:
        cap = SCAN_MAX
    rows = [dict(r._mapping) for r in session.execute(statement.order_by(a.c.code).limit(cap))]
    return _ranked(query, rows, limit)


def pick_grids(session, query="", area_code=None, codes=None, limit=10):
    """Grids matching the query: ``{code, name, area_code, area_name}``, best first;
    ``area_code`` includes its sub-areas, ``codes`` limits to those grids (a user's own)."""
    limit = max(1, min(limit, PICK_MAX))
    g, area = Grid.__table__, aliased(Area)
    statement = (select(g.c.code, g.c.name, g.c.area_code, area.name.label("area_name"))
                 .outerjoin(area, area.code == g.c.area_code))
    if area_code:
        statement = statement.where(in_area(session, g.c.area_code, area_code))
    if codes is not None:
        statement = statement.where(g.c.code.in_(list(codes)))
    if names.normalise(query) and not names.wants_initials(query):
        statement = statement.where(_literal(g.c.name, g.c.code, query))
        cap = LITERAL_MAX
    else:
        cap = SCAN_MAX
    rows = [dict(r._mapping) for r in session.execute(statement.order_by(g.c.code).limit(cap))]
    return _ranked(query, rows, limit)
