"""CAP 1.2 (OASIS Common Alerting Protocol): a warning as a CAP alert, and an incoming CAP
alert read and checked. Pure functions over plain values: no Flask, no database.

Documents are built as lxml element trees and parsed with entities, DTDs and the network
refused (defusedxml screens first, then lxml reads with the same refusals), and checked
against ``alerts/schema/cap-1.2.xsd``.
"""

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from lxml import etree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from emergency.errors import Invalid
from emergency.vocabulary import LOCAL_ZONE
from plans.incident_types import INCIDENT_TYPES, label

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MIMETYPE = "application/cap+xml"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "cap-1.2.xsd"
GEOCODE_NAME = "GB/T 2260"
# Other names a bureau may give its GB/T 2260 geocodes (read, never written).
GEOCODE_NAMES = {GEOCODE_NAME, "GB/T2260", "GBT2260", "GB2260", "行政区划代码", "行政区划",
                 "ADCODE", "adcode"}
# Our hazard type travels as an eventCode, so another system of ours reads it back exactly.
EVENT_CODE_NAME = "cn-emergency:hazard_type"
LANGUAGE = "zh-CN"

# 红橙黄蓝: the national four-level warning colours, red most severe.
SEVERITY = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}
LEVEL_OF_SEVERITY = {v: k for k, v in SEVERITY.items()}
# How soon people should act, by level (CAP urgency), and how sure the bureau is.
URGENCY = {"red": "Immediate", "orange": "Immediate", "yellow": "Expected", "blue": "Expected"}
CERTAINTY = "Likely"

# Our hazard types (plans.incident_types) as CAP categories.
CATEGORY = {
    "flood": "Met", "drought": "Met", "meteorological": "Met", "earthquake": "Geo",
    "geological": "Geo", "forest_fire": "Fire", "production_safety": "Safety",
    "hazardous_chemicals": "CBRNE", "mine": "Safety", "fire": "Fire", "traffic": "Transport",
    "infrastructure": "Infra", "environmental": "Env", "infectious_disease": "Health",
    "food_safety": "Health", "animal_epidemic": "Health", "terrorism": "Security",
    "mass_incident": "Security", "cyber_security": "Infra",
    "natural_disaster": "Other", "accident_disaster": "Safety",
    "public_health": "Health", "social_security": "Security",
}
# An imported alert without our eventCode: its first category as a hazard type.
HAZARD_OF_CATEGORY = {
    "Geo": "geological", "Met": "meteorological", "Safety": "production_safety",
    "Security": "social_security", "Rescue": "accident_disaster", "Fire": "fire",
    "Health": "public_health", "Env": "environmental", "Transport": "traffic",
    "Infra": "infrastructure", "CBRNE": "hazardous_chemicals", "Other": "natural_disaster",
}
# Hazard words of the Chinese meteorological and natural-resources warnings, refining Met/Geo.
EVENT_WORDS = (("地震", "earthquake"), ("地质", "geological"), ("滑坡", "geological"),
               ("泥石流", "geological"), ("崩塌", "geological"), ("洪", "flood"),
               ("山洪", "flood"), ("干旱", "drought"), ("森林火", "forest_fire"),
               ("火险", "forest_fire"))
_SPACE = re.compile(r"\s+")


def q(name):
    """The qualified name of a CAP element."""
    return f"{{{NS}}}{name}"


@functools.cache
def schema():
    """The CAP 1.2 schema (alerts/schema/cap-1.2.xsd), loaded once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), _parser()))


def cap_time(moment):
    """A time in CAP's form: Beijing time, seconds, an explicit offset (+08:00)."""
    return moment.astimezone(LOCAL_ZONE).replace(microsecond=0).isoformat()


def reference(sender, identifier, sent):
    """One entry of ``references``: "sender,identifier,sent"."""
    return f"{sender},{identifier},{sent if isinstance(sent, str) else cap_time(sent)}"


