"""Money and ratios of prices: yuan strings and whole fen. No Flask here."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_YUAN = Decimal("10000000")


def to_fen(value):
    """A price in yuan (string, number or Decimal) as whole fen, or None when it is not a
    price: > 0, at most two decimal places, at most 10,000,000 yuan."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0 or amount > MAX_YUAN:
        return None
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        return None
    return int((amount * 100).to_integral_value())


def yuan(fen):
    """Fen (int or Decimal, possibly half a fen from a median) as a yuan string with two
    places, halves rounded up."""
    if fen is None:
        return None
    return str((Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rounded_fen(value):
    """A Decimal amount of fen rounded to a whole fen (halves up)."""
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
