"""Demo step: a published red rainstorm warning over a few districts, a draft and a lifted
warning, each drafted and released by different demo users (four eyes)."""

from datetime import timedelta

from sqlalchemy import select

from alerts import service
from alerts.models import EarlyWarning
from emergency.auth.models import User
from emergency.db import utcnow
from emergency.geo.models import Area

MARK = "【演示】"


def _user(session, username):
    """A demo account by name, or None."""
    return session.scalar(select(User).where(User.username == username))


def load_warnings(session):
    """Three warnings: published (red rainstorm), draft (yellow geological), lifted (orange
    flood); safe to run again."""
    if session.scalar(select(EarlyWarning.id).where(EarlyWarning.title.startswith(MARK))
                      .limit(1)):
        return ["warnings: demo warnings already loaded"]
    planner, admin = _user(session, "planner"), _user(session, "admin")
    dispatcher = _user(session, "dispatcher")
    districts = list(session.scalars(select(Area.code).where(Area.level == "district")
                                     .order_by(Area.code).limit(6)))
    if not (planner and admin and dispatcher) or len(districts) < 5:
        return ["warnings: demo users or districts missing (run their steps first); skipped"]
    now = utcnow()
    red = service.create_warning(
        session, planner, title=MARK + "重庆市中心城区暴雨红色预警", hazard_type="meteorological",
        level="red", area_codes=districts[:3], geometry=None, onset=now - timedelta(hours=1),
        expires=now + timedelta(hours=23),
        description="受强降雨云团影响，预计未来6小时内中心城区部分地区降雨量将达100毫米以上，"
        "局地伴有雷电、大风。",
        instruction="停止集会、停课、停业（特殊行业除外）；远离河道、低洼地带和地质灾害隐患点；"
        "驾车注意积水路段，切勿涉水通行。", now=now - timedelta(minutes=50))
    service.transition(session, admin, red.id, "approved", "已会商",
                       now=now - timedelta(minutes=40))
    service.transition(session, admin, red.id, "published", "", now=now - timedelta(minutes=30))
    service.create_warning(
        session, dispatcher, title=MARK + "地质灾害气象风险黄色预警", hazard_type="geological",
        level="yellow", area_codes=districts[3:5], geometry=None, onset=now + timedelta(hours=2),
        expires=now + timedelta(hours=26),
        description="前期降雨较多，土壤含水量饱和，发生滑坡、崩塌等地质灾害的风险较高。",
        instruction="加强隐患点巡查，危险区域人员做好转移准备。", now=now)
    start = now - timedelta(days=3)
    flood = service.create_warning(
        session, planner, title=MARK + "长江干流洪水橙色预警", hazard_type="flood", level="orange",
        area_codes=districts[:2], geometry=None, onset=start, expires=start + timedelta(days=2),
        description="长江上游来水增加，寸滩站水位将超过警戒水位。",
        instruction="沿江低洼地带群众注意防范，听从转移安排。", now=start)
    service.transition(session, admin, flood.id, "approved", "", now=start + timedelta(hours=1))
    service.transition(session, admin, flood.id, "published", "",
                       now=start + timedelta(hours=1, minutes=10))
    service.transition(session, planner, flood.id, "lifted", "水位回落至警戒水位以下",
                       now=start + timedelta(days=1))
    return ["warnings: 3 demo warnings (published red rainstorm, draft, lifted)"]
