"""The KPIs and snapshots over the demo's generated maintenance history
(plantroom.maintenance_history, 2020-01 to now): the lifts' and pumps' rising failures show in
the monthly figures, every breakdown adds up to the site's figures, and the snapshot job stores
nothing twice. The figures themselves are checked by hand in test_kpis.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from analytics import jobs
from analytics.kpis import kpis
from analytics.models import AssetHealthMonthly, KpiMonthly
from config.site import SiteConfig
from core.db import Database
from plantroom.demo import ensure_demo_users
from plantroom.maintenance_history import generate

#: Each test generates the history (about 5 s): left out of the quick loop.
pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
MONTHS = [f"{y}-{m:02d}" for y in range(2020, 2027) for m in range(1, 13)][:83]  # to 2026-11


@pytest.fixture
def history(db: Database, demo_site: SiteConfig) -> Database:
    """The demo database with the generated history."""
    ensure_demo_users(db, demo_site, first_job=False)
    generate(db, demo_site, now=NOW)
    return db


def test_the_deteriorating_classes_fail_more_often_in_the_later_years(
    history: Database, demo_site: SiteConfig
) -> None:
    failures: dict[str, list[int]] = {"Elevator": [], "Pump": []}
    with history.session() as s:
        for month in MONTHS:
            by_class = {c["class"]: c for c in kpis(s, demo_site, month=month, now=NOW)["by_class"]}
            for cls, counts in failures.items():
                counts.append(by_class[cls]["counts"]["failures"] if cls in by_class else 0)
    for cls, counts in failures.items():
        first, last = sum(counts[:24]), sum(counts[-24:])
        assert last > 2 * first, (
            f"{cls}: {first} failures in 2020-2021, {last} in the last two years"
        )


def test_every_breakdown_adds_up_to_the_sites_figures(
    history: Database, demo_site: SiteConfig
) -> None:
    with history.session() as s:
        for month in MONTHS:
            k = kpis(s, demo_site, month=month, now=NOW)
            for name in ("by_building", "by_contractor", "by_class"):
                rows = k[name]
                assert sum(r["spend"]["total"] for r in rows) == pytest.approx(k["spend"]["total"])
                assert sum(r["counts"]["failures"] for r in rows) == k["counts"]["failures"]
                assert sum(r["counts"]["pm_due"] for r in rows) == k["counts"]["pm_due"]
                assert sum(r["counts"]["labor_hours"] for r in rows) == pytest.approx(
                    k["counts"]["labor_hours"]
                )


def test_the_snapshot_job_on_the_history_stores_nothing_twice(
    history: Database, demo_site: SiteConfig
) -> None:
    first = jobs.run_snapshots(history, demo_site, now=NOW)
    assert [w.month for w in first] == ["2026-11", "2026-12"]
    jobs.run_snapshots(history, demo_site, now=NOW)
    with history.session() as s:
        kpi_rows = s.scalar(select(func.count()).select_from(KpiMonthly))
        health_rows = s.scalar(select(func.count()).select_from(AssetHealthMonthly))
    assert kpi_rows == sum(w.kpis for w in first)
    assert health_rows == sum(w.assets for w in first) == 40
