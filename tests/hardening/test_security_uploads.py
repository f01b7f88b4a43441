"""Hostile files (issue 15, classes 1 and 5): uploads open only as their declared format,
with no file or network access beyond them, and bombs are refused from their headers.

Every hostile file is made here, small on disk. Each rejection is followed by a health call:
the server must still answer.
"""

import http.server
import io
import json
import re
import struct
import threading
import zipfile
import zlib

import pytest
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import func, select

from risk.models import RiskLayer
from tests.conftest import error_of
from tests.factories import add_team, register_org
from tests.hazards.hazard_helpers import body as hazard_body
from tests.risk.risk_factories import collection, point, upload

SECRET = "SECRET-MARKER-7f3a9c"


def _healthy(client):
    """The server still answers after the rejection."""
    assert client.get("/api/v1/health").status_code == 200


def _clean(response, *leaks):
    """The response names neither the secret, nor a server path, nor any given string."""
    text = response.get_data(as_text=True)
    for leak in (SECRET, "/tmp", "/vsi", "upload.", *leaks):
        assert leak not in text, (leak, text)


@pytest.fixture
def secret_file(tmp_path):
    """A CSV on the server holding a secret, as GDAL's CSV driver would read it."""
    path = tmp_path / "secret.csv"
    path.write_text(f"name,WKT\n{SECRET},POINT (106.5 29.5)\n")
    return path


@pytest.fixture
def web_server():
    """A local HTTP server that records every request it gets (the SSRF target)."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            """Record the request and answer with a small CSV."""
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(f"name,WKT\n{SECRET},POINT (106.5 29.5)\n".encode())

        def log_message(self, *args):
            """Quiet."""

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def _vrt(source):
    """GDAL VRT XML that makes GDAL open ``source`` (a file or URL) as a CSV."""
    return (f'<OGRVRTDataSource><OGRVRTLayer name="secret"><SrcDataSource>CSV:{source}'
            '</SrcDataSource><GeometryField encoding="WKT" field="WKT"/>'
            '</OGRVRTLayer></OGRVRTDataSource>').encode()


def _zipped(members):
    """A zip of {name: bytes}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _layers(db):
    """How many layers are stored."""
    return db.scalar(select(func.count(RiskLayer.id)))


@pytest.mark.parametrize("filename", ["roads.geojson", "roads.json", "roads.gpkg"])
def test_vrt_disguised_as_a_layer_reads_no_server_file(client, actors, db, secret_file,
                                                       filename):
    before = _layers(db)
    response = upload(client, actors.header("planner"), _vrt(secret_file),
                      filename=filename, value_field="name", crs="wgs84")
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]
    _clean(response, str(secret_file))
    assert _layers(db) == before
    _healthy(client)


def test_vrt_inside_a_zip_reads_no_server_file(client, actors, db, secret_file):
    data = _zipped({"roads.vrt": _vrt(secret_file)})
    response = upload(client, actors.header("planner"), data, filename="roads.zip",
                      value_field="name", crs="wgs84")
    assert response.status_code == 422, response.get_json()
    _clean(response, str(secret_file))
    _healthy(client)


def test_vrt_with_a_url_makes_no_request(client, actors, db, web_server):
    url, hits = web_server
    response = upload(client, actors.header("planner"), _vrt(f"/vsicurl/{url}/leak.csv"),
                      filename="roads.geojson", value_field="name", crs="wgs84")
    assert response.status_code == 422, response.get_json()
    _clean(response, url)
    assert hits == []


@pytest.mark.parametrize("kind", ["link", "url"])
def test_geojson_linked_crs_makes_no_request(client, actors, db, web_server, kind):
    url, hits = web_server
    fc = collection([(point(10, 10), {"value": 1})])
    fc["crs"] = {"type": kind, "properties": {"href": f"{url}/crs", "url": f"{url}/crs"}}
    response = upload(client, actors.header("planner"), fc)
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]
    assert hits == []
    assert _layers(db) == 0


