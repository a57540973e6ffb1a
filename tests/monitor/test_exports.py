"""Monitor exports read back as a person's spreadsheet would: CSV with a BOM, XLSX through openpyxl."""
import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import unquote

import pytest
from flask import Flask
from openpyxl import load_workbook

from dispatch.monitor.exports import (Table, ascii_filename, csv_response, display_width, sheet_name,
                                      xlsx_response)

ACCEPTED = datetime(2026, 11, 20, 2, 5, tzinfo=timezone.utc)  # 10:05 in Shanghai
COLUMNS = [
    ("community", "社区", "text"),
    ("tickets", "工单数", "int"),
    ("response_rate", "响应率", "percent"),
    ("avg_hours", "平均响应时长", "hours"),
    ("first_at", "最早受理", "datetime"),
    ("day", "日期", "date"),
    ("note", "说明", "text"),
]


@pytest.fixture(autouse=True)
def clean_db():
    """Exports touch no database: the suite's per-test app context and cleanup are not needed."""
    yield


def rates(rows=None, **extra):
    """A small table of 三率 figures with awkward values."""
    rows = rows if rows is not None else [
        {"community": "八大关社区", "tickets": 12, "response_rate": 92.5, "avg_hours": 1.25,
         "first_at": ACCEPTED, "day": date(2026, 11, 20), "note": "=HYPERLINK(\"http://x\",\"点我\")"},
        {"community": "盐城路社区", "tickets": 0, "response_rate": None, "avg_hours": float("nan"),
         "first_at": None, "day": None, "note": "-1+2"},
        {"community": "福州路社区", "tickets": 3, "response_rate": Decimal("66.6667"), "avg_hours": Decimal("30"),
         "first_at": datetime(2026, 11, 19, 17, 30), "day": date(2026, 11, 21), "note": "正常文字 - 不变"},
    ]
    return Table(title="各社区三率", columns=COLUMNS, rows=rows, **extra)


@pytest.fixture
def client():
    """A tiny app whose routes return the exports, so headers are checked as a browser receives them."""
    app = Flask(__name__)
    tables = {}

    @app.get("/csv/<name>")
    def as_csv(name):
        return csv_response(tables["one"], name)

    @app.get("/xlsx/<name>")
    def as_xlsx(name):
        return xlsx_response(tables["many"], name)

    return app.test_client(), tables


def read_csv(response):
    """The rows of a CSV response, after checking and dropping its BOM."""
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8")[1:])))


def read_xlsx(response):
    """The workbook of an XLSX response."""
    return load_workbook(io.BytesIO(response.data))


def test_csv_has_a_bom_units_in_headers_and_plain_numbers(client):
    test_client, tables = client
    tables["one"] = rates()
    response = test_client.get("/csv/rates.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    header, first, empty, third = read_csv(response)
    assert header == ["社区", "工单数", "响应率（%）", "平均响应时长（小时）", "最早受理", "日期", "说明"]
    assert first[:6] == ["八大关社区", "12", "92.5", "1.3", "2026-11-20 10:05", "2026-11-20"]
    assert third[:5] == ["福州路社区", "3", "66.7", "30.0", "2026-11-20 01:30"]  # naive means UTC, as stored


def test_csv_leaves_missing_values_empty_never_zero(client):
    test_client, tables = client
    tables["one"] = rates()
    empty = read_csv(test_client.get("/csv/rates.csv"))[2]
    assert empty[:6] == ["盐城路社区", "0", "", "", "", ""]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_quotes_text_a_spreadsheet_would_run(client, text):
    test_client, tables = client
    tables["one"] = Table("t", [("note", "说明", "text"), ("n", "数", "int")], [{"note": text, "n": -3}])
    row = read_csv(test_client.get("/csv/t.csv"))[1]
    assert row == ["'" + text, "-3"]  # numbers are numbers: a negative count stays as it is


def test_csv_keeps_ordinary_text_and_a_header_that_already_names_its_unit(client):
    test_client, tables = client
    tables["one"] = Table("t", [("note", "说明", "text"), ("r", "及时率(%)", "percent")],
                          [{"note": "路灯不亮 - 已报修", "r": 100}])
    assert read_csv(test_client.get("/csv/t.csv")) == [["说明", "及时率(%)"], ["路灯不亮 - 已报修", "100.0"]]


def test_csv_rounds_half_up_as_excel_and_the_charts_do(client):
    test_client, tables = client
    tables["one"] = Table("t", [("n", "件数", "int"), ("h", "时长", "hours"), ("r", "率", "percent")],
                          [{"n": 2.5, "h": 0.15, "r": 99.95}])
    assert read_csv(test_client.get("/csv/t.csv"))[1] == ["3", "0.2", "100.0"]


def test_a_chinese_file_name_travels_in_filename_star_with_an_ascii_fallback(client):
    test_client, tables = client
    tables["one"] = rates()
    response = test_client.get("/csv/三率统计_2026-11")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="export_2026-11.csv"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded) == "三率统计_2026-11.csv"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_ascii_file_names_are_kept_and_odd_characters_dropped():
    assert ascii_filename("rates-2026-11.xlsx") == "rates-2026-11.xlsx"
    assert ascii_filename("三率.csv") == "export.csv"
    assert ascii_filename('a"b;c.csv') == "export_a_b_c.csv"


