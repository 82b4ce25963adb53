"""The work-order list the tablet's "my work" view reads (issue 14, item 3): the unassigned
tab, buildings, search by number, asset or text, sorting by SLA urgency with cursor paging,
the count of matches, and each item's location and people by name."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text, update

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token
from tests.workorders.accounts import token_for
from workorders.orders.models import WorkOrder

CONTRACTOR = "Huaxia Property Services"
LIST = "/api/v1/workorders"


def _new(client: TestClient, title: str, **body: Any) -> int:
    r = client.post(LIST, json={"title": title, **body})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _list(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(LIST, params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ids(client: TestClient, **params: Any) -> list[int]:
    return [w["id"] for w in _list(client, **params)["items"]]


def _contractor(client: TestClient) -> int:
    orgs = client.get("/api/v1/organisations").json()
    return int(next(o["id"] for o in orgs if o["name"] == CONTRACTOR))


def _technician(db: Database, username: str, display_name: str = "") -> int:
    with db.session() as s:
        user = auth.create_user(
            s, username=username, password=None, role=Role.technician, display_name=display_name
        )
        return user.id


def _set(db: Database, wo_id: int, **values: Any) -> None:
    """Set columns of a work order directly (SLA times the test chooses)."""
    with db.session() as s:
        s.execute(update(WorkOrder).where(WorkOrder.id == wo_id).values(**values))


# --- unassigned, building -----------------------------------------------------------------------


def test_assignee_none_lists_work_with_neither_a_person_nor_a_contractor(
    client: TestClient, db: Database
) -> None:
    tech = _technician(db, "li.wei")
    free = _new(client, "Lamp out, stair 2")
    _new(client, "Drain blocked", assignee_id=tech)
    _new(client, "Lift door", contractor_id=_contractor(client))

    assert _ids(client, assignee="none") == [free]
    assert _list(client, assignee="none")["total"] == 1
    assert _ids(client, assignee="none", status="assigned") == []


def test_a_contractor_sees_no_unassigned_work(client: TestClient, db: Database) -> None:
    _new(client, "Lamp out, stair 2")
    crew = token_for(db, "huaxia-1", Role.contractor, org=CONTRACTOR)

    r = client.get(LIST, params={"assignee": "none"}, headers=bearer(crew))

    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0


def test_building_filter_takes_any_of_several_buildings(client: TestClient) -> None:
    a = _new(client, "Lift A1 noisy", asset_id="lift-a1")
    b = _new(client, "Pump 2 trips", asset_id="pump-2")
    _new(client, "No asset named")

    assert _ids(client, building="bldg-a") == [a]
    assert _ids(client, building="bldg-b") == [b]
    assert _ids(client, building=["bldg-a", "bldg-b"]) == [b, a]
    assert _ids(client, building="bldg-x") == []


def test_a_building_id_with_a_control_character_is_refused(client: TestClient) -> None:
    assert client.get(LIST, params={"building": "bldg\x01a"}).status_code == 422


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def searchable(client: TestClient, db: Database) -> dict[str, int]:
    """Twelve work orders: one on pump 2, one on lift A1, ten without an asset."""
    ids = {
        "pump": _new(
            client,
            "Over current alarm",
            asset_id="pump-2",
            description="Bearing noise since Monday",
        ),
        "lift": _new(client, "Door sensor fault", asset_id="lift-a1"),
    }
    for n in range(10):
        ids[f"filler{n}"] = _new(client, "Filler job")
    with db.session() as s:
        s.execute(text("UPDATE assets SET name_zh = '二号加压泵' WHERE id = 'pump-2'"))
    return ids


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("PUMP-2", ["pump"]),  # the asset's id, any case
        ("booster PUMP 2", ["pump"]),  # the asset's name
        ("加压泵", ["pump"]),  # the asset's name in Chinese
        ("door SEN", ["lift"]),  # the title
        ("bearing", ["pump"]),  # the description
        ("%", []),  # LIKE's wildcards are taken literally
        ("_", []),
    ],
)
def test_search_finds_by_asset_title_and_description(
    client: TestClient, searchable: dict[str, int], q: str, found: list[str]
) -> None:
    assert _ids(client, q=q) == [searchable[k] for k in found]


def test_search_by_number_finds_exactly_that_work_order(
    client: TestClient, searchable: dict[str, int]
) -> None:
    first = searchable["pump"]

    assert _ids(client, q=f"#{first}") == [first]
    assert first in _ids(client, q=str(first))
    assert first not in _ids(client, q=f"#{first}0")  # no prefix matches: #10 is not #1


def test_a_search_by_another_name_of_a_renamed_asset_follows_the_rename(
    client: TestClient, searchable: dict[str, int], db: Database
) -> None:
    """The list is answered from the cache; renaming an asset (any process) makes it stale."""
    cache = client.app.state.list_cache  # type: ignore[attr-defined]
    tok = token_for(db, "li.wei", Role.technician)

    def found(q: str) -> list[int]:
        r = client.get(LIST, params={"q": q}, headers=bearer(tok))
        assert r.status_code == 200, r.text
        return [w["id"] for w in r.json()["items"]]

    assert found("booster") == [searchable["pump"]]
    hits = cache.hits
    assert found("booster") == [searchable["pump"]]
    assert cache.hits == hits + 1, "the list was not served from the cache"
    other = Database(db.url)
    try:
        with other.engine.begin() as conn:
            conn.execute(text("UPDATE assets SET name = 'Circulation pump 2' WHERE id = 'pump-2'"))
    finally:
        other.dispose()

    assert found("booster") == []
    assert found("circulation") == [searchable["pump"]]


# --- urgency ------------------------------------------------------------------------------------


@pytest.fixture
def urgent(client: TestClient, db: Database) -> dict[str, int]:
    """Work orders whose SLA clocks run out at chosen times (T + hours), and two without."""
    t = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    h = dt.timedelta(hours=1)
    ids = {name: _new(client, name) for name in ("A", "B", "C", "D", "E", "F")}
    none = {"response_due_at": None, "resolution_due_at": None, "response_met_at": None}
    _set(db, ids["A"], response_due_at=t + h, resolution_due_at=t + 10 * h, response_met_at=None)
    _set(db, ids["B"], response_due_at=t, resolution_due_at=t + 2 * h, response_met_at=t)
    _set(db, ids["C"], response_due_at=t + 5 * h, resolution_due_at=t + 9 * h, response_met_at=None)
    _set(db, ids["D"], **none)
    _set(db, ids["E"], **none)
    _set(db, ids["F"], response_due_at=t + h, resolution_due_at=t + 8 * h, response_met_at=None)
    return ids


def test_urgency_sorts_by_the_clock_that_runs_out_first_without_sla_last(
    client: TestClient, urgent: dict[str, int]
) -> None:
    names = {v: k for k, v in urgent.items()}

    up = [names[i] for i in _ids(client, sort="urgency")]
    down = [names[i] for i in _ids(client, sort="-urgency")]

    assert up == ["A", "F", "B", "C", "D", "E"]
    assert down == ["C", "B", "F", "A", "E", "D"]


def test_next_due_at_is_the_urgency_sorts_time(client: TestClient, urgent: dict[str, int]) -> None:
    items = {w["id"]: w for w in _list(client, sort="urgency")["items"]}

    def due(name: str) -> dt.datetime | None:
        value = items[urgent[name]]["next_due_at"]
        return None if value is None else dt.datetime.fromisoformat(value)

    t = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert due("A") == t + dt.timedelta(hours=1)  # response not met: its due time
    assert due("B") == t + dt.timedelta(hours=2)  # response met: the resolution's
    assert due("D") is None


@pytest.mark.parametrize("sort", ["urgency", "-urgency"])
@pytest.mark.parametrize("limit", [1, 2, 4])
def test_urgency_pages_reach_every_work_order_once(
    client: TestClient, urgent: dict[str, int], sort: str, limit: int
) -> None:
    whole = _ids(client, sort=sort)
    seen: list[int] = []
    params: dict[str, Any] = {"sort": sort, "limit": limit}
    for _ in range(10):
        page = _list(client, **params)
        seen += [w["id"] for w in page["items"]]
        assert page["total"] == 6
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == whole and len(whole) == 6


def test_a_cursor_inside_the_work_without_sla_carries_null(
    client: TestClient, urgent: dict[str, int]
) -> None:
    page = _list(client, sort="urgency", limit=5)  # ends on D, the first without an SLA
    raw = page["next_cursor"]

    values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))

    assert values == ["urgency", None, urgent["D"]]
    assert _ids(client, sort="urgency", cursor=raw) == [urgent["E"]]
    assert client.get(LIST, params={"sort": "due", "cursor": raw}).status_code == 400


# --- total and the items' fields ----------------------------------------------------------------


def test_total_counts_every_match_on_every_page(client: TestClient) -> None:
    for n in range(5):
        _new(client, f"Job {n}", priority="P2" if n % 2 else "P3")

    first = _list(client, limit=2)
    second = _list(client, limit=2, cursor=first["next_cursor"])

    assert (first["total"], second["total"]) == (5, 5)
    assert _list(client, priority="P2", limit=1)["total"] == 2
    assert _list(client, q="no such job")["total"] == 0


def test_items_carry_location_and_people_by_name(client: TestClient, db: Database) -> None:
    tech = _technician(db, "li.wei", "Li Wei")
    with db.session() as s:
        s.execute(
            text(
                "UPDATE assets SET name_zh = '二号泵', building_name_zh = 'B座', "
                "location_zh = 'B座 / 地下一层 / 水泵房' WHERE id = 'pump-2'"
            )
        )
    mine = _new(client, "Pump 2 trips", asset_id="pump-2", assignee_id=tech)
    theirs = _new(client, "Lift door", contractor_id=_contractor(client))

    items = {w["id"]: w for w in _list(client)["items"]}
    detail = client.get(f"{LIST}/{mine}").json()

    expected = {
        "asset_name_zh": "二号泵",
        "building_id": "bldg-b",
        "building_name": "Building B (Services Hall)",
        "building_name_zh": "B座",
        "location": "Building B (Services Hall) / Basement 1 / Pump house",
        "location_zh": "B座 / 地下一层 / 水泵房",
        "assignee_name": "Li Wei",
        "contractor_name": None,
    }
    for item in (items[mine], detail):
        assert {k: item[k] for k in expected} == expected
        assert item["next_due_at"] == item["sla"]["response_due_at"]
    assert items[theirs]["contractor_name"] == CONTRACTOR
    assert items[theirs]["assignee_name"] is None and items[theirs]["building_id"] is None


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the database is sent while the test runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_a_page_loads_names_in_a_fixed_number_of_queries(
    client: TestClient, db: Database, statements: list[str]
) -> None:
    """However many people and firms a page names, their names cost one query each."""
    org = _contractor(client)

    def queries_for_a_page() -> int:
        statements.clear()
        assert _list(client, limit=500)["items"]
        return len(statements)

    for n in range(2):
        _new(client, f"Job {n}", assignee_id=_technician(db, f"tech-{n}"))
    _new(client, "Firm job 0", contractor_id=org)
    few = queries_for_a_page()
    for n in range(2, 10):
        _new(client, f"Job {n}", assignee_id=_technician(db, f"tech-{n}"))
    many = queries_for_a_page()

    assert many == few


def test_an_unknown_sort_or_assignee_word_is_refused(client: TestClient, db: Database) -> None:
    tok = make_token(db, _technician(db, "li.wei"))

    assert client.get(LIST, params={"sort": "urgent"}, headers=bearer(tok)).status_code == 422
    assert client.get(LIST, params={"assignee": "nobody"}, headers=bearer(tok)).status_code == 422
