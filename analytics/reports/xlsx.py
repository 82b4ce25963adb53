"""The energy report as an Excel workbook: a summary sheet (the report's facts and notes), then
one sheet per table (buildings, carriers, sub-items, indicators, monthly, by building, references,
factors), numbers as numbers with a display format so they can be summed and charted in Excel;
the monthly sheet has its energy by carrier as a native stacked column chart.

Text is always written as text: a name starting with '=' is not a formula.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analytics.reports.document import Report
from analytics.reports.energy import EnergyReport, Format
from analytics.reports.i18n import words

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS: dict[Format, str] = {
    "int": "#,##0",
    "0.0": "#,##0.0",
    "0.00": "#,##0.00",
    "0.000": "#,##0.000",
    "0.0000": "0.0000",
    "pct": "0.0%",
}
_HEAD = PatternFill("solid", fgColor="E8EEF4")
#: Characters Excel refuses in a sheet's name.
_BAD_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _put_text(ws: Worksheet, row: int, col: int, value: str, *, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=col, value=_text(value))
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)


def write_xlsx(report: EnergyReport | Report, path: Path) -> Path:
    """Write the report to `path` as an .xlsx workbook and return the path."""
    _ = words(report.lang)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Summary").translate(_BAD_TITLE)[:31]
    _put_text(ws, 1, 1, report.title, bold=True)
    ws["A1"].font = Font(bold=True, size=14)
    _put_text(ws, 2, 1, report.generated)
    r = 4
    for label, value in report.facts:
        _put_text(ws, r, 1, label, bold=True)
        _put_text(ws, r, 2, value)
        r += 1
    for note in report.notes:
        r += 1
        _put_text(ws, r, 1, note, bold=True)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    for table in report.tables:
        sheet = wb.create_sheet(table.title.translate(_BAD_TITLE)[:31])
        for col, title in enumerate(table.header, start=1):
            _put_text(sheet, 1, col, title, bold=True)
            sheet.cell(row=1, column=col).fill = _HEAD
            sheet.cell(row=1, column=col).alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(table.rows, start=2):
            for col, (cell, fmt) in enumerate(zip(row, table.formats, strict=False), start=1):
                if isinstance(cell, str):
                    _put_text(sheet, i, col, cell)
                elif cell is not None:
                    sheet.cell(row=i, column=col, value=cell).number_format = NUMBER_FORMATS.get(
                        fmt, "General"
                    )
        if table.note:
            _put_text(sheet, len(table.rows) + 3, 1, table.note)
        for col, fmt in enumerate(table.formats, start=1):
            wide = fmt == "text" and table.key == "factors" and col == len(table.formats)
            sheet.column_dimensions[get_column_letter(col)].width = (
                60 if wide else 24 if fmt == "text" else 14
            )
        sheet.freeze_panes = "B2"
        if table.chart_columns:
            _chart(sheet, table.chart_columns, len(table.rows), table.chart_title or table.title)
    wb.save(path)
    return path


def _chart(sheet: Worksheet, columns: tuple[int, int], rows: int, title: str) -> None:
    """A stacked column chart of `columns` (0-based, end excluded) over the table's rows,
    placed below the table."""
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = title
    chart.height, chart.width = 9, 18
    data = Reference(sheet, min_col=columns[0] + 1, max_col=columns[1], min_row=1, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    sheet.add_chart(chart, f"A{rows + 5}")