def test_xlsx_has_one_sheet_per_table_with_names_excel_accepts(client):
    test_client, tables = client
    tables["many"] = [rates(), Table("响应时长[按周]:街道/社区?", COLUMNS, []),
                      Table("各社区三率", COLUMNS, []), Table("超" * 40, COLUMNS, [])]
    response = test_client.get("/xlsx/三率")
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert unquote(response.headers["Content-Disposition"].split("''", 1)[1]) == "三率.xlsx"
    names = read_xlsx(response).sheetnames
    assert names == ["各社区三率", "响应时长（按周）：街道-社区？", "各社区三率（2）", "超" * 31]


def test_sheet_names_stay_unique_within_31_characters():
    taken = set()
    names = [sheet_name("超" * 40, taken) for _ in range(3)]
    assert len(set(names)) == 3 and all(len(name) <= 31 for name in names)


def test_xlsx_lists_the_filters_and_formulas_then_a_bold_frozen_header(client):
    test_client, tables = client
    tables["many"] = rates(filters=[("街道", "湛山街道"), ("时间", "2026-11-01 至 2026-11-30")],
                           formulas=["响应率 = 按时响应的工单 ÷ 应响应的工单"])
    sheet = read_xlsx(test_client.get("/xlsx/rates.xlsx")).active
    notes = [[c for c in row if c is not None] for row in sheet.iter_rows(max_row=7, values_only=True)]
    assert notes == [["各社区三率"], ["筛选条件"], ["街道", "湛山街道"], ["时间", "2026-11-01 至 2026-11-30"],
                     ["计算口径"], ["响应率 = 按时响应的工单 ÷ 应响应的工单"], []]
    header = [cell for cell in sheet[8]]
    assert [c.value for c in header] == ["社区", "工单数", "响应率（%）", "平均响应时长（小时）", "最早受理", "日期", "说明"]
    assert all(c.font.bold for c in header)
    assert sheet.freeze_panes == "A9"
    assert sheet.auto_filter.ref == "A8:G11"


def test_xlsx_says_when_nothing_was_filtered(client):
    test_client, tables = client
    tables["many"] = rates()
    sheet = read_xlsx(test_client.get("/xlsx/rates.xlsx")).active
    assert [sheet["A2"].value, sheet["B2"].value] == ["筛选条件", "无（全部数据）"]
    assert sheet["A4"].value == "社区" and sheet.freeze_panes == "A5"


def test_xlsx_cells_hold_real_numbers_and_local_datetimes(client):
    test_client, tables = client
    tables["many"] = rates()
    sheet = read_xlsx(test_client.get("/xlsx/rates.xlsx")).active
    first, empty, third = sheet[5], sheet[6], sheet[7]
    assert [c.value for c in first[:6]] == ["八大关社区", 12, pytest.approx(0.925), 1.25,
                                            datetime(2026, 11, 20, 10, 5), datetime(2026, 11, 20)]
    assert [c.number_format for c in first[1:6]] == ["0", "0.0%", "0.0", "yyyy-mm-dd hh:mm", "yyyy-mm-dd"]
    assert [c.value for c in empty[:6]] == ["盐城路社区", 0, None, None, None, None]
    assert third[2].value == pytest.approx(0.666667) and third[4].value == datetime(2026, 11, 20, 1, 30)


def test_xlsx_text_cannot_become_a_formula_or_break_the_file(client):
    test_client, tables = client
    tables["many"] = Table("t", [("note", "说明", "text")],
                           [{"note": "=1+1"}, {"note": "\x01=cmd|' /C calc'!A0"}, {"note": "@SUM(A1)"}],
                           filters=[("关键词", "=danger")])
    sheet = read_xlsx(test_client.get("/xlsx/t")).active
    assert sheet["B3"].value == "'=danger"
    cells = [sheet.cell(r, 1) for r in range(6, 9)]
    assert [c.value for c in cells] == ["'=1+1", "'=cmd|' /C calc'!A0", "'@SUM(A1)"]
    assert all(c.data_type == "s" for c in cells)


def test_xlsx_columns_fit_their_content_counting_chinese_double(client):
    test_client, tables = client
    tables["many"] = Table("t", [("a", "a", "text"), ("b", "b", "text")],
                           [{"a": "x" * 10, "b": "社" * 10}])
    sheet = read_xlsx(test_client.get("/xlsx/t")).active
    assert sheet.column_dimensions["A"].width == 12
    assert sheet.column_dimensions["B"].width == 22
    assert display_width("八大关 2") == 8


def test_a_column_of_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="money"):
        Table("t", [("x", "金额", "money")], [])
