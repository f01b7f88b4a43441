"""Prices through the HTTP API on both backends: observations, validation, alerts raised by
stored prices (one per commodity and area), the workflow, series, catalogue and roles."""

from sqlalchemy import func, select

from prices.models import PriceAlert, PriceObservation
from tests.conftest import error_of
from tests.prices.conftest import URL, day, history, obs

NORMAL = ["5.00", "5.10", "4.90", "5.00", "5.20", "5.00"]  # baseline 5.00


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_observation_is_stored_with_money_and_day(client, planner, place):
    response = client.post(f"{URL}/observations", json=obs(place, "6.58"), headers=planner)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["price"] == "6.58" and made["unit"] == "kg"
    assert made["commodity"] == "rice" and made["area_code"] == place["district"]
    assert made["observed_on"] == day(0) and made["alerts"] == []


def test_same_key_replaces_the_price_and_never_duplicates(client, planner, place, db):
    first = client.post(f"{URL}/observations", json=obs(place, "6.58"), headers=planner)
    again = client.post(f"{URL}/observations", json=obs(place, "6.60"), headers=planner)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["price"] == "6.60"
    assert _count(db, PriceObservation) == 1


def test_bad_fields_are_named(client, planner, place):
    cases = {"price": ["0", "-1", "6.585", "abc"], "commodity": ["gold"],
             "area_code": ["123456"], "unit": ["斤"], "observed_on": ["2999-01-01"]}
    for field, values in cases.items():
        for value in values:
            body = {**obs(place, "6.58"), field: value}
            response = client.post(f"{URL}/observations", json=body, headers=planner)
            assert response.status_code == 422, (field, value, response.get_json())
            assert field in error_of(response)["details"], (field, value)
    missing = client.post(f"{URL}/observations", json={"price": "1"}, headers=planner)
    assert missing.status_code == 422
    assert {"commodity", "market", "area_code", "observed_on"} <= set(
        error_of(missing)["details"])


def test_commodity_may_be_given_without_unit(client, planner, place):
    body = obs(place, "6.58")
    del body["unit"]
    assert client.post(f"{URL}/observations", json=body, headers=planner).status_code == 201


def test_abnormal_price_raises_one_alert_with_contract_fields(client, planner, place, db):
    history(client, planner, place, NORMAL)
    response = client.post(f"{URL}/observations", json=obs(place, "6.40", n=-1),
                           headers=planner)
    # n=-1 is today: still a valid day
    assert response.status_code == 201, response.get_json()
    raised = response.get_json()["alerts"]
    assert len(raised) == 1 and raised[0]["raised"] is True
    listed = client.get(f"{URL}/alerts?status=open", headers=planner).get_json()
    assert listed["total"] == 1
    alert = listed["items"][0]
    assert {"id", "commodity", "area_code", "baseline", "latest", "ratio", "status",
            "raised_at"} <= set(alert)
    assert (alert["commodity"], alert["area_code"]) == ("rice", place["district"])
    assert (alert["baseline"], alert["latest"], alert["ratio"]) == ("5.00", "6.40", 0.28)
    assert alert["status"] == "open" and alert["raised_at"].endswith("+00:00")
    # A still higher price updates the same alert instead of opening another.
    client.post(f"{URL}/observations", json=obs(place, "7.00", n=-1), headers=planner)
    assert _count(db, PriceAlert) == 1
    again = client.get(f"{URL}/alerts", headers=planner).get_json()["items"][0]
    assert again["latest"] == "7.00" and again["ratio"] == 0.4


def test_price_within_the_ratio_raises_nothing(client, planner, place, db):
    history(client, planner, place, [*NORMAL, "6.00"])  # +20 % exactly
    assert _count(db, PriceAlert) == 0


def test_too_little_history_raises_nothing(client, planner, place, db):
    history(client, planner, place, ["5.00", "5.00", "9.00"])
    assert _count(db, PriceAlert) == 0


