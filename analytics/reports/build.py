"""Write the annual energy report: the statistics of the year (analytics.statistics), then the
workbook and/or the PDF, reporting progress as it goes (most of the time is reading the meters,
so progress counts the meter-days read)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from analytics.meters import Meter, meter_tree
from analytics.reports.document import Format, Progress, Teller, render
from analytics.reports.energy import build_report
from analytics.reports.i18n import N_, words
from analytics.reports.pdf import find_font
from analytics.site import AnalyticsSite
from analytics.statistics import energy_statistics
from analytics.usage import Usage, Use

#: The share of the bar the meters' reading takes; rendering takes the rest.
READING = 0.85


class _Counting:
    """A Usage that reports the meter-days read through it (a pass-through otherwise)."""

    def __init__(self, usage: Usage, on_days: Callable[[int], None]):
        self.usage = usage
        self.on_days = on_days

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        """The wrapped usage's days, counted."""
        out = self.usage.daily(meter, first, last)
        self.on_days((last - first).days + 1)
        return out

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        """The wrapped usage's hours."""
        return self.usage.hourly(meter, start, end)

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        """The wrapped usage's daily temperatures."""
        return self.usage.temperature_daily(first, last)

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        """The wrapped usage's hourly temperatures."""
        return self.usage.temperature_hourly(start, end)


def report_name(site: AnalyticsSite, year: int, lang: str) -> str:
    """energy-report-<site>-<year>-<lang> (the files add their format)."""
    return f"energy-report-{site.doc.site.id}-{year}-{lang}"


def write_energy_report(
    site: AnalyticsSite,
    usage: Usage,
    *,
    year: int,
    lang: str,
    formats: Sequence[Format],
    out_dir: Path,
    now: dt.datetime,
    progress: Progress | None = None,
    fonts: Sequence[tuple[Path, int, str]] | None = None,
) -> list[Path]:
    """Compute the year's statistics and write the report in each format to out_dir; the
    files written (`fonts`: the PDF's candidate fonts, default pdf.CJK_FONTS). FontMissing
    before any reading when a PDF is asked for and no font covering Chinese is installed;
    BadPeriod, NoFactor as energy_statistics raises them."""
    _ = words(lang)
    if "pdf" in formats:
        find_font(fonts)
    tree = meter_tree(site)
    first = dt.date(year, 1, 1)
    days = (min(dt.date(year, 12, 31), now.date()) - first).days + 1
    expected = max(1, len(list(tree)) * max(1, days))
    tell = Teller(progress)  # its `done`: meter-days read

    def on_days(n: int) -> None:
        tell.done += n
        tell(min(READING, READING * tell.done / expected), _(READING_METERS))

    tell(0.0, _(READING_METERS))
    stats = energy_statistics(site, _Counting(usage, on_days), year=year, now=now)
    report = build_report(stats, lang=lang, generated=now.astimezone(dt.UTC))
    return render(
        report,
        formats=formats,
        out_dir=out_dir,
        stem=report_name(site, year, lang),
        tell=tell,
        start=READING,
        fonts=fonts,
    )


READING_METERS = N_("reading the meters")