def test_geojson_named_crs_is_still_read(client, actors, db):
    fc = collection([(point(10, 10), {"value": 1})])
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    response = upload(client, actors.header("planner"), fc)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("filename, data", [
    ("roads.geojson", f"not json at all {SECRET}".encode()),
    ("roads.geojson", f'{{"type": "FeatureCollection", "features": [{SECRET}'.encode()),
    ("roads.gpkg", f"{SECRET} is not a GeoPackage".encode()),
    ("roads.gpkg", b"SQLite format 3\x00" + SECRET.encode() * 20),
    ("roads.zip", f"{SECRET} is not a zip".encode()),
])
def test_unreadable_files_echo_neither_content_nor_paths(client, actors, db, filename, data):
    response = upload(client, actors.header("planner"), data, filename=filename)
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]
    _clean(response)
    _healthy(client)


def test_geopackage_under_a_geojson_name_is_refused(client, actors, db, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    gpd.GeoDataFrame({"value": [1.0]}, geometry=[Point(106.5, 29.5)], crs=4326).to_file(
        tmp_path / "x.gpkg", engine="pyogrio")
    response = upload(client, actors.header("planner"), (tmp_path / "x.gpkg").read_bytes(),
                      filename="roads.geojson")
    assert response.status_code == 422, response.get_json()
    _clean(response)


def test_geopackage_with_a_view_is_refused(client, actors, db, tmp_path):
    # A view runs when read: a recursive one would keep a worker busy for ever.
    import sqlite3

    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "x.gpkg"
    gpd.GeoDataFrame({"value": [1.0]}, geometry=[Point(106.5, 29.5)], crs=4326).to_file(
        path, engine="pyogrio")
    with sqlite3.connect(path) as con:
        con.execute("CREATE VIEW spin AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                    "SELECT i + 1 FROM n) SELECT i FROM n")
    con.close()
    response = upload(client, actors.header("planner"), path.read_bytes(), filename="x.gpkg",
                      layer="x")
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]


def _shapefile_parts(tmp_path):
    """The files of a valid one-point Shapefile: {suffix: bytes}."""
    import geopandas as gpd
    from shapely.geometry import Point

    gpd.GeoDataFrame({"value": [2.0]}, geometry=[Point(106.5, 29.5)], crs=4326).to_file(
        tmp_path / "hz.shp", engine="pyogrio")
    return {p.suffix: p.read_bytes() for p in tmp_path.glob("hz.*")}


@pytest.mark.parametrize("case", ["escaping", "absolute", "two_shp", "no_dbf", "no_shp"])
def test_bad_zipped_shapefiles_are_refused(client, actors, db, tmp_path, case):
    parts = _shapefile_parts(tmp_path)
    members = {f"hz{suffix}": data for suffix, data in parts.items()}
    if case == "escaping":
        members = {f"../../hz{suffix}": data for suffix, data in parts.items()}
    elif case == "absolute":
        members = {f"/tmp/hz{suffix}": data for suffix, data in parts.items()}
    elif case == "two_shp":
        members.update({f"other{suffix}": data for suffix, data in parts.items()})
    elif case == "no_dbf":
        del members["hz.dbf"]
    else:
        del members["hz.shp"]
    response = upload(client, actors.header("planner"), _zipped(members), filename="hz.zip")
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]
    _clean(response)
    assert not (tmp_path.parent / "hz.shp").exists()


def test_zipped_shapefile_in_a_folder_is_read(client, actors, db, tmp_path):
    parts = _shapefile_parts(tmp_path)
    data = _zipped({f"hazards/HZ{suffix.upper()}": d for suffix, d in parts.items()})
    response = upload(client, actors.header("planner"), data, filename="hz.zip")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["feature_count"] == 1