def test_alert_filters(client, planner, place):
    history(client, planner, place, [*NORMAL, "8.00"])
    history(client, planner, place, [*["10.00"] * 6, "10.10"], commodity="pork")
    assert client.get(f"{URL}/alerts?commodity=rice", headers=planner).get_json()["total"] == 1
    assert client.get(f"{URL}/alerts?commodity=pork", headers=planner).get_json()["total"] == 0
    assert client.get(f"{URL}/alerts?area_code={place['city']}",
                      headers=planner).get_json()["total"] == 1
    assert client.get(f"{URL}/alerts?area_code=990199",
                      headers=planner).get_json()["total"] == 0
    assert client.get(f"{URL}/alerts?status=closed", headers=planner).get_json()["total"] == 0
    assert client.get(f"{URL}/alerts?status=bogus", headers=planner).status_code == 422


def _raise(client, planner, place):
    history(client, planner, place, [*NORMAL, "8.00"])
    return client.get(f"{URL}/alerts", headers=planner).get_json()["items"][0]["id"]


def _step(client, headers, alert_id, to, note=""):
    return client.post(f"{URL}/alerts/{alert_id}/transition", json={"to": to, "note": note},
                       headers=headers)


def test_workflow_open_acknowledged_referred_closed(client, planner, dispatcher, place):
    alert_id = _raise(client, planner, place)
    assert _step(client, dispatcher, alert_id, "referred", "x").status_code == 409
    ack = _step(client, dispatcher, alert_id, "acknowledged")
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    no_note = _step(client, dispatcher, alert_id, "referred")
    assert no_note.status_code == 422 and "note" in error_of(no_note)["details"]
    referred = _step(client, dispatcher, alert_id, "referred", "移交区市场监管局")
    assert referred.get_json()["status"] == "referred"
    assert _step(client, dispatcher, alert_id, "acknowledged").status_code == 409
    closed = _step(client, dispatcher, alert_id, "closed", "价格已回落")
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed" and body["closed_at"]
    assert [s["to_status"] for s in body["steps"]] == ["open", "acknowledged", "referred",
                                                       "closed"]
    assert _step(client, dispatcher, alert_id, "closed", "again").status_code == 409
    assert _step(client, dispatcher, 999999, "closed", "x").status_code == 404


def test_closed_alert_lets_a_new_one_open(client, planner, dispatcher, place, db):
    alert_id = _raise(client, planner, place)
    assert _step(client, dispatcher, alert_id, "closed", "误报").status_code == 200
    response = client.post(f"{URL}/observations", json=obs(place, "8.50", n=-1),
                           headers=planner)
    assert response.get_json()["alerts"][0]["raised"] is True
    assert _count(db, PriceAlert) == 2
    statuses = sorted(a["status"] for a in client.get(
        f"{URL}/alerts", headers=planner).get_json()["items"])
    assert statuses == ["closed", "open"]


def test_roles(client, actors, place, planner):
    alert_id = _raise(client, planner, place)
    for role, code in (("dispatcher", 403), ("auditor", 403), ("grid_staff", 403),
                       ("org_admin", 403), ("admin", 201)):
        response = client.post(f"{URL}/observations", json=obs(place, "5", n=20),
                               headers=actors.header(role))
        assert response.status_code in ((200, 201) if code == 201 else (code,)), role
    assert _step(client, planner, alert_id, "acknowledged").status_code == 403
    assert _step(client, actors.header("admin"), alert_id,
                 "acknowledged").status_code == 200
    auditor = actors.header("auditor")
    assert client.get(f"{URL}/alerts", headers=auditor).status_code == 200
    assert client.get(f"{URL}/alerts", headers=actors.header("grid_staff")).status_code == 403
    assert client.get(f"{URL}/alerts").status_code == 401


def test_district_scoped_staff_see_their_district_only(client, actors, planner, place, db):
    from shapely.geometry import shape

    from emergency.geo import service
    from tests.conftest import square

    service.create_area(db, "990102", "第二区", "district", shape(square(106.1, 29.1, 0.2)),
                        "990000")
    db.flush()
    _raise(client, planner, place)
    elsewhere = actors.header("dispatcher", area_code="990102")
    assert client.get(f"{URL}/alerts", headers=elsewhere).get_json()["total"] == 0
    inside = actors.header("dispatcher", area_code=place["district"])
    assert client.get(f"{URL}/alerts", headers=inside).get_json()["total"] == 1


