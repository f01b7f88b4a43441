"""Photos of hazard reports: checked by content, stripped of metadata, stored by checksum."""

import hashlib
import io

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from emergency import uploads
from emergency.auth.roles import ADMIN, GRID_STAFF, PLANNER
from emergency.db import get_or_404
from emergency.errors import Forbidden, Invalid, NotFound
from hazards.models import HazardPhoto, HazardReport
from hazards.service import _check_visible, photo_dict

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
THUMB_SIZE = (320, 320)
SUBDIR = "hazards"


def _decode(data):
    """Open the bytes as a JPEG or PNG image (by content), or Invalid."""
    try:
        # Only the JPEG and PNG parsers look at the bytes (not every plugin Pillow has).
        probe = Image.open(io.BytesIO(data), formats=list(FORMATS))
        fmt = probe.format
        if fmt not in FORMATS:
            raise Invalid("photo must be a JPEG or PNG image",
                          {"photo": [f"not JPEG or PNG (found {fmt or 'unknown'})"]})
        # The header's size, before a pixel is decoded (a 225 KB PNG may hold 59 MP).
        uploads.check_pixels(probe.width, probe.height)
        probe.verify()
        image = Image.open(io.BytesIO(data), formats=[fmt])
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise Invalid("photo is not a readable JPEG or PNG image",
                      {"photo": ["not a readable JPEG or PNG image"]}) from None
    return fmt, image


def _reencode(fmt, image):
    """Re-encode without EXIF (GPS), XMP or text chunks; orientation applied to the pixels."""
    image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return image, out.getvalue()


def _thumbnail(image):
    """A small JPEG for map popups and lists."""
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode not in ("RGB", "L"):
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb.convert("RGBA"), mask=thumb.convert("RGBA").split()[-1])
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def _may_upload(user):
    """Roles that may add photos (scope is checked against the report)."""
    if user.role not in (ADMIN, PLANNER, GRID_STAFF):
        raise Forbidden("only grid staff, administrators and planners add photos")


def add_photo(session, user, report_id, data, store, max_bytes):
    """Attach a photo to a report, its files kept in ``store`` (emergency.files); the same
    bytes sent again return the stored photo.

    Returns (photo dict, created).
    """
    report = get_or_404(session, HazardReport, report_id, "hazard report")
    _check_visible(session, user, report.grid_code, report.area_code)
    _may_upload(user)
    if len(data) > max_bytes:
        raise uploads.TooLarge(f"photo larger than {max_bytes} bytes",
                               {"photo": [f"at most {max_bytes} bytes"]})
    if not data:
        raise Invalid("photo is empty", {"photo": ["empty file"]})
    upload_sha = hashlib.sha256(data).hexdigest()
    found = _by_upload(session, report.id, upload_sha)
    if found is not None:
        return photo_dict(found), False
    fmt, image = _decode(data)
    image, stored = _reencode(fmt, image)
    sha = hashlib.sha256(stored).hexdigest()
    content_type, ext = FORMATS[fmt]
    relative = f"{SUBDIR}/{sha[:2]}/{sha}.{ext}"
    thumb_relative = f"{SUBDIR}/{sha[:2]}/{sha}.thumb.jpg"
    # Files first: in the database store they share the row's transaction; in an object
    # store a rolled-back row leaves an unreferenced, content-addressed file behind, which
    # is harmless, while a row without its file would not be.
    files = store.bind(session)
    files.put(relative, stored, content_type)
    files.put(thumb_relative, _thumbnail(image), "image/jpeg")
    photo = HazardPhoto(report_id=report.id, stage=report.status, path=relative,
                        thumb_path=thumb_relative, content_type=content_type,
                        size=len(stored), width=image.width, height=image.height, sha256=sha,
                        upload_sha256=upload_sha, uploaded_by=user.username)
    try:
        with session.begin_nested():
            session.add(photo)
            session.flush()
    except IntegrityError:
        found = _by_upload(session, report.id, upload_sha)
        if found is None:
            raise
        return photo_dict(found), False
    return photo_dict(photo), True


def _by_upload(session, report_id, upload_sha):
    """The photo stored from exactly these bytes for this report, or None."""
    return session.scalar(select(HazardPhoto).where(HazardPhoto.report_id == report_id,
                                                    HazardPhoto.upload_sha256 == upload_sha))


def photo_file(session, user, report_id, photo_id, store, thumb=False):
    """The StoredObject of a photo (or its thumbnail) the user may see, or NotFound/Forbidden."""
    photo = session.get(HazardPhoto, photo_id)
    if photo is None or photo.report_id != report_id:
        raise NotFound(f"no photo {photo_id} of hazard report {report_id}")
    report = session.get(HazardReport, report_id)
    _check_visible(session, user, report.grid_code, report.area_code)
    try:
        return store.bind(session).open(photo.thumb_path if thumb else photo.path)
    except NotFound:
        raise NotFound("the photo's file is missing from the file store") from None
