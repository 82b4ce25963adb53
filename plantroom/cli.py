"""The `plantroom` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config.settings import Settings, warn_unread_variables
from config.site import SITES_DIR, SiteConfig
from config.yamlloc import ConfigError
from plantroom.site import load_site

if TYPE_CHECKING:
    from alerts.config import Alerting
    from alerts.rules import RuleConfig


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "site", None):
        overrides["site"] = Path(args.site)
    settings = Settings(**overrides)  # type: ignore[arg-type]
    warn_unread_variables(settings)  # a misspelt PLANTROOM_ variable, named at start
    return settings


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a site (folder or site.yaml) or a profile file."""
    return check_config(Path(args.path), now=dt.datetime.now(dt.UTC))


def check_config(path: Path, *, now: dt.datetime) -> int:
    """Print every problem of a site or profile (exit 1), or OK and any warnings (exit 0); `now`
    is when the holiday calendar's coverage is judged."""
    try:
        if path.is_file() and path.parent.name == "profiles":
            from config.site import load_profile

            load_profile(path)
            print(f"{path}: OK")
            return 0
        site = load_site(path)
    except ConfigError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} error(s)", file=sys.stderr)
        return 1
    print(
        f"{site.path}: OK - {len(list(site.assets()))} assets, {len(site.devices())} devices, "
        f"{len(site.profiles)} profiles, {len(site.doc.rules)} rules"
    )
    from workorders.sla.holiday_years import coverage_warnings

    for w in coverage_warnings(site, now=now):
        print(f"{site.path}: warning: {w}", file=sys.stderr)
    return 0


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def cmd_simulate(args: argparse.Namespace) -> int:
    """Serve the site's devices over Modbus until interrupted, or write a period's history."""
    if args.history:
        if args.port_offset or args.bind:
            print("--port-offset and --bind do not go with --history", file=sys.stderr)
            return 2
        return _simulate_history(args)
    if args.from_ or args.to or args.step or args.data_dir:
        print("--from, --to, --step and --data-dir go with --history", file=sys.stderr)
        return 2
    from collectors.simulator.server import Simulator

    site = load_site(args.site or SITES_DIR / "demo")

    async def main() -> None:
        sim = Simulator(site, port_offset=args.port_offset, bind=args.bind)
        await sim.start()
        print("Simulating", site.doc.site.name)
        print("\n".join(sim.describe()), flush=True)
        try:
            await _until_signal()
        finally:
            await sim.stop()

    asyncio.run(main())
    return 0


def _period(args: argparse.Namespace, tz: str) -> tuple[dt.datetime, dt.datetime] | None:
    """--from and --to as instants (dates without an offset in the site's time zone), or None
    after saying on stderr what is wrong with them."""
    from collectors.simulator.history import parse_instant

    option = "--from"
    try:
        start = parse_instant(args.from_, tz)
        option = "--to"
        end = parse_instant(args.to, tz)
    except ValueError as exc:
        print(f"{option}: {exc}", file=sys.stderr)
        return None
    if end <= start:
        print(
            f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})", file=sys.stderr
        )
        return None
    return start, end


