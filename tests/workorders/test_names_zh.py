"""Names in Simplified Chinese: site.yaml's ``name_zh`` reaches the locations and assets tables
and the API beside each name (assets, locations, rules); an asset's location reads in Chinese,
in English where a part has none; locations and assets made through the API may carry one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from config.site import SiteConfig
from core.db import Database
from workorders.assets.service import sync_locations
from workorders.orders import service
from workorders.orders.models import Asset, Location

PUMP_LOCATION_ZH = "B座（办事大厅） / 地下一层 / 水泵房"


def _loc_id(db: Database, code: str) -> int:
    with db.session() as s:
        return s.scalars(select(Location.id).where(Location.code == code)).one()


def _zh(db: Database, asset_id: str) -> tuple[str | None, str | None, str | None]:
    with db.session() as s:
        a = s.get(Asset, asset_id)
        assert a is not None
        return a.name_zh, a.building_name_zh, a.location_zh


def test_an_asset_answers_its_names_in_chinese(client: TestClient) -> None:
    a = client.get("/api/v1/assets/pump-1").json()
    assert (a["name"], a["name_zh"]) == ("Domestic water booster pump 1", "1号生活给水加压泵")
    assert (a["building_name"], a["building_name_zh"]) == (
        "Building B (Services Hall)",
        "B座（办事大厅）",
    )
    assert a["location"] == "Building B (Services Hall) / Basement 1 / Pump house"
    assert a["location_zh"] == PUMP_LOCATION_ZH
    listed = {x["id"]: x for x in client.get("/api/v1/assets").json()}
    assert listed["lift-a1"]["name_zh"] == "A1号客梯"
    assert listed["lift-a1"]["location_zh"] == "A座（行政楼） / 屋顶层 / 电梯机房"


def test_the_asset_detail_of_a_change_carries_the_chinese_names(client: TestClient) -> None:
    a = client.patch("/api/v1/assets/pump-1", json={"active": True}).json()
    assert (a["name_zh"], a["building_name_zh"], a["location_zh"]) == (
        "1号生活给水加压泵",
        "B座（办事大厅）",
        PUMP_LOCATION_ZH,
    )


def test_a_site_assets_chinese_name_belongs_to_site_yaml(client: TestClient) -> None:
    r = client.patch("/api/v1/assets/pump-1", json={"name_zh": "一号泵"})
    assert r.status_code == 409
    assert r.json()["detail"] == {"fields": ["name_zh"]}


def test_locations_answer_their_chinese_names(client: TestClient) -> None:
    buildings = client.get("/api/v1/locations", params={"kind": "building"}).json()["items"]
    assert [b["name_zh"] for b in buildings] == ["A座（行政楼）", "B座（办事大厅）"]
    site = client.get("/api/v1/locations", params={"kind": "site"}).json()["items"][0]
    assert site["name_zh"] == "市政府机关办公区"


def test_rules_answer_their_chinese_names(client: TestClient) -> None:
    r = client.get("/api/v1/rules/pump-overcurrent").json()
    assert (r["name"], r["name_zh"]) == ("Pump motor over-current", "水泵电机过流")
    assert all(x["name_zh"] for x in client.get("/api/v1/rules").json())


def test_a_location_made_through_the_api_carries_a_chinese_name_into_its_assets(
    client: TestClient, db: Database
) -> None:
    floor = _loc_id(db, "bldg-b/b-b1")
    r = client.post("/api/v1/locations", json={"kind": "room", "name": "Store", "parent_id": floor})
    assert r.status_code == 201 and r.json()["name_zh"] is None
    room: dict[str, Any] = r.json()
    asset = {
        "id": "spare-pump",
        "name": "Spare pump",
        "name_zh": "备用泵",
        "brick_class": "Pump",
        "location_id": room["id"],
    }
    made = client.post("/api/v1/assets", json=asset).json()
    # A room with no name_zh reads in English inside a Chinese path.
    assert made["name_zh"] == "备用泵"
    assert made["location_zh"] == "B座（办事大厅） / 地下一层 / Store"
    r = client.patch(
        f"/api/v1/locations/{room['id']}",
        json={"name_zh": "库房"},
        headers={"If-Match": f'"{room["version"]}"'},
    )
    assert r.status_code == 200 and r.json()["name_zh"] == "库房"
    assert _zh(db, "spare-pump") == (
        "备用泵",
        "B座（办事大厅）",
        "B座（办事大厅） / 地下一层 / 库房",
    )
    r = client.patch(f"/api/v1/locations/{room['id']}", json={"name_zh": None})
    assert r.status_code == 200 and r.json()["name_zh"] is None
    assert _zh(db, "spare-pump")[2] == "B座（办事大厅） / 地下一层 / Store"


def test_a_site_locations_chinese_name_belongs_to_site_yaml(
    client: TestClient, db: Database
) -> None:
    loc = _loc_id(db, "bldg-b")
    r = client.patch(f"/api/v1/locations/{loc}", json={"name_zh": "乙楼"})
    assert r.status_code == 409


def test_chinese_names_edited_in_site_yaml_are_followed_at_the_next_start(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    doc = demo_site.doc.model_copy(deep=True)
    house = doc.buildings[1].floors[0].rooms[1]
    assert house.id == "b-pump-house"
    house.name_zh = None
    house.assets[0].name_zh = "一号加压泵"
    edited = SiteConfig(path=demo_site.path, doc=doc, profiles=demo_site.profiles)
    with db.session() as s:
        service.sync_assets(s, edited)
        sync_locations(s, edited)
    assert _zh(db, "pump-1") == (
        "一号加压泵",
        "B座（办事大厅）",
        "B座（办事大厅） / 地下一层 / Pump house",
    )
    loc = client.get(f"/api/v1/locations/{_loc_id(db, 'bldg-b/b-b1/b-pump-house')}").json()
    assert loc["name_zh"] is None


def test_a_site_with_no_chinese_names_answers_null(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    doc = demo_site.doc.model_copy(deep=True)
    doc.buildings[1].name_zh = None
    for f in doc.buildings[1].floors:
        f.name_zh = None
        for r in f.rooms:
            r.name_zh = None
            for a in r.assets:
                a.name_zh = None
    edited = SiteConfig(path=demo_site.path, doc=doc, profiles=demo_site.profiles)
    with db.session() as s:
        service.sync_assets(s, edited)
        sync_locations(s, edited)
    a = client.get("/api/v1/assets/pump-1").json()
    assert (a["name_zh"], a["building_name_zh"], a["location_zh"]) == (None, None, None)
