"""Schemathesis fuzzing of every operation of the app's own OpenAPI document (not a test module).

Shared by tests/hardening/test_hardening_fuzz.py (small budget) and bench/bench_fuzz.py.
"""

import warnings

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance


def _first_line(exc):
    """A short description of a check failure."""
    text = str(exc).strip()
    return "\n".join(text.splitlines()[:12])[:1500]


def fuzz(app, headers_by_role, max_examples=10, modes=(GenerationMode.POSITIVE,
                                                       GenerationMode.NEGATIVE),
         only=None):
    """Fuzz every operation for every role; returns [(operation, role, mode, failure)]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    calls = {"n": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if only and not any(o in label for o in only):
            continue
        for mode in modes:
            run = _runner(operation, label, mode, headers_by_role, max_examples, failures,
                          calls)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    run()
                except Exception as exc:  # noqa: BLE001  (the document itself is invalid here)
                    failures.append((label, "-", mode.value, "invalid OpenAPI definition: "
                                     + _first_line(exc)))
                    break
    return failures, calls["n"]


def _runner(operation, label, mode, headers_by_role, max_examples, failures, calls):
    """A hypothesis test that calls each generated case as every role, recording failures."""
    seen = set()

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        """Call one generated case as every role."""
        for role, headers in headers_by_role.items():
            calls["n"] += 1
            try:
                case.call_and_validate(
                    headers=headers, checks=[not_a_server_error, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (record, no shrinking)
                key = (role, type(exc).__name__, _first_line(exc)[:200])
                if key not in seen:
                    seen.add(key)
                    failures.append((label, role, mode.value, _first_line(exc)))

    return run
