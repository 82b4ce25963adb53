"""Locations and assets: the hierarchy, the site.yaml mirror, CRUD, QR codes and asset history."""

from __future__ import annotations

import io

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings
from config.site import SiteConfig
from core import audit
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.workorders.accounts import token_for as _token
from workorders.assets.service import sync_locations
from workorders.orders import service
from workorders.orders.models import Asset, LaborEntry, Location, OtherCost, PartLine, WorkOrder


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The app; prepare_database has mirrored site.yaml's locations."""
    return client


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _loc_id(db: Database, code: str) -> int:
    with db.session() as s:
        return s.scalars(select(Location.id).where(Location.code == code)).one()


def _name(db: Database, code: str) -> str:
    """The name site.yaml (or the test) gave a location."""
    with db.session() as s:
        return s.scalars(select(Location.name).where(Location.code == code)).one()


def _asset(db: Database, asset_id: str) -> Asset:
    with db.session() as s:
        a = s.get(Asset, asset_id)
        assert a is not None
        s.expunge(a)
        return a


# --- the site.yaml mirror -----------------------------------------------------------------------


def test_site_yaml_becomes_the_location_hierarchy_and_places_its_assets(
    api: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    buildings = api.get("/api/v1/locations", params={"kind": "building"}).json()["items"]
    assert [b["code"] for b in buildings] == [b.id for b in demo_site.doc.buildings]
    site = api.get("/api/v1/locations", params={"kind": "site"}).json()["items"]
    assert [(s["code"], s["source"]) for s in site] == [(demo_site.doc.site.id, "site")]
    assert all(b["parent_id"] == site[0]["id"] for b in buildings)
    floors_a = api.get("/api/v1/locations", params={"parent_id": buildings[0]["id"]}).json()
    assert [f["name"] for f in floors_a["items"]] == [
        f.name for f in demo_site.doc.buildings[0].floors
    ]
    pump = _asset(db, "pump-1")
    assert pump.location_id == _loc_id(db, "bldg-b/b-b1/b-pump-house")
    b = demo_site.doc.buildings[1]
    assert (b.id, b.floors[0].rooms[1].id) == ("bldg-b", "b-pump-house")
    assert pump.location == f"{b.name} / {b.floors[0].name} / {b.floors[0].rooms[1].name}"


def test_mirroring_site_yaml_again_changes_nothing(
    api: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    with db.session() as s:
        before = [(x.id, x.code, x.parent_id, x.version) for x in s.scalars(select(Location))]
        sync_locations(s, demo_site)
        service.sync_assets(s, demo_site)
        sync_locations(s, demo_site)
    with db.session() as s:
        after = [(x.id, x.code, x.parent_id, x.version) for x in s.scalars(select(Location))]
    assert sorted(after) == sorted(before)


def test_a_renamed_room_in_site_yaml_is_followed_at_the_next_start(
    api: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    doc = demo_site.doc.model_copy(deep=True)
    room = doc.buildings[1].floors[0].rooms[1]
    assert room.id == "b-pump-house"
    room.name = "Booster pump room"
    edited = SiteConfig(path=demo_site.path, doc=doc, profiles=demo_site.profiles)
    with db.session() as s:
        service.sync_assets(s, edited)
        sync_locations(s, edited)
    loc = api.get(f"/api/v1/locations/{_loc_id(db, 'bldg-b/b-b1/b-pump-house')}").json()
    assert loc["name"] == "Booster pump room"
    assert _asset(db, "pump-1").location.endswith("/ Booster pump room")


# --- locations ----------------------------------------------------------------------------------


def test_a_location_sits_exactly_one_level_below_its_parent(api: TestClient, db: Database) -> None:
    building = _loc_id(db, "bldg-a")
    r = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "Office", "parent_id": building}
    )
    assert r.status_code == 422, r.text
    assert "directly under a floor" in r.json()["message"]
    floor = api.post(
        "/api/v1/locations", json={"kind": "floor", "name": "3F", "parent_id": building}
    )
    assert floor.status_code == 201, floor.text
    room = api.post(
        "/api/v1/locations",
        json={
            "kind": "room",
            "name": "3F toilets",
            "parent_id": floor.json()["id"],
            "code": "a-3f-wc",
        },
    )
    assert room.status_code == 201, room.text
    assert room.json()["code"] == "a-3f-wc" and room.json()["source"] == "api"
    orphan = api.post("/api/v1/locations", json={"kind": "building", "name": "Annex"})
    assert orphan.status_code == 422
    nested_site = api.post(
        "/api/v1/locations", json={"kind": "site", "name": "Campus 2", "parent_id": building}
    )
    assert nested_site.status_code == 422


def test_locations_are_filtered_by_parent_and_kind_and_paged(api: TestClient, db: Database) -> None:
    floor = _loc_id(db, "bldg-a/a-roof")
    rooms = api.get("/api/v1/locations", params={"parent_id": floor}).json()["items"]
    assert [r["code"] for r in rooms] == ["bldg-a/a-roof/a-lift-room"]
    page1 = api.get("/api/v1/locations", params={"kind": "room", "limit": 2}).json()
    page2 = api.get(
        "/api/v1/locations", params={"kind": "room", "limit": 2, "cursor": page1["next_cursor"]}
    ).json()
    every = api.get("/api/v1/locations", params={"kind": "room"}).json()["items"]
    assert [r["id"] for r in page1["items"] + page2["items"]] == [r["id"] for r in every[:4]]
    assert api.get("/api/v1/locations", params={"cursor": "x"}).status_code == 400


def test_a_location_is_deleted_only_once_empty(api: TestClient, db: Database) -> None:
    floor = api.post(
        "/api/v1/locations",
        json={"kind": "floor", "name": "2F", "parent_id": _loc_id(db, "bldg-b")},
    ).json()
    room = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "Server room", "parent_id": floor["id"]}
    ).json()
    api.post(
        "/api/v1/assets",
        json={
            "id": "crac-1",
            "name": "Server room AC",
            "brick_class": "CRAC",
            "location_id": room["id"],
        },
    )
    r = api.delete(f"/api/v1/locations/{floor['id']}")
    assert r.status_code == 409 and r.json()["detail"] == {"locations": 1, "assets": 0}
    r = api.delete(f"/api/v1/locations/{room['id']}")
    assert r.status_code == 409 and r.json()["detail"] == {"locations": 0, "assets": 1}
    api.patch("/api/v1/assets/crac-1", json={"location_id": floor["id"]})
    assert api.delete(f"/api/v1/locations/{room['id']}").status_code == 204
    assert api.get(f"/api/v1/locations/{room['id']}").status_code == 404


