"""The Chongqing demonstration data set, loaded step by step (each step idempotent)."""

from emergency.db import unit_of_work
from emergency.domains import demo_steps


def load(steps=None):
    """Run demo steps (default: every domain's, in order) in one transaction; returns the
    lines to print."""
    lines = []
    with unit_of_work("demo") as session:
        for step in demo_steps() if steps is None else steps:
            lines.extend(step(session) or [])
            session.flush()
    return lines
