"""`plantroom report energy --year Y [--lang en|zh-CN] [--format xlsx|pdf|both] [--out DIR]`:
the annual public-institution energy report (analytics.reports) from the configured readings
store and database, with a progress bar on stderr.

Exit 2 for what the user can fix: a year the statistics cannot answer for, a missing factor,
no font covering Chinese installed (it names the Debian package).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from collectors.simulator.history import Progress, ProgressBar
from core.errors import AppError

EXIT_USAGE = 2


class ReportBar(ProgressBar):
    """The history's progress bar, saying what the report is doing instead of readings."""

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, unit: str = "meter-days"
    ):
        super().__init__(stream, tty=tty)
        self.stage = ""
        self.unit = unit

    def line(self, p: Progress) -> str:  # type: ignore[override]
        """' 42.0%  reading the meters  1,234 meter-days  3.2 s'."""
        return f"{p.fraction:6.1%}  {self.stage}  {p.readings:,} {self.unit}  {p.elapsed:.1f} s"


def cmd_report_energy(args: argparse.Namespace) -> int:
    """Write the year's energy report (xlsx, pdf or both) to --out."""
    from analytics.reports.build import Format, Step, write_energy_report
    from analytics.reports.i18n import words
    from analytics.store_usage import StoreUsage
    from collectors.sinks.readers import configured_reader
    from core.db import Database
    from plantroom import migrate
    from plantroom.cli import _settings
    from plantroom.site import load_site

    _ = words(args.lang)
    settings = _settings(args)
    site = load_site(settings.site)
    formats: list[Format] = ["xlsx", "pdf"] if args.format == "both" else [args.format]
    url = settings.sqlalchemy_url()
    migrate.upgrade(url)
    db = Database(url)
    reader = configured_reader(settings)
    bar = ReportBar(sys.stderr, unit=_("meter-days"))

    def progress(step: Step) -> None:
        bar.stage = step.stage
        bar(Progress(step.fraction, step.meter_days, step.elapsed))

    started = time.monotonic()
    try:
        written = write_energy_report(
            site,
            StoreUsage(site, reader, db),
            year=args.year,
            lang=args.lang,
            formats=formats,
            out_dir=Path(args.out),
            now=dt.datetime.now(dt.UTC),
            progress=progress,
        )
    except AppError as exc:
        bar.close()
        print(f"plantroom report energy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        bar.close()
        reader.close()
        db.dispose()
    for path in written:
        print(_("wrote {path}", path=path))
    print(_("{year} energy report in {seconds} s", year=args.year, seconds=_secs(started)))
    return 0


def _secs(started: float) -> str:
    return f"{time.monotonic() - started:.1f}"


def add_parsers(sub: Any) -> None:
    """`report energy` under the `plantroom` command's subparsers."""
    r = sub.add_parser("report", help="write reports")
    r_sub = r.add_subparsers(dest="report_command", required=True)
    e = r_sub.add_parser(
        "energy",
        help="the annual public-institution energy report (xlsx and PDF, English or Chinese)",
    )
    e.add_argument("--year", type=int, required=True, help="the calendar year reported")
    e.add_argument("--lang", choices=["en", "zh-CN"], default="en")
    e.add_argument("--format", choices=["xlsx", "pdf", "both"], default="both")
    e.add_argument("--out", default="reports", help="folder to write to (default ./reports/)")
    e.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
    e.add_argument("--data-dir", default=None)
    e.set_defaults(func=cmd_report_energy)
