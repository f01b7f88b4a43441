"""Finding things by the name people know: Chinese names, pinyin initials or codes.

``rank(query, name, code)`` says how well a typed query matches (lower is better, None for no
match); the pickers of areas, grids, teams and members sort by it. Pinyin initials come from
pypinyin (its phrase dictionary reads 重庆 as "cq", not "zq"), computed once per name.
"""

import re
from functools import lru_cache

# Latin letters only: what someone types for pinyin initials ("yzq" for 渝中区).
INITIALS_RE = re.compile(r"^[a-z]{1,20}$")


@lru_cache(maxsize=200_000)
def initials(name):
    """Lower-case pinyin initials of a name: 渝中区 → "yzq"; Latin letters and digits kept."""
    # Imported on first use: pypinyin's dictionaries take ~0.5 s to load, which every process
    # (each CLI command, the job worker) paid at start-up whether it searched names or not.
    from pypinyin import Style, lazy_pinyin

    parts = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default")
    return "".join(p.lower() for p in parts if p.strip() and p.isalnum())


def normalise(query):
    """The query as matched: stripped, lower-case, inner spaces removed."""
    return re.sub(r"\s+", "", (query or "").strip().lower())


def rank(query, name, code=""):
    """How well ``query`` matches a name or code: 0 exact code, 1 code prefix, 2 name start,
    3 name contains, 4 initials start, 5 initials contain; None when it does not match.
    An empty query matches everything (rank 6)."""
    q = normalise(query)
    if not q:
        return 6
    code = (code or "").lower()
    if code and q == code:
        return 0
    if code and code.startswith(q):
        return 1
    lowered = normalise(name)
    if lowered.startswith(q):
        return 2
    if q in lowered:
        return 3
    if INITIALS_RE.match(q):
        # Digits in a name (第1网格 → "d1wg") may be typed or left out ("dwg").
        letters = initials(name)
        bare = re.sub(r"[0-9]", "", letters)
        if letters.startswith(q) or bare.startswith(q):
            return 4
        if q in letters or q in bare:
            return 5
    return None


def best(query, records, name_key="name", code_key="code", limit=10):
    """The ``limit`` records that match best, each ranked by its name (and code), ties by
    name length then name (shorter, more general names first)."""
    scored = []
    for record in records:
        score = rank(query, record.get(name_key) or "", record.get(code_key) or "")
        if score is not None:
            scored.append((score, len(record.get(name_key) or ""), record.get(name_key) or "",
                           record))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


def wants_initials(query):
    """True when the query could be pinyin initials (Latin letters only), so the caller must
    look beyond names that contain it literally."""
    return bool(INITIALS_RE.match(normalise(query)))
