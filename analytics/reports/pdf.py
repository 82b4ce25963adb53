"""The energy report as a PDF (A4), with its charts, in a font that covers Chinese and is
embedded in the file (a subset of it), so the report reads the same on any computer.

reportlab's TTFont embeds TrueType-outline fonts only; the OpenType/CFF fonts Debian ships as
fonts-noto-cjk cannot be embedded by it. The report therefore uses the first of `CJK_FONTS`
that is installed (Debian's fonts-wqy-microhei first); without any, `FontMissing` says which
package to install instead of writing a PDF whose Chinese would be empty boxes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from analytics.reports.charts import draw
from analytics.reports.document import Report
from analytics.reports.energy import Cell, EnergyReport, Format
from analytics.reports.energy import Table as ReportTable
from analytics.reports.i18n import words
from core.errors import AppError

#: TrueType-outline fonts covering Chinese (path, index in a .ttc, the Debian package).
CJK_FONTS: tuple[tuple[Path, int, str], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0, "fonts-wqy-microhei"),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0, "fonts-wqy-zenhei"),
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0, "fonts-droid-fallback"),
)
FONT = "PlantroomCJK"
INK = colors.HexColor("#222222")
RULE = colors.HexColor("#BBBBBB")
HEAD = colors.HexColor("#E8EEF4")


class FontMissing(AppError):
    """No font that covers Chinese and can be embedded is installed."""

    status_code = 503
    error = "font_missing"


def find_font(candidates: Sequence[tuple[Path, int, str]] | None = None) -> tuple[Path, int]:
    """The first installed candidate font (default CJK_FONTS), or FontMissing naming the
    package to install."""
    candidates = CJK_FONTS if candidates is None else candidates
    for path, index, _package in candidates:
        if path.is_file():
            return path, index
    package = candidates[0][2] if candidates else "fonts-wqy-microhei"
    raise FontMissing(
        f"no font covering Chinese that a PDF can embed is installed: install the Debian "
        f"package {package} (apt-get install {package})",
        detail={"package": package},
    )


@functools.cache
def _register(path: Path, index: int) -> str:
    name = f"{FONT}-{path.stem}-{index}"
    pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    return name


def cell_text(value: Cell, fmt: Format) -> str:
    """A table cell as the PDF shows it."""
    if value is None:
        return "-"
    if isinstance(value, str) or fmt == "text":
        return str(value)
    if fmt == "pct":
        return f"{value:.1%}"
    if fmt == "int":
        return f"{value:,.0f}"
    return f"{value:,.{len(fmt) - 2}f}"


def write_pdf(
    report: EnergyReport | Report,
    path: Path,
    *,
    fonts: Sequence[tuple[Path, int, str]] | None = None,
) -> Path:
    """Write the report to `path` as a PDF and return the path."""
    font = _register(*find_font(fonts))
    _ = words(report.lang)
    styles = _styles(font)
    width = A4[0] - 30 * mm
    story: list[Flowable] = [
        Paragraph(report.title, styles["title"]),
        Paragraph(report.subtitle, styles["subtitle"]),
        Paragraph(report.generated, styles["small"]),
        Spacer(1, 4 * mm),
        _facts(report.facts, styles, width),
    ]
    for note in report.notes:
        story += [Spacer(1, 3 * mm), Paragraph(note, styles["note"])]
    tables = {t.key: t for t in report.tables}
    order = [*report.layout, *(k for k in tables if k not in report.layout)]
    for key in order:
        if key == "charts":
            for chart in report.charts:
                height = 200 if chart.kind == "stacked_bars" else 150
                if chart.kind in ("vs_reference", "bars"):
                    height = 40 + 22 * len(chart.categories)
                story += [Spacer(1, 4 * mm), draw(chart, font=font, width=width, height=height)]
            continue
        if key in tables and tables[key].rows:
            story += _table(tables[key], styles, font, width)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        author="Plantroom",
        subject=report.site,
        initialFontName=font,
        lang=report.lang,
    )

    def page(canvas: Canvas, doc_: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(15 * mm, A4[1] - 10 * mm, f"{report.site} · {report.title}")
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, _("Page {n}", n=canvas.getPageNumber()))
        canvas.restoreState()

    doc.build(story, onFirstPage=page, onLaterPages=page)
    return path


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, textColor=INK)
    return {
        "base": base,
        "label": ParagraphStyle("label", parent=base, textColor=colors.HexColor("#555555")),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=15),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12, leading=16, spaceBefore=8, keepWithNext=1
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "note": ParagraphStyle("note", parent=base, fontSize=10, leading=14, alignment=TA_LEFT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7, leading=9),
    }


def _facts(
    facts: Sequence[tuple[str, str]], styles: dict[str, ParagraphStyle], width: float
) -> Table:
    """The summary: label/value pairs, two pairs to a row."""
    label, value = styles["label"], styles["base"]
    rows: list[list[Paragraph]] = []
    for i in range(0, len(facts), 2):
        pairs = [facts[i], facts[i + 1] if i + 1 < len(facts) else ("", "")]
        rows.append([p for k, v in pairs for p in (Paragraph(k, label), Paragraph(v, value))])
    t = Table(rows, colWidths=[width * 0.2, width * 0.3, width * 0.2, width * 0.3])
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), styles["base"].fontName, 9),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


def _table(
    table: ReportTable, styles: dict[str, ParagraphStyle], font: str, width: float
) -> list[Flowable]:
    """A titled table; text columns wrap, numbers align right."""
    cell = styles["cell"]
    right = ParagraphStyle("cell_r", parent=cell, alignment=TA_RIGHT)
    head = [
        Paragraph(h, cell if fmt == "text" else right)
        for h, fmt in zip(table.header, table.formats, strict=False)
    ]
    body: list[list[object]] = []
    for row in table.rows:
        out: list[object] = []
        for value, fmt in zip(row, table.formats, strict=False):
            text = cell_text(value, fmt)
            out.append(Paragraph(text, cell) if fmt == "text" else text)
        body.append(out)
    widths = _widths(table, width, font)
    t = Table([head, *body], colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), font, 7),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for i, fmt in enumerate(table.formats):
        if fmt != "text":
            style.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
    t.setStyle(TableStyle(style))
    parts: list[Flowable] = [Paragraph(table.title, styles["h2"]), t]
    if table.note:
        parts.append(Paragraph(table.note, styles["small"]))
    # A short table stays on one page with its title; a long one splits, its header row
    # repeated, its title kept with its first rows.
    return [KeepTogether(parts)] if len(table.rows) <= 15 else parts


def _widths(table: ReportTable, width: float, font: str) -> list[float]:
    """Number columns 44-64 pt each; the text columns share the rest in proportion to what
    their longest text needs (each need capped at 45 % of the width), so they wrap rather than
    squeeze the numbers."""
    need: list[float | None] = []
    for i, fmt in enumerate(table.formats):
        if fmt != "text":
            need.append(None)
            continue
        cells = [str(r[i] or "") for r in table.rows] + [table.header[i]]
        longest = max(pdfmetrics.stringWidth(t, font, 7) for t in cells)
        # + the cell's padding (6 pt a side) and a little room, so a short name never wraps.
        need.append(min(width * 0.45, max(36.0, longest + 14)))
    texts = sum(n for n in need if n is not None)
    numbers = need.count(None)
    num_w = min(64.0, max(44.0, (width - texts) / numbers)) if numbers else 0.0
    scale = (width - num_w * numbers) / texts if texts else 0.0
    return [num_w if n is None else n * scale for n in need]
