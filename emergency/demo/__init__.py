"""The Chongqing demonstration data set, loaded step by step (each step idempotent)."""

import importlib

from emergency.db import new_session

# Each step is "module:function(session) -> list of lines to print". Later capabilities
# append their own step; every step must be safe to run again.
STEPS = [
    "emergency.demo.areas:load_areas",
    "emergency.demo.areas:load_users",
    "registry.demo:load_registry",
    "plans.demo:load_plans",
    "emergency.hazards.demo:load_hazards",
    "emergency.incidents.demo:load_incidents",
    "emergency.risk.demo:load_risk",
]


def load(steps=None):
    """Run every demo step in one transaction; returns the lines to print."""
    session = new_session()
    session.info["actor"] = "demo"
    lines = []
    try:
        for spec in steps or STEPS:
            module, function = spec.split(":")
            lines.extend(getattr(importlib.import_module(module), function)(session) or [])
            session.flush()
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    return lines
