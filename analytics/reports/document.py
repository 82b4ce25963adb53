"""What every report shares: its content in one language (`Report`: a title, a subtitle, facts,
notes, tables and charts, and the order the PDF lays them out in), the steps of its progress,
and `render`, which writes it as a workbook and/or a PDF with the energy report's writers
(xlsx.py, pdf.py), so the maintenance and capital-plan reports look like the energy report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from analytics.reports.energy import Chart, EnergyReport, Table
from analytics.reports.i18n import N_, words

Format = Literal["xlsx", "pdf"]


@dataclass
class Report:
    """A report's content in one language; `layout` lists the table keys in the order the PDF
    shows them, "charts" standing for the charts (tables it does not name come after)."""

    lang: str
    site: str
    title: str
    subtitle: str
    generated: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    layout: tuple[str, ...] = ()
    empty: bool = False


@dataclass(frozen=True)
class Step:
    """How far a report has got: 0-1 done, what it is doing (in the report's language), how
    many things (assets, contractors) it has examined and seconds since the start."""

    fraction: float
    stage: str
    done: int
    elapsed: float


Progress = Callable[[Step], None]


class Teller:
    """Reports Steps to a Progress (or to nobody), timing from its creation; the fraction
    never goes back."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.started = time.monotonic()
        self.fraction = 0.0
        self.done = 0

    def __call__(self, fraction: float, stage: str) -> None:
        """Tell the progress: `fraction` done, doing `stage`."""
        self.fraction = max(self.fraction, min(1.0, fraction))
        if self.progress is not None:
            self.progress(Step(self.fraction, stage, self.done, time.monotonic() - self.started))


def render(
    report: Report | EnergyReport,
    *,
    formats: Sequence[Format],
    out_dir: Path,
    stem: str,
    tell: Teller,
    start: float,
    fonts: Sequence[tuple[Path, int, str]] | None = None,
) -> list[Path]:
    """Write the report as <stem>.<format> in out_dir for each format, moving the bar from
    `start` to 1; the files written."""
    from analytics.reports.pdf import write_pdf
    from analytics.reports.xlsx import write_xlsx

    _ = words(report.lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, fmt in enumerate(formats):
        tell(start + (1 - start) * i / len(formats), _(STAGES[fmt]))
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "xlsx":
            written.append(write_xlsx(report, path))
        else:
            written.append(write_pdf(report, path, fonts=fonts))
    tell(1.0, _(DONE))
    return written


DONE = N_("done")
STAGES: dict[str, str] = {"xlsx": N_("writing the workbook"), "pdf": N_("drawing the PDF")}