def _bomb(name, head, size, tail=b""):
    """A zip whose one member is ``head``, spaces and ``tail``, ``size`` bytes in all, built
    from one compressed MiB of spaces repeated (full flushes make each copy stand alone), so
    neither the test nor its file ever holds the member."""
    chunks = (size - len(head) - len(tail)) >> 20
    size = len(head) + (chunks << 20) + len(tail)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(b" " * (1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = start + block * chunks + packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(chunks):
        crc = zlib.crc32(b" " * (1 << 20), crc)
    crc = zlib.crc32(tail, crc)
    raw = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(stream),
                        size, len(raw), 0) + raw
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc,
                          len(stream), size, len(raw), 0, 0, 0, 0, 0, 0) + raw
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(stream), 0)
    return local + stream + central + end


def test_zip_bomb_layer_is_refused_from_its_header(client, actors, db):
    fc = json.dumps(collection([(point(10, 10), {"value": 1})])).encode()
    # 1 GiB of GeoJSON (a valid file: whitespace before the closing brace) in about 1 MB.
    data = _bomb("roads.geojson", fc[:-1], 1 << 30, b"}")
    assert len(data) < 2 << 20
    response = upload(client, actors.header("planner"), data, filename="roads.zip")
    # The test client spools a body this large to a file that only it can close.
    response.request.input_stream.close()
    assert response.status_code == 413, response.get_json()
    assert "file" in error_of(response)["details"]
    _healthy(client)


def test_geojson_over_the_configured_size_is_413(app, client, actors, db):
    app.config["GEOJSON_MAX_BYTES"] = 1000
    fc = collection([(point(10 * i, 10), {"value": i}) for i in range(30)])
    response = upload(client, actors.header("planner"), fc)
    assert response.status_code == 413, response.get_json()
    assert "1000" in error_of(response)["details"]["file"][0]


def test_zip_over_the_configured_total_is_413(app, client, actors, db, tmp_path):
    app.config["UPLOAD_MAX_UNCOMPRESSED_BYTES"] = 1000
    parts = _shapefile_parts(tmp_path)
    parts[".dbf"] += b"\x1a" * 2000  # past the limit, at a harmless compression ratio
    data = _zipped({f"hz{suffix}": d for suffix, d in parts.items()})
    response = upload(client, actors.header("planner"), data, filename="hz.zip")
    assert response.status_code == 413, response.get_json()
    assert "1000" in error_of(response)["details"]["file"][0]


# --- spreadsheets -------------------------------------------------------------------------


@pytest.fixture
def team(client, actors):
    """An approved organisation's team and its org_admin's headers."""
    org, _user, headers = register_org(client, actors)
    return add_team(client, org["id"], headers)["id"], headers


