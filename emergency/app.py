"""The composition root: create_app wires the core, the platform and every domain
(emergency.domains) into one Flask application."""

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from emergency import api, cli, config, csp, db, errors, i18n, idempotency, jsonbody, web
from emergency.audit import service as audit
from emergency.auth import web as auth_web
from emergency.db import finish_request
from emergency.errors import error_response


def create_app(test_config=None):
    """Create and configure the application."""
    app = Flask("emergency", instance_relative_config=True)
    config.load(app, test_config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    db.init_app(app)
    errors.init_app(app)
    # Before any other hook reads the body (the idempotency check hashes it).
    jsonbody.init_app(app)
    i18n.init_app(app)
    api.init_app(app)
    web.init_app(app)
    auth_web.init_app(app)
    audit.install()
    cli.register(app)
    app.before_request(idempotency.replay)
    csp.init_app(app)  # the per-request script nonce in templates
    # after_request hooks run in reverse order: remember the answer, then commit, then headers.
    app.after_request(_security_headers)
    app.after_request(_finish_transaction)
    app.after_request(idempotency.remember)
    return app


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
    return response


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
