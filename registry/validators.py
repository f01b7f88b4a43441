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
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth date is not a real date"
    if id_check_digit(number[:17]) != number[17]:
        return "check digit does not match (GB 11643)"
    return None


def make_id_number(area6, born, sequence3):
    """A valid resident ID number from area code, birth date and sequence (demo, tests)."""
    first17 = f"{area6}{born:%Y%m%d}{sequence3:03d}"
    return first17 + id_check_digit(first17)


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
