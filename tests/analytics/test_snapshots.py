"""The monthly snapshots (analytics.snapshots, migration 0015) on SQLite and PostgreSQL: a month's
rows hold the same figures as the KPI API and the asset-health JSON as of the month's end, and
writing a month again replaces its rows (one per (month, key) and (month, asset))."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import jobs
from analytics import kpi_repository as repo
from analytics.ageing import asset_health
from analytics.kpis import kpis
from analytics.models import AssetHealthMonthly, KpiMonthly
from analytics.snapshots import (
    Written,
    health_rows,
    kpi_snapshot_rows,
    months_to_write,
    write_month,
)
from config.site import SiteConfig
from core.db import Database
from plantroom.scheduler import WorkOrderServices
from tests.analytics.test_kpis import NOW, SH, build_march
from workorders.orders import costs
from workorders.orders.models import WorkOrder

END_OF_MARCH = dt.datetime(2026, 4, 1, tzinfo=SH)


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(KpiMonthly)) or 0),
            int(s.scalar(select(func.count()).select_from(AssetHealthMonthly)) or 0),
        )


def test_a_months_snapshot_holds_the_kpis_of_every_scope_and_every_assets_health(
    db_both: Database, demo_site: SiteConfig
) -> None:
    march = build_march(db_both)
    with db_both.session() as s:
        written = write_month(s, demo_site, month="2026-03", now=NOW)
    # site + 2 buildings + in-house and Huaxia + Elevator and Pump; the demo's 20 assets.
    assert (written.kpis, written.assets) == (7, 20)
    with db_both.session() as s:
        rows = {r.key: r for r in kpi_snapshot_rows(s, "2026-03")}
        figures = kpis(s, demo_site, month="2026-03", now=NOW)
        lift = asset_health(s, demo_site, asset_id="lift-a1", now=END_OF_MARCH)
        health = {r.asset_id: r for r in health_rows(s, "2026-03")}
    assert set(rows) == {
        "site",
        "building:bldg-a",
        "building:bldg-b",
        "contractor:in-house",
        f"contractor:{march.huaxia}",
        "class:Elevator",
        "class:Pump",
    }
    site = rows["site"]
    assert (site.mttr_hours, site.mtbf_days, site.recall_rate_percent) == (38.5, 155.0, 50.0)
    assert (site.spend_total, site.spend_planned, site.spend_reactive) == (3700.0, 640.0, 3060.0)
    assert site.data["counts"] == figures["counts"]
    assert rows["class:Pump"].data["spend"]["total"] == 900.0
    assert site.as_of == END_OF_MARCH
    a1 = health["lift-a1"]
    assert a1.n_failures == lift["n_failures"] == 3  # W1, W7, W2 by the end of March
    assert a1.age_ratio == lift["age"]["ratio"]
    assert a1.cost_ratio == lift["cost"]["ratio"]
    assert a1.beta == lift["growth"]["beta"]
    assert a1.flags == lift["flags"]
    assert a1.data == lift


def test_writing_a_month_again_replaces_its_rows(db_both: Database, demo_site: SiteConfig) -> None:
    build_march(db_both)
    with db_both.session() as s:
        write_month(s, demo_site, month="2026-03", now=NOW)
    before = _counts(db_both)
    with db_both.session() as s:  # a late labor line for March on the open pump job
        wo = s.scalars(select(WorkOrder).where(WorkOrder.title == "job W5")).one()
        line = costs.add_labor(s, wo=wo, worker="t1", hours=1, rate=80, actor="t1", role="admin")
        line.worked_at = dt.datetime(2026, 3, 31, 9, tzinfo=SH)
    with db_both.session() as s:
        write_month(s, demo_site, month="2026-03", now=NOW)
    assert _counts(db_both) == before == (7, 20)
    with db_both.session() as s:
        site = {r.key: r for r in kpi_snapshot_rows(s, "2026-03")}["site"]
    assert site.spend_total == 3780.0
    assert site.data["counts"]["labor_hours"] == 21.0


def test_each_run_writes_last_month_and_this_one(db: Database, demo_site: SiteConfig) -> None:
    assert months_to_write(demo_site, now=NOW) == ["2026-03", "2026-04"]
    assert months_to_write(demo_site, now=dt.datetime(2026, 1, 1, 0, 30, tzinfo=SH)) == [
        "2025-12",
        "2026-01",
    ]
    written = jobs.run_snapshots(db, demo_site, now=NOW)
    assert [w.month for w in written] == ["2026-03", "2026-04"]
    again = jobs.run_snapshots(db, demo_site, now=NOW)
    assert again == written
    assert _counts(db) == (2, 40)  # nothing happened: the site row of each month, 20 assets


def test_the_snapshot_job_is_collected_with_the_other_jobs(
    db: Database, demo_site: SiteConfig
) -> None:
    job = WorkOrderServices(db, demo_site).scheduler.get_job(jobs.SNAPSHOT_JOB_ID)
    assert job is not None
    assert str(job.trigger) == "cron[hour='1', minute='15']"
    assert str(job.trigger.timezone) == "Asia/Shanghai"


def test_a_run_that_clashes_with_another_process_writes_the_month_again(
    db: Database, demo_site: SiteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race is staged: in the first attempt the other process's rows are committed just
    after this run looked for them (its look-up answers "none"), so its insert meets the
    unique key; the second attempt finds them and writes over them."""
    real_write, real_lookup = jobs.write_month, repo.kpi_snapshot
    calls: list[str] = []

    def too_late(session: Session, month: str, key: str) -> KpiMonthly | None:
        return None

    def clashing(session: Session, site: SiteConfig, *, month: str, now: dt.datetime) -> Written:
        calls.append(month)
        if len(calls) == 1:
            with db.session() as other:
                real_write(other, site, month=month, now=now)
            monkeypatch.setattr(repo, "kpi_snapshot", too_late)
            try:
                return real_write(session, site, month=month, now=now)
            finally:
                monkeypatch.setattr(repo, "kpi_snapshot", real_lookup)
        return real_write(session, site, month=month, now=now)

    monkeypatch.setattr(jobs, "write_month", clashing)
    written = jobs.run_snapshots(db, demo_site, now=NOW)
    assert calls == ["2026-03", "2026-03", "2026-04"]
    assert [w.month for w in written] == ["2026-03", "2026-04"]
    assert _counts(db) == (2, 40)


