"""Plan content: validation, response-level evaluation, text rendering and version diff.

Pure functions with no database, so incidents and tests can use them directly.
"""

import difflib
import math
import operator
import re

from emergency.errors import Invalid
from emergency.vocabulary import CATEGORY_LABELS, TEAM_CATEGORIES
from plans import metrics as pm
from plans.models import OPERATORS

METRIC_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LEVEL_NAMES = {1: "I", 2: "II", 3: "III", 4: "IV"}
LEVEL_LABELS_ZH = {1: "一级（特别重大）", 2: "二级（重大）", 3: "三级（较大）", 4: "四级（一般）"}
LEVEL_LABELS_EN = {1: "Level I (most severe)", 2: "Level II", 3: "Level III", 4: "Level IV"}
COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
           "==": operator.eq}
# Metrics the editor offers (plans.metrics), by key with their Chinese name and unit. Other
# lower-case identifiers are accepted from the API too (incidents may report more).
COMMON_METRICS = {m.key: pm.label(m.key, "zh") for m in pm.METRICS}
METRIC_HELP = ("choose a metric from the list (GET /api/v1/plans/metrics), e.g. 死亡人数 "
               "(deaths) or 直接经济损失 (economic_loss)")
# A trigger as a sentence: {name}, {value} and {unit} filled in; by language and operator.
CRITERION_SENTENCES = {
    "zh": {">=": "{name}达到 {value}{unit}及以上", ">": "{name}超过 {value}{unit}",
           "<=": "{name}不超过 {value}{unit}", "<": "{name}低于 {value}{unit}",
           "==": "{name}为 {value}{unit}"},
    "en": {">=": "{name} of {value}{unit} or more", ">": "{name} above {value}{unit}",
           "<=": "{name} of {value}{unit} or less", "<": "{name} below {value}{unit}",
           "==": "{name} of exactly {value}{unit}"},
}
# Lines of the text the version diff compares, by language.
DIFF_LINES = {
    "zh": {"title": "标题：{0}", "owner": "牵头单位：{0}", "section": "【{0}】",
           "level": "{0}响应", "trigger": "  启动条件：{0}", "duty": "  {0}：{1}",
           "force": "  所需力量：{0} {1} 支"},
    "en": {"title": "Title: {0}", "owner": "Owner: {0}", "section": "[{0}]",
           "level": "{0} response", "trigger": "  Starts when: {0}", "duty": "  {0}: {1}",
           "force": "  Forces needed: {1} × {0}"},
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
    metric = pm.resolve(metric) or metric
    if not isinstance(metric, str) or not METRIC_RE.match(metric):
        problems[f"{key}.metric"] = [METRIC_HELP]
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


def _lang(lang):
    """zh or en (anything else reads as Chinese, the default)."""
    return "en" if str(lang or "zh").startswith("en") else "zh"


def criterion_text(criterion, lang="zh"):
    """A trigger as a sentence: 死亡人数达到 30 人及以上 / Deaths of 30 people or more."""
    lang = _lang(lang)
    metric, op = criterion.get("metric"), criterion.get("op")
    unit = pm.unit(metric, lang)
    unit = f" {unit}" if unit else ""
    template = CRITERION_SENTENCES[lang].get(op)
    value = _number_text(criterion.get("value"))
    if template is None:
        return f"{pm.name(metric, lang)} {op} {value}{unit}"
    return template.format(name=pm.name(metric, lang), value=value, unit=unit)


def level_label(level, lang="zh"):
    """一级（特别重大） / Level I (most severe)."""
    labels = LEVEL_LABELS_EN if _lang(lang) == "en" else LEVEL_LABELS_ZH
    return labels.get(level, str(level))


def render_lines(content, lang="zh"):
    """The content as text lines in the language, sentences not keys: the basis of the
    side-by-side diff."""
    text = DIFF_LINES[_lang(lang)]
    lines = [text["title"].format(content.get("title", "")),
             text["owner"].format(content.get("owner", ""))]
    for section in content.get("sections") or []:
        lines.append(text["section"].format(section["title"]))
        lines.extend(section["body"].splitlines() or [""])
    for level in content.get("response_levels") or []:
        heading = text["level"].format(level_label(level["level"], lang))
        lines.append(f"{heading} {level.get('name') or ''}".rstrip())
        lines.extend(text["trigger"].format(criterion_text(c, lang))
                     for c in level.get("criteria") or [])
        lines.extend(text["duty"].format(a["unit"], a["duty"]) for a in level.get("actions") or [])
        lines.extend(text["force"].format(str(CATEGORY_LABELS.get(f["category"], f["category"])),
                                          f["count"])
                     for f in level.get("required_forces") or [])
    return lines


def diff_rows(left_content, right_content, lang="zh"):
    """Side-by-side rows ``{tag, left, right}`` (tag: equal|replace|insert|delete)."""
    left, right = render_lines(left_content, lang), render_lines(right_content, lang)
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
