"""Fuzzing the whole API from its OpenAPI document: no 5xx, every response as documented."""

import pytest

from tests.hardening.hardening_fuzz import fuzz

# A small budget keeps the suite quick. Only SpatiaLite runs here: the generated inputs
# exercise validation and serialisation, which are the same code on both backends; the
# backend-specific SQL is covered by every other test, and bench/bench_fuzz.py runs this
# fuzzing longer on both backends.
EXAMPLES = 4

# Failures already reported to their owners (operation, text in the failure, why). Anything
# else fails the test; remove an entry once its cause is fixed.
KNOWN = [
    ("GET /api/v1/health", "`default` response schema",
     "foundation emergency/api.py: health documents no 200 response"),
    ("GET /api/v1/maps/layers", "`default` response schema", "maps: no 200 response schema"),
    ("GET /api/v1/maps/search", "`default` response schema", "maps: no 200 response schema"),
    # fields.Decimal(as_string=True) is documented by apispec as "type: number" with string
    # minimum/maximum; responses then hold strings. One fix in emergency/api.py (an apispec
    # attribute function for Decimal) would cure all of these.
    ("GET /api/v1/compensations", "is not of type \"number\"", "Decimal documented as number"),
    ("GET /api/v1/trainings", "is not of type \"number\"", "Decimal documented as number"),
    ("GET /api/v1/dispatches", "DispatchOut/properties/distance_km", "Decimal as number"),
    ("GET /api/v1/dispatches/{dispatch_id}", "DispatchOut/properties/distance_km",
     "Decimal as number"),
    ("POST /api/v1/members/{member_id}/insurance", "Invalid `maximum`", "Decimal Range"),
    ("POST /api/v1/incidents/{incident_id}/requisitions", "Invalid `maximum`", "Decimal Range"),
    ("POST /api/v1/dispatches/{dispatch_id}/compensation", "does not support", "Decimal Range"),
    ("POST /api/v1/requisitions/{requisition_id}/compensation", "does not support",
     "Decimal Range"),
]


def _known(failure):
    """True for a failure that is already reported (see KNOWN)."""
    label, _role, _mode, text = failure
    return any(label == op and needle in text for op, needle, _why in KNOWN)


def test_fuzz_every_operation_every_role(backend, app, actors, place):
    if backend != "spatialite":
        pytest.skip("fuzzed on SpatiaLite in the suite; both backends in bench/bench_fuzz.py")
    roles = {role: actors.header(role, **({"grids": place["grids"][:1]}
                                          if role == "grid_staff" else {}))
             for role in ("admin", "grid_staff", "org_admin", "auditor")}
    roles["anonymous"] = {}
    failures, calls = fuzz(app, roles, max_examples=EXAMPLES)
    assert calls > 100
    new = [f for f in failures if not _known(f)]
    assert not new, "\n\n".join(" | ".join(map(str, f)) for f in new)
