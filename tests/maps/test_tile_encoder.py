"""maps.tiles.encode (the mapbox-vector-tile package fed with geometries cut to the tile,
repaired and oriented at once): decoded, a tile holds exactly the cut geometries in tile units
with their attributes (None left out, booleans as booleans), holes and parts kept."""

import mapbox_vector_tile
import numpy as np
import shapely
from shapely.geometry import shape

from maps import tiles
from maps.tilemath import tile_bounds

Z, X, Y = 11, 1629, 843


def _decoded(data, name):
    layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[name]
    return [(f["properties"], shape(f["geometry"])) for f in layer["features"]]


def _expected(geoms, props, booleans=()):
    """The features a tile must hold: each geometry cut to the tile in whole tile units
    (those outside left out), with its non-None attributes."""
    tiled = tiles.tile_geometries(geoms, Z, X, Y)
    bad = ~shapely.is_valid(tiled)
    tiled[bad] = shapely.buffer(tiled[bad], 0)
    return [({k: bool(v) if k in booleans else v for k, v in p.items() if v is not None}, g)
            for g, p in zip(tiled, props, strict=True) if not g.is_empty]


def test_polygons_with_holes_and_parts_and_attributes_decode_as_cut():
    west, south, east, north = tile_bounds(Z, X, Y)
    step = (east - west) / 9
    geoms, props = [], []
    rnd = np.random.default_rng(3)
    for i, lon in enumerate(np.arange(west - step, east + step, step)):
        for j, lat in enumerate(np.arange(south - step, north + step, step * 0.87)):
            cell = shapely.box(lon, lat, lon + step * 0.9, lat + step * 0.8)
            if (i + j) % 4 == 0:  # a hole
                cell = cell.difference(shapely.box(lon + step * 0.3, lat + step * 0.3,
                                                   lon + step * 0.5, lat + step * 0.5))
            if (i + j) % 5 == 0:  # two parts
                cell = shapely.MultiPolygon([cell, shapely.box(
                    lon + step * 0.92, lat, lon + step * 0.98, lat + step * 0.05)])
            geoms.append(cell)
            props.append({"id": i * 100 + j, "level": int(rnd.integers(1, 5)),
                          "gap": bool((i * j) % 3 == 0), "risk": float(rnd.random()),
                          "name": f"单元{j % 3}", "minus": -j})
    # a sliver that rounding to whole tile units folds away
    geoms.append(shapely.box(west + step, south + step, west + step + 1e-9, south + 2 * step))
    props.append({"id": -1, "note": None})
    mine = tiles.encode("risk", geoms, props, Z, X, Y, booleans=("gap",))
    got, want = _decoded(mine, "risk"), _expected(geoms, props, booleans=("gap",))
    assert len(got) == len(want) > 100
    for (p1, g1), (p2, g2) in zip(got, want, strict=True):
        assert p1 == p2 and g1.equals(g2)
    assert any(isinstance(g, shapely.MultiPolygon) for _p, g in got)
    assert any(len(g.interiors) for _p, g in got if isinstance(g, shapely.Polygon))


def test_points_and_an_empty_tile():
    west, south, east, north = tile_bounds(Z, X, Y)
    points = [shapely.Point(lon, lat) for lon, lat in zip(
        np.linspace(west - 1, east, 40), np.linspace(south, north, 40), strict=True)]
    props = [{"id": i, "status": "available"} for i in range(40)]
    got = _decoded(tiles.encode("teams", points, props, Z, X, Y), "teams")
    want = _expected(points, props)
    assert [(p, g.coords[0]) for p, g in got] == [(p, g.coords[0]) for p, g in want]
    assert 0 < len(got) < 40  # those west of the tile and its buffer are left out
    assert tiles.encode("teams", [shapely.Point(0, 0)], [{"id": 1}], Z, X, Y) == b""
