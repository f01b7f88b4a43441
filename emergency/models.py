"""Imports every domain's tables so the metadata (migrations, drift check) sees them all."""

import importlib

MODEL_MODULES = [
    "emergency.geo.models",
    "emergency.auth.models",
    "emergency.audit.models",
    "emergency.idempotency",
    "plans.models",
    "emergency.hazards.models",
    "emergency.risk.models",
    "registry.models",
    "emergency.incidents.models",
]


def load_all():
    """Import every models module; returns the shared metadata."""
    from emergency.db import Base

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
