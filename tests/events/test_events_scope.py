"""Who reads which live events (visible_filter in SQL, can_see in Python: the same rule), and
pruning, on both backends inside the rolled-back test transaction."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from emergency.db import utcnow
from emergency.events.models import LiveEvent
from emergency.events.service import can_see, events_after, prune, publish, scope_of, visible_filter


@pytest.fixture
def published(db, place):
    """One event of each kind of scope; name -> id."""
    return {
        "district": publish(db, "incident.created", 1, area_code=place["community"]),
        "elsewhere": publish(db, "incident.created", 2, area_code="500103"),
        "no_area": publish(db, "incident.updated", 3),
        "org": publish(db, "dispatch.created", 4, area_code="500103", org_id=77),
        "other_org": publish(db, "dispatch.created", 5, area_code="500103", org_id=78),
        "grid": publish(db, "hazard.created", 6, area_code=place["community"],
                        grid_code=place["grids"][0]),
        "other_grid": publish(db, "hazard.created", 7, area_code=place["community"],
                              grid_code=place["grids"][1]),
        "public": publish(db, "warning.published", 8, audience="public", area_code="500103"),
    }


def _visible(db, user, published):
    """Names of the published events ``user`` reads, in SQL and in Python (must agree)."""
    scope = scope_of(db, user)
    ids = set(db.scalars(select(LiveEvent.id).where(LiveEvent.id.in_(published.values()),
                                                    visible_filter(user))))
    resolved = set(db.scalars(select(LiveEvent.id).where(LiveEvent.id.in_(published.values()),
                                                         visible_filter(scope))))
    assert ids == resolved
    rows = db.execute(select(LiveEvent).where(LiveEvent.id.in_(published.values()))).scalars()
    in_python = {row.id for row in rows if can_see(scope, row)}
    assert ids == in_python
    return {name for name, event_id in published.items() if event_id in ids}


def _org_admin(actors, org_id):
    """An org_admin of organisation ``org_id`` (set on the row: only the scope matters here,
    so no organisation is registered)."""
    user, _ = actors.make("grid_staff")
    user.role, user.org_id = "org_admin", org_id
    return user


ALL = {"district", "elsewhere", "no_area", "org", "other_org", "grid", "other_grid", "public"}


@pytest.mark.parametrize("role", ["admin", "planner", "dispatcher", "auditor"])
def test_bureau_roles_read_bureau_and_public_events(db, actors, published, role):
    user, _ = actors.make(role)
    assert _visible(db, user, published) == ALL


@pytest.mark.parametrize("role", ["planner", "dispatcher", "auditor"])
def test_district_staff_read_their_district_events_and_those_without_area(db, actors, place,
                                                                          published, role):
    user, _ = actors.make(role, area_code=place["district"])
    assert _visible(db, user, published) == {"district", "no_area", "grid", "other_grid",
                                             "public"}


def test_a_district_scoped_admin_still_reads_everything(db, actors, place, published):
    user, _ = actors.make("admin", area_code=place["district"])
    assert _visible(db, user, published) == ALL


def test_org_admin_reads_their_organisations_events_and_public_ones(db, actors, published):
    user = _org_admin(actors, 77)
    assert _visible(db, user, published) == {"org", "public"}


def test_grid_staff_read_their_grids_events_and_public_ones(db, actors, place, published):
    user, _ = actors.make("grid_staff", grids=[place["grids"][0]])
    assert _visible(db, user, published) == {"grid", "public"}


def test_events_after_returns_visible_events_in_id_order(db, actors, published):
    user = _org_admin(actors, 78)
    rows = events_after(db, scope_of(db, user), min(published.values()) - 1)
    assert [row.id for row in rows] == [published["other_org"], published["public"]]


def test_publish_refuses_unknown_types_and_audiences(db):
    with pytest.raises(ValueError):
        publish(db, "incident.exploded", 1)
    with pytest.raises(ValueError):
        publish(db, "incident.updated", 1, audience="everyone")


def test_prune_deletes_events_older_than_a_day_but_never_the_newest(db):
    old = [publish(db, "incident.updated", n) for n in (1, 2)]
    recent = publish(db, "incident.updated", 3)
    db.execute(update(LiveEvent).where(LiveEvent.id.in_(old))
               .values(at=utcnow() - timedelta(hours=25)))
    db.execute(update(LiveEvent).where(LiveEvent.id == recent)
               .values(at=utcnow() - timedelta(hours=23)))
    assert prune(db) == 2
    left = set(db.scalars(select(LiveEvent.id)))
    assert recent in left and not set(old) & left
    # Even an old newest event stays, so SQLite never hands its id out again.
    db.execute(update(LiveEvent).values(at=utcnow() - timedelta(hours=48)))
    prune(db)
    assert list(db.scalars(select(LiveEvent.id))) == [recent]
