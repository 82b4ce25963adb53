"""GET /api/v1/assets/{asset_id}/readings (issue 14, item 7): buckets, time zones, aggregates,
qualities and limits, on the embedded store and on a real InfluxDB 1.x, and who may read.

The demo site's time zone is Asia/Shanghai (+08:00, no daylight saving). T0 is
2026-01-01T00:00:00+08:00. The hand-worked readings of pump-1's motor_current (A):

    offset   quality        value   bucket of 1 min from T0 (to T0 + 5 min)
    -0.001   good           1000    none: before from
     0       good             10    0 (from is included)
    30       good             20    0
    45       out_of_range     999   0: no number, and bucket 0 stays good
    60       good             30    1 (on the boundary: the later bucket)
    119.5    unavailable      -     1: the last reading, but bucket 1 has a good one
    (nothing in 120-180)            2: null, missing
    190      stale            50    3
    200      unavailable      -     3: null, the last quality: unavailable
    250      out_of_range     7     4: null, out_of_range
    300      good             100   none: to is excluded
    pump-2's motor_current at 10 s (500 A) belongs to another asset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from collectors.sinks.influx import InfluxV1Sink
from config.settings import Settings
from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from plantroom.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.workorders.accounts import token_for
from workorders.orders import service

T0 = 1_767_196_800.0  # 2026-01-01T00:00:00+08:00
URL = "/api/v1/assets/pump-1/readings"
FIVE_MINUTES = {"from": "2026-01-01T00:00", "to": "2026-01-01T00:05", "step": "1m"}
G, U, OUT, S = Quality.good, Quality.unavailable, Quality.out_of_range, Quality.stale
HAND_WORKED = [
    (-0.001, G, 1000.0),
    (0, G, 10.0),
    (30, G, 20.0),
    (45, OUT, 999.0),
    (60, G, 30.0),
    (119.5, U, None),
    (190, S, 50.0),
    (200, U, None),
    (250, OUT, 7.0),
    (300, G, 100.0),
]
STARTS = [f"2026-01-01T00:0{m}:00+08:00" for m in range(5)]


def motor_current(offset: float, quality: Quality, value: float | None) -> Reading:
    """A reading of pump-1's motor current, offset seconds after T0."""
    return Reading(T0 + offset, "pump-1", "pump-1-drive", "motor_current", value, "A", quality)


def hand_worked() -> list[Reading]:
    """The readings of the module docstring."""
    other = Reading(T0 + 10, "pump-2", "pump-2-drive", "motor_current", 500.0, "A", G)
    return [motor_current(*r) for r in HAND_WORKED] + [other]


@dataclass
class Store:
    """The app, reading the store that `write` writes."""

    api: TestClient
    write: Callable[[list[Reading]], None]
    kind: str


def app_on(settings: Settings, site: SiteConfig, db: Database) -> TestClient:
    """A client of the app made with these settings, with the admin token preset."""
    app = create_app(settings, site=site, db=db)
    return TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})


@pytest.fixture(params=["embedded", "influxdb"])
def store(
    request: pytest.FixtureRequest, settings: Settings, demo_site: SiteConfig, db: Database
) -> Iterator[Store]:
    """The app reading the embedded store, then a real InfluxDB 1.x (configured as
    PLANTROOM_INFLUX_V1_URL would; skips locally without a server, as the other InfluxDB tests
    do)."""
    if request.param == "influxdb":
        url: str = request.getfixturevalue("influx_url")
        name: str = request.getfixturevalue("influx_db")
        settings.influx_v1_url, settings.influx_database = url, name
        sink = InfluxV1Sink(url, name)
        sink.ensure_database()
        with app_on(settings, demo_site, db) as api:
            yield Store(api, sink.write, "influxdb")
        sink.close()
    else:
        embedded = EmbeddedStore(settings.data_dir / FILE_NAME)
        with app_on(settings, demo_site, db) as api:
            yield Store(api, embedded.write, "embedded")
        embedded.close()


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The app on the embedded store (empty unless a test writes it)."""
    return client


def get(api: TestClient, url: str = URL, **params: Any) -> Any:
    """The answer's JSON, which must be a 200."""
    r = api.get(url, params={"point": "motor_current", **params})
    assert r.status_code == 200, r.text
    return r.json()


def column(body: dict[str, Any], key: str) -> list[Any]:
    """One field of every bucket."""
    return [p[key] for p in body["points"]]


