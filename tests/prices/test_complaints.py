"""Price complaints: recorded at a point by bureau staff, listed as GeoJSON and filtered."""

from tests.conftest import error_of
from tests.prices.conftest import URL

POINT = {"type": "Point", "coordinates": [106.51, 29.51]}


def complaint(**extra):
    """A valid POST /prices/complaints body."""
    return {"kind": "gouging", "source": "hotline", "commodity": "pork",
            "place": "测试菜市场", "description": "猪肉每公斤涨价 10 元", "location": POINT,
            **extra}


def test_complaint_is_recorded_with_its_district(client, actors, place):
    response = client.post(f"{URL}/complaints", json=complaint(),
                           headers=actors.header("dispatcher"))
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["area_code"] == place["district"] and made["kind"] == "gouging"
    assert made["location"] == POINT and made["created_by"].startswith("dispatcher")
    listed = client.get(f"{URL}/complaints", headers=actors.header("auditor"))
    assert listed.headers["Content-Type"].startswith("application/geo+json")
    body = listed.get_json()
    assert body["total"] == 1 and body["features"][0]["geometry"] == POINT
    assert body["features"][0]["properties"]["commodity"] == "pork"


def test_gcj02_input_is_converted(client, actors, place):
    made = client.post(f"{URL}/complaints", json=complaint(crs="gcj02"),
                       headers=actors.header("planner")).get_json()
    from shapely.geometry import Point

    from emergency.geo import chinacrs

    expected = chinacrs.transform_geometry(Point(106.51, 29.51), "gcj02")
    lon, lat = made["location"]["coordinates"]
    assert abs(lon - expected.x) < 1e-6 and abs(lat - expected.y) < 1e-6
    assert (lon, lat) != (106.51, 29.51)


def test_filters(client, actors, place):
    headers = actors.header("admin")
    client.post(f"{URL}/complaints", json=complaint(), headers=headers)
    client.post(f"{URL}/complaints", json=complaint(kind="hoarding", commodity=None,
                                                    location={"type": "Point",
                                                              "coordinates": [110, 35]}),
                headers=headers)
    get = lambda q: client.get(f"{URL}/complaints?{q}", headers=headers).get_json()  # noqa: E731
    assert get("kind=hoarding")["total"] == 1
    assert get("commodity=pork")["total"] == 1
    assert get(f"area_code={place['city']}")["total"] == 1
    assert get("bbox=106.4,29.4,106.6,29.6")["total"] == 1


def test_bad_input_is_named(client, actors, place):
    headers = actors.header("admin")
    for field, value in (("kind", "theft"), ("commodity", "gold"), ("description", ""),
                         ("location", {"type": "Point", "coordinates": [200, 10]}),
                         ("location", {"type": "LineString",
                                       "coordinates": [[106, 29], [107, 30]]})):
        response = client.post(f"{URL}/complaints", json=complaint(**{field: value}),
                               headers=headers)
        assert response.status_code == 422, (field, value)
        assert field in error_of(response)["details"], (field, value)


def test_who_writes(client, actors, place):
    for role, code in (("admin", 201), ("planner", 201), ("dispatcher", 201),
                       ("auditor", 403), ("grid_staff", 403), ("org_admin", 403)):
        response = client.post(f"{URL}/complaints", json=complaint(),
                               headers=actors.header(role))
        assert response.status_code == code, role


def test_retried_post_with_idempotency_key_records_once(client, actors, place, db):
    from sqlalchemy import func, select

    from prices.models import PriceComplaint

    headers = {**actors.header("dispatcher"), "Idempotency-Key": "complaint-retry-1"}
    first = client.post(f"{URL}/complaints", json=complaint(), headers=headers)
    again = client.post(f"{URL}/complaints", json=complaint(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db.scalar(select(func.count()).select_from(PriceComplaint)) == 1
