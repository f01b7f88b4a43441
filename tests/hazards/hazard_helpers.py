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