# --- buckets, time zones and aggregates (both stores) --------------------------------------------


def test_buckets_start_at_from_in_the_site_zone_and_hold_good_readings_only(
    store: Store,
) -> None:
    store.write(hand_worked())
    body = get(store.api, **FIVE_MINUTES)
    assert {k: body[k] for k in ("asset", "point", "unit", "step")} == {
        "asset": "pump-1",
        "point": "motor_current",
        "unit": "A",
        "step": 60,
    }
    assert column(body, "ts") == STARTS
    assert column(body, "value") == [15.0, 30.0, None, None, None]
    assert column(body, "quality") == ["good", "good", "missing", "unavailable", "out_of_range"]


@pytest.mark.parametrize(
    ("agg", "values"),
    [
        ("mean", [15.0, 30.0, None, None, None]),
        ("min", [10.0, 30.0, None, None, None]),
        ("max", [20.0, 30.0, None, None, None]),
        ("last", [20.0, 30.0, None, None, None]),
    ],
)
def test_each_aggregate_takes_the_good_readings_of_its_bucket(
    store: Store, agg: str, values: list[float | None]
) -> None:
    store.write(hand_worked())
    body = get(store.api, **FIVE_MINUTES, agg=agg)
    assert column(body, "value") == values
    assert column(body, "quality") == ["good", "good", "missing", "unavailable", "out_of_range"]


def test_from_is_included_and_to_excluded(store: Store) -> None:
    store.write(hand_worked())
    # One bucket from T0 to T0 + 300: the reading at -0.001 and the one at 300 stay out.
    body = get(store.api, **{**FIVE_MINUTES, "step": "5m"}, agg="max")
    assert column(body, "value") == [30.0]
    # From T0 + 60 (included) to T0 + 300: 30 is the only good one.
    body = get(store.api, **{"from": "2026-01-01T00:01", "to": "2026-01-01T00:05", "step": "5m"})
    assert column(body, "value") == [30.0] and column(body, "ts") == [STARTS[1]]


def test_buckets_are_counted_from_from_and_the_last_is_cut_short_at_to(store: Store) -> None:
    store.write(hand_worked())
    # From T0 + 30 to T0 + 150: [30, 90) holds 20 and 30; [90, 150) only the unavailable one.
    body = get(store.api, **{"from": "2026-01-01T00:00:30", "to": "2026-01-01T00:02:30"})
    assert body["step"] == 1  # 120 s / 300, rounded up
    body = get(
        store.api, **{"from": "2026-01-01T00:00:30", "to": "2026-01-01T00:02:30", "step": "1m"}
    )
    assert column(body, "ts") == ["2026-01-01T00:00:30+08:00", "2026-01-01T00:01:30+08:00"]
    assert column(body, "value") == [25.0, None]
    assert column(body, "quality") == ["good", "unavailable"]
    # 2.5 minutes in steps of 1 min: three buckets, the last [120, 150).
    body = get(store.api, **{"from": "2026-01-01T00:00", "to": "2026-01-01T00:02:30", "step": "1m"})
    assert column(body, "ts") == STARTS[:3]
    assert column(body, "quality") == ["good", "good", "missing"]


def test_a_time_without_offset_is_read_in_the_site_zone_and_answers_carry_its_offset(
    store: Store,
) -> None:
    store.write(hand_worked())
    utc = get(
        store.api, **{"from": "2025-12-31T16:00:00Z", "to": "2025-12-31T16:05:00Z"}, step="1m"
    )
    other_zone = get(
        store.api,
        **{"from": "2025-12-31T17:00:00+01:00", "to": "2025-12-31T17:05+01:00"},
        step="1m",
    )
    local = get(store.api, **FIVE_MINUTES)
    assert utc == other_zone == local
    assert column(utc, "ts") == STARTS


def test_a_range_past_the_stores_time_still_answers_with_the_reading_in_its_bucket(
    store: Store,
) -> None:
    """1970 to 8999 by the default step (whole weeks): InfluxDB keeps time only from 1677 to
    2262, the rest is empty."""
    store.write(hand_worked())
    body = get(store.api, **{"from": "1970-01-01T00:00", "to": "8999-12-31T23:59"}, agg="last")
    assert body["step"] % (7 * 86400) == 0 and len(body["points"]) <= 300
    good = [p for p in body["points"] if p["quality"] == "good"]
    assert [p["value"] for p in good] == [100.0]  # every reading shares one bucket of weeks
    assert body["points"][-1]["quality"] == "missing"


