"""Table exports for the monitor pages: one Table, written as CSV (for any tool) or XLSX (for Excel)."""
import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dispatch.timeutil import local

# The conventions every export follows (the pages show the same numbers):
# - percent values are on the 0–100 scale (92.5 means 92.5 %). CSV writes 92.5 under a "（%）" header;
#   XLSX stores the fraction 0.925 formatted 0.0%, so Excel shows 92.5% and sums and charts work.
# - hours are plain numbers: one decimal in CSV; XLSX keeps the full value, shown with one decimal.
# - datetimes are aware (or naive UTC, as the database hands them back) and are written in Asia/Shanghai;
#   XLSX gets naive local datetimes because Excel has no time zones.
# - None is an empty cell, never 0.
KINDS = ("text", "int", "percent", "hours", "datetime", "date")
UNITS = {"percent": "%", "hours": "小时"}
XLSX_FORMATS = {"int": "0", "percent": "0.0%", "hours": "0.0", "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in sheet names; their full-width look-alikes keep the title readable.
SHEET_NAME_SWAPS = str.maketrans({"[": "（", "]": "）", ":": "：", "*": "＊", "?": "？", "/": "-", "\\": "-"})
SHEET_NAME_MAX = 31
BOLD = Font(bold=True)


@dataclass
class Table:
    """A titled grid: rows of dicts under (key, 中文表头, kind) columns, with the filters and formulas behind it."""

    title: str
    columns: list
    rows: list
    filters: list = field(default_factory=list)  # (label, value) pairs, e.g. ("街道", "湛山街道")
    formulas: list = field(default_factory=list)  # sentences, e.g. "响应率 = 按时响应的工单 ÷ 应响应的工单"

    def __post_init__(self):
        for key, _, kind in self.columns:
            if kind not in KINDS:
                raise ValueError(f"column {key!r}: kind {kind!r} is not one of {', '.join(KINDS)}")

    def headers(self):
        """The header labels, each with the unit its bare numbers need."""
        return [_header(label, kind) for _, label, kind in self.columns]


def _header(label, kind):
    """A label with its unit appended, unless it already names it."""
    unit = UNITS.get(kind)
    return label if not unit or unit in label else f"{label}（{unit}）"


def neutralise(text):
    """Quote text a spreadsheet would run as a formula: residents write the descriptions."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _is_number(value):
    """True for int, float and Decimal (what SQL averages come back as), not for bool."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _missing(value):
    """True for None, NaN and infinity (a 0/0 that slipped through): each is an empty cell, never a number."""
    return value is None or (_is_number(value) and not math.isfinite(value))


def _shanghai(value):
    """A stored instant as naive Asia/Shanghai wall time."""
    return local(value).replace(tzinfo=None)


# ---- CSV ----

def _rounded(value, places):
    """value rounded half up (四舍五入, as people, Excel and the charts round), e.g. 1.25 → "1.3"."""
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def csv_cell(value, kind):
    """One CSV field: numbers as numbers, times in Shanghai, text guarded, None empty."""
    if _missing(value):
        return ""
    if kind in ("percent", "hours") and _is_number(value):
        return _rounded(value, 1)
    if kind == "int" and _is_number(value):
        return _rounded(value, 0)
    if kind == "datetime" and isinstance(value, datetime):
        return _shanghai(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_text(table):
    """The header row and the data rows; no preamble, so any tool can load it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in table.headers()])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(key), kind) for key, _, kind in table.columns])
    return out.getvalue()


def csv_response(table, filename, ascii_name=None):
    """The table as a CSV download, UTF-8 with a BOM so Excel on Windows reads the Chinese."""
    body = ("\ufeff" + csv_text(table)).encode("utf-8")
    return _attachment(body, CSV_TYPE, filename, ".csv", ascii_name)


# ---- XLSX ----

def xlsx_value(value, kind):
    """One cell's value: percent as a fraction, times as naive Shanghai datetimes, text guarded."""
    if _missing(value):
        return None
    if kind == "percent" and _is_number(value):
        return value / 100
    if isinstance(value, datetime):
        return _shanghai(value)
    if _is_number(value) or isinstance(value, date):
        return value
    # openpyxl refuses control characters; they go first, so none can hide an "=" from the guard.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def sheet_name(title, taken):
    """A sheet name Excel accepts (≤ 31 characters, none of []:*?/\\), unique among those taken."""
    base = title.translate(SHEET_NAME_SWAPS).strip().strip("'") or "Sheet"
    name, n = base[:SHEET_NAME_MAX], 2
    while name.lower() in taken:
        suffix = f"（{n}）"
        name, n = base[:SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _note(value):
    """A title, a filter's label or value, or a formula, as guarded text (a date written out as on the page)."""
    text = csv_cell(value, "datetime") if isinstance(value, date) else "" if value is None else str(value)
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))  # stripped first, so nothing hides an "="


def _write_preamble(ws, table):
    """The title, the filters applied and the formulas above the table; returns the header's row."""
    ws.append([_note(table.title)])
    ws.cell(1, 1).font = Font(bold=True, size=13)
    ws.append(["筛选条件"] + ([] if table.filters else ["无（全部数据）"]))
    ws.cell(ws.max_row, 1).font = BOLD
    for label, value in table.filters:
        ws.append([_note(label), _note(value)])
    if table.formulas:
        ws.append(["计算口径"])
        ws.cell(ws.max_row, 1).font = BOLD
        for formula in table.formulas:
            ws.append([_note(formula)])
    return ws.max_row + 2  # one empty row between the notes and the table


def _write_grid(ws, table, header_row):
    """The bold header row and the typed, formatted data rows under it."""
    for col, label in enumerate(table.headers(), 1):
        ws.cell(header_row, col, neutralise(label)).font = BOLD
    for r, row in enumerate(table.rows, header_row + 1):
        for col, (key, _, kind) in enumerate(table.columns, 1):
            cell = ws.cell(r, col, xlsx_value(row.get(key), kind))
            if kind in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[kind]


def display_width(text):
    """How many Latin character widths text takes: CJK and full-width characters count double."""
    lines = str(text).splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def _size_columns(ws, table):
    """Widen each column to its header and widest value (as CSV would show it), within reason."""
    for col, ((key, _, kind), label) in enumerate(zip(table.columns, table.headers()), 1):
        extra = 1 if kind == "percent" else 0  # the % sign Excel adds
        widest = max([display_width(label)] + [display_width(csv_cell(row.get(key), kind)) + extra
                                               for row in table.rows])
        ws.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 8), 60)


