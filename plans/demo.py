"""Demo plans: Chongqing's overall plan and district special plans, with drills (idempotent)."""

from datetime import timedelta

from sqlalchemy import column, inspect, select, table

from emergency.db import utcnow
from plans import drills, filing, service
from plans.models import Plan

CITY = "500000"
SECTIONS = [
    ("总则", "编制目的：建立健全应急机制，提高防范和处置突发事件的能力，"
     "最大程度减少人员伤亡和财产损失。\n"
     "编制依据：《中华人民共和国突发事件应对法》《重庆市突发事件应对条例》等。\n"
     "工作原则：人民至上、生命至上；统一领导、分级负责；属地为主、快速反应。"),
    ("组织指挥体系", "设立应急指挥部，由政府分管负责同志任指挥长，"
     "应急管理局主要负责同志任副指挥长。"),
    ("监测预警", "建立监测网络，按照蓝、黄、橙、红四级发布预警信息；网格员负责隐患和灾情直报。"),
    ("应急响应", "按照事件严重程度分为一级、二级、三级、四级响应，一级为最高级别。"),
    ("后期处置", "做好善后处置、调查评估和恢复重建工作；依法对征用财产给予补偿。"),
    ("应急保障", "落实队伍、物资、资金、通信和交通保障；社会应急力量纳入统一调度。"),
]
GENERIC_LEVELS = [
    (1, [("deaths", 30), ("seriously_injured", 100), ("economic_loss", 10000)]),
    (2, [("deaths", 10), ("seriously_injured", 50), ("economic_loss", 5000)]),
    (3, [("deaths", 3), ("seriously_injured", 10), ("economic_loss", 1000)]),
    (4, [("deaths", 1), ("seriously_injured", 1), ("economic_loss", 100)]),
]
# (area, title, owner, incident type, levels, forces per level, drills, overdue)
DISTRICT_PLANS = [
    ("500101", "万州区防汛抗旱应急预案", "万州区防汛抗旱指挥部", "flood", [
        (1, [("deaths", 30), ("evacuated", 100000), ("water_level_over_warning_m", 8)]),
        (2, [("deaths", 10), ("evacuated", 30000), ("water_level_over_warning_m", 5)]),
        (3, [("deaths", 3), ("evacuated", 10000), ("water_level_over_warning_m", 2)]),
        (4, [("deaths", 1), ("evacuated", 1000), ("water_level_over_warning_m", 0)]),
    ], ("water", "diving", "medical"), [(150, "functional", "长江汛期洪峰过境转移演练")], False),
    ("500237", "巫山县地质灾害应急预案", "巫山县自然资源局", "geological", [
        (1, [("deaths", 30), ("economic_loss", 1000), ("threatened", 1000)]),
        (2, [("deaths", 10), ("economic_loss", 500), ("threatened", 500)]),
        (3, [("deaths", 3), ("economic_loss", 100), ("threatened", 100)]),
        (4, [("deaths", 1), ("threatened", 10)]),
    ], ("building_collapse", "mountain", "medical"),
     [(60, "double_blind", "滑坡险情双盲避险演练")], False),
    ("500119", "南川区森林火灾应急预案", "南川区森林防灭火指挥部", "forest_fire", [
        (1, [("burned_area_ha", 1000), ("deaths", 30), ("injured", 100)]),
        (2, [("burned_area_ha", 100), ("deaths", 10), ("injured", 50)]),
        (3, [("burned_area_ha", 1), ("deaths", 3), ("injured", 10)]),
        (4, [("burned_area_ha", 0.1), ("deaths", 1), ("injured", 1)]),
    ], ("mountain", "other", "medical"), [(240, "tabletop", "金佛山林区火情桌面推演")], False),
    ("500115", "长寿区危险化学品事故应急预案", "长寿区应急管理局", "hazardous_chemicals", [
        (1, [("deaths", 30), ("seriously_injured", 100), ("economic_loss", 10000)]),
        (2, [("deaths", 10), ("seriously_injured", 50), ("evacuated", 10000)]),
        (3, [("deaths", 3), ("seriously_injured", 10), ("leak_tonnes", 10)]),
        (4, [("deaths", 1), ("leak_tonnes", 1)]),
    ], ("other", "medical", "building_collapse"),
     [(600, "full_scale", "化工园区储罐泄漏综合演练")], True),
]
FORCE_COUNTS = {1: 6, 2: 4, 3: 2, 4: 1}
DUTIES = {1: "启动一级响应，指挥长到场指挥，请求市级和国家支援",
          2: "启动二级响应，调度专业和社会应急力量赶赴现场",
          3: "启动三级响应，组织先期处置和人员转移",
          4: "启动四级响应，属地街镇先期处置，网格员报告灾情"}
TEAMS = table("teams", column("id"), column("category"))


def _levels(levels, categories):
    """Response levels with criteria, duties and required forces."""
    out = []
    for number, criteria in levels:
        out.append({
            "level": number,
            "criteria": [{"metric": m, "op": ">=", "value": v} for m, v in criteria],
            "actions": [{"unit": "应急指挥部", "duty": DUTIES[number]},
                        {"unit": "卫生健康部门", "duty": "组织医疗救治和卫生防疫"}],
            "required_forces": [{"category": c, "count": max(1, FORCE_COUNTS[number] - i)}
                                for i, c in enumerate(categories)],
        })
    return out


