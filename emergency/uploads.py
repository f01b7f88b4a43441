"""Safe opening of uploaded files: layers, areas and grids, .xlsx sheets and photos.

A geodata file is opened only as the format its name declares, after its content showed it is
that format, and GDAL keeps only the GeoJSON, GeoPackage and Shapefile drivers (no VRT, CSV,
GDALG or network drivers, which would read other files or URLs named inside an upload).
Archives, sheets and images are measured from their directories and headers before anything
is inflated or decoded. Errors name the broken rule, never the file's content or a server
path: GDAL's own message, which may quote both, goes to the log only.
"""

import contextlib
import io
import json
import logging
import re
import shutil
import sqlite3
import struct
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath

import pyogrio
from flask import current_app, has_app_context, has_request_context
from flask_babel import gettext
from pyogrio._ogr import _register_drivers

from emergency.config import SETTINGS_BY_NAME
from emergency.errors import DomainError, Invalid

log = logging.getLogger(__name__)

GEO_FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage",
               ".zip": "Shapefile", ".shp": "Shapefile"}
# MEM opens no files; pyogrio and the exports may use it for in-memory work.
GDAL_DRIVERS = frozenset({"GeoJSON", "GPKG", "ESRI Shapefile", "MEM"})
SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
MAX_MEMBERS = 1000
RATIO_FLOOR = 1 << 20  # smaller members may compress well (XML styles) and cost nothing
OTHER_SHEET_PARTS = frozenset({"xl/workbook.bin", "content.xml", "mimetype"})
SQLITE_MAGIC = b"SQLite format 3\x00"
SHP_MAGIC = b"\x00\x00\x27\x0a"
_gdal_lock = threading.Lock()
_gdal_ready = []


class TooLarge(DomainError):
    """The upload is larger than allowed (as declared or as it would unpack)."""

    status = 413
    code = "too_large"


def _(text, **values):
    """The message in the user's language inside a request, else English (CLI, jobs)."""
    if has_request_context():
        return gettext(text, **values)
    return text % values if values else text


def setting(name):
    """A configured limit: the app's value inside a request or command, else the default."""
    return current_app.config[name] if has_app_context() else SETTINGS_BY_NAME[name].default


def restrict_gdal():
    """Unload every GDAL vector driver but GeoJSON, GPKG and Shapefile, once per process."""
    with _gdal_lock:
        if _gdal_ready:
            return
        pyogrio.set_gdal_config_options({
            # GDALAllRegister ends by unloading the drivers named here, for good.
            "GDAL_SKIP": ",".join(sorted(set(pyogrio.list_drivers()) - GDAL_DRIVERS)),
            "GDAL_DISABLE_READDIR_ON_OPEN": "TRUE",
            # No /vsicurl/ reads at all (no URL ends with this), and no SQLite VirtualOGR.
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".network-access-disabled",
            "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
        })
        _register_drivers()
        _gdal_ready.append(True)


def unreadable(fmt, exc=None, field="file"):
    """Invalid for a file GDAL or a parser refused; its own words go to the log only."""
    if exc is not None:
        log.info("unreadable %s upload: %s", fmt, exc)
    return Invalid(_("the file cannot be read"),
                   {field: [_("not a readable %(format)s file", format=fmt)]})


@contextlib.contextmanager
def geodata(path):
    """The path GDAL may open for this file, after its content matched its suffix."""
    restrict_gdal()
    fmt = GEO_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise Invalid(_("unsupported file type"), {"file": [_(
            "expected GeoJSON (.geojson, .json), GeoPackage (.gpkg) or a zipped Shapefile "
            "(.zip)")]})
    with tempfile.TemporaryDirectory(prefix="upload-") as workdir:
        if fmt == "GeoJSON":
            _check_geojson(path)
        elif fmt == "GeoPackage":
            _check_geopackage(path)
        else:
            if Path(path).suffix.lower() == ".zip":
                path = _extract_shapefile(path, workdir)
            _check_magic(path, fmt)
        yield str(path)


def _check_magic(path, fmt):
    """The first bytes of a GeoPackage or Shapefile are theirs."""
    magic = {"GeoPackage": SQLITE_MAGIC, "Shapefile": SHP_MAGIC}.get(fmt)
    if magic:
        with open(path, "rb") as f:
            if f.read(len(magic)) != magic:
                raise unreadable(fmt)


class _Obj:
    """What is kept of a parsed JSON object: its GeoJSON ``type``, folded."""

    __slots__ = ("kind",)

    def __init__(self, kind):
        self.kind = kind


class _LinkedCrs(Exception):
    """A GeoJSON "crs" that is not a plain name (GDAL would fetch a link or URL)."""


