"""The simulated gas and diesel invoices of the demo's offline meters, written where the
offline meters keep their figures: `plantroom simulate --history` and the demo's first start
bill the months and quarters their period covers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from config.settings import Settings
from config.site import SiteConfig


def simulated_invoices(
    settings: Settings, site: SiteConfig[Any], start: dt.datetime, end: dt.datetime
) -> str | None:
    """`simulate --history` also bills the site's offline gas and diesel meters for the months
    and quarters the period covers, through the offline meters' service (source "simulated":
    a re-run replaces its own figures). What it wrote, or None when there is nothing to bill."""
    from zoneinfo import ZoneInfo

    from analytics.meters import meter_tree
    from analytics.offline import service as offline
    from collectors.simulator.invoices import Invoice, diesel_deliveries, gas_invoices
    from core.db import Database, utcnow
    from core.errors import AppError
    from plantroom import migrate

    tz = site.doc.site.timezone
    local = ZoneInfo(tz)
    first, last = start.astimezone(local).date(), end.astimezone(local).date()
    seed = site.doc.simulation.seed
    tree = meter_tree(site)
    bills: list[Invoice] = []
    for carrier, make in (("natural_gas", gas_invoices), ("diesel", diesel_deliveries)):
        meter = next(
            (m for m in tree if m.source == "offline" and m.kind == "quantity"
             and m.carrier == carrier),
            None,
        )  # fmt: skip
        if meter is not None:
            bills += make(meter.id, first, last, timezone=tz, seed=seed)
    now = utcnow()
    bills = [b for b in bills if b.end <= now]
    if not bills:
        return None
    url = settings.sqlalchemy_url()
    migrate.upgrade(url)
    db = Database(url)
    written, refused = 0, []
    for b in bills:
        try:
            with db.session() as s:
                offline.record_quantity(
                    s, meter=tree.get(b.meter), start=b.start, end=b.end, amount=b.amount,
                    unit=b.unit, by="simulator", source="simulated", note=b.note, now=now,
                )  # fmt: skip
            written += 1
        except AppError as exc:
            refused.append(f"{b.note}: {exc.message}")
    db.engine.dispose()
    out = f"wrote {written} simulated invoices of gas and diesel into the offline meters"
    if refused:
        out += f"; {len(refused)} refused, first: {refused[0]}"
    return out
