"""Officials, courses and attendance: create, change, list, record. No Flask here."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from emergency.db import get_or_404
from emergency.errors import Invalid
from emergency.geo.models import Area
from emergency.listing import like_pattern
from plans.training.models import MANDATORY_FOR, TOPICS, Attendance, Course, Official

OFFICIAL_FIELDS = ("name", "department", "position", "area_code", "leader", "active")
COURSE_FIELDS = ("title", "topic", "hours", "mandatory_for", "description", "active")
# Attendance may be recorded for a day at most this many years back (old sheets).
OLDEST_YEAR = 2000


def _text(value):
    """A stripped text (empty for None)."""
    return (value or "").strip()


def _check_area(session, code):
    """Invalid when an area code is given and unknown."""
    if code and session.scalar(select(Area.code).where(Area.code == code)) is None:
        raise Invalid("unknown area", {"area_code": ["no such area"]})


# ---------------------------------------------------------------- officials

def _official_values(session, data):
    """Cleaned official fields of ``data`` (only those present), or Invalid."""
    values, problems = {}, {}
    for key in ("name", "department", "position"):
        if key in data:
            values[key] = _text(data[key])
            if key != "position" and not values[key]:
                problems[key] = ["required"]
    if "area_code" in data:
        values["area_code"] = _text(data["area_code"]) or None
    for key in ("leader", "active"):
        if key in data and data[key] is not None:
            values[key] = bool(data[key])
    if problems:
        raise Invalid("invalid official", problems)
    _check_area(session, values.get("area_code"))
    return values


def create_official(session, name, department, position="", area_code=None, leader=False):
    """Add an official (active)."""
    values = _official_values(session, {"name": name, "department": department,
                                        "position": position, "area_code": area_code,
                                        "leader": leader})
    official = Official(**values, active=True)
    session.add(official)
    session.flush()
    return official


def get_official(session, official_id):
    """The official or NotFound."""
    return get_or_404(session, Official, official_id, "official")


def update_official(session, official_id, changes):
    """Change an official's details; ``active: false`` records that they left the post."""
    official = get_or_404(session, Official, official_id, "official", lock=True)
    for key, value in _official_values(session, changes).items():
        setattr(official, key, value)
    session.flush()
    return official


def official_filters(department=None, area_code=None, leader=None, active=True, q=None):
    """SQL conditions on officials."""
    where = []
    if department:
        where.append(Official.department == department)
    if area_code:
        where.append(Official.area_code == area_code)
    if leader is not None:
        where.append(Official.leader.is_(bool(leader)))
    if active is not None:
        where.append(Official.active.is_(bool(active)))
    if q:
        pattern = like_pattern(q)
        where.append(Official.name.like(pattern, escape="\\")
                     | Official.department.like(pattern, escape="\\")
                     | Official.position.like(pattern, escape="\\"))
    return where


def list_officials(session, limit=100, offset=0, **filters):
    """Officials by department and name: (rows, total)."""
    where = official_filters(**filters)
    total = session.scalar(select(func.count()).select_from(Official).where(*where))
    rows = session.scalars(select(Official).where(*where)
                           .order_by(Official.department, Official.leader.desc(),
                                     Official.name, Official.id)
                           .limit(limit).offset(offset)).all()
    return list(rows), total


def departments(session):
    """The departments of active officials, sorted."""
    return list(session.scalars(select(Official.department).where(Official.active.is_(True))
                                .distinct().order_by(Official.department)))


def official_dict(official, area_names=None):
    """An official as the API shows it."""
    names = area_names or {}
    return {"id": official.id, "name": official.name, "department": official.department,
            "position": official.position, "area_code": official.area_code,
            "area_name": names.get(official.area_code), "leader": official.leader,
            "active": official.active, "created_at": official.created_at,
            "updated_at": official.updated_at}


