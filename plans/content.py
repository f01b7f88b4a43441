"""Plan content: validation, response-level evaluation, text rendering and version diff.

Pure functions with no database, so incidents and tests can use them directly.
"""

import difflib
import math
import operator
import re

from emergency.errors import Invalid
from emergency.vocabulary import TEAM_CATEGORIES
from plans.models import OPERATORS

METRIC_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LEVEL_NAMES = {1: "I", 2: "II", 3: "III", 4: "IV"}
LEVEL_LABELS_ZH = {1: "一级（特别重大）", 2: "二级（重大）", 3: "三级（较大）", 4: "四级（一般）"}
COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
           "==": operator.eq}
# Metrics the editor offers; other lower-case identifiers are accepted too.
COMMON_METRICS = {
    "deaths": "死亡人数", "missing": "失踪人数", "injured": "受伤人数",
    "seriously_injured": "重伤人数", "trapped": "被困人数", "affected": "受灾人数",
    "evacuated": "紧急转移安置人数", "threatened": "受威胁人数",
    "economic_loss": "直接经济损失（万元）",
    "collapsed_houses": "倒塌房屋（间）", "burned_area_ha": "过火面积（公顷）",
    "magnitude": "震级", "rainfall_mm": "24小时降雨量（毫米）",
    "water_level_over_warning_m": "超警戒水位（米）", "leak_tonnes": "泄漏量（吨）",
}
CONTENT_FIELDS = ("title", "owner", "sections", "response_levels")


