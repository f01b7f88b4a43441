"""Demo step: a few hundred organisations, teams and members across Chongqing's districts."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import insert, select

from emergency import spatial
from emergency.auth.models import User
from emergency.db import utcnow
from emergency.geo.models import Area
from emergency.vocabulary import TEAM_CATEGORIES
from registry import crypto
from registry import validators as v
from registry.members import sealed_person
from registry.models import (
    Certificate,
    InsurancePolicy,
    Organisation,
    RescueTeam,
    TeamEquipment,
    TeamMember,
    Training,
    TrainingMember,
    TrainingTeam,
)

ORGS_PER_DISTRICT = 8
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉建国红梅鑫波斌宇浩凯"
ORG_WORDS = ["蓝天", "山城", "红岩", "嘉陵", "长江", "雄鹰", "曙光", "天使", "守望", "神鹰",
             "启明", "飞虎"]
TEAM_WORDS = {"building_collapse": "建筑物倒塌搜救队", "mountain": "山地搜救队",
              "water": "水域救援队", "diving": "潜水救援队", "medical": "应急医疗队",
              "other": "综合保障队"}
EQUIPMENT = {"building_collapse": [("生命探测仪", 2), ("液压破拆工具组", 3)],
             "mountain": [("登山绳索", 20), ("担架", 4)], "water": [("冲锋舟", 2),
                                                              ("救生衣", 30)],
             "diving": [("潜水装具", 6), ("水下通讯设备", 2)],
             "medical": [("急救箱", 10), ("自动体外除颤器", 2)], "other": [("发电机", 2)]}
SKILLS = ["绳索救援", "急救", "潜水", "无人机", "破拆", "心理疏导", "驾驶", "通信"]
INSURERS = ["中国人保", "中国人寿", "平安保险", "太平洋保险"]


def _districts(session):
    """(code, name, shapely geometry) of every demo district."""
    t = Area.__table__
    rows = session.execute(select(t.c.code, t.c.name, spatial.as_wkb(session, t.c.geom))
                           .where(t.c.level == "district").order_by(t.c.code)).all()
    return [(code, name, shapely.from_wkb(bytes(wkb))) for code, name, wkb in rows]


def _points_in(geom, count, rng):
    """``count`` random points inside a polygon (vectorised rejection sampling)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    found = []
    while len(found) < count:
        xs, ys = rng.uniform(minx, maxx, 64), rng.uniform(miny, maxy, 64)
        inside = shapely.contains_xy(geom, xs, ys)
        found.extend(zip(xs[inside], ys[inside], strict=True))
    return found[:count]


def _name(rng):
    """A fictitious Chinese name."""
    given = "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
    return str(rng.choice(list(SURNAMES))) + given


def _phone(rng):
    """A fictitious mainland mobile number."""
    return f"1{rng.choice([3, 5, 7, 8, 9])}{int(rng.integers(0, 10**9)):09d}"


def _person(rng, area, seq):
    """A fictitious but valid resident ID number of someone born 1965-2003 in ``area``."""
    born = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 38 * 365)))
    return v.make_id_number(area, born, seq % 1000)


def load_registry(session):
    """Organisations, teams, members, insurance, certificates and training (idempotent)."""
    districts = _districts(session)
    if not districts:
        return ["registry: no districts; run the areas step first"]
    first_code = v.make_credit_code("52", districts[0][0], "DM000000")
    if session.scalar(select(Organisation.id).where(Organisation.credit_code == first_code)):
        return ["registry: demo forces already loaded"]
    cipher = crypto.app_cipher()
    rng = np.random.default_rng(4243)
    today = date.today()
    orgs = _orgs(session, cipher, districts, rng)
    teams = _teams(session, orgs, districts, rng)
    counts = _members(session, cipher, teams, rng, today)
    _trainings(session, teams, rng, today)
    _link_org_admin(session, orgs)
    approved = sum(1 for o in orgs if o[1].status == "approved")
    return [f"registry: {len(orgs)} organisations ({approved} approved), {len(teams)} teams, "
            f"{counts['members']} members ({counts['expired']} with expired insurance, "
            f"{counts['expiring']} certificates expiring within 30 days)"]


def _orgs(session, cipher, districts, rng):
    """Organisations spread over the districts, most approved; returns [(district, org)]."""
    made, n = [], 0
    for code, dname, geom in districts:
        short = dname.removesuffix("区").removesuffix("县").removesuffix("自治")
        for i, (lon, lat) in enumerate(_points_in(geom, ORGS_PER_DISTRICT, rng)):
            status = str(rng.choice(["approved"] * 8 + ["submitted", "rejected"],
                                    p=[0.1] * 8 + [0.12, 0.08]))
            phone = _phone(rng)
            body = f"DM{n:06d}"
            org = Organisation(
                name=f"{short}{ORG_WORDS[i % len(ORG_WORDS)]}救援队",
                credit_code=v.make_credit_code("52", code, body), contact_name=_name(rng),
                contact_phone_enc=cipher.encrypt(phone),
                contact_phone_masked=v.mask_phone(phone), address=f"{dname}{i + 1}号",
                area_code=code, location=from_shape(shapely.Point(lon, lat), srid=4326),
                status=status, review_note="" if status != "rejected" else "材料不全，请补充章程",
                reviewed_by="admin" if status != "submitted" else None,
                reviewed_at=utcnow() if status != "submitted" else None,
                verify_by=date.today() + timedelta(days=int(rng.integers(-20, 365)))
                if status == "approved" else None, submitted_at=utcnow())
            made.append((code, org))
            n += 1
    session.add_all([o for _c, o in made])
    session.flush()
    return made


