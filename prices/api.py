"""JSON API of prices in emergencies (价格异常预警): the commodity catalogue, observations and
their import, anomaly alerts and their steps, daily series, and public complaints."""

from flask import current_app, request
from flask_babel import get_locale

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, PLANNER
from emergency.db import get_session
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jobs import api as jobs_api
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema
from prices import catalogue, complaints, filejobs, importer, schemas, service

blp = Blueprint("prices_api", __name__, url_prefix="/api/v1",
                description="Prices in emergencies (价格异常预警): observations, baselines, "
                "anomaly alerts, complaints")

OBSERVERS = (ADMIN, PLANNER)  # price observations and the commodity catalogue's use
ALERT_STEPPERS = (ADMIN, DISPATCHER)
COMPLAINT_WRITERS = (ADMIN, PLANNER, DISPATCHER)


def defaults():
    """The configured thresholds."""
    config = current_app.config
    return catalogue.Defaults(baseline_days=config["PRICE_BASELINE_DAYS"],
                              alert_ratio=config["PRICE_ALERT_RATIO"],
                              min_days=config["PRICE_BASELINE_MIN_DAYS"])


def lang():
    """The answer's language, zh or en."""
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def commodity_dict(item):
    """A catalogue entry as the API shows it."""
    return {"code": item.code, "name": item.name, "name_en": item.name_en, "unit": item.unit,
            "baseline_days": item.baseline_days, "alert_ratio": item.alert_ratio,
            "own_baseline_days": item.own_baseline_days,
            "own_alert_ratio": item.own_alert_ratio, "builtin": item.builtin,
            "active": item.active}


@blp.route("/prices/commodities", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.CommodityList)
def list_commodities():
    """The commodity catalogue with each commodity's unit and thresholds in force."""
    items = catalogue.catalogue(get_session(), defaults(), include_inactive=True).values()
    return {"items": [commodity_dict(i) for i in items], "total": len(items)}


@blp.route("/prices/commodities/<code>", methods=["PUT"])
@allow(ADMIN)
@blp.arguments(schemas.CommodityIn)
@blp.response(200, schemas.CommodityOut)
def save_commodity(body, code):
    """Add a commodity, or override a built-in one's name, unit or thresholds (null
    thresholds follow PRICE_BASELINE_DAYS and PRICE_ALERT_RATIO)."""
    session = get_session()
    service.save_commodity(session, code, **body)
    return commodity_dict(catalogue.catalogue(session, defaults(), include_inactive=True)[code])


@blp.route("/prices/observations", methods=["POST"])
@allow(*OBSERVERS)
@blp.arguments(schemas.ObservationIn)
@blp.response(201, schemas.ObservationOut)
@blp.alt_response(200, schema=schemas.ObservationOut, description="the same commodity, area, "
                  "market and day again: the stored observation (its price replaced)")
def add_observation(body):
    """Store a price seen at a market on a day; the commodity and area are evaluated at once
    and ``alerts`` names the alerts this price raised or updated."""
    record, created = service.add_observation(get_session(), actor(), body, defaults())
    return record, 201 if created else 200


@blp.route("/prices/observations", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.ObservationQuery, location="query")
@blp.response(200, schemas.ObservationList)
def list_observations(query):
    """Observations, newest day first (filters commodity, area_code, market, from, to)."""
    query["from_"] = query.pop("from_", None)
    items, total = service.list_observations(get_session(), actor(), **query)
    return {"items": items, "total": total}


@blp.route("/prices/observations/import", methods=["POST"])
@allow(*OBSERVERS)
@blp.arguments(schemas.ImportJobQuery, location="query")
@blp.response(201, schemas.ImportOut)
@blp.alt_response(202, description="with async=1: the queued import job (see GET /jobs/{id})")
@blp.alt_response(413, description="larger than PRICE_IMPORT_MAX_BYTES")
@blp.alt_response(422, description="bad rows, each listed by row number and field; nothing "
                  "stored")
def import_observations(query):
    """Import observations from an .xlsx or .csv (multipart field ``file``; columns
    commodity, unit, market, area_code, observed_on, price, or 商品, 单位, 市场, 区县代码, 日期,
    价格): every row or none. Rows whose commodity, area, market and day exist replace
    their price; the same file again changes nothing. With ``async=1`` a background job
    imports it (202 with the job)."""
    config = current_app.config
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    if query["run_async"]:
        record = filejobs.queue_import(get_session(), actor(), upload.filename if stream
                                       else "", stream, defaults(),
                                       config["PRICE_IMPORT_MAX_BYTES"],
                                       config["PRICE_IMPORT_MAX_ROWS"])
        return jobs_api.accepted(record)
    return importer.import_file(get_session(), actor(), upload.filename if stream else "",
                                stream, defaults(), config["PRICE_IMPORT_MAX_BYTES"],
                                config["PRICE_IMPORT_MAX_ROWS"])


@blp.route("/prices/alerts", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.AlertQuery, location="query")
@blp.response(200, schemas.AlertList)
def list_alerts(query):
    """Price alerts, active ones first (filters status, area_code, commodity)."""
    items, total = service.list_alerts(get_session(), actor(), defaults=defaults(),
                                       lang=lang(), **query)
    return {"items": items, "total": total}


@blp.route("/prices/alerts/<int:alert_id>", methods=["GET"])
@allow(BUREAU)
@blp.response(200, schemas.AlertOut)
def get_alert(alert_id):
    """One price alert with its recorded steps."""
    return service.get_alert(get_session(), actor(), alert_id, defaults(), lang())


@blp.route("/prices/alerts/<int:alert_id>/transition", methods=["POST"])
@allow(*ALERT_STEPPERS)
@blp.arguments(schemas.TransitionIn)
@blp.response(200, schemas.AlertOut)
@blp.alt_response(409, description="not a step from the alert's status")
def transition_alert(body, alert_id):
    """open → acknowledged → referred (to market regulation) → closed; closing is possible
    from every active status; referred and closed need a note."""
    session = get_session()
    service.transition(session, actor(), alert_id, body["to"], body["note"])
    return service.get_alert(session, actor(), alert_id, defaults(), lang())


@blp.route("/prices/series", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.SeriesQuery, location="query")
@blp.response(200, schemas.SeriesOut)
def series(query):
    """The daily prices of a commodity in an area (median over markets, with the lowest and
    highest) and, for each day, its baseline and alert line."""
    return service.series(get_session(), actor(), query["commodity"], query["area_code"],
                          query.get("from_"), query.get("to"), defaults(), lang())


def complaint_feature(record):
    """A complaint as a GeoJSON Feature."""
    props = {k: v for k, v in record.items() if k != "location"}
    for key, value in props.items():
        if hasattr(value, "isoformat"):
            props[key] = value.isoformat()
    return feature(record["id"], record["location"], props)


@blp.route("/prices/complaints", methods=["POST"])
@allow(*COMPLAINT_WRITERS)
@blp.arguments(schemas.ComplaintIn)
@blp.response(201, schemas.ComplaintOut)
def create_complaint(body):
    """Record a public complaint (gouging, hoarding, rumour, fake) at a point."""
    return complaints.create_complaint(get_session(), actor(),
                                       region=current_app.config["SERVED_BBOX"], **body)


@blp.route("/prices/complaints", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.ComplaintQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_complaints(query):
    """Complaints as a FeatureCollection, newest first (filters kind, commodity, area_code,
    since, bbox)."""
    records, total = complaints.list_complaints(get_session(), actor(), **query)
    return geojson_response(feature_collection([complaint_feature(r) for r in records],
                                               total))