def area_names(session, codes):
    """Area names by code."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    return dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())


# ---------------------------------------------------------------- courses

def _course_values(data):
    """Cleaned course fields of ``data`` (only those present), or Invalid."""
    values, problems = {}, {}
    if "title" in data:
        values["title"] = _text(data["title"])
        if not values["title"]:
            problems["title"] = ["required"]
    if "topic" in data:
        if data["topic"] not in TOPICS:
            problems["topic"] = ["must be one of law, skills, command, other"]
        values["topic"] = data["topic"]
    if "hours" in data:
        hours = data["hours"]
        if hours is None or hours <= 0 or hours > 1000:
            problems["hours"] = ["more than 0 and at most 1000"]
        values["hours"] = hours
    if "mandatory_for" in data:
        if data["mandatory_for"] not in (*MANDATORY_FOR, None):
            problems["mandatory_for"] = ["must be leaders, all or null"]
        values["mandatory_for"] = data["mandatory_for"]
    if "description" in data:
        values["description"] = _text(data["description"])
    if "active" in data and data["active"] is not None:
        values["active"] = bool(data["active"])
    if problems:
        raise Invalid("invalid course", problems)
    return values


def create_course(session, title, topic, hours, mandatory_for=None, description=""):
    """Add a course."""
    values = _course_values({"title": title, "topic": topic, "hours": hours,
                             "mandatory_for": mandatory_for, "description": description})
    course = Course(**values, active=True)
    session.add(course)
    session.flush()
    return course


def get_course(session, course_id):
    """The course or NotFound."""
    return get_or_404(session, Course, course_id, "course")


def update_course(session, course_id, changes):
    """Change a course; ``active: false`` retires it (no longer required)."""
    course = get_or_404(session, Course, course_id, "course", lock=True)
    for key, value in _course_values(changes).items():
        setattr(course, key, value)
    session.flush()
    return course


def list_courses(session, topic=None, mandatory_for=None, active=True, limit=100, offset=0):
    """Courses, mandatory ones first: (rows, total)."""
    where = []
    if topic:
        where.append(Course.topic == topic)
    if mandatory_for == "none":
        where.append(Course.mandatory_for.is_(None))
    elif mandatory_for:
        where.append(Course.mandatory_for == mandatory_for)
    if active is not None:
        where.append(Course.active.is_(bool(active)))
    total = session.scalar(select(func.count()).select_from(Course).where(*where))
    rows = session.scalars(select(Course).where(*where)
                           .order_by(Course.mandatory_for.is_(None), Course.title, Course.id)
                           .limit(limit).offset(offset)).all()
    return list(rows), total


def course_dict(course):
    """A course as the API shows it (hours a number)."""
    return {"id": course.id, "title": course.title, "topic": course.topic,
            "hours": float(course.hours), "mandatory_for": course.mandatory_for,
            "description": course.description, "active": course.active,
            "created_at": course.created_at, "updated_at": course.updated_at}


# ---------------------------------------------------------------- attendance

def check_day(held_on, today, field="held_on"):
    """Problems of an attendance day: not in the future, not before OLDEST_YEAR."""
    if not isinstance(held_on, date):
        return {field: ["a date YYYY-MM-DD"]}
    if held_on > today:
        return {field: ["may not be in the future"]}
    if held_on.year < OLDEST_YEAR:
        return {field: ["too long ago"]}
    return {}


def record_attendance(session, course_id, entries, today, actor=None, source="form"):
    """Record attendance ``entries`` [(official_id, held_on, passed)] of a course: one row per
    official, course and day, so a retry changes nothing and a new ``passed`` updates the
    row. Returns {created, updated, unchanged, items}."""
    course = get_course(session, course_id)
    if not entries:
        raise Invalid("choose at least one official", {"official_ids": ["required"]})
    ids = sorted({official_id for official_id, _day, _passed in entries})
    known = {o.id: o for o in session.scalars(select(Official).where(Official.id.in_(ids)))}
    problems = {}
    for day in sorted({day for _o, day, _p in entries}):
        problems.update(check_day(day, today))
    for index, (official_id, _day, _passed) in enumerate(entries):
        official = known.get(official_id)
        if official is None:
            problems[f"official_ids.{index}"] = ["no such official"]
        elif not official.active:
            problems[f"official_ids.{index}"] = ["the official has left the post"]
    if problems:
        raise Invalid("unknown officials", problems)
    days = sorted({day for _o, day, _p in entries})
    existing = {(a.official_id, a.held_on): a for a in session.scalars(
        select(Attendance).where(Attendance.course_id == course.id,
                                 Attendance.official_id.in_(ids),
                                 Attendance.held_on.in_(days)).with_for_update())}
    counts, items, new = {"created": 0, "updated": 0, "unchanged": 0}, [], []
    fresh = set()
    unique = {}  # one record per official and day: a repeated official counts once
    for entry in entries:
        unique.setdefault(entry[:2], entry)
    entries = list(unique.values())
    for official_id, day, passed in entries:
        row = existing.get((official_id, day))
        if row is None:
            row = Attendance(course_id=course.id, official_id=official_id, held_on=day,
                             passed=bool(passed), source=source, recorded_by=actor or "")
            existing[(official_id, day)] = row
            fresh.add((official_id, day))
            new.append(row)
            counts["created"] += 1
        elif _set_passed(row, passed, actor):
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        items.append(row)
    try:
        # A concurrent request may record some of the same officials on the same day between
        # our read and this write (PostGIS); the savepoint keeps the transaction usable.
        with session.begin_nested():
            session.add_all(new)
            session.flush()
    except IntegrityError:
        items = [_insert_or_update(session, row, actor, counts)
                 if (row.official_id, row.held_on) in fresh else row for row in items]
    session.flush()
    return {**counts, "items": attendance_dicts(session, items)}


def _set_passed(row, passed, actor):
    """Change a recorded attendance's result; True when it changed."""
    if row.passed == bool(passed):
        return False
    row.passed = bool(passed)
    row.recorded_by = actor or row.recorded_by
    return True


