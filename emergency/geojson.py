"""GeoJSON in and out: validated geometry fields, CRS at the edge, feature collections."""

import json
import math

import shapely
from flask import Response
from marshmallow import Schema, ValidationError, fields, post_load, validate
from shapely.geometry import shape
from shapely.validation import explain_validity

from emergency.geo import chinacrs

CRS_CHOICES = ("wgs84", "gcj02", "bd09")
GEOJSON_MIMETYPE = "application/geo+json"
MAX_VERTICES = 200_000


def _check_coordinates(geom, name):
    """Raise when any coordinate is not a finite lon/lat."""
    coords = shapely.get_coordinates(geom)
    if len(coords) == 0:
        raise ValidationError(f"{name} has no coordinates")
    if len(coords) > MAX_VERTICES:
        raise ValidationError(f"{name} has more than {MAX_VERTICES} vertices")
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise ValidationError(f"{name} has non-finite coordinates")
    lon, lat = coords[:, 0], coords[:, 1]
    if lon.min() < -180 or lon.max() > 180 or lat.min() < -90 or lat.max() > 90:
        raise ValidationError(f"{name} has coordinates outside lon -180..180 / lat -90..90")


class GeometryField(fields.Field):
    """A GeoJSON geometry object, parsed to a valid shapely geometry of the allowed types."""

    def __init__(self, geometry_types, **kwargs):
        self.geometry_types = tuple(geometry_types)
        super().__init__(**kwargs)
        self.metadata.setdefault("description", "GeoJSON geometry: " +
                                 " or ".join(self.geometry_types))

    def _serialize(self, value, attr, obj, **kwargs):
        """Geometry to a GeoJSON mapping."""
        if value is None:
            return None
        if isinstance(value, dict):
            return value
        return shapely.geometry.mapping(value)

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse and check a GeoJSON geometry."""
        if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
            raise ValidationError("must be a GeoJSON geometry object with type and coordinates")
        if value["type"] not in self.geometry_types:
            raise ValidationError(f"geometry type must be {' or '.join(self.geometry_types)}, "
                                  f"not {value['type']!r}")
        try:
            geom = shape(value)
        except (ValueError, TypeError, AttributeError, IndexError, KeyError,
                shapely.errors.GEOSException) as exc:
            raise ValidationError(f"malformed coordinates: {exc}") from None
        if geom.is_empty:
            raise ValidationError("geometry is empty")
        _check_coordinates(geom, "geometry")
        if not geom.is_valid:
            raise ValidationError(f"invalid geometry: {explain_validity(geom)}")
        return geom


class SpatialInputSchema(Schema):
    """Base for bodies with a geometry or location: applies ``crs`` (wgs84, gcj02, bd09)."""

    crs = fields.String(load_default="wgs84", validate=validate.OneOf(CRS_CHOICES),
                        metadata={"description": "CRS of the given coordinates"})

    @post_load
    def _to_wgs84(self, data, **kwargs):
        """Convert every geometry field to WGS-84 before anything is stored."""
        crs = data.pop("crs", "wgs84")
        for name, field in self.fields.items():
            if isinstance(field, GeometryField) and data.get(name) is not None:
                geom = data[name]
                if crs != "wgs84":
                    geom = chinacrs.transform_geometry(geom, crs)
                    if not geom.is_valid:
                        raise ValidationError({name: ["geometry invalid after CRS conversion"]})
                data[name] = geom
        return data


def parse_bbox(text):
    """minlon,minlat,maxlon,maxlat → tuple of floats, or ValidationError."""
    try:
        parts = [float(p) for p in text.split(",")]
    except (ValueError, AttributeError):
        raise ValidationError("bbox must be minlon,minlat,maxlon,maxlat") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationError("bbox must be four numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("bbox must satisfy -180<=minlon<=maxlon<=180, "
                              "-90<=minlat<=maxlat<=90")
    return minx, miny, maxx, maxy


class BBoxField(fields.Field):
    """A ``bbox`` query parameter."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse the four numbers."""
        return parse_bbox(value)


def feature(fid, geometry, properties):
    """One GeoJSON Feature; ``geometry`` may be a mapping, GeoJSON text or shapely object."""
    if isinstance(geometry, str):
        geometry = json.loads(geometry)
    elif geometry is not None and not isinstance(geometry, dict):
        geometry = shapely.geometry.mapping(geometry)
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def feature_collection(features, total=None, **extra):
    """A FeatureCollection; ``total`` is the number matching before limit/offset."""
    body = {"type": "FeatureCollection", "features": list(features)}
    if total is not None:
        body["total"] = total
    body.update(extra)
    return body


def geojson_response(body, status=200):
    """Serialise a GeoJSON body with the geo+json media type."""
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    mimetype=GEOJSON_MIMETYPE)
