"""The energy report's charts as reportlab drawings (vector graphics in the PDF), drawn in the
report's font so Chinese labels come out in the embedded font."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from analytics.reports.energy import Chart

#: One colour per series, in order (distinguishable in print and for common colour blindness:
#: the Okabe-Ito palette).
PALETTE = (
    colors.HexColor("#0072B2"),
    colors.HexColor("#E69F00"),
    colors.HexColor("#009E73"),
    colors.HexColor("#CC79A7"),
    colors.HexColor("#56B4E9"),
    colors.HexColor("#D55E00"),
    colors.HexColor("#F0E442"),
    colors.HexColor("#999999"),
)
GREY = colors.HexColor("#999999")


def draw(chart: Chart, *, font: str, width: float, height: float) -> Drawing:
    """The chart as a drawing of width x height points."""
    d = Drawing(width, height)
    # The renderer's starting font (Helvetica otherwise, which a PDF then names unembedded).
    d.initialFontName = font
    d.add(String(0, height - 12, chart.title, fontName=font, fontSize=10))
    if chart.kind == "stacked_bars":
        _stacked_bars(d, chart, font, width, height - 20)
    elif chart.kind == "pie":
        _pie(d, chart, font, width, height - 20)
    elif chart.kind == "bars":
        _vs_reference(d, chart, font, width, height - 20, highlight=False)
    else:
        _vs_reference(d, chart, font, width, height - 20)
    return d


def _legend(items: list[tuple[colors.Color, str]], font: str, x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName = font
    legend.fontSize = 8
    legend.alignment = "right"
    legend.boxAnchor = "nw"
    legend.columnMaximum = 10
    legend.dx = legend.dy = 8
    legend.deltay = 12
    legend.colorNamePairs = items
    return legend


def _stacked_bars(d: Drawing, chart: Chart, font: str, width: float, height: float) -> None:
    bc = VerticalBarChart()
    bc.x, bc.y = 45, 25
    bc.width, bc.height = width - 170, height - 35
    bc.data = [values for _label, values in chart.series] or [[0.0] * len(chart.categories)]
    bc.categoryAxis.categoryNames = chart.categories
    bc.categoryAxis.style = "stacked"
    bc.categoryAxis.labels.fontName = font
    bc.categoryAxis.labels.fontSize = 7
    bc.valueAxis.labels.fontName = font
    bc.valueAxis.labels.fontSize = 7
    bc.valueAxis.valueMin = 0
    if max((v for _label, vs in chart.series for v in vs), default=0.0) >= 1000:
        bc.valueAxis.labelTextFormat = "{:,.0f}".format  # 400,000 rather than 400000
    bc.valueAxis.visibleGrid = True
    bc.valueAxis.gridStrokeColor = colors.HexColor("#DDDDDD")
    bc.barSpacing = 0
    bc.groupSpacing = 4
    bc.bars.strokeColor = None
    for i in range(len(bc.data)):
        bc.bars[i].fillColor = PALETTE[i % len(PALETTE)]
    d.add(bc)
    d.add(String(0, height - 2, chart.unit, fontName=font, fontSize=7))
    d.add(
        _legend(
            [(PALETTE[i % len(PALETTE)], label) for i, (label, _v) in enumerate(chart.series)],
            font,
            width - 115,
            height - 5,
        )
    )


def _pie(d: Drawing, chart: Chart, font: str, width: float, height: float) -> None:
    values = chart.series[0][1] if chart.series else []
    total = sum(values)
    pie = Pie()
    size = min(height - 20, width / 2 - 20)
    pie.x, pie.y = 20, (height - size) / 2
    pie.width = pie.height = size
    pie.data = values if total > 0 else [1.0]
    pie.labels = [f"{v / total:.0%}" if total > 0 else "" for v in values] or [""]
    pie.slices.fontName = font
    pie.slices.fontSize = 8
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 0.5
    pie.sideLabels = False
    pie.simpleLabels = True
    pie.slices.labelRadius = 0.7
    pie.slices.fontColor = colors.white
    for i in range(len(pie.data)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)] if total > 0 else GREY
    d.add(pie)
    items = [
        (PALETTE[i % len(PALETTE)], f"{label}  {v:,.0f} {chart.unit}")
        for i, (label, v) in enumerate(zip(chart.categories, values, strict=False))
    ]
    d.add(_legend(items, font, size + 50, height - 10))


def _vs_reference(
    d: Drawing, chart: Chart, font: str, width: float, height: float, *, highlight: bool = True
) -> None:
    """Horizontal bars, the first category at the top; with `highlight` it stands out (the
    year's own value against its references), without it every bar is the same colour."""
    values = chart.series[0][1] if chart.series else []
    # The labels get the room the longest needs, up to 40 % of the width; longer ones are cut.
    room = width * 0.4
    labels = [_fit(c, font, 7, room - 8) for c in chart.categories]
    label_w = max((stringWidth(c, font, 7) for c in labels), default=0.0) + 8
    bc = HorizontalBarChart()
    bc.x, bc.y = label_w, 10
    bc.width, bc.height = width - label_w - 45, height - 20
    bc.data = [list(reversed(values))]
    bc.categoryAxis.categoryNames = list(reversed(labels))
    bc.categoryAxis.labels.fontName = font
    bc.categoryAxis.labels.fontSize = 7
    bc.categoryAxis.labels.boxAnchor = "e"
    bc.valueAxis.labels.fontName = font
    bc.valueAxis.labels.fontSize = 7
    bc.valueAxis.valueMin = 0
    if max(values, default=0.0) >= 1000:
        bc.valueAxis.labelTextFormat = "{:,.0f}".format
    bc.bars.strokeColor = None
    bc.bars[0].fillColor = GREY if highlight else PALETTE[0]
    if highlight:
        # The year's own value (the first category, drawn last from the bottom) stands out.
        bc.bars[(0, len(values) - 1)].fillColor = PALETTE[0]
    bc.barLabelFormat = "%.2f" if highlight else _short
    bc.barLabels.fontName = font
    bc.barLabels.fontSize = 7
    bc.barLabels.boxAnchor = "w"
    bc.barLabels.dx = 3
    d.add(bc)


def _fit(text: str, font: str, size: float, room: float) -> str:
    """text, cut with '…' to fit `room` points."""
    if stringWidth(text, font, size) <= room:
        return text
    while text and stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _short(value: float) -> str:
    """A bar's label: whole numbers plainly, others to 1 decimal, thousands separated."""
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
