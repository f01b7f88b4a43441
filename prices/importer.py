"""All-or-nothing import of price observations from .xlsx or .csv. No Flask here.

The first row names the columns (English keys or the usual Chinese headers); every row is
checked before anything is stored, and any bad row makes the whole import fail with each bad
row (by its spreadsheet row number) and field listed. An .xlsx is measured first
(emergency.uploads.check_xlsx) and opened only by openpyxl in read-only mode; a .csv is
capped in size and read as UTF-8 (with or without BOM) or, failing that, GB 18030 (what
Excel on a Chinese Windows saves).
"""

from emergency import sheets, uploads
from emergency.audit import service as audit
from emergency.errors import Invalid
from prices import catalogue as cat
from prices import service

HEADERS = {
    "commodity": "commodity", "商品": "commodity", "品种": "commodity", "商品名称": "commodity",
    "品名": "commodity", "unit": "unit", "单位": "unit", "计量单位": "unit",
    "market": "market", "市场": "market", "市场名称": "market", "采价点": "market",
    "监测点": "market", "area_code": "area_code", "area": "area_code", "区县": "area_code",
    "区县代码": "area_code", "区域代码": "area_code", "行政区划代码": "area_code",
    "地区": "area_code", "observed_on": "observed_on", "date": "observed_on",
    "日期": "observed_on", "采价日期": "observed_on", "监测日期": "observed_on",
    "price": "price", "价格": "price", "单价": "price", "价格（元）": "price",
    "价格(元)": "price",
}
REQUIRED = ("commodity", "market", "area_code", "observed_on", "price")


def _day(value):
    """A cell as a date, the text itself when it is no date (reported as such), or ''."""
    return sheets.day(value) or sheets.text(value)


def _price(value):
    """A price cell as text (floats from a sheet as their shortest form)."""
    if isinstance(value, float):
        return repr(value)
    return sheets.text(value)


def _records(rows, max_rows):
    """[(row number, {field: value})] of the data rows (blank rows skipped)."""
    text = sheets.text
    return [(number, {"commodity": text(cells["commodity"]), "unit": text(cells.get("unit")),
                      "market": text(cells["market"]), "area_code": text(cells["area_code"]),
                      "observed_on": _day(cells["observed_on"]),
                      "price": _price(cells["price"])})
            for number, cells in sheets.records(rows, HEADERS, max_rows, required=REQUIRED)]


def read(filename, stream, max_bytes, max_rows):
    """[(row number, {field: value})] of an uploaded .xlsx or .csv, size-checked."""
    if stream is None:
        raise Invalid("upload a file in the field 'file'", {"file": ["required"]})
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise uploads.TooLarge("the file is too large", {"file": [
            f"at most {max_bytes} bytes"]})
    suffix = (filename or "").lower().rsplit(".", 1)[-1]
    if suffix == "xlsx":
        with sheets.xlsx_rows(data) as rows:
            return _records(rows, max_rows)
    if suffix in ("csv", "txt"):
        return _records(sheets.csv_rows(data), max_rows)
    raise Invalid("unsupported file type", {"file": ["expected an .xlsx or .csv file"]})


def import_file(session, user, filename, stream, defaults=cat.Defaults(),
                max_bytes=16 * 1024 * 1024, max_rows=200_000):
    """Store every row of the file, or none: Invalid lists each bad row and field.
    Returns {rows, created, updated, unchanged, alerts}."""
    records = read(filename, stream, max_bytes, max_rows)
    if not records:
        raise Invalid("the file has no rows", {"file": ["no rows"]})
    goods = cat.catalogue(session, defaults)
    areas = service.known_areas(session, [c["area_code"] for _n, c in records])
    now_day = service.today()
    bad, seen, clean_rows = [], {}, []
    for number, cells in records:
        clean, problems = service.check_row(goods, areas, cells, now_day)
        if not problems:
            key = (clean["commodity"], clean["area_code"], clean["market"],
                   clean["observed_on"])
            if key in seen:
                problems["market"] = [f"same commodity, area, market and day as row "
                                      f"{seen[key]}"]
            else:
                seen[key] = number
        if problems:
            bad.append({"row": number, "fields": problems})
        else:
            clean_rows.append(clean)
    if bad:
        raise Invalid(f"{len(bad)} bad row(s); nothing was imported",
                      {"rows": bad[:1000], "bad_rows": [b["row"] for b in bad]})
    outcome = service.store(session, user, clean_rows, defaults)
    audit.record(session, "price.import", "price_observation", None,
                 {"rows": len(clean_rows), "created": outcome["created"],
                  "updated": outcome["updated"], "file": (filename or "")[:200]})
    session.flush()
    return {"rows": len(clean_rows), **outcome}
