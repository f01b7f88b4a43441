"""GDAL's OAPIF driver reading the OGC API, run in a process of its own (not a test module).

The app unloads GDAL's network drivers in its own process for good once a layer upload ran
(emergency/uploads.py), so the client must not share the test process. Reads JSON from
stdin: {"url", "token", "reads": [{"layer", "bbox"?, "page_size"?}]}; prints JSON: per read
{"ids", "columns", "geometry_types"} or {"error"}; or {"layers"} when a read has no layer.
"""

import json
import sys

import pyogrio


def read(url, spec):
    """One read of a layer (or the layer list) through GDAL."""
    if not spec.get("layer"):
        return {"layers": [str(name) for name, _kind in pyogrio.list_layers(url)]}
    options = {"PAGE_SIZE": str(spec["page_size"])} if spec.get("page_size") else {}
    frame = pyogrio.read_dataframe(url, layer=spec["layer"], fid_as_index=True,
                                   bbox=tuple(spec["bbox"]) if spec.get("bbox") else None,
                                   **options)
    # Integer feature ids become GDAL's FIDs; text ids (area and grid codes) stay a field.
    ids = frame["id"].tolist() if "id" in frame.columns else frame.index.tolist()
    return {"ids": [str(i) for i in ids], "columns": [str(c) for c in frame.columns],
            "geometry_types": sorted({str(t) for t in frame.geometry.geom_type.dropna()}),
            "values": json.loads(frame.drop(columns="geometry").to_json(
                orient="records", force_ascii=False, date_format="iso"))}


def main():
    """Run the reads named on stdin."""
    job = json.load(sys.stdin)
    # GDAL_HTTP_HEADERS never reaches the OAPIF driver's requests (it sends headers of its
    # own, which take their place); GDAL's bearer setting does.
    if job.get("token"):
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER",
                                         "GDAL_HTTP_BEARER": job["token"]})
    results = []
    for spec in job["reads"]:
        try:
            results.append(read(f"OAPIF:{job['url']}", spec))
        except Exception as exc:  # the test asserts on the error GDAL gives
            results.append({"error": str(exc)})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
