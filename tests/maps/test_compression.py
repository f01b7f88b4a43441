"""Compressed responses (Flask-Compress in create_app): pages, JSON, GeoJSON layers and static
files in gzip or brotli when the client accepts it, conditional requests still answered, small
bodies left alone, and the live event stream never compressed (it still streams)."""

import gzip

import brotli
import pytest
import requests

from tests.browser import live_server
from tests.conftest import committed_app

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}
LEAFLET = "/static/vendor/leaflet/dist/leaflet.js"


def _get(client, path, headers):
    """GET, read the body and close the response (a static file's handle with it)."""
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def _both(client, path, encoding, headers=None):
    """The response in ``encoding`` and the identity one."""
    packed = _get(client, path, {**(headers or {}), "Accept-Encoding": encoding})
    plain = _get(client, path, {**(headers or {}), "Accept-Encoding": "identity"})
    return packed, plain


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_page_is_compressed_when_the_client_accepts_it(client, encoding):
    packed, plain = _both(client, "/login", encoding)
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert DECODE[encoding](packed.get_data()) == plain.get_data()
    assert "Content-Encoding" not in plain.headers
    assert len(packed.get_data()) < len(plain.get_data()) / 2


def test_json_is_compressed_and_map_layers_keep_their_own_gzip(client, actors, place):
    headers = actors.header("planner")
    packed, plain = _both(client, "/api/v1/areas?limit=50", "br", headers)
    assert plain.status_code == 200 and len(plain.get_data()) > 1024
    assert packed.headers["Content-Encoding"] == "br"
    assert DECODE["br"](packed.get_data()) == plain.get_data()
    # The map layers gzip their bytes once and cache them (maps/responses.py): left as they are.
    query = "bbox=106.3,29.3,106.9,29.9&zoom=14"
    layer = _get(client, f"/api/v1/maps/layers/areas?{query}",
                 {**headers, "Accept-Encoding": "br, gzip"})
    assert layer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(layer.get_data()).startswith(b"{")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_are_compressed_and_revalidate(client, encoding):
    packed, plain = _both(client, LEAFLET, encoding)
    assert packed.headers["Content-Encoding"] == encoding
    assert DECODE[encoding](packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    etag = packed.headers["ETag"]
    again = _get(client, LEAFLET, {"Accept-Encoding": encoding, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    plain_etag = plain.headers["ETag"]
    assert _get(client, LEAFLET, {"If-None-Match": plain_etag}).status_code == 304


def test_small_bodies_and_downloads_are_not_compressed(client):
    small = _get(client, "/api/v1/health", {"Accept-Encoding": "br"})
    assert small.status_code == 200 and len(small.get_data()) < 1024
    assert "Content-Encoding" not in small.headers
    png = _get(client, "/static/vendor/leaflet/dist/images/layers.png",
               {"Accept-Encoding": "br"})
    assert png.status_code == 200 and "Content-Encoding" not in png.headers


def test_the_event_stream_is_never_compressed_and_still_streams(backend, tmp_path):
    with committed_app(backend, tmp_path, "compressevents") as app:
        app.config["EVENTS_HEARTBEAT_SECONDS"] = 1
        with app.app_context():
            from emergency.auth import service as auth
            from emergency.db import new_session

            session = new_session()
            session.info["actor"] = "test"
            auth.create_user(session, "streamer", "admin", "correct horse battery")
            token = auth.create_token(session, "streamer", 1)
            session.commit()
            session.close()
        with live_server(app) as base:
            response = requests.get(f"{base}/api/v1/events", stream=True, timeout=(5, 10),
                                    headers={"Authorization": f"Bearer {token}",
                                             "Accept-Encoding": "br, gzip, deflate"})
            try:
                assert response.status_code == 200
                assert response.headers["Content-Type"].startswith("text/event-stream")
                assert "Content-Encoding" not in response.headers
                # The heartbeat arrives on its own, before the stream ends: it streams.
                first = next(response.iter_lines(decode_unicode=True))
                assert first.startswith(":") or first.startswith("retry") or first
            finally:
                response.close()
