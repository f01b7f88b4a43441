"""POST /warnings/import: CAP 1.2 alerts of other bureaus become published warnings with
their source kept; no duplicates; Update and Cancel; refusals naming the element, nothing
stored; entity expansion, DTDs and oversized documents refused."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from alerts import cap
from alerts.models import EarlyWarning
from emergency.db import utcnow
from emergency.events.models import LiveEvent
from tests.conftest import error_of

SENDER = "cq-weather@example.gov.cn"
XML = {"Content-Type": "application/cap+xml"}


def cap_alert(identifier="cqmet-20260701-001", msg_type="Alert", references="",
              severity="Extreme", event="暴雨红色预警", expires_hours=6, areas=None,
              status="Actual", sender=SENDER, extra_info=""):
    """A CAP 1.2 alert as the meteorological bureau sends it (bytes)."""
    now = utcnow()
    areas = areas if areas is not None else (
        "<area><areaDesc>测试区</areaDesc>"
        "<polygon>29.5,106.5 29.5,106.6 29.6,106.6 29.6,106.5 29.5,106.5</polygon>"
        "<geocode><valueName>GB/T 2260</valueName><value>990101</value></geocode>"
        "<geocode><valueName>GB/T 2260</valueName><value>500999</value></geocode></area>")
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>{sender}</sender>
  <sent>{cap.cap_time(now)}</sent><status>{status}</status><msgType>{msg_type}</msgType>
  <scope>Public</scope>{refs}
  <info><language>zh-CN</language><category>Met</category><event>{event}</event>
    <urgency>Immediate</urgency><severity>{severity}</severity><certainty>Likely</certainty>
    <onset>{cap.cap_time(now)}</onset>
    <expires>{cap.cap_time(now + timedelta(hours=expires_hours))}</expires>
    <senderName>测试市气象台</senderName><headline>测试市气象台发布{event}</headline>
    <description>预计未来6小时降雨量将达100毫米以上。</description>
    <instruction>停止户外活动。</instruction>{extra_info}{areas}</info>
</alert>""".encode()


def post(client, headers, body, content_type=XML):
    """POST /warnings/import."""
    return client.post("/api/v1/warnings/import", data=body, headers={**headers,
                                                                         **content_type})


@pytest.fixture
def admin(actors):
    """An administrator's headers (one user: hashing passwords is what costs here)."""
    return actors.header("admin")


def stored(db):
    """How many warnings are stored."""
    return db.scalar(select(func.count()).select_from(EarlyWarning))


def test_an_alert_becomes_a_published_warning_keeping_its_source(client, db, place, admin):
    body = cap_alert()
    response = post(client, admin, body)
    assert response.status_code == 201, response.get_json()
    warning = response.get_json()
    assert warning["status"] == "published" and warning["level"] == "red"
    assert warning["hazard_type"] == "meteorological"
    assert warning["title"] == "测试市气象台发布暴雨红色预警"
    assert warning["area_codes"] == [place["district"]]  # 500999 is not an area of ours
    row = db.get(EarlyWarning, warning["id"])
    assert (row.source, row.source_identifier) == (SENDER, "cqmet-20260701-001")
    assert row.source_xml == body.decode() and row.author_id is None
    assert row.geometry is not None
    events = db.scalars(select(LiveEvent.type).where(LiveEvent.resource_id == row.id)).all()
    assert events == ["warning.published"]
    # The public get the source's own document.
    public = client.get(f"/api/v1/public/warnings/{row.id}.cap")
    assert public.get_data() == body
    ids = [f["id"] for f in client.get("/api/v1/public/warnings").get_json()["features"]]
    assert row.id in ids


def test_the_same_alert_again_is_not_duplicated(client, db, place, admin):
    first = post(client, admin, cap_alert())
    before = stored(db)
    again = post(client, admin, cap_alert())
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert stored(db) == before


def test_update_changes_the_warning_and_cancel_lifts_it(client, db, place, admin):
    first = post(client, admin, cap_alert()).get_json()
    sent = cap.parse_alert(cap_alert()).sent  # the reference names the first message
    reference = f"{SENDER},cqmet-20260701-001,{cap.cap_time(sent)}"
    update = post(client, admin, cap_alert(
        "cqmet-20260701-002", "Update", reference, severity="Severe", event="暴雨橙色预警"))
    assert update.status_code == 200, update.get_json()
    body = update.get_json()
    assert body["id"] == first["id"] and body["version"] == 2 and body["level"] == "orange"
    row = db.get(EarlyWarning, first["id"])
    assert row.source_identifier == "cqmet-20260701-002"
    assert row.references[0].startswith(f"{SENDER},cqmet-20260701-001,")
    # The first alert again is still the same warning, not a new one.
    before = stored(db)
    assert post(client, admin, cap_alert()).get_json()["id"] == first["id"]
    cancel = post(client, admin, cap_alert(
        "cqmet-20260701-003", "Cancel", f"{SENDER},cqmet-20260701-002,{cap.cap_time(sent)}"))
    assert cancel.status_code == 200, cancel.get_json()
    assert cancel.get_json()["status"] == "lifted" and cancel.get_json()["version"] == 3
    assert stored(db) == before
    ids = [f["id"] for f in client.get("/api/v1/public/warnings").get_json()["features"]]
    assert first["id"] not in ids
    types = db.scalars(select(LiveEvent.type).where(LiveEvent.resource_id == first["id"])
                       .order_by(LiveEvent.id)).all()
    assert types == ["warning.published", "warning.published", "warning.lifted"]


