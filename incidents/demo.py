"""Demo step: one live incident with a dispatch in progress, and closed, compensated ones."""

from datetime import timedelta
from types import SimpleNamespace

from geoalchemy2.shape import to_shape
from shapely.geometry import Point, Polygon
from sqlalchemy import select

from emergency.db import utcnow
from incidents import compensation as claims
from incidents import dispatch as dispatches
from incidents import service
from incidents.measures import service as measures
from incidents.measures.models import Measure
from incidents.models import Compensation, Dispatch, Incident
from incidents.reports import service as reports
from registry.crypto import app_cipher
from registry.models import Organisation, RescueTeam

MARK = "【演示】"
DEMO_USER = SimpleNamespace(username="demo", role="admin", org_id=None, area_code=None,
                            display_name="市应急管理局值班室")
# Claims are reviewed by an administrator other than the one who submitted them (four eyes).
DEMO_REVIEWER = SimpleNamespace(username="demo-reviewer", role="admin", org_id=None)


def _anchor_teams(session, count):
    """Locations of approved, available teams to place demo incidents near."""
    rows = session.execute(
        select(RescueTeam.id, RescueTeam.location).join(
            Organisation, Organisation.id == RescueTeam.org_id)
        .where(Organisation.status == "approved", RescueTeam.status == "available")
        .order_by(RescueTeam.id).limit(count)).all()
    return [to_shape(loc) for _id, loc in rows]


def _dispatch_nearest(session, incident, how_many, skip=0):
    """Dispatch the nearest qualifying teams of an incident; returns the dispatches."""
    lon, lat = service._lonlat(incident)
    recs = service.recommend_teams(session, lon, lat, limit=how_many + skip)["items"]
    made = []
    for rec in recs[skip:skip + how_many]:
        made.append(dispatches.create_dispatch(session, DEMO_USER, incident.id, rec["team_id"],
                                               "人员搜救与转移安置",
                                               max(1, min(rec["members"], 6))))
    return made


def _closed_incident(session, anchor, title, incident_type, days_ago, metrics, requisition):
    """An incident in the past whose dispatch completed and whose claims were paid."""
    start = utcnow() - timedelta(days=days_ago)
    incident = service.create_incident(session, DEMO_USER, MARK + title, incident_type,
                                       Point(anchor.x + 0.02, anchor.y - 0.015), start, metrics)
    incident.created_at = start
    initial = reports.create_report(
        session, DEMO_USER, incident.id, "initial",
        f"{start:%m月%d日}，{title}发生，已启动应急响应，救援力量正赶赴现场，详情续报。",
        0, 0, int(metrics.get("injured", 0)))
    initial.reported_at = start + timedelta(minutes=20)
    for dispatch in _dispatch_nearest(session, incident, 1):
        for to in ("accepted", "en_route", "on_scene", "completed"):
            dispatches.transition(session, DEMO_USER, dispatch.id, to)
        dispatch.requested_at, dispatch.accepted_at = start, start + timedelta(minutes=20)
        dispatch.en_route_at = start + timedelta(minutes=30)
        dispatch.on_scene_at = start + timedelta(hours=2)
        dispatch.ended_at = start + timedelta(hours=50)
        session.flush()
        items = claims.prefill(session, DEMO_USER, dispatch.id)["items"]
        items.append({"kind": "fuel", "quantity": 120, "unit_price": 7.85, "note": "柴油"})
        _settle(session, claims.claim_for_dispatch(session, DEMO_USER, dispatch.id, items),
                start)
    if requisition:
        req = dispatches.create_requisition(
            session, app_cipher(), DEMO_USER, incident.id, "重庆某工程机械租赁有限公司",
            "13800138000", "挖掘机（PC200）", 1, start + timedelta(hours=1), 650000,
            start + timedelta(days=2), legal_basis="《中华人民共和国突发事件应对法》第七十六条",
            authority="重庆市应急管理局")
        dispatches.return_requisition(session, DEMO_USER, req.id, "damaged", "液压管破损",
                                      start + timedelta(days=2))
        claim = claims.claim_for_requisition(session, DEMO_USER, req.id, [
            {"kind": "property", "quantity": 2, "unit_price": 1800, "note": "台班费 2 天"},
            {"kind": "equipment_damage", "quantity": 1, "unit_price": 3260.5,
             "note": "液压管更换"}])
        _settle(session, claim, start)
    service.close_incident(
        session, DEMO_USER, incident.id, summary=f"{title}处置完毕，受灾群众已妥善安置。",
        dead=0, missing=0, injured=int(metrics.get("injured", 0)),
        losses_yuan="1250000.00" if requisition else "380000.00",
        lessons="预警信息发布及时；社会救援力量到场后需尽早登记签到，便于统计服务时长。")
    incident.closed_at = start + timedelta(days=3)
    incident.after_action = {**incident.after_action,
                             "recorded_at": incident.closed_at.isoformat()}
    final = reports.create_report(
        session, DEMO_USER, incident.id, "final", f"{title}处置结束，受灾群众已妥善安置。",
        0, 0, int(metrics.get("injured", 0)), "1250000.00" if requisition else "380000.00")
    final.reported_at = incident.closed_at + timedelta(hours=2)
    return incident


def _settle(session, claim, start):
    """Approve and pay a claim, dated after the incident."""
    claims.review(session, DEMO_REVIEWER, claim.id, "approve", "符合补偿标准")
    claims.pay(session, DEMO_REVIEWER, claim.id)
    claim.submitted_at = start + timedelta(days=4)
    claim.reviewed_at = start + timedelta(days=6)
    claim.paid_at = start + timedelta(days=12)