def _simulate_history(args: argparse.Namespace) -> int:
    """`simulate --history`: the period's simulated readings straight into the configured store."""
    from collectors.simulator.history import (
        Progress,
        ProgressBar,
        write_history,
    )
    from collectors.sinks.embedded import EmbeddedStore
    from collectors.sinks.influx import SinkError
    from config.units import parse_duration
    from plantroom.runtime import remote_sinks

    if not (args.from_ and args.to):
        print("--history needs --from DATE and --to DATE", file=sys.stderr)
        return 2
    settings = _settings(args)
    site = load_site(settings.site)
    period = _period(args, site.doc.site.timezone)
    if period is None:
        return 2
    start, end = period
    try:
        step = None if args.step is None else parse_duration(args.step)
    except ValueError as exc:
        print(f"--step: {exc}", file=sys.stderr)
        return 2
    if step is not None and step <= 0:
        print("--step must be longer than 0 s", file=sys.stderr)
        return 2
    try:
        remote = remote_sinks(settings, site)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = EmbeddedStore(settings.data_dir / "readings.sqlite")
    sinks = [store, *remote]
    where = ", ".join([str(store.path), *(s.name for s in remote)])
    print(
        f"Simulating {site.doc.site.name}, {start.isoformat()} to {end.isoformat()}, into {where}",
        flush=True,
    )
    bar = ProgressBar(sys.stderr)
    written = 0

    def progress(p: Progress) -> None:
        nonlocal written
        written = p.readings
        bar(p)

    try:
        result = write_history(site, start, end, sinks, step=step, progress=progress)
    except SinkError as exc:
        bar.close()
        print(
            f"{exc}\nstopped after {written:,} readings; running the same period again is safe "
            "(a reading already stored is not stored twice)",
            file=sys.stderr,
        )
        return 1
    finally:
        bar.close()
        for sink in sinks:
            sink.close()
    days = (result.end - result.start) / 86400
    print(
        f"wrote {result.readings:,} readings of {len(site.devices())} devices, "
        f"{days:.4g} simulated days, in {result.seconds:.1f} s"
    )
    from plantroom.invoices import simulated_invoices

    line = simulated_invoices(settings, site, start, end)
    if line:
        print(line)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run everything in one process on the embedded default."""
    from plantroom.demo import HISTORY_DAYS, run_demo

    settings = _settings(args)
    settings.cookie_secure = False  # the demo serves plain HTTP on this machine
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(
        run_demo(
            settings,
            host=args.host,
            port=args.port,
            sim_port_offset=args.sim_port_offset,
            history_days=HISTORY_DAYS if args.history_days is None else args.history_days,
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API and tablet UI."""
    import uvicorn

    from plantroom.app import create_app
    from plantroom.httpserver import settle_heap

    app = create_app(_settings(args), background=True)
    settle_heap()
    # proxy_headers off: core.clientaddr trusts X-Forwarded-For from PLANTROOM_TRUSTED_PROXIES
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False)
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """Poll the site's devices (or its --building's) and run the alert engine until interrupted,
    or poll once."""
    if not args.once and (args.json or args.device):
        print("--json and --device go with --once", file=sys.stderr)
        return 2
    settings = _settings(args)
    whole = load_site(settings.site)
    site = whole
    if args.building:
        from config.site import UnknownBuildings

        try:
            site = whole.only_buildings(args.building)
        except UnknownBuildings as exc:
            print(f"--building: {exc}", file=sys.stderr)
            return 2
    if args.once:
        return asyncio.run(_collect_once(site, args.device, as_json=args.json))
    from collectors.leases import Lease, LeaseConflict
    from plantroom.app import prepare_database
    from plantroom.runtime import Monitoring

    # Health records of the one collector of a site keep their old, unnamed form.
    name = args.name or ("+".join(dict.fromkeys(args.building)) if args.building else None)
    db = prepare_database(settings, whole)  # the whole site's assets, whoever polls them
    lease = Lease(
        db,
        name=name or "whole site",
        devices=[ref.device.id for ref in site.devices()],
        assets=site.asset_ids,
    )
    try:
        lease.claim()
    except LeaseConflict as exc:
        print(f"refused: {exc}", file=sys.stderr)
        db.dispose()
        return 2
    lost = False

    async def main() -> None:
        nonlocal lost
        try:
            mon = Monitoring(settings, site, db, name=name, lease=lease)
        except BaseException:
            lease.release()  # it never ran: let another collector have its devices at once
            raise
        await mon.start()
        http = None
        if args.metrics_port:
            http = await _serve_metrics(mon.metrics_text, args.metrics_host, args.metrics_port)
        print(
            f"Collecting from {len(site.devices())} devices as collector {lease.holder}",
            flush=True,
        )
        try:
            waits = [
                asyncio.ensure_future(_until_signal()),
                asyncio.ensure_future(mon.lease_lost.wait()),
            ]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
            lost = mon.lease_lost.is_set()
        finally:
            # Readings first: stop and drain the monitoring, then the metrics page, which must
            # not be able to hold up the shutdown.
            await mon.stop()
            db.dispose()
            if http is not None:
                http[0].should_exit = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(http[1], 5)

    asyncio.run(main())
    return 1 if lost else 0


