"""The Chongqing demonstration data set, loaded step by step (each step idempotent)."""

from emergency.db import new_session
from emergency.domains import demo_steps


def load(steps=None):
    """Run demo steps (default: every domain's, in order) in one transaction; returns the
    lines to print."""
    session = new_session()
    session.info["actor"] = "demo"
    lines = []
    try:
        for step in demo_steps() if steps is None else steps:
            lines.extend(step(session) or [])
            session.flush()
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    return lines