@dataclass
class Message:
    """What distinguishes one CAP message about a warning from the next."""

    identifier: str
    msg_type: str  # Alert | Update | Cancel
    sent: datetime
    references: list = field(default_factory=list)


def message_of(warning):
    """The CAP message a warning stands for now, as alerts.service records it: its first
    publication (Alert), a later version (Update, referencing the earlier ones) or its lifting
    (Cancel, a version of its own referencing every earlier one). An expired warning keeps
    its last message (CAP consumers drop it at ``expires``)."""
    refs = list(warning.references or [])
    if warning.status == "lifted":
        return Message(warning.cap_identifier, "Cancel",
                       warning.lifted_at or warning.updated_at, refs)
    return Message(warning.cap_identifier, "Update" if refs else "Alert",
                   warning.published_at or warning.updated_at, refs)


def polygons(geometry):
    """The outer rings of a (multi)polygon as CAP polygons: "lat,lon" pairs, closed.
    CAP has no holes: a hole's area is inside the warned polygon (said in docs/warnings.md)."""
    if geometry is None:
        return []
    if not isinstance(geometry, BaseGeometry):
        geometry = shape(geometry)
    parts = getattr(geometry, "geoms", [geometry])
    found = []
    for part in parts:
        ring = list(part.exterior.coords)
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        found.append(" ".join(f"{_num(lat)},{_num(lon)}" for lon, lat, *_z in ring))
    return found


def _num(value):
    """A coordinate with at most six decimals (~0.1 m), no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _add(parent, name, text=None):
    """A child element with text (None: no text)."""
    child = etree.SubElement(parent, q(name))
    if text is not None:
        child.text = str(text)
    return child


def _named_value(parent, name, value_name, value):
    """An eventCode, parameter or geocode element."""
    child = _add(parent, name)
    _add(child, "valueName", value_name)
    _add(child, "value", value)
    return child


def alert_element(warning, *, sender, area_names, geometry, web=None, sender_name=None):
    """A published (or ended) warning as a CAP 1.2 ``alert`` element.

    ``area_names`` maps the warning's area codes to their names; ``geometry`` is the warned
    (multi)polygon (GeoJSON mapping or shapely geometry); ``web`` a page about it.
    """
    message = message_of(warning)
    root = etree.Element(q("alert"), nsmap={None: NS})
    _add(root, "identifier", message.identifier)
    _add(root, "sender", sender)
    _add(root, "sent", cap_time(message.sent))
    _add(root, "status", "Actual")
    _add(root, "msgType", message.msg_type)
    _add(root, "scope", "Public")
    if message.msg_type == "Cancel" and warning.note:
        _add(root, "note", warning.note)
    if message.references:
        _add(root, "references", " ".join(message.references))
    info = _add(root, "info")
    _add(info, "language", LANGUAGE)
    _add(info, "category", CATEGORY.get(warning.hazard_type, "Other"))
    _add(info, "event", event_name(warning))
    _add(info, "urgency", "Past" if message.msg_type == "Cancel" else URGENCY[warning.level])
    _add(info, "severity", SEVERITY[warning.level])
    _add(info, "certainty", CERTAINTY)
    _named_value(info, "eventCode", EVENT_CODE_NAME, warning.hazard_type)
    if warning.onset:
        _add(info, "onset", cap_time(warning.onset))
    if warning.expires:
        _add(info, "expires", cap_time(warning.expires))
    if sender_name:
        _add(info, "senderName", sender_name)
    _add(info, "headline", warning.title)
    if warning.description:
        _add(info, "description", warning.description)
    if warning.instruction:
        _add(info, "instruction", warning.instruction)
    if web:
        _add(info, "web", web)
    area = _add(info, "area")
    codes = list(warning.area_codes or [])
    _add(area, "areaDesc", "、".join(area_names.get(c, c) for c in codes) or warning.title)
    for polygon in polygons(geometry):
        _add(area, "polygon", polygon)
    for code in codes:
        _named_value(area, "geocode", GEOCODE_NAME, code)
    return root


LEVEL_NAMES_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}


def event_name(warning):
    """CAP ``event``: the level and the hazard in Chinese (e.g. 红色预警 · 气象灾害)."""
    return f"{LEVEL_NAMES_ZH[warning.level]}预警 · {label(warning.hazard_type, 'zh')}"


def to_bytes(element):
    """A CAP document as UTF-8 bytes with the XML declaration."""
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def alert_document(warning, **kwargs):
    """``alert_element`` serialised (see there for the arguments)."""
    return to_bytes(alert_element(warning, **kwargs))


# --- Reading ---------------------------------------------------------------------------


def _parser():
    """An lxml parser that never expands entities, reads DTDs or uses the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


