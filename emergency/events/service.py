"""Writing live events, in the transaction of the change they announce."""

from emergency.db import utcnow
from emergency.events.models import EVENT_TYPES, LiveEvent


def publish(session, type, resource_id, *, audience="bureau", area_code=None, org_id=None,
            grid_code=None, **data):
    """Add an event for a change made in ``session``; it is announced when that commits.

    ``data`` is merged into the payload, which always holds ``type``, ``id`` and ``at``.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    at = utcnow()
    payload = {"type": type, "id": resource_id, "at": at.isoformat(), **data}
    event = LiveEvent(type=type, resource_id=resource_id, at=at, data=payload,
                      audience=audience, area_code=area_code, org_id=org_id,
                      grid_code=grid_code)
    session.add(event)
    return event
