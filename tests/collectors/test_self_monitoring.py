"""The collector reports its own health: at /metrics (Prometheus text) and in the store."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from fastapi.testclient import TestClient

from collectors.readings import Quality
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.app import create_app
from plantroom.runtime import Monitoring
from tests.collectors.sim import port_map, simulator
from tests.conftest import ADMIN_TOKEN

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+-]+$')


def run_monitoring(
    settings: Settings, site: SiteConfig, db: Database, seconds: float, silent_from: float = 1e9
) -> tuple[str, Monitoring]:
    """Run the monitoring side against the simulator; returns /metrics text at the end."""

    async def run() -> tuple[str, Monitoring]:
        mapping = port_map(site)
        # A simulator that "started" long ago puts b-special-meter's silence (90-990 s) now.
        sim = simulator(site, mapping, started_at=time.time() - silent_from)
        await sim.start()
        mon = Monitoring(settings, site, db, port_map=mapping)
        await mon.start()
        await asyncio.sleep(seconds)
        text = mon.metrics_text()
        await mon.stop()
        await sim.stop()
        return text, mon

    return asyncio.run(run())


def test_metrics_page_reports_polls_per_device_and_requests_per_link(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    text, _ = run_monitoring(settings, demo_site, db, 2.0)
    app = create_app(settings, site=demo_site, db=db)
    app.state.metrics = lambda: text
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    assert re.search(
        r'plantroom_device_polls_total\{device="a-main-meter",link="tcp://'
        r'127\.0\.0\.1:\d+"\} [1-9]',
        body,
    )
    assert "# TYPE plantroom_link_requests_total counter" in body
    assert 'plantroom_buffer_depth{sink="embedded"}' in body
    for line in body.splitlines():
        assert line.startswith("#") or SAMPLE.match(line), line


@pytest.mark.slow  # three seconds of monitoring
def test_device_silent_behind_its_gateway_counts_as_failing(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    # b-special-meter is silent; its gateway answers exception 11 (target failed to respond).
    text, _ = run_monitoring(settings, demo_site, db, 3.0, silent_from=100)
    failed = re.search(
        r'plantroom_device_failed_polls_total\{device="b-special-meter",[^}]*\} '
        r"(\d+)",
        text,
    )
    healthy = re.search(
        r'plantroom_device_failed_polls_total\{device="b-main-meter",[^}]*\} '
        r"(\d+)",
        text,
    )
    assert failed and int(failed.group(1)) >= 1
    assert healthy and int(healthy.group(1)) == 0
    assert re.search(r'plantroom_device_quarantined\{device="b-special-meter",[^}]*\} [01]', text)


def test_metrics_without_a_collector_in_the_process_answer_404(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_health_figures_are_written_to_the_store_as_their_own_measurement(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    settings.metrics_interval = 0.5
    run_monitoring(settings, demo_site, db, 2.0)

    store = EmbeddedStore(settings.data_dir / "readings.sqlite")
    rows = store.query(
        measurement="collector", point="plantroom_device_polls_total", device="a-main-meter"
    )
    devices = store.query(device="a-main-meter", point="voltage_l1")
    store.close()
    assert rows and all(r.quality is Quality.good and r.measurement == "collector" for r in rows)
    assert devices and all(r.measurement == "readings" for r in devices)


def test_metrics_on_the_api_port_need_an_admin_or_a_metrics_token(
    client: TestClient, db: Database
) -> None:
    # The page names devices and their Modbus gateways' addresses: not for anyone who asks.
    from core.auth.models import Role
    from tests.core.auth.accounts import bearer, make_token, make_user

    client.app.state.metrics = lambda: "plantroom_x 1\n"  # type: ignore[attr-defined]
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    tech = make_user(db, "tech", Role.technician)
    eng = make_user(db, "eng", Role.engineer)
    assert client.get("/metrics", headers=bearer(make_token(db, tech))).status_code == 403
    prometheus = bearer(make_token(db, eng, scopes="metrics"))
    r = client.get("/metrics", headers=prometheus)
    assert r.status_code == 200 and r.text == "plantroom_x 1\n"
    # the metrics scope opens /metrics and nothing else
    assert client.get("/api/v1/workorders", headers=prometheus).status_code == 403
    assert client.get("/metrics").status_code == 200  # the admin token