@dataclass
class Area:
    """An area of an incoming alert."""

    description: str
    polygons: list  # of rings [(lon, lat), ...], closed
    codes: list  # GB/T 2260 codes


@dataclass
class Alert:
    """The parts of an incoming CAP alert a warning keeps."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    references: list  # of (sender, identifier, sent)
    scope: str = "Public"
    language: str = ""
    categories: list = field(default_factory=list)
    event: str = ""
    urgency: str = ""
    severity: str = ""
    certainty: str = ""
    event_codes: dict = field(default_factory=dict)
    onset: datetime | None = None
    expires: datetime | None = None
    headline: str = ""
    description: str = ""
    instruction: str = ""
    note: str = ""
    areas: list = field(default_factory=list)
    document: str = ""  # the document as text to keep (UTF-8 as sent, else re-encoded)

    @property
    def level(self):
        """Our level from CAP severity (None for Unknown)."""
        return LEVEL_OF_SEVERITY.get(self.severity)

    @property
    def hazard_type(self):
        """Our hazard type: our eventCode if present, else from the event's words, else from
        the first category."""
        own = self.event_codes.get(EVENT_CODE_NAME)
        if own in INCIDENT_TYPES:
            return own
        for word, hazard in EVENT_WORDS:
            if word in self.event:
                return hazard
        return HAZARD_OF_CATEGORY.get(self.categories[0] if self.categories else "Other",
                                      "natural_disaster")

    @property
    def area_codes(self):
        """Every geocode of every area, in order, once."""
        return list(dict.fromkeys(c for a in self.areas for c in a.codes))

    @property
    def geometry(self):
        """Every polygon of every area as one GeoJSON MultiPolygon, or None."""
        rings = [p for a in self.areas for p in a.polygons]
        if not rings:
            return None
        return {"type": "MultiPolygon", "coordinates": [[[list(p) for p in r]] for r in rings]}


def _text(element, name):
    """Stripped text of a child, "" when absent."""
    child = element.find(q(name))
    return (child.text or "").strip() if child is not None else ""


def _time(value):
    """A CAP time (already schema-checked) as an aware datetime."""
    return datetime.fromisoformat(value) if value else None


def _field_of(message):
    """The CAP element a schema error is about, from lxml's message."""
    found = re.findall(r"\{" + re.escape(NS) + r"\}(\w+)", message)
    if "Missing child element" in message or "Expected is" in message:
        # "Element 'alert': Missing child element(s). Expected is ( {ns}sent )."
        return found[-1] if found else "alert"
    return found[0] if found else "alert"


def read_root(data):
    """The root element of a hostile XML document: entities, DTDs and the network refused
    (Invalid naming ``_body`` otherwise)."""
    refused = Invalid("XML with a DTD or entities is refused",
                      {"_body": ["no DTD or entity declarations"]})
    malformed = Invalid("the body is not well-formed XML", {"_body": ["not well-formed XML"]})
    try:
        SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except DefusedXmlException:
        raise refused from None
    except SafeElementTree.ParseError:
        raise malformed from None
    except ValueError:
        pass  # an encoding expat cannot read (GB 2312, GBK): lxml reads it, checked below
    except LookupError:
        raise malformed from None  # an encoding nobody knows
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, LookupError, ValueError):
        raise malformed from None
    # lxml neither expands entities nor loads DTDs here; a document declaring one is refused
    # all the same (defusedxml did so above for every encoding expat reads).
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise refused
    return root