# --- defaults, limits and refusals (embedded store) ----------------------------------------------


@pytest.mark.parametrize(
    ("to", "step", "buckets"),
    [
        ("2026-01-01T01:00", 15, 240),  # an hour
        ("2026-01-02T00:00", 300, 288),  # a day
        ("2026-01-08T00:00", 3600, 168),  # a week
        ("2027-01-01T00:00", 2 * 86400, 183),  # a year
    ],
)
def test_the_default_step_is_the_range_over_300_rounded_up_to_a_nice_step(
    api: TestClient, to: str, step: int, buckets: int
) -> None:
    body = get(api, **{"from": "2026-01-01T00:00", "to": to})
    assert body["step"] == step and len(body["points"]) == buckets
    assert set(column(body, "quality")) == {"missing"}  # no store file yet: nothing stored
    assert set(column(body, "value")) == {None}


def test_5000_buckets_answer_and_5001_are_refused_with_the_reason(api: TestClient) -> None:
    body = get(api, **{"from": "2026-01-01T00:00", "to": "2026-01-04T11:20", "step": "1m"})
    assert len(body["points"]) == 5000
    r = api.get(
        URL,
        params={
            "point": "motor_current",
            "from": "2026-01-01T00:00",
            "to": "2026-01-04T11:20:00.000001",
            "step": "1m",
        },
    )
    assert r.status_code == 422
    assert r.json()["error"] == "bad_range" and "5001 buckets" in r.json()["message"]
    assert r.json()["detail"]["max"] == 5000


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"from": "2026-01-01T00:05", "to": "2026-01-01T00:05"}, "from must be before to"),
        ({"from": "2026-01-01T00:05", "to": "2026-01-01T00:00"}, "from must be before to"),
        ({"from": "2026-01-01T08:00+08:00", "to": "2026-01-01T00:00Z"}, "from must be before"),
        ({"step": "36501d"}, "longer than 36500 days"),
        ({"step": "1s", "to": "2027-01-01T00:00"}, "31536000 buckets of 1 s is more than 5000"),
    ],
)
def test_a_range_it_cannot_answer_is_refused_with_the_reason(
    api: TestClient, params: dict[str, str], why: str
) -> None:
    r = api.get(URL, params={"point": "motor_current", **FIVE_MINUTES, **params})
    assert r.status_code == 422 and r.json()["error"] == "bad_range"
    assert why in r.json()["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01T00:00:00"},
        {"to": "9999-12-31T23:59:59"},
        {"from": "0001-01-01T00:00:00+14:00", "to": "9999-12-31T23:59:59-14:00"},
        {"from": "NaN"},
        {"to": "nan"},
        {"from": ""},
        {"to": "1767196800"},
        {"from": "2026-02-30T00:00"},
        {"from": "2026-01-01"},
        {"step": "NaN"},
        {"step": ""},
        {"step": "0s"},
        {"step": "-1m"},
        {"step": "1.5s"},
        {"step": "5"},
        {"step": "1w"},
        {"step": "99999999999d"},
        {"agg": "median"},
        {"agg": ""},
        {"point": ""},
        {"point": "Motor_Current"},
        {"point": "x" * 101},
        {"point": "motor_current\x00"},
        {"colour": "red"},
    ],
)
def test_hostile_values_are_refused_never_a_server_error(
    api: TestClient, params: dict[str, str]
) -> None:
    r = api.get(URL, params={"point": "motor_current", **FIVE_MINUTES, **params})
    assert r.status_code == 422, r.text


def test_the_widest_range_it_takes_answers(api: TestClient) -> None:
    body = get(api, **{"from": "1970-01-01T14:00+14:00", "to": "8999-12-31T09:59:59.999999-14:00"})
    assert body["points"][0]["ts"] == "1970-01-01T08:00:00+08:00"
    assert len(body["points"]) <= 300


def test_an_unknown_point_or_asset_is_404_with_the_reason(api: TestClient) -> None:
    r = api.get(URL, params={"point": "voltage_l1", **FIVE_MINUTES})  # a meter's, not the pump's
    assert r.status_code == 404 and r.json()["message"] == "no point voltage_l1 on asset pump-1"
    r = api.get("/api/v1/assets/no-such-pump/readings", params={"point": "x", **FIVE_MINUTES})
    assert r.status_code == 404 and "no-such-pump" in r.json()["message"]


