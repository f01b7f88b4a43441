"""The dependency rules of STYLE.md, held as tests (the way CKAN does)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["emergency", "registry", "plans", "risk", "hazards", "incidents", "alerts", "prices",
            "maps"]
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


# The layers, lowest first. A module may import its own layer and those below it, never one
# above (docs/architecture.md). Each module belongs to the longest prefix that names it.
LAYERS = [
    ("core", ["emergency.errors", "emergency.config", "emergency.i18n", "emergency.jsonbody",
              "emergency.csp", "emergency.exports", "emergency.uploads", "emergency.sheets",
              "emergency.vocabulary", "emergency.listing"]),
    # The spatial seam and the database machinery around it, then accounts, audit, areas.
    ("platform", ["emergency.spatial", "emergency.db", "emergency.geojson", "emergency.schemas",
                  "emergency.idempotency", "emergency.auth", "emergency.audit", "emergency.events",
                  "emergency.geo", "emergency.jobs", "emergency.files"]),
    # Map builders: pure render code (folium, no services), used by every domain's pages.
    ("render", ["maps.assets", "maps.data", "maps.pages", "maps.forces", "maps.hazards",
                "maps.incidents", "maps.risk", "maps.operations", "maps.viewport",
                "maps.tilemath", "maps.cache", "maps.geojson_text", "maps.tiles"]),
    ("domains", ["registry", "plans"]),
    ("operations", ["risk", "hazards", "incidents", "alerts", "prices"]),
    ("maps", ["maps"]),
    # The composition root: create_app and what wires every domain into the app.
    ("app", ["emergency", "emergency.app", "emergency.api", "emergency.web", "emergency.cli",
             "emergency.demo", "emergency.domains", "emergency.backup", "emergency.server",
             "emergency.keys", "emergency.migrate"]),
]
OURS = tuple(PACKAGES)


def _module_name(path):
    """The dotted module name of a source file."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module):
    """(index, name) of the layer a module of ours belongs to, or None."""
    best = None
    for index, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[2]:
                    best = (index, name, len(prefix))
    return best[:2] if best else None


def _imported_modules(path):
    """(module, line) of every import of our packages in a file, names resolved to modules
    (``from emergency import spatial`` imports emergency.spatial)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                base = ROOT.joinpath(*candidate.split("."))
                is_module = base.with_suffix(".py").exists() or (base / "__init__.py").exists()
                yield (candidate if is_module else node.module), node.lineno


def test_every_module_has_a_layer():
    unplaced = [_module_name(p) for p in _python_files() if _layer(_module_name(p)) is None]
    assert unplaced == [], "add them to LAYERS"


def test_no_import_climbs_a_layer():
    climbs = []
    for path in _python_files():
        own = _layer(_module_name(path))
        for module, line in _imported_modules(path):
            if not module.startswith(OURS) or module.split(".")[0] not in OURS:
                continue
            target = _layer(module)
            if own and target and target[0] > own[0]:
                climbs.append(f"{path.relative_to(ROOT)}:{line} ({own[1]}) imports {module} "
                              f"({target[1]})")
    assert climbs == []


def test_registry_and_plans_never_import_operations():
    offenders = [f"{p.relative_to(ROOT)} imports {m}"
                 for package in ("registry", "plans") for p in (ROOT / package).rglob("*.py")
                 for m, _line in _imported_modules(p)
                 if m.split(".")[0] in ("risk", "hazards", "incidents")]
    assert offenders == []


def test_services_do_not_import_flask():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files()
                 if p.name.startswith("service") and any(
                     m == "flask" or m.startswith(("flask.", "flask_")) for m in _imports(p))]
    assert offenders == []


def test_services_never_commit():
    offenders = [str(p.relative_to(ROOT)) for p in _python_files()
                 if p.name.startswith("service") and re.search(r"\.commit\(\)", p.read_text())]
    assert offenders == []


# Words only backend-specific code needs: SQL of one backend, dialect options (``sqlite_*``,
# ``postgresql_*``) and branching on the backend. An uploaded GeoPackage's ``sqlite_master``
# reads a file format, not the database.
BACKEND_WORDS = re.compile(
    r"dialect\.name|SpatialIndex|ST_MakeEnvelope|BuildMbr|MakePoint\(|mod_spatialite|"
    r"load_extension|KNN2?\b|<->|ST_DWithin|backend_name\(|sqlite_(?!master\b)|postgresql_")
# Naming the backend in an answer or a manifest field reports it and decides nothing.
REPORTS_BACKEND = re.compile(r'"\w+": (spatial\.)?backend_name\(\w+\)[,}]')


def test_backend_specific_sql_lives_only_in_the_seam():
    offenders = []
    for path in _python_files():
        if SEAM in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BACKEND_WORDS.search(REPORTS_BACKEND.sub("", line.split("#")[0])):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_maps_get_data_through_services_only():
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in (ROOT / "maps").rglob("*.py")
                 for m in _imports(p) if m.endswith(".models") or m == "sqlalchemy"
                 or m.startswith("sqlalchemy.")]
    assert offenders == []


def test_map_builders_are_pure():
    # maps/api.py, maps/views.py and maps/ogc/views.py are the web layer; every other module
    # in maps/ is a builder (page builders, tile maths, cache, GeoJSON text, layer providers,
    # responses, the OGC API's collections and documents).
    web = {ROOT / "maps" / "api.py", ROOT / "maps" / "views.py",
           ROOT / "maps" / "ogc" / "views.py"}
    builders = [p for p in (ROOT / "maps").rglob("*.py")
                if p not in web and p.name != "__init__.py"]
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


def test_every_package_is_installed():
    """The installed console command imports every package (a top-level package missing from
    pyproject.toml works in the tests, which import from the checkout, but not in
    `emergency serve`)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(p for p in PACKAGES if f"{p}*" not in included) == []