def _text(value, key, problems, maximum, required=False):
    """A stripped string of at most ``maximum`` characters, noting problems under ``key``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems[key] = ["must be a string"]
        return ""
    value = value.strip()
    if required and not value:
        problems[key] = ["required"]
    elif len(value) > maximum:
        problems[key] = [f"at most {maximum} characters"]
    return value


def _number(value):
    """True for a finite JSON number (booleans are not numbers)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _list(value, key, problems):
    """The value if it is a list (None is an empty list); notes a problem otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems[key] = ["must be a list"]
        return []
    return value


def _object(value, key, problems):
    """The value if it is an object; notes a problem otherwise."""
    if not isinstance(value, dict):
        problems[key] = ["must be an object"]
        return None
    return value


def _criterion(raw, key, problems):
    """One trigger criterion ``{metric, op, value}``, checked."""
    item = _object(raw, key, problems)
    if item is None:
        return None
    metric = item.get("metric")
    if not isinstance(metric, str) or not METRIC_RE.match(metric):
        problems[f"{key}.metric"] = ["a lower-case identifier such as deaths or economic_loss"]
    op = item.get("op")
    if op not in OPERATORS:
        problems[f"{key}.op"] = [f"unknown operator {op!r}; use one of {' '.join(OPERATORS)}"]
    value = item.get("value")
    if not _number(value):
        problems[f"{key}.value"] = ["must be a finite number"]
    return {"metric": metric, "op": op, "value": value}


def _action(raw, key, problems):
    """One duty of a unit ``{unit, duty}``, checked."""
    item = _object(raw, key, problems)
    if item is None:
        return None
    return {"unit": _text(item.get("unit"), f"{key}.unit", problems, 200, required=True),
            "duty": _text(item.get("duty"), f"{key}.duty", problems, 4000, required=True)}


def _force(raw, key, problems):
    """One required force ``{category, count}``, checked."""
    item = _object(raw, key, problems)
    if item is None:
        return None
    category, count = item.get("category"), item.get("count")
    if category not in TEAM_CATEGORIES:
        problems[f"{key}.category"] = [f"must be one of {', '.join(TEAM_CATEGORIES)}"]
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10_000:
        problems[f"{key}.count"] = ["a whole number of teams, 1 to 10000"]
    return {"category": category, "count": count}


def _level(raw, key, problems, seen):
    """One response level with its criteria, duties and required forces, checked."""
    item = _object(raw, key, problems)
    if item is None:
        return None
    level = item.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 4:
        problems[f"{key}.level"] = ["must be 1, 2, 3 or 4 (1 is the most severe)"]
    elif level in seen:
        problems[f"{key}.level"] = [f"duplicate level {level}"]
    else:
        seen.add(level)
    criteria = [_criterion(c, f"{key}.criteria.{i}", problems)
                for i, c in enumerate(_list(item.get("criteria"), f"{key}.criteria", problems))]
    actions = [_action(a, f"{key}.actions.{i}", problems)
               for i, a in enumerate(_list(item.get("actions"), f"{key}.actions", problems))]
    forces = [_force(f, f"{key}.required_forces.{i}", problems)
              for i, f in enumerate(_list(item.get("required_forces"),
                                          f"{key}.required_forces", problems))]
    return {"level": level,
            "name": _text(item.get("name"), f"{key}.name", problems, 100),
            "criteria": criteria, "actions": actions, "required_forces": forces}


def clean_content(data):
    """Validated, normalised plan content; Invalid names every bad part (dotted keys)."""
    problems = {}
    sections = []
    for i, raw in enumerate(_list(data.get("sections"), "sections", problems)):
        item = _object(raw, f"sections.{i}", problems)
        if item is not None:
            sections.append({
                "title": _text(item.get("title"), f"sections.{i}.title", problems, 200,
                               required=True),
                "body": _text(item.get("body"), f"sections.{i}.body", problems, 100_000)})
    seen = set()
    levels = [_level(raw, f"response_levels.{i}", problems, seen)
              for i, raw in enumerate(_list(data.get("response_levels"), "response_levels",
                                            problems))]
    content = {"title": _text(data.get("title"), "title", problems, 200, required=True),
               "owner": _text(data.get("owner"), "owner", problems, 200),
               "sections": sections, "response_levels": levels}
    if problems:
        first = next(iter(problems))
        raise Invalid(f"invalid plan content: {first}: {problems[first][0]}", problems)
    content["response_levels"] = sorted(levels, key=lambda lv: lv["level"])
    return content


def criterion_holds(criterion, metrics):
    """True when the metric is given as a number and the comparison holds."""
    actual = metrics.get(criterion["metric"])
    if not _number(actual) or not _number(criterion.get("value")):
        return False
    compare = COMPARE.get(criterion["op"])
    return bool(compare and compare(actual, criterion["value"]))


def evaluate_levels(response_levels, metrics):
    """The most severe level any one of whose criteria holds, and the criteria that matched.

    Returns ``{"level": int | None, "matched": [{level, metric, op, value, actual}]}``;
    ``matched`` lists the criteria met at the chosen level.
    """
    metrics = metrics or {}
    for level in sorted(response_levels or [], key=lambda lv: lv["level"]):
        hits = [{"level": level["level"], "metric": c["metric"], "op": c["op"],
                 "value": c["value"], "actual": metrics[c["metric"]]}
                for c in level.get("criteria") or [] if criterion_holds(c, metrics)]
        if hits:
            return {"level": level["level"], "matched": hits}
    return {"level": None, "matched": []}


def forces_by_level(response_levels):
    """Required forces of each level: ``{level: [{category, count}]}``."""
    return {lv["level"]: list(lv.get("required_forces") or []) for lv in response_levels or []}


def _number_text(value):
    """A criterion value without a needless ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_lines(content):
    """The content as numbered-free text lines, the basis of the side-by-side diff."""
    lines = [f"# {content.get('title', '')}", f"Owner: {content.get('owner', '')}"]
    for section in content.get("sections") or []:
        lines.append(f"## {section['title']}")
        lines.extend(section["body"].splitlines() or [""])
    for level in content.get("response_levels") or []:
        name = LEVEL_NAMES.get(level["level"], level["level"])
        lines.append(f"## Level {name} {level.get('name') or ''}".rstrip())
        lines.extend(f"  trigger: {c['metric']} {c['op']} {_number_text(c['value'])}"
                     for c in level.get("criteria") or [])
        lines.extend(f"  duty: {a['unit']}: {a['duty']}" for a in level.get("actions") or [])
        lines.extend(f"  force: {f['category']} x {f['count']}"
                     for f in level.get("required_forces") or [])
    return lines


def diff_rows(left_content, right_content):
    """Side-by-side rows ``{tag, left, right}`` (tag: equal|replace|insert|delete)."""
    left, right = render_lines(left_content), render_lines(right_content)
    rows = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        a, b = left[i1:i2], right[j1:j2]
        for k in range(max(len(a), len(b))):
            left_line = a[k] if k < len(a) else None
            right_line = b[k] if k < len(b) else None
            # An unpaired line of a replaced block reads as a plain insert or delete.
            row_tag = tag if tag != "replace" else (
                "insert" if left_line is None else "delete" if right_line is None else tag)
            rows.append({"tag": row_tag, "left": left_line, "right": right_line})
    return rows