def parse_alert(data):
    """An incoming CAP 1.2 document, checked: Invalid (422) naming the first bad element."""
    root = read_root(data)
    if root.tag != q("alert"):
        raise Invalid("not a CAP 1.2 alert",
                      {"cap:alert": ["the root element must be alert in the CAP 1.2 namespace "
                                     "(urn:oasis:names:tc:emergency:cap:1.2)"]})
    checker = schema()
    if not checker.validate(root):
        problems = {}
        for error in checker.error_log:
            found = problems.setdefault("cap:" + _field_of(error.message),
                                        ["does not follow the CAP 1.2 schema"])
            # lxml's own words after ours (English): the element and what was expected.
            found.append(_SPACE.sub(" ", error.message.replace("{" + NS + "}", ""))[:300])
        raise Invalid("the CAP document is invalid", problems)
    alert = Alert(identifier=_text(root, "identifier"), sender=_text(root, "sender"),
                  sent=_time(_text(root, "sent")), status=_text(root, "status"),
                  msg_type=_text(root, "msgType"), references=_references(root),
                  scope=_text(root, "scope"),
                  note=_text(root, "note"), document=_document(data, root))
    infos = root.findall(q("info"))
    chosen = next((i for i in infos if _text(i, "language").lower().startswith("zh")),
                  infos[0] if infos else None)
    if chosen is not None:
        _read_info(alert, chosen)
    return alert


def _document(data, root):
    """The document as text: as it was sent when that was UTF-8, else written again as UTF-8
    (a GB 2312 document keeps its content, its declaration says UTF-8)."""
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding in ("UTF-8", "UTF8", "US-ASCII", "ASCII"):
        return data.decode("utf-8")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _references(root):
    """``references`` as (sender, identifier, sent) triples."""
    found = []
    for entry in _text(root, "references").split():
        parts = entry.split(",")
        if len(parts) != 3:
            raise Invalid("the CAP document is invalid",
                          {"cap:references": ["each reference is sender,identifier,sent"]})
        found.append(tuple(parts))
    return found


def _read_info(alert, info):
    """Fill an Alert from its chosen ``info``."""
    alert.language = _text(info, "language")
    alert.categories = [(c.text or "").strip() for c in info.findall(q("category"))]
    for name in ("event", "urgency", "severity", "certainty", "headline", "description",
                 "instruction"):
        setattr(alert, name, _text(info, name))
    alert.event_codes = {_text(c, "valueName"): _text(c, "value")
                         for c in info.findall(q("eventCode"))}
    alert.onset = _time(_text(info, "onset") or _text(info, "effective")) or alert.sent
    alert.expires = _time(_text(info, "expires"))
    alert.areas = [_read_area(a) for a in info.findall(q("area"))]


def _read_area(area):
    """One ``area``: its description, polygons as closed (lon, lat) rings, GB/T 2260 codes."""
    rings = []
    for polygon in area.findall(q("polygon")):
        ring = []
        for pair in (polygon.text or "").split():
            lat, lon = (float(v) for v in pair.split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise Invalid("the CAP document is invalid",
                              {"cap:polygon": ["latitude or longitude out of range"]})
            ring.append((lon, lat))
        if ring[0] != ring[-1]:
            raise Invalid("the CAP document is invalid",
                          {"cap:polygon": ["a polygon's first and last points must be equal"]})
        rings.append(ring)
    codes = [_text(g, "value") for g in area.findall(q("geocode"))
             if _text(g, "valueName") in GEOCODE_NAMES and _text(g, "value")]
    return Area(_text(area, "areaDesc"), rings, codes)