async def _serve_metrics(
    render: Callable[[], str], host: str, port: int
) -> tuple[Any, asyncio.Task[None]]:
    """Serve GET /metrics (Prometheus text) beside a standalone collector."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from plantroom.httpserver import EmbeddedServer

    async def endpoint(_request: object) -> PlainTextResponse:
        return PlainTextResponse(render(), media_type="text/plain; version=0.0.4")

    app = Starlette(routes=[Route("/metrics", endpoint)])
    server = EmbeddedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
            proxy_headers=False,
        )
    )
    task = asyncio.create_task(server.serve(), name="metrics-http")
    print(f"Metrics at http://{host}:{port}/metrics", flush=True)
    return server, task


async def _collect_once(site: SiteConfig, device_ids: list[str] | None, *, as_json: bool) -> int:
    """Poll each (chosen) device once; print its readings; 1 when any device failed."""
    from collectors.poller import Collector

    refs = site.devices()
    if device_ids:
        known = {r.device.id for r in refs}
        unknown = [d for d in device_ids if d not in known]
        if unknown:
            print(
                f"unknown device(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                file=sys.stderr,
            )
            return 2
        refs = [r for r in refs if r.device.id in device_ids]
    col = Collector(site, lambda _r: None, devices=refs)
    try:
        results = await asyncio.gather(*(col.poll(r.device.id) for r in refs))
    finally:
        await col.stop()
    failed = []
    for ref, readings in zip(refs, results, strict=True):
        st = col.devices[ref.device.id]
        if st.errors:
            failed.append(f"{ref.device.id}: {st.last_error}")
        for r in readings:
            ts = dt.datetime.fromtimestamp(r.ts, dt.UTC).isoformat().replace("+00:00", "Z")
            row = {
                "device": r.device,
                "point": r.point,
                "value": r.value,
                "unit": r.unit,
                "quality": str(r.quality),
                "ts": ts,
            }
            if as_json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                value = (
                    "-"
                    if r.value is None
                    else (f"{r.value:.6g}" if isinstance(r.value, float) else str(r.value))
                )
                print(f"{r.device:<20} {r.point:<22} {value:>14} {r.unit:<6} {r.quality}")
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


def cmd_import_telegraf(args: argparse.Namespace) -> int:
    """Import a Telegraf modbus configuration."""
    from config.importers.telegraf import cmd_import_telegraf as run

    return run(args)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from plantroom import migrate

    url = _settings(args).sqlalchemy_url()
    migrate.upgrade(url)
    print("database is at the latest schema")
    return 0


def cmd_sla_due(args: argparse.Namespace) -> int:
    """Print the due times of a work order opened at --opened, as the service computes them."""
    from collectors.simulator.history import parse_instant
    from workorders.sla.holiday_years import target_words
    from workorders.sla.service import UnknownContractor, due_times

    site = load_site(args.site or _settings(args).site)
    tz = site.doc.site.timezone
    try:
        opened = parse_instant(args.opened, tz)
    except ValueError as exc:
        print(f"--opened: {exc}", file=sys.stderr)
        return 2
    try:
        policy, st = due_times(
            site, opened=opened, priority=args.priority, contractor=args.contractor
        )
    except UnknownContractor as exc:
        print(exc, file=sys.stderr)
        return 2
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    clocks = {"response": st.response if st else None, "resolution": st.resolution if st else None}
    if args.json:
        print(
            json.dumps(
                {
                    which: None
                    if c is None
                    else {
                        "due": c.due_at.astimezone(zone).isoformat(timespec="seconds"),
                        "provisional": c.provisional,
                        "reason": c.reason,
                    }
                    for which, c in clocks.items()
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if policy is None:
        print(f"no SLA policy covers priority {args.priority}: no clocks run")
        return 0
    where = (
        f"business hours {', '.join(policy.hours)}, official working days"
        if policy.calendar == "business"
        else "24x7"
    )
    print(f"policy      {policy.name} ({where}, {tz})")
    print(f"opened      {opened.astimezone(zone).isoformat(timespec='seconds')}")
    for which, c in clocks.items():
        if c is None:
            print(f"{which:<11} no target")
            continue
        due = c.due_at.astimezone(zone).isoformat(timespec="seconds")
        target = target_words(c.target_seconds, policy)
        print(
            f"{which:<11} target {target}, due {due}" + (" (provisional)" if c.provisional else "")
        )
        if c.reason:
            print(f"{'':<11} provisional: {c.reason}")
    return 0


def cmd_sla_recompute(args: argparse.Namespace) -> int:
    """Recompute provisional SLA clocks (or all, --all) on the site's holiday table now."""
    from plantroom.app import prepare_database
    from workorders.sla import calendars
    from workorders.sla.holiday_years import catch_up

    settings = _settings(args)
    site = load_site(args.site or settings.site)
    calendars.install(site.doc.calendar.holidays)
    db = prepare_database(settings, site)

    def progress(i: int, n: int) -> None:
        width = 30
        done = width * i // max(n, 1)
        print(
            f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} work orders", end="", file=sys.stderr
        )
        if i == n:
            print(file=sys.stderr)

    try:
        done = catch_up(
            db, site, now=dt.datetime.now(dt.UTC), everything=args.all, progress=progress
        )
    finally:
        db.dispose()
    r = done.recomputed
    print(
        f"recomputed {r.work_orders} work order(s): {len(r.events)} warning(s) and breach(es) "
        f"recorded, {r.still_provisional} still provisional, {len(done.revisions)} reported "
        "month(s) revised"
    )
    for wo_id, e in r.events:
        print(f"  #{wo_id} {e.which} {e.kind} at {e.at.astimezone().isoformat(timespec='seconds')}")
    for rev in done.revisions:
        print(f"  scorecard {rev.month} of contractor {rev.contractor_id} revised: {rev.reason}")
    return 0


