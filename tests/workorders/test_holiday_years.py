"""SLA clocks across a year-end the bundled holiday table does not know (issue 11).

The bundled `chinesecalendar` 1.11 knows the years up to 2026. The demo site's P3 policy is
1 working day to respond and 5 to resolve, on 08:30-12:00 + 13:30-17:30 (7.5 h a day), in
Asia/Shanghai; P1 is 30 min / 4 h round the clock.

The 2027 arrangement loaded here is a TEST arrangement in the shape of the issue's example
(1 January off; 5-11 February off; Sunday 14 February worked). It is not the official 2027
notice, which had not been published when this was written.

Every due time below is worked out by hand in the comment beside it. December 2026 in the
bundled table: Mon 28, Tue 29, Wed 30, Thu 31 are ordinary working days.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerts.config import Notifications, WebhookTarget
from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom.cli import check_config, main
from plantroom.site import load_site
from tests.notify_servers import Receiver
from workorders.contractors import scorecard
from workorders.contractors.models import ScorecardRevision
from workorders.orders import service
from workorders.orders.models import Priority, WorkOrder, WorkOrderEvent
from workorders.sla import calendars, holiday_years, notices
from workorders.sla import service as sla_service
from workorders.sla.clock import SlaPolicy, compute_sla
from workorders.sla.notify import SlaNotifier
from workorders.sla.repository import organisation_ids

SH = ZoneInfo("Asia/Shanghai")
H = 3600.0
DEMO_TEXT = (SITES_DIR / "demo" / "site.yaml").read_text(encoding="utf-8")
CONTRACTOR = "Huaxia Property Services"
TEST_2027 = """calendar:
  arrangements:
    2027:
      source: "test arrangement shaped like issue 11's example; not the official notice"
      days_off: [2027-01-01, 2027-02-05..2027-02-11]
      workdays: [2027-02-14]
"""
P3 = SlaPolicy.model_validate(
    {"name": "P3 routine", "priority": "P3", "response": "1d", "resolution": "5d",
     "calendar": "business"}
)  # fmt: skip


def at(text: str) -> dt.datetime:
    """A time on the site's clock."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def local(t: dt.datetime | None) -> str | None:
    """An instant as the site's wall time, to the minute."""
    return None if t is None else f"{t.astimezone(SH):%Y-%m-%d %H:%M}"


def write_site(tmp_path: Path, calendar: str | None = TEST_2027, **replace: str) -> Path:
    """The demo site with its calendar section replaced (None: as shipped), and other edits."""
    text = DEMO_TEXT
    if calendar is not None:
        text = text.replace("calendar:\n  arrangements: {}\n", calendar)
        assert calendar in text
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site_2027(tmp_path: Path) -> SiteConfig:
    """The demo site with the test 2027 arrangement loaded in site.yaml."""
    return load_site(write_site(tmp_path))


def huaxia(db: Database) -> int:
    """The demo contractor's organisation id."""
    with db.session() as s:
        return organisation_ids(s, {CONTRACTOR})[CONTRACTOR]


def open_wo(
    db: Database, site: SiteConfig, created: str, *, priority: str = "P3", contractor: int | None
) -> int:
    """A work order created through the service and dated `created` (which may be ahead of the
    real clock, which the service refuses for an action), its clocks stored as of then."""
    with db.session() as s:
        wo = service.create(
            s,
            title=f"{priority} job opened {created}",
            actor="tester",
            priority=Priority(priority),
            type_="corrective",
            contractor_id=contractor,
        )
        wo.created_at = at(created)
        wo.sla_policy = sla_service.choose_policy(
            site, priority=priority, contractor_id=contractor, type_="corrective", session=s
        )
        sla_service.refresh(s, wo, now=at(created))
        return wo.id


def move(db: Database, wo_id: int, target: str, when: str) -> None:
    """A status change made and synced at `when` (the timeline entry the service writes)."""
    with db.session() as s:
        wo = s.get_one(WorkOrder, wo_id)
        s.add(
            WorkOrderEvent(
                workorder_id=wo_id,
                kind="status",
                actor="tech",
                data={"from": wo.status, "to": target},
                ts=at(when),
            )
        )
        wo.status = target
        sla_service.refresh(s, wo, now=at(when))


