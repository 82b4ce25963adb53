"""Offline meters: readings typed from a dial and invoice quantities, entered through the API or
imported from CSV/XLSX, validated before anything is stored; meter replacements (issue 16,
item 2)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from analytics.meters import meter_tree
from analytics.offline import service
from analytics.site import OfflineMeter
from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from plantroom.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.workorders.accounts import token_for

API = "/api/v1/analytics"
DIAL = OfflineMeter(
    id="dial-water",
    name="Canteen water dial",
    building="bldg-b",
    carrier="water",
    unit="m3",
    kind="counter",
)


def with_dial(site: SiteConfig[Any]) -> SiteConfig[Any]:
    """The demo site with an offline counter meter (a water dial read by hand) added."""
    energy = site.doc.energy.model_copy(
        update={"offline_meters": [*site.doc.energy.offline_meters, DIAL]}
    )
    return dataclasses.replace(site, doc=site.doc.model_copy(update={"energy": energy}))


@pytest.fixture
def site(demo_site: SiteConfig[Any]) -> SiteConfig[Any]:
    """The demo site with the dial."""
    return with_dial(demo_site)


@pytest.fixture
def api(settings: Settings, site: SiteConfig[Any], db: Database) -> Iterator[TestClient]:
    """The app over that site, as the admin."""
    app = create_app(settings, site=site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c


def local(day: int, hour: int = 8, month: int = 3) -> str:
    """A local (site time) ISO time in 2026."""
    return f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00"


def reading(api: TestClient, at: str, value: float, **kw: Any) -> Any:
    """POST a reading of the dial."""
    return api.post(f"{API}/offline/dial-water/entries", json={"at": at, "value": value, **kw})


# --- readings of a counter ----------------------------------------------------------------------


def test_a_reading_below_the_previous_one_is_refused_naming_it(api: TestClient) -> None:
    first = reading(api, local(1), 1200)
    assert first.status_code == 201, first.text
    r = reading(api, local(2), 1150)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "counter_backwards"
    assert body["detail"]["entry"] == first.json()["id"]
    assert "1150 m3" in body["message"] and "1200 m3" in body["message"]
    assert len(api.get(f"{API}/offline/dial-water/entries").json()["items"]) == 1


def test_a_reading_slipped_in_above_a_later_one_is_refused(api: TestClient) -> None:
    assert reading(api, local(1), 100).status_code == 201
    later = reading(api, local(10), 200).json()
    r = reading(api, local(5), 250)
    assert (r.status_code, r.json()["detail"]["entry"]) == (422, later["id"])
    assert reading(api, local(5), 150).status_code == 201


def test_after_a_recorded_replacement_the_new_dial_may_start_low(api: TestClient) -> None:
    assert reading(api, local(1), 1200).status_code == 201
    swap = api.post(
        f"{API}/meters/dial-water/replacements",
        json={"at": local(2), "old_final": 1210, "new_initial": 0},
    )
    assert swap.status_code == 201, swap.text
    assert reading(api, local(3), 15).status_code == 201
    listed = api.get(f"{API}/meters/dial-water/replacements").json()["items"]
    assert [(x["old_final"], x["new_initial"]) for x in listed] == [(1210, 0)]


def test_a_time_in_the_future_is_refused(api: TestClient) -> None:
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    r = reading(api, tomorrow.isoformat(), 10)
    assert (r.status_code, r.json()["error"]) == (422, "in_the_future")


def test_an_entry_can_be_listed_and_deleted(api: TestClient) -> None:
    made = reading(api, local(1), 10, note="dial photo 17").json()
    assert made["at"] == "2026-03-01T00:00:00Z"  # 08:00 in Shanghai
    listed = api.get(f"{API}/offline/dial-water/entries").json()
    assert (listed["unit"], listed["items"][0]["note"]) == ("m3", "dial photo 17")
    assert api.delete(f"{API}/offline/dial-water/entries/{made['id']}").status_code == 204
    assert api.delete(f"{API}/offline/dial-water/entries/{made['id']}").status_code == 404


def test_unknown_and_telemetry_meters_are_refused(api: TestClient) -> None:
    r = reading(api, local(1), 1)
    assert r.status_code == 201
    nope = api.post(f"{API}/offline/no-such/entries", json={"at": local(1), "value": 1})
    assert (nope.status_code, nope.json()["error"]) == (404, "unknown_meter")
    wired = api.post(f"{API}/offline/a-main/entries", json={"at": local(1), "value": 1})
    assert (wired.status_code, wired.json()["error"]) == (422, "wrong_meter_kind")


# --- quantities -----------------------------------------------------------------------------------


def quantity(api: TestClient, meter: str, start: str, end: str, amount: float, unit: str) -> Any:
    """POST a quantity."""
    return api.post(
        f"{API}/offline/{meter}/entries",
        json={"from": start, "to": end, "amount": amount, "unit": unit},
    )


def test_diesel_bought_in_kilograms_is_stored_in_the_meters_litres(api: TestClient) -> None:
    """83 kg at 0.83 kg/L (the worked example's density) is 100 L."""
    r = quantity(api, "diesel-genset", "2026-03-01", "2026-04-01", 83, "kg")
    assert r.status_code == 201, r.text
    assert (r.json()["value"], r.json()["entered_value"], r.json()["entered_unit"]) == (
        pytest.approx(100),
        83,
        "kg",
    )
    wrong = quantity(api, "diesel-genset", "2026-04-01", "2026-05-01", 5, "m3")
    assert (wrong.status_code, wrong.json()["error"]) == (422, "wrong_unit")


def test_an_invoice_overlapping_another_is_refused(api: TestClient) -> None:
    assert quantity(api, "gas-canteen", "2026-03-01", "2026-04-01", 300, "m3").status_code == 201
    r = quantity(api, "gas-canteen", "2026-03-15", "2026-04-15", 300, "m3")
    assert (r.status_code, r.json()["error"]) == (422, "overlapping_quantity")
    assert quantity(api, "gas-canteen", "2026-04-01", "2026-05-01", 280, "m3").status_code == 201


def test_simulated_invoices_written_twice_are_stored_once(db: Database, site: Any) -> None:
    gas = meter_tree(site).get("gas-canteen")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    for amount in (500.0, 520.0):
        with db.session() as s:
            service.record_quantity(
                s,
                meter=gas,
                start=start,
                end=end,
                amount=amount,
                unit="m3",
                by="simulator",
                source="simulated",
            )
    with db.session() as s:
        rows = service.list_entries(s, meter=gas)
        assert [(r.value, r.source) for r in rows] == [(520.0, "simulated")]


# --- import -------------------------------------------------------------------------------------


def upload(api: TestClient, name: str, data: bytes, dry_run: bool = False) -> Any:
    """POST a file to the import."""
    return api.post(
        f"{API}/offline/import" + ("?dry_run=true" if dry_run else ""),
        files={"file": (name, data, "application/octet-stream")},
    )


def test_an_import_with_bad_rows_lists_every_one_and_stores_nothing(api: TestClient) -> None:
    csv = (
        b"meter,time,value,note\n"
        b"dial-water,2026-03-01 08:00,100,\n"
        b"dial-water,2026-03-02 08:00,90,typo\n"  # row 3: backwards
        b"no-such,2026-03-02 08:00,5,\n"  # row 4: unknown meter
        b"dial-water,2026-03-03 08:00,abc,\n"  # row 5: not a number
        b"dial-water,2026-03-04 08:00,130,\n"
    )
    r = upload(api, "dial.csv", csv)
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert [e.split(":")[0] for e in errors] == ["row 3", "row 4", "row 5"]
    assert "goes backwards" in errors[0] and "(row 2 of this file)" in errors[0]
    assert "no-such" in errors[1] and "'abc'" in errors[2]
    assert api.get(f"{API}/offline/dial-water/entries").json()["items"] == []


def test_a_dry_run_checks_and_stores_nothing_then_the_import_stores_all(
    api: TestClient,
) -> None:
    csv = (
        b"meter,from,to,amount,unit\n"
        b"gas-canteen,2026-01-01,2026-02-01,410,m3\n"
        b"gas-canteen,2026-02-01,2026-03-01,380,m3\n"
        b"diesel-genset,2026-01-01,2026-04-01,200,L\n"
    )
    dry = upload(api, "invoices.csv", csv, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["rows"], dry.json()["stored"]) == (3, 0)
    assert api.get(f"{API}/offline/gas-canteen/entries").json()["items"] == []
    done = upload(api, "invoices.csv", csv)
    assert (done.json()["stored"], done.json()["meters"]) == (
        3,
        {"gas-canteen": 2, "diesel-genset": 1},
    )
    assert len(api.get(f"{API}/offline/gas-canteen/entries").json()["items"]) == 2


def test_an_xlsx_file_imports_like_a_csv(api: TestClient) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Meter", "Time", "Value"])
    sheet.append(["dial-water", dt.datetime(2026, 3, 1, 8), 10])
    sheet.append(["dial-water", dt.datetime(2026, 3, 2, 8), 12.5])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(api, "dial.xlsx", buf.getvalue())
    assert (r.status_code, r.json()["rows"]) == (200, 2), r.text
    items = api.get(f"{API}/offline/dial-water/entries").json()["items"]
    assert [i["value"] for i in items] == [10, 12.5]


def test_a_file_with_the_wrong_columns_says_which_columns_it_needs(api: TestClient) -> None:
    r = upload(api, "x.csv", b"site,date,kwh\nx,2026-01-01,1\n")
    assert r.status_code == 422
    assert "meter,time,value" in r.json()["message"]
    assert "meter,from,to,amount,unit" in r.json()["message"]


# --- who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.technician, Role.contractor])
def test_the_crew_and_contractors_may_not_see_or_enter_figures(
    api: TestClient, db: Database, role: Role
) -> None:
    token = token_for(db, f"u-{role.value}", role, org="Acme" if role is Role.contractor else None)
    who = {"Authorization": f"Bearer {token}"}
    assert api.get(f"{API}/offline/gas-canteen/entries", headers=who).status_code == 403
    r = api.post(
        f"{API}/offline/dial-water/entries", json={"at": local(1), "value": 1}, headers=who
    )
    assert r.status_code == 403


def test_an_engineer_may_enter_figures(api: TestClient, db: Database) -> None:
    token = token_for(db, "eng", Role.engineer)
    r = api.post(
        f"{API}/offline/dial-water/entries",
        json={"at": local(1), "value": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (r.status_code, r.json()["recorded_by"]) == (201, "eng")


def test_a_chinese_header_and_rows_out_of_time_order_import(api: TestClient) -> None:
    """表计,时间,读数 names meter,time,value; rows need not be in time order, but each must fit
    between the readings before and after it."""
    csv = "表计,时间,读数\ndial-water,2026-03-03 08:00,30\ndial-water,2026-03-01 08:00,10\n"
    r = upload(api, "抄表.csv", csv.encode())
    assert (r.status_code, r.json()["rows"]) == (200, 2), r.text
    items = api.get(f"{API}/offline/dial-water/entries").json()["items"]
    assert [i["value"] for i in items] == [10, 30]


def test_entries_and_replacements_round_trip_on_sqlite_and_postgresql(
    db_both: Database, site: SiteConfig[Any]
) -> None:
    """The same figures come back from either database, in time order and in UTC."""
    tree = meter_tree(site)
    dial, gas = tree.get("dial-water"), tree.get("gas-canteen")
    t0 = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with db_both.session() as s:
        service.record_reading(s, meter=dial, at=t0 + dt.timedelta(days=2), value=30, by="t")
        service.record_reading(s, meter=dial, at=t0, value=10, by="t")
        service.record_replacement(
            s, meter=dial, at=t0 + dt.timedelta(days=3), old_final=35, new_initial=1, by="t"
        )
        service.record_quantity(
            s, meter=gas, start=t0, end=t0 + dt.timedelta(days=31), amount=9, unit="m3", by="t"
        )
    with db_both.session() as s:
        with pytest.raises(service.CounterBackwards):
            service.record_reading(s, meter=dial, at=t0 + dt.timedelta(days=1), value=5, by="t")
        service.record_reading(s, meter=dial, at=t0 + dt.timedelta(days=4), value=2, by="t")
        got = [(e.at, e.value) for e in service.list_entries(s, meter=dial)]
        swaps = [(r.at, r.old_final) for r in service.list_replacements(s, meter=dial)]
        (invoice,) = service.list_entries(s, meter=gas)
    assert got == [
        (dt.datetime(2026, 3, 1, 0, tzinfo=dt.UTC), 10),
        (dt.datetime(2026, 3, 3, 0, tzinfo=dt.UTC), 30),
        (dt.datetime(2026, 3, 5, 0, tzinfo=dt.UTC), 2),
    ]
    assert swaps == [(dt.datetime(2026, 3, 4, 0, tzinfo=dt.UTC), 35)]
    assert (invoice.start, invoice.end) == (
        dt.datetime(2026, 3, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 1, 0, tzinfo=dt.UTC),
    )


def test_times_off_the_calendar_and_figures_that_are_no_number_are_refused(
    api: TestClient,
) -> None:
    """Year 1 in Shanghai is before the first UTC instant; "Infinity" is no reading."""
    early = reading(api, "0001-01-01T00:00:00", 1)
    assert (early.status_code, early.json()["error"]) == (422, "bad_figure")
    r = upload(api, "x.csv", b"meter,time,value\ndial-water,2026-03-01 08:00,inf\n")
    assert r.status_code == 422 and "value" in r.json()["detail"]["errors"][0]
    far = api.get(f"{API}/meters/a-main/balance?from=0001-01-01&to=0001-02-01")
    assert (far.status_code, far.json()["error"]) == (422, "bad_period")
