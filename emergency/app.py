"""The composition root: create_app wires the core, the platform and every domain
(emergency.domains) into one Flask application."""

from flask import Flask, current_app
from flask_compress import Compress
from jinja2 import MemcachedBytecodeCache
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from emergency import api, cli, config, csp, db, errors, i18n, idempotency, jsonbody, web
from emergency.audit import service as audit
from emergency.auth import web as auth_web
from emergency.db import finish_request
from emergency.domains import declared_jobs
from emergency.errors import error_response
from emergency.jobs import kinds as jobs_kinds


def create_app(test_config=None):
    """Create and configure the application."""
    app = Flask("emergency", instance_relative_config=True)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    config.load(app, test_config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    # First registered, so it runs last: every other hook sees the plain body.
    compress = _init_compress(app)

    db.init_app(app)
    errors.init_app(app)
    # Before any other hook reads the body (the idempotency check hashes it).
    jsonbody.init_app(app)
    i18n.init_app(app)
    api.init_app(app)
    web.init_app(app)
    auth_web.init_app(app)
    audit.install()
    jobs_kinds.install(declared_jobs())
    cli.register(app)
    app.before_request(idempotency.replay)
    csp.init_app(app)  # the per-request script nonce in templates
    # after_request hooks run in reverse order: remember the answer, then commit, then headers.
    app.after_request(_security_headers)
    app.after_request(_finish_transaction)
    app.after_request(idempotency.remember)
    # Static files are streamed; their ETag gains the algorithm, so the compressor answers
    # their If-None-Match itself (every blueprint's static endpoint, known only by now).
    compress.streaming_endpoint_with_conditional |= {
        e for e in app.view_functions if e == "static" or e.endswith(".static")}
    return app


class _ProcessMemory(dict):
    """What a Jinja bytecode cache asks of its store (get, and set with a timeout), in this
    process's memory."""

    def set(self, key, value, timeout=None):
        self[key] = value


# Page templates compiled once per process, whichever app renders them first: each app
# (every worker, each test, a CLI command that renders) otherwise parses and compiles every
# template again, 30-60 ms each. Jinja checks each stored template against its source's
# checksum before using it, so a changed template is compiled again.
_TEMPLATE_CODE = MemcachedBytecodeCache(_ProcessMemory())


# Compressed when the client accepts it and the body is over COMPRESS_MIN_SIZE: pages, JSON,
# GeoJSON, scripts, styles, XML feeds. Never text/event-stream (the live events must reach
# the browser as they are written; it is not listed). Responses that already carry a
# Content-Encoding (the map layers' gzip made once, maps/responses.py) are left as they are.
COMPRESS_SETTINGS = {
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript",
                           "application/json", "application/geo+json",
                           "application/problem+json", "application/vnd.oai.openapi+json",
                           "application/xml", "application/atom+xml", "application/cap+xml",
                           "image/svg+xml"],
    "COMPRESS_MIN_SIZE": 1024,
    # Brotli 5 costs what gzip 6 does (~5 ms for Leaflet's 147 KB) and saves 7-11 % more
    # than brotli 4; 11 would take ~220 ms per file.
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    # Static files are streamed: compressed as they are read (gzip too, which the library
    # leaves out of streams by default; a client that takes only gzip still saves).
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
}


def _init_compress(app):
    """Flask-Compress (gzip and brotli) with the settings above; returns the extension."""
    for key, value in COMPRESS_SETTINGS.items():
        app.config.setdefault(key, value)
    app.config["COMPRESS_REGISTER"] = False  # registered below, wrapped
    compress = Compress()
    compress.init_app(app)

    def compressed(response):
        """Compress; a streamed body that was replaced (a static file) is still closed."""
        body = response.response
        response = compress.after_request(response)
        if response.response is not body and hasattr(body, "close"):
            response.call_on_close(body.close)
        return response

    app.after_request(compressed)
    return compress


def _finish_transaction(response):
    """The request owns the transaction: commit on success, roll back on any error."""
    if response.status_code >= 400:
        finish_request(False)
        return response
    try:
        finish_request(True)
    except IntegrityError as exc:
        finish_request(False)
        return error_response(409, "conflict", "conflicts with existing data",
                              {"database": [str(exc.orig).splitlines()[0]]})
    except OperationalError:
        finish_request(False)
        return error_response(503, "unavailable", "database busy or unavailable; retry")
    return db.note_write(response)


def _security_headers(response):
    """Headers every response carries."""
    tiles = current_app.config.get("BASEMAP_TILE_URL") or ""
    tile_origin = ""
    if tiles.startswith("http"):
        tile_origin = " " + "/".join(tiles.split("/")[:3])
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Served behind TLS: browsers must never fall back to plain HTTP (session theft).
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        # Scripts only from this origin or with this response's nonce (emergency/csp.py).
        response.headers.setdefault("Content-Security-Policy", csp.policy(tile_origin.strip()))
    return response
