"""The reporting views Grafana reads (migration 0016), on SQLite and PostgreSQL: each view shows
what the work-order services, the alert engine and the snapshot job wrote, with the right figures;
the read-only role reads the views and nothing else; and the README's contract lists exactly the
views and columns the database has.

The world: tests/analytics/test_kpis.py's hand-made March 2026, plus three P1 jobs of Huaxia on
lift A1 (S1 met both clocks, S2 breached both and disputes the resolution breach, S3 still open
and not yet due), pump 1's overcurrent alert firing on 2 March, and March's snapshots written as
of 2 April.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import inspect, text

from analytics.ageing import capital_plan
from analytics.snapshots import capital_plan_rows, health_rows, kpi_snapshot_rows, write_month
from config.site import SiteConfig
from core.auth.models import Organisation, Role
from core.auth.service import Principal
from core.db import Database
from plantroom import cli, migrate
from plantroom.wiring import alert_engine
from tests.analytics.test_kpis import NOW, SH, at, build_march
from tests.workorders.test_proof import amps, overcurrent
from workorders.assets import service as assets
from workorders.contractors import service as contractors
from workorders.orders import service
from workorders.orders.models import Priority
from workorders.sla import service as sla

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Reporting views (the contract)"
END_OF_MARCH = dt.datetime(2026, 4, 1, tzinfo=SH)
ADMIN = Principal(username="admin", role=Role.admin)
#: PostgreSQL's information_schema data types, as the contract names them.
PG_TYPES = {
    "character varying": "text",
    "text": "text",
    "integer": "integer",
    "boolean": "boolean",
    "double precision": "double precision",
    "timestamp with time zone": "timestamptz",
    "date": "date",
}


@dataclass
class World:
    """The ids the tests look rows up by."""

    huaxia: int
    wo: dict[str, int]
    dispute: int


def _p1(db: Database, site: SiteConfig, firm: int, opened: str, *steps: tuple[str, str]) -> int:
    """A P1 corrective job of the firm on lift A1, under the site's SLA, moved through steps."""
    with db.session() as s:
        wo = service.create(
            s,
            title=f"P1 at {opened}",
            actor="duty",
            asset_id="lift-a1",
            priority=Priority.P1,
            contractor_id=firm,
            at=at(opened),
            now=at(opened),
        )
        wo.sla_policy = sla.choose_policy(
            site, priority="P1", contractor_id=firm, type_="corrective", session=s
        )
        sla.refresh(s, wo, now=at(opened))
        for target, when in steps:
            service.change_status(
                s, wo=wo, target=target, actor="hx1", role="admin", at=at(when), now=at(when)
            )
        return wo.id


@pytest.fixture
def world(db_both: Database, demo_site: SiteConfig) -> World:
    """The world above, in a fresh database."""
    march = build_march(db_both)
    ids = dict(march.ids)
    ids["S1"] = _p1(
        db_both,
        demo_site,
        march.huaxia,
        "03-20 10:00",
        ("acknowledged", "03-20 10:10"),
        ("resolved", "03-20 11:00"),
    )
    ids["S2"] = _p1(db_both, demo_site, march.huaxia, "03-21 10:00", ("resolved", "03-21 16:00"))
    ids["S3"] = _p1(db_both, demo_site, march.huaxia, "03-31 23:00")
    alert_engine(demo_site, db_both, overcurrent(demo_site)).process([amps(0, 30), amps(20, 31)])
    with db_both.session() as s:
        firm = s.get(Organisation, march.huaxia)
        assert firm is not None
        who = Principal(username="hx1", role=Role.contractor, organisation_id=march.huaxia)
        dispute = contractors.raise_dispute(
            s,
            site=demo_site,
            who=who,
            contractor=firm,
            month="2026-03",
            workorder_id=ids["S2"],
            clock="resolution",
            reason="the lift was locked by the tenant",
            now=NOW,
        )
        s.flush()
        write_month(s, demo_site, month="2026-03", now=NOW)
        return World(march.huaxia, ids, dispute.id)


