"""How the domains are joined: the alert engine raises work orders through the work orders'
intake, and a backtest replays rules over a throwaway database with the whole schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from alerts.backtest import ALL_ROWS, BacktestResult, History, WouldBeWorkOrder
from alerts.backtest import run_backtest as replay
from alerts.engine import AlertEngine
from alerts.rules import RuleConfig
from config.settings import Settings
from core.db import Database
from plantroom.app import prepare_database
from plantroom.site import Site
from workorders.intake import Intake
from workorders.orders import repository as wo_repository


def alert_engine(
    site: Site, db: Database, rules: Iterable[RuleConfig] | None = None, **options: Any
) -> AlertEngine:
    """An alert engine over db that raises the site's work orders (options: AlertEngine's)."""
    return AlertEngine(site, db, rules, intake=Intake(site), **options)


class BacktestWorkspace:
    """alerts.backtest.Workspace: a migrated SQLite file holding the site's assets, and the
    work orders the replay would have opened."""

    def __init__(self, site: Site):
        self.site = site
        # What a replay would open, not who would get it: the scratch database has no users.
        self.intake = Intake(site, assign=False)

    def database(self, folder: Path) -> Database:
        """A migrated SQLite file in folder, holding the site's assets; never the configured
        database, whatever PLANTROOM_DATABASE_URL says."""
        url = f"sqlite:///{(folder / 'backtest.db').resolve()}"
        settings = Settings(data_dir=folder, database_url=url, _env_file=None)  # type: ignore[call-arg]
        db = prepare_database(settings, self.site)
        db.dispose()

        @event.listens_for(db.engine, "connect")
        def _no_fsync(conn: Any, _record: Any) -> None:
            # Nothing here must survive a crash: skip the fsync of every state change.
            conn.execute("PRAGMA synchronous=OFF")

        return db

    def work_orders(self, session: Session) -> list[WouldBeWorkOrder]:
        """The work orders stored so far, oldest first."""
        return [
            WouldBeWorkOrder(
                id=wo.id,
                title=wo.title,
                asset_id=wo.asset_id,
                rule_id=wo.rule_id,
                priority=wo.priority,
                type=wo.type,
                opened_at=wo.created_at,
                alert_count=wo.alert_count,
            )
            for wo in reversed(wo_repository.list_(session, limit=ALL_ROWS))
        ]


def run_backtest(
    site: Site,
    store: History,
    start: float | dt.datetime,
    end: float | dt.datetime,
    rules: Iterable[RuleConfig],
    **options: Any,
) -> BacktestResult:
    """alerts.backtest.run_backtest with this program's work orders (options: its keywords)."""
    return replay(site, store, start, end, rules, workspace=BacktestWorkspace(site), **options)
