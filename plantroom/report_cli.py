"""`plantroom report energy --year Y [--lang en|zh-CN] [--format xlsx|pdf|both] [--out DIR]`:
the annual public-institution energy report (analytics.reports) from the configured readings
store and database, with a progress bar on stderr; `report maintenance --month YYYY-MM` and
`report capital-plan [--years N]` with the same options, from the work-order database.

Exit 2 for what the user can fix: a year the statistics cannot answer for, a missing factor,
no font covering Chinese installed (it names the Debian package).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from analytics.reports.i18n import N_
from collectors.simulator.history import Progress, ProgressBar
from core.errors import AppError

if TYPE_CHECKING:
    from analytics.reports.document import Step

EXIT_USAGE = 2


class ReportBar(ProgressBar):
    """The history's progress bar, saying what the report is doing instead of readings."""

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, unit: str = "meter-days"
    ):
        super().__init__(stream, tty=tty, unit=unit)
        self.stage = ""

    def follow(self, step: Step) -> None:
        """Draw a report's Step (a Progress of analytics.reports.document)."""
        self.stage = step.stage
        self(Progress(step.fraction, step.done, step.elapsed))

    def line(self, p: Progress) -> str:
        """' 42.0%  reading the meters  1,234 meter-days  3.2 s'."""
        return f"{p.fraction:6.1%}  {self.stage}  {p.readings:,} {self.unit}  {p.elapsed:.1f} s"


def cmd_report_energy(args: argparse.Namespace) -> int:
    """Write the year's energy report (xlsx, pdf or both) to --out."""
    from analytics.reports.build import write_energy_report
    from analytics.reports.document import Format
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
            progress=bar.follow,
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


def _run_report(
    args: argparse.Namespace, name: str, job: Callable[..., list[Path]], unit: str, done: str
) -> int:
    """Write a report read from the work-order database (nothing is written to it): a
    progress bar on stderr, the files and the time on stdout, exit 2 for what the user can
    fix (a bad month, no font covering Chinese)."""
    from analytics.reports.document import Format
    from analytics.reports.i18n import words
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
    bar = ReportBar(sys.stderr, unit=unit)
    started = time.monotonic()
    try:
        with db.sessions() as session:
            written = job(
                session=session,
                site=site,
                lang=args.lang,
                formats=formats,
                out_dir=Path(args.out),
                now=dt.datetime.now(dt.UTC),
                progress=bar.follow,
            )
            session.rollback()  # a report reads; whatever a computation staged is dropped
    except AppError as exc:
        bar.close()
        print(f"plantroom report {name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        bar.close()
        db.dispose()
    for path in written:
        print(_("wrote {path}", path=path))
    print(_(done, seconds=_secs(started), month=getattr(args, "month", "")))
    return 0


def cmd_report_maintenance(args: argparse.Namespace) -> int:
    """Write the month's maintenance report (xlsx, pdf or both) to --out."""
    from analytics.reports.i18n import words
    from analytics.reports.maintenance import write_maintenance_report

    def job(**kw: Any) -> list[Path]:
        return write_maintenance_report(month=args.month, **kw)

    unit = words(args.lang)(ITEMS)
    return _run_report(args, "maintenance", job, unit, MAINTENANCE_DONE)


def cmd_report_capital(args: argparse.Namespace) -> int:
    """Write the capital plan (xlsx, pdf or both) to --out."""
    from analytics.reports.capital import write_capital_report
    from analytics.reports.i18n import words

    def job(**kw: Any) -> list[Path]:
        return write_capital_report(years=args.years, **kw)

    unit = words(args.lang)(ASSETS)
    return _run_report(args, "capital-plan", job, unit, CAPITAL_DONE)


MAINTENANCE_DONE = N_("{month} maintenance report in {seconds} s")
CAPITAL_DONE = N_("capital plan in {seconds} s")
#: What the bars count: the maintenance report's KPIs, contractors and assets; the plan's assets.
ITEMS = N_("items")
ASSETS = N_("assets")


def _common(p: Any) -> None:
    p.add_argument("--lang", choices=["en", "zh-CN"], default="en")
    p.add_argument("--format", choices=["xlsx", "pdf", "both"], default="both")
    p.add_argument("--out", default="reports", help="folder to write to (default ./reports/)")
    p.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
    p.add_argument("--data-dir", default=None)


def add_parsers(sub: Any) -> None:
    """`report energy|maintenance|capital-plan` under the `plantroom` command's subparsers."""
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
    m = r_sub.add_parser(
        "maintenance",
        help="the month's maintenance report: work orders, spend, SLA by contractor, the "
        "assets failing most (xlsx and PDF, English or Chinese)",
    )
    m.add_argument("--month", required=True, help="the calendar month reported, YYYY-MM")
    _common(m)
    m.set_defaults(func=cmd_report_maintenance)
    c = r_sub.add_parser(
        "capital-plan",
        help="the assets to replace in the next years, ranked with their evidence (xlsx and "
        "PDF, English or Chinese)",
    )
    c.add_argument("--years", type=int, default=5, help="the horizon in years (default 5)")
    _common(c)
    c.set_defaults(func=cmd_report_capital)