def rows(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    """The rows of a query, as dicts."""
    with db.session() as s:
        return [dict(r) for r in s.execute(text(sql), params).mappings()]


def ts(value: Any) -> dt.datetime | None:
    """A time from a view: aware on PostgreSQL, ISO text in UTC on SQLite."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def day(value: Any) -> dt.date:
    """A date from a view: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def by(items: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """Rows by one column."""
    return {r[key]: r for r in items}


# --- the views ------------------------------------------------------------------------------------


def test_the_work_orders_view_shows_each_job_with_its_asset_firm_and_cost(
    db_both: Database, world: World
) -> None:
    wos = by(rows(db_both, "SELECT * FROM reporting_work_orders"), "id")
    assert len(wos) == len(world.wo) + 1  # and the alert's
    w2 = wos[world.wo["W2"]]
    assert (w2["title"], w2["type"], w2["status"], w2["priority"]) == (
        "job W2",
        "corrective",
        "resolved",
        "P3",
    )
    assert (bool(w2["planned"]), bool(w2["is_open"])) == (False, False)
    assert (w2["asset_id"], w2["asset_class"], w2["building_id"]) == (
        "lift-a1",
        "Elevator",
        "bldg-a",
    )
    assert (w2["asset_name"], w2["asset_name_zh"]) == ("Passenger lift A1", "A1号客梯")
    assert (w2["contractor_id"], w2["contractor_name"]) == (
        world.huaxia,
        "Huaxia Property Services",
    )
    assert ts(w2["opened_at"]) == at("03-05 09:00")
    assert ts(w2["resolved_at"]) == at("03-05 15:00")
    assert w2["cost_total"] == 700.0  # 4 h × 100 and the 300 call-out fee
    assert bool(wos[world.wo["W8"]]["planned"]) is True
    assert bool(wos[world.wo["W5"]]["is_open"]) is True
    assert wos[world.wo["W11"]]["building_id"] is None  # a job on no asset


def test_the_costs_view_has_a_row_per_line_and_sums_to_the_kpis_spend(
    db_both: Database, world: World
) -> None:
    lines = rows(db_both, "SELECT * FROM reporting_costs")
    # Labor on W1, W2, W3, W4, W8, W9; parts on W3 and W4; the call-out fee on W2.
    assert sorted(r["kind"] for r in lines) == ["labor"] * 6 + ["other"] + ["parts"] * 2
    march = [r for r in lines if at("03-01 00:00") <= (ts(r["spent_at"]) or NOW) < END_OF_MARCH]
    spend = {k: sum(r["amount"] for r in march if r["kind"] == k) for k in ("labor", "parts")}
    assert spend == {"labor": 1800.0, "parts": 1600.0}
    assert sum(r["amount"] for r in march if r["planned"]) == 640.0
    kpi = by(rows(db_both, "SELECT * FROM reporting_kpis WHERE month = '2026-03'"), "key")
    assert sum(r["amount"] for r in march) == kpi["site"]["spend_total"] == 3700.0
    part = next(r for r in lines if r["kind"] == "parts" and r["work_order_id"] == world.wo["W3"])
    assert (part["amount"], part["building_id"], part["asset_class"]) == (
        1500.0,
        "bldg-b",
        "Elevator",
    )
    assert part["contractor_name"] == "Huaxia Property Services"


def test_the_sla_view_decides_a_clock_once_it_is_met_or_breached(
    db_both: Database, world: World
) -> None:
    clocks = by(rows(db_both, "SELECT * FROM reporting_sla"), "work_order_id")
    s1, s2, s3 = (clocks[world.wo[k]] for k in ("S1", "S2", "S3"))
    # P1: respond in 30 min, resolve in 4 h, round the clock.
    assert ts(s1["response_due_at"]) == at("03-20 10:30")
    assert ts(s1["resolution_due_at"]) == at("03-20 14:00")
    assert ts(s1["response_met_at"]) == at("03-20 10:10")
    assert (bool(s1["response_on_time"]), bool(s1["resolution_on_time"])) == (True, True)
    assert (bool(s2["response_on_time"]), bool(s2["resolution_on_time"])) == (False, False)
    assert (bool(s2["response_breached"]), bool(s2["resolution_breached"])) == (True, True)
    assert (s3["response_on_time"], s3["resolution_on_time"]) == (None, None)
    assert bool(s3["is_open"]) is True
    assert s2["contractor_name"] == "Huaxia Property Services"
    assert (s2["building_id"], s2["asset_class"], s2["priority"]) == ("bldg-a", "Elevator", "P1")
    assert world.wo["W8"] not in clocks  # preventive work runs no SLA clock


def test_the_disputes_view_follows_a_dispute_to_its_decision(
    db_both: Database, demo_site: SiteConfig, world: World
) -> None:
    (raised,) = rows(db_both, "SELECT * FROM reporting_sla_disputes")
    assert raised["dispute_id"] == world.dispute
    assert (raised["contractor_id"], raised["contractor_name"]) == (
        world.huaxia,
        "Huaxia Property Services",
    )
    assert (raised["month"], day(raised["month_start"])) == ("2026-03", dt.date(2026, 3, 1))
    assert (raised["work_order_id"], raised["clock"]) == (world.wo["S2"], "resolution")
    assert (raised["status"], raised["decided_at"], raised["building_id"]) == (
        "open",
        None,
        "bldg-a",
    )
    assert ts(raised["opened_at"]) == NOW
    later = NOW + dt.timedelta(hours=3)
    with db_both.session() as s:
        firm = s.get(Organisation, world.huaxia)
        assert firm is not None
        contractors.decide_dispute(
            s,
            site=demo_site,
            who=ADMIN,
            contractor=firm,
            dispute_id=world.dispute,
            accept=False,
            note="access was given",
            now=later,
        )
    (decided,) = rows(db_both, "SELECT * FROM reporting_sla_disputes")
    assert (decided["status"], decided["decided_by"]) == ("rejected", "admin")
    assert ts(decided["decided_at"]) == later


def test_the_alerts_view_shows_a_firing_alert_and_its_work_order(
    db_both: Database, world: World
) -> None:
    (alert,) = rows(db_both, "SELECT * FROM reporting_alerts")
    assert (alert["rule_id"], alert["asset_id"], alert["state"]) == (
        "pump-overcurrent",
        "pump-1",
        "firing",
    )
    assert (alert["asset_class"], alert["building_id"], alert["ended_at"]) == (
        "Pump",
        "bldg-b",
        None,
    )
    assert ts(alert["fired_at"]) == dt.datetime(2026, 3, 2, 1, 0, 20, tzinfo=dt.UTC)
    (wo,) = rows(
        db_both, "SELECT * FROM reporting_work_orders WHERE id = :id", id=alert["work_order_id"]
    )
    assert (wo["origin"], wo["rule_id"], wo["asset_id"]) == ("alert", "pump-overcurrent", "pump-1")


def test_the_asset_health_view_reads_the_months_snapshot(db_both: Database, world: World) -> None:
    view = by(rows(db_both, "SELECT * FROM reporting_asset_health"), "asset_id")
    with db_both.session() as s:
        stored = {r.asset_id: r for r in health_rows(s, "2026-03")}
    assert set(view) == set(stored) and len(view) == 20
    for asset_id, snap in stored.items():
        row = view[asset_id]
        assert (row["month"], day(row["month_start"])) == ("2026-03", dt.date(2026, 3, 1))
        assert (row["age_ratio"], row["n_failures"], row["beta"]) == (
            snap.age_ratio,
            snap.n_failures,
            snap.beta,
        )
        assert (row["beta_lower"], row["beta_upper"], row["cost_ratio"]) == (
            snap.beta_lower,
            snap.beta_upper,
            snap.cost_ratio,
        )
        assert (row["mtbf_days"], row["mttr_hours"]) == (snap.mtbf_days, snap.mttr_hours)
        assert row["cumulative_repair_cost"] == snap.data["cost"]["repair_total"]
        assert row["replacement_cost"] == snap.data["cost"]["replacement_cost"]
        assert row["flags"] == ",".join(snap.flags)
        assert ts(row["as_of"]) == END_OF_MARCH
    lift = view["lift-a1"]
    # W1, W7, W2 and S1-S3, all corrective; W1's labor 200 and W2's 700 the repair cost.
    assert (lift["n_failures"], lift["cumulative_repair_cost"]) == (6, 900.0)
    assert (lift["asset_class"], lift["building_id"], lift["asset_name_zh"]) == (
        "Elevator",
        "bldg-a",
        "A1号客梯",
    )
    assert view["jockey-pump"]["flags"] == "past_life"


def test_the_kpi_view_splits_each_scope_key_into_its_columns(
    db_both: Database, world: World
) -> None:
    view = by(rows(db_both, "SELECT * FROM reporting_kpis WHERE month = '2026-03'"), "key")
    with db_both.session() as s:
        stored = {r.key: r for r in kpi_snapshot_rows(s, "2026-03")}
    assert set(view) == set(stored)
    site, firm = view["site"], view[f"contractor:{world.huaxia}"]
    assert (site["scope"], site["building_id"], site["contractor_id"], site["asset_class"]) == (
        "site",
        None,
        None,
        None,
    )
    b = view["building:bldg-b"]
    assert (b["scope"], b["building_id"], b["building_name"]) == (
        "building",
        "bldg-b",
        "Building B (Services Hall)",
    )
    assert (firm["scope"], firm["contractor_id"], firm["contractor_name"]) == (
        "contractor",
        world.huaxia,
        "Huaxia Property Services",
    )
    crew = view["contractor:in-house"]
    assert (crew["scope"], crew["contractor_id"], crew["contractor_name"]) == (
        "contractor",
        None,
        None,
    )
    assert (view["class:Pump"]["scope"], view["class:Pump"]["asset_class"]) == ("class", "Pump")
    assert (site["spend_labor"], site["spend_parts"], site["spend_other"]) == (
        1800.0,
        1600.0,
        300.0,
    )
    for key, row in view.items():
        snap = stored[key]
        assert row["spend_total"] == snap.spend_total
        assert row["spend_labor"] + row["spend_parts"] + row["spend_other"] == snap.spend_total
        assert (row["mttr_hours"], row["pm_compliance_percent"], row["backlog_crew_weeks"]) == (
            snap.mttr_hours,
            snap.pm_compliance_percent,
            snap.backlog_crew_weeks,
        )
        assert day(row["month_start"]) == dt.date(2026, 3, 1)


def test_the_snapshot_job_stores_the_capital_plan_of_the_month_and_rewrites_it(
    db_both: Database, demo_site: SiteConfig, world: World
) -> None:
    with db_both.session() as s:
        plan = capital_plan(s, demo_site, now=END_OF_MARCH)
        stored = capital_plan_rows(s, "2026-03")
    assert [(r.rank, r.asset_id, r.recommended_year, r.reasons) for r in stored] == [
        (i["rank"], i["asset"]["id"], i["recommended_year"], i["reasons"]) for i in plan["items"]
    ]
    view = rows(db_both, "SELECT * FROM reporting_capital_plan ORDER BY rank")
    assert [r["asset_id"] for r in view] == ["jockey-pump"]  # past its 10-year life
    jockey = view[0]
    assert (jockey["rank"], jockey["recommended_year"], jockey["reasons"]) == (1, 2029, "past_life")
    assert (jockey["cost"], jockey["criticality"], jockey["age_ratio"]) == (12500.0, "high", 1.161)
    assert (jockey["asset_class"], jockey["building_id"], day(jockey["month_start"])) == (
        "Jockey_Pump",
        "bldg-b",
        dt.date(2026, 3, 1),
    )
    with db_both.session() as s:  # retired: it leaves the plan when the month is written again
        assets.retire_asset(s, who=ADMIN, asset_id="jockey-pump")
    with db_both.session() as s:
        written = write_month(s, demo_site, month="2026-03", now=NOW)
    assert written.capital_plan == 0
    assert rows(db_both, "SELECT * FROM reporting_capital_plan") == []


# --- the read-only role -------------------------------------------------------------------------


def _admin_url() -> str:
    return os.environ.get(
        "PLANTROOM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
    )


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _ensure_grafana_role() -> None:
    """The deployment's role, made here (without login) if the cluster lacks it. Roles are the
    cluster's, not a database's, so it is left for the next run and for other sessions."""
    # DuplicateObject: another session made it meanwhile.
    with (
        psycopg.connect(_plain(_admin_url()), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.DuplicateObject),
    ):
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            "'plantroom_grafana') THEN CREATE ROLE plantroom_grafana NOLOGIN; END IF; END $$"
        )


def _as_grafana(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of sql run as plantroom_grafana in the database at url."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("SET ROLE plantroom_grafana")
        return list(conn.execute(sql))


def _views(url: str) -> list[str]:
    with psycopg.connect(_plain(url)) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.views "
                "WHERE table_schema = current_schema() AND table_name LIKE 'reporting%' "
                "ORDER BY table_name"
            )
        ]


