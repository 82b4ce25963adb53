"""The overview's figures: counted from the work orders, the alerts, the PM work of the month
and the collectors' own health records in the readings store."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerts import repository as alerts_repository
from collectors import health as collector_health
from config.site import SiteConfig
from workorders.orders import repository as orders_repository
from workorders.orders.models import Priority
from workorders.overview import repository
from workorders.overview.schemas import (
    AlertFigures,
    BuildingFigure,
    CollectorFigures,
    CollectorHealthOut,
    DeviceHealthOut,
    Figure,
    LinkHealthOut,
    PmFigures,
    PriorityFigure,
    SinkHealthOut,
    SlaFigures,
    StalePointOut,
    WorkOrderFigures,
)
from workorders.pm import calendar as pm_calendar

WORKORDERS_API = "/api/v1/workorders"
WORKORDERS_PAGE = "/ui/workorders"
COLLECTORS_API = "/api/v1/overview/collectors"
COLLECTORS_PAGE = "/ui/collectors"


def _query(**params: str) -> str:
    return "?" + urlencode(params) if params else ""


def _wo_figure(count: int, **params: str) -> dict[str, object]:
    q = _query(**params)
    return {"count": count, "url": WORKORDERS_API + q, "page": WORKORDERS_PAGE + q}


def workorder_figures(session: Session, *, site: SiteConfig) -> WorkOrderFigures:
    """Open work orders: all, by priority and by building."""
    by_priority = repository.open_by_priority(session)
    by_building = repository.open_by_building(session)
    total = sum(by_priority.values())
    buildings = [
        BuildingFigure(
            building_id=b.id,
            name=b.name,
            name_zh=b.name_zh,
            **_wo_figure(by_building.get(b.id, 0), open="true", building=b.id),  # type: ignore[arg-type]
        )
        for b in site.doc.buildings
    ]
    known = {b.id for b in site.doc.buildings}
    # Buildings the database has and the site file no longer names, then work with none.
    for b_id, n in sorted((k, v) for k, v in by_building.items() if k is not None):
        if b_id not in known:
            buildings.append(
                BuildingFigure(
                    building_id=b_id,
                    name=b_id,
                    name_zh=None,
                    **_wo_figure(n, open="true", building=b_id),  # type: ignore[arg-type]
                )
            )
    if by_building.get(None):
        buildings.append(
            BuildingFigure(
                building_id=None,
                name=None,
                name_zh=None,
                **_wo_figure(by_building[None], open="true"),  # type: ignore[arg-type]
            )
        )
    return WorkOrderFigures(
        open=Figure(**_wo_figure(total, open="true")),  # type: ignore[arg-type]
        by_priority=[
            PriorityFigure(
                priority=p,
                **_wo_figure(by_priority.get(str(p), 0), open="true", priority=str(p)),  # type: ignore[arg-type]
            )
            for p in Priority
        ],
        by_building=buildings,
    )


def sla_figures(session: Session, *, now: dt.datetime) -> SlaFigures:
    """Open work at risk and breached, counted as the list's sla filter lists it."""

    def figure(which: str) -> Figure:
        n = orders_repository.count(session, orders_repository.ListQuery(sla=which, sla_at=now))
        return Figure(**_wo_figure(n, open="true", sla=which, sort="urgency"))  # type: ignore[arg-type]

    return SlaFigures(at_risk=figure("at_risk"), breached=figure("breached"))


def alert_figures(session: Session) -> AlertFigures:
    """Live alerts: firing, pending, and firing with nobody on it."""
    live = alerts_repository.live(session)
    firing = sum(1 for a in live if a.state == "firing")
    pending = sum(1 for a in live if a.state == "pending")
    unacked = sum(1 for a in live if a.state == "firing" and a.acknowledged_at is None)

    def figure(n: int, state: str, **extra: str) -> Figure:
        return Figure(
            count=n,
            url="/api/v1/alerts" + _query(state=state),
            page="/ui/alerts" + _query(state=state, **extra),
        )

    return AlertFigures(
        firing=figure(firing, "firing"),
        pending=figure(pending, "pending"),
        unacknowledged=figure(unacked, "firing", ack="no"),
    )


def pm_figures(session: Session, *, site: SiteConfig, now: dt.datetime) -> PmFigures:
    """PM work due this month in the site's time zone, judged as the PM calendar judges it
    (workorders/pm/calendar.py, statutory limits included): due (all but cancelled), done (on
    time or late), overdue (not done past its deadline, or never opened)."""
    tz = ZoneInfo(site.doc.site.timezone)
    label = f"{now.astimezone(tz):%Y-%m}"
    f = pm_calendar.month_calendar(session, site=site, month=label, now=now).figures
    due = f.scheduled + f.open + f.done + f.late + f.overdue + f.missed
    done = f.done + f.late
    overdue = f.overdue + f.missed

    def figure(n: int, **extra: str) -> Figure:
        return Figure(
            count=n,
            url="/api/v1/pm/calendar" + _query(month=label),
            page="/ui/pm" + _query(month=label, **extra),
        )

    return PmFigures(
        month=label, due=figure(due), done=figure(done), overdue=figure(overdue, show="overdue")
    )


def _when(ts: float | None) -> dt.datetime | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC)


def collector_figures(h: collector_health.Health) -> CollectorFigures:
    """The figures of the collectors' health."""

    def figure(n: int, show: str) -> Figure:
        return Figure(
            count=n, url=COLLECTORS_API + _query(show=show), page=COLLECTORS_PAGE + f"#{show}"
        )

    return CollectorFigures(
        reporting=h.reporting,
        stopped=h.stopped,
        reported_at=_when(h.reported_at),
        devices=len(h.devices),
        devices_quarantined=figure(sum(d.state == "quarantined" for d in h.devices), "quarantined"),
        devices_unavailable=figure(sum(d.state == "unavailable" for d in h.devices), "unavailable"),
        links=len(h.links),
        links_down=figure(sum(lk.up is False for lk in h.links), "links"),
        points=h.points,
        stale_points=figure(len(h.stale), "stale"),
        buffer_depth=figure(sum(s.buffer_depth for s in h.sinks), "sinks"),
        dropped=sum(s.dropped for s in h.sinks),
    )


def collector_lists(h: collector_health.Health) -> CollectorHealthOut:
    """The lists behind the collector figures."""
    return CollectorHealthOut(
        reporting=h.reporting,
        stopped=h.stopped,
        reported_at=_when(h.reported_at),
        interval_seconds=h.interval,
        devices=[
            DeviceHealthOut(
                id=d.id,
                asset_id=d.asset,
                link=d.link,
                state=d.state,  # type: ignore[arg-type]
                last_good_at=_when(d.last_good),
                reported_at=_when(d.reported_at),
            )
            for d in h.devices
        ],
        links=[
            LinkHealthOut(
                key=lk.key,
                up=lk.up,
                reconnects=lk.reconnects,
                errors=lk.errors,
                reported_at=_when(lk.reported_at),
            )
            for lk in h.links
        ],
        sinks=[
            SinkHealthOut(
                name=s.name,
                buffer_depth=s.buffer_depth,
                dropped=s.dropped,
                reported_at=_when(s.reported_at),
            )
            for s in h.sinks
        ],
        stale=[
            StalePointOut(
                asset_id=s.asset,
                point=s.point,
                device=s.device,
                interval_seconds=s.interval,
                last_good_at=_when(s.last_good),
            )
            for s in h.stale
        ],
        points=h.points,
    )
