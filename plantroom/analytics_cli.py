"""`plantroom analytics growth --times FILE [--end T] [--interarrival] [--json]`: the Crow-AMSAA
model and the Laplace trend test (analytics.reliability) on a failure history from elsewhere.

FILE holds one number per line (blank lines ignored; `-` reads stdin): cumulative failure times,
or with --interarrival the times between failures, in any one unit, which the output keeps.
Without --end the history is failure-terminated at the last failure; with --end T it is
time-terminated at T. Exit 2 for what the user can fix (a missing file, a line that is not a
number, fewer than 3 failures, a time the model cannot take), with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from core.errors import AppError

EXIT_USAGE = 2


class BadTimesFile(Exception):
    """The times file cannot be read as one number per line."""


def read_times(path: str) -> list[float]:
    """The numbers of a file (or stdin for '-'), one per line, blank lines skipped; a line that
    is not a finite number raises BadTimesFile naming the file and line."""
    name = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BadTimesFile(f"{name}: cannot read: {exc.strerror or exc}") from exc
    values: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        raw = line.strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise BadTimesFile(f"{name}:{number}: not a number: {raw!r}") from None
        if not math.isfinite(value):
            raise BadTimesFile(f"{name}:{number}: not a finite number: {raw!r}")
        values.append(value)
    return values


def cmd_growth(args: argparse.Namespace) -> int:
    """Fit and print (or --json) the growth model of the failure times in --times."""
    from analytics.reliability import crow_amsaa, from_interarrival

    try:
        values = read_times(args.times)
        if args.interarrival and any(v < 0 for v in values):
            raise BadTimesFile(f"{args.times}: a time between failures cannot be negative")
    except BadTimesFile as exc:
        print(f"plantroom analytics growth: {exc}", file=sys.stderr)
        return EXIT_USAGE
    times = from_interarrival(values) if args.interarrival else values
    try:
        growth = crow_amsaa(times, end=args.end)
    except AppError as exc:
        print(f"plantroom analytics growth: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(growth.as_json()))
    else:
        print(describe(growth.as_json(), end=growth.end, terminated=growth.terminated))
    return 0


def describe(g: dict[str, Any], *, end: float, terminated: str) -> str:
    """The human-readable report of a Growth.as_json()."""
    n = g["n"]
    t = _num(end)
    if terminated == "failure":
        observed = f"failure-terminated at the last failure, T = {t}"
        laplace_of = f"the first {n - 1} failures against T"
    else:
        observed = f"time-terminated at T = {t}"
        laplace_of = f"all {n} failures against T"
    meaning = {
        "worsening": "worsening: failures come faster (U > 1.96)",
        "improving": "improving: failures come slower (U < -1.96)",
        "no trend": "no trend at 5 % (|U| <= 1.96)",
    }[g["trend"]]
    rows = [
        ("failures n", str(n)),
        ("beta (maximum likelihood)", _num(g["beta"])),
        ("beta (unbiased)", _num(g["beta_unbiased"])),
        ("beta, Crow 90 % bounds", f"{_num(g['beta_lower'])} to {_num(g['beta_upper'])}"),
        ("lambda", _num(g["lambda"])),
        ("MTBF at T, instantaneous", _num(g["mtbf_instantaneous"])),
        ("MTBF at T, cumulative", _num(g["mtbf_cumulative"])),
        ("cumulative failure intensity at T", _num(g["intensity_cumulative"])),
        (
            "  90 % Fisher-matrix bounds",
            f"{_num(g['intensity_cumulative_lower'])} to {_num(g['intensity_cumulative_upper'])}",
        ),
        (f"Laplace U ({laplace_of})", _num(g["laplace_u"])),
        ("trend", meaning),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"Crow-AMSAA (power-law NHPP), {observed}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:.6g}"


def cmd_snapshots(args: argparse.Namespace) -> int:
    """Write the monthly asset-health, KPI and capital-plan snapshots of past months."""
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    from analytics.jobs import backfill_snapshots
    from analytics.snapshots import month_range
    from collectors.simulator.history import Progress, ProgressBar
    from plantroom.app import prepare_database
    from plantroom.cli import _settings
    from plantroom.site import load_site
    from workorders.contractors.scorecard import BadMonth, parse_month

    settings = _settings(args)
    site = load_site(settings.site)
    tz = ZoneInfo(site.doc.site.timezone)
    months: list[str] | None = None
    if args.to and not args.from_:
        print("plantroom analytics snapshots: --to needs --from", file=sys.stderr)
        return EXIT_USAGE
    if args.from_:
        try:
            first = parse_month(args.from_, tz, dt.datetime.now(dt.UTC))
            last = parse_month(args.to, tz, dt.datetime.now(dt.UTC)) if args.to else first
        except BadMonth as exc:
            print(f"plantroom analytics snapshots: {exc.message}", file=sys.stderr)
            return EXIT_USAGE
        if last < first:
            print("plantroom analytics snapshots: --to is before --from", file=sys.stderr)
            return EXIT_USAGE
        months = month_range(first, last)
    db = prepare_database(settings, site)
    bar = ProgressBar(sys.stderr, unit="months")
    started = time.monotonic()

    def progress(done: int, total: int, month: str) -> None:
        bar(Progress(done / total, done, time.monotonic() - started))

    try:
        written = backfill_snapshots(
            db, site, now=dt.datetime.now(dt.UTC), months=months, progress=progress
        )
    finally:
        bar.close()
        db.dispose()
    if not written:
        print("No months to write: the database holds no work orders yet.")
        return 0
    print(
        f"Snapshots of {len(written)} months written ({written[0].month} to "
        f"{written[-1].month}) in {time.monotonic() - started:.1f} s"
    )
    return 0


def add_parsers(sub: Any) -> None:
    """`analytics growth` under the `plantroom` command's subparsers."""
    a = sub.add_parser(
        "analytics", help="reliability statistics of failure histories; monthly snapshots"
    )
    a_sub = a.add_subparsers(dest="analytics_command", required=True)
    g = a_sub.add_parser(
        "growth",
        help="Crow-AMSAA model and Laplace trend test of a list of failure times",
        description=(
            "Fit the Crow-AMSAA (power-law NHPP) model and run the Laplace trend test on "
            "failure times, one number per line, in any one unit (the output uses the same)."
        ),
    )
    g.add_argument(
        "--times", required=True, metavar="FILE", help="one failure time per line ('-': stdin)"
    )
    g.add_argument(
        "--end",
        type=float,
        default=None,
        metavar="T",
        help="time-terminated at T (default: failure-terminated at the last failure)",
    )
    g.add_argument(
        "--interarrival",
        action="store_true",
        help="FILE holds the times between failures, not cumulative times",
    )
    g.add_argument("--json", action="store_true", help="print one JSON object")
    g.set_defaults(func=cmd_growth)
    n = a_sub.add_parser(
        "snapshots",
        help="write the monthly asset-health, KPI and capital-plan snapshots of past months",
        description=(
            "Write (or rewrite) the monthly snapshots the dashboards read, for the months given "
            "or for every month since the maintenance records began. The daily job keeps only "
            "last month and this one; run this after importing or generating a history."
        ),
    )
    n.add_argument("--from", dest="from_", metavar="YYYY-MM", help="first month")
    n.add_argument("--to", metavar="YYYY-MM", help="last month (default: --from)")
    n.add_argument("--data-dir", default=None)
    n.add_argument("--site", default=None)
    n.set_defaults(func=cmd_snapshots)