def stored(db: Database, wo_id: int) -> WorkOrder:
    with db.session() as s:
        return s.get_one(WorkOrder, wo_id)


def sla_entries(db: Database, wo_id: int) -> list[tuple[str, str, str | None]]:
    """(kind, clock, local instant) of the SLA entries on a timeline, in order."""
    with db.session() as s:
        rows = s.scalars(
            select(WorkOrderEvent)
            .where(
                WorkOrderEvent.workorder_id == wo_id,
                WorkOrderEvent.kind.in_(["sla_warning", "sla_breach", "sla_withdrawn"]),
            )
            .order_by(WorkOrderEvent.id)
        )
        return [(e.kind, (e.data or {})["clock"], local(e.ts)) for e in rows]


def load_year(db: Database, site: SiteConfig, when: str) -> holiday_years.CaughtUp:
    """The site file gained the year: the service starts with its table and catches up."""
    calendars.install(site.doc.calendar.holidays)
    return holiday_years.catch_up(db, site, now=at(when))


# --- each clock stands alone --------------------------------------------------------------------


def test_response_inside_2026_is_exact_while_resolution_needing_2027_is_provisional() -> None:
    opened = at("2026-12-28 10:00")  # Monday
    st = compute_sla(created_at=opened, policy=P3, changes=[], now=opened)
    assert st.response is not None and st.resolution is not None
    # response 7.5 h: 28th 10:00-12:00 (2 h) + 13:30-17:30 (4 h) = 6 h; 1.5 h more from 08:30
    assert local(st.response.due_at) == "2026-12-29 10:00"
    assert (st.response.provisional, st.response.reason) == (False, None)
    # resolution 37.5 h: 28th 6 h + 29th, 30th, 31st 3 x 7.5 h = 28.5 h; 9 h left in 2027,
    # which nobody knows: Fri 1 Jan counted as worked (7.5 h), Sat/Sun off, Mon 4 Jan
    # 08:30 + 1.5 h = 10:00
    assert local(st.resolution.due_at) == "2027-01-04 10:00"
    assert st.resolution.provisional
    assert st.resolution.missing_years == (2027,)
    assert st.resolution.reason is not None and "2027" in st.resolution.reason


