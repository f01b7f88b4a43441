"""Risk test factories: areas laid out in UTM metres, layer files, rescue teams."""

import io
import json
import uuid

import pytest
from pyproj import Transformer
from shapely.geometry import Polygon, mapping

from registry.validators import make_credit_code
from tests.factories import register_org

UTM = 32648  # zone 48N, which holds Chongqing's west
X0, Y0 = 500_000.0, 3_300_000.0
_TO_WGS = Transformer.from_crs(UTM, 4326, always_xy=True)


def lonlat(x, y):
    """UTM 48N metres → (lon, lat)."""
    lon, lat = _TO_WGS.transform(x, y)
    return float(lon), float(lat)


def rect(x0, y0, x1, y1):
    """A WGS-84 polygon whose corners are the given UTM 48N metres (offsets from X0, Y0)."""
    return Polygon([lonlat(X0 + x, Y0 + y) for x, y in
                    [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]])


def point(x, y):
    """A GeoJSON point at UTM 48N offsets from X0, Y0."""
    return {"type": "Point", "coordinates": list(lonlat(X0 + x, Y0 + y))}


def collection(features):
    """A GeoJSON FeatureCollection from (geometry mapping, properties) pairs."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g if isinstance(g, dict) else mapping(g),
         "properties": p} for g, p in features]}


def upload(client, headers, fc, name="layer", role="hazard", value_field="value",
           filename="layer.geojson", **form):
    """POST /layers with a GeoJSON FeatureCollection (or raw bytes)."""
    data = fc if isinstance(fc, bytes) else json.dumps(fc).encode()
    body = {"name": name, "role": role, **form}
    if value_field:
        body["value_field"] = value_field
    body["file"] = (io.BytesIO(data), filename)
    return client.post("/api/v1/layers", data=body, headers=headers,
                       content_type="multipart/form-data")


def make_area(db, code="880000", size=(2000, 2000)):
    """A city-level area covering a rectangle of UTM metres from (X0, Y0)."""
    from emergency.geo import service

    service.create_area(db, code, "测试风险市", "city", rect(0, 0, *size))
    db.flush()
    return code


def approved_org(client, actors):
    """An approved organisation and its org_admin headers."""
    org, _user, org_headers = register_org(
        client, actors, name=f"救援队{uuid.uuid4().hex[:4]}",
        credit_code=make_credit_code("52", "500103", f"RK{uuid.uuid4().int % 10**6:06d}"),
        address="渝中区", location=point(500, 500))
    return org, org_headers


def add_team(client, org, org_headers, x, y, radius_km, grade=None):
    """A rescue team at UTM offsets (x, y) through the registry's API."""
    body = {"name": f"队{uuid.uuid4().hex[:4]}", "category": "mountain",
            "location": point(x, y), "service_radius_km": radius_km, "equipment": []}
    if grade:
        body.update(grade=grade, graded_on="2026-01-01")
    response = client.post(f"/api/v1/orgs/{org['id']}/teams", json=body, headers=org_headers)
    if response.status_code != 201:
        pytest.fail(f"team not created: {response.get_json()}")
    return response.get_json()


def start(client, headers, area_code, cell_size_m, layers, params=None):
    """POST /risk/assessments and return the response."""
    return client.post("/api/v1/risk/assessments", headers=headers, json={
        "area_code": area_code, "cell_size_m": cell_size_m, "layers": layers,
        "params": params or {}})
