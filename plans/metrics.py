"""The metrics plans trigger on (and incidents report): keys, Chinese and English names, units.

Plans store the key (``deaths``); people see and type the name (死亡人数). ``resolve`` turns
a key, a name in either language or a known alias into the key, so an API client may write
``{"metric": "死亡人数"}`` and the editor offers only this list. Pure data, no Flask.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One metric: its key, names, units and other names people use for it."""

    key: str
    zh: str
    en: str
    unit_zh: str = ""
    unit_en: str = ""
    aliases: tuple = ()


METRICS = (
    Metric("deaths", "死亡人数", "Deaths", "人", "people", ("死亡", "遇难人数")),
    Metric("missing", "失踪人数", "Missing", "人", "people", ("失踪",)),
    Metric("injured", "受伤人数", "Injured", "人", "people", ("受伤",)),
    Metric("seriously_injured", "重伤人数", "Seriously injured", "人", "people",
           ("重伤", "重伤（含急性工业中毒）")),
    Metric("trapped", "被困人数", "Trapped", "人", "people", ("被困",)),
    Metric("affected", "受灾人口", "Affected population", "人", "people",
           ("受灾人数", "受灾群众")),
    Metric("evacuated", "紧急转移安置人数", "Evacuated and resettled", "人", "people",
           ("转移人数", "紧急转移人数", "转移安置人数")),
    Metric("threatened", "受威胁人数", "People under threat", "人", "people", ("受威胁人口",)),
    Metric("economic_loss", "直接经济损失", "Direct economic loss", "万元", "10,000 yuan",
           ("经济损失", "直接损失")),
    Metric("collapsed_houses", "倒塌房屋", "Collapsed houses", "间", "rooms",
           ("倒塌房屋间数", "房屋倒塌")),
    Metric("burned_area_ha", "过火面积", "Burned area", "公顷", "ha", ("受害森林面积",)),
    Metric("magnitude", "震级", "Earthquake magnitude", "级", "", ("地震震级",)),
    Metric("rainfall_mm", "24小时降雨量", "24-hour rainfall", "毫米", "mm", ("降雨量", "雨量")),
    Metric("water_level_over_warning_m", "超警戒水位", "Water level above warning", "米", "m",
           ("超警水位", "超过警戒水位")),
    Metric("leak_tonnes", "泄漏量", "Leak", "吨", "t", ("泄漏",)),
)
BY_KEY = {m.key: m for m in METRICS}


def _squash(text):
    """Text as compared: no spaces, no brackets, lower case."""
    return "".join(ch for ch in str(text).lower() if not ch.isspace() and ch not in "（）()")


# Every name a metric goes by (key, both names, with or without the unit, aliases).
_NAMES = {}
for _m in METRICS:
    for _name in (_m.key, _m.zh, _m.en, f"{_m.zh}{_m.unit_zh}", f"{_m.en}{_m.unit_en}",
                  *_m.aliases):
        _NAMES.setdefault(_squash(_name), _m.key)


def resolve(text):
    """The key of the metric a text names (key, Chinese or English name, alias), or None."""
    if not isinstance(text, str):
        return None
    return _NAMES.get(_squash(text))


def label(key, lang="zh", unit=True):
    """The metric's name in the language, with its unit in brackets: 死亡人数（人）.
    An unknown key is shown as it is."""
    metric = BY_KEY.get(key)
    if metric is None:
        return key
    if lang == "en":
        return f"{metric.en} ({metric.unit_en})" if unit and metric.unit_en else metric.en
    return f"{metric.zh}（{metric.unit_zh}）" if unit and metric.unit_zh else metric.zh


def unit(key, lang="zh"):
    """The metric's unit in the language ('' when it has none or is unknown)."""
    metric = BY_KEY.get(key)
    if metric is None:
        return ""
    return metric.unit_en if lang == "en" else metric.unit_zh


def name(key, lang="zh"):
    """The metric's bare name in the language (the key when unknown)."""
    metric = BY_KEY.get(key)
    if metric is None:
        return key
    return metric.en if lang == "en" else metric.zh


def catalogue(lang="zh"):
    """The list a picker offers: ``{value, label, hint, key, name, unit, aliases}``."""
    return [{"value": m.key, "label": label(m.key, lang), "hint": m.key, "key": m.key,
             "name": name(m.key, lang), "unit": unit(m.key, lang),
             "aliases": [m.zh, m.en, *m.aliases]} for m in METRICS]
