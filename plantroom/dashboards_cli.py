"""`plantroom dashboards build [--site PATH] [--out DIR]` and
`plantroom dashboards push --url URL [--folder NAME] [--force]`.

build writes every board in English and Simplified Chinese into DIR/<lang>/<board>.json
(default dashboards/generated, which docker-compose provisions). push sends them, with their
folder and data sources, to a Grafana you already run, under uids of their own; the API token is
read from GRAFANA_TOKEN only, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from config.yamlloc import ConfigError

if TYPE_CHECKING:
    from plantroom.site import Site

EXIT_USAGE = 2


def _site(path: str | None) -> Site:
    from config.settings import Settings
    from plantroom.site import load_site

    return load_site(Path(path) if path else Settings().site)


def cmd_dashboards_build(args: argparse.Namespace) -> int:
    """Build the dashboards from the site configuration into --out."""
    from dashboards.build import GENERATED, write

    try:
        site = _site(args.site)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out) if args.out else GENERATED
    try:
        files = write(site, out)
    except OSError as exc:
        print(f"{out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Wrote {len(files)} dashboards for {site.doc.site.name} into {out}")
    for f in files:
        print(f"  {f.relative_to(out)}  ({f.stat().st_size:,} bytes)")
    return 0


def cmd_dashboards_push(args: argparse.Namespace) -> int:
    """Push the dashboards, their folder and data sources to an existing Grafana."""
    from dashboards.push import PushDataSources, push_command

    try:
        site = _site(args.site)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    from config.settings import Settings

    settings = Settings()
    return push_command(
        site,
        url=args.url,
        folder=args.folder,
        force=args.force,
        token=os.environ.get("GRAFANA_TOKEN") or None,
        datasources=PushDataSources.from_environment(settings),
        app_url=settings.public_url or "http://localhost:8080",
        out=sys.stdout,
        err=sys.stderr,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`plantroom dashboards build|push`."""
    d = sub.add_parser("dashboards", help="Grafana dashboards as code: build, push")
    d_sub = d.add_subparsers(dest="action", required=True)
    b = d_sub.add_parser(
        "build", help="build every dashboard (English and Chinese) from the site configuration"
    )
    b.add_argument("--site", default=None, help="site folder or site.yaml")
    b.add_argument("--out", default=None, help="default: dashboards/generated")
    b.set_defaults(func=cmd_dashboards_build)
    p = d_sub.add_parser(
        "push",
        help="create or update the folder, data sources and dashboards in a running Grafana "
        "(token from GRAFANA_TOKEN)",
    )
    p.add_argument("--url", required=True, help="Grafana's base URL, e.g. https://grafana.example")
    p.add_argument("--folder", default="Plantroom", help="folder name (default: Plantroom)")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite dashboards changed in Grafana since the last push",
    )
    p.add_argument("--site", default=None, help="site folder or site.yaml")
    p.set_defaults(func=cmd_dashboards_push)
