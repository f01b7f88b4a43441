"""Spreadsheet cells from user text that stay text: no formula, whatever the text starts with.

Every .xlsx (and any future .csv) export writes its rows through here. A name or note that
starts with ``=`` would otherwise be stored as a live formula (openpyxl turns such strings into
formulas), and spreadsheet programs evaluate text starting with ``+ - @``, TAB or CR as well
(OWASP "CSV injection"). Numbers, money, dates and empty cells keep their own types.
"""

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

# The leading characters that make a spreadsheet program read a cell as a formula (OWASP),
# and LF, which a CR becomes when a workbook is read back (XML line-end normalisation).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def xlsx_cell(sheet, value):
    """A cell of ``sheet`` holding ``value``: text always as a string, never a formula."""
    if not isinstance(value, str):
        return Cell(sheet, row=1, column=1, value=value)
    # Control characters cannot be stored in the XML of a workbook (openpyxl would raise).
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = Cell(sheet, row=1, column=1, value=text)  # append() places it
    cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error otherwise
    if text.startswith(FORMULA_TRIGGERS):
        # Excel and LibreOffice keep a quote-prefixed cell as text even when it is edited.
        cell.quotePrefix = True
    return cell


def append_row(sheet, values):
    """Append one row to a worksheet (normal or write-only) through ``xlsx_cell``."""
    sheet.append([xlsx_cell(sheet, value) for value in values])


def csv_field(value):
    """A CSV field: text starting a formula gets a leading apostrophe; other values as given."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
