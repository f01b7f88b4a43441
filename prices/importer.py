"""All-or-nothing import of price observations from .xlsx or .csv. No Flask here.

The first row names the columns (English keys or the usual Chinese headers); every row is
checked before anything is stored, and any bad row makes the whole import fail with each bad
row (by its spreadsheet row number) and field listed. An .xlsx is measured first
(emergency.uploads.check_xlsx) and opened only by openpyxl in read-only mode; a .csv is
capped in size and read as UTF-8 (with or without BOM) or, failing that, GB 18030 (what
Excel on a Chinese Windows saves).
"""

import csv
import io
import re
from datetime import date, datetime

from openpyxl import load_workbook

from emergency import uploads
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
_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _text(value):
    """A cell as stripped text (whole numbers without a decimal point)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _day(value):
    """A cell as a date, the text itself when it is no date (reported as such), or ''."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    match = _DAY.match(text.split(" ")[0]) if text else None
    if not match:
        return text
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return text


def _price(value):
    """A price cell as text (floats from a sheet as their shortest form)."""
    if isinstance(value, float):
        return repr(value)
    return _text(value)


def _columns(header):
    """{field: column index} of a header row, or Invalid naming the missing columns."""
    columns = {}
    for index, title in enumerate(header):
        text = _text(title)
        key = HEADERS.get(text.lower()) or HEADERS.get(text.replace(" ", ""))
        if key and key not in columns:
            columns[key] = index
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise Invalid("the first row must name the columns",
                      {"file": [f"missing column {f}" for f in missing]})
    return columns


def _records(rows, max_rows):
    """[(row number, {field: value})] of the data rows (blank rows skipped)."""
    header = next(rows, None)
    if header is None:
        raise Invalid("the file has no rows", {"file": ["no rows"]})
    columns = _columns(header)
    records = []
    for number, values in enumerate(rows, start=2):
        cells = {k: values[i] if i < len(values) else None for k, i in columns.items()}
        if not any(_text(v) for v in cells.values()):
            continue
        records.append((number, {"commodity": _text(cells["commodity"]),
                                 "unit": _text(cells.get("unit")),
                                 "market": _text(cells["market"]),
                                 "area_code": _text(cells["area_code"]),
                                 "observed_on": _day(cells["observed_on"]),
                                 "price": _price(cells["price"])}))
        if len(records) > max_rows:
            raise Invalid("too many rows", {"file": [f"at most {max_rows} rows"]})
    return records


def _xlsx_rows(data, max_rows):
    """The records of the first sheet of an .xlsx."""
    uploads.check_xlsx(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise uploads.unreadable(".xlsx", exc) from None
    try:
        sheet = book.worksheets[0]
        return _records(iter(sheet.iter_rows(values_only=True)), max_rows)
    except Invalid:
        raise
    except Exception as exc:
        raise uploads.unreadable(".xlsx", exc) from None
    finally:
        book.close()


def _csv_rows(data, max_rows):
    """The records of a .csv (UTF-8, else GB 18030; comma, semicolon or tab separated)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise uploads.unreadable(".csv")
    if "\x00" in text:
        raise uploads.unreadable(".csv")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return _records(iter(csv.reader(io.StringIO(text), delimiter=delimiter)), max_rows)
    except csv.Error as exc:
        raise uploads.unreadable(".csv", exc) from None


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
        return _xlsx_rows(data, max_rows)
    if suffix in ("csv", "txt"):
        return _csv_rows(data, max_rows)
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
