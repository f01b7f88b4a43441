"""Recording and reading the audit log. Changes are captured for every flush."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.orm import Session

from emergency.audit.models import AuditEntry
from emergency.db import Base, utcnow

REDACTED = "[redacted]"


def _object_type(obj):
    """The audit name of a model: its __audit_name__ or its table name."""
    return getattr(obj, "__audit_name__", None) or obj.__tablename__


def _plain(value):
    """A JSON-safe rendering of a column value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return f"<{type(value).__name__}>"


def _column_value(column, value):
    """A column's value as the log may show it: personal and secret data never in clear."""
    if column.info.get("personal") or column.info.get("secret"):
        return REDACTED if value is not None else None
    return _plain(value)


def _changes(obj, verb):
    """The fields that changed on this object, old and new, redacted where needed."""
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        column = attr.columns[0]
        hist = state.attrs[attr.key].history
        if verb == "create":
            value = getattr(obj, attr.key)
            if value is not None:
                changes[attr.key] = _column_value(column, value)
        elif verb == "update" and hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            changes[attr.key] = [_column_value(column, old), _column_value(column, new)]
    return changes


def _identity(obj):
    """The primary key of an object as text."""
    # The identity key is set only when the flush finishes; read the key columns instead.
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if None in ident else "/".join(str(v) for v in ident)


def current_actor(session):
    """(username, address) to record: the request's user, else the session's actor, else system.

    The web layer puts an ``actor_resolver`` callable into ``session.info`` (see emergency.db),
    so this service needs no Flask import.
    """
    resolver = session.info.get("actor_resolver")
    found = resolver() if resolver else None
    if found:
        return found
    return session.info.get("actor") or "system", session.info.get("remote_addr", "")


def _after_flush(session, _context):
    """Write one audit entry per created, changed or deleted audited object."""
    rows = []
    actor, addr = None, ""
    for verb, objects in (("create", session.new), ("update", session.dirty),
                          ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, Base) or not getattr(obj, "__audit__", True):
                continue
            changes = {} if verb == "delete" else _changes(obj, verb)
            if verb == "update" and not changes:
                continue
            if actor is None:
                actor, addr = current_actor(session)
            kind = _object_type(obj)
            rows.append({"at": utcnow(), "actor": actor, "action": f"{kind}.{verb}",
                         "object_type": kind, "object_id": _identity(obj), "changes": changes,
                         "remote_addr": addr})
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def install():
    """Capture changes on every session (called once at start-up)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def created(model, values):
    """The audit entry's fields for a row of ``model`` inserted without the ORM (a hot path
    that skips the unit of work): the same action and changes a flush would record.
    ``values`` are the inserted values with the new primary key; give the entries to
    ``write``."""
    changes = {}
    for attr in inspect(model).column_attrs:
        value = values.get(attr.key)
        if value is not None:
            changes[attr.key] = _column_value(attr.columns[0], value)
    kind = getattr(model, "__audit_name__", None) or model.__tablename__
    ident = "/".join(str(values[c.key]) for c in inspect(model).primary_key)
    return {"action": f"{kind}.create", "object_type": kind, "object_id": ident,
            "changes": changes}


def write(session, entries):
    """Insert audit entries (from ``created``) in one statement, as the request's actor."""
    actor, addr = current_actor(session)
    at = utcnow()
    session.connection().execute(insert(AuditEntry), [
        {"at": at, "actor": actor, "remote_addr": addr, **entry} for entry in entries])


def record(session, action, object_type, object_id=None, details=None):
    """Record an action that changes nothing, such as a reveal of personal data or an export."""
    actor, addr = current_actor(session)
    session.connection().execute(insert(AuditEntry), [{
        "at": utcnow(), "actor": actor, "action": action, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "changes": details or {}, "remote_addr": addr}])


def list_entries(session, actor=None, action=None, since=None, object_type=None,
                 object_id=None, limit=100, offset=0, until=None):
    """Audit entries, newest first, with the total count (``until`` excluded)."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == str(object_id))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(items), total


def actions(session):
    """Every action the log holds, sorted (the page's filter offers them)."""
    return sorted(session.scalars(select(AuditEntry.action).distinct()))
