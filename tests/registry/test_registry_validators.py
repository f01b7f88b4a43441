"""Check characters of credit codes and resident IDs, masks, and the personal-data cipher."""

from datetime import date

import pytest

from registry import validators as v
from registry.crypto import Cipher
from tests.conftest import DATA_KEY


def test_published_credit_code_is_valid():
    # Tencent's (深圳市腾讯计算机系统有限公司) published unified social credit code.
    assert v.credit_code_problem("91440300708461136T") is None


@pytest.mark.parametrize("code, reason", [
    ("91440300708461136A", "check character"),
    ("9144030070846113", "18 characters"),
    ("91440300708461I36T", "alphabet"),
])
def test_bad_credit_codes(code, reason):
    assert reason in v.credit_code_problem(code)


def test_embedded_organisation_code_is_checked():
    good = v.make_credit_code("52", "500103", "MJ000001")
    assert v.credit_code_problem(good) is None
    org = good[8:17]
    wrong_org = org[:8] + ("0" if org[8] != "0" else "1")
    first17 = good[:8] + wrong_org
    forged = first17 + v.credit_check_char(first17)
    assert "GB 11714" in v.credit_code_problem(forged)


def test_resident_id_check_digit():
    # The worked example of GB 11643-1999.
    assert v.id_check_digit("11010519491231002") == "X"
    assert v.id_number_problem("11010519491231002X") is None
    assert "check digit" in v.id_number_problem("110105194912310021")
    assert "birth date" in v.id_number_problem("110105194913310028")
    made = v.make_id_number("500103", date(1990, 5, 17), 123)
    assert made.startswith("50010319900517123") and v.id_number_problem(made) is None


def test_phone_and_masks():
    assert v.phone_problem("13812345678") is None
    assert v.phone_problem("12812345678") and v.phone_problem("1381234567")
    assert v.mask_phone("13812345678") == "138****5678"
    assert v.mask_id("50010319900517123X") == "500103********123X"


def test_cipher_round_trip_and_keyed_hash():
    cipher = Cipher(DATA_KEY)
    sealed = cipher.encrypt("50010319900517123X")
    assert "50010319900517123X" not in sealed and sealed != cipher.encrypt("50010319900517123X")
    assert cipher.decrypt(sealed) == "50010319900517123X"
    assert cipher.lookup_hash("a") == cipher.lookup_hash("a") != cipher.lookup_hash("b")
    other = Cipher("A" * 43 + "=")
    assert other.lookup_hash("a") != cipher.lookup_hash("a")
    with pytest.raises(ValueError):
        Cipher("c2hvcnQ=")