def _rules_to_run(
    args: argparse.Namespace, site: SiteConfig
) -> tuple[list[RuleConfig], Alerting | None] | None:
    """The site's rules, or the --rules-file's instead, narrowed to --rule; None after an error
    message (exit 2). Also the file's alerting section, if it has one."""
    from alerts.backtest import load_rules_file

    rules: list[RuleConfig] = list(site.doc.rules)
    alerting = None
    if args.rules_file:
        rules, alerting = load_rules_file(Path(args.rules_file))
    if args.rule:
        known = [r.id for r in rules]
        unknown = [r for r in args.rule if r not in known]
        if unknown:
            where = args.rules_file or f"site {site.path}"
            print(
                f"unknown rule(s): {', '.join(unknown)}; known in {where}: "
                f"{', '.join(known) or '(none)'}",
                file=sys.stderr,
            )
            return None
        rules = [r for r in rules if r.id in args.rule]
    return rules, alerting


def cmd_rules_list(args: argparse.Namespace) -> int:
    """Print the site's (or a rules file's) alert rules."""
    site = load_site(_settings(args).site)
    chosen = _rules_to_run(args, site)
    if chosen is None:
        return 2
    for r in chosen[0]:
        if args.json:
            row = {
                "id": r.id,
                "type": r.type,
                "severity": str(r.severity),
                "enabled": r.enabled,
                "condition": r.describe(),
                "name": r.name,
            }
            print(json.dumps(row, ensure_ascii=False))
        else:
            off = "" if r.enabled else "  (disabled)"
            print(f"{r.id:<24} {r.type:<18} {r.severity!s:<9} {r.describe()}{off}")
    return 0


