"""What the disaster pages, the export and the map call things, in the request's language."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from hazards.disasters.models import COUNTS, KINDS

KIND_NAMES = {
    "flood": _l("Flood"), "geological": _l("Geological hazard"),
    "meteorological": _l("Meteorological disaster"), "earthquake": _l("Earthquake"),
    "forest_fire": _l("Forest and grassland fire"), "drought": _l("Drought"),
    "fire": _l("Fire"), "other": lazy_pgettext("disaster kind", "Other"),
}
COUNT_NAMES = {
    "affected": _l("Affected people"), "dead": _l("Dead"),
    "missing": lazy_pgettext("people", "Missing"),
    "injured": _l("Injured"), "houses_collapsed": _l("Houses collapsed"),
    "houses_damaged": _l("Houses damaged"),
}
LEVEL_NAMES = {"city": _l("City"), "district": _l("District"), "street": _l("Street"),
               "community": _l("Community")}


def kinds():
    """{kind: its name} in the request's language, in the vocabulary's order."""
    return {k: str(KIND_NAMES[k]) for k in KINDS}


def counts():
    """{count field: its name} in the request's language."""
    return {c: str(COUNT_NAMES[c]) for c in COUNTS}


def losses():
    """The name of the losses column."""
    return _("Direct losses (yuan)")


def summary_headers(level):
    """Column names of the summary table and sheet."""
    return [str(LEVEL_NAMES.get(level, level)), _("Code"), _("Reports"), *counts().values(),
            losses()]


def report_headers():
    """Column names of the reports sheet."""
    return ["#", _("Kind"), *counts().values(), losses(), _("Grid"), _("Area"),
            _("Reported by"), _("Reported at (Beijing time)"), _("Note")]


def export_names(level):
    """The translated names the workbook (hazards.disasters.exports) needs."""
    return {"summary_headers": summary_headers(level), "report_headers": report_headers(),
            "total": _("Total"), "kinds": kinds(), "summary_sheet": _("Sums per area"),
            "reports_sheet": _("Report list")}