def _teams(session, orgs, districts, rng):
    """One to three teams per organisation near its district; returns [(district, team)]."""
    geoms = {code: geom for code, _n, geom in districts}
    made = []
    for code, org in orgs:
        count = int(rng.integers(1, 4))
        for lon, lat in _points_in(geoms[code], count, rng):
            category = str(rng.choice(TEAM_CATEGORIES, p=[0.18, 0.25, 0.22, 0.08, 0.17, 0.10]))
            graded = rng.random() < 0.3
            team = RescueTeam(
                org_id=org.id, name=f"{org.name.removesuffix('救援队')}{TEAM_WORDS[category]}",
                category=category, status="available" if rng.random() < 0.85 else "unavailable",
                grade=int(rng.integers(1, 4)) if graded else None,
                graded_on=date(2025, int(rng.integers(1, 13)), 1) if graded else None,
                service_radius_km=Decimal(int(rng.choice([20, 30, 50, 80]))),
                location=from_shape(shapely.Point(lon, lat), srid=4326))
            made.append((code, team))
    session.add_all([t for _c, t in made])
    session.flush()
    session.execute(insert(TeamEquipment), [
        {"team_id": t.id, "type": kind, "quantity": qty}
        for _c, t in made for kind, qty in EQUIPMENT[t.category]])
    return made


def _members(session, cipher, teams, rng, today):
    """Members with valid IDs, insurance (some expired) and certificates (some expiring)."""
    rows, seq, people = [], 0, []
    for code, team in teams:
        for _ in range(int(rng.integers(4, 11))):
            # About one in forty also serves in a team of another organisation.
            if people and rng.random() < 0.025:
                id_number, phone = people[int(rng.integers(0, len(people)))]
            else:
                id_number, phone = _person(rng, code, seq), _phone(rng)
                people.append((id_number, phone))
                seq += 1
            skills = sorted(set(rng.choice(SKILLS, size=int(rng.integers(0, 3))).tolist()))
            rows.append({"team_id": team.id, "name": _name(rng), "skills": skills,
                         "created_at": utcnow(), **sealed_person(cipher, id_number, phone)})
    unique, seen = [], set()
    for row in rows:
        key = (row["team_id"], row["person_hash"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    session.execute(insert(TeamMember), unique)
    team_ids = [t.id for _c, t in teams]
    member_ids = session.scalars(select(TeamMember.id).where(TeamMember.team_id.in_(team_ids))
                                 .order_by(TeamMember.id)).all()
    policies, certs, expired, expiring = [], [], 0, 0
    for mid in member_ids:
        roll = rng.random()
        if roll < 0.85:
            if roll < 0.12:
                ends = today - timedelta(days=int(rng.integers(1, 200)))
                expired += 1
            else:
                ends = today + timedelta(days=int(rng.integers(5, 330)))
            policies.append({"member_id": mid, "insurer": str(rng.choice(INSURERS)),
                             "policy_number": f"YW{mid:08d}", "starts_on": ends -
                             timedelta(days=364), "ends_on": ends,
                             "coverage_amount": Decimal("500000.00"), "created_at": utcnow()})
        if rng.random() < 0.6:
            soon = rng.random() < 0.12
            expiring += soon
            expires = today + timedelta(days=int(rng.integers(1, 30)) if soon
                                        else int(rng.integers(60, 900)))
            certs.append({"member_id": mid, "name": str(rng.choice(
                ["红十字救护员证", "潜水员证", "绳索救援技术证书", "无人机驾驶员执照"])),
                "number": f"C{mid:07d}", "expires_on": expires})
    session.execute(insert(InsurancePolicy), policies)
    session.execute(insert(Certificate), certs)
    return {"members": len(member_ids), "expired": expired, "expiring": expiring}


def _trainings(session, teams, rng, today):
    """Joint trainings of teams in the same district, some with professional teams."""
    by_district = {}
    for code, team in teams:
        by_district.setdefault(code, []).append(team)
    for _code, local in by_district.items():
        chosen = local[: int(rng.integers(1, min(3, len(local)) + 1))]
        training = Training(held_on=today - timedelta(days=int(rng.integers(10, 300))),
                            hours=Decimal(str(rng.choice([2, 4, 6, 8]))),
                            topic="山洪灾害联合救援演练",
                            with_professional=bool(rng.random() < 0.5),
                            note="", created_by="demo")
        session.add(training)
        session.flush()
        session.execute(insert(TrainingTeam), [{"training_id": training.id, "team_id": t.id}
                                               for t in chosen])
        attendees = session.scalars(select(TeamMember.id).where(
            TeamMember.team_id.in_([t.id for t in chosen]))).all()
        if attendees:
            session.execute(insert(TrainingMember), [{"training_id": training.id,
                                                      "member_id": m} for m in attendees])


def _link_org_admin(session, orgs):
    """Make the demo org admin ("orgadmin") the admin of the first approved organisation."""
    user = session.scalar(select(User).where(User.username == "orgadmin"))
    first = next((o for _c, o in orgs if o.status == "approved"), None)
    if user is not None and first is not None and not user.org_id:
        user.org_id = first.id
        session.flush()
