"""What the work-order page needs to know beside the work order itself (issue 14, item 4):
the alert behind it (the rule in words, its state now, the level a chart draws), the occupant's
report behind a request, the statutory items of an inspection, and the proof fields, through the
real API on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import re

import segno
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerts.models import Alert
from collectors.readings import Quality, Reading
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from plantroom.wiring import alert_engine
from tests.workorders.accounts import token_for
from workorders.orders.models import WorkOrder
from workorders.pm.models import TEMPLATES

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


def amps(seconds: float, value: float) -> Reading:
    """A motor-current reading of pump 1 at T0 + seconds (an hour ago: the API refuses action
    times far from its clock)."""
    ts = (T0 + dt.timedelta(seconds=seconds)).timestamp()
    return Reading(ts, "pump-1", "pump-1-drive", "motor_current", value, "A", Quality.good)


def only_work_order(db: Database) -> int:
    with db.session() as s:
        (wo_id,) = s.scalars(select(WorkOrder.id))
        return wo_id


def test_an_alert_work_order_shows_its_rule_in_words_and_the_alert_now(
    client: TestClient, demo_site: SiteConfig, db: Database
) -> None:
    rules = [r for r in demo_site.doc.rules if r.id == "pump-overcurrent"]
    engine = alert_engine(demo_site, db, rules)
    engine.process([amps(0, 30), amps(20, 31)])
    wo_id = only_work_order(db)
    body = client.get(f"/api/v1/workorders/{wo_id}").json()
    alert = body["alert"]
    assert alert["rule_id"] == "pump-overcurrent"
    assert alert["rule_name"] == "Pump motor over-current"
    assert alert["rule_name_zh"] == "水泵电机过流"
    assert alert["words"] == {
        "en": "motor current above 26 A for 20 s",
        "zh-CN": "电机电流高于 26 A，持续 20 秒",
    }
    assert (alert["state"], alert["silenced"], alert["point"], alert["unit"]) == (
        "firing",
        False,
        "motor_current",
        "A",
    )
    assert alert["threshold"] == 26
    assert dt.datetime.fromisoformat(alert["started_at"]) == T0
    assert alert["cleared_at"] is None and isinstance(alert["id"], int)
    assert (body["request"], body["statutory"]) == (None, None)
    assert (body["awaiting_proof"], body["proof_until"]) == (False, None)

    # Resolved while firing: awaiting proof, in the detail and in the list.
    at = (T0 + dt.timedelta(seconds=60)).isoformat()
    r = client.post(f"/api/v1/workorders/{wo_id}/status", json={"status": "resolved", "at": at})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["awaiting_proof"] is True
    assert dt.datetime.fromisoformat(done["proof_until"]) == T0 + dt.timedelta(seconds=240)
    assert done["alert"]["state"] == "firing"
    assert "awaiting_proof" in [e["kind"] for e in done["events"]]
    (listed,) = client.get("/api/v1/workorders").json()["items"]
    assert listed["awaiting_proof"] is True and listed["proof_until"] == done["proof_until"]

    # The pump recovers: the alert is over, the fix proven.
    engine.process([amps(100, 20)])
    after = client.get(f"/api/v1/workorders/{wo_id}").json()
    assert after["alert"]["state"] == "resolved"
    assert dt.datetime.fromisoformat(after["alert"]["cleared_at"]) == T0 + dt.timedelta(seconds=100)
    assert (after["awaiting_proof"], after["proof_until"]) == (False, None)
    assert "proof_held" in [e["kind"] for e in after["events"]]


def test_a_work_order_by_hand_has_no_context_blocks(client: TestClient) -> None:
    body = client.post("/api/v1/workorders", json={"title": "Replace a lamp"}).json()
    assert (body["alert"], body["request"], body["statutory"]) == (None, None, None)


def _png() -> bytes:
    buf = io.BytesIO()
    segno.make_qr("a photo of a leak").save(buf, kind="png", scale=4)
    return buf.getvalue()


def test_an_occupant_request_shows_the_text_contact_and_their_photo(
    client: TestClient, db: Database
) -> None:
    admin = client.headers.pop("Authorization")
    page = client.get("/r/pump-1")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post(
        "/r/pump-1",
        data={"csrf": csrf.group(1), "description": "Water under the pump", "contact": "ext 4321"},
        files={"photo": ("leak.png", _png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.headers["Authorization"] = admin
    wo_id = only_work_order(db)
    # A technician's photo later is not the occupant's.
    tech = token_for(db, "li", Role.technician)
    up = client.post(
        f"/api/v1/workorders/{wo_id}/attachments",
        files={"file": ("fixed.png", _png(), "image/png")},
        headers={"Authorization": f"Bearer {tech}"},
    )
    assert up.status_code == 201, up.text
    occupant_photos = [a["id"] for a in client.get(f"/api/v1/workorders/{wo_id}/attachments").json()
                       if a["id"] != up.json()["id"]]  # fmt: skip
    body = client.get(f"/api/v1/workorders/{wo_id}").json()
    assert body["request"] == {
        "text": "Water under the pump",
        "reporter": "occupant",
        "contact": "ext 4321",
        "photos": occupant_photos,
    }
    assert len(occupant_photos) == 1
    assert (body["alert"], body["statutory"]) == (None, None)


def test_an_inspection_lists_its_statutory_items_with_their_basis(client: TestClient) -> None:
    quarterly = TEMPLATES["elevator_quarterly"]
    items = [*quarterly.checklist[:2], "Wipe the car mirror"]
    body = client.post(
        "/api/v1/workorders",
        json={"title": "Lift B1 quarterly", "type": "inspection", "asset_id": "lift-b1",
              "checklist": items},
    ).json()  # fmt: skip
    assert body["statutory"] == [
        {"item": quarterly.checklist[0], "basis": quarterly.source},
        {"item": quarterly.checklist[1], "basis": quarterly.source},
    ]
    assert quarterly.source.startswith("TSG T5002-2017")
    plain = client.post(
        "/api/v1/workorders",
        json={"title": "Lift B1 look", "type": "inspection", "checklist": ["Wipe the mirror"]},
    ).json()
    assert plain["statutory"] is None
    corrective = client.post(
        "/api/v1/workorders",
        json={"title": "Lift B1 fix", "checklist": [quarterly.checklist[0]]},
    ).json()
    assert corrective["statutory"] is None


def test_a_poll_sees_the_alert_change_state_though_the_work_order_did_not_change(
    client: TestClient, demo_site: SiteConfig, db: Database
) -> None:
    rules = [r for r in demo_site.doc.rules if r.id == "pump-overcurrent"]
    alert_engine(demo_site, db, rules).process([amps(0, 30), amps(20, 31)])
    wo_id = only_work_order(db)
    first = client.get(f"/api/v1/workorders/{wo_id}")
    tag = first.headers["ETag"]
    assert (
        client.get(f"/api/v1/workorders/{wo_id}", headers={"If-None-Match": tag}).status_code == 304
    )
    with db.session() as s:  # the device stops answering: the alert goes to nodata, no event
        row = s.scalars(select(Alert).where(Alert.workorder_id == wo_id)).one()
        row.state = "nodata"
    again = client.get(f"/api/v1/workorders/{wo_id}", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.json()["alert"]["state"] == "nodata"
    assert again.json()["version"] == first.json()["version"]
    # the version part still answers If-Match
    r = client.patch(
        f"/api/v1/workorders/{wo_id}", json={"description": "x"}, headers={"If-Match": tag}
    )
    assert r.status_code == 200, r.text
