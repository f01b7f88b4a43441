"""Demo hazard reports: a few thousand across the demo grids, in every state, some overdue."""

import hashlib
import io
from datetime import timedelta

import numpy as np
import shapely
from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import func, insert, select

from emergency import spatial
from emergency.auth.models import User
from emergency.db import utcnow
from emergency.files import app_store
from emergency.geo.demo import demo_grid_codes
from emergency.geo.models import Grid
from hazards import photos as photo_store
from hazards import service
from hazards.models import CATEGORIES, HazardEvent, HazardPhoto, HazardReport
from hazards.workflow import DEFAULT_POLICY, DuePolicy

REPORTS = 3000
PHOTOS = 40
PATHS = {
    "reported": ["reported"],
    "verified": ["reported", "verified"],
    "rectifying": ["reported", "verified", "rectifying"],
    "rectified": ["reported", "verified", "rectifying", "rectified"],
    "closed": ["reported", "verified", "rectifying", "rectified", "closed"],
    "rejected": ["reported", "rejected"],
}
STATUS_SHARE = {"reported": 0.14, "verified": 0.1, "rectifying": 0.2, "rectified": 0.1,
                "closed": 0.39, "rejected": 0.07}
DESCRIPTIONS = {
    "geological": "边坡出现裂缝，雨后有落石", "flood": "排水沟堵塞，暴雨时积水严重",
    "fire": "楼道堆放杂物，占用消防通道", "gas": "餐馆燃气软管老化",
    "hazardous_chemicals": "仓库违规存放油漆稀释剂", "building": "老旧房屋外墙开裂",
    "traffic": "路口护栏缺失，视线受阻", "other": "广告牌松动",
}


def _policy():
    """The configured due-time policy (defaults outside an app context)."""
    try:
        return DuePolicy.from_config(current_app.config)
    except RuntimeError:
        return DEFAULT_POLICY


def _point_in(geom, rng):
    """A random point inside a polygon (rejection sampling, then a point on the surface)."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(30):
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(point):
            return point
    return geom.point_on_surface()


def _timeline(status, severity, created, policy, rng):
    """Times of each step of a report's path; ~15% of stages run past their deadline."""
    times = [created]
    for stage in PATHS[status][:-1]:
        allowed = policy.due(stage, severity, times[-1]) - times[-1]
        late = rng.random() < 0.15
        times.append(times[-1] + allowed * (rng.uniform(1.05, 2.0) if late
                                            else rng.uniform(0.1, 0.9)))
    return times


