"""The incident list and the dispatch console page (server-rendered parts)."""

from maps.assets import external_urls
from tests.incidents.conftest import incident_body


def test_console_shows_incident_teams_and_buttons(app, client, forces, dispatcher, actors):
    org, oh = forces.org()
    near = forces.team(oh, org["id"], 106.56, 29.57, name="近处山地队")
    forces.team(oh, org["id"], 106.555, 29.565, insured=0, name="无保险队")
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    page = client.get(f"/maps/incidents/{inc['id']}", headers=dispatcher)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "山体滑坡" in html and "近处山地队" in html
    assert f'data-team-id="{near["id"]}"' in html and "data-members=" in html
    assert "无保险队" in html  # listed among the teams left out
    assert external_urls(html) == []
    # A fresh client: Flask-Login's strong session protection drops a token client that
    # kept the first page's CSRF session cookie (reported to the lead).
    listing = app.test_client().get("/incidents", headers=dispatcher)
    assert listing.status_code == 200 and f"/maps/incidents/{inc['id']}" in \
        listing.get_data(as_text=True)
    auditor = app.test_client().get(f"/maps/incidents/{inc['id']}",
                                    headers=actors.header("auditor"))
    assert auditor.status_code == 200 and "data-members=" not in \
        auditor.get_data(as_text=True)
    assert app.test_client().get(f"/maps/incidents/{inc['id']}",
                                 headers=actors.header("grid_staff")).status_code == 403
    assert app.test_client().get("/maps/incidents/999999",
                                 headers=dispatcher).status_code == 404
