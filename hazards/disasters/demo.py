"""Demo step: a few direct disaster reports (灾情直报) of the last days, some in the demo grid
staff member's own grids, the rest in other districts' grids (reported by the administrator)."""

from datetime import timedelta
from decimal import Decimal

import shapely
from sqlalchemy import func, select

from emergency import spatial
from emergency.auth.models import User
from emergency.db import utcnow
from emergency.geo.demo import demo_grid_codes
from emergency.geo.models import Grid
from hazards.disasters import service
from hazards.disasters.models import COUNTS, DisasterReport

# (kind, hours ago, affected, dead, missing, injured, collapsed, damaged, losses in yuan, note)
REPORTS = [
    ("flood", 30, 320, 0, 0, 2, 1, 14, "860000", "强降雨致低洼处积水，转移群众 320 人"),
    ("geological", 20, 45, 0, 1, 1, 2, 3, "1200000", "边坡垮塌，1 人失联，正在搜救"),
    ("meteorological", 8, 80, 0, 0, 0, 0, 6, "95000", "大风吹落广告牌及屋面瓦片"),
    ("flood", 50, 1500, 0, 0, 3, 4, 60, "3400000", "河水漫堤，沿河商铺进水"),
    ("geological", 70, 12, 1, 0, 2, 1, 0, "450000", "山体滑坡掩埋民房一间"),
    ("fire", 5, 30, 0, 0, 1, 0, 1, "180000", "居民楼厨房起火，已扑灭"),
    ("drought", 120, 2600, 0, 0, 0, 0, 0, "520000", "持续干旱，农作物受灾"),
]


def load_disasters(session):
    """Load the demo reports once (client ids 'demo-disaster-N')."""
    present = session.scalar(select(func.count()).select_from(DisasterReport)
                             .where(DisasterReport.client_id.startswith("demo-disaster-")))
    if present:
        return [f"disasters: {present} demo reports already loaded"]
    users = {u.username: u for u in session.scalars(
        select(User).where(User.username.in_(("gridstaff", "admin"))))}
    if "admin" not in users:
        return ["disasters: no admin user; demo reports skipped"]
    own = set(demo_grid_codes()) if "gridstaff" in users else set()
    grids = session.execute(select(Grid.code, spatial.as_wkb(session, Grid.geom).label("wkb"))
                            .order_by(Grid.code)).all()
    if not grids:
        return ["disasters: no grids; demo reports skipped"]
    mine = [g for g in grids if g.code in own]
    others = [g for g in grids if g.code not in own]
    now = utcnow()
    made = 0
    for n, (kind, hours, *counts, losses, note) in enumerate(REPORTS):
        if n < 3 and mine:
            grid, user = mine[n % len(mine)], users["gridstaff"]
        else:
            pool = others or grids
            grid, user = pool[(n * 7919) % len(pool)], users["admin"]
        point = shapely.from_wkb(bytes(grid.wkb)).representative_point()
        service.create_report(session, user, f"demo-disaster-{n}", kind, point, Decimal(losses),
                              note, now=now - timedelta(hours=hours),
                              **dict(zip(COUNTS, counts, strict=True)))
        made += 1
    return [f"disasters: {made} demo disaster reports"]
