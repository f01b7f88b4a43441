"""The geo service's shared read helpers, on both backends."""

from emergency.geo import service


def test_district_outlines_are_the_districts_as_a_feature_collection(db, place):
    outlines = service.district_outlines(db)
    assert outlines["type"] == "FeatureCollection"
    [feature] = outlines["features"]
    assert feature["id"] == place["district"]
    assert feature["properties"] == {"code": place["district"], "name": "测试区"}
    assert feature["geometry"]["type"] == "MultiPolygon"