def cmd_rules_backtest(args: argparse.Namespace) -> int:
    """Replay stored history through the alert engine; report what the rules would have done."""
    from collectors.simulator.history import ProgressBar
    from collectors.sinks.embedded import EmbeddedStore
    from plantroom.wiring import run_backtest

    settings = _settings(args)
    site = load_site(settings.site)
    period = _period(args, site.doc.site.timezone)
    if period is None:
        return 2
    start, end = period
    chosen = _rules_to_run(args, site)
    if chosen is None:
        return 2
    rules, alerting = chosen
    if not rules:
        print("no rules to backtest", file=sys.stderr)
        return 2
    path = settings.data_dir / "readings.sqlite"
    if not path.is_file():
        print(
            f"no stored history at {path}: point --data-dir at the collector's data directory, "
            "or write a simulated period with `plantroom simulate --history`",
            file=sys.stderr,
        )
        return 2
    print(
        f"Backtesting {len(rules)} rule(s) on {site.doc.site.name}, {start.isoformat()} to "
        f"{end.isoformat()}, readings from {path}",
        file=sys.stderr,
        flush=True,
    )
    store = EmbeddedStore(path)
    bar = ProgressBar(sys.stderr)
    # The engine logs every alert and work order, and a rule that fails to evaluate at every
    # reading; the report says it all at the end.
    engine_log = logging.getLogger("alerts.engine")
    level = engine_log.level
    if not args.verbose:
        engine_log.setLevel(logging.CRITICAL)
    try:
        result = run_backtest(site, store, start, end, rules, progress=bar, alerting=alerting)
    finally:
        engine_log.setLevel(level)
        bar.close()
        store.close()
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        for w in result.warnings:
            print(f"warning: {w}", file=sys.stderr)
    else:
        print(result.report())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="plantroom", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check-config", help="validate a site or profile")
    c.add_argument("path")
    c.set_defaults(func=cmd_check_config)

    s = sub.add_parser(
        "simulate",
        help="serve a site's devices over Modbus, or write a period of simulated history",
        description="Serve the site's devices over Modbus until interrupted. With --history, "
        "write the simulated readings of --from to --to (same dynamics and scripted faults, "
        "timed from --from) into the configured store instead: the embedded store under "
        "--data-dir, and InfluxDB when PLANTROOM_INFLUX_* configure it.",
    )
    s.add_argument(
        "--site",
        default=None,
        help="site folder or file (default: the demo site; with --history, PLANTROOM_SITE "
        "when set)",
    )
    s.add_argument("--port-offset", type=int, default=0, help="add N to every TCP port")
    s.add_argument("--bind", default=None, help="listen address instead of each device's host")
    s.add_argument("--history", action="store_true", help="write a past period instead")
    s.add_argument(
        "--from",
        dest="from_",
        metavar="DATE",
        help="with --history: first instant, e.g. 2026-01-01 or 2026-01-01T08:00; "
        "without an offset, in the site's time zone",
    )
    s.add_argument("--to", metavar="DATE", help="with --history: end of the period (excluded)")
    s.add_argument(
        "--step",
        metavar="DURATION",
        help="with --history: one reading per point every DURATION, e.g. 5m (default: the "
        "point's poll interval, but at least 60 s: at the demo's 5 s a year of the demo site "
        "is 1.5 billion readings and hours of work; at 60 s it is 122 million, 10-12 min "
        "and 3.5 GB; at 5m about 2 min and 0.7 GB)",
    )
    s.add_argument("--data-dir", default=None, help="with --history: default ./data")
    s.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="run the whole system on the embedded default")
    d.add_argument("--port", type=int, default=8080)
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--data-dir", default=None, help="default: ./data")
    d.add_argument("--site", default=None)
    d.add_argument("--sim-port-offset", type=int, default=0)
    d.add_argument(
        "--history-days",
        type=int,
        default=None,
        metavar="N",
        help="on the first start, write N days of simulated past (hourly) so that energy "
        "statistics, baselines and savings have data (default 560, about a minute; 0: none)",
    )
    d.set_defaults(func=cmd_demo)

    v = sub.add_parser("serve", help="run the API and tablet UI")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8080)
    v.add_argument("--data-dir", default=None)
    v.add_argument("--site", default=None)
    v.set_defaults(func=cmd_serve)

    k = sub.add_parser("collect", help="poll devices and evaluate alerts")
    k.add_argument("--site", "--config", dest="site", default=None, help="site folder or file")
    k.add_argument("--once", action="store_true", help="poll each device once and print")
    k.add_argument("--json", action="store_true", help="with --once: one JSON object per line")
    k.add_argument("--device", action="append", help="with --once: only this device (repeat)")
    k.add_argument("--metrics-port", type=int, default=9120, help="serve /metrics; 0: off")
    k.add_argument("--metrics-host", default="127.0.0.1")
    k.add_argument("--data-dir", default=None)
    k.add_argument(
        "--building",
        action="append",
        help="poll and evaluate alerts for this building only (repeat); one collector per "
        "building or gateway, each with its own --data-dir",
    )
    k.add_argument(
        "--name",
        default=None,
        help="this collector's name in its lease and health records (default: its buildings)",
    )
    k.set_defaults(func=cmd_collect)

    imp = sub.add_parser("import", help="import device configurations from other tools")
    imp_sub = imp.add_subparsers(dest="source", required=True)
    tg = imp_sub.add_parser(
        "telegraf",
        help="turn [[inputs.modbus]] sections into profiles "
        "and a site; unsupported options are listed",
    )
    tg.add_argument("file", help="a Telegraf configuration file (TOML)")
    tg.add_argument("--out", default="imported", help="folder for site.yaml and profiles/")
    tg.add_argument("--force", action="store_true", help="overwrite an existing site.yaml")
    tg.set_defaults(func=cmd_import_telegraf)

    r = sub.add_parser("rules", help="list the alert rules, or backtest them on stored history")
    r_sub = r.add_subparsers(dest="rules_command", required=True)
    rl = r_sub.add_parser("list", help="print each rule's id, type, severity and condition")
    rb = r_sub.add_parser(
        "backtest",
        help="replay stored history through the alert engine and report what the rules would "
        "have done",
        description="Replay the readings stored between --from and --to through the alert "
        "engine, and report the alerts and work orders the rules would have produced. The "
        "history comes from the embedded store under --data-dir (InfluxDB is not a source for "
        "backtests). The engine writes into a throwaway database that is deleted afterwards: "
        "the real one is never touched. Disabled rules are replayed too; silences are not.",
    )
    for q in (rl, rb):
        q.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
        q.add_argument(
            "--rule", action="append", metavar="ID", help="only this rule (repeat for more)"
        )
        q.add_argument(
            "--rules-file",
            metavar="PATH",
            help="a YAML file with a 'rules:' list (as in site.yaml, and optionally an "
            "'alerting:' section) to use instead of the site's rules: try a rule before it is "
            "in the site",
        )
        q.add_argument("--json", action="store_true", help="JSON instead of text")
    rl.set_defaults(func=cmd_rules_list)
    rb.add_argument(
        "--from",
        dest="from_",
        metavar="DATE",
        required=True,
        help="first instant, e.g. 2026-01-01 or 2026-01-01T08:00; without an offset, in the "
        "site's time zone",
    )
    rb.add_argument("--to", metavar="DATE", required=True, help="end of the period (excluded)")
    rb.add_argument("--data-dir", default=None, help="where readings.sqlite is (default: ./data)")
    rb.set_defaults(func=cmd_rules_backtest)

    sla = sub.add_parser("sla", help="SLA due times, and recomputing them")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True)
    due = sla_sub.add_parser(
        "due",
        help="print the due times of a work order opened at a given time",
        description="Print each SLA clock's policy, target and due time for a work order of "
        "--priority opened at --opened (and provisional, with its reason, when a holiday year "
        "it needs is unknown), from the same code the service uses.",
    )
    due.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
    due.add_argument(
        "--opened",
        required=True,
        metavar="TIME",
        help="e.g. 2026-12-31T16:00; without an offset, in the site's time zone",
    )
    due.add_argument("--priority", required=True, choices=["P1", "P2", "P3", "P4"])
    due.add_argument("--contractor", metavar="NAME", help="the contractor, as site.yaml names it")
    due.add_argument("--json", action="store_true", help="JSON instead of text")
    due.set_defaults(func=cmd_sla_due)
    rec = sla_sub.add_parser(
        "recompute",
        help="recompute provisional SLA clocks on the holiday years loaded now",
        description="Recompute the stored SLA clocks that were provisional (a holiday year "
        "nobody had loaded) on the site's holiday table now, record the warnings and breaches "
        "the real calendar says happened, at their true instants, and revise the reported "
        "scorecards this changes. The service does the same at each start.",
    )
    rec.add_argument("--site", default=None, help="site folder or file (default: PLANTROOM_SITE)")
    rec.add_argument("--data-dir", default=None)
    rec.add_argument("--all", action="store_true", help="every work order with an SLA")
    rec.set_defaults(func=cmd_sla_recompute)

    m = sub.add_parser("migrate", help="apply database migrations")
    m.add_argument("--data-dir", default=None)
    m.set_defaults(func=cmd_migrate)

    from plantroom.users_cli import add_parsers as add_account_parsers

    add_account_parsers(sub)  # users create|list|disable, tokens create|revoke|list
    from plantroom.report_cli import add_parsers as add_report_parsers

    add_report_parsers(sub)  # report energy
    from plantroom.energy_cli import add_parsers as add_energy_parsers

    add_energy_parsers(sub)  # energy rollup
    from plantroom.analytics_cli import add_parsers as add_analytics_parsers

    add_analytics_parsers(sub)  # analytics growth
    from plantroom.maintenance_history import add_parsers as add_history_parsers

    add_history_parsers(sub)  # demo-history maintenance
    from plantroom.dashboards_cli import add_parsers as add_dashboard_parsers

    add_dashboard_parsers(sub)  # dashboards build|push
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("pymodbus", "alembic", "httpx", "uvicorn.error", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.ERROR if noisy == "pymodbus" else logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
