"""The hub's bookkeeping, read inline from the test session: new rows in order, gaps below the
high-water mark delivered when they fill, and a stream that fell behind the buffer told so."""

from emergency.events import hub as hub_module
from emergency.events.hub import Hub
from emergency.events.models import LiveEvent
from emergency.events.service import latest_id, publish


def _row(db, event_id):
    db.add(LiveEvent(id=event_id, type="incident.updated", resource_id=event_id,
                     data={"type": "incident.updated", "id": event_id, "at": "x"}))
    db.flush()


def test_new_rows_come_in_order_and_late_ids_fill_their_gap(db):
    hub = Hub(db.get_bind(), inline=db)
    publish(db, "incident.created", 1)
    db.flush()
    hub.start()
    top = latest_id(db)
    assert hub.high == top
    seq = hub.seq
    _row(db, top + 2)
    _row(db, top + 3)
    rows, seq = hub.since(seq, 0.1)
    assert [r.id for r in rows] == [top + 2, top + 3]
    assert top + 1 in hub.gaps
    _row(db, top + 1)  # the earlier transaction commits late
    rows, seq = hub.since(seq, 0.1)
    assert [r.id for r in rows] == [top + 1]
    # Only ids below the newest at start may still be watched (other tests' rolled-back ids).
    assert all(gap < top for gap in hub.gaps)
    assert hub.since(seq, 0.05) == ([], seq)


def test_a_stream_behind_the_buffer_is_told_to_resume(db, monkeypatch):
    monkeypatch.setattr(hub_module, "BUFFER_SIZE", 3)
    hub = Hub(db.get_bind(), inline=db)
    hub.start()
    seq = hub.seq
    for n in range(5):
        publish(db, "incident.updated", n)
    db.flush()
    rows, _ = hub.since(seq, 0.1)
    assert rows is None  # the client reconnects with Last-Event-ID and reads the table


def test_streams_are_counted_against_the_cap(db):
    hub = Hub(db.get_bind(), inline=db)
    assert hub.enter(2) and hub.enter(2)
    assert not hub.enter(2)
    hub.leave()
    assert hub.enter(2)


def test_a_frame_is_made_once_and_never_given_to_another_event():
    """Streams of one hub share each event's wire frame; an event with the same id but other
    columns (a database restored under a running process) gets its own."""
    from types import SimpleNamespace

    from emergency.events.api import _Frames

    frames = _Frames(2)
    first = SimpleNamespace(id=7, type="hazard.created", data={"id": 1}, audience="bureau",
                            area_code="500103", org_id=None, grid_code=None)
    made = frames(first)
    assert made == "id: 7\nevent: hazard.created\ndata: {\"id\":1}\n\n"
    assert frames(SimpleNamespace(**{**vars(first), "data": {"id": 99}})) is made  # cached
    other = SimpleNamespace(**{**vars(first), "type": "incident.created", "data": {"id": 2}})
    assert frames(other) == "id: 7\nevent: incident.created\ndata: {\"id\":2}\n\n"
    frames(SimpleNamespace(**{**vars(first), "id": 8}))
    assert len(frames.frames) == 2  # the oldest went
