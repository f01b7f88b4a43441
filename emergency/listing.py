"""Pieces every paged list of the pages shares: query-string numbers, LIKE patterns, the
pager's links and a one-sheet .xlsx workbook of formula-safe cells.

No Flask and no database here (core layer): a domain's list module builds its own query.
"""

import io

from emergency.exports import append_row

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50


def int_arg(text, default, lowest, highest):
    """An integer from a query string, clamped, or the default."""
    try:
        return min(max(int(text), lowest), highest)
    except (TypeError, ValueError):
        return default


def page_size(text):
    """The page size asked for when it is one the pages offer, else the default."""
    size = int_arg(text, DEFAULT_PAGE_SIZE, 1, max(PAGE_SIZES))
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def like_pattern(text):
    """A LIKE pattern (escape character ``\\``) matching ``text`` anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def page_links(total, limit, offset, window=2):
    """The pager: [(number, offset, current)] around the current page, with the first and
    last pages; None marks a gap."""
    pages = max((total + limit - 1) // limit, 1)
    current = min(offset // limit, pages - 1)
    shown = sorted({0, pages - 1, *range(max(current - window, 0),
                                         min(current + window, pages - 1) + 1)})
    links, previous = [], None
    for number in shown:
        if previous is not None and number > previous + 1:
            links.append(None)
        links.append((number + 1, number * limit, number == current))
        previous = number
    return links


def xlsx_bytes(headers, rows, sheet_name="list"):
    """A one-sheet .xlsx workbook; every text cell formula-safe (emergency.exports)."""
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    append_row(sheet, headers)
    for row in rows:
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
