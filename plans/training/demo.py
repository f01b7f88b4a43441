"""Demo officials' training: Chongqing officials, the leaders' emergency-law course and this
year's attendance, some leaders still missing it (idempotent)."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from emergency.geo.models import Area
from plans import service as plan_service
from plans.training import service
from plans.training.models import Course, Official

COURSES = [
    ("《中华人民共和国突发事件应对法》专题学习", "law", "4", "leaders",
     "领导干部年度学法必修课：突发事件应对法全文解读与典型案例。"),
    ("《重庆市突发事件应对条例》解读", "law", "3", "all", "全体干部年度必修。"),
    ("应急指挥与协同处置能力培训", "command", "8", None, "指挥部运行、响应分级与信息报告。"),
    ("防汛抗旱与地质灾害避险技能", "skills", "6", None, "汛期值守、转移避险与网格员协同。"),
]
# (name, department, position, area, leader)
OFFICIALS = [
    ("陈建国", "重庆市应急管理局", "局长", "500000", True),
    ("刘晓梅", "重庆市应急管理局", "副局长", "500000", True),
    ("王志强", "重庆市应急管理局", "应急指挥处处长", "500000", False),
    ("赵丽", "重庆市应急管理局", "科员", "500000", False),
    ("张伟", "渝中区应急管理局", "局长", "500103", True),
    ("李娜", "渝中区应急管理局", "副局长", "500103", True),
    ("周杰", "渝中区应急管理局", "综合科科长", "500103", False),
    ("黄海", "万州区应急管理局", "局长", "500101", True),
    ("吴敏", "万州区应急管理局", "防汛办主任", "500101", False),
    ("郑磊", "巫山县应急管理局", "局长", "500237", True),
    ("孙倩", "巫山县应急管理局", "地灾防治股股长", "500237", False),
]
# Who attended what (course index: official names, passed); 李娜, 黄海 and 郑磊 (leaders)
# have not passed the leaders' law course this year.
ATTENDANCE = [
    (0, 60, ["陈建国", "刘晓梅", "张伟"], True),
    (0, 30, ["黄海"], False),
    (1, 45, ["陈建国", "刘晓梅", "王志强", "赵丽", "张伟", "李娜", "周杰", "黄海"], True),
    (2, 20, ["王志强", "周杰", "吴敏", "孙倩"], True),
    (3, 10, ["吴敏", "孙倩", "郑磊"], True),
]


def _area(session, code):
    """The code when the area exists (demo areas may be partial), else None."""
    return code if session.scalar(select(Area.code).where(Area.code == code)) else None


def load_training(session):
    """Officials, courses and this year's attendance."""
    lines = []
    courses = []
    for title, topic, hours, mandatory, description in COURSES:
        course = session.scalar(select(Course).where(Course.title == title))
        if course is None:
            course = service.create_course(session, title, topic, Decimal(hours), mandatory,
                                           description)
            lines.append(f"training: course {title}")
        courses.append(course)
    officials = {}
    for name, department, position, area, leader in OFFICIALS:
        official = session.scalar(select(Official).where(Official.name == name,
                                                         Official.department == department))
        if official is None:
            official = service.create_official(session, name, department, position,
                                               _area(session, area), leader)
        officials[name] = official
    day = plan_service.today()
    first = date(day.year, 1, 1)
    for index, days_ago, names, passed in ATTENDANCE:
        held_on = max(first, day - timedelta(days=days_ago))
        service.record_attendance(session, courses[index].id,
                                  [(officials[n].id, held_on, passed) for n in names], day,
                                  actor="demo")
    lines.append(f"training: {len(officials)} officials, attendance of {day.year}")
    session.flush()
    return lines