def test_the_response_breach_inside_2026_is_recorded_and_the_provisional_one_is_not(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-12-28 10:00", contractor=None)
    wo = stored(db, wo_id)
    assert local(wo.response_due_at) == "2026-12-29 10:00"
    assert local(wo.resolution_due_at) == "2027-01-04 10:00"
    assert wo.sla_provisional == {"resolution": [2027]}

    sla_service.sweep(db, now=at("2026-12-29 10:30"))
    # warning at 80 % of 7.5 h = 6 h: 28th 10:00-17:30 is exactly 6 h
    assert sla_entries(db, wo_id) == [
        ("sla_warning", "response", "2026-12-28 17:30"),
        ("sla_breach", "response", "2026-12-29 10:00"),
    ]
    assert stored(db, wo_id).response_breached

    # 80 % of 37.5 h = 30 h is reached on the provisional 1 January, the due time on 4 January:
    # neither is recorded from a provisional instant, however often the sweep runs
    sla_service.sweep(db, now=at("2027-01-04 11:00"))
    with db.session() as s:
        found = s.get_one(WorkOrder, wo_id)
        sla_service.refresh(s, found, now=at("2027-01-04 11:00"))
    assert [e[:2] for e in sla_entries(db, wo_id)] == [
        ("sla_warning", "response"),
        ("sla_breach", "response"),
    ]
    assert not stored(db, wo_id).resolution_breached


# --- a year loaded from site.yaml ---------------------------------------------------------------


def test_a_year_from_site_yaml_counts_its_holidays_and_its_make_up_sunday(
    site_2027: SiteConfig,
) -> None:
    opened = at("2027-02-04 14:00")  # Thursday, the day before the test Spring Festival
    table = site_2027.doc.calendar.holidays
    st = compute_sla(created_at=opened, policy=P3, changes=[], now=opened, holidays=table)
    assert st.response is not None and st.resolution is not None
    # response 7.5 h: 4 Feb 14:00-17:30 = 3.5 h; 5-11 Feb off (with the weekend);
    # Fri 12 Feb 08:30-12:00 = 3.5 h, 13:30 + 0.5 h = 14:00
    assert local(st.response.due_at) == "2027-02-12 14:00"
    # resolution 37.5 h: 4 Feb 3.5 h, Fri 12 Feb 7.5 h (11 h), Sat 13 off, Sun 14 worked
    # 7.5 h (18.5 h), Mon 15 (26 h), Tue 16 (33.5 h), Wed 17 08:30-12:00 + 13:30-14:00 = 4 h
    assert local(st.resolution.due_at) == "2027-02-17 14:00"
    assert not st.response.provisional and not st.resolution.provisional

    # the make-up Sunday matters: without it, one working day later
    loaded = site_2027.doc.calendar.arrangements[2027].arrangement(2027)
    without = calendars.HolidayTable([calendars.Arrangement(2027, "test", loaded.days_off)])
    st2 = compute_sla(created_at=opened, policy=P3, changes=[], now=opened, holidays=without)
    assert st2.resolution is not None
    assert local(st2.resolution.due_at) == "2027-02-18 14:00"


def test_a_year_the_site_lists_replaces_the_bundled_one(tmp_path: Path) -> None:
    # 2026 bundled: Sun 4 Jan was a make-up working day. A site listing 2026 without it is
    # complete for 2026: the bundled table is not consulted.
    text = TEST_2027.replace(
        "    2027:", "    2026:\n      source: x\n      days_off: []\n    2027:"
    )
    site = load_site(write_site(tmp_path, text))
    assert calendars.BUNDLED.workday(dt.date(2026, 1, 4)) is True
    assert site.doc.calendar.holidays.workday(dt.date(2026, 1, 4)) is False
    assert site.doc.calendar.holidays.workday(dt.date(2026, 1, 1)) is True  # not listed off here


# --- provisional, then exact ----------------------------------------------------------------------


def test_a_provisional_clock_becomes_exact_once_the_year_is_loaded_with_its_breach_at_the_true_time(
    db: Database, demo_site: SiteConfig, site_2027: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-12-31 16:00", contractor=None)
    # response 7.5 h: 31 Dec 16:00-17:30 = 1.5 h; 6 h left. Provisionally Fri 1 Jan is worked:
    # 08:30-12:00 (3.5 h) + 13:30-16:00 (2.5 h) -> due 1 Jan 16:00
    wo = stored(db, wo_id)
    assert local(wo.response_due_at) == "2027-01-01 16:00"
    assert wo.sla_provisional == {"response": [2027], "resolution": [2027]}

    # nobody responds; the sweep passes the provisional due time and records nothing
    sla_service.sweep(db, now=at("2027-01-01 17:00"))
    sla_service.sweep(db, now=at("2027-01-04 17:00"))
    assert sla_entries(db, wo_id) == []

    done = load_year(db, site_2027, "2027-01-05 09:00")
    assert done.recomputed.work_orders == 1
    assert done.recomputed.still_provisional == 0
    # with 1 Jan off: Mon 4 Jan 08:30-12:00 (3.5 h) + 13:30-16:00 (2.5 h) -> due 4 Jan 16:00;
    # the warning at 6 h (1.5 h + 4.5 h): 4 Jan 13:30 + 1 h = 14:30
    assert sla_entries(db, wo_id) == [
        ("sla_warning", "response", "2027-01-04 14:30"),
        ("sla_breach", "response", "2027-01-04 16:00"),
    ]
    wo = stored(db, wo_id)
    assert local(wo.response_due_at) == "2027-01-04 16:00"
    assert wo.response_breached
    # resolution 37.5 h: 1.5 h on 31 Dec, then Mon 4 - Thu 7 Jan = 30 h; 6 h on Fri 8 Jan:
    # 08:30-12:00 + 13:30-16:00 -> 8 Jan 16:00
    assert local(wo.resolution_due_at) == "2027-01-08 16:00"
    assert wo.sla_provisional is None

    # catching up again finds nothing to do
    again = load_year(db, site_2027, "2027-01-05 09:05")
    assert again.recomputed.work_orders == 0
    assert len(sla_entries(db, wo_id)) == 2


# --- the due-time calculator agrees with the service -----------------------------------------


DUE_CASES = [
    # (site, opened, priority, response due, response provisional, resolution due, provisional)
    ("demo", "2026-12-28T10:00", "P3", "2026-12-29T10:00:00+08:00", False,
     "2027-01-04T10:00:00+08:00", True),
    ("demo", "2026-12-31T16:00", "P3", "2027-01-01T16:00:00+08:00", True,
     "2027-01-07T16:00:00+08:00", True),
    ("2027", "2026-12-31T16:00", "P3", "2027-01-04T16:00:00+08:00", False,
     "2027-01-08T16:00:00+08:00", False),
    ("2027", "2027-02-04T14:00", "P3", "2027-02-12T14:00:00+08:00", False,
     "2027-02-17T14:00:00+08:00", False),
    # round the clock: no holiday year matters; 23:00 + 30 min, + 4 h
    ("demo", "2026-12-31T23:00", "P1", "2026-12-31T23:30:00+08:00", False,
     "2027-01-01T03:00:00+08:00", False),
]  # fmt: skip
# demo P3 opened 31 Dec 16:00, provisional resolution: 1.5 h on 31 Dec, then 1, 4, 5, 6 Jan
# (30 h, 1 Jan counted as worked) and 6 h on Thu 7 Jan -> 7 Jan 16:00.


@pytest.mark.parametrize(("which", "opened", "prio", "rsp", "rsp_p", "res", "res_p"), DUE_CASES)
def test_sla_due_agrees_with_the_service(
    which: str,
    opened: str,
    prio: str,
    rsp: str,
    rsp_p: bool,
    res: str,
    res_p: bool,
    db: Database,
    demo_site: SiteConfig,
    site_2027: SiteConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = demo_site if which == "demo" else site_2027
    rc = main(["sla", "due", "--site", str(site.path), "--opened", opened,
               "--priority", prio, "--json"])  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert {k: (v["due"], v["provisional"]) for k, v in printed.items()} == {
        "response": (rsp, rsp_p),
        "resolution": (res, res_p),
    }
    assert all((v["reason"] is None) == (not v["provisional"]) for v in printed.values())

    # the service, on the same site's table, stores the same instants
    calendars.install(site.doc.calendar.holidays)
    wo = stored(db, open_wo(db, site, opened.replace("T", " "), priority=prio, contractor=None))
    assert wo.response_due_at == dt.datetime.fromisoformat(rsp)
    assert wo.resolution_due_at == dt.datetime.fromisoformat(res)
    assert set(wo.sla_provisional or {}) == {
        c for c, p in (("response", rsp_p), ("resolution", res_p)) if p
    }


def test_sla_due_prints_words_and_null_for_a_clock_the_policy_lacks(
    demo_site: SiteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(demo_site.path)
    assert main(["sla", "due", "--site", site, "--opened", "2026-12-31T16:00", "--priority",
                 "P4", "--json"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["response"] is None  # P4 is planned work: no response target
    assert printed["resolution"]["provisional"] is True

    assert main(["sla", "due", "--site", site, "--opened", "2026-12-28 10:00", "--priority",
                 "P3"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "P3 routine" in text
    assert "response    target 1 working day, due 2026-12-29T10:00:00+08:00\n" in text
    assert "resolution  target 5 working days, due 2027-01-04T10:00:00+08:00 (provisional)" in text

    assert main(["sla", "due", "--site", site, "--opened", "yesterday", "--priority", "P3"]) == 2
    assert main(["sla", "due", "--site", site, "--opened", "2026-12-28T10:00", "--priority",
                 "P3", "--contractor", "Nobody Ltd"]) == 2  # fmt: skip
    assert "Nobody Ltd" in capsys.readouterr().err


# --- the scorecard: reported, never refused; revised, never silently ----------------------------


def _three_jobs(db: Database, site: SiteConfig) -> tuple[int, int, int]:
    """A: opened Mon 28 Dec 10:00, never touched. B: opened Mon 21 Dec 09:00, acknowledged 10:00,
    resolved Thu 24 Dec 12:00. C: opened Tue 29 Dec 09:00, acknowledged 09:30, resolved
    Tue 5 Jan 2027 11:00."""
    org = huaxia(db)
    a = open_wo(db, site, "2026-12-28 10:00", contractor=org)
    b = open_wo(db, site, "2026-12-21 09:00", contractor=org)
    move(db, b, "acknowledged", "2026-12-21 10:00")
    move(db, b, "resolved", "2026-12-24 12:00")
    c = open_wo(db, site, "2026-12-29 09:00", contractor=org)
    move(db, c, "acknowledged", "2026-12-29 09:30")
    move(db, c, "resolved", "2027-01-05 11:00")
    return a, b, c


def _card(db: Database, site: SiteConfig, month: str, now: str) -> scorecard.Scorecard:
    with db.session() as s:
        from core.auth.models import Organisation

        org = s.get_one(Organisation, huaxia(db))
        card = scorecard.scorecard(
            s, site=site, contractor=org, month=scorecard.parse_month(month, SH), now=at(now)
        )
        scorecard.note_reported(s, card, now=at(now), site_name=site.doc.site.name)
        return card


def _outcomes(card: scorecard.Scorecard) -> dict[tuple[int, str], tuple[str, str, bool]]:
    return {
        (ln.id, c.which): (c.outcome, local(c.due_at) or "", c.provisional)
        for ln in card.lines
        for c in ln.clocks
    }


def test_the_december_2026_scorecard_is_exact_and_paid(db: Database, demo_site: SiteConfig) -> None:
    a, b, c = _three_jobs(db, demo_site)
    card = _card(db, demo_site, "2026-12", "2027-01-02 09:00")
    # A's response was due 29 Dec 10:00 and missed; its resolution (provisional, 4 Jan) is
    # January's. B's response, met at 10:00 with 6.5 h to spare, would have been due 22 Dec
    # 09:00; its resolution, met at 25.5 h on 24 Dec 12:00, 28 Dec 09:00 (12 h later: 24th
    # 4 h, 25th 7.5 h, 28th 0.5 h). C's response, met at 09:30, 30 Dec 09:00.
    assert _outcomes(card) == {
        (a, "response"): ("breached", "2026-12-29 10:00", False),
        (b, "response"): ("on_time", "2026-12-22 09:00", False),
        (b, "resolution"): ("on_time", "2026-12-28 09:00", False),
        (c, "response"): ("on_time", "2026-12-30 09:00", False),
    }
    assert not card.provisional
    # response 2 of 3 on time, resolution 1 of 1: score (66.67 + 100) / 2 = 83.33 < 85, so
    # (15 + 83.33) % of 180,000 = 176,994.00
    assert card.score == 83.33
    assert str(card.payment) == "176994.00"


def test_a_provisional_january_is_reported_flagged_then_revised_when_2027_is_loaded(
    db: Database, demo_site: SiteConfig, site_2027: SiteConfig
) -> None:
    a, _, c = _three_jobs(db, demo_site)
    card = _card(db, demo_site, "2027-01", "2027-02-01 09:00")
    # A's resolution, provisional: 4 Jan 10:00, never met. C's: 29 Dec 7 h, 30th and 31st
    # 15 h (22 h), provisionally 1 Jan 7.5 h and 4 Jan 7.5 h (37 h), 5 Jan 09:00; met at 11:00
    assert _outcomes(card) == {
        (a, "resolution"): ("breached", "2027-01-04 10:00", True),
        (c, "resolution"): ("breached", "2027-01-05 09:00", True),
    }
    assert card.provisional and card.missing_years == (2027,)
    assert card.provisional_reason is not None and "2027" in card.provisional_reason
    # 0 of 2 on time: score 0, (15 + 0) % of 180,000
    assert (card.score, str(card.payment)) == (0.0, "27000.00")

    done = load_year(db, site_2027, "2027-02-02 09:00")
    # with 1 Jan off, C: 4 Jan 7.5 h (29.5 h), 5 Jan 7.5 h (37 h), due 6 Jan 09:00: met on time
    # (and as met at 32 h on 5 Jan 11:00, 5.5 h later: 5th 1 h + 4 h, 6th 0.5 h);
    # A: due 5 Jan 10:00, still breached
    assert [(r.month, r.before["score"], r.after["score"]) for r in done.revisions] == [
        ("2027-01", 0.0, 50.0)
    ]
    revision = done.revisions[0]
    assert "2027" in revision.reason
    assert (revision.before["payment"], revision.after["payment"]) == ("27000.00", "117000.00")
    after = _card(db, site_2027, "2027-01", "2027-02-02 10:00")
    assert _outcomes(after) == {
        (a, "resolution"): ("breached", "2027-01-05 10:00", False),
        (c, "resolution"): ("on_time", "2027-01-06 09:00", False),
    }
    with db.session() as s:
        told = s.scalars(select(notices.SiteNotice.kind)).all()
        kept = s.scalars(select(ScorecardRevision.month)).all()
    assert told == ["scorecard_revised"]
    assert kept == ["2027-01"]


def test_the_scorecard_api_reports_a_provisional_month_and_its_revision(
    client: TestClient,
    db: Database,
    demo_site: SiteConfig,
    site_2027: SiteConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workorders.contractors import routes as contractor_routes

    _three_jobs(db, demo_site)
    org = huaxia(db)
    monkeypatch.setattr(contractor_routes, "utcnow", lambda: at("2027-02-01 09:00"))
    r = client.get(f"/api/v1/contractors/{org}/scorecard", params={"month": "2027-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["provisional"], body["payment_provisional"], body["revised"]) == (
        True,
        True,
        False,
    )
    assert "2027" in body["provisional_reason"]
    assert {ln["resolution"]["provisional"] for ln in body["lines"]} == {True}
    csv = client.get(f"/api/v1/contractors/{org}/scorecard.csv", params={"month": "2027-01"})
    assert "Provisional,yes" in csv.text

    load_year(db, site_2027, "2027-02-02 09:00")
    client.app.state.site = site_2027  # type: ignore[attr-defined]  # the service restarted
    monkeypatch.setattr(contractor_routes, "utcnow", lambda: at("2027-02-02 10:00"))
    body = client.get(f"/api/v1/contractors/{org}/scorecard", params={"month": "2027-01"}).json()
    assert (body["provisional"], body["payment_provisional"], body["revised"]) == (
        False,
        False,
        True,
    )
    (revision,) = body["revisions"]
    assert (revision["before"]["score"], revision["after"]["score"]) == (0.0, 50.0)
    assert body["payment"] == 117000.0

    # December, whose clocks are all inside 2026, is exact
    body = client.get(f"/api/v1/contractors/{org}/scorecard", params={"month": "2026-12"}).json()
    assert (body["provisional"], body["score"], body["payment"]) == (False, 83.33, 176994.0)


# --- the work order's clocks in the API and on the tablet ---------------------------------------


def test_the_api_marks_each_clock_exact_or_provisional(
    client: TestClient, db: Database, demo_site: SiteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workorders.orders import routes

    wo_id = open_wo(db, demo_site, "2026-12-28 10:00", contractor=None)
    monkeypatch.setattr(routes, "utcnow", lambda: at("2026-12-28 10:05"))
    detail = client.get(f"/api/v1/workorders/{wo_id}").json()
    clocks = {c["clock"]: c for c in detail["sla_clocks"]}
    assert (clocks["response"]["provisional"], clocks["response"]["reason"]) == (False, None)
    assert clocks["resolution"]["provisional"] is True
    assert "2027" in clocks["resolution"]["reason"]
    assert clocks["resolution"]["due_at"].startswith("2027-01-04T02:00:00")  # 10:00 +08:00

    listed = client.get("/api/v1/workorders", params={"sort": "due"}).json()["items"]
    (item,) = [w for w in listed if w["id"] == wo_id]
    assert item["sla"]["provisional"] is True
    assert "resolution" in item["sla"]["provisional_reason"]
    assert "2027" in item["sla"]["provisional_reason"]


def test_the_tablet_card_says_provisional(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    from core.auth.models import Role
    from tests.core.auth.accounts import make_user, sign_in

    make_user(db, "tech", Role.technician, password="tablet-password")
    wo_id = open_wo(db, demo_site, "2026-12-31 16:00", contractor=None)
    ui = TestClient(client.app)
    r = sign_in(ui, "tech", "tablet-password")
    assert r.status_code == 200
    # The card is drawn from the list the tablet loads with its session (static/js/list.js;
    # tests/e2e/test_tablet_ui.py shows the word on the card), in both languages.
    assert ui.get("/ui/").status_code == 200
    (item,) = [
        w for w in ui.get("/api/v1/workorders?open=true").json()["items"] if w["id"] == wo_id
    ]
    assert item["sla"]["provisional"] is True
    assert item["next_due_at"].startswith("2027-01-01T08:00:00")  # 16:00 +08:00
    zh = ui.get("/ui/?lang=zh-CN").text
    assert '"provisional": "暂定"' in zh


# --- say it before it bites -----------------------------------------------------------------------


def test_check_config_warns_within_60_days_of_the_last_known_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = SITES_DIR / "demo"
    assert check_config(demo, now=at("2026-11-15 09:00")) == 0
    err = capsys.readouterr().err
    assert "warning: calendar: the last year with an official holiday arrangement is 2026" in err
    assert "ends on 2026-12-31 (46 days from today)" in err
    assert "2027" in err

    assert check_config(demo, now=at("2026-10-01 09:00")) == 0  # 91 days ahead
    assert capsys.readouterr().err == ""

    loaded = write_site(tmp_path)
    assert check_config(loaded, now=at("2026-12-06 09:00")) == 0
    assert capsys.readouterr().err == ""


def test_check_config_warns_when_the_longest_business_target_would_run_past_the_last_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(
        tmp_path,
        None,
        **{"priority: P4, resolution: 10d": "priority: P4, resolution: 100d"},
    )
    # 1 Sep 2026 is 121 days before the year's end, and about 83 working days are left in
    # 2026: only the 100-working-day target warns
    assert check_config(site, now=at("2026-09-01 09:00")) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert (
        ": warning: sla.policies[3]: 'P4 planned': a resolution target of 100 working days"
        in (err[0])
    )
    assert "into 2027" in err[0] and "provisional" in err[0]


@pytest.mark.parametrize(
    ("days_off", "workdays", "field", "words"),
    [
        ("[2027-01-01, 2027-02-30]", "[]", "days_off[1]", "not a date"),
        ("[2027-02-11..2027-02-05]", "[]", "days_off[0]", "runs backwards"),
        ("[2027-02-05..2027-02-14]", "[2027-02-14]", "days_off[0]", "both off and as a workday"),
        ("[2026-12-31]", "[]", "days_off[0]", "not in 2027"),
        ("[]", "[2028-01-02]", "workdays[0]", "not in 2027"),
    ],
)
def test_check_config_locates_each_bad_arrangement(
    days_off: str,
    workdays: str,
    field: str,
    words: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calendar = (
        "calendar:\n  arrangements:\n    2027:\n      source: test\n"
        f"      days_off: {days_off}\n      workdays: {workdays}\n"
    )
    site = write_site(tmp_path, calendar)
    assert check_config(site, now=at("2026-06-01 09:00")) == 1
    text = site.read_text(encoding="utf-8").splitlines()
    key = "days_off" if field.startswith("days_off") else "workdays"
    line = next(i for i, ln in enumerate(text, 1) if ln.strip().startswith(f"{key}:"))
    errors = [ln for ln in capsys.readouterr().err.splitlines() if not ln.endswith("error(s)")]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{site}:{line}: calendar.arrangements[2027].{field}: "), errors
    assert words in errors[0]


def test_the_calendar_endpoint_lists_every_known_year_and_its_source(
    client: TestClient, site_2027: SiteConfig
) -> None:
    body = client.get("/api/v1/calendar").json()
    assert body["last_known_year"] == 2026
    assert body["years"][-1] == {"year": 2026, "source": "bundled"}
    assert [y["year"] for y in body["years"]] == list(range(2004, 2027))

    client.app.state.site = site_2027  # type: ignore[attr-defined]
    body = client.get("/api/v1/calendar").json()
    assert body["last_known_year"] == 2027
    assert body["years"][-2:] == [
        {"year": 2026, "source": "bundled"},
        {"year": 2027, "source": "site"},
    ]
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/v1/calendar").status_code == 401


def test_the_start_tells_the_notification_targets_once_per_missing_year(
    db: Database, demo_site: SiteConfig, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    holiday_years.on_start(db, demo_site, now=at("2026-12-06 09:00"))
    holiday_years.on_start(db, demo_site, now=at("2026-12-07 09:00"))  # a restart
    assert "Holiday calendar: calendar: the last year" in caplog.text
    notifier = SlaNotifier(
        db, Notifications(webhooks=[WebhookTarget(url=receiver.url + "/n")]), site_name="Demo"
    )
    notifier.run_once()
    notifier.run_once()
    bodies: list[dict[str, Any]] = receiver.bodies("/n")
    assert [(b["kind"], b["data"]["year"]) for b in bodies] == [("calendar_missing", 2027)]
    assert "2027" in bodies[0]["message"]