def _insert_or_update(session, row, actor, counts):
    """Insert one attendance, or update the one a concurrent request stored (counts fixed)."""
    fresh = Attendance(course_id=row.course_id, official_id=row.official_id,
                       held_on=row.held_on, passed=row.passed, source=row.source,
                       recorded_by=row.recorded_by)
    try:
        with session.begin_nested():
            session.add(fresh)
            session.flush()
        return fresh
    except IntegrityError:
        stored = session.scalar(select(Attendance).where(
            Attendance.course_id == row.course_id, Attendance.official_id == row.official_id,
            Attendance.held_on == row.held_on))
        if stored is None:
            raise
        counts["created"] -= 1
        counts["updated" if _set_passed(stored, row.passed, actor) else "unchanged"] += 1
        return stored


def attendance_dicts(session, rows):
    """Attendance rows as the API shows them, with the official's name and department."""
    ids = {r.official_id for r in rows}
    officials = {o.id: o for o in session.scalars(select(Official).where(Official.id.in_(ids)))}
    return [{"id": r.id, "course_id": r.course_id, "official_id": r.official_id,
             "official_name": officials[r.official_id].name,
             "department": officials[r.official_id].department, "held_on": r.held_on,
             "passed": r.passed, "source": r.source, "recorded_by": r.recorded_by,
             "created_at": r.created_at} for r in rows]


def list_attendance(session, course_id=None, official_id=None, year=None, limit=200,
                    offset=0):
    """Attendance rows, latest day first: (rows, total)."""
    where = []
    if course_id is not None:
        get_course(session, course_id)
        where.append(Attendance.course_id == course_id)
    if official_id is not None:
        where.append(Attendance.official_id == official_id)
    if year is not None:
        where.append(Attendance.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    total = session.scalar(select(func.count()).select_from(Attendance).where(*where))
    rows = session.scalars(select(Attendance).where(*where)
                           .order_by(Attendance.held_on.desc(), Attendance.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), total
