"""The words every domain shares: rescue team categories, risk levels, the local time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl

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


# The label people see for each field of the API's input, by its key: error messages name
# fields by these (a schema field's own ``metadata={"label": ...}`` wins over this table).
FIELD_LABELS = {
    "_body": _pl("field", "Request body"), "_request": _pl("field", "Request"),
    "_schema": _pl("field", "Request body"), "action": _pl("field", "Action"),
    "actions": _pl("field", "Actions"), "active": _pl("field", "Active"),
    "actor": _pl("field", "Actor"), "address": _pl("field", "Address"),
    "async": _pl("field", "In the background"),
    "affected": _pl("field", "Affected people"), "area_code": _pl("field", "Area"),
    "area_codes": _pl("field", "Areas"), "assessment_id": _pl("field", "Assessment"),
    "authority": _pl("field", "Issuing authority"), "bad_rows": _pl("field", "Bad rows"),
    "bbox": _pl("field", "Map extent"), "body": _pl("field", "Text"),
    "category": _pl("field", "Category"), "cell_size_m": _pl("field", "Cell size (m)"),
    "certificates": _pl("field", "Certificates"), "client_id": _pl("field", "Client ID"),
    "code": _pl("field", "Code"), "columns": _pl("field", "Columns"),
    "commodity": _pl("field", "Commodity"), "condition": _pl("field", "Condition"),
    "consequence_field": _pl("field", "Consequence field"),
    "contact_name": _pl("field", "Contact person"), "contact_phone": _pl("field", "Contact phone"),
    "corrective_action": _pl("field", "Corrective action"), "count": _pl("field", "Count"),
    "coverage_amount": _pl("field", "Coverage amount"),
    "credit_code": _pl("field", "Unified social credit code"),
    "criteria": _pl("field", "Triggers"), "ids": _pl("field", "Records"),
    "crs": _pl("field", "Coordinate system"), "database": _pl("field", "Database"),
    "days": _pl("field", "Days"), "dead": _pl("field", "Dead"), "deaths": _pl("field", "Deaths"),
    "decision": _pl("field", "Decision"), "density_ref": _pl("field", "Reference density"),
    "department": _pl("field", "Department"), "description": _pl("field", "Description"),
    "dispatches": _pl("field", "Dispatches"), "display_name": _pl("field", "Display name"),
    "drill_interval_months": _pl("field", "Drill interval (months)"),
    "drill_overdue": _pl("field", "Drill overdue"), "due_on": _pl("field", "Due on"),
    "duty": _pl("field", "Duty"), "ends_at": _pl("field", "Ends at"),
    "ends_on": _pl("field", "Ends on"), "equipment": _pl("field", "Equipment"),
    "escalated": _pl("field", "Escalated"), "expires": _pl("field", "Expires"),
    "expires_on": _pl("field", "Expires on"), "file": _pl("field", "File"),
    "findings": _pl("field", "Findings"), "format": _pl("field", "Format"),
    "from": _pl("field", "From"), "gap": _pl("field", "Gap"), "geometry": _pl("field", "Geometry"),
    "grade": _pl("field", "Grade"), "graded_on": _pl("field", "Graded on"),
    "grid_code": _pl("field", "Grid"), "grid_codes": _pl("field", "Grids"),
    "hazard_type": _pl("field", "Hazard type"), "held_on": _pl("field", "Held on"),
    "hours": _pl("field", "Hours"), "houses_collapsed": _pl("field", "Houses collapsed"),
    "houses_damaged": _pl("field", "Houses damaged"), "id_number": _pl("field", "ID number"),
    "in_force": _pl("field", "In force"), "incident_id": _pl("field", "Incident"),
    "incident_type": _pl("field", "Incident type"), "injured": _pl("field", "Injured"),
    "instruction": _pl("field", "Instruction"), "insurer": _pl("field", "Insurer"),
    "items": _pl("field", "Items"), "kind": _pl("field", "Kind"),
    "last_event_id": _pl("field", "Last event ID"), "layer_id": _pl("field", "Layer"),
    "layers": _pl("field", "Layers"), "leader": _pl("field", "Leader"),
    "legal_basis": _pl("field", "Legal basis"), "lessons": _pl("field", "Lessons learned"),
    "level": _pl("field", "Level"), "likelihood_field": _pl("field", "Likelihood field"),
    "limit": _pl("field", "Page size"), "location": _pl("field", "Location"),
    "losses_yuan": _pl("field", "Economic losses (yuan)"), "market": _pl("field", "Market"),
    "max_level": _pl("field", "Highest level"), "member_id": _pl("field", "Member"),
    "member_ids": _pl("field", "Members"), "members_requested": _pl("field", "Members requested"),
    "metric": _pl("field", "Metric"), "metrics": _pl("field", "Metrics"),
    "missing": _pl("field", "Missing"), "name": _pl("field", "Name"),
    "name_en": _pl("field", "English name"), "note": _pl("field", "Note"),
    "number": _pl("field", "Number"), "object_id": _pl("field", "Record"),
    "object_type": _pl("field", "Record type"), "observed_on": _pl("field", "Observed on"),
    "occurred_at": _pl("field", "Occurred at"), "offset": _pl("field", "Offset"),
    "onset": _pl("field", "Onset"), "op": _pl("field", "Comparison"),
    "org_id": _pl("field", "Organisation"), "other": _pl("field", "Other assessment"),
    "overdue": _pl("field", "Overdue"), "owner": _pl("field", "Owner"),
    "owner_contact": _pl("field", "Owner's contact"), "owner_name": _pl("field", "Owner's name"),
    "params": _pl("field", "Parameters"), "parent_code": _pl("field", "Parent area"),
    "parent_id": _pl("field", "Parent plan"), "participants": _pl("field", "Participants"),
    "password": _pl("field", "Password"), "phone": _pl("field", "Phone"),
    "photo": _pl("field", "Photo"), "photo_ids": _pl("field", "Photos"),
    "policy_number": _pl("field", "Policy number"), "position": _pl("field", "Position"),
    "price": _pl("field", "Price"), "property": _pl("field", "Property"),
    "q": _pl("field", "Search"), "quantity": _pl("field", "Quantity"),
    "radius_km": _pl("field", "Radius (km)"), "required_forces": _pl("field", "Required forces"),
    "returned_at": _pl("field", "Returned at"), "reveal": _pl("field", "Reveal"),
    "report_overdue": _pl("field", "Initial report overdue"),
    "reverification_due": _pl("field", "Re-verification due"),
    "response_levels": _pl("field", "Response levels"),
    "revision_interval_months": _pl("field", "Revision interval (months)"),
    "revision_overdue": _pl("field", "Revision overdue"), "role": _pl("field", "Role"),
    "rows": _pl("field", "Rows"), "scale": _pl("field", "Scale"),
    "scenario": _pl("field", "Scenario"), "scope": _pl("field", "Scope"),
    "sections": _pl("field", "Sections"), "service_radius_km": _pl("field", "Service radius (km)"),
    "severity": _pl("field", "Severity"), "signer": _pl("field", "Signed by"),
    "since": _pl("field", "Since"),
    "skills": _pl("field", "Skills"), "starts_at": _pl("field", "Starts at"),
    "starts_on": _pl("field", "Starts on"), "status": _pl("field", "Status"),
    "summary": _pl("field", "Summary"), "task": _pl("field", "Task"),
    "team_id": _pl("field", "Team"), "team_ids": _pl("field", "Teams"),
    "thumb": _pl("field", "Thumbnail"), "title": _pl("field", "Title"), "to": _pl("field", "To"),
    "topic": _pl("field", "Topic"), "type": _pl("field", "Type"), "unit": _pl("field", "Unit"),
    "unit_price": _pl("field", "Unit price"), "username": _pl("field", "User name"),
    "valuation": _pl("field", "Valuation"), "value": _pl("field", "Value"),
    "value_field": _pl("field", "Value field"), "weight": _pl("field", "Weight"),
    "with_professional": _pl("field", "With professional teams"), "year": _pl("field", "Year"),
    "zoom": _pl("field", "Zoom"),
    "reason": _pl("field", "Reason"),
}

# Map tiles (maps/tile_layers.py) and the OGC API's query parameters (maps/ogc/).
FIELD_LABELS.update({
    "assessment": _pl("field", "Assessment"), "layer": _pl("field", "Layer"),
    "z": _pl("field", "Zoom"), "x": _pl("field", "Tile column"), "y": _pl("field", "Tile row"),
    "datetime": _pl("field", "Date and time"), "cursor": _pl("field", "Page cursor"),
    "bbox-crs": _pl("field", "Map extent CRS"), "f": _pl("field", "Format"),
})

# Plan filing (备案) and officials' training (plans/, plans/training/).
FIELD_LABELS.update({
    "filed": _pl("field", "Filed"), "filed_on": _pl("field", "Filed on"),
    "filing_overdue": _pl("field", "Filing overdue"),
    "mandatory_for": _pl("field", "Mandatory for"),
    "missing_only": _pl("field", "Only missing mandatory courses"),
    "official_id": _pl("field", "Official"), "official_ids": _pl("field", "Officials"),
    "passed": _pl("field", "Passed"), "course_id": _pl("field", "Course"),
})

# The elements of a CAP 1.2 document that an import's refusals name ("cap:severity": the
# element, not our field of the same word; alerts/cap.py, alerts/capimport.py).
FIELD_LABELS.update({
    "cap:alert": _pl("field", "CAP alert"), "cap:identifier": _pl("field", "CAP identifier"),
    "cap:sender": _pl("field", "CAP sender"), "cap:sent": _pl("field", "CAP sent"),
    "cap:status": _pl("field", "CAP status"), "cap:msgType": _pl("field", "CAP message type"),
    "cap:scope": _pl("field", "CAP scope"), "cap:references": _pl("field", "CAP references"),
    "cap:info": _pl("field", "CAP info"), "cap:category": _pl("field", "CAP category"),
    "cap:event": _pl("field", "CAP event"), "cap:urgency": _pl("field", "CAP urgency"),
    "cap:severity": _pl("field", "CAP severity"),
    "cap:certainty": _pl("field", "CAP certainty"), "cap:onset": _pl("field", "CAP onset"),
    "cap:expires": _pl("field", "CAP expires"), "cap:headline": _pl("field", "CAP headline"),
    "cap:area": _pl("field", "CAP area"), "cap:areaDesc": _pl("field", "CAP area description"),
    "cap:polygon": _pl("field", "CAP polygon"), "cap:geocode": _pl("field", "CAP geocode"),
})

# Prices in emergencies (prices/): a commodity's thresholds and a complaint's fields.
FIELD_LABELS.update({
    "alert_ratio": _pl("field", "Alert ratio"), "baseline_days": _pl("field", "Baseline days"),
    "place": _pl("field", "Place"), "received_on": _pl("field", "Received on"),
    "source": _pl("field", "Source"),
})


def field_label(key):
    """The label of an input field by its key (the key itself when it has none)."""
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key
