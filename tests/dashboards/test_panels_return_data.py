"""Every panel of every generated dashboard runs against the real servers, InfluxDB 1.x and
PostgreSQL, with Grafana's macros expanded as Grafana expands them (dashboards.macros), over a
simulated month of the demo site at 5-minute steps and its maintenance history, and returns
data: at least one row with a value that is not null.

The data (one module-scoped fixture, built once for the 12 boards):
- InfluxDB: the demo's readings of the month at 5-minute steps with the collector's health
  records, and the energy_daily rollups of the month's days;
- PostgreSQL: the demo database, migrated, with the maintenance history up to the month's end
  and the monthly snapshots of every month of it
(plantroom.dashboard_data.load, which scripts/dashboard_pictures.py uses for its year).
Every board's variables keep their defaults ("All" buildings and asset classes). The fixture
prints how long it took (run with -s to see it).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
import pytest

from config.site import SITES_DIR
from dashboards import macros
from dashboards.build import DataSources, build_all
from dashboards.runner import InfluxTarget, PanelQueryError, panels, run_panel, runs_queries
from plantroom.dashboard_data import load
from plantroom.site import load_site
from tests.conftest import need
from tests.databases import PostgresTemplates

pytestmark = [pytest.mark.slow, pytest.mark.influx, pytest.mark.postgres]

SITE = load_site(SITES_DIR / "demo")
TZ = ZoneInfo(SITE.doc.site.timezone)
#: The simulated month, local time: October 2026, in which the demo's maintenance history has
#: corrective work orders (its failures are drawn from seeded sequences: November has none).
START = dt.datetime(2026, 10, 1, tzinfo=TZ)
END = dt.datetime(2026, 11, 1, tzinfo=TZ)
STEP_SECONDS = 300
#: Any uids: the runner sends influxdb targets to the test InfluxDB and SQL ones to PostgreSQL.
BOARDS = build_all(SITE, datasources=DataSources(influx="test-influx", sql="test-pg"))


@dataclass(frozen=True)
class Servers:
    """The filled test databases."""

    influx: InfluxTarget
    sql_url: str


def _panel_ids() -> list[tuple[str, int, str]]:
    out = []
    for path, board in BOARDS.items():
        for i, p in enumerate(panels(board)):
            if runs_queries(p):
                out.append((path, i, p.get("title", "")))
    return out


PANELS = _panel_ids()


def _influx_url() -> str:
    url = os.environ.get("PLANTROOM_TEST_INFLUX_URL", "http://127.0.0.1:18086")
    try:
        httpx.get(f"{url}/ping", timeout=3).raise_for_status()
    except httpx.HTTPError as exc:
        need("InfluxDB 1.x", f"Set PLANTROOM_TEST_INFLUX_URL ({exc.__class__.__name__}).")
    return url


@pytest.fixture(scope="module")
def servers(pg_templates: PostgresTemplates) -> Iterator[Servers]:
    """InfluxDB and PostgreSQL holding the month (see the module docstring)."""
    url = _influx_url()
    name = "plantroom_test_" + secrets.token_hex(4)
    sql_url = pg_templates.copy("demo")
    influx = InfluxTarget(url, name, timeout=120)
    try:
        t0 = time.monotonic()
        timings = load(
            SITE, influx=influx, sql_url=sql_url, start=START, end=END, step_s=STEP_SECONDS
        )
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        print(f"\n[fixture] {parts}; total {time.monotonic() - t0:.1f} s", file=sys.stderr)
        yield Servers(influx, sql_url)
    finally:
        pg_templates.drop(sql_url)
        httpx.post(f"{url}/query", params={"q": f'DROP DATABASE "{name}"'}, timeout=30)


@pytest.mark.parametrize(
    ("path", "index", "title"), PANELS, ids=[f"{p}::{t}" for p, _, t in PANELS]
)
def test_every_panel_returns_data(servers: Servers, path: str, index: int, title: str) -> None:
    board = BOARDS[path]
    panel = list(panels(board))[index]
    variables = macros.dashboard_variables(board)
    try:
        frames = run_panel(
            panel,
            start=START,
            end=END,
            variables=variables,
            influx=servers.influx,
            sql_url=servers.sql_url,
        )
    except PanelQueryError as exc:
        pytest.fail(f"{path}: {exc}", pytrace=False)
    queries = "\n".join(f"[{f.ref_id}] {f.query}" for f in frames)
    assert any(f.has_value() for f in frames), (
        f"{path}: panel {title!r} returned no row with a value\n--- queries as sent ---\n{queries}"
    )