def test_a_backfill_writes_every_month_since_the_records_began_and_can_skip_stored_ones(
    db: Database, demo_site: SiteConfig
) -> None:
    build_march(db)  # its first work order opened in February 2026; NOW is in April
    with db.session() as s:
        first = s.scalar(select(func.min(WorkOrder.created_at)))
    assert first is not None and first.astimezone(SH).strftime("%Y-%m") == "2026-02"
    progress: list[tuple[int, int, str]] = []
    written = jobs.backfill_snapshots(
        db, demo_site, now=NOW, progress=lambda *p: progress.append(p)
    )
    assert [w.month for w in written] == ["2026-02", "2026-03", "2026-04"]
    assert progress == [(1, 3, "2026-02"), (2, 3, "2026-03"), (3, 3, "2026-04")]
    later = dt.datetime(2026, 7, 10, tzinfo=SH)
    again = jobs.backfill_snapshots(db, demo_site, now=later, missing_only=True)
    # February to April are stored; May is missing; June and July are the daily job's to rewrite.
    assert [w.month for w in again] == ["2026-05", "2026-06", "2026-07"]


def test_the_snapshots_command_refuses_a_month_that_is_not_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from plantroom.cli import main

    assert main(["analytics", "snapshots", "--from", "2026-13"]) == 2
    assert "no month 13" in capsys.readouterr().err
    assert main(["analytics", "snapshots", "--to", "2026-03"]) == 2
    assert "--to needs --from" in capsys.readouterr().err
