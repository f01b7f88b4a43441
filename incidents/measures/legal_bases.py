"""The usual legal bases of emergency measures, offered as choices in the measure and
requisition forms (free text stays possible: a measure may rest on any law).

Source: 《中华人民共和国突发事件应对法》 as revised by the Standing Committee of the 14th
National People's Congress on 2024-06-28 (Presidential Order No. 25, in force 2024-11-01),
text as published by the NPC (中国人大网, npc.gov.cn); 《重庆市突发事件应对条例》 as adopted by
the Standing Committee of the Chongqing Municipal People's Congress. Only articles whose
number we are sure of in the 2024 text are listed; the Chongqing regulation is offered by name
(its article is to be added by the author of the measure). Keep this list short and checked:
a wrong article on a signed decision is worse than none. docs/incidents.md says the same.
"""

LAW = "《中华人民共和国突发事件应对法》"
CHONGQING = "《重庆市突发事件应对条例》"

# (text written on the decision, the measure kinds it usually supports, what the article is)
LEGAL_BASES = (
    {"text": f"{LAW}第七十三条", "kinds": ("traffic_control", "evacuation", "closure",
                                          "suspension", "price_intervention", "other"),
     "summary": "自然灾害、事故灾难或者公共卫生事件发生后可以采取的应急处置措施"},
    {"text": f"{LAW}第七十四条", "kinds": ("traffic_control", "closure", "suspension",
                                          "other"),
     "summary": "社会安全事件发生后可以采取的应急处置措施"},
    {"text": f"{LAW}第七十六条", "kinds": ("requisition",),
     "summary": "必要时向单位和个人征用应急救援所需设备、设施、场地、交通工具和其他物资"},
    {"text": f"{LAW}第十二条", "kinds": ("requisition",),
     "summary": "为应对突发事件的紧急需要征用财产，使用完毕及时返还，毁损灭失的给予补偿"},
    {"text": CHONGQING, "kinds": ("requisition", "traffic_control", "evacuation", "closure",
                                  "suspension", "price_intervention", "other"),
     "summary": "重庆市行政区域内突发事件的应对（请补充条款）"},
)

# What the requisition form starts with (the article that empowers requisitions).
REQUISITION_DEFAULT = f"{LAW}第七十六条"

SOURCE = ("《中华人民共和国突发事件应对法》（2024年6月28日修订，2024年11月1日起施行，"
          "中国人大网公布文本）；《重庆市突发事件应对条例》")


def choices(kind=None):
    """The listed bases (those usually supporting ``kind`` first when it is given)."""
    if kind is None:
        return list(LEGAL_BASES)
    return sorted(LEGAL_BASES, key=lambda basis: kind not in basis["kinds"])