def _sections():
    """The sections of a demo plan."""
    return [{"title": t, "body": b} for t, b in SECTIONS]


def _publish(session, plan, days_ago):
    """Take a plan through review to publication, dated ``days_ago``."""
    # Four eyes: the planner submits, the administrator publishes.
    service.transition(session, plan.id, "in_review", "送审", "planner")
    service.transition(session, plan.id, "published", "印发实施", "admin")
    when = utcnow() - timedelta(days=days_ago)
    version = service.get_version(session, plan.id, plan.version)
    version.published_at = when
    plan.published_at = when
    if plan.first_published_at is None or plan.first_published_at > when:
        plan.first_published_at = when
    service.refresh_due_dates(plan)


def _team_ids(session, categories):
    """A few registry team ids of those categories, if the registry has any."""
    if not inspect(session.connection()).has_table("teams"):
        return []
    return list(session.scalars(select(TEAMS.c.id).where(TEAMS.c.category.in_(categories))
                                .order_by(TEAMS.c.id).limit(3)))


def _existing(session, area, title):
    """A demo plan already loaded, by area and title."""
    return session.scalar(select(Plan.id).where(Plan.area_code == area, Plan.title == title))


def load_plans(session):
    """The city overall plan and district special plans, with drills; one drill-overdue."""
    lines = []
    today = service.today()
    city_title = "重庆市突发事件总体应急预案"
    city_id = _existing(session, CITY, city_title)
    if city_id is None:
        city = service.create_plan(session, city_title, "overall", "general", CITY,
                                   owner="重庆市人民政府", sections=_sections(),
                                   response_levels=_levels(GENERIC_LEVELS,
                                                           ("building_collapse", "medical")),
                                   drill_interval_months=12)
        _publish(session, city, 700)
        # A revision published later keeps version 1 in the history (side-by-side diff).
        closing = {"title": "附则", "body": "本预案由市应急管理局负责解释，自印发之日起实施。"}
        service.update_plan(session, city.id, {"sections": [*_sections(), closing]},
                            actor="demo")
        _publish(session, city, 90)
        drills.create_drill(session, city.id, today - timedelta(days=45), "full_scale",
                            team_ids=_team_ids(session, ("building_collapse", "medical")),
                            title="城市地震灾害综合应急演练", location="渝中区",
                            participants=800, findings=[
                                {"description": "跨部门通信频道切换慢",
                                 "corrective_action": "统一应急通信频点并每季度测试",
                                 "owner": "市应急管理局", "status": "in_progress",
                                 "due_on": (today + timedelta(days=60)).isoformat()}])
        city_id = city.id
        lines.append(f"plans: {city_title} (published, version 2)")
    for area, title, owner, kind, levels, categories, drill_specs, overdue in DISTRICT_PLANS:
        if _existing(session, area, title) is not None:
            continue
        plan = service.create_plan(session, title, "special", kind, area, owner=owner,
                                   sections=_sections(), response_levels=_levels(levels,
                                                                                 categories),
                                   drill_interval_months=12, parent_id=city_id)
        _publish(session, plan, 1100 if overdue else 400)
        for days_ago, drill_kind, drill_title in drill_specs:
            drills.create_drill(session, plan.id, today - timedelta(days=days_ago), drill_kind,
                                team_ids=_team_ids(session, categories), title=drill_title,
                                location=owner[:3], participants=120, findings=[
                                    {"description": "群众转移路线标识不清",
                                     "corrective_action": "增设避险转移指示牌",
                                     "owner": owner, "status": "open",
                                     "due_on": (today + timedelta(days=90)).isoformat()}])
        state = "drill-overdue" if overdue else "published"
        lines.append(f"plans: {title} ({state})")
    session.flush()
    return lines


# Filed demo plans: (area, title, authority, days after publication, number); the other
# district plans stay unfiled, so some show as filing overdue.
FILINGS = [
    (CITY, "重庆市突发事件总体应急预案", "应急管理部", 12, "应急预备〔{year}〕8号"),
    ("500101", "万州区防汛抗旱应急预案", "重庆市应急管理局", 15, "渝应急预备〔{year}〕31号"),
    ("500237", "巫山县地质灾害应急预案", "重庆市应急管理局", 9, "渝应急预备〔{year}〕17号"),
]


def load_filings(session):
    """Filings (备案) of some published demo plans; the others are left overdue."""
    lines = []
    day = service.today()
    for area, title, authority, after, number in FILINGS:
        plan_id = _existing(session, area, title)
        if plan_id is None:
            continue
        plan = service.get_plan(session, plan_id)
        published = filing.published_on(plan)
        if published is None:
            continue
        filed_on = min(published + timedelta(days=after), day)
        _row, created = filing.record_filing(session, plan, authority, filed_on,
                                             number.format(year=filed_on.year), day,
                                             actor="demo")
        if created:
            lines.append(f"plans: {title} filed with {authority}")
    session.flush()
    return lines