def _sheet(far_cell, keep_dimension=True):
    """An .xlsx roster with a header row and one cell at ``far_cell``."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "手机号"])
    sheet[far_cell] = "x"
    out = io.BytesIO()
    book.save(out)
    if keep_dimension:
        return out.getvalue()
    # The same file without its <dimension>: the check must read the cells, not the hint.
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    members = {}
    for info in source.infolist():
        data = source.read(info)
        if info.filename.startswith("xl/worksheets/"):
            data = re.sub(rb"<dimension [^>]*/>", b"", data)
        members[info.filename] = data
    return _zipped(members)


def _import(client, team, data):
    """POST the roster."""
    team_id, headers = team
    return client.post(f"/api/v1/teams/{team_id}/members/import",
                       data={"file": (io.BytesIO(data), "roster.xlsx")}, headers=headers)


@pytest.mark.parametrize("far_cell, keep_dimension", [
    ("XFD1048576", True), ("XFD1048576", False), ("Z2000000", True), ("A1048576", False)])
def test_xlsx_with_a_far_cell_is_refused_before_reading(client, team, far_cell, keep_dimension):
    if far_cell == "Z2000000":
        # openpyxl refuses rows past Excel's limit; a reader must not trust that.
        data = _sheet("Z200", keep_dimension)
        source = zipfile.ZipFile(io.BytesIO(data))
        data = _zipped({i.filename: source.read(i).replace(b"Z200", b"Z2000000")
                        for i in source.infolist()})
    else:
        data = _sheet(far_cell, keep_dimension)
    assert len(data) < 10_000
    response = _import(client, team, data)
    assert response.status_code in (413, 422), response.get_json()
    assert "2000000" in " ".join(error_of(response)["details"]["file"])  # XLSX_MAX_CELLS
    _healthy(client)


@pytest.mark.parametrize("xml, span", [
    # A position hidden inside another attribute's value does not hide the real one.
    (b"""<row r="1"><c s=" r='A1'" r="XFD1048576"/></row>""", (1048576, 16384)),
    (b"""<x:row r='2'><x:c r='C7'/></x:row>""", (7, 3)),  # any prefix, single quotes
    (b"""<row r="5"><c/><c/><c/></row><row><c/></row>""", (6, 3)),  # cells placed in turn
    (b"""<row r="1"><c r="B1"/></row>""", (1, 2)),
])
def test_sheet_span_counts_cells_as_a_reader_places_them(xml, span):
    from emergency.uploads import _sheet_span

    rows, cols = _sheet_span(b"<sheetData>" + xml + b"</sheetData>")
    assert rows >= span[0] and cols >= span[1]
    assert rows * cols <= 4 * span[0] * span[1] + 16  # and not wildly more


def test_xlsx_decompression_bomb_is_refused(client, team):
    data = _bomb("xl/sharedStrings.xml", b"<sst>", 1 << 30, b"</sst>")
    assert len(data) < 2 << 20
    response = _import(client, team, data)
    # The test client spools a body this large to a file that only it can close.
    response.request.input_stream.close()
    assert response.status_code == 413, response.get_json()
    assert "file" in error_of(response)["details"]
    _healthy(client)


def test_ods_named_xlsx_is_refused(client, team):
    # The reader takes an OpenDocument sheet by its content; repeated cells make this 1 KB
    # file 10^8 cells (it aborted the worker).
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:'
        'oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:'
        'opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:'
        'text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table '
        'table:name="s"><table:table-row table:number-rows-repeated="100000"><table:table-cell '
        'table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p>'
        "</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>")
    data = _zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": content})
    response = _import(client, team, data)
    assert response.status_code == 422, response.get_json()
    assert "file" in error_of(response)["details"]
    _healthy(client)


def test_xlsx_over_the_configured_cells_is_refused(app, client, team):
    app.config["XLSX_MAX_CELLS"] = 100
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "手机号"])
    for i in range(40):
        sheet.append([f"队员{i}", "x", "y"])
    out = io.BytesIO()
    book.save(out)
    response = _import(client, team, out.getvalue())
    assert response.status_code in (413, 422), response.get_json()
    assert "100" in " ".join(error_of(response)["details"]["file"])


# --- photos -------------------------------------------------------------------------------


@pytest.fixture
def report(client, actors, place):
    """A hazard report and its grid staff member's headers."""
    _user, headers = actors.make("grid_staff", grids=[place["grids"][0]])
    return client.post("/api/v1/hazards", json=hazard_body(), headers=headers).get_json(), headers


def _photo(client, report, data, name="p.png"):
    """POST a photo."""
    found, headers = report
    return client.post(f"/api/v1/hazards/{found['id']}/photos", headers=headers,
                       data={"photo": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_pixel_bomb_photo_is_refused_from_its_header(client, report):
    out = io.BytesIO()
    Image.new("1", (7700, 7700)).save(out, "PNG")
    assert len(out.getvalue()) < 300_000
    response = _photo(client, report, out.getvalue())
    assert response.status_code in (413, 422), response.get_json()
    assert "photo" in error_of(response)["details"]
    _healthy(client)


def test_photo_pixel_limit_is_configurable(app, client, report):
    app.config["PHOTO_MAX_PIXELS"] = 100 * 100
    out = io.BytesIO()
    Image.new("RGB", (101, 100), "red").save(out, "JPEG")
    response = _photo(client, report, out.getvalue(), "p.jpg")
    assert response.status_code in (413, 422), response.get_json()
    assert "10000" in error_of(response)["details"]["photo"][0]
    out = io.BytesIO()
    Image.new("RGB", (100, 100), "red").save(out, "JPEG")
    assert _photo(client, report, out.getvalue(), "p.jpg").status_code == 201

