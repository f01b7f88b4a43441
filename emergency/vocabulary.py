"""The words every domain shares: rescue team categories, risk levels, the local time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

# Times are UTC in the database and local (China Standard Time) on screen and in day ranges.
LOCAL_ZONE_NAME = "Asia/Shanghai"
LOCAL_ZONE = ZoneInfo(LOCAL_ZONE_NAME)


def local_minute(moment):
    """An aware time (or ISO text) as local time to the minute, "" for none."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


# Categories of social rescue teams (YJ/T 1), plus other.
TEAM_CATEGORIES = ("building_collapse", "mountain", "water", "diving", "medical", "other")
CATEGORY_LABELS = {"building_collapse": _l("Building collapse"), "mountain": _l("Mountain"),
                   "water": _l("Water"), "diving": _l("Diving"),
                   "medical": _l("Emergency medical"), "other": _l("Other")}
# Colour-blind safe palette (Okabe-Ito), one per category, for maps.
CATEGORY_COLOURS = {"building_collapse": "#D55E00", "mountain": "#009E73", "water": "#0072B2",
                    "diving": "#56B4E9", "medical": "#CC79A7", "other": "#7f7f7f"}

# Risk levels, 1 = major: the four-colour scheme of safety risk grading (red, orange, yellow,
# blue), by name in API answers and as the colours drawn on maps.
RISK_LEVELS = (1, 2, 3, 4)
RISK_COLOUR_NAMES = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}
RISK_COLOURS = {1: "#e60012", 2: "#f39800", 3: "#ffe100", 4: "#0068b7"}
RISK_LEVEL_NAMES_ZH = {1: "重大", 2: "较大", 3: "一般", 4: "低"}
RISK_LEVEL_LABELS = {1: _l("Major risk"), 2: _l("High risk"), 3: _l("Moderate risk"),
                     4: _l("Low risk")}