def _object(pairs):
    """JSON object hook: check any "crs" member and keep only the object's type."""
    kinds = set()
    for key, value in pairs:
        folded = key.casefold()  # GDAL finds members case-insensitively
        if folded == "type":
            kinds.add(value.casefold() if isinstance(value, str) else None)
        elif folded == "crs" and value is not None and not (
                isinstance(value, _Obj) and value.kind in ("name", "epsg")):
            raise _LinkedCrs
    return _Obj(kinds.pop() if len(kinds) == 1 else None)


def _check_geojson(path):
    """The file parses as strict JSON, is a GeoJSON object, and names (never links) its CRS."""
    limit = setting("GEOJSON_MAX_BYTES")
    if Path(path).stat().st_size > limit:
        # Parsed whole (as text, up to 4 bytes a character): larger layers come as GPKG.
        raise TooLarge(_("the GeoJSON file is too large"), {"file": [_(
            "at most %(n)s bytes; send larger layers as a GeoPackage or zipped Shapefile",
            n=limit)]})
    data = Path(path).read_bytes()
    try:
        # Each object shrinks to its type once checked: coordinates are freed as they go.
        top = json.loads(data.removeprefix(b"\xef\xbb\xbf"), object_pairs_hook=_object)
    except _LinkedCrs:
        raise Invalid(_("the GeoJSON links its CRS"), {"file": [_(
            'a "crs" may only name a CRS (type "name" or "EPSG"); links to URLs or files '
            "are not followed")]}) from None
    except (ValueError, RecursionError) as exc:
        raise unreadable("GeoJSON", exc) from None
    if not isinstance(top, _Obj) or top.kind not in (
            "featurecollection", "feature", "point", "multipoint", "linestring",
            "multilinestring", "polygon", "multipolygon", "geometrycollection"):
        raise unreadable("GeoJSON")


def _check_geopackage(path):
    """An SQLite file holding only tables: a view could run an endless query when read."""
    _check_magic(path, "GeoPackage")
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as con:
            odd = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'view' OR "
                              "(sql LIKE 'CREATE VIRTUAL TABLE%' AND sql NOT LIKE "
                              "'%USING rtree%')").fetchone()[0]
    except sqlite3.Error as exc:
        raise unreadable("GeoPackage", exc) from None
    if odd:
        raise Invalid(_("the GeoPackage holds views"), {"file": [_(
            "a GeoPackage may hold only tables (no views or virtual tables besides spatial "
            "indexes)")]})


def _entry_count(source):
    """Entries the zip's end record declares (read before zipfile builds its directory)."""
    with contextlib.ExitStack() as stack:
        f = source if hasattr(source, "read") else stack.enter_context(open(source, "rb"))
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65557))  # the end record and the longest comment
        tail = f.read()
        f.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return struct.unpack("<H", tail[at + 10:at + 12])[0]


def open_zip(source, max_total, fmt, field="file"):
    """A ZipFile (of a path or binary file) whose directory keeps the limits: entries, total
    size and compression ratio."""
    count = _entry_count(source)
    if count is None:
        raise unreadable(fmt, field=field)
    if count >= MAX_MEMBERS:  # 0xFFFF means more, in a zip64 record
        raise TooLarge(_("the archive holds too many files"),
                       {field: [_("at most %(n)s files", n=MAX_MEMBERS - 1)]})
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise unreadable(fmt, exc, field) from None
    infos = archive.infolist()
    ratio = setting("UPLOAD_MAX_COMPRESSION_RATIO")
    if sum(i.file_size for i in infos) > max_total:
        archive.close()
        raise TooLarge(_("the archive is too large unpacked"),
                       {field: [_("at most %(n)s bytes unpacked", n=max_total)]})
    if any(i.file_size > RATIO_FLOOR and i.file_size > ratio * max(i.compress_size, 1)
           for i in infos):
        archive.close()
        raise TooLarge(_("the archive is too large unpacked"), {field: [_(
            "a file in the archive is compressed more than %(n)s times", n=ratio)]})
    return archive


def _extract_shapefile(path, workdir):
    """Extract the one Shapefile of a zip under names of our own; its .shp path."""
    with open_zip(path, setting("UPLOAD_MAX_UNCOMPRESSED_BYTES"), "Shapefile") as archive:
        parts = {}
        for info in archive.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or ":" in info.filename:
                raise Invalid(_("the zip holds a path outside it"), {"file": [_(
                    "names in the archive may not be absolute or contain '..'")]})
            if not info.is_dir() and name.suffix.lower() in SHAPE_PARTS:
                stem = str(name.with_suffix("")).casefold()
                parts.setdefault(stem, []).append((name.suffix.lower(), info))
        shapes = [stem for stem, found in parts.items() if ".shp" in dict(found)]
        found = parts[shapes[0]] if len(shapes) == 1 else []
        suffixes = [suffix for suffix, _info in found]
        if not found or len(set(suffixes)) != len(suffixes) \
                or not {".shp", ".shx", ".dbf"} <= set(suffixes):
            raise Invalid(_("the zip holds no single Shapefile"), {"file": [_(
                "a zipped Shapefile holds exactly one .shp with its .shx and .dbf")]})
        for suffix, info in found:
            # zipfile stops at the declared size (checked above) and verifies the CRC.
            with archive.open(info) as src, open(Path(workdir) / f"layer{suffix}", "wb") as dst:
                try:
                    shutil.copyfileobj(src, dst, 1 << 20)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                    raise unreadable("Shapefile", exc) from None
    return Path(workdir) / "layer.shp"


