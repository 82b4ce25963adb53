"""Default assignees (site.yaml ``assignment:``): alert, storm and preventive work orders open
assigned to the most specific default for their building and asset class, with a timeline entry
naming it; a username the database lacks leaves them unassigned and is warned about at start.

The demo site gives pumps to user ``tech`` and lifts to its contractor firm, and leaves the
meters' work unassigned. Time is a parameter: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings
from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Organisation, Role, User
from core.db import Database
from plantroom.app import create_app
from tests.config.test_check_config import line_of
from workorders import intake
from workorders.intake import Intake
from workorders.orders.defaults import DefaultAssignee, choose
from workorders.orders.models import WorkOrder, WorkOrderEvent
from workorders.pm import service as pm
from workorders.pm.models import Maintenance
from workorders.sla.config import SlaSection

AT = dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)
FIRM = "Huaxia Property Services"  # the demo's contractor firm


def site_with(demo: SiteConfig, **sections: Any) -> SiteConfig:
    """The demo site with these sections replaced (given as they would be written)."""
    doc = demo.doc.model_copy(deep=True)
    for name, value in sections.items():
        if name == "assignment":
            value = [DefaultAssignee.model_validate(e) for e in value]
        elif name == "maintenance":
            value = Maintenance.model_validate(value)
        elif name == "sla":
            value = SlaSection.model_validate(value)
        setattr(doc, name, value)
    return SiteConfig(path=demo.path, doc=doc, profiles=demo.profiles, located=demo.located)


def add_user(db: Database, username: str, role: Role = Role.technician, **kw: Any) -> int:
    """A user of this role; its id."""
    with db.session() as s:
        user = auth.create_user(s, username=username, password="pw-" + username, role=role, **kw)
        return user.id


def firm_id(db: Database) -> int:
    with db.session() as s:
        return s.scalars(select(Organisation.id).where(Organisation.name == FIRM)).one()


ALERTS = {
    "pump-1": ("pump-overcurrent", "P2"),
    "pump-2": ("pump-overcurrent", "P2"),
    "lift-b1": ("lift-out-of-service", "P1"),
    "lift-a1": ("lift-out-of-service", "P1"),
    "b-main": ("supply-voltage-low", "P2"),
    "water-main": ("water-night-flow", "P2"),
}


def raise_alert(db: Database, site: SiteConfig, asset_id: str, at: dt.datetime = AT) -> int:
    """The alert engine's way in: Intake.raise_for_alert; the work order's id."""
    rule, priority = ALERTS[asset_id]
    with db.session() as s:
        raised = Intake(site).raise_for_alert(
            s,
            asset_id=asset_id,
            rule_id=rule,
            title=f"{rule}: {asset_id}",
            priority=priority,
            trigger={"point": "x", "value": 1.0},
            at=at,
        )
        return raised.id


def load(db: Database, wo_id: int) -> tuple[WorkOrder, list[WorkOrderEvent]]:
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        events = list(
            s.scalars(
                select(WorkOrderEvent)
                .where(WorkOrderEvent.workorder_id == wo_id)
                .order_by(WorkOrderEvent.id)
            )
        )
        s.expunge_all()
        return wo, events


def assigned_note(events: list[WorkOrderEvent]) -> WorkOrderEvent:
    """The one 'assigned' entry of a timeline."""
    found = [e for e in events if e.kind == "assigned"]
    assert len(found) == 1, [(e.kind, e.message) for e in events]
    return found[0]


# --- which entry wins ---------------------------------------------------------------------------


def _entries(*rows: dict[str, str]) -> list[DefaultAssignee]:
    return [DefaultAssignee.model_validate(r) for r in rows]


def test_building_and_class_beats_class_beats_building_beats_the_site_default() -> None:
    entries = _entries(
        {"user": "everyone"},
        {"building": "bldg-b", "user": "b-crew"},
        {"class": "Pump", "user": "pump-crew"},
        {"building": "bldg-b", "class": "Pump", "user": "b-pumps"},
    )

    def who(building: str | None, cls: str | None) -> str | None:
        found = choose(entries, building_id=building, asset_class=cls)
        return found[1].user if found else None

    assert who("bldg-b", "Pump") == "b-pumps"
    assert who("bldg-a", "Pump") == "pump-crew"
    assert who("bldg-b", "Elevator") == "b-crew"
    assert who("bldg-a", "Elevator") == "everyone"
    # A storm's parent has a building but no class: class entries do not cover it.
    assert who("bldg-b", None) == "b-crew"
    assert choose(entries[2:3], building_id="bldg-b", asset_class=None) is None


def test_no_entry_covers_a_work_order_when_the_list_is_empty() -> None:
    assert choose([], building_id="bldg-a", asset_class="Pump") is None


# --- alert work orders --------------------------------------------------------------------------


def test_a_pump_alert_opens_assigned_to_the_sites_technician(
    db: Database, demo_site: SiteConfig
) -> None:
    tech = add_user(db, "tech")
    wo, events = load(db, raise_alert(db, demo_site, "pump-1"))
    assert (wo.status, wo.assignee_id, wo.contractor_id) == ("assigned", tech, None)
    note = assigned_note(events)
    assert note.message == "assigned to user tech by the site's default for Pump"
    assert note.data is not None and note.data["default"]["index"] == 0
    assert [(e.kind, (e.data or {}).get("to")) for e in events][-1] == ("status", "assigned")


def test_a_lift_alert_opens_assigned_to_the_contractor_firm(
    db: Database, demo_site: SiteConfig
) -> None:
    wo, events = load(db, raise_alert(db, demo_site, "lift-b1"))
    assert (wo.status, wo.assignee_id, wo.contractor_id) == ("assigned", None, firm_id(db))
    assert assigned_note(events).message == (
        f"assigned to contractor {FIRM} by the site's default for Elevator"
    )
    assert wo.sla_policy is not None and wo.sla_policy["name"] == "P1 emergency"
    assert wo.response_due_at == AT + dt.timedelta(minutes=30)


def test_a_meter_alert_stays_unassigned_for_whoever_takes_it(
    db: Database, demo_site: SiteConfig
) -> None:
    add_user(db, "tech")
    for asset in ("b-main", "water-main"):
        wo, events = load(db, raise_alert(db, demo_site, asset))
        assert (wo.status, wo.assignee_id, wo.contractor_id) == ("new", None, None)
        assert [e.kind for e in events] == ["created"]


def test_a_refire_does_not_assign_again(db: Database, demo_site: SiteConfig) -> None:
    add_user(db, "tech")
    first = raise_alert(db, demo_site, "pump-2")
    again = raise_alert(db, demo_site, "pump-2", AT + dt.timedelta(minutes=5))
    assert again == first
    wo, events = load(db, first)
    assert wo.alert_count == 2 and len([e for e in events if e.kind == "assigned"]) == 1


def test_the_most_specific_default_assigns_the_alert(db: Database, demo_site: SiteConfig) -> None:
    site = site_with(
        demo_site,
        assignment=[
            {"building": "bldg-b", "user": "b-crew"},
            {"class": "Pump", "user": "pump-crew"},
            {"building": "bldg-b", "class": "Pump", "user": "b-pumps"},
        ],
    )
    ids = {name: add_user(db, name) for name in ("b-crew", "pump-crew", "b-pumps")}
    pump, _ = load(db, raise_alert(db, site, "pump-1"))
    lift, events = load(db, raise_alert(db, site, "lift-b1"))
    lift_a, _ = load(db, raise_alert(db, site, "lift-a1"))
    assert pump.assignee_id == ids["b-pumps"]
    assert lift.assignee_id == ids["b-crew"]
    assert assigned_note(events).message.endswith("by the site's default for building bldg-b")
    assert (lift_a.status, lift_a.assignee_id) == ("new", None)  # bldg-a: nothing covers it


def test_a_contractors_own_sla_policy_applies_when_the_default_is_the_contractor(
    db: Database, demo_site: SiteConfig
) -> None:
    own = {"name": "Huaxia P1", "priority": "P1", "contractor": FIRM}
    site = site_with(
        demo_site,
        sla={
            "policies": [
                {"name": "P1 emergency", "priority": "P1", "response": "30m", "resolution": "4h"},
                {**own, "response": "15m", "resolution": "2h"},
            ]
        },
    )
    wo, _ = load(db, raise_alert(db, site, "lift-b1"))
    assert wo.sla_policy is not None and wo.sla_policy["name"] == "Huaxia P1"
    assert wo.response_due_at == AT + dt.timedelta(minutes=15)


def test_an_unknown_username_leaves_the_alert_unassigned_and_is_logged(
    db: Database, demo_site: SiteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="workorders.orders.defaults"):
        wo, _ = load(db, raise_alert(db, demo_site, "pump-1"))
    assert (wo.status, wo.assignee_id) == ("new", None)
    assert f"{demo_site.path}: assignment[0]: there is no user 'tech'" in caplog.text


@pytest.mark.parametrize(
    ("role", "active", "why"),
    [
        (Role.requester, True, "user 'tech' (requester) does not take work orders"),
        (Role.technician, False, "user 'tech' is disabled"),
    ],
)
def test_a_default_user_who_cannot_take_work_leaves_it_unassigned(
    db: Database,
    demo_site: SiteConfig,
    caplog: pytest.LogCaptureFixture,
    role: Role,
    active: bool,
    why: str,
) -> None:
    uid = add_user(db, "tech", role)
    if not active:
        with db.session() as s:
            user = s.get(User, uid)
            assert user is not None
            auth.disable_user(s, user=user)
    with caplog.at_level(logging.WARNING, logger="workorders.orders.defaults"):
        wo, _ = load(db, raise_alert(db, demo_site, "pump-1"))
    assert (wo.status, wo.assignee_id) == ("new", None)
    assert why in caplog.text


def test_a_contractors_user_as_default_brings_the_firm_along(
    db: Database, demo_site: SiteConfig
) -> None:
    with db.session() as s:
        org = auth.get_or_create_organisation(s, FIRM)
        user = auth.create_user(
            s, username="fitter", password="pw-fitter", role=Role.contractor, organisation=org
        )
        uid, oid = user.id, org.id
    site = site_with(demo_site, assignment=[{"class": "Pump", "user": "fitter"}])
    wo, _ = load(db, raise_alert(db, site, "pump-1"))
    assert (wo.status, wo.assignee_id, wo.contractor_id) == ("assigned", uid, oid)


def test_without_the_site_open_from_alert_assigns_nobody(
    db: Database, demo_site: SiteConfig
) -> None:
    add_user(db, "tech")
    with db.session() as s:
        wo, _ = intake.open_from_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump",
            priority="P2",
            trigger={},
            at=AT,
        )
        assert (wo.status, wo.assignee_id) == ("new", None)


def test_a_backtests_intake_opens_work_orders_unassigned(
    db: Database, demo_site: SiteConfig
) -> None:
    add_user(db, "tech")
    with db.session() as s:
        raised = Intake(demo_site, assign=False).raise_for_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump",
            priority="P2",
            trigger={},
            at=AT,
        )
    wo, _ = load(db, raised.id)
    assert (wo.status, wo.assignee_id) == ("new", None)


# --- storms and preventive work -----------------------------------------------------------------


def test_a_storm_parent_is_assigned_by_its_buildings_default(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(
        demo_site,
        assignment=[{"class": "Pump", "user": "tech"}, {"building": "bldg-b", "user": "b-crew"}],
    )
    crew = add_user(db, "b-crew")
    add_user(db, "tech")
    with db.session() as s:
        parent_id = Intake(site).open_storm_parent(
            s,
            title="Alert storm: 21+ alerts in Building B",
            priority="P1",
            trigger={"building": "bldg-b", "storm": True},
            at=AT,
        )
    wo, events = load(db, parent_id)
    assert (wo.status, wo.assignee_id) == ("assigned", crew)
    assert assigned_note(events).message.endswith("default for building bldg-b")


def test_preventive_work_opens_assigned_by_the_default_for_its_asset(
    db: Database, demo_site: SiteConfig
) -> None:
    tech = add_user(db, "tech")
    site = site_with(
        demo_site,
        maintenance={
            "schedules": [
                {
                    "id": "lift-15d",
                    "template": "elevator_15d",
                    "select": {"assets": ["lift-a1"]},
                    "dtstart": "2026-01-01",
                },
                {
                    "id": "pump-monthly",
                    "name": "Pump monthly check",
                    "select": {"assets": ["pump-1"]},
                    "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                    "dtstart": "2026-01-01",
                },
                {
                    "id": "meter-yearly",
                    "name": "Meter yearly check",
                    "select": {"assets": ["b-main"]},
                    "rrule": "FREQ=YEARLY",
                    "dtstart": "2026-01-01",
                },
            ]
        },
    )
    now = dt.datetime(2025, 12, 31, 0, 0, tzinfo=dt.UTC)
    with db.session() as s:
        ids = {wo.asset_id: wo.id for wo in pm.generate_due(s, site=site, now=now)}
    lift, lift_events = load(db, ids["lift-a1"])
    pump, _ = load(db, ids["pump-1"])
    meter, _ = load(db, ids["b-main"])
    assert (lift.status, lift.contractor_id, lift.sla_policy) == ("assigned", firm_id(db), None)
    assert assigned_note(lift_events).actor == "pm"
    assert (pump.status, pump.assignee_id) == ("assigned", tech)
    assert (meter.status, meter.assignee_id, meter.contractor_id) == ("new", None, None)


# --- the check at start -------------------------------------------------------------------------


def test_the_app_warns_at_start_of_a_default_user_the_database_lacks(
    settings: Settings, db: Database, demo_site: SiteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    text = demo_site.path.read_text(encoding="utf-8")
    line = line_of(text, "- {class: Pump, user: tech}")
    with caplog.at_level(logging.WARNING, logger="plantroom.app"):
        create_app(settings, site=demo_site, db=db)
    assert (
        f"{demo_site.path}:{line}: assignment[0].user: there is no user 'tech': left unassigned"
    ) in caplog.messages


def test_the_app_is_quiet_at_start_when_every_default_user_exists(
    settings: Settings, db: Database, demo_site: SiteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    add_user(db, "tech")
    with caplog.at_level(logging.WARNING, logger="plantroom.app"):
        create_app(settings, site=demo_site, db=db)
    assert [r for r in caplog.records if r.name == "plantroom.app"] == []


def test_a_technician_finds_the_pump_alert_in_my_work(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    uid = add_user(db, "tech")
    with db.session() as s:
        user = s.get(User, uid)
        assert user is not None
        token = auth.create_token(s, user=user, name="t")
    wo_id = raise_alert(db, demo_site, "pump-1")
    raise_alert(db, demo_site, "b-main")
    mine = client.get(
        "/api/v1/workorders",
        params={"assignee": "me"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]
    assert [w["id"] for w in mine] == [wo_id]