def load_hazards(session):
    """Bulk-load demo reports with their histories (idempotent: skipped when present)."""
    T = HazardReport.__table__
    present = session.scalar(select(func.count()).select_from(T)
                             .where(T.c.client_id.startswith("demo-")))
    if present:
        return [f"hazards: {present} demo reports already loaded"]
    grids = session.execute(select(Grid.code, Grid.area_code,
                                   spatial.as_wkb(session, Grid.geom).label("wkb"))
                            .order_by(Grid.code)).all()
    users = dict(session.execute(select(User.username, User.id)
                                 .where(User.username.in_(("gridstaff", "admin")))).all())
    if not grids or "admin" not in users:
        return ["hazards: no grids or no admin user; demo reports skipped"]
    staff_grids = set(demo_grid_codes()) if "gridstaff" in users else set()
    rng = np.random.default_rng(41)
    policy = _policy()
    now = utcnow()
    shapes = [shapely.from_wkb(bytes(g.wkb)) for g in grids]
    statuses = list(STATUS_SHARE)
    shares = np.array(list(STATUS_SHARE.values()))
    rows, paths = [], {}
    # The demo grid staff member's own grids get a share of reports, so their pages show some.
    picks = rng.integers(0, len(grids), REPORTS)
    own = [i for i, g in enumerate(grids) if g.code in staff_grids]
    for n in range(REPORTS):
        index = int(own[n % len(own)]) if own and n % 10 == 0 else int(picks[n])
        grid = grids[index]
        status = statuses[rng.choice(len(statuses), p=shares / shares.sum())]
        severity = "major" if rng.random() < 0.2 else "general"
        category = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]
        created = now - timedelta(hours=float(rng.uniform(1, 24 * 120)))
        times = _timeline(status, severity, created, policy, rng)
        if status not in ("closed", "rejected"):
            # Open reports are recent: most inside their current deadline, some past it.
            allowed = policy.due(status, severity, now) - now
            factor = rng.uniform(1.1, 3.0) if rng.random() < 0.2 else rng.uniform(0.05, 0.9)
            shift = times[-1] - (now - allowed * factor)
            times = [t - shift for t in times]
        elif times[-1] > now:
            shift = times[-1] - now + timedelta(minutes=5)
            times = [t - shift for t in times]
        point = _point_in(shapes[index], rng)
        client_id = f"demo-{n:05d}"
        reporter = users["gridstaff"] if grid.code in staff_grids else users["admin"]
        final = status in ("closed", "rejected")
        rows.append({
            "client_id": client_id, "category": category, "severity": severity,
            "description": DESCRIPTIONS[category], "status": status, "grid_code": grid.code,
            "area_code": grid.area_code, "reporter_id": reporter, "created_at": times[0],
            "updated_at": times[-1], "stage_started_at": times[-1],
            "due_at": None if final else policy.due(status, severity, times[-1]),
            "closed_at": times[-1] if final else None, "escalated_at": None,
            "escalated_stage": None, "geom": f"SRID=4326;POINT({point.x:.6f} {point.y:.6f})"})
        paths[client_id] = (PATHS[status], times)
    ids = dict((cid, rid) for rid, cid in session.execute(
        insert(T).returning(T.c.id, T.c.client_id), rows))
    events = []
    for client_id, (path, times) in paths.items():
        previous = None
        for stage, at in zip(path, times, strict=True):
            events.append({"report_id": ids[client_id], "kind": "transition",
                           "from_status": previous, "to_status": stage,
                           "actor": "gridstaff" if stage in ("reported", "rectifying",
                                                             "rectified") else "admin",
                           "at": at, "note": ""})
            previous = stage
    session.execute(insert(HazardEvent.__table__), events)
    escalated = service.escalate_overdue(session, now, actor="demo")
    photos = _demo_photos(session, sorted(ids.values())[:PHOTOS], rng)
    return [f"hazards: {len(rows)} demo reports, {len(events)} steps, {escalated} escalated "
            f"as overdue, {photos} photos"]


def _demo_photos(session, report_ids, rng):
    """A few generated photos, so map popups and detail pages show thumbnails."""
    try:
        store = app_store(session)
    except RuntimeError:
        return 0
    for report_id in report_ids:
        colour = tuple(int(c) for c in rng.integers(60, 220, 3))
        image = Image.new("RGB", (480, 360), colour)
        ImageDraw.Draw(image).rectangle((60, 60, 420, 300), outline="white", width=8)
        raw = io.BytesIO()
        image.save(raw, "JPEG", quality=85)
        data = raw.getvalue()
        image, stored = photo_store._reencode("JPEG", image)
        sha = hashlib.sha256(stored).hexdigest()
        relative = f"{photo_store.SUBDIR}/{sha[:2]}/{sha}.jpg"
        thumb = f"{photo_store.SUBDIR}/{sha[:2]}/{sha}.thumb.jpg"
        store.put(relative, stored, "image/jpeg")
        store.put(thumb, photo_store._thumbnail(image), "image/jpeg")
        stage = session.scalar(select(HazardReport.status).where(HazardReport.id == report_id))
        session.add(HazardPhoto(report_id=report_id, stage=stage, path=relative,
                                thumb_path=thumb, content_type="image/jpeg", size=len(stored),
                                width=image.width, height=image.height, sha256=sha,
                                upload_sha256=hashlib.sha256(data).hexdigest(),
                                uploaded_by="demo"))
    session.flush()
    return len(report_ids)
