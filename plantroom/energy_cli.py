"""`plantroom energy rollup --from DATE --to DATE`: backfill the energy_daily rollup
(analytics.rollup) for past local days, into the embedded store and the InfluxDB sinks the
settings configure, with a progress bar on stderr. The scheduled job (analytics.jobs) keeps
the last week up to date; this is for history (e.g. after `plantroom simulate --history`).

Exit 2 for dates that cannot be used, 1 when a store refused the rows (running the same days
again is safe).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

EXIT_USAGE = 2


def _day(text: str, option: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        print(f"{option}: {text!r} is not a date; use e.g. 2026-01-01", file=sys.stderr)
        return None


def cmd_energy_rollup(args: argparse.Namespace) -> int:
    """Roll up the local days from --from up to, not including, --to (default today)."""
    from analytics.rollup import write_rollup
    from analytics.store_usage import StoreUsage
    from collectors.simulator.history import Progress, ProgressBar
    from collectors.sinks import Sink
    from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
    from collectors.sinks.influx import SinkError
    from collectors.sinks.readers import configured_reader
    from core.db import Database
    from plantroom import migrate
    from plantroom.cli import _settings
    from plantroom.runtime import remote_sinks
    from plantroom.site import load_site

    settings = _settings(args)
    site = load_site(settings.site)
    today = dt.datetime.now(ZoneInfo(site.doc.site.timezone)).date()
    first = _day(args.from_, "--from")
    end = today if args.to is None else _day(args.to, "--to")
    if first is None or end is None:
        return EXIT_USAGE
    if end > today:
        print(
            f"--to {end} is after today ({today}): a day is rolled up once it is over",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if end <= first:
        print(f"--to ({end}) must be after --from ({first})", file=sys.stderr)
        return EXIT_USAGE
    last = end - dt.timedelta(days=1)
    try:
        remote = remote_sinks(settings, site)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    url = settings.sqlalchemy_url()
    migrate.upgrade(url)
    db = Database(url)
    reader = configured_reader(settings)
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    sinks: list[Sink] = [store, *remote]
    where = ", ".join([str(store.path), *(s.name for s in remote)])
    print(
        f"Rolling up energy_daily of {site.doc.site.name}, {first} to {last}, into {where}",
        flush=True,
    )
    bar = ProgressBar(sys.stderr)
    started = time.monotonic()

    def progress(done: int, days: int, rows: int) -> None:
        bar(Progress(done / days, rows, time.monotonic() - started))

    try:
        rows = write_rollup(
            site, StoreUsage(site, reader, db), sinks, first=first, last=last, progress=progress
        )
    except SinkError as exc:
        bar.close()
        print(f"{exc}\nrunning the same days again is safe", file=sys.stderr)
        return 1
    finally:
        bar.close()
        for sink in sinks:
            sink.close()
        reader.close()
        db.dispose()
    days = (last - first).days + 1
    print(f"wrote {rows:,} rows for {days} days in {time.monotonic() - started:.1f} s")
    return 0


def add_parsers(sub: Any) -> None:
    """`energy rollup` under the `plantroom` command's subparsers."""
    e = sub.add_parser("energy", help="energy statistics: the daily rollup for dashboards")
    e_sub = e.add_subparsers(dest="energy_command", required=True)
    r = e_sub.add_parser(
        "rollup",
        help="write measurement energy_daily (per meter and per building sub-item) for past "
        "local days",
    )
    r.add_argument("--from", dest="from_", required=True, help="first local day, e.g. 2026-01-01")
    r.add_argument(
        "--to", default=None, help="the day after the last one rolled up (default: today)"
    )
    r.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
    r.add_argument("--data-dir", default=None)
    r.set_defaults(func=cmd_energy_rollup)
