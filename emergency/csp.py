"""The Content-Security-Policy of pages: scripts only from this origin or with the nonce of the
request, so script that slips into a page (stored in a name, say) does not run.

Pages put data for scripts in ``<script type="application/json">`` elements (``|tojson``,
which escapes ``<``, ``>``, ``&`` and ``'``) or in data attributes, and scripts are static
files. The only inline scripts are folium's generated map code, which carries no user data
(data goes through maps.data) and gets the request's nonce: ``<script nonce="{{ csp_nonce()
}}">``.
"""

import secrets

from flask import g

# Styles stay 'unsafe-inline': folium writes <style> blocks and Leaflet, Bootstrap and our
# templates use style attributes. Injected CSS cannot run script; what it could leak (attribute
# values through selectors) needs injected markup, which Jinja's auto-escaping and text-only
# DOM writes keep out.
_FIXED = ("default-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
          "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'self'")


def nonce():
    """The script nonce of this request (made on first use, 128 bits from the OS)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy(tile_origin=""):
    """The policy for an HTML response; ``tile_origin`` is the base map's host, if any."""
    script = "script-src 'self'"
    if "csp_nonce" in g:  # only pages that rendered an inline script allow one
        script += f" 'nonce-{g.csp_nonce}'"
    images = "img-src 'self' data: blob:" + (f" {tile_origin}" if tile_origin else "")
    return f"{_FIXED}; {script}; {images}"


def init_app(app):
    """Make ``csp_nonce()`` available to every template."""
    app.jinja_env.globals["csp_nonce"] = nonce
