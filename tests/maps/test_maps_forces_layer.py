"""The forces map layer: teams of a view as points with their popups' fields, or counted in
squares when the view holds more than RAW_TEAM_LIMIT; by category; in the user's scope."""

import pytest

from maps import providers
from tests.factories import Forces

BBOX = "106.0,29.0,107.0,30.0"


def _layer(client, headers, zoom, **extra):
    """The forces layer of BBOX at ``zoom``."""
    response = client.get("/api/v1/maps/layers/forces", headers=headers,
                          query_string={"bbox": BBOX, "zoom": zoom, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture()
def teams(client, actors):
    """Two organisations: three mountain teams and a water team near 106.5,29.5 (the first),
    a mountain team at 106.9,29.9 (the second)."""
    forces = Forces(client, actors)
    org, headers = forces.org()
    other, other_headers = forces.org()
    made = [forces.team(headers, org["id"], 106.50 + i / 1000, 29.5, members=2, insured=1)
            for i in range(3)]
    made.append(forces.team(headers, org["id"], 106.52, 29.52, category="water", members=0))
    made.append(forces.team(other_headers, other["id"], 106.9, 29.9, members=1, insured=0))
    return {"org": org, "other": other, "teams": made}


def test_points_carry_what_the_popup_shows(client, actors, teams):
    body = _layer(client, actors.header("dispatcher"), 12, category="mountain")
    assert body["meta"]["total"] == 4 and "aggregated" not in body["meta"]
    first = next(f for f in body["features"] if f["id"] == teams["teams"][0]["id"])
    props = first["properties"]
    assert props["category"] == "mountain" and props["status"] == "available"
    assert props["members"] == 2 and props["insured"] == 1
    assert props["url"] == f"/registry/teams/{teams['teams'][0]['id']}"
    assert props["org_name"] == teams["org"]["name"]
    water = _layer(client, actors.header("dispatcher"), 12, category="water")
    assert [f["id"] for f in water["features"]] == [teams["teams"][3]["id"]]


@pytest.mark.parametrize("zoom", [8, 12])  # a scan of the category, and the spatial index
def test_a_full_view_is_counted_in_squares(client, actors, teams, monkeypatch, zoom):
    monkeypatch.setattr(providers, "RAW_TEAM_LIMIT", 2)
    body = _layer(client, actors.header("dispatcher"), zoom, category="mountain")
    meta = body["meta"]
    assert meta["aggregated"] == "bins" and meta["in_bins"] == 4
    assert sum(f["properties"]["count"] for f in body["features"]) == 4
    assert meta["total"] == len(body["features"])
    for f in body["features"]:
        west, south, east, north = f["properties"]["bbox"]
        lon, lat = f["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north
        assert 0 <= f["properties"]["available"] <= f["properties"]["count"]
        assert "name" not in f["properties"]
    # The three teams 100 m apart share a square at zoom 8.
    if zoom == 8:
        assert max(f["properties"]["count"] for f in body["features"]) >= 3


def test_the_layer_keeps_to_the_users_scope(client, actors, teams, monkeypatch):
    own = actors.header("org_admin", org_id=teams["org"]["id"])
    body = _layer(client, own, 12, category="mountain")
    assert {f["id"] for f in body["features"]} == {t["id"] for t in teams["teams"][:3]}
    monkeypatch.setattr(providers, "RAW_TEAM_LIMIT", 0)
    squares = _layer(client, own, 8, category="mountain")
    assert squares["meta"]["in_bins"] == 3
    assert _layer(client, actors.header("grid_staff"), 12)["features"] == []
