"""Schemathesis fuzzing of every operation of the app's own OpenAPI document (not a test module).

Shared by tests/hardening/test_hardening_fuzz.py (small budget) and bench/bench_fuzz.py.
"""

import json
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
    short_streams(app)
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


def short_streams(app):
    """The live event stream ends after its backlog and one 0.1 s heartbeat, so that reading
    it whole (as a fuzzer reads every response) takes no longer than any other call."""
    app.config.update(EVENTS_HEARTBEAT_SECONDS=0.1, EVENTS_STREAM_MAX_SECONDS=0)


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
                # The WSGI transport hands over the body as sent, undecoded: ask for none.
                case.call_and_validate(
                    headers={**headers, "Accept-Encoding": "identity"},
                    checks=[not_a_server_error, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (record, no shrinking)
                key = (role, type(exc).__name__, _first_line(exc)[:200])
                if key not in seen:
                    seen.add(key)
                    failures.append((label, role, mode.value, _first_line(exc)))

    return run


# ---- hostile payload families (issue 15) -------------------------------------------------
# Each family is sent to every operation of the document, as it is and inside every string
# field of a body built from the operation's schema; none may give a 5xx.
STRINGS = {
    "lone_surrogate": "救援\ud800队",
    "nul": "a\x00b",
    "formula": "=HYPERLINK(\"http://x\",\"y\")",
    "script": "</script><script>window.__pwned=1</script>${alert(1)}`",
    "long": "长" * 20_000,
    "crlf": "a\r\nSet-Cookie: x=1",
}
RAW_BODIES = {
    "deep_nesting": b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "long_integer": b'{"a": ' + b"9" * 5000 + b"}",
    "many_members": ("{" + ",".join(f'"k{i}": {i}' for i in range(5000)) + "}").encode(),
    "not_utf8": b'{"a": "\xff\xfe"}',
    "not_json": b"{'a': 1,",
}


def _resolve(document, schema, depth=0):
    """A schema with its $ref followed (components only)."""
    while isinstance(schema, dict) and "$ref" in schema and depth < 20:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
        depth += 1
    return schema or {}


def _body_with(document, schema, text, depth=0):
    """A body shaped by the schema whose every string field holds ``text``."""
    schema = _resolve(document, schema)
    kind = schema.get("type")
    if depth > 4:
        return None
    if kind == "object" or "properties" in schema:
        return {name: _body_with(document, sub, text, depth + 1)
                for name, sub in schema.get("properties", {}).items()
                if not _resolve(document, sub).get("readOnly")}
    if kind == "array":
        return [_body_with(document, schema.get("items", {}), text, depth + 1)]
    if kind == "string":
        return text
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return text


def hostile(app, headers_by_role):
    """Send every family to every operation as every role; returns ([(op, role, family,
    status)] for each 5xx, {status: count})."""
    short_streams(app)
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    failures, statuses = [], {}
    for path, item in document["paths"].items():
        url = "/api/v1" + path.replace("/api/v1", "", 1) if not path.startswith("/api/v1") \
            else path
        url = "/".join("1" if part.startswith("{") else part for part in url.split("/"))
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            calls = []
            if "application/json" in content:
                schema = content["application/json"].get("schema", {})
                calls += [(name, {"data": raw, "content_type": "application/json"})
                          for name, raw in RAW_BODIES.items()]
                calls += [(f"field_{name}", {"json": _body_with(document, schema, text)})
                          for name, text in STRINGS.items() if name != "lone_surrogate"]
                # json= would refuse to encode a lone surrogate: the escaped text is sent.
                body = _body_with(document, schema, "SURROGATE")
                raw = json.dumps(body).replace("SURROGATE", "\\ud800").encode()
                calls.append(("field_lone_surrogate",
                              {"data": raw, "content_type": "application/json"}))
            calls.append(("query_nul", {"query_string": "q=a%00b&limit=1%00"}))
            for role, headers in headers_by_role.items():
                for family, kwargs in calls:
                    response = client.open(url, method=method.upper(), headers=headers,
                                           **kwargs)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code >= 500:
                        failures.append((f"{method.upper()} {path}", role, family,
                                         response.status_code))
    return failures, statuses
