"""Query parameters of the OGC API (bbox, limit, offset, datetime, f) read from a plain
mapping; a bad one is a 400 naming the parameter. No Flask here."""

import math
import re
from datetime import UTC, date, datetime, time, timedelta

from emergency.errors import DomainError

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Parameters of the items request; any other is refused (OGC API – Features, Part 1,
# /req/core/query-param-unknown). ``f`` picks the encoding (only JSON is served); ``lang``
# the language of error messages, as everywhere in the app.
OTHER_PARAMS = frozenset({"f", "lang"})
ITEMS_PARAMS = OTHER_PARAMS | {"bbox", "bbox-crs", "limit", "offset", "datetime", "cursor"}
FORMATS = frozenset({"json", "geojson", "application/json", "application/geo+json"})
CRS84 = frozenset({"http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                   "http://www.opengis.net/def/crs/EPSG/0/4326"})
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")


class BadParameter(DomainError):
    """A query parameter the service cannot read (400, naming it)."""

    status = 400
    code = "bad_request"

    def __init__(self, name, problem):
        super().__init__(f"invalid parameter {name}: {problem}", {name: [problem]})


def check_known(args, known):
    """BadParameter for a parameter the request does not define, or a format not served."""
    for name in args:
        if name not in known:
            raise BadParameter(name, "unknown parameter")
    if "f" in args and args["f"] not in FORMATS:
        raise BadParameter("f", "only json is served")


def bbox(text):
    """minlon,minlat,maxlon,maxlat (a 3D box's heights are ignored) in WGS-84, or None."""
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise BadParameter("bbox", "numbers minlon,minlat,maxlon,maxlat") from None
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise BadParameter("bbox", "four numbers minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadParameter("bbox", "lon in -180..180, lat in -90..90, minlat <= maxlat")
    if minx > maxx:
        # Crossing the antimeridian: nothing we serve lies there; refused rather than
        # silently read as the whole world.
        raise BadParameter("bbox", "minlon must not exceed maxlon")
    return minx, miny, maxx, maxy


def bbox_crs(text):
    """Only WGS-84 longitude/latitude is served."""
    if text is not None and text not in CRS84:
        raise BadParameter("bbox-crs", "only CRS84 (WGS-84 lon/lat) is served")


def limit(text):
    """Features per page: DEFAULT_LIMIT when absent, at most MAX_LIMIT (larger values are
    lowered to it, as the standard permits); not a whole number >= 1 is a 400."""
    if text is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise BadParameter("limit", f"a whole number from 1 to {MAX_LIMIT}")
    return min(int(text), MAX_LIMIT)


def offset(text):
    """Features skipped before the page (0 when absent)."""
    if text is None:
        return 0
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise BadParameter("offset", "a whole number >= 0")
    return int(text)


def _moment(text, end=False):
    """An RFC 3339 date-time (with its offset) in UTC; a date stands for its whole day
    (its first moment, or its last when it ends an interval)."""
    try:
        if _DAY.match(text):
            day = date.fromisoformat(text)
            if end:
                return datetime.combine(day + timedelta(days=1), time(), UTC) \
                    - timedelta(microseconds=1)
            return datetime.combine(day, time(), UTC)
        if _MOMENT.match(text):
            return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except ValueError:
        pass
    raise BadParameter("datetime", "an RFC 3339 date or date-time with offset (e.g. "
                       "2024-07-01T08:00:00Z), or an interval start/end with '..' for an "
                       "open end")


def period(text):
    """(start, end) in UTC from ``datetime``: an instant (a date is its whole day), or an
    interval ``start/end`` where either end may be open (``..`` or empty); None when
    absent or open at both ends."""
    if text is None:
        return None
    if "/" not in text:
        return _moment(text), _moment(text, end=True)
    first, _sep, last = text.partition("/")
    start = None if first in ("", "..") else _moment(first)
    end = None if last in ("", "..") else _moment(last, end=True)
    if start is not None and end is not None and start > end:
        raise BadParameter("datetime", "the interval's start is after its end")
    if start is None and end is None:
        if first == last == "":
            raise BadParameter("datetime", "an instant or an interval start/end")
        return None
    return start, end


def cursor(text, read):
    """The key a ``cursor`` parameter names (``read``: the collection's reader), None when
    absent; a 400 when the collection has none or the text is not one of its cursors."""
    if text is None:
        return None
    key = read(text) if read is not None else None
    if key is None:
        raise BadParameter("cursor", "not a cursor of this collection (take it from a next "
                                     "link)")
    return key
