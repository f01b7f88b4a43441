"""The dependency rules of STYLE.md, held as tests (the way CKAN does)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["emergency", "registry", "plans", "risk", "hazards", "incidents", "maps"]
SEAM = ROOT / "emergency" / "spatial"


def _python_files():
    """Every source file of the application packages."""
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py") if (ROOT / package).is_dir() else []


def _imports(path):
    """Module names a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_services_do_not_import_flask():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files()
                 if p.name.startswith("service") and any(
                     m == "flask" or m.startswith(("flask.", "flask_")) for m in _imports(p))]
    assert offenders == []


def test_services_never_commit():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files()
                 if p.name.startswith("service") and re.search(r"\.commit\(\)", p.read_text())]
    assert offenders == []


BACKEND_WORDS = re.compile(
    r"dialect\.name|SpatialIndex|ST_MakeEnvelope|BuildMbr|MakePoint\(|mod_spatialite|"
    r"load_extension|KNN2?\b|<->|ST_DWithin")


def test_backend_specific_sql_lives_only_in_the_seam():
    offenders = []
    for path in _python_files():
        if SEAM in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BACKEND_WORDS.search(line.split("#")[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_maps_get_data_through_services_only():
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in (ROOT / "maps").rglob("*.py")
                 for m in _imports(p) if m.endswith(".models") or m == "sqlalchemy"
                 or m.startswith("sqlalchemy.")]
    assert offenders == []


def test_map_builders_are_pure():
    # maps/views.py and maps/http/ are the web layer; every other module in maps/ is a builder.
    web = {ROOT / "maps" / "views.py"}
    builders = [p for p in (ROOT / "maps").rglob("*.py")
                if p not in web and ROOT / "maps" / "http" not in p.parents
                and p.name != "__init__.py"]
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in builders for m in _imports(p)
                 if m == "flask" or m.startswith(("flask.", "flask_", "emergency.db"))]
    assert offenders == []


def test_every_route_declares_who_may_call_it(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if rule.endpoint.startswith("api-docs."):
            continue  # flask-smorest's OpenAPI document and docs page: public by design
        if not hasattr(view, "allowed_roles"):
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert undeclared == []


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_reasonably_small(package):
    big = [f"{p.relative_to(ROOT)}: {n}" for p in (ROOT / package).rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700]
    assert big == []