# Start tags of cells and rows, and the position (r attribute) of those that have one; the
# attributes before r are matched whole, so an "r=" inside another value is not taken.
_ATTRS = rb"(?:\s+(?!r\s*=)[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s+r\s*=\s*[\"']"


def _sheet_patterns(prefix):
    """(cell with r, row with r, cell, row, row with its content) for a tag-name prefix."""
    return (re.compile(b"<" + prefix + b"c" + _ATTRS + rb"\$?([A-Za-z]{0,4})\$?(\d{0,10})[\"']"),
            re.compile(b"<" + prefix + b"row" + _ATTRS + rb"(\d{1,10})[\"']"),
            re.compile(b"<" + prefix + rb"c[\s/>]"), re.compile(b"<" + prefix + rb"row[\s/>]"),
            re.compile(b"<" + prefix + rb"row[\s>].*?</(?:[\w.-]+:)?row>", re.S))


# Readers match local names, so <x:c> is a cell too; the plain patterns are ~5x faster.
_PLAIN, _PREFIXED = _sheet_patterns(b""), _sheet_patterns(rb"(?:[\w.-]+:)?")


def _column(letters):
    """1-based column number of letters such as b'A' or b'XFD' (0 for none)."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _sheet_span(xml):
    """(rows, columns) a reader allocates for this sheet XML, counted from its cells.

    Cells and rows without a position follow the one before: rows without one are added to
    the rows, and, when some cells lack one, the most cells of one row to the columns.
    """
    cell_r, row_r, cell, row, row_body = _PREFIXED if b":c" in xml or b":row" in xml \
        else _PLAIN
    cells = cell_r.findall(xml)
    row_numbers = row_r.findall(xml)
    rows = max([int(r or 0) for _c, r in cells] + [int(r) for r in row_numbers], default=0)
    rows += len(row.findall(xml)) - len(row_numbers)
    cols = max(map(_column, {c for c, _r in cells}), default=0)
    if len(cell.findall(xml)) > len(cells):
        # Counting "<c" over-counts (it also finds <col...>), which only errs on the safe side.
        cols += max((body.count(b"<c") + body.count(b":c") for body in row_body.findall(xml)),
                    default=0)
    return rows, cols


def check_xlsx(data, field="file"):
    """Refuse .xlsx bytes whose unpacked size or sheet rectangle would exhaust the reader.

    The reader allocates rows x columns up to the farthest cell, so the cells' own positions
    are counted (a sheet's <dimension> is only a hint and may be missing or false).
    """
    max_cells = setting("XLSX_MAX_CELLS")
    rows = cols = 0
    # The reader also knows .xls, .xlsb and .ods, tried by content when the .xlsx part fails:
    # only a zip, without another format's main part, is left to it.
    if not data.startswith(b"PK\x03\x04"):
        raise unreadable(".xlsx", field=field)
    with open_zip(io.BytesIO(data), setting("XLSX_MAX_UNCOMPRESSED_BYTES"), ".xlsx",
                  field) as archive:
        if {i.filename.casefold() for i in archive.infolist()} & OTHER_SHEET_PARTS:
            raise unreadable(".xlsx", field=field)
        for info in archive.infolist():
            # Every member: a sheet may live under any name the workbook's links give.
            try:
                xml = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise unreadable(".xlsx", exc, field) from None
            span = _sheet_span(xml)
            rows, cols = max(rows, span[0]), max(cols, span[1])
    if rows * cols > max_cells:
        raise TooLarge(_("the sheet is too large"), {field: [_(
            "at most %(n)s cells (rows x columns up to the farthest cell); this sheet spans "
            "%(rows)s x %(cols)s", n=max_cells, rows=rows, cols=cols)]})


def check_pixels(width, height, field="photo"):
    """Refuse an image larger than PHOTO_MAX_PIXELS, from its header, before decoding."""
    limit = setting("PHOTO_MAX_PIXELS")
    if width * height > limit:
        raise TooLarge(_("the image has too many pixels"), {field: [_(
            "at most %(n)s pixels (width x height); this one is %(w)s x %(h)s",
            n=limit, w=width, h=height)]})
