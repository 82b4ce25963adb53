"""The engineer's overview API and the work-order list's `sla` filter behind two of its figures."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi.testclient import TestClient

from alerts.models import Alert
from collectors import health
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user
from workorders.orders.models import WorkOrderEvent
from workorders.sla import service as sla_service


def _ago(minutes: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()


def _raise(client: TestClient, title: str, priority: str, minutes_ago: float, **kw: Any) -> int:
    r = client.post(
        "/api/v1/workorders",
        json={"title": title, "priority": priority, "at": _ago(minutes_ago), **kw},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _sla_world(client: TestClient, db: Database) -> dict[str, int]:
    """P1 work (respond in 30 min, 24x7, warning at 80 %): one 40 minutes old (breached), one
    26 minutes old (at risk once the sweep has recorded its warning), one 5 minutes old, and
    one 40 minutes old that was responded to in time and resolved."""
    ids = {
        "breached": _raise(client, "Breached: no answer for 40 min", "P1", 40, asset_id="pump-1"),
        "at_risk": _raise(client, "At risk: 26 min without answer", "P1", 26, asset_id="b-main"),
        "fresh": _raise(client, "Fresh: 5 min old", "P1", 5, asset_id="pump-1"),
        "done": _raise(client, "Done in time", "P1", 40),
    }
    for target in ("acknowledged", "in_progress", "resolved"):
        r = client.post(f"/api/v1/workorders/{ids['done']}/status", json={"status": target})
        assert r.status_code == 200, r.text
    sla_service.sweep(db)
    return ids


def _listed(client: TestClient, **params: str) -> set[int]:
    r = client.get("/api/v1/workorders", params=params)
    assert r.status_code == 200, r.text
    return {w["id"] for w in r.json()["items"]}


def test_sla_filter_lists_breached_and_at_risk_open_work(client: TestClient, db: Database) -> None:
    ids = _sla_world(client, db)
    assert _listed(client, sla="breached") == {ids["breached"]}
    assert _listed(client, sla="at_risk") == {ids["at_risk"]}
    assert _listed(client, sla="at_risk", priority="P2") == set()
    r = client.get("/api/v1/workorders", params={"sla": "breached"})
    assert r.json()["total"] == 1
    assert client.get("/api/v1/workorders", params={"sla": "late"}).status_code == 422
    csv = client.get("/api/v1/workorders/export.csv", params={"sla": "breached"}).text
    assert "Breached: no answer" in csv and "At risk" not in csv


def test_a_withdrawn_warning_is_no_longer_at_risk(client: TestClient, db: Database) -> None:
    """A change synced late showed the warning was never crossed: its 'sla_withdrawn' entry
    takes the work order off the at-risk list (workorders/sla/service.py)."""
    ids = _sla_world(client, db)
    with db.session() as s:
        s.add(
            WorkOrderEvent(
                workorder_id=ids["at_risk"],
                kind="sla_withdrawn",
                message="withdrawn",
                data={"clock": "response", "kind": "warning"},
            )
        )
    assert _listed(client, sla="at_risk") == set()


def test_a_breach_counts_before_the_sweep_records_it(client: TestClient, db: Database) -> None:
    wo = _raise(client, "Past due, sweep not run yet", "P1", 45)
    assert _listed(client, sla="breached") == {wo}


def test_sla_filter_is_documented_in_openapi(client: TestClient) -> None:
    params = client.get("/openapi.json").json()["paths"]["/api/v1/workorders"]["get"]["parameters"]
    sla = next(p for p in params if p["name"] == "sla")
    assert "at_risk" in str(sla["schema"]) and "warn_at" in sla["description"]


def test_overview_counts_each_figure_with_the_list_behind_it(
    client: TestClient, db: Database
) -> None:
    ids = _sla_world(client, db)
    with db.session() as s:
        now = dt.datetime.now(dt.UTC)
        for i, state in enumerate(("firing", "firing", "pending")):
            s.add(
                Alert(
                    rule_id="pump-overcurrent",
                    asset_id=f"asset-{i}",
                    state=state,
                    active_key=f"pump-overcurrent:asset-{i}",
                    severity="major",
                    point="motor_current",
                    device="d",
                    started_at=now,
                    acknowledged_at=now if i == 0 else None,
                )
            )
    r = client.get("/api/v1/overview")
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["workorders"]["open"]["count"] == 3
    assert o["workorders"]["open"]["url"] == "/api/v1/workorders?open=true"
    p1 = o["workorders"]["by_priority"][0]
    assert (p1["priority"], p1["count"]) == ("P1", 3)
    assert p1["page"] == "/ui/workorders?open=true&priority=P1"
    buildings = {b["building_id"]: b for b in o["workorders"]["by_building"]}
    assert buildings["bldg-b"]["count"] == 3 and buildings["bldg-a"]["count"] == 0
    assert buildings["bldg-b"]["url"] == "/api/v1/workorders?open=true&building=bldg-b"
    assert o["sla"]["breached"]["count"] == 1 and o["sla"]["at_risk"]["count"] == 1
    assert o["sla"]["breached"]["page"] == "/ui/workorders?open=true&sla=breached&sort=urgency"
    # Every work-order figure counts exactly what its URL lists.
    figures = [o["workorders"]["open"], *o["workorders"]["by_priority"], *o["sla"].values()]
    figures += o["workorders"]["by_building"]
    for f in figures:
        got = client.get(f["url"]).json()
        assert got["total"] == f["count"], f
    assert _listed(client, open="true", sla="breached") == {ids["breached"]}
    assert o["alerts"]["firing"]["count"] == 2 and o["alerts"]["pending"]["count"] == 1
    assert o["alerts"]["unacknowledged"]["count"] == 1
    assert o["alerts"]["firing"]["page"] == "/ui/alerts?state=firing"
    assert client.get(o["alerts"]["firing"]["url"]).json()["items"][0]["state"] == "firing"
    month = o["pm"]["month"]
    assert o["pm"]["due"]["page"] == f"/ui/pm?month={month}"
    assert client.get(o["pm"]["due"]["url"]).status_code == 200
    # No collector has written to this store: nothing reports, every point is stale.
    c = o["collectors"]
    assert c["reporting"] is False and c["stale_points"]["count"] == c["points"] > 0


def test_overview_reads_collector_health_from_the_store_without_a_collector(
    client: TestClient, settings: Settings, demo_site: SiteConfig
) -> None:
    """As under `plantroom serve`: the collector ran elsewhere and left its records in the
    store the API reads."""
    now = time.time()
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    recs = [
        Reading(now - 2, health.ASSET, health.COLLECTOR, "heartbeat", 60.0, "", Quality.good,
                health.MEASUREMENT),
        Reading(now - 2, health.ASSET, "b-special-meter", "device_state", "quarantined", "",
                Quality.good, health.MEASUREMENT),
        Reading(now - 2, health.ASSET, "a-main-meter", "device_state", "ok", "", Quality.good,
                health.MEASUREMENT),
        Reading(now - 2, health.ASSET, "embedded", "sink_buffer_depth", 120, "", Quality.good,
                health.MEASUREMENT),
        Reading(now - 2, health.ASSET, "influx-v1", "sink_buffer_depth", 3000, "", Quality.good,
                health.MEASUREMENT),
        Reading(now - 2, health.ASSET, "influx-v1", "sink_dropped", 7, "", Quality.good,
                health.MEASUREMENT),
    ]  # fmt: skip
    good = [
        Reading(now - 1, asset, device, point, 1.0, "", Quality.good)
        for (asset, point), (device, _) in health.point_intervals(demo_site).items()
        if asset != "b-special"
    ]
    store.write(recs + good)
    store.close()
    o = client.get("/api/v1/overview").json()["collectors"]
    assert o["reporting"] is True
    assert o["devices_quarantined"]["count"] == 1
    assert o["devices_quarantined"]["page"] == "/ui/collectors#quarantined"
    assert o["buffer_depth"]["count"] == 3120 and o["dropped"] == 7
    stale_b = sum(1 for (a, _p) in health.point_intervals(demo_site) if a == "b-special")
    assert o["stale_points"]["count"] == stale_b > 0
    lists = client.get(o["devices_quarantined"]["url"]).json()
    assert [d["id"] for d in lists["devices"]] == ["b-special-meter"]
    stale = client.get(o["stale_points"]["url"]).json()["stale"]
    assert {s["asset_id"] for s in stale} == {"b-special"}
    sinks = client.get("/api/v1/overview/collectors", params={"show": "sinks"}).json()["sinks"]
    assert {s["name"]: s["buffer_depth"] for s in sinks} == {"embedded": 120, "influx-v1": 3000}


def test_overview_is_for_the_office_only(client: TestClient, db: Database) -> None:
    eng = make_user(db, "eng", Role.engineer)
    tech = make_user(db, "tech", Role.technician)
    reader = make_user(db, "reader", Role.admin)
    for path in ("/api/v1/overview", "/api/v1/overview/collectors"):
        assert client.get(path, headers=bearer(make_token(db, eng))).status_code == 200
        assert client.get(path, headers=bearer(make_token(db, reader, "read"))).status_code == 200
        assert client.get(path, headers=bearer(make_token(db, tech))).status_code == 403
        assert client.get(path, headers={"Authorization": ""}).status_code == 401


def test_office_roles_sign_in_to_the_overview_and_crews_to_their_work(
    client: TestClient, db: Database
) -> None:
    from tests.core.auth.accounts import sign_in

    for username, role, start in (
        ("eng", Role.engineer, "/ui/overview"),
        ("boss", Role.admin, "/ui/overview"),
        ("crew", Role.technician, "/ui/"),
        ("firm", Role.contractor, "/ui/"),
    ):
        make_user(
            db,
            username,
            role,
            password="long-enough-1",
            org="Firm" if role == "contractor" else None,
        )
        with TestClient(client.app) as ui:
            r = sign_in(ui, username, "long-enough-1", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, start), username


def test_overview_reads_collector_health_from_influxdb(
    settings: Settings, demo_site: SiteConfig, db: Database, influx_url: str, influx_db: str
) -> None:
    """With InfluxDB configured, the API reads the health records the collector wrote there
    (InfluxQL against a real InfluxDB 1.x)."""
    from collectors.sinks.influx import InfluxV1Sink
    from plantroom.app import create_app
    from tests.conftest import ADMIN_TOKEN

    now = time.time()
    sink = InfluxV1Sink(influx_url, influx_db)
    sink.ensure_database()
    sink.write(
        [
            Reading(
                now - 5,
                health.ASSET,
                health.COLLECTOR,
                "heartbeat",
                60.0,
                "",
                Quality.good,
                health.MEASUREMENT,
            ),
            Reading(
                now - 5,
                health.ASSET,
                "b-special-meter",
                "device_state",
                "quarantined",
                "",
                Quality.good,
                health.MEASUREMENT,
            ),
            Reading(
                now - 5,
                health.ASSET,
                "influx-v1",
                "sink_buffer_depth",
                42,
                "",
                Quality.good,
                health.MEASUREMENT,
            ),
        ]
    )
    sink.close()
    settings.influx_v1_url, settings.influx_database = influx_url, influx_db
    app = create_app(settings, site=demo_site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        o = c.get("/api/v1/overview").json()["collectors"]
    assert o["reporting"] is True and o["devices_quarantined"]["count"] == 1
    assert o["buffer_depth"]["count"] == 42


class _Unreachable:
    """A health reader whose store is away (a fake: an InfluxDB that refuses is slow to make)."""

    name = "unreachable"

    def latest(self, *, since: float) -> list[health.Record]:
        from collectors.sinks.buckets import ReadError

        raise ReadError("http://influx:8086: connection refused")

    def last_good(self, *, since: float) -> list[health.LastGood]:
        return []

    def close(self) -> None:
        pass


def test_a_store_that_cannot_be_read_leaves_the_rest_of_the_overview(client: TestClient) -> None:
    client.app.state.health = _Unreachable()  # type: ignore[attr-defined]
    r = client.get("/api/v1/overview")
    assert r.status_code == 200
    assert r.json()["collectors"] is None and "connection refused" in r.json()["collectors_error"]
    r = client.get("/api/v1/overview/collectors")
    assert r.status_code == 503 and r.json()["error"] == "store_unavailable"
