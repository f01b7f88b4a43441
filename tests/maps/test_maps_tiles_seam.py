"""The map-layer SQL of the spatial seam on both backends."""

import json
import math

import pytest
from sqlalchemy import func, select

from emergency import spatial
from emergency.geo.models import Area
from emergency.spatial import tiles


def test_simplified_geojson_drops_vertices_and_rounds(db, place):
    t = Area.__table__
    text = db.scalar(select(tiles.simplified_geojson(db, t.c.geom, 0.001, 3))
                     .where(t.c.code == place["district"]))
    geometry = json.loads(text)
    ring = geometry["coordinates"][0][0] if geometry["type"] == "MultiPolygon" \
        else geometry["coordinates"][0]
    assert [106.4, 29.4] in [[round(c, 3) for c in p] for p in ring]
    assert all(len(str(c).split(".")[-1]) <= 3 for p in ring for c in p)


def test_bin_keys_group_features_into_squares(db, place):
    t = Area.__table__
    bx, by = tiles.bin_keys(db, t.c.geom, 0.25)
    rows = db.execute(select(bx, by, func.count()).where(t.c.code.startswith("9901"))
                      .group_by(bx, by).order_by(bx, by)).all()
    # district and street start at (106.4, 29.4) and (106.45, 29.45), the community at 106.5
    assert [(int(r[0]), int(r[1]), r[2]) for r in rows] == [(425, 117, 2), (426, 118, 1)]


def test_vector_tiles_only_where_the_database_encodes_them(db, place, backend):
    t = Area.__table__
    if backend == "spatialite":
        assert not tiles.mvt_supported(db)
        with pytest.raises(NotImplementedError):
            tiles.mvt_tile(db, t, 10, 815, 420)
        return
    assert tiles.mvt_supported(db)
    # Tile 10/815/424 holds the test district around (106.5, 29.5).
    x = int((106.5 + 180) / 360 * 1024)
    y = int((1 - math.asinh(math.tan(math.radians(29.5))) / math.pi) / 2 * 1024)
    tile = tiles.mvt_tile(db, t, 10, x, y, properties=("code",), layer="areas")
    assert len(tile) > 20 and b"areas" in tile and b"990101" in tile
    assert spatial.backend_name(db) == "postgis"
