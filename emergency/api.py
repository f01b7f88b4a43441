"""The JSON API: flask-smorest set-up, the OpenAPI document, health."""

import threading

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import jsonify
from marshmallow import Schema, fields
from sqlalchemy import text

from emergency import db, errors, jsonbody, migrate, spatial
from emergency.auth.permissions import public
from emergency.domains import DOMAINS
from emergency.schemas import ErrorSchema


class Api(flask_smorest.Api):
    """flask-smorest's Api with the contract's error shape, documenting its blueprints when
    the OpenAPI document is first asked for instead of at start-up.

    Writing some 160 operations into the document (schemas resolved, docs deep-copied) is
    three quarters of ``create_app``'s time; most processes (a CLI command, a worker, each
    test's app) never serve the document. The document is the same either way: blueprints
    are documented in the order they were registered."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs):
        self._undocumented = []
        self._documenting = threading.Lock()
        super().__init__(*args, **kwargs)

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Route the blueprint now; document it later (see the class)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def document(self):
        """Write every registered blueprint's operations into ``self.spec`` (once)."""
        with self._documenting:
            while self._undocumented:
                blp, name, parameters = self._undocumented.pop(0)
                blp.register_views_in_doc(self, self._app, self.spec, name=name,
                                          parameters=parameters)
                self.spec.tag({"name": name, "description": blp.description})
        return self.spec

    def _openapi_json(self):
        """The OpenAPI document, complete."""
        self.document()
        return super()._openapi_json()

    def handle_http_exception(self, error):
        """Every HTTP error in the contract's JSON shape."""
        return errors.handle_http_exception(error)



core = jsonbody.Blueprint("core", __name__, url_prefix="/api/v1",
                               description="Service health")


class HealthOut(Schema):
    """Body of GET /health."""

    status = fields.String(metadata={"example": "ok"})
    database = fields.String(metadata={"description": "spatialite or postgis"})


@core.route("/health", methods=["GET"])
@public
@core.response(200, HealthOut)
@core.alt_response(503, schema=ErrorSchema, description="database unavailable")
def health():
    """Liveness and the spatial backend in use."""
    session = db.get_session()
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any driver error means the database is not reachable right now
        return errors.error_response(503, "unavailable", "database unavailable")
    return jsonify({"status": "ok", "database": spatial.backend_name(session)})


# Machine words in details.database (never translated): see docs/operations.md.
UNAVAILABLE = "database_unavailable"


class ReadyOut(Schema):
    """Body of GET /health/ready."""

    status = fields.String(metadata={"example": "ready"})
    database = fields.String(metadata={"description": "spatialite or postgis"})
    revision = fields.List(fields.String(), metadata={
        "description": "the migration head(s) the database is at (= the code's)"})
    replica = fields.String(metadata={"description": "off (no DATABASE_READ_URL), ok, or "
                                      "unavailable (reads fall back to the primary)"})


@core.route("/health/ready", methods=["GET"])
@public
@core.response(200, ReadyOut)
@core.alt_response(503, schema=ErrorSchema, description="not ready: database unreachable or "
                   "not migrated to this code's head; `details.database` says which")
def ready():
    """Readiness for a proxy or orchestrator: the database answers and its schema is at the
    head of this code's migrations (a host running newer code than the schema, or older,
    gets no traffic). GET /health stays the cheap liveness check."""
    session = db.get_session()
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any driver error means the database is not reachable right now
        return errors.error_response(503, "not_ready", "database unavailable",
                                     {"database": [UNAVAILABLE]})
    try:
        with session.begin_nested():
            current = set(session.execute(
                text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # no alembic_version table: never migrated
        current = set()
    state = migrate.schema_state(current)
    if state != "at_head":
        revision = ", ".join(sorted(current)) or "-"
        head = ", ".join(sorted(migrate.code_heads()))
        return errors.error_response(
            503, "not_ready", f"database schema at {revision}, this code's migrations at {head}",
            {"database": [state]})
    return jsonify({"status": "ready", "database": spatial.backend_name(session),
                    "revision": sorted(current), "replica": db.replica_state()})


def schema_namer():
    """A resolver naming schemas by class, prefixed by their domain only on a clash, so two
    domains may both call a schema ``ReviewIn`` (registration order keeps names stable)."""
    taken = {}

    def name_of(schema):
        cls = resolve_schema_cls(schema)
        name = cls.__name__.removesuffix("Schema") or cls.__name__
        owner = taken.setdefault(name, cls)
        if owner is cls:
            return name
        domain = cls.__module__.removeprefix("emergency.").split(".")[0]
        return domain.capitalize() + name

    return name_of


def init_app(app):
    """Configure OpenAPI and register every API blueprint."""
    app.config.update(
        API_TITLE="Emergency management platform API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui-dist/",
        # The bundle would otherwise send the document to swagger.io's online validator.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
            "security": [{"bearer": []}, {"session": []}],
            "info": {"description": "See CONTRACT.md and docs/api.md. Errors are "
                     "{\"error\": {\"code\", \"message\", \"details\"}}."},
        },
    )

    api = Api(app, spec_kwargs={
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_namer())})
    # Money and other decimals travel as strings ("1280.00"): document them so, which also
    # turns their ranges into x-minimum/x-maximum instead of string-valued minimum/maximum.
    api.ma_plugin.map_to_openapi_type(fields.Decimal, "string", "decimal")
    api.register_blueprint(core)
    for domain in DOMAINS:
        if domain.api is not None:
            api.register_blueprint(domain.api.blp)
    return api

