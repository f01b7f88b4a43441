"""Tables people upload (.xlsx, .csv): the first row names the columns, in Chinese or
English, and every other row that is not blank is a record. No Flask here.

Each import (team rosters, training sign-in sheets, price observations) gives its own column
names (``aliases``: the header text as people write it → the field) and which fields it
needs; what it does with a record is its own. A workbook is size-checked by
``emergency.uploads.check_xlsx`` before it is opened, and opened only by openpyxl's read-only
reader (the roster, which reads 10^5 rows, opens it with calamine and hands the rows here);
a .csv is decoded as UTF-8, else GB 18030 (as Excel saves it on Chinese Windows).
"""

import contextlib
import csv
import io
import re
from datetime import date, datetime

from emergency import uploads
from emergency.errors import Invalid

_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def text(value):
    """A cell as stripped text (whole numbers without a decimal point)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def day(value):
    """A cell as a date (a date cell, or text such as 2026-03-01, 2026/3/1, 2026年3月1日 with
    an optional time after a space), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DAY.match(text(value).split(" ")[0])
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def columns(header, aliases, required=()):
    """{field: column index} of a header row; Invalid naming the missing columns.

    ``required`` is the fields every sheet needs, or a function of the fields found that
    returns those missing (for "an id, or else a name and a department").
    """
    found = {}
    for index, title in enumerate(header or ()):
        title = text(title)
        field = (aliases.get(title) or aliases.get(title.lower())
                 or aliases.get(title.replace(" ", "")))
        if field and field not in found:
            found[field] = index
    missing = required(set(found)) if callable(required) else [
        f for f in required if f not in found]
    if missing:
        raise Invalid("the first row must name the columns",
                      {"file": [f"missing column {f}" for f in missing]})
    return found


def records(rows, aliases, max_rows, required=()):
    """[(spreadsheet row number, {field: cell value})] of the rows after the header (blank
    rows skipped); Invalid for a missing column or more than ``max_rows`` records."""
    rows = iter(rows)
    header = next(rows, None)
    if header is None:
        raise Invalid("the file has no rows", {"file": ["no rows"]})
    found = columns(header, aliases, required)
    kept = []
    for number, values in enumerate(rows, start=2):
        cells = {k: values[i] if i < len(values) else None for k, i in found.items()}
        if not any(text(v) for v in cells.values()):
            continue
        kept.append((number, cells))
        if len(kept) > max_rows:
            raise Invalid("too many rows", {"file": [f"at most {max_rows} rows"]})
    return kept


@contextlib.contextmanager
def xlsx_rows(data):
    """The rows (tuples of cell values) of an .xlsx's first sheet, read by openpyxl's
    read-only reader after the size checks; a broken workbook is a 422 naming the file."""
    from openpyxl import load_workbook  # loaded by the imports only

    uploads.check_xlsx(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise uploads.unreadable(".xlsx", exc) from None
    try:
        yield sheet.iter_rows(values_only=True)
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part found while reading rows
        raise uploads.unreadable(".xlsx", exc) from None
    finally:
        book.close()


def csv_rows(data):
    """The rows of a .csv: UTF-8 (with or without BOM), else GB 18030; the separator is
    the comma, semicolon or tab the first line has most of."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise uploads.unreadable(".csv")
    if "\x00" in decoded:
        raise uploads.unreadable(".csv")
    first = decoded.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(decoded), delimiter=delimiter))
    except csv.Error as exc:
        raise uploads.unreadable(".csv", exc) from None