def write_sheet(ws, table):
    """Fill one worksheet: notes, then the table with a frozen header and a filter on it."""
    header_row = _write_preamble(ws, table)
    _write_grid(ws, table, header_row)
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    last = get_column_letter(max(len(table.columns), 1))
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + len(table.rows)}"
    _size_columns(ws, table)


def xlsx_bytes(tables):
    """A workbook with one sheet per table, as bytes."""
    workbook, taken = Workbook(), set()
    workbook.remove(workbook.active)
    for table in tables:
        write_sheet(workbook.create_sheet(sheet_name(table.title, taken)), table)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_response(table_or_tables, filename, ascii_name=None):
    """One table or a list of them as an XLSX download, one sheet each."""
    tables = [table_or_tables] if isinstance(table_or_tables, Table) else list(table_or_tables)
    return _attachment(xlsx_bytes(tables), XLSX_TYPE, filename, ".xlsx", ascii_name)


# ---- the download ----

def _with_extension(filename, ext):
    """The file name, ending in ext."""
    return filename if filename.lower().endswith(ext) else filename + ext


def ascii_filename(filename):
    """A plain-ASCII stand-in for clients that ignore filename* (the Chinese part dropped)."""
    stem, dot, ext = filename.rpartition(".")
    stem, ext = (stem, ext) if dot else (filename, "")
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    if plain != stem:  # something was dropped: say it is an export rather than leave a bare date
        plain = "_".join(part for part in ("export", plain) if part)
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)
    return f"{plain}.{ext}" if ext else plain


def content_disposition(filename, ascii_name=None):
    """attachment with an ASCII filename= (ascii_name when given) and the real name as RFC 5987 filename*=UTF-8''…."""
    plain = ascii_filename(ascii_name or filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _attachment(body, content_type, filename, ext, ascii_name=None):
    """A download response that no shared cache keeps (exports carry residents' words)."""
    response = Response(body, content_type=content_type)
    fallback = _with_extension(ascii_name, ext) if ascii_name else None
    response.headers["Content-Disposition"] = content_disposition(_with_extension(filename, ext), fallback)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
