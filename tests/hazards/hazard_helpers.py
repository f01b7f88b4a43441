"""Shared helpers of the hazard tests (not a test module)."""

import io
import uuid

from PIL import Image

INSIDE_1 = [106.51, 29.51]  # grid 990101001001-01
INSIDE_2 = [106.56, 29.51]  # grid 990101001001-02
OUTSIDE = [106.0, 20.0]


def body(location=INSIDE_1, **extra):
    """A valid POST /hazards body."""
    return {"client_id": extra.pop("client_id", str(uuid.uuid4())), "category": "geological",
            "severity": "general", "description": "斜坡裂缝", "crs": "wgs84",
            "location": {"type": "Point", "coordinates": list(location)}, **extra}


def jpeg_with_gps(colour="red", size=(64, 48)):
    """JPEG bytes whose EXIF holds a description and a GPS position."""
    img = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010E] = "secret-desc"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (29.0, 30.0, 0.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes():
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def one_grid_and_staff(session, username, password="correct horse battery"):
    """Commit a city, a district, one grid (990101-01) and a grid staff member of it."""
    from shapely.geometry import shape

    from emergency.auth import service as auth
    from emergency.geo import service as geo
    from tests.conftest import square

    geo.create_area(session, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
    geo.create_area(session, "990101", "测试区", "district", shape(square(106.4, 29.4, 0.4)),
                    "990000")
    geo.create_grid(session, "990101-01", "网格", "990101", shape(square(106.5, 29.5, 0.05)))
    auth.create_user(session, username, "grid_staff", password, ["990101-01"])
