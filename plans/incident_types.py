"""The national four-category classification of emergencies and its common subtypes."""

# Emergency Response Law (2024) Art. 2: natural disasters, accident disasters, public health
# incidents and social security incidents. Subtypes follow the national special plans.
GENERAL = "general"

CATEGORIES = {
    "natural_disaster": ("自然灾害", "Natural disaster"),
    "accident_disaster": ("事故灾难", "Accident disaster"),
    "public_health": ("公共卫生事件", "Public health incident"),
    "social_security": ("社会安全事件", "Social security incident"),
}

# key: (category, Chinese label, English label)
SUBTYPES = {
    "flood": ("natural_disaster", "洪涝灾害", "Flood"),
    "drought": ("natural_disaster", "干旱灾害", "Drought"),
    "meteorological": ("natural_disaster", "气象灾害", "Meteorological disaster"),
    "earthquake": ("natural_disaster", "地震灾害", "Earthquake"),
    "geological": ("natural_disaster", "地质灾害", "Geological hazard"),
    "forest_fire": ("natural_disaster", "森林草原火灾", "Forest and grassland fire"),
    "production_safety": ("accident_disaster", "生产安全事故", "Production safety accident"),
    "hazardous_chemicals": ("accident_disaster", "危险化学品事故", "Hazardous chemicals accident"),
    "mine": ("accident_disaster", "矿山事故", "Mine accident"),
    "fire": ("accident_disaster", "火灾事故", "Fire"),
    "traffic": ("accident_disaster", "道路交通事故", "Road traffic accident"),
    "infrastructure": ("accident_disaster", "城市基础设施事故", "Urban infrastructure accident"),
    "environmental": ("accident_disaster", "突发环境事件", "Environmental incident"),
    "infectious_disease": ("public_health", "传染病疫情", "Infectious disease outbreak"),
    "food_safety": ("public_health", "食品安全事件", "Food safety incident"),
    "animal_epidemic": ("public_health", "动物疫情", "Animal epidemic"),
    "terrorism": ("social_security", "恐怖袭击事件", "Terrorist attack"),
    "mass_incident": ("social_security", "群体性事件", "Mass incident"),
    "cyber_security": ("social_security", "网络与信息安全事件", "Cyber security incident"),
}

# Every value a plan's incident_type may take: a subtype, a whole category, or "general"
# (an overall plan that covers every type).
PLAN_TYPES = (GENERAL, *CATEGORIES, *SUBTYPES)
# Incidents always name a concrete type; a category is accepted for unclassified ones.
INCIDENT_TYPES = (*SUBTYPES, *CATEGORIES)


def category_of(key):
    """The category of a subtype (a category is its own category); None for unknown keys."""
    if key in SUBTYPES:
        return SUBTYPES[key][0]
    if key in CATEGORIES:
        return key
    return None


def label(key, lang="zh"):
    """The Chinese (or English) label of a type or category key; the key itself if unknown."""
    index = 0 if lang == "zh" else 1
    if key == GENERAL:
        return "综合（全灾种）" if lang == "zh" else "General (all hazards)"
    if key in SUBTYPES:
        return SUBTYPES[key][1 + index]
    if key in CATEGORIES:
        return CATEGORIES[key][index]
    return key


def matching_plan_types(incident_type):
    """Plan incident types that cover an incident type, most specific first."""
    found = []
    if incident_type in SUBTYPES or incident_type in CATEGORIES:
        found.append(incident_type)
        category = category_of(incident_type)
        if category != incident_type:
            found.append(category)
    found.append(GENERAL)
    return found


def catalogue():
    """All types as a list for the API and pages: key, category, zh and en labels."""
    items = [{"key": GENERAL, "category": None, "label_zh": label(GENERAL, "zh"),
              "label_en": label(GENERAL, "en")}]
    for key, (zh, en) in CATEGORIES.items():
        items.append({"key": key, "category": None, "label_zh": zh, "label_en": en})
    for key, (category, zh, en) in SUBTYPES.items():
        items.append({"key": key, "category": category, "label_zh": zh, "label_en": en})
    return items
