"""The alerts API (alerts, acknowledgement, silences, rules) and which silences cover an alert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerts.models import Alert, Silence
from alerts.rules import Selector
from alerts.silences import SilenceIndex, selects
from config.settings import Settings
from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database, utcnow
from plantroom.app import create_app, prepare_database
from tests.conftest import ADMIN_TOKEN

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def api(
    request: pytest.FixtureRequest, settings: Settings, demo_site: SiteConfig
) -> Iterator[tuple[TestClient, Database]]:
    """The app with the admin token preset, and its database: SQLite, then PostgreSQL."""
    if request.param == "postgres":
        settings.database_url = request.getfixturevalue("pg_demo_url")
    db = prepare_database(settings, demo_site)
    app = create_app(settings, site=demo_site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c, db
    db.dispose()


def _token(db: Database, username: str, role: Role) -> dict[str, str]:
    with db.session() as s:
        org = auth.get_or_create_organisation(s, "Evergreen") if role is Role.contractor else None
        user = auth.create_user(
            s, username=username, password="pw-" + username, role=role, organisation=org
        )
        return {"Authorization": f"Bearer {auth.create_token(s, user=user, name='test')}"}


def _alert(db: Database, **kw: Any) -> int:
    """Store an alert as the engine would; live unless state says it is over."""
    fields: dict[str, Any] = {
        "rule_id": "pump-overcurrent",
        "asset_id": "pump-1",
        "state": "firing",
        "severity": "major",
        "point": "motor_current",
        "device": "pump-1-drive",
        "unit": "A",
        "started_at": T0,
    }
    fields.update(kw)
    if fields["state"] in ("pending", "firing", "nodata", "error"):
        fields.setdefault("active_key", f"{fields['rule_id']}:{fields['asset_id']}")
    with db.session() as s:
        a = Alert(**fields)
        s.add(a)
        s.flush()
        return a.id


def _iso(t: dt.datetime) -> str:
    return t.isoformat()


def _silence(c: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("duration", "2h")
    r = c.post("/api/v1/silences", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


# --- silences through the API -------------------------------------------------------------------


def test_created_silence_is_listed_as_active(api: tuple[TestClient, Database]) -> None:
    c, _ = api
    created = _silence(
        c, selector={"building": ["bldg-b"]}, kind="maintenance", comment="pump overhaul"
    )
    assert created["status"] == "active" and created["created_by"] == "admin-token"
    assert created["selector"]["building"] == ["bldg-b"]
    active = c.get("/api/v1/silences", params={"active": "true"}).json()["items"]
    assert [s["id"] for s in active] == [created["id"]]
    assert active[0]["kind"] == "maintenance" and active[0]["comment"] == "pump overhaul"
    assert c.get(f"/api/v1/silences/{created['id']}").json()["id"] == created["id"]


def test_duration_sets_the_end_after_the_start(api: tuple[TestClient, Database]) -> None:
    c, _ = api
    start = utcnow().replace(microsecond=0) + dt.timedelta(hours=1)
    s = _silence(c, rule_ids=["pump-overcurrent"], starts_at=_iso(start), duration="90m")
    starts, ends = (
        dt.datetime.fromisoformat(s["starts_at"]),
        dt.datetime.fromisoformat(s["ends_at"]),
    )
    assert starts == start and ends - starts == dt.timedelta(minutes=90)
    assert s["status"] == "scheduled"


def test_expired_silence_is_no_longer_active(api: tuple[TestClient, Database]) -> None:
    c, _ = api
    sid = _silence(c, selector={"assets": ["pump-1"]})["id"]
    r = c.post(f"/api/v1/silences/{sid}/expire")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "expired" and r.json()["expired_by"] == "admin-token"
    assert c.get("/api/v1/silences", params={"active": "true"}).json()["items"] == []
    past = c.get("/api/v1/silences", params={"active": "false"}).json()["items"]
    assert [s["id"] for s in past] == [sid]


def test_expiring_a_silence_twice_answers_409_with_a_reason(
    api: tuple[TestClient, Database],
) -> None:
    c, _ = api
    sid = _silence(c, selector={"assets": ["pump-1"]})["id"]
    c.post(f"/api/v1/silences/{sid}/expire")
    r = c.post(f"/api/v1/silences/{sid}/expire")
    assert r.status_code == 409
    assert "expired" in r.json()["message"]


def test_unknown_silence_answers_404(client: TestClient) -> None:
    assert client.get("/api/v1/silences/999").status_code == 404
    assert client.post("/api/v1/silences/999/expire").status_code == 404


def test_silences_list_newest_first_and_pages_with_a_cursor(client: TestClient) -> None:
    ids = [_silence(client, selector={"assets": ["pump-1"]})["id"] for _ in range(4)]
    first = client.get("/api/v1/silences", params={"limit": 3}).json()
    assert [s["id"] for s in first["items"]] == ids[::-1][:3]
    rest = client.get("/api/v1/silences", params={"cursor": first["next_cursor"]}).json()
    assert [s["id"] for s in rest["items"]] == ids[:1] and rest["next_cursor"] is None


def _rejected(c: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/api/v1/silences", json=body)
    assert r.status_code == 422, r.text
    data: dict[str, Any] = r.json()
    return data


def test_silence_ending_before_it_starts_is_rejected_naming_ends_at(client: TestClient) -> None:
    start = utcnow() + dt.timedelta(hours=2)
    body = _rejected(
        client,
        {
            "selector": {"assets": ["pump-1"]},
            "starts_at": _iso(start),
            "ends_at": _iso(start - dt.timedelta(hours=1)),
        },
    )
    assert body["detail"] == [{"field": "ends_at", "message": "ends_at must be after starts_at"}]


def test_silence_on_unknown_asset_and_rule_is_rejected_naming_them(client: TestClient) -> None:
    body = _rejected(
        client,
        {
            "selector": {"assets": ["pump-1", "pump-9"], "building": ["bldg-z"]},
            "rule_ids": ["no-such-rule"],
            "duration": 600,
        },
    )
    fields = {p["field"]: p["message"] for p in body["detail"]}
    assert fields == {
        "selector.assets": "unknown asset 'pump-9'",
        "selector.building": "unknown building 'bldg-z'",
        "rule_ids": "unknown rule 'no-such-rule'",
    }
    assert "pump-9" in body["message"]


def test_silence_without_criteria_is_rejected_saying_what_to_give(client: TestClient) -> None:
    body = _rejected(client, {"selector": {}, "duration": "1h"})
    assert body["detail"][0]["field"] == "selector"
    assert "at least one" in body["message"] and "rule_ids" in body["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"selector": {"assets": ["pump-1"]}}, "ends_at"),  # neither ends_at nor duration
        (
            {"selector": {"assets": ["pump-1"]}, "duration": 60, "ends_at": "2099-01-01T00:00Z"},
            "ends_at",
        ),
        ({"selector": {"assets": ["pump-1"]}, "ends_at": "2099-01-01T00:00:00"}, "body.ends_at"),
        ({"selector": {"assets": ["pump-1"]}, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
        ({"selector": {"assets": ["pump-1"]}, "duration": "400d"}, "body.duration"),
        ({"selector": {"assets": ["pump-1"]}, "duration": 0}, "body.duration"),
        ({"selector": {"assets": ["pump-1"]}, "duration": 60, "kind": "party"}, "body.kind"),
        ({"selector": {"rooms": ["x"]}, "duration": 60}, "body.selector.rooms"),
    ],
    ids=["no-end", "both-ends", "naive", "past", "too-long", "zero", "kind", "extra"],
)
def test_malformed_silence_answers_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    detail = _rejected(client, body)["detail"]
    assert field in [p["field"] for p in detail]


def test_technician_may_list_silences_but_not_create_or_expire_them(
    client: TestClient, db: Database
) -> None:
    tech = _token(db, "tess", Role.technician)
    sid = _silence(client, selector={"assets": ["pump-1"]})["id"]
    r = client.post(
        "/api/v1/silences", json={"rule_ids": ["pump-overcurrent"], "duration": 60}, headers=tech
    )
    assert r.status_code == 403 and "technician" in r.json()["message"]
    assert client.post(f"/api/v1/silences/{sid}/expire", headers=tech).status_code == 403
    assert client.get("/api/v1/silences", headers=tech).status_code == 200


def test_engineer_may_create_silences(client: TestClient, db: Database) -> None:
    eng = _token(db, "erin", Role.engineer)
    r = client.post(
        "/api/v1/silences", json={"rule_ids": ["pump-overcurrent"], "duration": 60}, headers=eng
    )
    assert r.status_code == 201 and r.json()["created_by"] == "erin"


@pytest.mark.parametrize("role", [Role.contractor, Role.requester])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts/1"),
        ("POST", "/api/v1/alerts/1/acknowledge"),
        ("GET", "/api/v1/silences"),
        ("POST", "/api/v1/silences/1/expire"),
        ("GET", "/api/v1/rules"),
    ],
)
def test_contractors_and_requesters_get_403_on_alerts_silences_and_rules(
    client: TestClient, db: Database, role: Role, method: str, path: str
) -> None:
    who = _token(db, f"user-{role}", role)
    r = client.request(method, path, headers=who)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden" and str(role) in r.json()["message"]


# --- alerts -------------------------------------------------------------------------------------


def test_acknowledging_an_alert_records_who_and_when(
    api: tuple[TestClient, Database],
) -> None:
    c, db = api
    aid = _alert(db)
    tech = _token(db, "tess", Role.technician)
    r = c.post(f"/api/v1/alerts/{aid}/acknowledge", headers=tech)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "tess" and r.json()["acknowledged_at"] is not None
    assert c.get(f"/api/v1/alerts/{aid}").json()["acknowledged_by"] == "tess"


def test_acknowledging_again_keeps_the_first_acknowledgement(
    client: TestClient, db: Database
) -> None:
    aid = _alert(db)
    first = client.post(f"/api/v1/alerts/{aid}/acknowledge").json()
    eng = _token(db, "erin", Role.engineer)
    again = client.post(f"/api/v1/alerts/{aid}/acknowledge", headers=eng)
    assert again.status_code == 200
    assert again.json()["acknowledged_by"] == "admin-token"
    assert again.json()["acknowledged_at"] == first["acknowledged_at"]


def test_acknowledging_unknown_alert_answers_404(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/4242/acknowledge")
    assert r.status_code == 404 and "4242" in r.json()["message"]
    assert client.get("/api/v1/alerts/4242").status_code == 404


def test_acknowledging_a_resolved_alert_answers_409(client: TestClient, db: Database) -> None:
    aid = _alert(db, state="resolved", resolved_at=T0 + dt.timedelta(minutes=5))
    r = client.post(f"/api/v1/alerts/{aid}/acknowledge")
    assert r.status_code == 409
    assert r.json()["message"] == "alert is resolved"


def test_alert_id_beyond_the_database_integer_answers_422_not_500(client: TestClient) -> None:
    assert client.get("/api/v1/alerts/4365771936828431212298259922944").status_code == 422


def test_alerts_are_filtered_by_state_rule_asset_liveness_and_start(
    api: tuple[TestClient, Database],
) -> None:
    c, db = api
    firing = _alert(db, state="firing")
    pending = _alert(db, state="pending", asset_id="pump-2", started_at=T0 + dt.timedelta(hours=1))
    resolved = _alert(db, state="resolved", started_at=T0 - dt.timedelta(hours=1))
    lift = _alert(
        db, rule_id="lift-out-of-service", asset_id="lift-a1", state="nodata", point="in_service"
    )

    def ids(**params: Any) -> list[int]:
        r = c.get("/api/v1/alerts", params=params)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["items"]]

    assert ids() == [lift, resolved, pending, firing]
    assert ids(state=["firing", "pending"]) == [pending, firing]
    assert ids(rule_id="lift-out-of-service") == [lift]
    assert ids(asset_id="pump-2") == [pending]
    assert ids(active="true") == [lift, pending, firing]
    assert ids(active="false") == [resolved]
    # T0 is 09:00 at +08:00; since is inclusive, until exclusive.
    assert ids(since="2026-03-02T09:00:00+08:00") == [lift, pending, firing]
    assert ids(since=_iso(T0), until=_iso(T0 + dt.timedelta(hours=1))) == [lift, firing]
    items = c.get("/api/v1/alerts", params={"active": "true"}).json()["items"]
    assert all(a["live"] for a in items)


def test_alerts_page_with_a_cursor(api: tuple[TestClient, Database]) -> None:
    c, db = api
    ids = [_alert(db, state="resolved", started_at=T0 + dt.timedelta(minutes=i)) for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = c.get("/api/v1/alerts", params=params).json()
        seen += [a["id"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1] and pages == 3


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "abc"},
        {"cursor": "³"},
        {"cursor": "9999999999"},  # beyond PostgreSQL's integer
        {"since": "2026-03-02T09:00:00"},  # no offset
        {"since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"state": "sleeping"},
        {"asset_id": "pump\x001"},
    ],
    ids=["cursor", "non-ascii-cursor", "huge-cursor", "naive", "overflow", "state", "nul"],
)
def test_bad_alert_filters_answer_4xx_not_500(
    api: tuple[TestClient, Database], params: dict[str, str]
) -> None:
    c, _ = api
    paths = ["/api/v1/alerts", *(["/api/v1/silences"] if "cursor" in params else [])]
    for path in paths:
        r = c.get(path, params=params)
        assert r.status_code in (400, 422), (path, r.text)
        assert r.json()["message"]


# --- rules --------------------------------------------------------------------------------------


def test_rules_list_every_rule_with_its_live_alerts(
    api: tuple[TestClient, Database], demo_site: SiteConfig
) -> None:
    c, db = api
    a1 = _alert(db, state="firing")
    a2 = _alert(db, state="pending", asset_id="pump-2")
    _alert(db, state="resolved")
    r = c.get("/api/v1/rules")
    assert r.status_code == 200, r.text
    rules = {x["id"]: x for x in r.json()}
    assert list(rules) == [x.id for x in demo_site.doc.rules]
    pump = rules["pump-overcurrent"]
    assert pump["live_counts"] == {"firing": 1, "pending": 1}
    assert [a["id"] for a in pump["live_alerts"]] == [a1, a2]
    assert pump["state"] == "firing" and pump["assets"] == ["pump-1", "pump-2"]
    assert pump["type"] == "threshold" and pump["severity"] == "major"
    assert pump["select"]["asset_class"] == ["Pump"] and pump["condition"]
    assert rules["lift-out-of-service"]["state"] == "ok"
    assert rules["lift-out-of-service"]["live_counts"] == {}


def test_rule_is_silenced_only_when_a_silence_covers_all_its_assets(client: TestClient) -> None:
    def pump_rule() -> dict[str, Any]:
        r = client.get("/api/v1/rules/pump-overcurrent")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    one = _silence(client, selector={"assets": ["pump-1"]})
    assert pump_rule()["silenced"] is False
    both = _silence(client, selector={"tags": ["water"]}, rule_ids=["pump-overcurrent"])
    assert pump_rule()["silence_ids"] == [both["id"]] and pump_rule()["silenced"] is True
    assert one["id"] not in pump_rule()["silence_ids"]
    other = client.get("/api/v1/rules/lift-out-of-service").json()
    assert other["silenced"] is False
    client.post(f"/api/v1/silences/{both['id']}/expire")
    assert pump_rule()["silenced"] is False


def test_unknown_rule_answers_404(client: TestClient) -> None:
    assert client.get("/api/v1/rules/no-such-rule").status_code == 404


def test_openapi_describes_the_alert_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}",
        "/api/v1/alerts/{alert_id}/acknowledge",
        "/api/v1/silences",
        "/api/v1/silences/{silence_id}",
        "/api/v1/silences/{silence_id}/expire",
        "/api/v1/rules",
    ):
        assert p in paths
    ok = paths["/api/v1/silences"]["post"]["responses"]["201"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/SilenceOut")


# --- SilenceIndex -------------------------------------------------------------------------------


def _store(db: Database, **kw: Any) -> int:
    fields: dict[str, Any] = {
        "selector": {},
        "rule_ids": [],
        "starts_at": T0,
        "ends_at": T0 + dt.timedelta(hours=1),
        "created_by": "test",
    }
    fields.update(kw)
    with db.session() as s:
        silence = Silence(**fields)
        s.add(silence)
        s.flush()
        return silence.id


def _index(site: SiteConfig, db: Database) -> SilenceIndex:
    index = SilenceIndex(site)
    with db.session() as s:
        index.load(s, at=T0 - dt.timedelta(days=1))
    return index


def ts(minutes: float) -> float:
    return (T0 + dt.timedelta(minutes=minutes)).timestamp()


def test_silence_covers_alerts_only_inside_its_window(demo_site: SiteConfig, db: Database) -> None:
    sid = _store(db, selector={"assets": ["pump-1"]})
    index = _index(demo_site, db)
    assert index.match("pump-1", "pump-overcurrent", ts(0)) == sid
    assert index.match("pump-1", "pump-overcurrent", ts(59.9)) == sid
    assert index.match("pump-1", "pump-overcurrent", ts(-0.1)) is None
    assert index.match("pump-1", "pump-overcurrent", ts(60)) is None  # ends_at is exclusive


@pytest.mark.parametrize(
    ("selector", "covered", "not_covered"),
    [
        ({"building": ["bldg-b"]}, ["pump-1", "lift-b1", "b-main"], ["lift-a1", "a-main"]),
        ({"asset_class": ["Elevator"]}, ["lift-a1", "lift-b1"], ["pump-1", "a-main"]),
        ({"assets": ["a-main", "b-main"]}, ["a-main", "b-main"], ["a-hvac", "pump-1"]),
        ({"tags": ["water"]}, ["pump-1", "pump-2", "water-main"], ["lift-b1"]),
        (
            {"building": ["bldg-b"], "asset_class": ["Elevator"]},
            ["lift-b1"],
            ["lift-a1", "pump-1"],
        ),
    ],
    ids=["building", "asset_class", "assets", "tags", "all-criteria-must-match"],
)
def test_silence_covers_the_assets_its_selector_matches(
    demo_site: SiteConfig,
    db: Database,
    selector: dict[str, list[str]],
    covered: list[str],
    not_covered: list[str],
) -> None:
    sid = _store(db, selector=selector)
    index = _index(demo_site, db)
    for asset in covered:
        assert index.match(asset, "any-rule", ts(1)) == sid, asset
    for asset in not_covered:
        assert index.match(asset, "any-rule", ts(1)) is None, asset


def test_silence_with_rule_ids_covers_only_those_rules(demo_site: SiteConfig, db: Database) -> None:
    sid = _store(db, rule_ids=["pump-overcurrent"])
    index = _index(demo_site, db)
    assert index.match("pump-1", "pump-overcurrent", ts(1)) == sid
    assert index.match("pump-2", "pump-overcurrent", ts(1)) == sid  # no selector: every asset
    assert index.match("pump-1", "pump-overtemperature", ts(1)) is None


def test_expired_silence_stops_covering_at_its_expiry(demo_site: SiteConfig, db: Database) -> None:
    sid = _store(db, selector={"assets": ["pump-1"]}, expired_at=T0 + dt.timedelta(minutes=10))
    index = _index(demo_site, db)
    assert index.match("pump-1", "r", ts(5)) == sid
    assert index.match("pump-1", "r", ts(10)) is None


def test_load_skips_silences_over_by_then(demo_site: SiteConfig, db: Database) -> None:
    _store(db, selector={"assets": ["pump-1"]})
    _store(db, selector={"assets": ["pump-1"]}, expired_at=T0)
    index = SilenceIndex(demo_site)
    with db.session() as s:
        index.load(s, at=T0 + dt.timedelta(minutes=30))
        assert len(index) == 1
        index.load(s)  # now: long after T0
    assert len(index) == 0


def test_refresh_picks_up_new_and_expired_silences(demo_site: SiteConfig, db: Database) -> None:
    now = utcnow()
    index = SilenceIndex(demo_site)
    with db.session() as s:
        index.load(s)
        assert index.refresh(s) is False
    sid = _store(
        db, selector={"assets": ["pump-1"]}, starts_at=now, ends_at=now + dt.timedelta(hours=1)
    )
    with db.session() as s:
        assert index.refresh(s) is True
    assert index.match("pump-1", "r", now.timestamp() + 60) == sid
    with db.session() as s:
        silence = s.scalars(select(Silence).where(Silence.id == sid)).one()
        silence.expired_at = now + dt.timedelta(seconds=30)
    with db.session() as s:
        assert index.refresh(s) is True
    assert index.match("pump-1", "r", now.timestamp() + 60) is None


def test_matcher_sees_a_silence_created_after_it_was_made(
    demo_site: SiteConfig, db: Database
) -> None:
    now = utcnow()
    silenced = SilenceIndex(demo_site).matcher(db)
    assert silenced("pump-1", "pump-overcurrent", now.timestamp() + 60) is None
    sid = _store(
        db, selector={"assets": ["pump-1"]}, starts_at=now, ends_at=now + dt.timedelta(hours=1)
    )
    assert silenced("pump-1", "pump-overcurrent", now.timestamp() + 60) == sid


def test_of_several_silences_the_one_ending_last_is_recorded(
    demo_site: SiteConfig, db: Database
) -> None:
    _store(db, selector={"building": ["bldg-b"]})
    long = _store(db, selector={"assets": ["pump-1"]}, ends_at=T0 + dt.timedelta(hours=3))
    _store(db, selector={"tags": ["water"]}, ends_at=T0 + dt.timedelta(hours=2))
    assert _index(demo_site, db).match("pump-1", "r", ts(1)) == long


def test_empty_selector_selects_every_asset(demo_site: SiteConfig) -> None:
    assert all(selects(Selector(), ref) for ref in demo_site.assets())