def test_site_yaml_locations_refuse_edits_and_deletion(
    api: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    building = _loc_id(db, "bldg-a")
    r = api.patch(f"/api/v1/locations/{building}", json={"name": "Block A"})
    assert r.status_code == 409 and "site.yaml" in r.json()["message"]
    assert api.delete(f"/api/v1/locations/{building}").status_code == 409
    assert (
        api.get(f"/api/v1/locations/{building}").json()["name"] == demo_site.doc.buildings[0].name
    )


def test_a_stale_if_match_is_refused_with_412(api: TestClient, db: Database) -> None:
    loc = api.post(
        "/api/v1/locations",
        json={"kind": "floor", "name": "5F", "parent_id": _loc_id(db, "bldg-a")},
    )
    etag = loc.headers["etag"]
    ok = api.patch(
        f"/api/v1/locations/{loc.json()['id']}",
        json={"name": "5th floor"},
        headers={"If-Match": etag},
    )
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    stale = api.patch(
        f"/api/v1/locations/{loc.json()['id']}", json={"name": "Fifth"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert api.get(f"/api/v1/locations/{loc.json()['id']}").json()["name"] == "5th floor"


def test_moving_a_room_renames_the_path_of_its_assets(api: TestClient, db: Database) -> None:
    b = _loc_id(db, "bldg-b")
    f1 = api.post("/api/v1/locations", json={"kind": "floor", "name": "1F", "parent_id": b}).json()
    f2 = api.post("/api/v1/locations", json={"kind": "floor", "name": "2F", "parent_id": b}).json()
    room = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "Pantry", "parent_id": f1["id"]}
    ).json()
    api.post(
        "/api/v1/assets",
        json={
            "id": "boiler-1",
            "name": "Water boiler",
            "brick_class": "Boiler",
            "location_id": room["id"],
        },
    )
    r = api.patch(f"/api/v1/locations/{room['id']}", json={"parent_id": f2["id"]})
    assert r.status_code == 200, r.text
    assert (
        api.get("/api/v1/assets/boiler-1").json()["location"]
        == f"{_name(db, 'bldg-b')} / 2F / Pantry"
    )
    bad = api.patch(f"/api/v1/locations/{room['id']}", json={"parent_id": b})
    assert bad.status_code == 422


def test_everyone_reads_locations_but_only_admin_and_engineer_change_them(
    api: TestClient, db: Database
) -> None:
    contractor = _as(_token(db, "c1", Role.contractor, "Evergreen"))
    tech = _as(_token(db, "t1", Role.technician))
    engineer = _as(_token(db, "e1", Role.engineer))
    assert api.get("/api/v1/locations", headers=contractor).status_code == 200
    new = {"kind": "floor", "name": "6F", "parent_id": _loc_id(db, "bldg-a")}
    assert api.post("/api/v1/locations", json=new, headers=contractor).status_code == 403
    assert api.post("/api/v1/locations", json=new, headers=tech).status_code == 403
    assert api.post("/api/v1/locations", json=new, headers=engineer).status_code == 201
    assert api.get("/api/v1/locations", headers={"Authorization": ""}).status_code == 401


def test_location_changes_are_in_the_audit_log(api: TestClient, db: Database) -> None:
    loc = api.post(
        "/api/v1/locations",
        json={"kind": "floor", "name": "7F", "parent_id": _loc_id(db, "bldg-a")},
    ).json()
    api.patch(f"/api/v1/locations/{loc['id']}", json={"name": "7th floor"})
    api.delete(f"/api/v1/locations/{loc['id']}")
    with db.session() as s:
        trail = audit.entries(s, entity="location", entity_id=loc["id"])
        rows = [(e.action, e.before, e.after, e.actor) for e in trail]
    assert [r[0] for r in rows] == ["create", "update", "delete"]
    assert rows[1][1:3] == ({"name": "7F"}, {"name": "7th floor"})
    assert all(r[3] == "admin-token" for r in rows)


# --- assets -------------------------------------------------------------------------------------


def test_a_new_asset_takes_its_building_and_path_from_its_room(
    api: TestClient, db: Database
) -> None:
    floor = api.post(
        "/api/v1/locations",
        json={"kind": "floor", "name": "3F", "parent_id": _loc_id(db, "bldg-a")},
    ).json()
    room = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "Toilets", "parent_id": floor["id"]}
    ).json()
    r = api.post(
        "/api/v1/assets",
        json={
            "id": "wc-fan-3f",
            "name": "3F toilet extract fan",
            "brick_class": "Exhaust_Fan",
            "location_id": room["id"],
            "install_date": "2015-04-01",
            "criticality": "low",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["building_id"] == "bldg-a" and body["building_name"] == _name(db, "bldg-a")
    assert body["location"] == f"{_name(db, 'bldg-a')} / 3F / Toilets"
    assert body["source"] == "api" and body["active"] is True
    assert api.get("/api/v1/assets/wc-fan-3f").json()["name"] == "3F toilet extract fan"
    dup = api.post(
        "/api/v1/assets",
        json={"id": "wc-fan-3f", "name": "again", "brick_class": "Fan", "location_id": room["id"]},
    )
    assert dup.status_code == 409


def test_an_asset_cannot_stand_on_the_site_itself_or_nowhere(api: TestClient, db: Database) -> None:
    base = {"id": "x-1", "name": "X", "brick_class": "Pump"}
    r = api.post("/api/v1/assets", json={**base, "location_id": _loc_id(db, "demo")})
    assert r.status_code == 422 and r.json()["error"] == "bad_hierarchy"
    assert api.post("/api/v1/assets", json={**base, "location_id": 999_999}).status_code == 422
    assert api.post("/api/v1/assets", json=base).status_code == 422


def test_site_asset_fields_owned_by_site_yaml_are_refused_with_a_reason(
    api: TestClient, demo_site: SiteConfig
) -> None:
    r = api.patch("/api/v1/assets/pump-1", json={"name": "Pump one", "criticality": "low"})
    assert r.status_code == 409
    assert r.json()["detail"] == {"fields": ["criticality", "name"]}
    assert "site.yaml" in r.json()["message"]
    assert api.get("/api/v1/assets/pump-1").json()["name"] == demo_site.asset("pump-1").asset.name


def test_site_asset_placed_in_a_room_made_by_hand_stays_there_after_a_restart(
    api: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    room = api.post(
        "/api/v1/locations",
        json={"kind": "room", "name": "Pump bay 2", "parent_id": _loc_id(db, "bldg-b/b-b1")},
    ).json()
    r = api.patch("/api/v1/assets/pump-1", json={"location_id": room["id"]})
    assert r.status_code == 200, r.text
    assert (
        r.json()["location"] == f"{_name(db, 'bldg-b')} / {_name(db, 'bldg-b/b-b1')} / Pump bay 2"
    )
    with db.session() as s:  # what a restart does
        service.sync_assets(s, demo_site)
        sync_locations(s, demo_site)
    pump = _asset(db, "pump-1")
    assert pump.location_id == room["id"]
    assert pump.location == f"{_name(db, 'bldg-b')} / {_name(db, 'bldg-b/b-b1')} / Pump bay 2"
    back = api.patch(
        "/api/v1/assets/pump-1", json={"location_id": _loc_id(db, "bldg-b/b-b1/b-pump-house")}
    )
    assert back.status_code == 200, back.text


def test_site_asset_cannot_be_moved_to_another_place_site_yaml_declares(
    api: TestClient, db: Database
) -> None:
    r = api.patch("/api/v1/assets/pump-1", json={"location_id": _loc_id(db, "bldg-a/a-roof")})
    assert r.status_code == 409
    assert r.json()["detail"]["site_location"] == "bldg-b/b-b1/b-pump-house"


def test_retired_asset_keeps_its_history_but_takes_no_new_work(api: TestClient) -> None:
    wo = api.post("/api/v1/workorders", json={"title": "Noisy", "asset_id": "pump-2"}).json()
    r = api.delete("/api/v1/assets/pump-2")
    assert r.status_code == 200 and r.json()["active"] is False
    history = api.get("/api/v1/assets/pump-2/history").json()
    assert [i["id"] for i in history["items"]] == [wo["id"]]
    refused = api.post("/api/v1/workorders", json={"title": "Again", "asset_id": "pump-2"})
    assert refused.status_code == 422
    assert api.patch("/api/v1/assets/pump-2", json={"active": True}).json()["active"] is True
    again = api.post("/api/v1/workorders", json={"title": "Again", "asset_id": "pump-2"})
    assert again.status_code == 201


def test_asset_changes_are_in_the_audit_log(api: TestClient, db: Database) -> None:
    room = _loc_id(db, "bldg-a/a-b1/a-b1-switch")
    api.post(
        "/api/v1/assets",
        json={"id": "ups-1", "name": "UPS", "brick_class": "UPS", "location_id": room},
    )
    api.patch("/api/v1/assets/ups-1", json={"replacement_cost": 18000})
    api.delete("/api/v1/assets/ups-1")
    api.delete("/api/v1/assets/ups-1")  # already retired: nothing changes, nothing recorded
    with db.session() as s:
        rows = [
            (e.action, e.before, e.after)
            for e in audit.entries(s, entity="asset", entity_id="ups-1")
        ]
    assert [r[0] for r in rows] == ["create", "update", "retire"]
    assert rows[0][2]["location_id"] == room and rows[0][2]["name"] == "UPS"
    assert rows[1][1:] == ({"replacement_cost": None}, {"replacement_cost": 18000})
    assert rows[2][1:] == ({"active": True}, {"active": False})


def test_only_admin_and_engineer_change_assets(api: TestClient, db: Database) -> None:
    tech = _as(_token(db, "t2", Role.technician))
    requester = _as(_token(db, "r2", Role.requester))
    for who in (tech, requester):
        assert (
            api.patch("/api/v1/assets/pump-1", json={"active": False}, headers=who).status_code
            == 403
        )
        assert api.delete("/api/v1/assets/pump-1", headers=who).status_code == 403
    assert _asset(db, "pump-1").active is True


def test_patch_refuses_null_for_required_fields(api: TestClient) -> None:
    r = api.patch("/api/v1/assets/pump-1", json={"location_id": None})
    assert r.status_code == 422 and "location_id" in r.json()["message"]


# --- QR codes -----------------------------------------------------------------------------------


def _qr(url: str, kind: str, title: str = "") -> bytes:
    buf = io.BytesIO()
    q = segno.make_qr(url, error="m")
    if kind == "svg":
        q.save(buf, kind="svg", scale=8, border=4, title=title)
    else:
        q.save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def test_qr_codes_encode_the_assets_public_page(api: TestClient, demo_site: SiteConfig) -> None:
    name = demo_site.asset("pump-1").asset.name
    svg = api.get("/api/v1/assets/pump-1/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    # The same code segno draws for the expected URL: any other URL gives other modules.
    assert svg.content == _qr("http://testserver/r/pump-1", "svg", name)
    assert svg.content != _qr("http://testserver/r/pump-2", "svg", name)
    png = api.get("/api/v1/assets/pump-1/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content == _qr("http://testserver/r/pump-1", "png")
    assert api.get("/r/pump-1", headers={"Authorization": ""}).status_code == 200


def test_qr_codes_use_the_configured_public_url(
    api: TestClient, settings: Settings, demo_site: SiteConfig
) -> None:
    settings.public_url = "https://fm.example.org/"
    svg = api.get("/api/v1/assets/pump-1/qr.svg")
    assert svg.content == _qr(
        "https://fm.example.org/r/pump-1", "svg", demo_site.asset("pump-1").asset.name
    )


def test_qr_code_of_an_unknown_asset_is_404(api: TestClient) -> None:
    assert api.get("/api/v1/assets/no-such/qr.png").status_code == 404


# --- history ------------------------------------------------------------------------------------


def _with_costs(
    db: Database,
    asset_id: str,
    labor: tuple[float, float],
    part: tuple[float, float],
    other: float,
    contractor_id: int | None = None,
) -> int:
    with db.session() as s:
        wo = service.create(
            s,
            title=f"job on {asset_id}",
            actor="test",
            asset_id=asset_id,
            contractor_id=contractor_id,
        )
        s.add(
            LaborEntry(
                workorder_id=wo.id, worker="li", hours=labor[0], rate=labor[1], created_by="test"
            )
        )
        s.add(
            PartLine(
                workorder_id=wo.id,
                part="seal",
                quantity=part[0],
                unit_cost=part[1],
                created_by="test",
            )
        )
        s.add(
            OtherCost(workorder_id=wo.id, description="call-out", amount=other, created_by="test")
        )
        return wo.id


def test_history_lists_work_orders_newest_first_in_pages_with_cost_totals(
    api: TestClient, db: Database
) -> None:
    ids = [
        _with_costs(db, "pump-1", (2, 80.0), (1, 35.5), 100.0),
        _with_costs(db, "pump-1", (1.5, 60.0), (4, 12.0), 0.0),
        _with_costs(db, "pump-1", (0.5, 100.0), (0, 0.0), 50.0),
    ]
    _with_costs(db, "pump-2", (10, 100.0), (10, 100.0), 1000.0)  # another asset: not counted
    first = api.get("/api/v1/assets/pump-1/history", params={"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]]
    rest = api.get(
        "/api/v1/assets/pump-1/history", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    labor = 2 * 80.0 + 1.5 * 60.0 + 0.5 * 100.0
    parts = 35.5 + 4 * 12.0
    totals = first["totals"]
    assert totals == {
        "work_orders": 3,
        "labor": pytest.approx(labor),
        "parts": pytest.approx(parts),
        "other": pytest.approx(150.0),
        "total": pytest.approx(labor + parts + 150.0),
    }
    item = first["items"][0]
    assert item["status"] == "new" and item["closed"] is None and item["opened"]


def test_contractor_sees_only_its_own_work_orders_and_costs_in_history(
    api: TestClient, db: Database
) -> None:
    token = _token(db, "c3", Role.contractor, "Evergreen")
    with db.session() as s:
        org = auth.get_or_create_organisation(s, "Evergreen").id
        rival = auth.get_or_create_organisation(s, "Rival FM").id
    mine = _with_costs(db, "lift-a1", (1, 100.0), (1, 10.0), 5.0, contractor_id=org)
    _with_costs(db, "lift-a1", (3, 100.0), (3, 10.0), 50.0, contractor_id=rival)
    _with_costs(db, "lift-a1", (3, 100.0), (3, 10.0), 50.0)
    h = api.get("/api/v1/assets/lift-a1/history", headers=_as(token)).json()
    assert [i["id"] for i in h["items"]] == [mine]
    assert h["totals"]["work_orders"] == 1
    assert h["totals"]["total"] == pytest.approx(115.0)
    assert api.get("/api/v1/assets/lift-a1/history").json()["totals"]["work_orders"] == 3


def test_history_of_an_unknown_asset_is_404(api: TestClient) -> None:
    assert api.get("/api/v1/assets/nope/history").status_code == 404


def test_history_shows_each_work_orders_cost_total_and_closing_time(
    api: TestClient, db: Database
) -> None:
    wo = api.post("/api/v1/workorders", json={"title": "Fix", "asset_id": "lift-b1"}).json()
    api.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"})
    with db.session() as s:
        row = s.get(WorkOrder, wo["id"])
        assert row is not None
        row.cost_total = 42.5
        closed = row.closed_at
    assert closed is not None
    item = api.get("/api/v1/assets/lift-b1/history").json()["items"][0]
    assert item["status"] == "cancelled" and item["cost_total"] == 42.5
    assert item["closed"].replace("Z", "+00:00")[:19] == closed.isoformat()[:19]


def test_ids_and_names_with_control_characters_are_refused_not_a_server_error(
    api: TestClient, db: Database
) -> None:
    # PostgreSQL cannot even look up a string holding a NUL byte.
    assert api.get("/api/v1/assets/pump%00-1/history").status_code == 422
    assert api.patch("/api/v1/assets/pump%00-1", json={"active": False}).status_code == 422
    floor = _loc_id(db, "bldg-a/a-b1")
    bad_name = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "Store\x00room", "parent_id": floor}
    )
    assert bad_name.status_code == 422
    chinese = api.post(
        "/api/v1/locations", json={"kind": "room", "name": "配电室 2", "parent_id": floor}
    )
    assert chinese.status_code == 201 and chinese.json()["name"] == "配电室 2"