def test_series_with_baseline_and_alert_line(client, planner, place):
    history(client, planner, place, [*NORMAL, "8.00"])
    client.post(f"{URL}/observations", headers=planner,
                json=obs(place, "9.00", market="第二市场"))
    response = client.get(f"{URL}/series?commodity=rice&area_code={place['district']}",
                          headers=planner)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["unit"] == "kg" and body["baseline_days"] == 30 and body["alert_ratio"] == 0.2
    assert body["open_alert_id"] is not None
    days = body["days"]
    assert [d["day"] for d in days] == sorted(d["day"] for d in days) and len(days) == 7
    last = days[-1]
    # Yesterday: markets 8.00 and 9.00 -> 8.50; baseline of the six days before 5.00.
    assert (last["price"], last["low"], last["high"], last["markets"]) == (
        "8.50", "8.00", "9.00", 2)
    assert (last["baseline"], last["limit"]) == ("5.00", "6.00")
    assert days[0]["baseline"] is None  # no days before the first one
    short = client.get(f"{URL}/series?commodity=rice&area_code={place['district']}"
                       f"&from={day(1)}&to={day(0)}", headers=planner).get_json()
    assert [d["day"] for d in short["days"]] == [day(1), day(0)]
    assert short["days"][1]["baseline"] == "5.00"  # the window reaches before 'from'


def test_series_refuses_bad_queries(client, planner, place):
    for query in ("commodity=gold&area_code=990101", "commodity=rice&area_code=000000",
                  f"commodity=rice&area_code=990101&from={day(0)}&to={day(5)}",
                  "area_code=990101"):
        response = client.get(f"{URL}/series?{query}", headers=planner)
        assert response.status_code == 422, (query, response.get_json())


def test_catalogue_and_per_commodity_thresholds(client, admin, planner, place, db):
    listed = client.get(f"{URL}/commodities", headers=planner).get_json()
    codes = {c["code"] for c in listed["items"]}
    assert {"rice", "flour", "edible_oil", "pork", "eggs", "vegetables", "drinking_water",
            "masks"} <= codes
    rice = next(c for c in listed["items"] if c["code"] == "rice")
    assert (rice["baseline_days"], rice["alert_ratio"], rice["own_alert_ratio"]) == (
        30, 0.2, None)
    assert client.put(f"{URL}/commodities/rice", json={"alert_ratio": 0.5},
                      headers=planner).status_code == 403
    saved = client.put(f"{URL}/commodities/rice", json={"alert_ratio": 0.5,
                                                        "baseline_days": 7}, headers=admin)
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["alert_ratio"], saved.get_json()["baseline_days"]) == (0.5, 7)
    history(client, planner, place, [*NORMAL, "7.00"])  # +40 %: under the rice threshold
    assert _count(db, PriceAlert) == 0
    bad = client.put(f"{URL}/commodities/rice", json={"alert_ratio": 0}, headers=admin)
    assert bad.status_code == 422 and "alert_ratio" in error_of(bad)["details"]
    new = client.put(f"{URL}/commodities/salt", json={"name": "食盐", "unit": "kg"},
                     headers=admin)
    assert new.status_code == 200 and new.get_json()["builtin"] is False
    assert client.put(f"{URL}/commodities/BAD CODE", json={"name": "x", "unit": "kg"},
                      headers=admin).status_code == 422
    unit = client.put(f"{URL}/commodities/rice", json={"unit": "斤"}, headers=admin)
    assert unit.status_code == 409


def test_configured_defaults_apply(app, client, planner, place, db):
    app.config["PRICE_ALERT_RATIO"] = 0.5
    history(client, planner, place, [*NORMAL, "7.00"])
    assert _count(db, PriceAlert) == 0
    app.config["PRICE_ALERT_RATIO"] = 0.2
    client.post(f"{URL}/observations", json=obs(place, "7.10", n=0), headers=planner)
    assert _count(db, PriceAlert) == 1


def test_observation_list(client, planner, place):
    history(client, planner, place, NORMAL)
    listed = client.get(f"{URL}/observations?commodity=rice&limit=2", headers=planner)
    body = listed.get_json()
    assert body["total"] == 6 and len(body["items"]) == 2
    assert body["items"][0]["observed_on"] == day(0)
