"""Importing price observations from .xlsx and .csv: all rows or none, bad rows named by
row and field, Chinese headers, GB 18030 text, re-imports that never duplicate, limits."""

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from emergency.audit.models import AuditEntry
from prices.models import PriceAlert, PriceObservation
from tests.conftest import error_of
from tests.prices.conftest import URL, day

HEADER = ["commodity", "unit", "market", "area_code", "observed_on", "price"]


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def xlsx(rows, header=HEADER):
    """An .xlsx workbook of the rows, as bytes."""
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    """A .csv of the rows."""
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def upload(client, headers, data, name):
    """POST the file to the import."""
    return client.post(f"{URL}/observations/import", headers=headers,
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def rows_for(place, prices, commodity="rice", market="测试市场"):
    """One row a day, the last yesterday."""
    return [[commodity, "kg", market, place["district"], day(len(prices) - 1 - i), p]
            for i, p in enumerate(prices)]


def test_xlsx_import_stores_every_row_and_raises_alert(client, planner, place, db):
    rows = rows_for(place, ["5.00", "5.10", "4.90", "5.00", "5.20", "5.00", "6.50"])
    response = upload(client, planner, xlsx(rows), "prices.xlsx")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rows"], body["created"], body["updated"], body["unchanged"]) == (7, 7, 0, 0)
    assert len(body["alerts"]) == 1 and body["alerts"][0]["raised"]
    assert _count(db, PriceObservation) == 7 and _count(db, PriceAlert) == 1
    assert db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "price.import")) == 1


def test_reimport_never_duplicates_and_replaces_changed_prices(client, planner, place, db):
    rows = rows_for(place, ["5.00", "5.10", "4.90"])
    assert upload(client, planner, xlsx(rows), "p.xlsx").status_code == 201
    again = upload(client, planner, xlsx(rows), "p.xlsx").get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    rows[0][5] = "5.05"
    changed = upload(client, planner, xlsx(rows), "p.xlsx").get_json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    assert _count(db, PriceObservation) == 3


def test_bad_rows_are_listed_and_nothing_is_stored(client, planner, place, db):
    rows = rows_for(place, ["5.00", "5.10", "4.90", "5.00"])
    rows[1][5] = "-3"          # row 3: price
    rows[2][0] = "黄金"         # row 4: commodity
    rows[3][3] = "000000"      # row 5: area
    rows.append(list(rows[0]))  # row 6: the same key as row 2
    response = upload(client, planner, xlsx(rows), "p.xlsx")
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert details["bad_rows"] == [3, 4, 5, 6]
    fields = {r["row"]: set(r["fields"]) for r in details["rows"]}
    assert fields == {3: {"price"}, 4: {"commodity"}, 5: {"area_code"}, 6: {"market"}}
    assert _count(db, PriceObservation) == 0


def test_chinese_headers_names_and_gb18030_csv(client, planner, place, db):
    header = ["商品", "单位", "市场", "区县代码", "日期", "价格"]
    rows = [["大米", "kg", "菜市场", "测试区", day(0).replace("-", "/"), "5.80"],
            ["猪肉", "", "菜市场", place["district"], day(0), "26.40"]]
    response = upload(client, planner, csv_bytes(rows, header, "gb18030"), "价格.csv")
    assert response.status_code == 201, response.get_json()
    stored = db.execute(select(PriceObservation.commodity, PriceObservation.area_code,
                               PriceObservation.price_fen)
                        .order_by(PriceObservation.commodity)).all()
    assert [tuple(r) for r in stored] == [("pork", place["district"], 2640),
                                          ("rice", place["district"], 580)]


def test_missing_columns_wrong_type_and_empty_file(client, planner, place):
    missing = upload(client, planner, csv_bytes([], ["commodity", "price"]), "p.csv")
    assert missing.status_code == 422 and "file" in error_of(missing)["details"]
    other = upload(client, planner, b"%PDF-1.4", "p.pdf")
    assert other.status_code == 422
    fake = upload(client, planner, b"not a zip", "p.xlsx")
    assert fake.status_code == 422 and "file" in error_of(fake)["details"]
    empty = upload(client, planner, csv_bytes([]), "p.csv")
    assert empty.status_code == 422
    none = client.post(f"{URL}/observations/import", headers=planner, data={},
                       content_type="multipart/form-data")
    assert none.status_code == 422 and "file" in error_of(none)["details"]


def test_size_and_row_limits(app, client, planner, place):
    app.config["PRICE_IMPORT_MAX_BYTES"] = 200
    rows = rows_for(place, ["5.00"] * 10)
    assert upload(client, planner, csv_bytes(rows), "p.csv").status_code == 413
    app.config["PRICE_IMPORT_MAX_BYTES"] = 1 << 20
    app.config["PRICE_IMPORT_MAX_ROWS"] = 5
    too_many = upload(client, planner, csv_bytes(rows), "p.csv")
    assert too_many.status_code == 422 and "file" in error_of(too_many)["details"]


def test_only_observers_import(client, actors, place):
    data = csv_bytes(rows_for(place, ["5.00"]))
    assert upload(client, actors.header("dispatcher"), data, "p.csv").status_code == 403
    assert upload(client, actors.header("auditor"), data, "p.csv").status_code == 403
    assert upload(client, actors.header("admin"), data, "p.csv").status_code == 201