def test_the_embedded_store_answers_for_every_device_of_the_asset_and_keeps_ints_exact(
    api: TestClient, settings: Settings
) -> None:
    """A counter above 2**53 stays exact for min, max and last (a float could not hold it);
    one beyond 64 bits (stored as its digits) is exact for last, a float for max."""
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    big, huge = 2**53 + 1, 2**64 - 1
    store.write(
        [
            Reading(T0, "pump-1", "pump-1-drive", "run_hours", big, "h", G),
            Reading(T0 + 1, "pump-1", "spare-drive", "run_hours", big - 10, "h", G),
        ]
    )
    for agg, value in (("max", big), ("min", big - 10), ("last", big - 10)):
        body = get(api, point="run_hours", **FIVE_MINUTES, agg=agg)
        assert body["points"][0]["value"] == value
        assert type(body["points"][0]["value"]) is int
    store.write([Reading(T0 + 2, "pump-1", "spare-drive", "run_hours", huge, "h", G)])
    store.close()
    assert get(api, point="run_hours", **FIVE_MINUTES, agg="last")["points"][0]["value"] == huge
    assert get(api, point="run_hours", **FIVE_MINUTES, agg="max")["points"][0]["value"] == float(
        huge
    )
    assert get(api, point="run_hours", **FIVE_MINUTES, agg="min")["points"][0]["value"] == big - 10
    mean = get(api, point="run_hours", **FIVE_MINUTES)["points"][0]["value"]
    assert mean == pytest.approx((big + big - 10 + huge) / 3)


def test_an_unreachable_influxdb_answers_503_with_the_reason(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    settings.influx_v1_url = "http://127.0.0.1:9"  # the discard port: nothing listens
    with app_on(settings, demo_site, db) as api:
        r = api.get(URL, params={"point": "motor_current", **FIVE_MINUTES})
    assert r.status_code == 503 and r.json()["error"] == "store_unavailable"
    assert "127.0.0.1:9" in r.json()["message"]


# --- who may read --------------------------------------------------------------------------------


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_read_any_asset_a_contractor_only_one_with_its_work_a_requester_none(
    api: TestClient, db: Database
) -> None:
    tokens = {
        "technician": token_for(db, "rd-tech", Role.technician),
        "engineer": token_for(db, "rd-eng", Role.engineer),
        "evergreen": token_for(db, "rd-c1", Role.contractor, "Evergreen"),
        "rival": token_for(db, "rd-c2", Role.contractor, "Rival FM"),
        "requester": token_for(db, "rd-req", Role.requester),
    }
    with db.session() as s:
        org = auth.get_or_create_organisation(s, "Evergreen").id
        # Any work order of its firm on the pump, open or not, lets the contractor read it.
        service.create(s, title="seal", actor="test", asset_id="pump-1", contractor_id=org)
    params = {"point": "motor_current", **FIVE_MINUTES}
    for who in ("technician", "engineer", "evergreen"):
        r = api.get(URL, params=params, headers=_as(tokens[who]))
        assert r.status_code == 200, (who, r.text)
    # Issue 15: an asset a contractor has no work on answers 404, as if it did not exist.
    r = api.get(URL, params=params, headers=_as(tokens["rival"]))
    assert r.status_code == 404
    assert "pump-1" in r.json()["message"]
    r = api.get("/api/v1/assets/pump-2/readings", params=params, headers=_as(tokens["evergreen"]))
    assert r.status_code == 404
    r = api.get(URL, params=params, headers=_as(tokens["requester"]))
    assert r.status_code == 403 and "requester" in r.json()["message"]
    assert api.get(URL, params=params, headers={"Authorization": ""}).status_code == 401


# --- the asset's points --------------------------------------------------------------------------


def test_one_asset_lists_the_points_its_devices_read_and_the_list_does_not(
    api: TestClient,
) -> None:
    pump = api.get("/api/v1/assets/pump-1").json()
    assert {"name": "motor_current", "unit": "A", "label": "01.07 motor current"} in pump["points"]
    assert {"name": "control_word", "unit": "", "label": None} in pump["points"]
    names = [p["name"] for p in pump["points"]]
    assert len(names) == len(set(names)) and "voltage_l1" not in names
    meter = api.get("/api/v1/assets/a-main").json()
    assert [p["name"] for p in meter["points"]][:3] == ["voltage_l1", "voltage_l2", "voltage_l3"]
    assert all("points" not in a for a in api.get("/api/v1/assets").json())
