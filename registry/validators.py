"""Check characters of Chinese identifiers: credit codes (GB 32100), resident IDs (GB 11643)."""

import re
from datetime import date

# GB 32100-2015: the code alphabet leaves out I, O, Z, S and V.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
# GB 11714-1997: the 9-character organisation code embedded at positions 9..17.
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
# GB/T 2260 province-level codes, and 81/82/83 of the residence permits of Hong Kong, Macao
# and Taiwan residents (GB 11643 numbers issued since 2018).
PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
                      "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split())
# The served region when SERVED_BBOX is not configured: mainland China with its islands
# (minlon, minlat, maxlon, maxlat).
CHINA_BBOX = (73.4, 3.8, 135.1, 53.6)


def credit_check_char(first17):
    """The GB 32100 check character of the first 17 characters of a credit code."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8):
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_problem(code):
    """Why a unified social credit code is invalid, or None when it is valid."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return "must be 18 characters"
    if not CREDIT_RE.match(code):
        return "contains characters outside the GB 32100 alphabet"
    if credit_check_char(code[:17]) != code[17]:
        return "check character does not match (GB 32100)"
    org = code[8:17]
    if all(c in ORG_ALPHABET for c in org[:8]) and org_code_check_char(org[:8]) != org[8]:
        return "embedded organisation code has a wrong check character (GB 11714)"
    return None


def make_credit_code(prefix2, area6, org_body8):
    """A valid credit code from its parts (demo data and tests)."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = prefix2 + area6 + org
    return first17 + credit_check_char(first17)


def id_check_digit(first17):
    """The GB 11643 check digit of the first 17 digits of a resident ID number."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number_problem(number):
    """Why a resident ID number is invalid, or None when it is valid."""
    number = (number or "").strip().upper()
    if not ID_RE.match(number):
        return "must be 18 characters: 17 digits and a digit or X"
    if number[:2] not in PROVINCES:
        return "unknown province code (GB/T 2260) in the first two digits"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth date is not a real date"
    if born > date.today():
        return "birth date is in the future"
    if born.year < 1900:
        return "birth date is before 1900"
    if id_check_digit(number[:17]) != number[17]:
        return "check digit does not match (GB 11643)"
    return None


def make_id_number(area6, born, sequence3):
    """A valid resident ID number from area code, birth date and sequence (demo, tests)."""
    first17 = f"{area6}{born:%Y%m%d}{sequence3:03d}"
    return first17 + id_check_digit(first17)


def in_region(lon, lat, bbox=CHINA_BBOX):
    """True when lon/lat lies in the bbox (minlon, minlat, maxlon, maxlat); NaN never does."""
    minlon, minlat, maxlon, maxlat = bbox
    return minlon <= lon <= maxlon and minlat <= lat <= maxlat


def looks_swapped(lon, lat, bbox=CHINA_BBOX):
    """True when a point lies outside the bbox but would lie inside with lon and lat swapped."""
    return not in_region(lon, lat, bbox) and in_region(lat, lon, bbox)


def location_problem(lon, lat, bbox=CHINA_BBOX):
    """Why a lon/lat lies outside the served region (and whether it looks swapped), or None."""
    minlon, minlat, maxlon, maxlat = bbox
    if in_region(lon, lat, bbox):
        return None
    if looks_swapped(lon, lat, bbox):
        return ("latitude and longitude look swapped: give [longitude, latitude], "
                f"did you mean [{lat}, {lon}]?")
    return (f"outside the served region (longitude {minlon}..{maxlon}, "
            f"latitude {minlat}..{maxlat})")


def phone_problem(phone):
    """Why a mobile number is invalid, or None when it is an 11-digit mainland mobile."""
    return None if PHONE_RE.match((phone or "").strip()) else "must be an 11-digit mobile number"


def normalise_id(number):
    """The canonical form of an ID number (upper-case X, no spaces)."""
    return (number or "").strip().upper()


def mask_id(number):
    """500103********123X: the area code and the last four characters stay visible."""
    return number[:6] + "*" * 8 + number[-4:]


def mask_phone(phone):
    """138****5678: the carrier prefix and the last four digits stay visible."""
    return phone[:3] + "****" + phone[-4:]