# (body, the element the refusal names): each refused, nothing stored.
BAD = [
    (b"<html><body>not cap</body></html>", "cap:alert"),
    (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"/>', "cap:alert"),
    (b"{\"json\": true}", "_body"),
    (b"<alert", "_body"),
    (cap_alert().replace(b"<sender>" + SENDER.encode() + b"</sender>", b""), "cap:sender"),
    (cap_alert(severity="Unknown"), "cap:severity"),
    (cap_alert(severity="Purple"), "cap:severity"),
    (cap_alert(status="Exercise"), "cap:status"),
    (cap_alert().replace(b"<scope>Public</scope>", b"<scope>Restricted</scope>"
                         b"<restriction>bureaus only</restriction>"), "cap:scope"),
    (cap_alert(expires_hours=-1), "cap:expires"),
    (cap_alert(areas=""), "cap:area"),
    (cap_alert(areas="<area><areaDesc>远方</areaDesc><geocode><valueName>GB/T 2260"
                     "</valueName><value>110101</value></geocode></area>"), "cap:geocode"),
    (cap_alert(areas="<area><areaDesc>x</areaDesc><polygon>29.5,106.5 29.5,106.6 "
                     "29.6,106.6 29.6,106.5</polygon></area>"), "cap:polygon"),  # not closed
    (cap_alert(areas="<area><areaDesc>x</areaDesc><polygon>40.7,-74.0 40.7,-73.9 "
                     "40.8,-73.9 40.7,-74.0</polygon></area>"), "cap:polygon"),  # New York
    (cap_alert(msg_type="Cancel", references=f"{SENDER},nothing-we-know,"
               "2026-07-01T08:00:00+08:00"), "cap:references"),
    (cap_alert(sender="cq-emergency@example.gov.cn"), "cap:sender"),  # our own alert
]


def test_bad_documents_are_refused_naming_the_element(client, db, place, admin):
    """One test for all (each case costs a request, not a fixture set-up)."""
    before = stored(db)
    for body, field in BAD:
        response = post(client, admin, body)
        assert response.status_code == 422, (field, response.get_data(as_text=True))
        assert field in error_of(response)["details"], (field, error_of(response))
    assert stored(db) == before


def test_refusal_is_in_chinese(client, place, admin):
    response = post(client, admin, cap_alert(severity="Unknown"))
    error = error_of(response)
    assert "严重程度" in error["details"]["cap:severity"][0], error


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""


@pytest.mark.parametrize("body", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entities_and_dtds_are_refused(client, db, place, admin, body):
    before = stored(db)
    response = post(client, admin, body)
    assert response.status_code == 422
    assert "_body" in error_of(response)["details"]
    assert "root:" not in response.get_data(as_text=True)
    assert stored(db) == before


def test_a_gb2312_document_is_read_and_kept_as_utf8(client, db, place, admin):
    """Chinese bureaus still send GB 2312; its DTDs are refused as well (lxml's check, as
    Python's expat, under defusedxml, cannot read multi-byte encodings)."""
    text = cap_alert("cqmet-gb").decode().replace('encoding="UTF-8"', 'encoding="GB2312"')
    response = post(client, admin, text.encode("gb2312"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["title"] == "测试市气象台发布暴雨红色预警"
    kept = db.get(EarlyWarning, response.get_json()["id"]).source_xml
    assert kept.startswith("<?xml version='1.0' encoding='UTF-8'?>") and "暴雨红色预警" in kept
    bomb = BOMB.decode().replace('<?xml version="1.0"?>',
                                 '<?xml version="1.0" encoding="GB2312"?>').encode("gb2312")
    refused = post(client, admin, bomb)
    assert refused.status_code == 422 and "_body" in error_of(refused)["details"]


def test_oversized_documents_are_refused(client, db, place, admin):
    padding = b"<!--" + b"x" * (600 * 1024) + b"-->"
    response = post(client, admin, cap_alert().replace(b"<alert", padding +
                                                                    b"<alert", 1))
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_a_retry_with_an_idempotency_key_gets_the_first_answer(client, db, place, admin):
    headers = {**admin, "Idempotency-Key": "cap-import-1"}
    body = cap_alert("cqmet-idem")  # a retry sends the same bytes (the alert holds its time)
    first = post(client, headers, body)
    assert first.status_code == 201, first.get_json()
    again = post(client, headers, body)
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]


def test_who_may_import(client, place, people):
    body = cap_alert("cqmet-roles")
    assert client.post("/api/v1/warnings/import", data=body, headers=XML).status_code == 401
    for role in ("dispatcher", "auditor", "grid_staff"):
        assert post(client, people[role][1], body).status_code == 403, role
    assert post(client, people["planner"][1], body).status_code == 201