def load_incidents(session):
    """One live incident with a dispatch in progress; closed incidents with paid claims."""
    if session.scalar(select(Incident.id).where(Incident.title.startswith(MARK)).limit(1)):
        return ["incidents: demo incidents already loaded"]
    anchors = _anchor_teams(session, 40)
    if len(anchors) < 3:
        return ["incidents: no approved teams yet (run the registry step first); skipped"]
    closed = [
        _closed_incident(session, anchors[len(anchors) // 3], "暴雨引发城市内涝", "flood", 75,
                         {"deaths": 0, "injured": 3, "affected": 5200}, True),
        _closed_incident(session, anchors[2 * len(anchors) // 3], "山林火灾", "forest_fire", 40,
                         {"deaths": 0, "injured": 1, "burned_area_ha": 12}, False),
    ]
    anchor = anchors[0]
    live = service.create_incident(session, DEMO_USER, MARK + "山体滑坡致房屋垮塌",
                                   "geological", Point(anchor.x + 0.03, anchor.y + 0.02),
                                   utcnow() - timedelta(hours=3),
                                   {"deaths": 1, "injured": 6, "missing": 2, "affected": 1200})
    reports.create_report(session, DEMO_USER, live.id, "initial",
                          "山体滑坡致民房垮塌，1人死亡、2人失联、6人受伤，已调派救援队伍赶赴现场。",
                          1, 2, 6)
    sent = _dispatch_nearest(session, live, 2)
    if sent:
        dispatches.transition(session, DEMO_USER, sent[0].id, "accepted", "已集结")
        dispatches.transition(session, DEMO_USER, sent[0].id, "en_route", "出发")
    paid = session.scalar(select(Compensation.id).where(Compensation.status == "paid")
                          .order_by(Compensation.id.desc()).limit(1))
    active = session.scalar(select(Dispatch.id).where(Dispatch.incident_id == live.id)
                            .limit(1))
    return [f"incidents: live incident {live.id} (console /maps/incidents/{live.id}, "
            f"{len(sent)} dispatches, first {active}), closed incidents "
            f"{', '.join(str(i.id) for i in closed)} with paid compensation (latest claim "
            f"{paid})"]


def _square(lon, lat, half):
    """A square polygon of ``half`` degrees around a point."""
    return Polygon([(lon - half, lat - half), (lon + half, lat - half),
                    (lon + half, lat + half), (lon - half, lat + half)])


def load_measures(session):
    """Measures of the live demo incident (one in force, one lifted, one expired without
    lifting) and one rejected claim appealed by its claimant; each only once."""
    live = session.scalar(select(Incident).where(Incident.title.startswith(MARK),
                                                 Incident.status != "closed")
                          .order_by(Incident.id).limit(1))
    if live is None:
        return ["measures: no live demo incident (run the incidents step first); skipped"]
    lines = []
    if session.scalar(select(Measure.id).where(Measure.incident_id == live.id).limit(1)):
        lines.append("measures: demo measures already loaded")
    else:
        lon, lat = service._lonlat(live)
        now = utcnow()
        authority = "重庆市应急管理局"
        law = "《中华人民共和国突发事件应对法》第七十三条"
        in_force = measures.create_measure(
            session, DEMO_USER, live.id, "traffic_control", law, authority,
            _square(lon, lat, 0.012), now - timedelta(hours=2), now + timedelta(days=2),
            "滑坡体下方道路双向封闭，救援车辆凭通行证通行。")
        lifted = measures.create_measure(
            session, DEMO_USER, live.id, "evacuation", law, authority,
            _square(lon + 0.004, lat - 0.003, 0.006), now - timedelta(hours=3), None,
            "组织危险区内居民转移至镇中心小学安置点。")
        measures.lift_measure(session, DEMO_USER, lifted.id, "监测显示坡体稳定，居民有序返回。")
        expired = measures.create_measure(
            session, DEMO_USER, live.id, "closure", law, authority,
            _square(lon - 0.005, lat + 0.004, 0.004), now - timedelta(hours=3),
            now - timedelta(hours=1), "关闭坡脚农贸市场。")
        lines.append(f"measures: {in_force.order_number} in force, {lifted.order_number} "
                     f"lifted, {expired.order_number} expired without lifting "
                     f"(/measures?incident_id={live.id})")
    if session.scalar(select(Compensation.id).where(Compensation.incident_id == live.id,
                                                    Compensation.appealed_at.is_not(None))):
        return [*lines, "measures: demo appeal already loaded"]
    accepted = session.scalar(select(Dispatch.id).where(Dispatch.incident_id == live.id,
                                                        Dispatch.accepted_at.is_not(None))
                              .order_by(Dispatch.id).limit(1))
    if accepted is None:
        return [*lines, "measures: no accepted demo dispatch for an appeal; skipped"]
    items = [{"kind": "transport", "quantity": 2, "unit_price": 850, "note": "车辆往返"},
             {"kind": "consumables", "quantity": 1, "unit_price": 1260, "note": "照明器材"}]
    claim = claims.claim_for_dispatch(session, DEMO_USER, accepted, items)
    claims.review(session, DEMO_REVIEWER, claim.id, "reject", "缺少车辆往返票据")
    claims.appeal(session, DEMO_USER, claim.id, "车辆为自有车辆，已补交行驶记录和油费凭证。")
    return [*lines, f"measures: claim {claim.id} rejected and appealed, awaiting a decision "
                    f"by an administrator other than demo-reviewer"]