@pytest.fixture
def grafana_role() -> None:
    """plantroom_grafana exists in the test cluster."""
    _ensure_grafana_role()


@pytest.mark.migrations
def test_a_role_there_before_migrating_reads_every_view_and_nothing_else(
    pg_url: str, grafana_role: None
) -> None:
    from alembic import command

    command.upgrade(migrate.alembic_config(pg_url), "head")  # Alembic alone: the migration grants
    views = _views(pg_url)
    assert len(views) == 8
    for view in views:
        _as_grafana(pg_url, f"SELECT * FROM {view}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_grafana(pg_url, "SELECT * FROM work_orders")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_grafana(pg_url, "INSERT INTO organisations (name, kind, active, created_at) "
                    "VALUES ('x', 'contractor', true, now())")  # fmt: skip


def test_plantroom_migrate_grants_a_role_made_after_the_database_was_migrated(
    pg_demo_url: str, grafana_role: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(_plain(pg_demo_url), autocommit=True) as conn:
        for view in _views(pg_demo_url):  # as if the role had not been there at migration
            conn.execute(f"REVOKE ALL ON {view} FROM plantroom_grafana")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_grafana(pg_demo_url, "SELECT * FROM reporting_work_orders")
    monkeypatch.setenv("PLANTROOM_DATABASE_URL", pg_demo_url)
    assert cli.main(["migrate"]) == 0
    assert _as_grafana(pg_demo_url, "SELECT count(*) FROM reporting_work_orders") == [(0,)]
    assert _as_grafana(pg_demo_url, "SELECT count(*) FROM reporting_kpis") == [(0,)]


# --- the contract ---------------------------------------------------------------------------------


def contract() -> dict[str, list[tuple[str, str]]]:
    """The views and their (column, type) as the README documents them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in readme, f"README.md has no section {HEADING!r}"
    doc = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
    views: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in doc.splitlines():
        heading = re.match(r"#+ `(reporting_\w+)`", line)
        if heading:
            current = views.setdefault(heading.group(1), [])
            continue
        cell = re.match(r"\| `(\w+)` \| ([a-z ]+?) \|", line)
        if cell and current is not None:
            current.append((cell.group(1), cell.group(2)))
    return views


def _columns(db: Database) -> dict[str, list[tuple[str, str | None]]]:
    """The reporting views and their (column, contract type) in the database (types on
    PostgreSQL only: SQLite's are not the contract)."""
    with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            names = [v for v in inspect(conn).get_view_names() if v.startswith("reporting_")]
            return {v: [(c["name"], None) for c in inspect(conn).get_columns(v)] for v in names}
        found: dict[str, list[tuple[str, str | None]]] = {}
        for view, column, type_ in conn.execute(
            text(
                "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
                "JOIN information_schema.views v ON v.table_schema = c.table_schema "
                "AND v.table_name = c.table_name WHERE c.table_schema = current_schema() "
                "AND c.table_name LIKE 'reporting%' ORDER BY c.table_name, c.ordinal_position"
            )
        ):
            found.setdefault(view, []).append((column, PG_TYPES.get(type_, type_)))
        return found


def test_the_readme_contract_lists_exactly_the_views_and_columns_the_database_has(
    db_both: Database,
) -> None:
    documented = contract()
    found = _columns(db_both)
    assert sorted(documented) == sorted(found)
    for view, columns in found.items():
        if db_both.engine.dialect.name == "postgresql":
            assert documented[view] == columns, view
        else:
            assert [c for c, _ in documented[view]] == [c for c, _ in columns], view
